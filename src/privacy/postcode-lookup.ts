/**
 * Postcode → LSOA and IMD decile, from a lookup in the ONS Postcode Directory layout (a CSV
 * with at least `pcds`, `lsoa11` and `imd`, the IMD 2019 rank of the LSOA). The lookup
 * carries the geography it gives (`geography`: 2011 LSOAs, IMD 2019), which the agent signs
 * into the manifest so every derived area field records its version. Postcodes are
 * joined on a normalised key (upper case, no spaces) so pcd7, pcd8 and pcds forms all
 * match (reference digest §11.1). Decile = ceil(rank × 10 / 32,844): England's 2011 LSOAs
 * split into ten equal groups, decile 1 the most deprived (§11.3).
 */
import { KernelError } from '../errors.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import type { GeographyVersion } from './manifest.ts';

export const LSOA11_COUNT = 32844;

export interface PostcodeArea {
  lsoa: string;
  imdDecile: string;
}

export type PostcodeLookup = Map<string, PostcodeArea> & { geography?: GeographyVersion };

/**
 * ONSPD's `lsoa11` holds 2011 LSOAs, and its `imd` the English IMD 2019 rank of the 2011 LSOA
 * (ONS Postcode Directory user guide: "IMD 2019" for England); a lookup that says otherwise
 * names its own in `imd_version`.
 */
const ONSPD_GEOGRAPHY: GeographyVersion = { lsoaVintage: '2011', imdVersion: 'IMD2019' };

export function postcodeKey(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase();
}

export function imdDecile(rank: number): number {
  return Math.min(10, Math.max(1, Math.ceil((rank * 10) / LSOA11_COUNT)));
}

export async function readPostcodeLookup(file: string): Promise<PostcodeLookup> {
  const lookup: PostcodeLookup = new Map();
  lookup.geography = { ...ONSPD_GEOGRAPHY };
  let imdVersion = -1;
  let pcds = -1;
  let lsoa = -1;
  let imd = -1;
  await readCsv(file, {
    onHeader(columns) {
      const lower = columns.map((c) => c.toLowerCase());
      pcds = lower.indexOf('pcds');
      lsoa = lower.indexOf('lsoa11');
      imd = lower.indexOf('imd');
      imdVersion = lower.indexOf('imd_version');
      const missing = [pcds < 0 ? 'pcds' : '', lsoa < 0 ? 'lsoa11' : '', imd < 0 ? 'imd' : ''].filter(
        Boolean,
      );
      if (missing.length > 0) {
        throw new KernelError('config', `The postcode lookup has no ${missing.join(', ')} column`, {
          where: { file },
          hint: 'Give a lookup in the ONS Postcode Directory layout (columns pcds, lsoa11, imd)',
        });
      }
    },
    onRecord(record) {
      if (imdVersion >= 0 && lookup.geography) {
        const named = fieldText(record, imdVersion).trim();
        if (/^[A-Za-z0-9._-]{1,32}$/.test(named)) lookup.geography.imdVersion = named;
      }
      const rank = Number(fieldText(record, imd));
      lookup.set(postcodeKey(fieldText(record, pcds)), {
        lsoa: fieldText(record, lsoa),
        imdDecile: Number.isFinite(rank) && rank > 0 ? String(imdDecile(rank)) : '',
      });
    },
  });
  return lookup;
}
