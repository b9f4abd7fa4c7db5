/**
 * The GP practices' registrations and medication issues (issue 18): `gp-registrations` and
 * `gp-medications`, beside the coded events of `gp-events`.
 *
 * Registrations follow the world's people and practices: a person is registered, from birth
 * or from when the household came, at the practice of the address they live at; a move to an
 * address with another practice ends that registration (TRANSFER) on the day the new one
 * begins, and death ends the last (DEATH). A practice's first extract holds every registration
 * current on its first day; each month after holds the registrations that began or ended in it.
 *
 * Medications follow the people's conditions (src/synth/data/gp-medicines.json): a person
 * with a modelled long-term condition is issued its repeat medicine every twelve weeks from
 * the day the condition is held, and anyone may be issued an acute medicine.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CsvFileWriter } from '../files/csv-file-writer.ts';
import type { MonthlyFeedWriter } from './feed-router.ts';
import { patientBlock, previousAddressBlock } from './feed-rows.ts';
import { NO_DAY } from './population.ts';
import { hashKey, hashUniform, Random, WeightedTable } from './random.ts';
import { formatDay } from './synth-dates.ts';
import { CONDITIONS } from './synth-rates.ts';
import type { World } from './world.ts';

interface Issue {
  code: string;
  quantity: number;
  unit: string;
  days: number;
}

interface GpMedicines {
  repeatIntervalDays: number;
  acuteMonthlyRate: number;
  repeats: Record<string, Issue>;
  acute: (Issue & { weight: number })[];
}

export const GP_MEDICINES = JSON.parse(
  readFileSync(new URL('./data/gp-medicines.json', import.meta.url), 'utf8'),
) as GpMedicines;

const ACUTE = new WeightedTable(GP_MEDICINES.acute.map((a) => [a, a.weight] as const));

/** One registration of a person at a practice: from `start` up to, not including, `end`. */
export interface Registration {
  practice: number;
  start: number;
  /** NO_DAY while it continues */
  end: number;
  reason: '' | 'DEATH' | 'TRANSFER';
}

/**
 * A person's registrations, in order: one for each run of their household's addresses that
 * share a practice, from birth (or the run's first move-in) to the next run's move-in or death.
 */
export function registrationsOf(world: World, person: number): Registration[] {
  const population = world.population;
  const household = population.household[person] ?? 0;
  const first = population.householdFirstAddress[household] ?? 0;
  const count = population.householdAddressCount[household] ?? 1;
  const birth = population.birth[person] ?? 0;
  const death = population.death[person] ?? NO_DAY;
  const runs: { practice: number; from: number }[] = [];
  for (let a = first; a < first + count; a++) {
    const practice = population.addressPractice[a] ?? 0;
    if (runs.length > 0 && runs[runs.length - 1]?.practice === practice) continue;
    runs.push({ practice, from: population.addressFrom[a] ?? 0 });
  }
  const registrations: Registration[] = [];
  runs.forEach((run, i) => {
    const start = Math.max(birth, run.from);
    const next = runs[i + 1]?.from ?? NO_DAY;
    const end = Math.min(next, death);
    // A stillbirth, or a run that ended before the person was born or after they died.
    if (start >= end) return;
    registrations.push({
      practice: run.practice,
      start,
      end,
      reason: end === NO_DAY ? '' : end === death ? 'DEATH' : 'TRANSFER',
    });
  });
  return registrations;
}

/** The registration rows of a month: those current on the window's first day (first month), begun or ended in it. */
export const writeGpRegistrations: MonthlyFeedWriter = (world, month, monthIndex, emit, subject) => {
  const population = world.population;
  for (let p = 0; p < population.count; p++) {
    if ((population.birth[p] ?? 0) > month.last || (population.death[p] ?? NO_DAY) < month.first) continue;
    for (const r of registrationsOf(world, p)) {
      const begins = r.start >= month.first && r.start <= month.last;
      const ends = r.end >= month.first && r.end <= month.last;
      const current = monthIndex === 0 && r.start < month.first && r.end > month.first;
      if (!begins && !ends && !current) continue;
      // The address the practice holds: the last one the person lived at while registered there.
      const day = Math.min(month.last, r.end - 1);
      const practice = world.practices.practices[r.practice]?.code ?? '';
      const values = patientBlock(world, p, day, practice);
      values.PRACTICE = practice;
      values.REG_DATE = formatDay(r.start);
      values.DEREG_DATE = ends ? formatDay(r.end) : '';
      values.DEREG_REASON = ends ? r.reason : '';
      values.REGISTRATION_TYPE = 'R';
      values.REPORTING_PERIOD_END_DATE = formatDay(month.last);
      emit(practice, 'gp-registrations', values, subject(p, day), () => previousAddressBlock(world, p, day));
    }
  }
};

/** The first day in [from, to] that falls on a person's repeat cycle for a condition, or -1. */
function repeatDay(seed: number, person: number, condition: number, from: number, to: number): number {
  const interval = GP_MEDICINES.repeatIntervalDays;
  const phase = hashKey(seed, 'repeat-phase', person, condition) % interval;
  const day = from + ((((phase - from) % interval) + interval) % interval);
  return day <= to ? day : -1;
}

/** The medication issues of a month: repeats for each condition held on the day, and acute issues. */
export const writeGpMedications: MonthlyFeedWriter = (world, month, monthIndex, emit, subject) => {
  const population = world.population;
  const seed = world.seed;
  for (let p = 0; p < population.count; p++) {
    const birth = population.birth[p] ?? 0;
    const death = population.death[p] ?? NO_DAY;
    if (birth > month.last || death <= month.first) continue;
    const issue = (day: number, medicine: Issue, type: 'A' | 'R'): void => {
      const practice =
        world.practices.practices[population.addressPractice[population.addressAt(p, day)] ?? 0]?.code ?? '';
      const values = patientBlock(world, p, day, practice);
      values.PRACTICE = practice;
      values.ISSUE_DATE = formatDay(day);
      values.RECORD_DATE = formatDay(day + (hashKey('med-record-date', p, day) % 2));
      values.DMD_CODE = medicine.code;
      values.QUANTITY = String(medicine.quantity);
      values.QUANTITY_UNIT = medicine.unit;
      values.DURATION_DAYS = String(medicine.days);
      values.ISSUE_TYPE = type;
      emit(practice, 'gp-medications', values, subject(p, day), () => previousAddressBlock(world, p, day));
    };
    CONDITIONS.forEach((condition, c) => {
      const medicine = GP_MEDICINES.repeats[condition];
      if (!medicine) return;
      const day = repeatDay(seed, p, c, Math.max(month.first, birth), Math.min(month.last, death - 1));
      if (day >= 0 && population.hasCondition(p, c, day)) issue(day, medicine, 'R');
    });
    if (hashUniform(seed, 'acute-issue', p, monthIndex) < GP_MEDICINES.acuteMonthlyRate) {
      const from = Math.max(month.first, birth);
      const to = Math.min(month.last, death - 1);
      const r = new Random(seed, 'acute-medicine', p, monthIndex);
      if (from <= to) issue(r.int(from, to), ACUTE.draw(r), 'A');
    }
  }
};

/** truth/registrations.csv: every registration of every person, the truth the feed is checked against. */
export function writeTruthRegistrations(world: World, dir: string): void {
  const out = new CsvFileWriter(path.join(dir, 'registrations.csv'), [
    'person_id',
    'practice',
    'start_date',
    'end_date',
    'end_reason',
  ]);
  for (let p = 0; p < world.population.count; p++) {
    for (const r of registrationsOf(world, p)) {
      out.write([
        String(p),
        world.practices.practices[r.practice]?.code ?? '',
        formatDay(r.start),
        r.end === NO_DAY ? '' : formatDay(r.end),
        r.reason,
      ]);
    }
  }
  out.close();
}
