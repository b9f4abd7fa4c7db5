/**
 * The synthetic geography of Kent and Medway: real local authorities (GSS codes) and real
 * postcode districts, with synthetic LSOAs (codes `Z01…`, names ending "(synthetic)"),
 * synthetic postcode units, streets and IMD 2019 ranks.
 *
 * The real LSOA codes start `E01`; no GSS code starts with `Z`, so a synthetic LSOA can
 * never be mistaken for a real one (ONS Register of Geographic Codes).
 */
import { readFileSync } from 'node:fs';
import { Random, WeightedTable } from './random.ts';

interface GeographyData {
  localAuthorities: {
    code: string;
    name: string;
    population: number;
    acuteTrust: string;
    council: string;
    meanImdDecile: number;
    districts: [string, string][];
  }[];
  streetStems: string[];
  streetSuffixes: [string, number][];
}

const DATA = JSON.parse(
  readFileSync(new URL('./data/kent-geography.json', import.meta.url), 'utf8'),
) as GeographyData;

/** England's 2011 LSOAs, the base of IMD 2019 (reference digest §11.2). */
export const ENGLAND_LSOA_COUNT = 32844;
/** About 1,700 residents per LSOA, as Kent and Medway's ~1,065 LSOAs hold ~1.86 million. */
const RESIDENTS_PER_LSOA = 1750;
const POSTCODES_PER_LSOA = 40;
/** Inward-unit letters never use C, I, K, M, O or V (reference digest §11.1). */
const UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

export interface LocalAuthority {
  code: string;
  name: string;
  population: number;
  acuteTrust: string;
  council: string;
  index: number;
}

export interface Lsoa {
  code: string;
  name: string;
  la: number;
  imdRank: number;
  imdDecile: number;
}

export interface Postcode {
  /** pcds: the variable-length form with one space, e.g. `ME16 9QQ` */
  pcds: string;
  lsoa: number;
  town: string;
  street: string;
  /** ONSPD `dointr` / `doterm` as YYYYMM; terminated postcodes are never lived at */
  introduced: string;
  terminated: string;
}

export interface Geography {
  localAuthorities: LocalAuthority[];
  lsoas: Lsoa[];
  postcodes: Postcode[];
  /** for each LA, the indexes of its live postcodes */
  livePostcodesByLa: Int32Array[];
  laTable: WeightedTable<number>;
}

/** Decile = ceil(rank × 10 / 32,844), 1 = most deprived 10% (reference digest §11.3). */
export function imdDecile(rank: number): number {
  return Math.min(10, Math.max(1, Math.ceil((rank * 10) / ENGLAND_LSOA_COUNT)));
}

/** ONSPD `pcd` (pcd7): seven characters, the outward code left-aligned in four. */
export function pcd7(pcds: string): string {
  const [outward = '', inward = ''] = pcds.split(' ');
  return `${outward.padEnd(4, ' ')}${inward}`;
}

export function buildGeography(seed: number): Geography {
  const random = new Random(seed, 'geography');
  const localAuthorities: LocalAuthority[] = DATA.localAuthorities.map((la, index) => ({
    code: la.code,
    name: la.name,
    population: la.population,
    acuteTrust: la.acuteTrust,
    council: la.council,
    index,
  }));
  const suffixes = new WeightedTable(DATA.streetSuffixes);
  const lsoas: Lsoa[] = [];
  const postcodes: Postcode[] = [];
  const usedRanks = new Set<number>();
  const usedPostcodes = new Set<string>();
  const livePostcodesByLa: Int32Array[] = [];

  DATA.localAuthorities.forEach((la, laIndex) => {
    const count = Math.max(4, Math.round(la.population / RESIDENTS_PER_LSOA));
    const live: number[] = [];
    for (let i = 0; i < count; i++) {
      // IMD ranks spread around the area's typical decile, so deprivation clusters by place.
      let rank = Math.round(random.normal((la.meanImdDecile - 0.5) * (ENGLAND_LSOA_COUNT / 10), 7000));
      rank = Math.min(ENGLAND_LSOA_COUNT, Math.max(1, rank));
      while (usedRanks.has(rank)) rank = rank >= ENGLAND_LSOA_COUNT ? 1 : rank + 1;
      usedRanks.add(rank);
      const lsoaIndex = lsoas.length;
      lsoas.push({
        code: `Z01${String(lsoaIndex + 1).padStart(6, '0')}`,
        name: `${la.name} ${String(Math.floor(i / 4) + 1).padStart(3, '0')}${'ABCD'[i % 4]} (synthetic)`,
        la: laIndex,
        imdRank: rank,
        imdDecile: imdDecile(rank),
      });
      const [district, town] = random.pick(la.districts);
      const sector = `${district} ${random.int(1, 9)}`;
      for (let p = 0; p < POSTCODES_PER_LSOA; p++) {
        let pcds = '';
        do {
          pcds = `${sector}${UNIT_LETTERS[random.int(0, 19)]}${UNIT_LETTERS[random.int(0, 19)]}`;
        } while (usedPostcodes.has(pcds));
        usedPostcodes.add(pcds);
        const terminated = random.chance(0.03);
        const postcodeIndex = postcodes.length;
        postcodes.push({
          pcds,
          lsoa: lsoaIndex,
          town,
          street: `${random.pick(DATA.streetStems)} ${suffixes.draw(random)}`,
          introduced: `${random.int(1980, 2012)}${String(random.int(1, 12)).padStart(2, '0')}`,
          terminated: terminated
            ? `${random.int(2013, 2018)}${String(random.int(1, 12)).padStart(2, '0')}`
            : '',
        });
        if (!terminated) live.push(postcodeIndex);
      }
    }
    livePostcodesByLa.push(Int32Array.from(live));
  });

  return {
    localAuthorities,
    lsoas,
    postcodes,
    livePostcodesByLa,
    laTable: new WeightedTable(localAuthorities.map((la) => [la.index, la.population] as const)),
  };
}
