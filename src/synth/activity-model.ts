/**
 * A person's activity in one month, drawn from rates that rise and fall with age, sex,
 * deprivation and long-term conditions (all in `synth-rates.ts`). Each person-month has its
 * own random stream, so months are generated independently and in any order.
 */
import { hashUniform, Random } from './random.ts';
import { dayOf, type Month } from './synth-dates.ts';
import {
  ASC_CLIENT_SHARE_BY_BAND,
  ACUITY_SHARES,
  CONDITIONS,
  DEPRIVATION_SLOPE,
  ED_ATTENDANCES_BY_BAND,
  ELECTIVE_ADMISSIONS_BY_BAND,
  EMERGENCY_ADMISSIONS_BY_BAND,
  EMERGENCY_VIA_ED_SHARE,
  FOLLOW_UPS_PER_FIRST,
  FOUR_HOUR_MET_ADMITTED,
  FOUR_HOUR_MET_BY_ACUITY,
  HOSPITAL_DEATH_SHARE,
  OUTPATIENT_FIRSTS_BY_BAND,
  OUTPATIENT_STATUS,
  ageBand,
  covidFactor,
  deprivationMultiplier,
} from './synth-rates.ts';
import { extraDeficits } from './frailty-deficits.ts';
import { NO_DAY, MALE } from './population.ts';
import { CLINICAL_CODES, decileAt, laOfAddress, type World } from './world.ts';
import { WeightedTable } from './random.ts';

export interface EdVisit {
  trust: string;
  arrivalDay: number;
  /** minutes after midnight of arrivalDay; later times may run past midnight */
  arrival: number;
  assessment: number;
  seen: number;
  departure: number;
  acuity: number;
  complaint: string;
  diagnosis: string;
  byAmbulance: boolean;
  admitted: boolean;
  died: boolean;
}

export interface ApcSpell {
  trust: string;
  method: string;
  source: string;
  classification: string;
  intended: string;
  admit: number;
  admitTime: number;
  discharge: number;
  dischargeMethod: string;
  dischargeDestination: string;
  episodes: { start: number; end: number; treatmentFunction: string }[];
  primaryDiagnosis: string;
  secondaryDiagnoses: string[];
  procedure: string;
  procedureDay: number;
  decidedToAdmit: number;
}

export type ActivityEvent =
  | { kind: 'apc'; day: number; spell: ApcSpell; ed?: EdVisit }
  | { kind: 'ed'; day: number; visit: EdVisit }
  | {
      kind: 'op';
      day: number;
      trust: string;
      time: number;
      first: boolean;
      status: string;
      treatmentFunction: string;
      remote: boolean;
      referralSource: string;
      priority: string;
      outcome: string;
      referralDay: number;
    }
  | {
      kind: 'gp';
      day: number;
      practice: number;
      condition: number;
      type: 'diagnosis' | 'review';
      value: string;
      /** an eFI deficit's concept, coded instead of the condition's (frailty-deficits.ts) */
      code?: string;
    }
  | { kind: 'asc'; day: number; council: string; activity: string };

export type GpEvent = Extract<ActivityEvent, { kind: 'gp' }>;

/** A GP diagnosis of `condition` on `day`; with `code`, one of the eFI's deficits coded instead (frailty-deficits.ts). */
export function gpDiagnosis(day: number, practice: number, condition: number, code?: string): GpEvent {
  return { kind: 'gp', day, practice, condition, type: 'diagnosis', value: '', ...(code ? { code } : {}) };
}

const LOCKDOWN_DAY = dayOf(2020, 3, 23);
const ACUITY_TABLE = new WeightedTable(ACUITY_SHARES.map((share, i) => [i + 1, share] as const));
const OP_STATUS_TABLE = new WeightedTable(OUTPATIENT_STATUS);

/** Emergency admissions: a distinct acute-trust code per local authority of residence. */
function trustAt(world: World, person: number, day: number): string {
  const address = world.population.addressAt(person, day);
  return world.geography.localAuthorities[laOfAddress(world, address)]?.acuteTrust ?? 'RWF';
}

function councilAt(world: World, person: number, day: number): string {
  const address = world.population.addressAt(person, day);
  return world.geography.localAuthorities[laOfAddress(world, address)]?.council ?? 'E10000016';
}

/** Whether a person receives long-term adult social care (fixed for the window). */
export function isAscClient(world: World, person: number): boolean {
  const age = Math.floor((world.window.start - (world.population.birth[person] ?? 0)) / 365.25);
  if (age < 18) return false;
  return hashUniform(world.seed, 'asc-client', person) < (ASC_CLIENT_SHARE_BY_BAND[ageBand(age)] ?? 0);
}

/**
 * Draws one person's events in a month. Rates are annual; the month's share is scaled by
 * the days the person was alive and by the COVID-19 factor for the month.
 */
export function personMonth(world: World, person: number, month: Month, monthIndex: number): ActivityEvent[] {
  const population = world.population;
  const birth = population.birth[person] ?? 0;
  const death = population.death[person] ?? NO_DAY;
  const firstDay = Math.max(month.first, birth);
  const lastDay = Math.min(month.last, death - 1);
  const events: ActivityEvent[] = [];
  const diesThisMonth = death >= month.first && death <= month.last;
  const hospitalDeath =
    diesThisMonth &&
    death > birth &&
    hashUniform(world.seed, 'hospital-death', person) < HOSPITAL_DEATH_SHARE;
  if (lastDay < firstDay && !hospitalDeath) return events;

  const mid = (firstDay + Math.max(firstDay, lastDay)) >> 1;
  const age = Math.floor((mid - birth) / 365.25);
  const band = ageBand(age);
  const decile = decileAt(world, person, mid);
  let mask = population.conditions[person] ?? 0;
  const incident = population.incident[person] ?? 0;
  if (incident > 0 && (population.incidentDay[person] ?? NO_DAY) <= mid) mask |= 1 << (incident - 1);
  const aliveShare = Math.max(0, lastDay - firstDay + 1) / month.days;
  const covid = covidFactor(month.label);
  const male = population.sex[person] === MALE;
  const scale = aliveShare / 12;

  const emergency =
    (EMERGENCY_ADMISSIONS_BY_BAND[band] ?? 0) *
    deprivationMultiplier(decile, DEPRIVATION_SLOPE.emergency) *
    (world.conditionFactor[mask] ?? 1) *
    (male && age >= 45 ? 1.1 : 1) *
    covid.emergency *
    scale;
  const elective =
    (ELECTIVE_ADMISSIONS_BY_BAND[band] ?? 0) *
    deprivationMultiplier(decile, DEPRIVATION_SLOPE.elective) *
    covid.planned *
    scale;
  const opFirst =
    (OUTPATIENT_FIRSTS_BY_BAND[band] ?? 0) *
    deprivationMultiplier(decile, DEPRIVATION_SLOPE.outpatient) *
    covid.planned *
    scale;
  const opFollow = opFirst * FOLLOW_UPS_PER_FIRST;
  const ed =
    (ED_ATTENDANCES_BY_BAND[band] ?? 0) *
    deprivationMultiplier(decile, DEPRIVATION_SLOPE.ed) *
    covid.emergency *
    scale;
  let conditionCount = 0;
  for (let i = 0; i < CONDITIONS.length; i++) if (mask & (1 << i)) conditionCount++;
  const gpReview = conditionCount * scale;
  const asc = isAscClient(world, person) ? 1.5 * scale : 0;
  const rates = [emergency, elective, opFirst, opFollow, ed, gpReview, asc];
  let total = 0;
  for (const rate of rates) total += rate;

  const r = new Random(world.seed, 'person-month', person, monthIndex);
  const incidentDay = population.incidentDay[person] ?? NO_DAY;
  if (incident > 0 && incidentDay >= firstDay && incidentDay <= lastDay) {
    const practice = population.addressPractice[population.addressAt(person, incidentDay)] ?? 0;
    events.push(gpDiagnosis(incidentDay, practice, incident - 1));
    // Frailty diagnosed brings the deficits that go with it, coded the same day.
    if (CONDITIONS[incident - 1] === 'frailty')
      for (const deficit of extraDeficits(world, person))
        if (deficit.day === incidentDay)
          events.push(gpDiagnosis(incidentDay, practice, incident - 1, deficit.code));
  }
  if (hospitalDeath) events.push(emergencySpell(world, person, r, death, true));

  // Most person-months have no activity: one hash decides that before any stream is seeded.
  if (total > 0 && lastDay >= firstDay) {
    const count = r.poisson(total);
    for (let k = 0; k < count; k++) {
      let u = r.next() * total;
      let type = 0;
      while (type < rates.length - 1 && u >= (rates[type] ?? 0)) u -= rates[type++] ?? 0;
      const day = r.int(firstDay, lastDay);
      switch (type) {
        case 0:
          events.push(emergencySpell(world, person, r, day, false));
          break;
        case 1:
          events.push(electiveSpell(world, person, r, day));
          break;
        case 2:
        case 3:
          events.push(outpatient(world, person, r, day, type === 2));
          break;
        case 4:
          events.push({ kind: 'ed', day, visit: edVisit(world, person, r, day, false) });
          break;
        case 5: {
          const conditions = CONDITIONS.map((_, i) => i).filter((i) => mask & (1 << i));
          const condition = r.pick(conditions);
          const practice = population.addressPractice[population.addressAt(person, day)] ?? 0;
          const spec = CLINICAL_CODES.gpConditions[CONDITIONS[condition] ?? 'diabetes'];
          const value =
            spec?.mean === undefined
              ? ''
              : (Math.round(r.normal(spec.mean, spec.sd ?? 1) * 10) / 10).toFixed(spec.mean < 10 ? 1 : 0);
          events.push({ kind: 'gp', day, practice, condition, type: 'review', value });
          break;
        }
        case 6:
          events.push({
            kind: 'asc',
            day,
            council: councilAt(world, person, day),
            activity: r.pick(['review', 'review', 'service', 'service', 'service', 'assessment']),
          });
          break;
      }
    }
  }
  events.sort((a, b) => a.day - b.day);
  return events;
}

function edVisit(world: World, person: number, r: Random, day: number, admitted: boolean): EdVisit {
  const age = Math.floor((day - (world.population.birth[person] ?? 0)) / 365.25);
  const acuity = admitted ? Math.min(4, ACUITY_TABLE.draw(r)) : ACUITY_TABLE.draw(r);
  // Arrivals peak late morning to evening.
  const arrival = Math.min(1439, Math.max(0, Math.round(r.normal(14 * 60, 260))));
  const assessment = arrival + r.int(2, 25);
  const seen = assessment + r.int(10, 120);
  const met = admitted
    ? r.chance(FOUR_HOUR_MET_ADMITTED)
    : r.chance(FOUR_HOUR_MET_BY_ACUITY[acuity - 1] ?? 0.8);
  const departure = met
    ? Math.max(seen + 5, arrival + r.int(45, 240))
    : arrival + r.int(241, admitted ? 900 : 600);
  return {
    trust: trustAt(world, person, day),
    arrivalDay: day,
    arrival,
    assessment,
    seen: Math.min(seen, departure - 1),
    departure,
    acuity,
    complaint: world.clinical.edChiefComplaints.draw(r),
    diagnosis: world.clinical.edDiagnoses.draw(r),
    byAmbulance: r.chance(age >= 75 ? 0.55 : admitted ? 0.4 : 0.15),
    admitted,
    died: false,
  };
}

function lengthOfStay(r: Random, age: number, emergency: boolean): number {
  if (!emergency) return r.chance(0.8) ? 0 : r.int(1, 6);
  if (age < 65 && r.chance(0.35)) return 0;
  const median = age >= 85 ? 8 : age >= 65 ? 5 : 2;
  return Math.max(0, Math.min(120, Math.round(Math.exp(r.normal(Math.log(median), 0.8)))));
}

function emergencySpell(
  world: World,
  person: number,
  r: Random,
  day: number,
  endsInDeath: boolean,
): ActivityEvent {
  const population = world.population;
  const age = Math.floor((day - (population.birth[person] ?? 0)) / 365.25);
  const death = population.death[person] ?? NO_DAY;
  const los0 = lengthOfStay(r, age, true);
  const viaEd = r.chance(EMERGENCY_VIA_ED_SHARE);
  let arrival = day;
  if (endsInDeath) arrival = Math.max(population.birth[person] ?? day, day - Math.max(1, los0));
  const ed = viaEd ? edVisit(world, person, r, arrival, true) : undefined;
  // Admission follows the ED departure, which may be after midnight.
  const admit = ed
    ? Math.min(arrival + Math.floor(ed.departure / 1440), endsInDeath ? day : NO_DAY)
    : arrival;
  let discharge = endsInDeath ? day : admit + los0;
  let died = endsInDeath;
  if (!endsInDeath && discharge >= death) {
    discharge = Math.max(admit, death);
    died = true;
  }
  const los = discharge - admit;
  const method = viaEd ? '21' : r.pick(['22', '22', '22', '24', '2D', '2A', '23']);
  const group = age < 16 ? 'child' : age < 65 ? 'adult' : 'older';
  const primary = world.clinical.emergencyDiagnoses[group].draw(r);
  const secondary: string[] = [];
  const extra = age >= 65 ? r.int(1, 4) : r.int(0, 2);
  for (let i = 0; i < extra; i++) {
    const code = world.clinical.secondaryDiagnoses.draw(r);
    if (!secondary.includes(code) && code !== primary) secondary.push(code);
  }
  const firstFunction = age < 16 ? '420' : r.pick(['300', '300', '180', '100', '320', '340']);
  const episodes: ApcSpell['episodes'] = [];
  const count = los >= 2 ? (r.chance(0.35) ? (r.chance(0.25) ? 3 : 2) : 1) : 1;
  let start = admit;
  for (let e = 0; e < count; e++) {
    const end =
      e === count - 1
        ? discharge
        : Math.min(discharge, start + r.int(0, Math.max(0, Math.floor(los / count))));
    episodes.push({
      start,
      end,
      treatmentFunction:
        e === 0 ? firstFunction : age >= 75 ? '430' : r.pick(['300', '301', '320', '340', '100']),
    });
    start = end;
  }
  const procedure = r.chance(0.4) ? world.clinical.emergencyProcedures.draw(r) : '';
  const admitTime = ed ? ed.departure % 1440 : r.int(8 * 60, 22 * 60);
  return {
    kind: 'apc',
    day: arrival,
    ...(ed ? { ed } : {}),
    spell: {
      trust: ed?.trust ?? trustAt(world, person, admit),
      method,
      source: '19',
      classification: '1',
      intended: '1',
      admit,
      admitTime,
      discharge,
      dischargeMethod: died ? '4' : r.chance(0.01) ? '2' : '1',
      dischargeDestination: died ? '79' : age >= 80 && r.chance(0.12) ? r.pick(['54', '65', '85']) : '19',
      episodes,
      primaryDiagnosis: primary,
      secondaryDiagnoses: secondary,
      procedure,
      procedureDay: procedure ? admit + r.int(0, Math.max(0, los)) : -1,
      decidedToAdmit: -1,
    },
  };
}

function electiveSpell(world: World, person: number, r: Random, day: number): ActivityEvent {
  const age = Math.floor((day - (world.population.birth[person] ?? 0)) / 365.25);
  const death = world.population.death[person] ?? NO_DAY;
  const [procedure, diagnosis, treatmentFunction] = world.clinical.electiveProcedures.draw(r);
  const dayCase = r.chance(0.8);
  const los = dayCase ? 0 : Math.min(lengthOfStay(r, age, false) || 1, Math.max(0, death - day - 1));
  const discharge = day + los;
  return {
    kind: 'apc',
    day,
    spell: {
      trust: trustAt(world, person, day),
      method: r.pick(['11', '11', '11', '12', '13']),
      source: '19',
      classification: dayCase ? '2' : '1',
      intended: dayCase ? '2' : '1',
      admit: day,
      admitTime: r.int(7 * 60, 11 * 60),
      discharge,
      dischargeMethod: '1',
      dischargeDestination: '19',
      episodes: [{ start: day, end: discharge, treatmentFunction: age < 16 ? '171' : treatmentFunction }],
      primaryDiagnosis: diagnosis,
      secondaryDiagnoses: age >= 60 && r.chance(0.5) ? [world.clinical.secondaryDiagnoses.draw(r)] : [],
      procedure,
      procedureDay: day,
      decidedToAdmit: day - r.int(14, 250),
    },
  };
}

function outpatient(world: World, person: number, r: Random, day: number, first: boolean): ActivityEvent {
  const age = Math.floor((day - (world.population.birth[person] ?? 0)) / 365.25);
  const status = OP_STATUS_TABLE.draw(r);
  const attended = status === '5' || status === '6';
  // Remote consultations rose from about 6% to about 25% from the first lockdown (23 March 2020).
  const remote = r.chance(day >= LOCKDOWN_DAY ? 0.25 : 0.06);
  return {
    kind: 'op',
    day,
    trust: trustAt(world, person, day),
    time: r.int(8 * 4, 17 * 4) * 15,
    first,
    status,
    treatmentFunction: age < 16 ? '420' : world.clinical.outpatientSpecialties.draw(r),
    remote,
    referralSource: first ? r.pick(['03', '03', '03', '05', '10', '01', '92']) : '05',
    priority: first ? r.pick(['1', '1', '1', '2', '3']) : '1',
    outcome: attended ? (first ? r.pick(['2', '2', '3', '1']) : r.pick(['1', '2', '3'])) : '',
    referralDay: first ? day - r.int(14, 180) : day - r.int(30, 400),
  };
}
