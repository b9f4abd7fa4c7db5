/**
 * Writes `truth/` (who everyone really is, their address history, the staff) and
 * `reference/` (postcodes in the ONS Postcode Directory layout, LSOAs, organisations).
 * Truth is synthetic and never loaded into the warehouse.
 */
import path from 'node:path';
import { CsvFileWriter } from '../files/csv-file-writer.ts';
import { allDeficits } from './frailty-deficits.ts';
import { pcd7 } from './geography.ts';
import { MEMBER_ORGANISATIONS } from './organisations.ts';
import { buildReferenceGeography } from './reference-geography.ts';
import { writeReferenceGeography } from './reference-geography-writer.ts';
import { MALE, NO_DAY } from './population.ts';
import { approximateAge, formatDay } from './synth-dates.ts';
import { CONDITIONS, ETHNICITY_SHARES } from './synth-rates.ts';
import type { Staff } from './workforce.ts';
import type { World } from './world.ts';

export const PEOPLE_COLUMNS = [
  'person_id',
  'nhs_number',
  'given_name',
  'family_name',
  'sex',
  'birth_date',
  'death_date',
  'ethnic_category',
  'household_id',
  'mother_id',
  'conditions_at_start',
  'incident_condition',
  'incident_date',
];
export const ADDRESS_COLUMNS = [
  'address_id',
  'household_id',
  'from_date',
  'to_date',
  'uprn',
  'address_line_1',
  'town',
  'postcode',
  'lsoa',
  'local_authority',
  'practice',
];

export function writeTruthPeople(world: World, staff: readonly Staff[], dir: string): void {
  const population = world.population;
  const people = new CsvFileWriter(path.join(dir, 'people.csv'), PEOPLE_COLUMNS);
  for (let p = 0; p < population.count; p++) {
    const mask = population.conditions[p] ?? 0;
    const incident = population.incident[p] ?? 0;
    people.write([
      String(p),
      population.nhsNumber(p),
      world.names.given[population.given[p] ?? 0] ?? '',
      world.names.family[population.family[p] ?? 0] ?? '',
      population.sex[p] === MALE ? '1' : '2',
      formatDay(population.birth[p] ?? 0),
      population.death[p] === NO_DAY ? '' : formatDay(population.death[p] ?? 0),
      ETHNICITY_SHARES[population.ethnicity[p] ?? 0]?.[0] ?? 'Z',
      String(population.household[p] ?? 0),
      (population.mother[p] ?? -1) < 0 ? '' : String(population.mother[p]),
      CONDITIONS.filter((_, i) => mask & (1 << i)).join(';'),
      incident > 0 ? (CONDITIONS[incident - 1] ?? '') : '',
      incident > 0 ? formatDay(population.incidentDay[p] ?? 0) : '',
    ]);
  }
  people.close();

  // Every eFI deficit each person's GP record holds and the day it was first coded
  // (frailty-deficits.ts): the truth the person-level model's eFI is checked against.
  const frailty = new CsvFileWriter(path.join(dir, 'frailty.csv'), ['person_id', 'deficit', 'from_date']);
  // Only for people 65 or over by the window's end: the eFI applies to them alone.
  for (let p = 0; p < population.count; p++) {
    if (approximateAge(population.birth[p] ?? 0, world.window.end) < 65) continue;
    for (const d of allDeficits(world, p)) frailty.write([String(p), d.deficit, formatDay(d.day)]);
  }
  frailty.close();

  const addresses = new CsvFileWriter(path.join(dir, 'addresses.csv'), ADDRESS_COLUMNS);
  for (let h = 0; h < population.householdCount; h++) {
    const first = population.householdFirstAddress[h] ?? 0;
    const count = population.householdAddressCount[h] ?? 1;
    for (let a = first; a < first + count; a++) {
      const postcode = world.geography.postcodes[population.addressPostcode[a] ?? 0];
      const lsoa = world.geography.lsoas[postcode?.lsoa ?? 0];
      const next = a + 1 < first + count ? (population.addressFrom[a + 1] ?? 0) - 1 : NO_DAY;
      addresses.write([
        String(a),
        String(h),
        formatDay(population.addressFrom[a] ?? 0),
        next === NO_DAY ? '' : formatDay(next),
        population.uprn(a),
        `${population.addressNumber[a] ?? 1} ${postcode?.street ?? ''}`,
        postcode?.town ?? '',
        postcode?.pcds ?? '',
        lsoa?.code ?? '',
        world.geography.localAuthorities[lsoa?.la ?? 0]?.code ?? '',
        world.practices.practices[population.addressPractice[a] ?? 0]?.code ?? '',
      ]);
    }
  }
  addresses.close();

  const staffFile = new CsvFileWriter(path.join(dir, 'staff.csv'), [
    'staff_id',
    'org',
    'employee_number',
    'staff_group',
    'band',
    'fte',
    'contract',
    'start_date',
    'end_date',
    'reason_for_leaving',
  ]);
  staff.forEach((s, i) =>
    staffFile.write([
      String(i),
      s.org,
      s.employeeNumber,
      s.staffGroup,
      s.band,
      s.fte.toFixed(2),
      s.contract,
      formatDay(s.start),
      s.end === NO_DAY ? '' : formatDay(s.end),
      s.reason,
    ]),
  );
  staffFile.close();
}

export function writeReference(world: World, dir: string): void {
  const geography = world.geography;
  const referenceGeography = buildReferenceGeography(geography, world.practices, world.window, world.seed);
  writeReferenceGeography(world, referenceGeography, dir);
  const postcodes = new CsvFileWriter(path.join(dir, 'postcodes.csv'), [
    'pcd',
    'pcds',
    'dointr',
    'doterm',
    'oslaua',
    'lsoa11',
    'lsoa21',
    'imd',
  ]);
  geography.postcodes.forEach((postcode, p) => {
    const lsoa = geography.lsoas[postcode.lsoa];
    postcodes.write([
      pcd7(postcode.pcds),
      postcode.pcds,
      postcode.introduced,
      postcode.terminated,
      geography.localAuthorities[lsoa?.la ?? 0]?.code ?? '',
      lsoa?.code ?? '',
      referenceGeography.postcodeLsoa21[p] ?? '',
      String(lsoa?.imdRank ?? ''),
    ]);
  });
  postcodes.close();
  const lsoas = new CsvFileWriter(path.join(dir, 'lsoa.csv'), [
    'lsoa_code',
    'lsoa_name',
    'local_authority_code',
    'local_authority_name',
    'imd_rank',
    'imd_decile',
  ]);
  for (const lsoa of geography.lsoas) {
    const la = geography.localAuthorities[lsoa.la];
    lsoas.write([
      lsoa.code,
      lsoa.name,
      la?.code ?? '',
      la?.name ?? '',
      String(lsoa.imdRank),
      String(lsoa.imdDecile),
    ]);
  }
  lsoas.close();
  const organisations = new CsvFileWriter(path.join(dir, 'organisations.csv'), [
    'ods_code',
    'name',
    'type',
    'code_status',
  ]);
  for (const org of [...MEMBER_ORGANISATIONS, ...world.practices.practices])
    organisations.write([org.code, org.name, org.type, org.codeStatus]);
  organisations.close();
}
