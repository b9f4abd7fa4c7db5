import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ageInMonthsOn,
  kidWorldForFile,
  openWorldForSuite,
  truthAddressOn,
  truthConditionsOn,
  type TruthPerson,
} from '../../test/kid-world.ts';
import { testStores, openForSuite } from '../../test/stores.ts';
import { runCli } from '../../test/cli.ts';
import { kidApiForAnalyst } from '../../test/kid-api.ts';
import { buildSpine } from './person-spine.ts';
import { modelSummarySchema } from './kid-schemas.ts';
import { createAgreement } from '../governance/agreements.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { activateUseCase, approveUseCase, proposeUseCase } from '../governance/use-cases.ts';
import type { Store } from '../store/store.ts';
import { nationalFeedTable } from '../synth/world-feeds.ts';
import { HES_2018 } from '../analytics/disclosure-control.ts';
import {
  buildPersonModel,
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

const world = kidWorldForFile({
  people: 600,
  from: '2020-01',
  to: '2021-03',
  datasets: DATASETS,
  defects: 'none',
  timeout: 300_000,
});
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
    // CLD: only Service events are weeks of support; any event's support reason counts
    const weeks =
      row.Event_Type === 'Service'
        ? (days(start > FROM ? start : FROM, end < AS_OF ? end : AS_OF) + 1) / 7
        : 0;
    const e = expectedOf(token);
    e.ascWeeks += weeks;
    e.costAsc += weeks * Number(row.Cost_Per_Week || 0);
    if (/^(Learning disability|Physical support|Sensory support)/.test(row.Primary_Support_Reason ?? ''))
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

beforeAll(() => workOutExpected());

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
  const suite = openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });
  beforeAll(async () => {
    rows = new Map(
      (await store.query('SELECT * FROM kid_person_model')).map((r) => [String(r.person_token), r]),
    );
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
      const age = Math.floor(ageInMonthsOn(p, day) / 12);
      expect(row?.age).toBe(age);
      expect(row?.age_band).toBe(age >= 90 ? '90+' : `${age - (age % 5)}-${age - (age % 5) + 4}`);
      const address = truthAddressOn(world, p, day);
      expect(row?.lsoa_code).toBe(address?.lsoa);
      expect(row?.practice_code).toBe(address?.practice);
      const decile = world.imdDecile.get(address?.lsoa ?? '');
      expect(row?.imd_decile).toBe(decile);
      expect(row?.imd_quintile).toBe(Math.ceil((decile ?? 0) / 2));
      const conditions = truthConditionsOn(p, day).size;
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
      // to the penny
      const costAsc = Math.round(e.costAsc * 100) / 100;
      expect(row.cost_asc as number, 'social care cost').toBeCloseTo(costAsc, 6);
      const total = e.costAe + e.costEmergency + e.costElective + e.costOp + costAsc;
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

  it('puts each person in the first segment whose written rule holds', async () => {
    // The eFI category is the frailty build's (src/kid/frailty.int.test.ts checks it against
    // the truth): the model carries it for everyone aged 65+ on its date, and no one else.
    const efi = new Map(
      (
        await store.query<{ person_token: string; category: string }>(
          'SELECT person_token, category FROM kid_spine_frailty',
        )
      ).map((r) => [r.person_token, r.category]),
    );
    expect(efi.size).toBeGreaterThan(0);
    for (const [token, row] of rows) expect(row.efi_category ?? null, 'eFI').toBe(efi.get(token) ?? null);
    const seen = new Map<string, number>();
    for (const p of world.people) {
      const row = rows.get(p.token);
      if (!row) continue;
      const day = (row.death_date as string | null) ?? AS_OF;
      const e = expected.get(p.token) ?? expectedOf(p.token);
      const conditions = truthConditionsOn(p, day);
      const age = Math.floor(ageInMonthsOn(p, day) / 12);
      // The rules of docs/kid.md, "Segments", in their order; the world has no heart
      // failure, learning disability or cancer diagnoses.
      const segment =
        row.death_date !== null
          ? 'decline-before-dying'
          : conditions.has('copd')
            ? 'organ-failure'
            : conditions.has('dementia') || ['moderate', 'severe'].includes(efi.get(p.token) ?? '')
              ? 'frailty-dementia'
              : e.ascDisability && age < 65
                ? 'disability'
                : e.emergency > 0
                  ? 'serious-curable'
                  : conditions.size > 0
                    ? 'chronic-conditions'
                    : e.maternity || ageInMonthsOn(p, day) < 12
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
    expect(seen.get('disability')).toBeGreaterThan(0);
    expect([...seen.keys()].sort()).toEqual(SEGMENTS.map((s) => s.id).sort());
    if (process.env.KERNEL_TEST_PRINT) console.log(JSON.stringify([...seen]));
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
    const datasets = [...DATASETS];
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

    // The API: the same read, every count controlled; the use case is required.
    const get = await kidApiForAnalyst(store, 'model');
    const response = await get(`?useCase=${proposed.id}`);
    expect(response.status).toBe(200);
    const body = modelSummarySchema.parse(await response.json());
    expect(body.asOf).toBe(AS_OF);
    expect(body.people).toBe(controlModelSummary(planned, HES_2018).people);
    const counts = [body.people, ...body.bySegment.map((s) => s.people)];
    expect(counts.every((n) => n === '*' || n % 5 === 0)).toBe(true);
    expect((await get('')).status).toBe(400);
  });

  it('is not read twice after a build that died before its swap', async () => {
    // A dead build leaves rows under the next version number, which the next build reuses.
    await store.run(
      `INSERT INTO kid_frailty (version, person_token, deficits, efi, category, as_of)
       SELECT version + 1, person_token, deficits, efi, category, as_of FROM kid_spine_frailty`,
    );
    await buildSpine(store, { full: true });
    const [counts] = await store.query<{ n: number; people: number }>(
      'SELECT count(*) AS n, count(DISTINCT person_token) AS people FROM kid_person_model',
    );
    expect({ n: Number(counts?.n), people: Number(counts?.people) }).toEqual({
      n: rows.size,
      people: rows.size,
    });
  });

  it('is summarised by kernel kid model and mentioned by kernel kid status', async () => {
    const summary = await modelSummary(store);
    await suite.whileClosed(async (flags) => {
      const json = await runCli(['kid', 'model', '--json', ...flags]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(summary)));
      const text = await runCli(['kid', 'model', ...flags]);
      expect(text.stdout).toContain('Short period of decline before dying');
      expect(text.stdout).toContain(`The 12 months to ${AS_OF}`);
      const status = await runCli(['kid', 'status', ...flags]);
      expect(status.stdout).toContain(`Person-level model on ${AS_OF}: ${summary.people} people`);
    });
  });
});

describe.each(testStores())('segments on constructed people on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('gives each person the most severe segment whose rule holds, in the written order', async () => {
    // Hand-made people of spine version 1: token, birth month, death date, conditions
    // (condition:first coded), eFI category, and the segment the rules give.
    const people: [string, string, string | null, string[], string | null, string][] = [
      [
        'died',
        '1940-01',
        '2021-01-10',
        ['dementia:2015-01-01', 'heart-failure:2016-01-01'],
        'severe',
        'decline-before-dying',
      ],
      ['died-before', '1940-01', '2020-03-01', [], null, '(not in the model)'],
      [
        'heart',
        '1950-01',
        null,
        ['heart-failure:2018-01-01', 'dementia:2019-01-01'],
        'severe',
        'organ-failure',
      ],
      ['copd', '1980-06', null, ['copd:2018-01-01'], null, 'organ-failure'],
      [
        'dementia',
        '1945-01',
        null,
        ['dementia:2019-01-01', 'learning-disability:2000-01-01'],
        'fit',
        'frailty-dementia',
      ],
      ['frail', '1938-01', null, ['hypertension:2010-01-01'], 'moderate', 'frailty-dementia'],
      ['mild', '1938-01', null, ['hypertension:2010-01-01'], 'mild', 'chronic-conditions'],
      ['ld', '1990-01', null, ['learning-disability:2005-01-01', 'cancer:2020-06-01'], null, 'disability'],
      ['new-cancer', '1960-01', null, ['cancer:2020-06-01', 'asthma:2001-01-01'], null, 'serious-curable'],
      ['old-cancer', '1960-01', null, ['cancer:2019-06-01'], null, 'chronic-conditions'],
      ['later', '1970-01', null, ['diabetes:2021-04-15'], null, 'healthy-well'],
      ['infant', '2020-06', null, [], null, 'maternal-infant'],
      ['toddler', '2019-06', null, [], null, 'healthy-well'],
    ];
    for (const [token, born, died, conditions, efi] of people) {
      await store.run(
        `INSERT INTO kid_person (version, person_token, sex, birth_year_month, death_date, ethnic_category,
                                 first_seen, gp_registered, sources)
         VALUES (1, $1, '2', $2, CAST($3 AS DATE), 'A', CAST('2010-01-01' AS DATE), TRUE, 1)`,
        [token, born, died],
      );
      await store.run(
        `INSERT INTO kid_registration (version, person_token, practice_code, from_date, to_date)
         VALUES (1, $1, 'G82001', CAST('2000-01-01' AS DATE), NULL)`,
        [token],
      );
      for (const c of conditions) {
        const [condition = '', first = ''] = c.split(':');
        await store.run(
          `INSERT INTO kid_condition (version, person_token, condition, first_date) VALUES (1, $1, $2, CAST($3 AS DATE))`,
          [token, condition, first],
        );
      }
      if (efi)
        await store.run(
          `INSERT INTO kid_frailty (version, person_token, deficits, efi, category, as_of)
           VALUES (1, $1, 0, 0, $2, CAST($3 AS DATE))`,
          [token, efi, AS_OF],
        );
    }
    const build = await buildPersonModel(store, 1, { asOf: AS_OF });
    expect(build.sources.used).toEqual([]);
    expect(build.people).toBe(people.length - 1);
    const rows = await store.query<{ person_token: string; segment: string; efi_category: string | null }>(
      'SELECT person_token, segment, efi_category FROM kid_model WHERE version = 1',
    );
    const segmentOf = new Map(rows.map((r) => [r.person_token, r.segment]));
    for (const [token, , , , efi, segment] of people) {
      expect(segmentOf.get(token) ?? '(not in the model)', token).toBe(segment);
      if (segmentOf.has(token))
        expect(rows.find((r) => r.person_token === token)?.efi_category ?? null).toBe(efi);
    }
    // Without the datasets, activity is unknown (null), not zero.
    const [row] = await store.query<{ ae: number | null; total: number }>(
      `SELECT ae_attendances AS ae, cost_total AS total FROM kid_model WHERE person_token = 'heart'`,
    );
    expect(row).toEqual({ ae: null, total: 0 });
  });
});
