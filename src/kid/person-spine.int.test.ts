import { describe, expect, it } from 'vitest';
import { kidWorldForFile, openWorldForSuite, truthAddressOn } from '../../test/kid-world.ts';
import { expectBuildKnowsItsVersion } from '../../test/kid-build-statistics.ts';
import { watchStatements } from '../../test/watch-statements.ts';
import { testStores, openForSuite } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { buildSpine, populationOn, spineStatus } from './person-spine.ts';

const clean = kidWorldForFile({
  people: 300,
  from: '2020-04',
  to: '2020-06',
  datasets: ['pmi'],
  defects: 'none',
  timeout: 120_000,
});
const defective = kidWorldForFile({
  people: 300,
  from: '2020-04',
  to: '2020-06',
  datasets: ['pmi'],
  // Raised well above the defaults so that 300 people show every kind.
  defects: { 'dob-day-month-swap': 0.3, 'missing-nhs-number': 0.05, 'duplicate-row': 0.05 },
  timeout: 120_000,
});

const yearMonth = (date: string): string => date.slice(0, 7);

describe.each(testStores())('the person spine on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => clean });

  it('has one row per person alive in the window, with the truth\u2019s sex, birth month and death date', async () => {
    const build = await buildSpine(store);
    expect(build.mode).toBe('full');
    const spine = await store.query<{
      person_token: string;
      sex: string;
      birth_year_month: string;
      death_date: string | null;
      ethnic_category: string | null;
      gp_registered: boolean;
    }>('SELECT * FROM kid_spine_person');
    const expected = clean.people.filter(
      (p) => p.birthDate <= '2020-06-30' && (p.deathDate === null || p.deathDate >= '2020-04-01'),
    );
    expect(spine.length).toBe(expected.length);
    const byToken = new Map(spine.map((r) => [r.person_token, r]));
    for (const person of expected) {
      const row = byToken.get(person.token);
      expect(row, 'a person of the truth is on the spine').toBeDefined();
      expect(row?.sex).toBe(person.sex);
      expect(row?.birth_year_month).toBe(yearMonth(person.birthDate));
      expect(row?.death_date ?? null).toBe(
        person.deathDate && person.deathDate <= '2020-06-30' ? person.deathDate : null,
      );
      expect(row?.ethnic_category ?? 'Z').toBe(person.ethnicCategory);
      expect(row?.gp_registered).toBe(true);
    }
    // With no injected defects, no two records of a person disagree.
    expect(Object.values(build.disagreements).every((n) => n === 0)).toBe(true);
  });

  it('answers who was in the population on a day, at the practice the truth says, by function and view alike', async () => {
    await buildSpine(store);
    for (const day of ['2020-04-01', '2020-05-15', '2020-06-30']) {
      const population = await populationOn(store, day);
      const expected = clean.people.filter(
        (p) => p.birthDate <= day && (p.deathDate === null || p.deathDate >= day),
      );
      expect(population.length).toBe(expected.length);
      const practiceOf = new Map(population.map((r) => [r.person_token, r.practice_code]));
      for (const person of expected)
        expect(practiceOf.get(person.token)).toBe(truthAddressOn(clean, person, day)?.practice);
      const [view] = await store.query<{ n: number }>(
        `SELECT count(DISTINCT person_token) AS n FROM kid_population_periods
         WHERE from_date <= CAST($1 AS DATE) AND (to_date IS NULL OR to_date >= CAST($1 AS DATE))`,
        [day],
      );
      expect(Number(view?.n)).toBe(expected.length);
    }
  });

  it('keeps each person\u2019s LSOA history as the truth has it', async () => {
    await buildSpine(store);
    const day = '2020-06-15';
    const rows = await store.query<{ person_token: string; lsoa_code: string }>(
      `SELECT person_token, lsoa_code FROM kid_spine_residence
       WHERE from_date <= CAST($1 AS DATE) AND (to_date IS NULL OR to_date >= CAST($1 AS DATE))`,
      [day],
    );
    const lsoaOf = new Map(rows.map((r) => [r.person_token, r.lsoa_code]));
    const alive = clean.people.filter(
      (p) => p.birthDate <= day && (p.deathDate === null || p.deathDate >= day),
    );
    for (const person of alive)
      expect(lsoaOf.get(person.token)).toBe(truthAddressOn(clean, person, day)?.lsoa);
  });

  it('rebuilds only when a PMI load has landed, swapping versions whole', async () => {
    const first = await buildSpine(store, { full: true });
    const again = await buildSpine(store);
    expect(again.mode).toBe('unchanged');
    expect(again.version).toBe(first.version);
    const status = await spineStatus(store);
    expect(status.version).toBe(first.version);
    expect(status.stale).toBe(false);
    // Only the current version's rows remain.
    const [versions] = await store.query<{ n: number }>(
      'SELECT count(DISTINCT version) AS n FROM kid_person',
    );
    expect(Number(versions?.n)).toBe(1);
  });

  it('refuses a day that is not a date', async () => {
    await expect(populationOn(store, '2020-13-45')).rejects.toMatchObject({ code: 'usage' });
  });
});

describe.each(testStores())('the person spine with injected defects on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('refuses to build before any PMI has been loaded', async () => {
    await expect(buildSpine(store)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('counts the disagreements the injected defects make, and the GP record wins', async () => {
    await defective.load(store);
    const build = await buildSpine(store);
    // Day-month swaps move a birth month on one record: where a person has another record,
    // the two disagree and are counted.
    expect(build.disagreements.birth_year_month).toBeGreaterThan(0);
    expect(build.disagreements.sex).toBe(0);
    const spine = new Map(
      (
        await store.query<{ person_token: string; birth_year_month: string }>(
          'SELECT person_token, birth_year_month FROM kid_spine_person',
        )
      ).map((r) => [r.person_token, r.birth_year_month]),
    );
    // The written rule, applied by hand: GP records first, then the latest Record_Date, load, line.
    const records = await store.query<{
      person_token: string;
      birth_year_month: string | null;
      record_date: string;
      load_id: string;
      source_line: number;
      gp: number;
    }>(
      `SELECT m.person_token, m.birth_year_month, m."Record_Date" AS record_date, m.load_id, m.source_line,
              CASE WHEN o.org_type = 'gp' THEN 1 ELSE 0 END AS gp
       FROM ds_pmi m LEFT JOIN organisations o ON o.org_code = m.org_code WHERE m.person_token IS NOT NULL`,
    );
    records.sort(
      (a, b) =>
        b.gp - a.gp ||
        b.record_date.localeCompare(a.record_date) ||
        b.load_id.localeCompare(a.load_id) ||
        Number(b.source_line) - Number(a.source_line),
    );
    const winner = new Map<string, string>();
    for (const r of records)
      if (r.birth_year_month !== null && !winner.has(r.person_token))
        winner.set(r.person_token, r.birth_year_month);
    expect(winner.size).toBe([...spine.values()].filter((v) => v !== null).length);
    for (const [token, value] of winner) expect(spine.get(token)).toBe(value);
    // Against the truth: only a person whose every record was swapped is wrong (nothing to
    // disagree with); a swap needs a day of 12 or less, so fewer than 30% of people.
    const truth = new Map(defective.people.map((p) => [p.token, yearMonth(p.birthDate)]));
    const wrong = [...spine].filter(([token, value]) => truth.has(token) && truth.get(token) !== value);
    expect(wrong.length).toBeGreaterThan(0);
    expect(wrong.length / spine.size).toBeLessThan(0.3);
  });
});

describe.each(testStores())('the build\u2019s memory on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => clean });

  it('is built within the engine\u2019s memory cap for a build, and the cap is lifted after', async () => {
    const memory = async (q: Store): Promise<string> =>
      String((await q.query<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))[0]?.v);
    if (engine.engine === 'postgres') {
      expect(store.dialect.kidBuild).toBeNull();
      return;
    }
    const before = await memory(store);
    // What the build's first write of the spine runs under (Dialect.kidBuild).
    const watched = watchStatements(store, ['INSERT INTO kid_person ('], memory);
    await buildSpine(watched.store, { full: true });
    expect(watched.seen.get('INSERT INTO kid_person (')).toBe('2.0 GiB');
    expect(await memory(store)).toBe(before);
  });
});

// PostgreSQL plans a statement from the statistics it last gathered; DuckDB keeps its own.
describe.each(testStores().filter((engine) => engine.engine === 'postgres'))(
  'the person spine\u2019s statistics on $engine',
  (engine) => {
    let store: Store;
    const world = kidWorldForFile({
      people: 300,
      from: '2020-04',
      to: '2020-06',
      datasets: ['pmi', 'asc', 'fire-safety'],
      defects: 'none',
      timeout: 120_000,
    });
    openWorldForSuite(engine, (s) => (store = s), { world: () => world });

    it('knows the version being built when the residence and fire visit steps join its people, registrations and residence', async () => {
      await buildSpine(store, { full: true });
      await expectBuildKnowsItsVersion(store, {
        'INSERT INTO kid_residence': ['kid_person'],
        'INSERT INTO kid_fire_visit': ['kid_person', 'kid_registration', 'kid_residence'],
      });
    });
  },
);
