/**
 * `generateWorld`: builds the synthetic Kent and Medway world and writes every member
 * organisation's identifiable extracts (`feeds/`), the source mappings of those in a local
 * layout (`mappings/`), the ground truth (`truth/`) and the reference geography and
 * organisations (`reference/`).
 *
 * Memory holds the people table and nothing that grows with the months: activity is drawn
 * and written month by month, each file streamed to disk as its rows are made.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.ts';
import { personMonth, type ActivityEvent, type ApcSpell } from './activity-model.ts';
import { cataloguePlans } from './catalogue-plans.ts';
import { CsvFileWriter } from '../files/csv-file-writer.ts';
import {
  COUNCIL_DATASETS,
  COUNCIL_DEFECT_RATES,
  DEFAULT_DEFECT_RATES,
  DEFECT_KINDS,
  type DefectKind,
  type DefectRates,
} from './defects.ts';
import {
  DEFECT_COLUMNS,
  FeedRouter,
  RECORD_COLUMNS,
  type RowSubject,
  type EmitRow,
  type SubjectOf,
} from './feed-router.ts';
import { LOCAL_LAYOUTS, localWriter, mappingFileName, type LocalWriter } from './local-layouts.ts';
import {
  apcRows,
  ascRow,
  ecdsRow,
  gpEventRow,
  msdsBabyRow,
  msdsBookingRow,
  msdsDeliveryRow,
  opRow,
  patientBlock,
  previousAddressBlock,
  type PregnancyDetails,
  type Values,
} from './feed-rows.ts';
import {
  ACUTE_TRUSTS,
  COMMUNITY_TRUST,
  FIRE_SERVICE,
  MEMBER_ORGANISATIONS,
  MENTAL_HEALTH_TRUST,
  suppliesOf,
} from './organisations.ts';
import { NO_DAY, type Pregnancy } from './population.ts';
import { hashKey, hashUniform, Random } from './random.ts';
import { writeGpBaselines } from './gp-register-baseline.ts';
import { writeGpMedications, writeGpRegistrations, writeTruthRegistrations } from './gp-records.ts';
import { writeReference, writeTruthPeople } from './truth-writer.ts';
import { writeDistrictCouncils } from './district-council.ts';
import { dayOf, formatDay, parseMonth, type Month } from './synth-dates.ts';
import {
  ACUTE_KNOWN_AT_START,
  ASC_WITHOUT_NHS_NUMBER,
  COMMUNITY_KNOWN_SHARE_BY_BAND,
  FIRE_VISITS_PER_HOUSEHOLD,
  MATERNITY,
  MENTAL_HEALTH_KNOWN_SHARE_BY_BAND,
  PMI_CONTACT_MONTHLY,
  ageBand,
} from './synth-rates.ts';
import { CLINICAL_CODES, buildWorld, decileAt, laOfAddress, type World } from './world.ts';
import { buildStaff, esrRows, type Staff } from './workforce.ts';
import { writeOohCases } from './ooh-cases.ts';
import { writeCriticalCare } from './critical-care.ts';
import { MentalHealthAndCommunityFeeds } from './mh-community-feeds.ts';

export interface GenerateOptions {
  /** the folder to write; must be empty or absent unless `force` */
  out: string;
  people: number;
  seed: number;
  /** first month, 'YYYY-MM' */
  from: string;
  /** last month, 'YYYY-MM' */
  to: string;
  defectRates?: Partial<DefectRates>;
  /** known changes in a process from a month on (written to truth/changes.json) */
  changes?: ProcessChange[];
  force?: boolean;
  /** called after each month, for progress */
  onMonth?: (month: string, rows: number) => void;
}

/**
 * A change injected into the world from a month on, so that a chart can be shown to find a
 * real change (issue 17): from `from`, `share` of labours are induced (about 33% before),
 * taken from spontaneous onsets; caesareans before labour stay at 12%.
 */
export interface ProcessChange {
  kind: 'induction-of-labour';
  /** the first month changed, YYYY-MM */
  from: string;
  share: number;
}

export interface WorldSummary {
  out: string;
  people: number;
  peopleWithBirths: number;
  seed: number;
  from: string;
  to: string;
  files: number;
  rows: number;
  rowsByDataset: Record<string, number>;
  defectsByKind: Record<string, number>;
  organisations: number;
  practices: number;
  staff: number;
  seconds: number;
}

/** The largest population a world may have: Kent and Medway is about 1.9 million, so this leaves room to scale. */
export const MAX_PEOPLE = 5_000_000;

function usage(message: string, field: string, hint: string): KernelError {
  return new KernelError('usage', message, { where: { field }, hint });
}

/** The window's first or last month from its option, or a usage error naming the option. */
function windowMonth(
  text: string,
  which: 'first' | 'last',
  flag: '--from' | '--to',
  example: string,
): { year: number; month: number } {
  const month = parseMonth(text);
  if (!month)
    throw usage(
      `The ${which} month "${text}" is not a month`,
      flag,
      `Write months as YYYY-MM, e.g. ${example}`,
    );
  return month;
}

/** Checks options and answers the parsed window; every mistake is one clear KernelError. */
export function checkOptions(options: GenerateOptions): {
  from: { year: number; month: number };
  to: { year: number; month: number };
  rates: DefectRates;
} {
  if (!options.out) throw usage('No output folder given', '--out', 'Give --out DIR, a new or empty folder');
  if (!Number.isInteger(options.people) || options.people < 1 || options.people > MAX_PEOPLE) {
    throw usage(
      `The population "${options.people}" is not a whole number from 1 to ${MAX_PEOPLE.toLocaleString('en-GB')}`,
      '--people',
      'Give --people N, e.g. --people 20000',
    );
  }
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 2 ** 31) {
    throw usage(
      `The seed "${options.seed}" is not a whole number from 0 to 2147483648`,
      '--seed',
      'Give --seed S, e.g. --seed 1',
    );
  }
  const from = windowMonth(options.from, 'first', '--from', '2019-04');
  const to = windowMonth(options.to, 'last', '--to', '2021-07');
  if (to.year * 12 + to.month < from.year * 12 + from.month)
    throw usage(
      `The last month ${options.to} is before the first month ${options.from}`,
      '--to',
      'Give a --to on or after --from',
    );
  if (to.year * 12 + to.month - (from.year * 12 + from.month) >= 120)
    throw usage('The window is longer than ten years', '--to', 'Give at most 120 months');
  const rates: DefectRates = { ...DEFAULT_DEFECT_RATES };
  for (const [kind, rate] of Object.entries(options.defectRates ?? {})) {
    if (!(DEFECT_KINDS as readonly string[]).includes(kind))
      throw usage(`"${kind}" is not a defect kind`, 'defectRates', `Use one of ${DEFECT_KINDS.join(', ')}`);
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))
      throw usage(`The rate for ${kind} is not between 0 and 1`, 'defectRates', 'Give a rate from 0 to 1');
    rates[kind as DefectKind] = rate;
  }
  if (existsSync(options.out) && readdirSync(options.out).length > 0 && !options.force) {
    throw new KernelError('conflict', 'The output folder is not empty', {
      where: { file: options.out },
      hint: 'Choose a new folder, or add --force to write over it',
    });
  }
  for (const change of options.changes ?? []) {
    if (
      change.kind !== 'induction-of-labour' ||
      !parseMonth(change.from) ||
      !(change.share >= 0 && change.share <= 0.88)
    ) {
      throw usage(
        `The change ${JSON.stringify(change)} is not one the world can make`,
        'changes',
        'Give { kind: "induction-of-labour", from: "YYYY-MM", share: 0 to 0.88 }',
      );
    }
  }
  return { from, to, rates };
}

interface MonthState {
  /** bit per organisation index (ORG_BITS) a person had contact with this month */
  contacts: Uint8Array;
}

const ORG_BITS = [...ACUTE_TRUSTS, COMMUNITY_TRUST, MENTAL_HEALTH_TRUST];

export function generateWorld(options: GenerateOptions): WorldSummary {
  const started = Date.now();
  const { from, to, rates } = checkOptions(options);
  mkdirSync(options.out, { recursive: true });
  const world = buildWorld({ people: options.people, seed: options.seed, from, to });
  world.changes = (options.changes ?? []).map((c) => {
    const month = parseMonth(c.from) as { year: number; month: number };
    return { kind: c.kind, fromDay: dayOf(month.year, month.month, 1), share: c.share };
  });
  const { plans, specs } = cataloguePlans();

  // Which organisation supplies which dataset: our table, narrowed to what the catalogue holds.
  const supplied: [string, string][] = [];
  const orgs = [...MEMBER_ORGANISATIONS, ...world.practices.practices];
  for (const org of orgs) {
    for (const dataset of suppliesOf(org)) {
      const spec = specs.get(dataset);
      if (spec && spec.suppliers.includes(org.type)) supplied.push([org.code, dataset]);
    }
  }
  const suppliedSet = new Set(supplied.map(([o, d]) => `${o}/${d}`));

  const truthDir = path.join(options.out, 'truth');
  const records = new CsvFileWriter(path.join(truthDir, 'records.csv'), RECORD_COLUMNS);
  const defects = new CsvFileWriter(path.join(truthDir, 'defects.csv'), DEFECT_COLUMNS);
  // Two trusts' maternity systems export in layouts of their own, each with its source mapping.
  const layouts = new Map<string, LocalWriter>();
  for (const layout of LOCAL_LAYOUTS) {
    const { org, dataset } = layout.mapping;
    const spec = specs.get(dataset);
    if (!spec || !suppliedSet.has(`${org}/${dataset}`)) continue;
    layouts.set(`${org}/${dataset}`, localWriter(layout, spec));
    const file = path.join(options.out, 'mappings', mappingFileName(org, dataset));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(layout.mapping, null, 2)}\n`);
  }
  // Councils' feeds carry their own, higher identity error rates unless the caller set rates.
  const councilRates = new Map<string, DefectRates>(
    options.defectRates === undefined
      ? COUNCIL_DATASETS.map((d) => [d, { ...rates, ...COUNCIL_DEFECT_RATES }] as const)
      : [],
  );
  const router = new FeedRouter(
    options.out,
    options.seed,
    rates,
    plans,
    records,
    defects,
    layouts,
    councilRates,
  );
  const population = world.population;
  const known = new Uint8Array(population.count);
  for (let p = 0; p < population.count; p++) {
    if ((population.birth[p] ?? 0) >= world.window.start) continue;
    let bits = 0;
    ORG_BITS.forEach((_, i) => {
      if (i < ACUTE_TRUSTS.length && hashUniform(options.seed, 'pmi-known', p, i) < ACUTE_KNOWN_AT_START)
        bits |= 1 << i;
    });
    known[p] = bits;
  }
  const staff = buildStaff(world);
  const state: MonthState = { contacts: new Uint8Array(population.count) };
  const careFeeds = new MentalHealthAndCommunityFeeds(world, truthDir);

  const emit = (
    org: string,
    dataset: string,
    values: Values,
    subject: RowSubject,
    old?: () => Values | undefined,
  ): void => {
    if (!suppliedSet.has(`${org}/${dataset}`)) return;
    router.emit(org, dataset, values, subject, old);
  };
  const personSubject = (person: number, day: number, nhsRecorded = true): RowSubject => ({
    type: 'person',
    id: person,
    address: population.addressAt(person, day),
    nhsRecorded,
  });

  world.months.forEach((month, monthIndex) => {
    router.startMonth(month.label, supplied);
    state.contacts.fill(0);
    const rowsBefore = router.rows;
    for (let p = 0; p < population.count; p++) {
      if ((population.birth[p] ?? 0) > month.last || (population.death[p] ?? NO_DAY) < month.first) continue;
      const events = personMonth(world, p, month, monthIndex);
      for (const event of events) writeEvent(world, p, event, emit, personSubject, state, options.seed);
    }
    writeMaternity(world, month, emit, personSubject, state, options.seed);
    if (monthIndex === 0) {
      writeGpBaselines(world, month, emit, personSubject);
    }
    writePmi(world, month, monthIndex, emit, personSubject, state, known, options.seed);
    writeGpRegistrations(world, month, monthIndex, emit, personSubject);
    writeGpMedications(world, month, monthIndex, emit, personSubject);
    writeEsr(world, month, staff, emit, options.seed);
    writeFireVisits(world, month, monthIndex, emit, options.seed);
    writeOohCases(world, month, monthIndex, emit, personSubject, options.seed);
    careFeeds.writeMonth(month, monthIndex, emit, personSubject);
    writeDistrictCouncils(world, month, monthIndex, emit, personSubject);
    router.endMonth();
    options.onMonth?.(month.label, router.rows - rowsBefore);
  });
  records.close();
  defects.close();
  careFeeds.close();
  writeTruthPeople(world, staff, truthDir);
  writeTruthRegistrations(world, truthDir);
  writeFileSync(path.join(truthDir, 'changes.json'), `${JSON.stringify(options.changes ?? [], null, 2)}\n`);
  writeReference(world, path.join(options.out, 'reference'));

  return {
    out: options.out,
    people: options.people,
    peopleWithBirths: population.count,
    seed: options.seed,
    from: options.from,
    to: options.to,
    files: router.files,
    rows: router.rows,
    rowsByDataset: router.rowsByDataset,
    defectsByKind: Object.fromEntries(DEFECT_KINDS.map((kind) => [kind, router.defectsByKind[kind] ?? 0])),
    organisations: MEMBER_ORGANISATIONS.length,
    practices: world.practices.practices.length,
    staff: staff.length,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

function markContact(state: MonthState, person: number, org: string): void {
  const bit = ORG_BITS.indexOf(org);
  if (bit >= 0) state.contacts[person] = (state.contacts[person] ?? 0) | (1 << bit);
}

function writeSpell(
  world: World,
  person: number,
  spell: ApcSpell,
  emit: EmitRow,
  subject: SubjectOf,
  state: MonthState,
): void {
  for (const values of apcRows(world, person, spell))
    emit(spell.trust, 'apc', values, subject(person, spell.admit), () =>
      previousAddressBlock(world, person, spell.admit),
    );
  markContact(state, person, spell.trust);
}

function writeEvent(
  world: World,
  person: number,
  event: ActivityEvent,
  emit: EmitRow,
  subject: SubjectOf,
  state: MonthState,
  seed: number,
): void {
  switch (event.kind) {
    case 'apc':
      if (event.ed) {
        const ed = event.ed;
        emit(ed.trust, 'ecds', ecdsRow(world, person, ed), subject(person, ed.arrivalDay), () =>
          previousAddressBlock(world, person, ed.arrivalDay),
        );
      }
      writeSpell(world, person, event.spell, emit, subject, state);
      writeCriticalCare(world, person, event.spell, emit, subject, seed);
      break;
    case 'ed':
      emit(event.visit.trust, 'ecds', ecdsRow(world, person, event.visit), subject(person, event.day), () =>
        previousAddressBlock(world, person, event.day),
      );
      markContact(state, person, event.visit.trust);
      break;
    case 'op':
      emit(event.trust, 'op', opRow(world, person, event), subject(person, event.day), () =>
        previousAddressBlock(world, person, event.day),
      );
      markContact(state, person, event.trust);
      break;
    case 'gp': {
      const practice = world.practices.practices[event.practice]?.code ?? '';
      emit(practice, 'gp-events', gpEventRow(world, person, event), subject(person, event.day), () =>
        previousAddressBlock(world, person, event.day),
      );
      break;
    }
    case 'asc': {
      const withNhs = hashUniform(seed, 'asc-nhs', person) >= ASC_WITHOUT_NHS_NUMBER;
      emit(
        event.council,
        'asc',
        ascRow(world, person, event, withNhs),
        subject(person, event.day, withNhs),
        () => previousAddressBlock(world, person, event.day),
      );
      break;
    }
  }
}

/** Pregnancy details drawn once per pregnancy, so booking and delivery rows agree. */
export function pregnancyDetails(world: World, pregnancy: Pregnancy): PregnancyDetails {
  const r = new Random(world.seed, 'pregnancy', pregnancy.mother, pregnancy.delivery);
  const decile = decileAt(world, pregnancy.mother, pregnancy.delivery);
  const smokingBooking = r.chance(MATERNITY.smokingAtBookingByDecile[decile - 1] ?? 0.1);
  const smokingDelivery = smokingBooking
    ? r.chance(MATERNITY.smokingContinues)
    : r.chance(MATERNITY.smokingStarts);
  const onsetDraw = r.next();
  // An injected change moves the induced share; the same draw decides, so nothing else moves.
  const change = world.changes?.find(
    (c) => c.kind === 'induction-of-labour' && pregnancy.delivery >= c.fromDay,
  );
  const spontaneous = change ? 0.88 - change.share : 0.55;
  let onset = onsetDraw < spontaneous ? '1' : onsetDraw < 0.88 ? '3' : '5';
  let method: string;
  if (onset === '5') method = '7';
  else if (r.chance(MATERNITY.emergencyCaesareanInLabour)) method = '8';
  else if (r.chance(MATERNITY.instrumental / (1 - MATERNITY.emergencyCaesareanInLabour)))
    method = r.pick(['2', '3', '4', '4']);
  else if (r.chance(MATERNITY.breech)) method = '5';
  else method = r.chance(0.97) ? '0' : '1';
  if (pregnancy.babies > 1 && r.chance(0.5)) {
    onset = '5';
    method = '7';
  }
  const vaginal = Number(method) <= 6;
  const bloodLoss = Math.round(
    Math.exp(r.normal(Math.log(MATERNITY.pphMedianMl * (vaginal ? 1 : 1.6)), 0.72)),
  );
  const tear =
    vaginal && r.chance(MATERNITY.thirdFourthDegreeTear) ? (r.chance(0.9) ? '10217006' : '399031001') : '';
  const age = Math.floor((pregnancy.delivery - (world.population.birth[pregnancy.mother] ?? 0)) / 365.25);
  const previousLiveBirths = Math.max(0, Math.min(6, r.poisson(Math.max(0, (age - 22) / 8))));
  // Interventions in labour come from a stream of their own, so adding them left every
  // earlier draw (and every figure built on it) as it was.
  const labour = new Random(world.seed, 'labour-interventions', pregnancy.mother, pregnancy.delivery);
  const caesarean = method === '7' || method === '8';
  const instrumental = method === '2' || method === '3' || method === '4';
  const induced = onset === '3' || onset === '4' || onset === '5';
  const anaesthesia = caesarean
    ? labour.chance(0.08)
      ? 'G'
      : 'S'
    : labour.chance(MATERNITY.epidural + (induced ? 0.15 : 0))
      ? 'E'
      : labour.chance(0.02)
        ? '9'
        : 'N';
  return {
    smokingBooking,
    smokingDelivery,
    onset,
    method,
    bloodLoss,
    tear,
    previousCaesareans: previousLiveBirths > 0 && r.chance(0.2) ? 1 : 0,
    previousLiveBirths,
    episiotomy: vaginal && labour.chance(instrumental ? 0.7 : MATERNITY.episiotomy),
    anaesthesia,
    arom: onset !== '5' && labour.chance(MATERNITY.arom),
    oxytocin: onset !== '5' && !caesarean && labour.chance(MATERNITY.oxytocin + (induced ? 0.3 : 0)),
  };
}

function trustOf(world: World, person: number, day: number): string {
  return (
    world.geography.localAuthorities[laOfAddress(world, world.population.addressAt(person, day))]
      ?.acuteTrust ?? 'RWF'
  );
}

function writeMaternity(
  world: World,
  month: Month,
  emit: EmitRow,
  subject: SubjectOf,
  state: MonthState,
  _seed: number,
): void {
  const population = world.population;
  for (const pregnancy of population.pregnancies) {
    const booking = pregnancy.delivery - (pregnancy.gestation - pregnancy.bookingGestation);
    const bookingHere = booking >= month.first && booking <= month.last && booking >= world.window.start;
    const deliveryHere = pregnancy.delivery >= month.first && pregnancy.delivery <= month.last;
    if (!bookingHere && !deliveryHere) continue;
    const details = pregnancyDetails(world, pregnancy);
    const mother = pregnancy.mother;
    if (bookingHere && (population.death[mother] ?? NO_DAY) > booking) {
      const org = trustOf(world, mother, booking);
      emit(
        org,
        'msds-booking',
        msdsBookingRow(world, pregnancy, details, org, booking),
        subject(mother, booking),
        () => previousAddressBlock(world, mother, booking),
      );
      markContact(state, mother, org);
    }
    if (!deliveryHere || pregnancy.firstBaby < 0) continue;
    const org = trustOf(world, mother, pregnancy.delivery);
    emit(
      org,
      'msds-delivery',
      msdsDeliveryRow(world, pregnancy, details, org),
      subject(mother, pregnancy.delivery),
      () => previousAddressBlock(world, mother, pregnancy.delivery),
    );
    const r = new Random(world.seed, 'delivery-spell', mother, pregnancy.delivery);
    const caesarean = details.method === '7' || details.method === '8';
    const los = caesarean ? r.int(2, 4) : r.int(0, 2);
    const group = caesarean
      ? 'caesarean'
      : Number(details.method) >= 2 && Number(details.method) <= 4
        ? 'instrumental'
        : 'spontaneous';
    const motherSpell: ApcSpell = {
      trust: org,
      method: '31',
      source: '19',
      classification: '1',
      intended: '1',
      admit: pregnancy.delivery,
      admitTime: r.int(0, 1439),
      discharge: pregnancy.delivery + los,
      dischargeMethod: '1',
      dischargeDestination: '19',
      episodes: [{ start: pregnancy.delivery, end: pregnancy.delivery + los, treatmentFunction: '501' }],
      primaryDiagnosis: CLINICAL_CODES.deliveryDiagnoses[group],
      secondaryDiagnoses: ['Z370'],
      procedure: CLINICAL_CODES.deliveryProcedures[details.method] ?? 'R241',
      procedureDay: pregnancy.delivery,
      decidedToAdmit: -1,
    };
    writeSpell(world, mother, motherSpell, emit, subject, state);
    for (let b = 0; b < pregnancy.babies; b++) {
      const baby = pregnancy.firstBaby + b;
      const values = msdsBabyRow(world, pregnancy, details, org, baby, b + 1, world.seed);
      values.RPStartDate = formatDay(month.first);
      emit(org, 'msds-baby', values, subject(baby, pregnancy.delivery));
      const stillborn = population.death[baby] === pregnancy.delivery;
      const babyStay = stillborn
        ? 0
        : Math.min(los, Math.max(0, (population.death[baby] ?? NO_DAY) - pregnancy.delivery));
      writeSpell(
        world,
        baby,
        {
          ...motherSpell,
          method: '82',
          source: '79',
          admitTime: motherSpell.admitTime,
          discharge: pregnancy.delivery + babyStay,
          dischargeMethod: stillborn ? '5' : babyStay < los ? '4' : '1',
          dischargeDestination: stillborn || babyStay < los ? '79' : '19',
          episodes: [
            { start: pregnancy.delivery, end: pregnancy.delivery + babyStay, treatmentFunction: '420' },
          ],
          primaryDiagnosis: 'Z380',
          secondaryDiagnoses: [],
          procedure: '',
          procedureDay: -1,
        },
        emit,
        subject,
        state,
      );
    }
  }
}

function movedIn(world: World, person: number, month: Month): number {
  const household = world.population.household[person] ?? 0;
  const first = world.population.householdFirstAddress[household] ?? 0;
  const count = world.population.householdAddressCount[household] ?? 1;
  for (let a = first + 1; a < first + count; a++) {
    const from = world.population.addressFrom[a] ?? 0;
    if (from >= month.first && from <= month.last) return from;
  }
  return -1;
}

/**
 * The monthly PMI extract: a row for each patient an organisation registered (first
 * contact, birth, new practice) or whose record changed (new address, death) in the month.
 */
function writePmi(
  world: World,
  month: Month,
  monthIndex: number,
  emit: EmitRow,
  subject: SubjectOf,
  state: MonthState,
  known: Uint8Array,
  seed: number,
): void {
  const population = world.population;
  for (let p = 0; p < population.count; p++) {
    const birth = population.birth[p] ?? 0;
    const death = population.death[p] ?? NO_DAY;
    if (birth > month.last || death < month.first) continue;
    const moved = movedIn(world, p, month);
    const died = death >= month.first && death <= month.last ? death : -1;
    const born = birth >= month.first && birth <= month.last;
    const ageAtStart = Math.floor((world.window.start - birth) / 365.25);
    const band = ageBand(Math.max(0, ageAtStart));
    let contacts = state.contacts[p] ?? 0;
    if (
      hashUniform(seed, 'community', p) < (COMMUNITY_KNOWN_SHARE_BY_BAND[band] ?? 0) &&
      hashUniform(seed, 'community-contact', p, monthIndex) < PMI_CONTACT_MONTHLY.community
    ) {
      contacts |= 1 << ORG_BITS.indexOf(COMMUNITY_TRUST);
    }
    if (
      hashUniform(seed, 'mental-health', p) < (MENTAL_HEALTH_KNOWN_SHARE_BY_BAND[band] ?? 0) &&
      hashUniform(seed, 'mental-health-contact', p, monthIndex) < PMI_CONTACT_MONTHLY.mentalHealth
    ) {
      contacts |= 1 << ORG_BITS.indexOf(MENTAL_HEALTH_TRUST);
    }
    ORG_BITS.forEach((org, bit) => {
      const isKnown = ((known[p] ?? 0) >> bit) & 1;
      const contact = (contacts >> bit) & 1;
      let day = -1;
      if (contact && !isKnown) {
        day = Math.min(
          month.last,
          Math.max(month.first, birth) + (hashKey(seed, 'pmi-day', p, bit, monthIndex) % 28),
        );
        if (died >= 0) day = Math.min(day, died);
        known[p] = (known[p] ?? 0) | (1 << bit);
      } else if (isKnown && (moved >= 0 || died >= 0)) {
        day = died >= 0 ? died : moved;
      }
      if (day >= 0) {
        const values = patientBlock(world, p, day, org);
        values.Record_Date = formatDay(day);
        emit(org, 'pmi', values, subject(p, day), () => previousAddressBlock(world, p, day));
      }
    });
    // GP practices: registrations at birth and on moving to a new practice; updates otherwise.
    if (born || moved >= 0 || died >= 0) {
      const day = died >= 0 ? died : born ? Math.min(month.last, birth + 14) : moved;
      const practice =
        world.practices.practices[population.addressPractice[population.addressAt(p, day)] ?? 0]?.code ?? '';
      const values = patientBlock(world, p, day, practice);
      values.Record_Date = formatDay(day);
      emit(practice, 'pmi', values, subject(p, day), () => previousAddressBlock(world, p, day));
    }
  }
}

function writeEsr(world: World, month: Month, staff: readonly Staff[], emit: EmitRow, seed: number): void {
  for (let s = 0; s < staff.length; s++) {
    const member = staff[s] as Staff;
    for (const values of esrRows(member, month, seed, s))
      emit(member.org, 'esr', values, { type: 'staff', id: s, address: -1, nhsRecorded: false });
  }
}

function writeFireVisits(world: World, month: Month, monthIndex: number, emit: EmitRow, seed: number): void {
  const population = world.population;
  const oldest = oldestBirths(world);
  for (let h = 0; h < population.householdCount; h++) {
    const size = population.householdSize[h] ?? 1;
    const olderAlone = size === 1 && month.first - (oldest[h] ?? 0) >= 65 * 365.25;
    const rate = (olderAlone ? FIRE_VISITS_PER_HOUSEHOLD.olderAlone : FIRE_VISITS_PER_HOUSEHOLD.base) / 12;
    if (hashUniform(seed, 'fire', h, monthIndex) >= rate) continue;
    const r = new Random(seed, 'fire-visit', h, monthIndex);
    const day = r.int(month.first, month.last);
    const address = population.householdAddressAt(h, day);
    const postcode = world.geography.postcodes[population.addressPostcode[address] ?? 0];
    const values: Values = {
      Visit_ID: `KFRS${String(hashKey(seed, 'visit', h, monthIndex) % 100_000_000).padStart(8, '0')}`,
      UPRN: population.uprn(address),
      Address_Line_1: `${population.addressNumber[address] ?? 1} ${postcode?.street ?? ''}`,
      Address_Line_2: postcode?.town ?? '',
      Postcode: postcode?.pcds ?? '',
      Referral_Date: formatDay(day - r.int(3, 45)),
      Visit_Date: formatDay(day),
      Referral_Source: olderAlone
        ? r.pick(['health', 'social-care', 'family', 'targeted'])
        : r.pick(['self', 'targeted', 'other-partner', 'police']),
      Risk_Score: String(Math.max(0, Math.min(100, Math.round((olderAlone ? 55 : 30) + r.normal(0, 15))))),
      Occupants_Count: String(size),
      Smoke_Alarm_Fitted: r.chance(0.85) ? 'Y' : 'N',
      Occupant_Aged_65_Plus: month.first - (oldest[h] ?? 0) >= 65 * 365.25 ? 'Y' : 'N',
      Smoker_In_Household: r.chance(0.15) ? 'Y' : 'N',
    };
    const previous = address > (population.householdFirstAddress[h] ?? 0) ? address - 1 : -1;
    let old: Values | undefined;
    if (previous >= 0) {
      const pc = world.geography.postcodes[population.addressPostcode[previous] ?? 0];
      old = {
        Postcode: pc?.pcds ?? '',
        Address_Line_1: `${population.addressNumber[previous] ?? 1} ${pc?.street ?? ''}`,
        Address_Line_2: pc?.town ?? '',
        UPRN: population.uprn(previous),
      };
    }
    emit(
      FIRE_SERVICE,
      'fire-safety',
      values,
      { type: 'household', id: h, address, nhsRecorded: false },
      () => old,
    );
  }
}

const oldestCache = new WeakMap<World, Int32Array>();

function oldestBirths(world: World): Int32Array {
  let oldest = oldestCache.get(world);
  if (oldest) return oldest;
  const population = world.population;
  oldest = new Int32Array(population.householdCount).fill(NO_DAY);
  for (let p = 0; p < population.count; p++) {
    const h = population.household[p] ?? 0;
    if ((population.birth[p] ?? NO_DAY) < (oldest[h] ?? NO_DAY)) oldest[h] = population.birth[p] ?? NO_DAY;
  }
  oldestCache.set(world, oldest);
  return oldest;
}
