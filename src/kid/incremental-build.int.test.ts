/**
 * An incremental build of the Kent Integrated Dataset equals a full build of the same inputs
 * (docs/kid.md, "Building it"), on both engines: months loaded and built; then one more month
 * loaded together with a corrected resend of an earlier month (which supersedes the first
 * load of it, some people's records going and others changing); built incrementally; then
 * every kid_* table's current version compared row for row with a full build of the same store.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKidWorld, type KidWorld } from '../../test/kid-world.ts';
import { watchStatistics, type StatisticsSeen } from '../../test/planner-statistics.ts';
import { testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { buildSpine, type SpineBuild } from './person-spine.ts';
import {
  ALL_VERSION_RANGED_TABLES,
  VERSION_RANGED_TABLES,
  definitionsDigest,
  planBuild,
} from './incremental-build.ts';
import { inVersion } from '../store/version-range.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { tableColumns } from '../store/table-columns.ts';
import { setFeedSchedule } from '../signoff/feed-schedules.ts';
import { heldBackNote } from './model-date.ts';
import { spineStatus } from './person-spine.ts';
import { refitRisk } from './risk.ts';

const DATASETS = ['pmi', 'asc', 'gp-events', 'apc', 'ecds', 'op', 'fire-safety'];
const FROM = '2020-01';
const LAST = '2021-02';
/**
 * The month resent, corrected, with the last: the first, when the GP practices sent their
 * whole lists, so the people whose records the correction drops lose a registration (or
 * leave the spine), which only the superseded load's record of them can say.
 */
const RESENT = FROM;

/** Bookkeeping of a build, not its content: which loads it read and whom it rebuilt. */
const NOT_COMPARED = new Set([
  'kid_builds',
  'kid_current',
  'kid_build_loads',
  'kid_build_scope',
  'kid_model_scope',
  'kid_linkage_scope',
]);
/** Tables whose rows are kept by a range of versions: `version` is when a row was written. */
const VERSION_RANGED: ReadonlySet<string> = new Set(ALL_VERSION_RANGED_TABLES);
/** Columns that say when and in which version a fit was made, not what it is. */
const FIT_PROVENANCE = new Set(['version', 'fitted_at', 'fitted_in_version', 'reason']);

let world: KidWorld;
const RESENT_FEEDS = ['pmi', 'gp-events', 'ecds'].flatMap((dataset) =>
  ['Y99001', 'Y99002', 'RWF'].map((org) => ({ org, dataset })),
);
const feedFile = (org: string, dataset: string): string =>
  path.join(world.dir, 'world', 'feeds', org, dataset, `${RESENT}.csv`);

beforeAll(async () => {
  world = await makeKidWorld({ people: 1500, from: FROM, to: LAST, datasets: DATASETS, defects: 'default' });
  // The corrected resend of RESENT: two GP practices' PMI and gp-events of that month, and a
  // hospital's A&E, each losing every fourth record.
  for (const { org, dataset } of RESENT_FEEDS) {
    const file = feedFile(org, dataset);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const [header, ...lines] = text.trimEnd().split('\n');
    writeFileSync(`${file}.original`, text);
    writeFileSync(`${file}.corrected`, [header, ...lines.filter((_, i) => i % 4 !== 1)].join('\n') + '\n');
  }
}, 300_000);

/** Makes the world's RESENT files the original or the corrected ones; the agent makes them afresh. */
function useFiles(kind: 'original' | 'corrected'): void {
  for (const { org, dataset } of RESENT_FEEDS) {
    const file = feedFile(org, dataset);
    if (!existsSync(`${file}.${kind}`)) continue;
    writeFileSync(file, readFileSync(`${file}.${kind}`));
    rmSync(path.join(world.dir, 'outbox', org, dataset, `${RESENT}.csv.manifest.json`), { force: true });
  }
}

/** Every month before the last, as first sent. */
async function loadBeforeLast(store: Store): Promise<void> {
  useFiles('original');
  await world.load(
    store,
    DATASETS,
    () => true,
    (period) => period < LAST,
  );
}

/** Every kid_* table's rows of the current version, sorted, keyed by table. */
async function currentRows(store: Store): Promise<Map<string, string[]>> {
  const tables = await store.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
       AND c.table_name LIKE 'kid\\_%' ESCAPE '\\' AND c.column_name = 'version'`,
  );
  const out = new Map<string, string[]>();
  for (const { table_name: table } of tables) {
    if (NOT_COMPARED.has(table)) continue;
    const rows = await store.query(
      `SELECT t.* FROM ${table} t JOIN kid_current c ON c.id = 1 AND ${
        VERSION_RANGED.has(table) ? inVersion('t', 'c.version') : 't.version = c.version'
      }`,
    );
    out.set(
      table,
      rows
        .map((row) =>
          JSON.stringify(
            Object.entries(row)
              .filter(
                ([column]) =>
                  column !== 'version' &&
                  column !== 'retired' &&
                  !(table === 'kid_risk_fit' && FIT_PROVENANCE.has(column)),
              )
              .map(([column, value]) => [
                column,
                // The packed area summary's key begins with its version.
                column === 'area_key'
                  ? String(value).replace(/^\d+\|/, '')
                  : (value as unknown) instanceof Date
                    ? (value as unknown as Date).toISOString().slice(0, 10)
                    : String(value),
              ]),
          ),
        )
        .sort(),
    );
  }
  return out;
}

/** Replaces the opt-out list with the people whose token begins with one of `first` (a hex digit each). */
async function optOut(store: Store, first: string): Promise<void> {
  const tokens = await store.query<{ person_token: string }>(
    `SELECT DISTINCT person_token FROM ds_pmi WHERE substr(person_token, 1, 1) IN (${[...first].map((c) => `'${c}'`).join(', ')})`,
  );
  await loadOptOutTokens(
    store,
    tokens.map((t) => t.person_token),
    'test',
    'test',
  );
}

/** The current version's conditions, a row a person, condition and first date. */
async function conditionRows(store: Store): Promise<Set<string>> {
  const rows = await store.query<{ row: string }>(
    `SELECT person_token || '|' || condition || '|' || CAST(first_date AS TEXT) AS row FROM kid_condition_current`,
  );
  return new Set(rows.map((r) => String(r.row)));
}

/** The current version's people as readers see them (the view), sorted. */
async function spineView(store: Store): Promise<string[]> {
  const rows = await store.query(
    'SELECT person_token, sex, birth_year_month, death_date, gp_registered FROM kid_spine_person',
  );
  return rows.map((row) => JSON.stringify(Object.values(row).map(String))).sort();
}

/**
 * What a build that died before its swap leaves: a sample of people's rows in every
 * version-ranged table retired by the next version, and rows of that version written for them
 * (made different, so reading them would show).
 */
async function dieBeforeSwap(store: Store): Promise<void> {
  const [current] = await store.query<{ v: number }>('SELECT version AS v FROM kid_current');
  const next = Number(current?.v) + 1;
  await store.run('INSERT INTO kid_builds (version, mode, started_at) VALUES ($1, $2, $3)', [
    next,
    'incremental',
    new Date().toISOString(),
  ]);
  for (const table of ALL_VERSION_RANGED_TABLES) {
    const columns = (await tableColumns(store, table)).filter((c) => c !== 'version' && c !== 'retired');
    await store.run(
      `UPDATE ${table} SET retired = $1
       WHERE retired IS NULL AND person_token IN (
         SELECT person_token FROM kid_person WHERE version < $1 ORDER BY person_token LIMIT 40)`,
      [next],
    );
    await store.run(
      `INSERT INTO ${table} (version, ${columns.join(', ')})
       SELECT $1, ${columns.map((c) => (c === 'sex' ? "'X'" : c)).join(', ')} FROM ${table} WHERE retired = $1`,
      [next],
    );
  }
}

/**
 * Builds the store in full after the incremental build that made its current version, and
 * expects every kid_* table's rows of the two versions to be equal.
 */
async function compareWithFullBuild(
  store: Store,
  today?: Date,
): Promise<{ full: SpineBuild; fullRows: Map<string, string[]> }> {
  const incrementalRows = await currentRows(store);
  const full = await buildSpine(store, { full: true, actor: 'test', ...(today ? { today } : {}) });
  const fullRows = await currentRows(store);
  expect([...incrementalRows.keys()].sort()).toEqual([...fullRows.keys()].sort());
  for (const [table, rows] of fullRows) expect(incrementalRows.get(table), table).toEqual(rows);
  return { full, fullRows };
}

describe.each(testStores())('an incremental KID build on $engine', (engine) => {
  let store: Store;
  let first: SpineBuild;
  let incremental: SpineBuild;
  let statistics: Map<string, StatisticsSeen> | undefined;
  beforeAll(async () => {
    store = await engine.open();
    await loadBeforeLast(store);
    first = await buildSpine(store, { actor: 'test' });
    useFiles('corrected');
    await world.load(
      store,
      DATASETS,
      () => true,
      (period) => period === LAST || period === RESENT,
    );
    // PostgreSQL plans from the statistics it last gathered: what they knew of the scope when
    // the statements that join it were sent.
    const watched =
      engine.engine === 'postgres'
        ? watchStatistics(
            store,
            ['INSERT INTO kid_condition', 'INSERT INTO kid_linkage_load', 'INSERT INTO kid_area_summary'],
            ['kid_build_scope', 'kid_linkage_scope', 'kid_model'],
          )
        : null;
    incremental = await buildSpine(watched?.store ?? store, { actor: 'test' });
    statistics = watched?.seen;
  }, 600_000);
  afterAll(async () => {
    await store.close();
  });

  it.runIf(engine.engine === 'postgres')(
    'knows the scope when the rebuilt people\u2019s conditions and linkage counts join it, and the model when the summary counts it',
    () => {
      for (const statement of ['INSERT INTO kid_condition', 'INSERT INTO kid_linkage_load']) {
        const seen = statistics?.get(statement);
        expect(seen?.version, statement).toBe(incremental.version);
        expect(seen?.versions.get('kid_build_scope'), statement).toContain(incremental.version);
      }
      const linkage = statistics?.get('INSERT INTO kid_linkage_load');
      expect(linkage?.versions.get('kid_linkage_scope')).toContain(incremental.version);
      // The dashboard's summary counts the model just written, people on the opt-out list apart.
      const summary = statistics?.get('INSERT INTO kid_area_summary');
      expect(summary?.version).toBe(incremental.version);
      expect(summary?.versions.get('kid_model')).toContain(incremental.version);
    },
  );

  it('rebuilds only the people whose inputs changed, and says so in the audit log with counts', async () => {
    expect(first.mode).toBe('full');
    expect(incremental.mode).toBe('incremental');
    const superseded = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM loads WHERE status = 'superseded' AND period = $1`,
      [RESENT],
    );
    expect(Number(superseded[0]?.n)).toBeGreaterThanOrEqual(3);
    expect(incremental.rebuiltPeople).toBeGreaterThan(0);
    expect(incremental.rebuiltPeople).toBeLessThan(incremental.people);
    // The new month of gp-events moved the model's date: everyone's model is computed.
    expect(incremental.model?.computedAllBecause).toBe('the model’s date moved');
    expect(incremental.summaryByDifference).toBe(false);
    const [audit] = await store.query<{ details: string }>(
      `SELECT details FROM audit_events WHERE action = 'kid.built' ORDER BY seq DESC LIMIT 1`,
    );
    const details = JSON.parse(String(audit?.details)) as Record<string, unknown>;
    expect(details).toMatchObject({ mode: 'incremental', rebuiltPeople: incremental.rebuiltPeople });
    // counts only: no token, no identifier
    for (const value of Object.values(details))
      expect(typeof value === 'number' || typeof value === 'string').toBe(true);
    expect(JSON.stringify(details)).not.toMatch(/[0-9a-f]{32}/);
    // The linkage report's counts per load: the superseded loads' went with them, the new month's came.
    const perLoad = await store.query<{ status: string; period: string }>(
      `SELECT DISTINCT l.status, l.period FROM kid_linkage_load k
       JOIN kid_current c ON c.id = 1 AND k.version = c.version JOIN loads l ON l.load_id = k.load_id`,
    );
    expect([...new Set(perLoad.map((r) => r.status))]).toEqual(['loaded']);
    expect(perLoad.map((r) => r.period)).toContain(LAST);
    // A second build with nothing new answers the version unchanged.
    expect((await buildSpine(store, { actor: 'test' })).mode).toBe('unchanged');
  });

  it('writes only the rebuilt people\u2019s spine rows, and leaves everyone else\u2019s where they were', async () => {
    const v = incremental.version;
    for (const table of VERSION_RANGED_TABLES) {
      const [rows] = await store.query<{ written: number; kept: number; retired: number; outside: number }>(
        `SELECT count(CASE WHEN t.version = $1 THEN 1 END) AS written,
                count(CASE WHEN t.version < $1 THEN 1 END) AS kept,
                count(t.retired) AS retired,
                count(CASE WHEN t.version = $1 AND s.person_token IS NULL THEN 1 END) AS outside
         FROM ${table} t LEFT JOIN kid_build_scope s ON s.version = $1 AND s.person_token = t.person_token`,
        [v],
      );
      // Everyone outside the scope keeps the row an earlier build wrote, not a copy of it
      // (few people have a disagreement, and those few may all have been rebuilt).
      if (table !== 'kid_person_disagreement') expect(Number(rows?.kept), table).toBeGreaterThan(0);
      expect(Number(rows?.outside), table).toBe(0);
      // The swap deleted the rows this build retired.
      expect(Number(rows?.retired), table).toBe(0);
    }
    const [person] = await store.query<{ written: number }>(
      'SELECT count(*) AS written FROM kid_person WHERE version = $1',
      [v],
    );
    expect(Number(person?.written)).toBeGreaterThan(0);
    expect(Number(person?.written)).toBeLessThanOrEqual(incremental.rebuiltPeople ?? 0);
  });

  it('counts again the linkage of only the rebuilt people whose spine rows changed', () => {
    // The corrected resend took some people's PMI records away (their registrations changed),
    // while most people were rebuilt for a new month's GP events, which leave their spine rows
    // as they were. The counts still equal a full build's (below).
    expect(incremental.linkageRecounted).toBeGreaterThan(0);
    expect(incremental.linkageRecounted).toBeLessThan(incremental.rebuiltPeople ?? 0);
  });

  it('builds in full after a version made by other definitions, such as an older Kernel\u2019s', async () => {
    const [current] = await store.query<{ version: number }>('SELECT version FROM kid_current');
    const previous = { version: Number(current?.version), definitions: 'an older Kernel' };
    const plan = await planBuild(store, {
      version: previous.version + 1,
      previous,
      definitions: await definitionsDigest(store),
    });
    expect(plan).toEqual({ mode: 'full', reason: expect.stringContaining('Kernel\u2019s derivations') });
  });

  it('equals a full build of the same inputs, every kid_* table row for row', async () => {
    // Both builds carry the risk model's stored coefficients (a refit is asked for, never
    // made by a monthly build) and score their population with them.
    const { full, fullRows } = await compareWithFullBuild(store);
    expect(full.mode).toBe('full');
    for (const table of [
      'kid_person',
      'kid_registration',
      'kid_residence',
      'kid_condition',
      'kid_model',
      'kid_risk',
      'kid_linkage',
      'kid_linkage_load',
      'kid_area_summary',
      'kid_area_panels',
    ])
      expect(fullRows.get(table)?.length ?? 0, table).toBeGreaterThan(0);
    expect(full.disagreements).toEqual(incremental.disagreements);
    expect(full.people).toBe(incremental.people);
  });
});

/**
 * Activity that arrives after the GP practices' month (a hospital's outpatients and A&E, and
 * the practices' GP events, of a month inside the model's window before its last, held back
 * from the first build) leaves the model's date where it was: the incremental build computes the model, eFI and risk scores of those people
 * only and copies everyone else's, and still equals a full build. So do the fire service's
 * home-safety visits, which reach the visited households' residents; except the first ever,
 * which turn everyone's count of visits from none (never loaded) to a number.
 */
const HELD = '2020-12';
const LATE = ['ecds', 'op'];
const FIRE = 'fire-safety';
/** The fire service's first loads, and the later ones. */
const FIRE_FIRST = (period: string): boolean => period < '2020-09';
describe.each(testStores())('an incremental KID build that leaves the model’s date on $engine', (engine) => {
  let store: Store;
  let late: SpineBuild;
  let conditionsBefore: Set<string>;
  let viewed: { before: string[]; whileDead?: string[] };
  beforeAll(async () => {
    store = await engine.open();
    useFiles('original');
    const before = (period: string): boolean => period < LAST;
    await world.load(
      store,
      DATASETS.filter((d) => !LATE.includes(d) && d !== FIRE),
      () => true,
      (period) => before(period) && period !== HELD,
    );
    await world.load(
      store,
      LATE,
      () => true,
      (period) => before(period) && period !== HELD,
    );
    await world.load(
      store,
      DATASETS.filter((d) => !LATE.includes(d) && d !== FIRE && d !== 'gp-events'),
      () => true,
      (period) => period === HELD,
    );
    // People on the national data opt-out list, whom the dashboard's planning part leaves out.
    await optOut(store, '0123');
    await buildSpine(store, { actor: 'test' });
    viewed = { before: await spineView(store) };
    await dieBeforeSwap(store);
    viewed.whileDead = await spineView(store);
    await world.load(
      store,
      LATE,
      () => true,
      (period) => period === HELD,
    );
    // The practices' GP events of the month come late too (the model's date is a month later):
    // some people's conditions change (a condition first coded that month), and with them
    // the summary's.
    await world.load(
      store,
      ['gp-events'],
      () => true,
      (period) => period === HELD,
    );
    conditionsBefore = await conditionRows(store);
    late = await buildSpine(store, { actor: 'test' });
  }, 600_000);
  afterAll(async () => {
    await store.close();
  });

  it('shows the current version whole while a dead build\u2019s rows are there, and the next build clears them', () => {
    expect(viewed.before.length).toBeGreaterThan(0);
    expect(viewed.whileDead).toEqual(viewed.before);
    // The build after it equals a full build (below): the people it had retired are back, and
    // its rows are gone, or the comparison would miss or double them.
  });

  it('computes the model of the people with new activity only, and equals a full build', async () => {
    expect(late.mode).toBe('incremental');
    expect(late.model?.computedAllBecause).toBeUndefined();
    expect(late.model?.computed).toBeGreaterThan(0);
    expect(late.model?.copied).toBeGreaterThan(late.model?.computed ?? 0);
    // The dashboard's summary, both parts, is the version before's less and plus those people's,
    // some of whose conditions changed.
    expect(late.summaryByDifference).toBe(true);
    const conditionsNow = await conditionRows(store);
    expect([...conditionsNow].filter((row) => !conditionsBefore.has(row)).length).toBeGreaterThan(0);
    // The people computed have rows of this version; everyone else keeps the row an earlier
    // build wrote, not a copy of it.
    const [rows] = await store.query<{ written: number; kept: number }>(
      `SELECT count(CASE WHEN version = $1 THEN 1 END) AS written, count(CASE WHEN version < $1 THEN 1 END) AS kept
       FROM kid_model`,
      [late.version],
    );
    expect(Number(rows?.written)).toBe(late.model?.computed);
    expect(Number(rows?.kept)).toBe(late.model?.copied);
    // So are their eFI and risk scores: written for some of the people computed (those the eFI
    // and the scores apply to), kept for everyone else.
    for (const table of ['kid_frailty', 'kid_frailty_deficit', 'kid_risk']) {
      const [scored] = await store.query<{ written: number; kept: number; people: number }>(
        `SELECT count(CASE WHEN version = $1 THEN 1 END) AS written, count(CASE WHEN version < $1 THEN 1 END) AS kept,
                count(DISTINCT CASE WHEN version = $1 THEN person_token END) AS people
         FROM ${table} t WHERE ${inVersion('t', '$1')}`,
        [late.version],
      );
      expect(Number(scored?.written), table).toBeGreaterThan(0);
      expect(Number(scored?.people), table).toBeLessThanOrEqual(late.model?.computed ?? 0);
      expect(Number(scored?.kept), table).toBeGreaterThan(Number(scored?.written));
    }
    const { full, fullRows } = await compareWithFullBuild(store);
    expect(full.model?.computedAllBecause).toBe('asked (--full)');
    expect(fullRows.get('kid_model')?.length ?? 0).toBeGreaterThan(0);
  });

  it('computes everyone at the first fire-safety loads, and the visited households’ residents at later ones', async () => {
    const loadFire = (months: (period: string) => boolean): Promise<unknown> =>
      world.load(
        store,
        [FIRE],
        () => true,
        (period) => period < LAST && months(period),
      );
    await loadFire(FIRE_FIRST);
    const first = await buildSpine(store, { actor: 'test' });
    expect(first.model?.computedAllBecause).toBe('fire-safety loaded for the first time');
    await compareWithFullBuild(store);
    // Nothing else is new: the visits' residents are the whole scope. The opt-out list changes
    // too, so the summary's planning part is counted afresh, everyone's by difference.
    await loadFire((period) => !FIRE_FIRST(period));
    await optOut(store, '4567');
    const later = await buildSpine(store, { actor: 'test' });
    expect(later.summaryByDifference).toBe(true);
    expect(later.mode).toBe('incremental');
    expect(later.model?.computedAllBecause).toBeUndefined();
    expect(later.model?.computed).toBeGreaterThan(0);
    expect(later.model?.copied).toBeGreaterThan(later.model?.computed ?? 0);
    await compareWithFullBuild(store);
  });
});

/**
 * A month still coming in holds the model's date back (src/kid/model-date.ts): with a
 * hospital's A&E scheduled and not yet due, the GP practices' new month leaves the model on
 * the month before; the feed's due day passing, or the feed arriving, moves it.
 */
describe.each(testStores())('the model’s date while a month is still coming in on $engine', (engine) => {
  // RWF's A&E is due by the 10th working day of the month after: 12 March 2021 for February.
  const whileDue = new Date('2021-03-05T09:00:00Z');
  const pastDue = new Date('2021-03-15T09:00:00Z');
  const modelDays = async (store: Store): Promise<string[]> =>
    (
      await store.query<{ day: string }>(
        `SELECT DISTINCT CAST(as_of AS TEXT) AS day FROM kid_person_model
         UNION SELECT DISTINCT CAST(as_of AS TEXT) FROM kid_spine_frailty`,
      )
    ).map((r) => String(r.day).slice(0, 10));

  it('stays on the month before until the month’s scheduled feeds arrive or fall due', async () => {
    const store = await engine.open();
    try {
      await loadBeforeLast(store);
      await setFeedSchedule(
        store,
        { org: 'RWF', dataset: 'ecds', dueWorkingDay: 10, from: '2020-06' },
        'test',
      );
      // A feed the model does not read (the workforce record) holds nothing back.
      await setFeedSchedule(
        store,
        { org: 'RWF', dataset: 'esr', dueWorkingDay: 10, from: '2021-02' },
        'test',
      );
      await buildSpine(store, { actor: 'test', today: whileDue });
      expect(await modelDays(store)).toEqual(['2021-01-31']);

      // February from every member but RWF's A&E.
      await world.load(
        store,
        DATASETS.filter((d) => d !== 'ecds'),
        () => true,
        (period) => period === LAST,
      );
      await world.load(
        store,
        ['ecds'],
        (org) => org !== 'RWF',
        (period) => period === LAST,
      );
      const waiting = (await spineStatus(store, whileDue)).modelDate;
      expect(waiting).toEqual({
        asOf: '2021-01-31',
        latestMonth: LAST,
        waitingFor: [{ org: 'RWF', dataset: 'ecds', period: LAST, dueOn: '2021-03-12' }],
        feedsWaiting: 1,
        lastDueOn: '2021-03-12',
      });
      expect(heldBackNote(waiting)).toContain('2021-02 is still coming in: 1 scheduled feed');
      expect(heldBackNote(waiting)).toContain('RWF ecds');
      const held = await buildSpine(store, { actor: 'test', today: whileDue });
      expect(held.modelDate).toEqual(waiting);
      expect(held.mode).toBe('incremental');
      expect(held.model?.computedAllBecause).toBeUndefined();
      expect(await modelDays(store)).toEqual(['2021-01-31']);
      // The same inputs on the same day: nothing to do.
      expect((await buildSpine(store, { actor: 'test', today: whileDue })).mode).toBe('unchanged');
      // It equals a full build made on the same day.
      await compareWithFullBuild(store, whileDue);
      // A refit scores on the day its version describes, whatever has come since.
      expect((await refitRisk(store, 'test')).asOf).toBe('2021-01-31');

      // The due day passes with nothing new loaded: the date moves, so the version is stale.
      const due = await spineStatus(store, pastDue);
      expect(due.modelDate).toEqual({
        asOf: '2021-02-28',
        latestMonth: LAST,
        waitingFor: [],
        feedsWaiting: 0,
        lastDueOn: null,
      });
      expect(due.stale).toBe(true);
      expect(heldBackNote(due.modelDate)).toBeNull();
      // Built then, with nothing loaded since: no one's records changed, but everyone's model moves.
      const moved = await buildSpine(store, { actor: 'test', today: pastDue });
      expect(moved).toMatchObject({ mode: 'incremental', rebuiltPeople: 0 });
      expect(moved.model?.computedAllBecause).toBe('the model’s date moved');
      expect(await modelDays(store)).toEqual(['2021-02-28']);
      await compareWithFullBuild(store, pastDue);
      // The late feed arrives: had it come before its due day, it would have moved the date too.
      await world.load(
        store,
        ['ecds'],
        (org) => org === 'RWF',
        (period) => period === LAST,
      );
      expect((await spineStatus(store, whileDue)).modelDate.asOf).toBe('2021-02-28');
      // The date stays, and only the feed's people are computed again.
      const late = await buildSpine(store, { actor: 'test', today: pastDue });
      expect(late.model?.computed).toBeGreaterThan(0);
      expect(late.model?.copied).toBeGreaterThan(late.model?.computed ?? 0);
      expect(late.model?.computedAllBecause).toBeUndefined();
      expect(await modelDays(store)).toEqual(['2021-02-28']);
      await compareWithFullBuild(store, pastDue);
    } finally {
      await store.close();
    }
  }, 600_000);
});
