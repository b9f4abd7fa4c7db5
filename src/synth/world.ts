/**
 * The synthetic world: geography, organisations, people and staff, built once from the
 * seed; activity is then drawn from it month by month (see `activity-model.ts`).
 */
import { readFileSync } from 'node:fs';
import { buildGeography, type Geography } from './geography.ts';
import { buildPractices, type PracticeSet } from './organisations.ts';
import { buildPopulation, type NameBook, type Population, type Window } from './population.ts';
import { WeightedTable } from './random.ts';
import { dayOf, monthsBetween, type Month } from './synth-dates.ts';
import { CONDITIONS, CONDITION_EMERGENCY_FACTOR, CONDITION_FACTOR_CAP } from './synth-rates.ts';

interface ClinicalCodes {
  emergencyDiagnoses: Record<'child' | 'adult' | 'older', [string, number][]>;
  secondaryDiagnoses: [string, number][];
  electiveProcedures: [string, string, string, number][];
  emergencyProcedures: [string, number][];
  deliveryDiagnoses: Record<'spontaneous' | 'instrumental' | 'caesarean', string>;
  deliveryProcedures: Record<string, string>;
  outpatientSpecialties: [string, number][];
  edChiefComplaints: [string, number][];
  edDiagnoses: [string, number][];
  gpConditions: Record<
    string,
    { diagnosis: string; review: string; unit?: string; mean?: number; sd?: number }
  >;
  /** eFI deficits the GP record codes beyond the modelled conditions (src/synth/frailty-deficits.ts) */
  efiDeficits: Record<string, { code: string; weight: number }>;
  /** the eFI deficit each modelled condition is */
  efiConditionDeficits: Record<string, string>;
  /** the ICD-10 code a coder records as a secondary diagnosis for each modelled condition */
  conditionDiagnoses: Record<string, string>;
  /** OPCS-4 codes recorded beside a primary procedure (laterality, image guidance) */
  secondaryProcedures: Record<string, string[]>;
  /** the HRG a synthetic spell groups to, with a synthetic price and trim point */
  hrg: {
    excessBedDay: number;
    byProcedure: Record<string, { code: string; price: number; trimDays: number }>;
    byChapter: Record<string, { code: string; price: number; trimDays: number }>;
    fallback: { code: string; price: number; trimDays: number };
  };
}

export const CLINICAL_CODES = JSON.parse(
  readFileSync(new URL('./data/clinical-codes.json', import.meta.url), 'utf8'),
) as ClinicalCodes;

export interface ClinicalTables {
  emergencyDiagnoses: Record<'child' | 'adult' | 'older', WeightedTable<string>>;
  secondaryDiagnoses: WeightedTable<string>;
  electiveProcedures: WeightedTable<[string, string, string]>;
  emergencyProcedures: WeightedTable<string>;
  outpatientSpecialties: WeightedTable<string>;
  edChiefComplaints: WeightedTable<string>;
  edDiagnoses: WeightedTable<string>;
}

function clinicalTables(): ClinicalTables {
  const c = CLINICAL_CODES;
  return {
    emergencyDiagnoses: {
      child: new WeightedTable(c.emergencyDiagnoses.child),
      adult: new WeightedTable(c.emergencyDiagnoses.adult),
      older: new WeightedTable(c.emergencyDiagnoses.older),
    },
    secondaryDiagnoses: new WeightedTable(c.secondaryDiagnoses),
    electiveProcedures: new WeightedTable(
      c.electiveProcedures.map(
        ([opcs, icd, tf, w]) => [[opcs, icd, tf] as [string, string, string], w] as const,
      ),
    ),
    emergencyProcedures: new WeightedTable(c.emergencyProcedures),
    outpatientSpecialties: new WeightedTable(c.outpatientSpecialties),
    edChiefComplaints: new WeightedTable(c.edChiefComplaints),
    edDiagnoses: new WeightedTable(c.edDiagnoses),
  };
}

export interface World {
  seed: number;
  window: Window;
  months: Month[];
  geography: Geography;
  practices: PracticeSet;
  population: Population;
  names: NameBook;
  clinical: ClinicalTables;
  /** emergency-admission multiplier for each combination of conditions (bitmask) */
  conditionFactor: Float64Array;
  /** changes injected from a day on (generate-world.ts `ProcessChange`) */
  changes?: { kind: 'induction-of-labour'; fromDay: number; share: number }[];
}

export interface WorldOptions {
  people: number;
  seed: number;
  from: { year: number; month: number };
  to: { year: number; month: number };
}

export function buildWorld(options: WorldOptions): World {
  const months = monthsBetween(options.from, options.to);
  const first = months[0];
  const last = months[months.length - 1];
  if (!first || !last) throw new Error('the window has no months');
  const start = first.first;
  const end = last.last;
  const window: Window = { start, end, years: (end - start + 1) / 365.25 };
  const geography = buildGeography(options.seed);
  const practices = buildPractices(geography, options.people, options.seed);
  const { population, names } = buildPopulation({
    people: options.people,
    seed: options.seed,
    window,
    geography,
    practices,
  });
  const conditionFactor = new Float64Array(1 << CONDITIONS.length);
  for (let mask = 0; mask < conditionFactor.length; mask++) {
    let factor = 1;
    CONDITIONS.forEach((condition, i) => {
      if (mask & (1 << i)) factor *= CONDITION_EMERGENCY_FACTOR[condition];
    });
    conditionFactor[mask] = Math.min(CONDITION_FACTOR_CAP, factor);
  }
  return {
    seed: options.seed,
    window,
    months,
    geography,
    practices,
    population,
    names,
    clinical: clinicalTables(),
    conditionFactor,
  };
}

/** IMD decile of the LSOA of a person's address on a day. */
export function decileAt(world: World, person: number, day: number): number {
  const address = world.population.addressAt(person, day);
  const postcode = world.geography.postcodes[world.population.addressPostcode[address] ?? 0];
  return world.geography.lsoas[postcode?.lsoa ?? 0]?.imdDecile ?? 5;
}

export function laOfAddress(world: World, address: number): number {
  const postcode = world.geography.postcodes[world.population.addressPostcode[address] ?? 0];
  return world.geography.lsoas[postcode?.lsoa ?? 0]?.la ?? 0;
}

export { dayOf };
