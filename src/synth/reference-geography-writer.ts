/**
 * Writes the world's reference geography (src/synth/reference-geography.ts) into
 * `reference/`, each file in the layout of the public file it stands in for, with
 * `reference/geography.json` naming each file's kind, version and source: what
 * `kernel reference load` reads (docs/geography.md).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CsvFileWriter } from '../files/csv-file-writer.ts';
import type { ReferenceGeography } from './reference-geography.ts';
import type { World } from './world.ts';

export const REFERENCE_MANIFEST = 'geography.json';

export function writeReferenceGeography(world: World, reference: ReferenceGeography, dir: string): void {
  const { localAuthorities, lsoas } = world.geography;
  const la = (index: number) => localAuthorities[index] ?? { code: '', name: '' };

  const lookup = new CsvFileWriter(path.join(dir, 'lsoa11-lsoa21-lad22.csv'), [
    'LSOA11CD',
    'LSOA11NM',
    'LSOA21CD',
    'LSOA21NM',
    'CHGIND',
    'LAD22CD',
    'LAD22NM',
  ]);
  for (const row of reference.lsoa11To21) {
    lookup.write([
      row.lsoa11,
      row.lsoa11Name,
      row.lsoa21,
      row.lsoa21Name,
      row.change,
      la(row.la).code,
      la(row.la).name,
    ]);
  }
  lookup.close();

  const imd = new CsvFileWriter(path.join(dir, 'imd2019-lsoa11.csv'), [
    'LSOA code (2011)',
    'LSOA name (2011)',
    'Local Authority District code (2019)',
    'Local Authority District name (2019)',
    'Index of Multiple Deprivation (IMD) Rank',
    'Index of Multiple Deprivation (IMD) Decile',
  ]);
  for (const lsoa of lsoas) {
    imd.write([
      lsoa.code,
      lsoa.name,
      la(lsoa.la).code,
      la(lsoa.la).name,
      String(lsoa.imdRank),
      String(lsoa.imdDecile),
    ]);
  }
  imd.close();

  const wards = new CsvFileWriter(path.join(dir, 'lsoa21-ward23-lad23.csv'), [
    'LSOA21CD',
    'LSOA21NM',
    'WD23CD',
    'WD23NM',
    'LAD23CD',
    'LAD23NM',
  ]);
  for (const lsoa of reference.lsoas2021) {
    wards.write([lsoa.code, lsoa.name, lsoa.ward, lsoa.wardName, la(lsoa.la).code, la(lsoa.la).name]);
  }
  wards.close();

  const epcn = new CsvFileWriter(path.join(dir, 'epcn-practices.csv'), [
    'Partner Organisation Code',
    'Partner Name',
    'PCN Code',
    'PCN Name',
    'Practice to PCN Relationship Start Date',
    'Practice to PCN Relationship End Date',
  ]);
  for (const m of reference.pcnMemberships)
    epcn.write([m.practice, m.practiceName, m.pcn, m.pcnName, m.from, m.to]);
  epcn.close();

  const lastDay = new Date(world.window.end * 86_400_000).toISOString().slice(0, 10);
  const manifest = {
    format: 'kernel-reference/1',
    note: 'Synthetic reference geography of the Kent and Medway synthetic world, in the layouts of the public files named. Local authority codes are real GSS codes; LSOA (Z01), ward (Z05), PCN (U99) and practice (Y99) codes are synthetic.',
    tables: [
      {
        kind: 'lsoa-2011-2021',
        version: 'LSOA11-LSOA21-LAD22',
        file: 'lsoa11-lsoa21-lad22.csv',
        source:
          'ONS, LSOA (2011) to LSOA (2021) to Local Authority District (2022) Lookup for England and Wales (layout; synthetic content)',
        url: 'https://geoportal.statistics.gov.uk/',
      },
      {
        kind: 'imd',
        version: 'IMD2019',
        lsoaVintage: '2011',
        file: 'imd2019-lsoa11.csv',
        source:
          'MHCLG, English Indices of Deprivation 2019, File 1: Index of Multiple Deprivation (layout; synthetic ranks)',
        url: 'https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019',
      },
      {
        kind: 'ward-lad',
        version: 'WD23-LAD23',
        file: 'lsoa21-ward23-lad23.csv',
        source:
          'ONS, LSOA (2021) to Electoral Ward (2023) to LAD (2023) Best Fit Lookup in EW (layout; synthetic wards, real LAD codes)',
        url: 'https://geoportal.statistics.gov.uk/',
      },
      {
        kind: 'practice-pcn',
        version: `ePCN-${lastDay.slice(0, 7)}`,
        file: 'epcn-practices.csv',
        source: 'NHS England, ePCN: PCN Core Partner Details (layout; synthetic practices and PCNs)',
        url: 'https://digital.nhs.uk/services/organisation-data-service/export-data-files/csv-downloads/gp-and-gp-practice-related-data',
      },
    ],
  };
  writeFileSync(path.join(dir, REFERENCE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}
