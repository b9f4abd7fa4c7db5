import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtKidStore,
  makeKidWorld,
  truthAddressOn,
  type KidWorld,
  type TruthPerson,
} from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { createAgreement } from '../governance/agreements.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { activateUseCase, approveUseCase, proposeUseCase } from '../governance/use-cases.ts';
import type { Store } from '../store/store.ts';
import { nationalFeedTable } from '../synth/world-feeds.ts';
import { HES_2018 } from '../analytics/disclosure-control.ts';
import {
  controlModelSummary,
  modelSummary,
  readModelSummary,
  readUnitCosts,
  SEGMENTS,
  UNIT_COSTS_FILE,
  windowStart,
  type UnitCostId,
} from './person-model.ts';

const DATASETS = [
  'pmi',
  'gp-events',
  'apc',
  'ecds',
  'op',
  'asc',
  'fire-safety',
  'msds-booking',
  'msds-delivery',
];
/** The model's date: the last day of the latest month of GP events loaded. */
const AS_OF = '2021-03-31';
const FROM = windowStart(AS_OF);

/** The synthetic world's condition names and the code list each falls in. */
const LIST_OF: Record<string, string> = {
  diabetes: 'diabetes',
  hypertension: 'hypertension',
  copd: 'copd',
  asthma: 'asthma',
  chd: 'chd',
  dementia: 'dementia',
};

/** What a person's row of the model should say, worked out here from the world's own files. */
interface Expected {
  ae: number;
  costAe: number;
  emergency: number;
  elective: number;
  bedDays: number;
  costEmergency: number;
  costElective: number;
  maternity: boolean;
  opAttended: number;
  opDnas: number;
  costOp: number;
  ascWeeks: number;
  costAsc: number;
  ascDisability: boolean;
  fire: number;
}

let world: KidWorld;
const expected = new Map<string, Expected>();
const costs = readUnitCosts();
const unit = (id: UnitCostId): number => costs.byId[id].cost;
const inWindow = (day: string): boolean => day >= FROM && day <= AS_OF;
const days = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/** Every row of one dataset's feeds in national column names, with the truth's person id. */
function feedRows(dataset: string): { person: number | null; row: Record<string, string> }[] {
  const worldDir = path.join(world.dir, 'world');
  const subject = new Map(
    world.records.filter((r) => r.dataset === dataset).map((r) => [`${r.org}/${r.period}#${r.line}`, r]),
  );
  const out: { person: number | null; row: Record<string, string> }[] = [];
  for (const org of readdirSync(path.join(worldDir, 'feeds'))) {
    let files: string[] = [];
    try {
      files = readdirSync(path.join(worldDir, 'feeds', org, dataset)).filter((f) => f.endsWith('.csv'));
    } catch {
      continue;
    }
    for (const file of files) {
      const { header, rows } = nationalFeedTable(worldDir, `feeds/${org}/${dataset}/${file}`);
      rows.forEach((cells, i) => {
        const record = subject.get(`${org}/${file.slice(0, 7)}#${i + 2}`);
        // Only rows whose sender held the NHS number carry a person token.
        const person = record?.nhsRecorded ? record.person : null;
        out.push({ person, row: Object.fromEntries(header.map((h, j) => [h, cells[j] ?? ''])) });
      });
    }
  }
  return out;
}

function expectedOf(token: string): Expected {
  let e = expected.get(token);
  if (!e) {
    e = {
      ae: 0,
      costAe: 0,
      emergency: 0,
      elective: 0,
      bedDays: 0,
      costEmergency: 0,
      costElective: 0,
      maternity: false,
      opAttended: 0,
      opDnas: 0,
      costOp: 0,
      ascWeeks: 0,
      costAsc: 0,
      ascDisability: false,
      fire: 0,
    };
    expected.set(token, e);
  }
  return e;
}

/** Works out every person's activity and cost from the world's feed files and the unit costs file. */
function workOutExpected(): void {
  const tokenOf = (person: number | null): string | null =>
    person === null ? null : (world.people[person]?.token ?? null);
  for (const { person, row } of feedRows('ecds')) {
    const token = tokenOf(person);
    if (!token || !inWindow(row.EC_Arrival_Date_Time?.slice(0, 10) ?? '')) continue;
    const e = expectedOf(token);
    e.ae++;
    e.costAe += unit(
      row.EC_Department_Type === '01'
        ? 'ae-type-1'
        : row.EC_Department_Type === '02'
          ? 'ae-type-2'
          : 'ae-type-3-4',
    );
  }
  const spells = new Map<string, { token: string; rows: Record<string, string>[] }>();
  for (const { person, row } of feedRows('apc')) {
    const token = tokenOf(person);
    if (!token) continue;
    const key = `${token}|${row.Provider_Code}|${row.Hospital_Provider_Spell_Number}`;
    spells.set(key, { token, rows: [...(spells.get(key)?.rows ?? []), row] });
  }
  for (const { token, rows } of spells.values()) {
    const first = rows[0] as Record<string, string>;
    const admitted = first.Admission_Date ?? '';
    if (!inWindow(admitted)) continue;
    const method = first.Admission_Method ?? '';
    const discharged = rows.map((r) => r.Discharge_Date ?? '').find((d) => d !== '') ?? AS_OF;
    const stay = days(admitted, discharged < AS_OF ? discharged : AS_OF);
    const e = expectedOf(token);
    if (method.startsWith('2')) {
      e.emergency++;
      e.bedDays += stay;
      e.costEmergency += unit(stay <= 1 ? 'emergency-short-stay' : 'emergency-long-stay');
    } else if (['11', '12', '13'].includes(method)) {
      e.elective++;
      e.bedDays += stay;
      e.costElective += unit(
        ['2', '3', '4'].includes(first.Patient_Classification ?? '')
          ? 'elective-day-case'
          : 'elective-inpatient',
      );
    }
    if (['31', '32', '82', '83', '2C'].includes(method)) e.maternity = true;
  }
  for (const { person, row } of feedRows('op')) {
    const token = tokenOf(person);
    if (!token || !inWindow(row.Appointment_Date ?? '')) continue;
    const e = expectedOf(token);
    const status = row.Attended_Or_Did_Not_Attend ?? '';
    if (status === '5' || status === '6') {
      e.opAttended++;
      e.costOp += unit(['1', '3'].includes(row.First_Attendance ?? '') ? 'op-first' : 'op-follow-up');
    }
    if (status === '3' || status === '7') e.opDnas++;
  }
  for (const { person, row } of feedRows('asc')) {
    const token = tokenOf(person);
    const start = row.Support_Start_Date ?? '';
    const end = row.Support_End_Date || AS_OF;
    if (!token || start > AS_OF || end < FROM) continue;
    const weeks = (days(start > FROM ? start : FROM, end < AS_OF ? end : AS_OF) + 1) / 7;
    const e = expectedOf(token);
    e.ascWeeks += weeks;
    e.costAsc += weeks * Number(row.Cost_Per_Week || 0);
    if (/^(learning-disability|physical-|sensory-)/.test(row.Primary_Support_Reason ?? ''))
      e.ascDisability = true;
  }
  for (const dataset of ['msds-booking', 'msds-delivery']) {
    const dateField = dataset === 'msds-booking' ? 'AntenatalAppDate' : 'DeliveryDate';
    for (const { person, row } of feedRows(dataset)) {
      const token = tokenOf(person);
      if (token && inWindow(row[dateField] ?? '')) expectedOf(token).maternity = true;
    }
  }
}

/** The people a fire visit on `day` to the household of `uprnToken` reaches, by the truth. */
function residentsOn(uprnToken: string, day: string): TruthPerson[] {
  return world.people.filter(
    (p) =>
      p.birthDate <= day &&
      (p.deathDate === null || p.deathDate >= day) &&
      truthAddressOn(world, p, day)?.uprnToken === uprnToken,
  );
}

const ageMonths = (p: TruthPerson, day: string): number =>
  Number(day.slice(0, 4)) * 12 +
  Number(day.slice(5, 7)) -
  Number(p.birthDate.slice(0, 4)) * 12 -
  Number(p.birthDate.slice(5, 7));

function truthConditions(p: TruthPerson, day: string): Set<string> {
  const names = [
    ...p.conditionsAtStart,
    ...(p.incident && p.incidentDate && p.incidentDate <= day ? [p.incident] : []),
  ];
  return new Set(names.map((n) => LIST_OF[n]).filter((n): n is string => n !== undefined));
}

beforeAll(async () => {
  world = await makeKidWorld({
    people: 600,
    from: '2020-01',
    to: '2021-03',
    datasets: DATASETS,
    defects: 'none',
  });
  workOutExpected();
}, 300_000);

describe('unit costs', () => {
  it('name their source and year, and a bad file is a clear error naming the field', () => {
    expect(costs.source).toMatch(/National Cost Collection/);
    expect(costs.costs.every((c) => c.year !== '')).toBe(true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-costs-'));
    const file = path.join(dir, 'unit-costs.json');
    const good = JSON.parse(JSON.stringify({ ...costs, byId: undefined })) as { costs: object[] };
    writeFileSync(file, JSON.stringify({ ...good, source: '' }));
    expect(() => readUnitCosts(file)).toThrow(/does not name its source/);
    writeFileSync(file, JSON.stringify({ ...good, costs: good.costs.slice(1) }));
    expect(() => readUnitCosts(file)).toThrow(/has no cost for ae-type-1/);
    writeFileSync(
      file,
      JSON.stringify({ ...good, costs: good.costs.map((c, i) => (i === 0 ? { ...c, cost: 'free' } : c)) }),
    );
    let error: unknown;
    try {
      readUnitCosts(file);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'invalid-input',
      where: { file, field: 'costs[0].cost' },
      hint: expect.stringContaining('docs/kid.md'),
    });
    writeFileSync(file, '{ not json');
    expect(() => readUnitCosts(file)).toThrow(/is not JSON/);
    expect(readUnitCosts(UNIT_COSTS_FILE).costs.length).toBe(costs.costs.length);
  });
});

describe.each(testStores())('the person-level model on $engine', (engine) => {
  let store: Store;
  let rows: Map<string, Record<string, unknown>>;
  beforeAll(async () => {
    store = await builtKidStore(engine, world);
    rows = new Map(
      (await store.query('SELECT * FROM kid_person_model')).map((r) => [String(r.person_token), r]),
    );
  }, 300_000);
  afterAll(async () => {
    await store.close();
  });

  it('holds everyone in the population on its date, and everyone who died in the 12 months before', () => {
    const alive = world.people.filter(
      (p) => p.birthDate <= AS_OF && (p.deathDate === null || p.deathDate > AS_OF),
    );
    const died = world.people.filter((p) => p.deathDate !== null && inWindow(p.deathDate));
    expect(died.length).toBeGreaterThan(0);
    expect(rows.size).toBe(alive.length + died.length);
    for (const p of [...alive, ...died]) {
      const row = rows.get(p.token);
      expect(row, 'in the model').toBeDefined();
      expect(row?.as_of).toBe(AS_OF);
      expect(row?.death_date ?? null).toBe(
        p.deathDate !== null && inWindow(p.deathDate) ? p.deathDate : null,
      );
      const day = (row?.death_date as string | null) ?? AS_OF;
      const age = Math.floor(ageMonths(p, day) / 12);
      expect(row?.age).toBe(age);
      expect(row?.age_band).toBe(age >= 90 ? '90+' : `${age - (age % 5)}-${age - (age % 5) + 4}`);
      const address = truthAddressOn(world, p, day);
      expect(row?.lsoa_code).toBe(address?.lsoa);
      expect(row?.practice_code).toBe(address?.practice);
      const decile = world.imdDecile.get(address?.lsoa ?? '');
      expect(row?.imd_decile).toBe(decile);
      expect(row?.imd_quintile).toBe(Math.ceil((decile ?? 0) / 2));
      const conditions = truthConditions(p, day).size;
      expect(row?.conditions).toBe(conditions);
      expect(row?.multimorbidity).toBe(conditions >= 2);
      expect(row?.complex_multimorbidity).toBe(conditions >= 4);
      expect(row?.pcn_code).toBeNull();
      expect(row?.community_contacts).toBeNull();
      expect(row?.mh_contacts).toBeNull();
    }
  });

  it('counts and costs each person\u2019s activity in the 12 months as the world\u2019s files say', () => {
    let checked = 0;
    for (const [token, row] of rows) {
      const e = expected.get(token) ?? expectedOf(token);
      expect(row.ae_attendances, 'A&E').toBe(e.ae);
      expect(row.cost_ae, 'A&E cost').toBeCloseTo(e.costAe, 6);
      expect(row.emergency_admissions, 'emergency').toBe(e.emergency);
      expect(row.elective_admissions, 'elective').toBe(e.elective);
      expect(row.bed_days, 'bed days').toBe(e.bedDays);
      expect(row.cost_emergency).toBeCloseTo(e.costEmergency, 6);
      expect(row.cost_elective).toBeCloseTo(e.costElective, 6);
      expect(row.op_attendances, 'outpatients').toBe(e.opAttended);
      expect(row.op_dnas, 'DNAs').toBe(e.opDnas);
      expect(row.cost_op).toBeCloseTo(e.costOp, 6);
      expect(row.asc_weeks as number, 'social care weeks').toBeCloseTo(e.ascWeeks, 6);
      expect(row.cost_asc as number, 'social care cost').toBeCloseTo(e.costAsc, 4);
      const total = e.costAe + e.costEmergency + e.costElective + e.costOp + e.costAsc;
      expect(row.cost_total as number).toBeCloseTo(total, 4);
      if (total > 0) checked++;
    }
    // The world has activity in every setting.
    const sum = (f: (e: Expected) => number): number => [...expected.values()].reduce((n, e) => n + f(e), 0);
    for (const f of [
      (e: Expected) => e.ae,
      (e: Expected) => e.emergency,
      (e: Expected) => e.elective,
      (e: Expected) => e.opAttended,
      (e: Expected) => e.opDnas,
      (e: Expected) => e.ascWeeks,
    ])
      expect(sum(f)).toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(20);
  });

  it('links fire home-safety visits in the 12 months to the people living there', async () => {
    const visits = await store.query<{ uprn_token: string; day: string }>(
      `SELECT uprn_token, CAST("Visit_Date" AS TEXT) AS day FROM ds_fire_safety
       WHERE uprn_token IS NOT NULL AND "Visit_Date" BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE)`,
      [FROM, AS_OF],
    );
    const reached = new Map<string, number>();
    for (const v of visits)
      for (const p of residentsOn(v.uprn_token, v.day)) reached.set(p.token, (reached.get(p.token) ?? 0) + 1);
    expect(reached.size).toBeGreaterThan(0);
    for (const [token, row] of rows) expect(row.fire_visits, 'fire visits').toBe(reached.get(token) ?? 0);
  });

  it('puts each person in the first segment whose written rule holds', () => {
    const seen = new Map<string, number>();
    for (const p of world.people) {
      const row = rows.get(p.token);
      if (!row) continue;
      const day = (row.death_date as string | null) ?? AS_OF;
      const e = expected.get(p.token) ?? expectedOf(p.token);
      const conditions = truthConditions(p, day);
      const age = Math.floor(ageMonths(p, day) / 12);
      // The rules of docs/kid.md, "Segments", in their order; the world has no frailty index
      // on this branch's build, no heart failure, learning disability or cancer diagnoses.
      const segment =
        row.death_date !== null
          ? 'decline-before-dying'
          : conditions.has('copd')
            ? 'organ-failure'
            : conditions.has('dementia')
              ? 'frailty-dementia'
              : e.ascDisability && age < 65
                ? 'disability'
                : e.emergency > 0
                  ? 'serious-curable'
                  : conditions.size > 0
                    ? 'chronic-conditions'
                    : e.maternity || ageMonths(p, day) < 12
                      ? 'maternal-infant'
                      : 'healthy-well';
      expect(row.segment, `segment of a person aged ${age}`).toBe(segment);
      seen.set(segment, (seen.get(segment) ?? 0) + 1);
    }
    for (const segment of [
      'decline-before-dying',
      'organ-failure',
      'frailty-dementia',
      'serious-curable',
      'chronic-conditions',
      'maternal-infant',
      'healthy-well',
    ])
      expect(seen.get(segment), segment).toBeGreaterThan(0);
    expect(SEGMENTS.map((s) => s.id)).toContain('disability');
  });

  it('sums to a summary by segment, and leaves opted-out people out of planning reads', async () => {
    const summary = await modelSummary(store);
    expect(summary.asOf).toBe(AS_OF);
    expect(summary.people).toBe(rows.size);
    expect(summary.bySegment.reduce((n, s) => n + s.people, 0)).toBe(rows.size);
    const total = [...rows.values()].reduce((n, r) => n + Number(r.cost_total), 0);
    expect(summary.costTotal).toBeCloseTo(total, 2);
    expect(summary.cost.community).toBeNull();
    expect(summary.activity.ae_attendances).toBe([...expected.values()].reduce((n, e) => n + e.ae, 0));

    const practices = [...new Set(world.addresses.map((a) => a.practice))].filter(Boolean);
    const orgs = (
      await store.query<{ org_code: string }>(`SELECT DISTINCT org_code FROM loads WHERE status = 'loaded'`)
    ).map((r) => r.org_code);
    const datasets = [
      ...new Set([
        'pmi',
        'gp-events',
        'apc',
        'ecds',
        'op',
        'asc',
        'fire-safety',
        'msds-booking',
        'msds-delivery',
      ]),
    ];
    for (const org of orgs)
      await createAgreement(store, { org, datasets, from: '2019-04', to: '2030-03' }, 'test');
    const proposed = await proposeUseCase(
      store,
      {
        title: 'KID model planning',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
        datasets,
        controllers: orgs,
        users: ['role:analyst'],
        start: '2021-04-01',
        end: '2099-03-31',
      },
      'test',
    );
    for (const org of orgs) await approveUseCase(store, proposed.id, org, 'test');
    await activateUseCase(store, proposed.id, 'test');
    expect(practices.length).toBeGreaterThan(0);

    const optedOut = [...rows.keys()].filter((_, i) => i % 4 === 0);
    await loadOptOutTokens(store, optedOut, 'test list', 'test');
    const analyst = { id: 'u-analyst', role: 'analyst', org: null };
    const planned = await readModelSummary(store, { user: analyst, useCaseId: proposed.id });
    expect(planned.people).toBe(rows.size - optedOut.length);
    const left = [...rows.entries()].filter(([t]) => !optedOut.includes(t));
    expect(planned.costTotal).toBeCloseTo(
      left.reduce((n, [, r]) => n + Number(r.cost_total), 0),
      2,
    );
    const published = controlModelSummary(planned, HES_2018);
    for (const s of published.bySegment)
      expect(s.people === '*' ? s.costTotal === '*' : typeof s.costTotal === 'number').toBe(true);
    const [audited] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM audit_events WHERE action = 'data.read' AND target LIKE 'kid:%activity%'`,
    );
    expect(Number(audited?.n)).toBe(1);
  });
});
