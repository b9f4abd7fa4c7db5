/**
 * The synthetic world's NHS 111 and GP out-of-hours cases (dataset `ooh-cases`), as the
 * integrated urgent care provider (IC24 in Kent and Medway) would extract them from its case
 * system: one row per case, with the NHS Pathways symptom group and disposition, a clinician's
 * call back where the disposition asks for one, and the service the case ended with.
 *
 * Draws come from streams keyed by the person and month under their own label, so adding
 * this feed moved no other value of any world. Assumptions (docs/synthetic-data.md):
 * - cases a year per person by age band (0-4 … 85+): 0.85, 0.25, 0.35, 0.30, 0.22, 0.25, 0.40,
 *   0.70: about 0.33 a person overall, England's NHS 111 rate of roughly 20 million triaged
 *   calls a year for 56 million people [M: IUC ADC order of magnitude];
 * - 95% of callers are traced to an NHS number (the rest carry none: not a defect);
 * - calls cluster in the evening and at weekends, when practices are shut;
 * - a case sent to an emergency department does not yet produce the ECDS attendance it
 *   would: the two feeds are drawn independently.
 */
import type { EmitRow, SubjectOf } from './feed-router.ts';
import { patientBlock, type Values } from './feed-rows.ts';
import { hashKey, hashUniform, Random, WeightedTable } from './random.ts';
import { ageBand } from './synth-rates.ts';
import { formatDateTime, type Month } from './synth-dates.ts';
import { laOfAddress, type World } from './world.ts';
import { NO_DAY } from './population.ts';

export const OOH_PROVIDER = 'IC24';
export const OOH_DATASET = 'ooh-cases';

/** Cases a year per person, by age band (synth-rates AGE_BANDS). */
export const OOH_CASES_PER_YEAR = [0.85, 0.25, 0.35, 0.3, 0.22, 0.25, 0.4, 0.7] as const;
const TRACED_SHARE = 0.95;

/** Hour of the call: the out-of-hours period (18:30 to 08:00 and weekends) carries most. */
const WEEKDAY_HOURS = new WeightedTable(
  Array.from({ length: 24 }, (_, h) => [h, h >= 18 || h < 1 ? 9 : h < 8 ? 2 : 4] as const),
);
const WEEKEND_HOURS = new WeightedTable(
  Array.from({ length: 24 }, (_, h) => [h, h >= 8 && h < 22 ? 8 : 2] as const),
);

const SOURCE = new WeightedTable([
  ['111-CALL', 78],
  ['111-ONLINE', 15],
  ['GP-OVERFLOW', 3],
  ['999-TRANSFER', 3],
  ['ED-STREAM', 1],
] as const);

const SYMPTOMS: Record<'child' | 'adult' | 'older', WeightedTable<string>> = {
  child: new WeightedTable([
    ['SG-FEVER', 22],
    ['SG-COUGH-COLD', 18],
    ['SG-DIARRHOEA-VOMITING', 15],
    ['SG-RASH-SKIN', 10],
    ['SG-EAR-EYE-THROAT', 10],
    ['SG-BREATHING-CHEST', 8],
    ['SG-INJURY', 8],
    ['SG-ABDOMINAL', 6],
    ['SG-OTHER', 3],
  ] as const),
  adult: new WeightedTable([
    ['SG-ABDOMINAL', 14],
    ['SG-BREATHING-CHEST', 12],
    ['SG-DENTAL', 10],
    ['SG-MEDICATION', 9],
    ['SG-URINARY', 7],
    ['SG-MENTAL-HEALTH', 7],
    ['SG-HEADACHE', 6],
    ['SG-INJURY', 7],
    ['SG-BACK-PAIN', 6],
    ['SG-DIARRHOEA-VOMITING', 6],
    ['SG-RASH-SKIN', 5],
    ['SG-EAR-EYE-THROAT', 5],
    ['SG-COUGH-COLD', 4],
    ['SG-OTHER', 2],
  ] as const),
  older: new WeightedTable([
    ['SG-BREATHING-CHEST', 20],
    ['SG-ABDOMINAL', 12],
    ['SG-INJURY', 12],
    ['SG-URINARY', 10],
    ['SG-MEDICATION', 10],
    ['SG-COUGH-COLD', 8],
    ['SG-BACK-PAIN', 6],
    ['SG-HEADACHE', 4],
    ['SG-RASH-SKIN', 4],
    ['SG-OTHER', 14],
  ] as const),
};

/** Dispositions a general assessment reaches, and how often (NHS Pathways Dx codes). */
const GENERAL_DISPOSITIONS = new WeightedTable([
  ['Dx011', 5],
  ['Dx012', 5],
  ['Dx013', 1],
  ['Dx02', 3],
  ['Dx03', 8],
  ['Dx05', 9],
  ['Dx06', 7],
  ['Dx07', 2],
  ['Dx08', 4],
  ['Dx11', 6],
  ['Dx12', 5],
  ['Dx13', 4],
  ['Dx14', 1],
  ['Dx15', 2],
  ['Dx75', 4],
  ['Dx35', 8],
  ['Dx39', 5],
  ['Dx38', 12],
] as const);

const AMBULANCE = new Set(['Dx01', 'Dx011', 'Dx012', 'Dx013']);
const SPEAK_TO_CLINICIAN = new Set(['Dx11', 'Dx12', 'Dx13', 'Dx14', 'Dx15']);
const CONTACT_PRIMARY_CARE = new Set(['Dx05', 'Dx06', 'Dx07', 'Dx08']);

/** Whether a day (days since 1970-01-01, a Thursday) falls on a Saturday or Sunday. */
function isWeekend(day: number): boolean {
  const weekday = (((day + 4) % 7) + 7) % 7; // 0 Sunday … 6 Saturday
  return weekday === 0 || weekday === 6;
}

function outOfHours(day: number, minute: number): boolean {
  return isWeekend(day) || minute >= 18 * 60 + 30 || minute < 8 * 60;
}

/** The disposition, the final service and whether a clinician calls back, for one case. */
function assess(
  random: Random,
  symptom: string,
  age: number,
  day: number,
  minute: number,
): { disposition: string; service: string; callBack: boolean } {
  if (random.chance(0.03)) return { disposition: '', service: 'ENDED', callBack: false };
  if (symptom === 'SG-DENTAL') return { disposition: 'Dx17', service: 'DENTAL', callBack: false };
  if (symptom === 'SG-MENTAL-HEALTH' && random.chance(0.6))
    return { disposition: 'Dx13', service: 'MENTAL-HEALTH', callBack: true };
  if (symptom === 'SG-MEDICATION' && random.chance(0.7))
    return { disposition: 'Dx39', service: 'PHARMACY', callBack: false };
  let disposition = GENERAL_DISPOSITIONS.draw(random);
  // Older callers more often need an ambulance.
  if (age >= 75 && !AMBULANCE.has(disposition) && random.chance(0.12)) disposition = 'Dx012';
  if (AMBULANCE.has(disposition)) return { disposition, service: 'AMBULANCE', callBack: false };
  if (disposition === 'Dx02') return { disposition, service: 'ED', callBack: false };
  if (disposition === 'Dx03')
    return {
      disposition,
      service: random.chance(0.45) ? 'UTC' : age >= 18 && random.chance(0.15) ? 'SDEC' : 'ED',
      callBack: false,
    };
  if (SPEAK_TO_CLINICIAN.has(disposition)) {
    // The clinical assessment service calls back; most cases end with its advice, some are
    // booked into a base or sent on.
    const u = random.next();
    const service = u < 0.6 ? 'OOH-CLINICIAN-ADVICE' : u < 0.85 ? 'OOH-BASE' : u < 0.93 ? 'OWN-GP' : 'ED';
    return { disposition, service, callBack: true };
  }
  if (CONTACT_PRIMARY_CARE.has(disposition)) {
    if (!outOfHours(day, minute)) return { disposition, service: 'OWN-GP', callBack: false };
    const home = age >= 80 && random.chance(0.35);
    return { disposition, service: home ? 'OOH-HOME' : 'OOH-BASE', callBack: random.chance(0.3) };
  }
  if (disposition === 'Dx39') return { disposition, service: 'PHARMACY', callBack: false };
  if (disposition === 'Dx38') return { disposition, service: 'SELF-CARE', callBack: false };
  return { disposition, service: 'OWN-GP', callBack: false };
}

/** One case's row, by the catalogue's column names (patient block as every patient feed). */
export function oohCaseRow(
  world: World,
  person: number,
  day: number,
  minute: number,
  random: Random,
  traced: boolean,
): Values {
  const values = patientBlock(world, person, day, OOH_PROVIDER, { nhs: traced });
  if (!traced) values.NHS_Number_Status_Indicator_Code = '03';
  const age = Math.floor((day - (world.population.birth[person] ?? 0)) / 365.25);
  const symptom = SYMPTOMS[age < 15 ? 'child' : age < 70 ? 'adult' : 'older'].draw(random);
  const source = SOURCE.draw(random);
  const { disposition, service, callBack } = assess(random, symptom, age, day, minute);
  // Pathways assessments take 8 to 25 minutes; an online case reaches its disposition quicker.
  const dispositionAt = minute + (source === '111-ONLINE' ? random.int(3, 10) : random.int(8, 25));
  const callBackAt = callBack ? dispositionAt + random.int(10, 180) : undefined;
  const closedAt = (callBackAt ?? dispositionAt) + random.int(2, service.startsWith('OOH-') ? 240 : 20);
  const address = world.population.addressAt(person, day);
  const trust = world.geography.localAuthorities[laOfAddress(world, address)]?.acuteTrust ?? 'RWF';
  values.Case_Identifier = `${OOH_PROVIDER}${String(hashKey('ooh-case', person, day, minute) % 10_000_000_000).padStart(10, '0')}`;
  values.Case_Source = source;
  values.Call_Date_Time = formatDateTime(day, minute);
  values.Symptom_Group = symptom;
  values.Disposition_Code = disposition;
  values.Disposition_Date_Time = disposition ? formatDateTime(day, dispositionAt) : '';
  values.Clinician_Call_Back_Date_Time = callBackAt === undefined ? '' : formatDateTime(day, callBackAt);
  values.Final_Service = service;
  values.Final_Service_Site_Code =
    service === 'ED' || service === 'UTC' || service === 'SDEC' ? `${trust}01` : '';
  values.Case_Closed_Date_Time = formatDateTime(day, closedAt);
  return values;
}

/** Every person's 111 and out-of-hours cases in a month, written as IC24's feed. */
export function writeOohCases(
  world: World,
  month: Month,
  monthIndex: number,
  emit: EmitRow,
  subject: SubjectOf,
  seed: number,
): void {
  const population = world.population;
  const days = month.last - month.first + 1;
  for (let p = 0; p < population.count; p++) {
    const birth = population.birth[p] ?? 0;
    if (birth > month.last || (population.death[p] ?? NO_DAY) < month.first) continue;
    const age = Math.floor((month.first - birth) / 365.25);
    const perMonth = (OOH_CASES_PER_YEAR[ageBand(Math.max(0, age))] ?? 0.3) / 12;
    // The cheap draw first: most people make no call in a month (a caller has 1.1 cases on
    // average, so the chance of any is the rate over 1.1).
    if (hashUniform(seed, 'ooh', p, monthIndex) >= perMonth / 1.1) continue;
    const random = new Random(seed, 'ooh-cases', p, monthIndex);
    const cases = random.chance(0.9) ? 1 : 2;
    for (let c = 0; c < cases; c++) {
      const day = month.first + random.int(0, days - 1);
      if (day < birth || day > (population.death[p] ?? NO_DAY)) continue;
      const hour = (isWeekend(day) ? WEEKEND_HOURS : WEEKDAY_HOURS).draw(random);
      const minute = hour * 60 + random.int(0, 59);
      const traced = random.chance(TRACED_SHARE);
      emit(
        OOH_PROVIDER,
        OOH_DATASET,
        oohCaseRow(world, p, day, minute, random, traced),
        subject(p, day, traced),
      );
    }
  }
}
