/**
 * The dashboard's summary of the person-level model (area-summary.ts), on both engines: the
 * figures read from it equal the figures counted afresh from the model (the statement the
 * dashboard ran before the summary, kept here as the oracle) for the system, every practice
 * and LSOAs, with and without the opt-out; people put on the opt-out list after the build
 * vanish from planning figures at once, and come back when the list drops them; a build
 * counts the people on the list ahead, used only while the list is the same; the summary
 * is written with each build version and swapped with it; a version without one is counted
 * from the model. The summary is read packed (kid_area_panels): its rows unpacked are the
 * summary's rows, every value.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { kidWorldForFile, openWorldForSuite } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { activeUseCase } from '../../test/use-cases.ts';
import { HES_2018, controlCount } from '../analytics/disclosure-control.ts';
import { createAgreement } from '../governance/agreements.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import type { Store } from '../store/store.ts';
import { OPTOUT_TAG_SQL, packAreaSummary, unpackAreaSummary } from './area-summary.ts';
import { buildSpine } from './person-spine.ts';
import {
  parseScope,
  populationHealthFigures,
  readPopulationHealth,
  type PopulationHealthFigures,
  DASHBOARD_DATASETS,
} from './population-health.ts';

const DATASETS = [...DASHBOARD_DATASETS];
const analyst = { id: 'u-analyst', role: 'analyst', org: null };

const world = kidWorldForFile({
  people: 1000,
  from: '2020-04',
  to: '2020-09',
  datasets: DATASETS,
  defects: 'none',
  timeout: 240_000,
});

/** Costs to a millionth of a pound (sums in another order), everything else exactly. */
function comparable(f: PopulationHealthFigures): PopulationHealthFigures {
  return {
    ...f,
    costs: f.costs && {
      ...f.costs,
      segments: f.costs.segments.map((s) => ({
        ...s,
        cost: Object.fromEntries(Object.entries(s.cost).map(([k, v]) => [k, Math.round(v * 1e6) / 1e6])),
      })) as NonNullable<PopulationHealthFigures['costs']>['segments'],
    },
  };
}

describe.each(testStores())('the dashboard’s area summary on $engine', (engine) => {
  let store: Store;
  let day: string;
  let practices: string[];
  let lsoas: string[];
  openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });
  beforeAll(async () => {
    const [row] = await store.query<{ as_of: string }>('SELECT max(as_of) AS as_of FROM kid_person_model');
    day = String(row?.as_of).slice(0, 10);
    practices = (
      await store.query<{ code: string }>(
        'SELECT DISTINCT practice_code AS code FROM kid_person_model WHERE practice_code IS NOT NULL ORDER BY code',
      )
    ).map((r) => r.code);
    lsoas = (
      await store.query<{ code: string }>(
        `SELECT lsoa_code AS code FROM kid_person_model WHERE lsoa_code IS NOT NULL
         GROUP BY lsoa_code ORDER BY count(*) DESC, lsoa_code LIMIT 3`,
      )
    ).map((r) => r.code);
  });

  /** Packs the current version's summary again, after a test changed a row of it. */
  async function repack(): Promise<void> {
    const [current] = await store.query<{ version: number }>('SELECT version FROM kid_current');
    await packAreaSummary(store, Number(current?.version));
  }

  /** Every area: the summary's figures equal the model's counted afresh (the oracle). */
  async function expectSameAsOracle(optOut: boolean): Promise<void> {
    const scopes = ['ics', ...practices.map((p) => `practice:${p}`), ...lsoas.map((l) => `lsoa:${l}`)];
    for (const text of scopes) {
      const scope = parseScope(text);
      const fast = await populationHealthFigures(store, day, scope, { optOut });
      const oracle = await populationHealthFigures(store, day, scope, { optOut, fromSummary: false });
      expect(comparable(fast), `${text}, opt-out ${optOut}`).toEqual(comparable(oracle));
    }
  }

  it('is written with the build, and its figures are the model’s counted afresh, for every area', async () => {
    const [counts] = await store.query<{ areas: number; built: number }>(
      `SELECT count(DISTINCT scope_kind || ':' || scope_code) AS areas,
              sum(CASE WHEN panel = 'built' THEN 1 ELSE 0 END) AS built FROM kid_area_summary_current`,
    );
    expect(Number(counts?.built)).toBe(2); // everyone, and the people not on the opt-out list
    expect(Number(counts?.areas)).toBeGreaterThanOrEqual(1 + practices.length + lsoas.length);
    expect(practices.length).toBeGreaterThan(1);
    await expectSameAsOracle(false);
    await expectSameAsOracle(true);
    // The figures really come from the summary: a row changed in it shows in them.
    const ics = parseScope('ics');
    const before = await populationHealthFigures(store, day, ics);
    await store.run(
      `UPDATE kid_area_summary SET people = people + 1000 WHERE panel = 'pyramid' AND scope_kind = 'ics'
         AND variant = 'everyone' AND version = (SELECT version FROM kid_current) AND band = '40-44' AND sex_key = 'female'`,
    );
    await repack();
    expect((await populationHealthFigures(store, day, ics)).people).toBe(before.people + 1000);
    await store.run(
      `UPDATE kid_area_summary SET people = people - 1000 WHERE panel = 'pyramid' AND scope_kind = 'ics'
         AND variant = 'everyone' AND version = (SELECT version FROM kid_current) AND band = '40-44' AND sex_key = 'female'`,
    );
    await repack();
    expect(await populationHealthFigures(store, day, ics)).toEqual(before);
  });

  it('reads the summary packed, and its rows unpacked are the summary’s rows, every value', async () => {
    const key = (r: Record<string, unknown>): string => JSON.stringify(r);
    const columns = `variant, panel, sex_key, band, decile, condition, segment, efi_category, alive, people,
      conditions, multimorbidity, complex, cost_ae, cost_emergency, cost_elective, cost_op, cost_community, cost_mh, cost_asc`;
    const areas = await store.query<{
      scope_kind: string;
      scope_code: string;
      variant: string;
      panel: string;
    }>(
      `SELECT DISTINCT scope_kind, scope_code, variant, panel FROM kid_area_summary_current
       ORDER BY scope_kind, scope_code, variant, panel`,
    );
    const [packedCount] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM kid_area_panels WHERE version = (SELECT version FROM kid_current)',
    );
    expect(Number(packedCount?.n)).toBe(areas.length); // one packed row per area, variant and panel
    expect(areas.length).toBeGreaterThan(4 * (1 + practices.length));
    for (const a of areas) {
      const where = `version = (SELECT version FROM kid_current) AND scope_kind = $1 AND scope_code = $2
        AND variant = $3 AND panel = $4`;
      const params = [a.scope_kind, a.scope_code, a.variant, a.panel];
      const rows = (await store.query(`SELECT ${columns} FROM kid_area_summary WHERE ${where}`, params)).map(
        (r) =>
          Object.fromEntries(
            Object.entries(r).map(([k, v]) => [k, v === null ? null : typeof v === 'string' ? v : Number(v)]),
          ),
      );
      const unpacked = unpackAreaSummary(
        await store.query<{ rows: string }>(`SELECT rows FROM kid_area_panels WHERE ${where}`, params),
      );
      expect(unpacked.map(key).sort(), JSON.stringify(a)).toEqual(rows.map(key).sort());
    }
  });

  it('takes people on the opt-out list out of planning figures as soon as the list changes, without a build', async () => {
    const practice = practices[0] as string;
    const scope = parseScope(`practice:${practice}`);
    const everyone = await populationHealthFigures(store, day, scope, { optOut: true });
    const alive = (
      await store.query<{ person_token: string }>(
        `SELECT person_token FROM kid_person_model WHERE practice_code = $1 AND death_date IS NULL ORDER BY person_token`,
        [practice],
      )
    ).map((r) => r.person_token);
    const dead = (
      await store.query<{ person_token: string }>(
        `SELECT person_token FROM kid_person_model WHERE death_date IS NOT NULL ORDER BY person_token`,
      )
    ).map((r) => r.person_token);
    // A third of the practice, and people who died (their cost leaves their segment).
    const first = [...alive.filter((_, i) => i % 3 === 0), ...dead];
    await loadOptOutTokens(store, first, 'test list 1', 'test');
    // The list changed after the build: the people on it now are subtracted, counted afresh.
    const tagNow = async (): Promise<string> =>
      String((await store.query<{ tag: string }>(OPTOUT_TAG_SQL))[0]?.tag);
    const builtTag = async (): Promise<string | null> =>
      (
        await store.query<{ tag: string }>(
          `SELECT optout_tag AS tag FROM kid_area_summary_current WHERE panel = 'built' AND variant = 'not-opted-out'`,
        )
      )[0]?.tag ?? null;
    expect(await builtTag()).not.toBe(await tagNow());
    const planned = await populationHealthFigures(store, day, scope, { optOut: true });
    expect(planned.people).toBe(everyone.people - alive.filter((_, i) => i % 3 === 0).length);
    await expectSameAsOracle(true);
    // Built again with the list: the people not on it are counted ahead, under the list's name.
    await buildSpine(store, { full: true });
    expect(await builtTag()).toBe(await tagNow());
    expect(comparable(await populationHealthFigures(store, day, scope, { optOut: true }))).toEqual(
      comparable(planned),
    );
    await expectSameAsOracle(true);
    await expectSameAsOracle(false);
    // And the figures really come from that part: a row changed in it shows in them.
    const ics = parseScope('ics');
    const icsPlanned = await populationHealthFigures(store, day, ics, { optOut: true });
    const nudge = (by: number) =>
      store
        .run(
          `UPDATE kid_area_summary SET people = people + $1 WHERE panel = 'pyramid' AND variant = 'not-opted-out'
           AND scope_kind = 'ics' AND version = (SELECT version FROM kid_current)
           AND sex_key = $2 AND band = $3`,
          [by, ...frameKey],
        )
        .then(repack);
    const [key] = await store.query<{ sex_key: string; band: string }>(
      `SELECT sex_key, band FROM kid_area_summary_current
       WHERE panel = 'pyramid' AND variant = 'not-opted-out' AND scope_kind = 'ics' ORDER BY people DESC LIMIT 1`,
    );
    const frameKey = [key?.sex_key ?? null, key?.band ?? null];
    await nudge(1);
    expect((await populationHealthFigures(store, day, ics, { optOut: true })).people).toBe(
      icsPlanned.people + 1,
    );
    await nudge(-1);
    // Through the policy: a planning read under a use case applies it; direct care never does.
    const controllers = [...new Set(world.records.map((r) => r.org))].sort();
    for (const org of controllers) {
      const datasets = [...new Set(world.records.filter((r) => r.org === org).map((r) => r.dataset))];
      await createAgreement(store, { org, datasets, from: '2019-04', to: '2030-03' }, 'test');
    }
    const useCase = async (purpose: 'planning' | 'direct-care'): Promise<string> =>
      (
        await activeUseCase(store, {
          title: `Area summary ${purpose}`,
          purpose,
          datasets: DATASETS,
          controllers,
          users: ['role:analyst'],
          start: '2021-04-01',
          end: '2099-03-31',
        })
      ).id;
    const planning = await useCase('planning');
    const read = async (useCaseId: string) =>
      readPopulationHealth(store, { user: analyst, useCaseId }, { scope, day });
    expect((await read(planning)).people).toBe(controlCount(planned.people, HES_2018));
    expect((await read(await useCase('direct-care'))).people).toBe(controlCount(everyone.people, HES_2018));
    // A new list: another third. The figures follow the list, not the build.
    const second = alive.filter((_, i) => i % 3 === 1);
    await loadOptOutTokens(store, second, 'test list 2', 'test');
    const replanned = await populationHealthFigures(store, day, scope, { optOut: true });
    expect(replanned.people).toBe(everyone.people - second.length);
    await expectSameAsOracle(true);
    expect((await read(planning)).people).toBe(controlCount(replanned.people, HES_2018));
    // Nobody on the list: everyone counts again.
    await loadOptOutTokens(store, [], 'test list 3', 'test');
    expect(comparable(await populationHealthFigures(store, day, scope, { optOut: true }))).toEqual(
      comparable(everyone),
    );
  });

  it('is swapped with its build version, and a version without one is counted from the model', async () => {
    const scope = parseScope(`practice:${practices[1] as string}`);
    const before = await populationHealthFigures(store, day, scope);
    await buildSpine(store, { full: true });
    const versions = await store.query<{ version: number }>('SELECT DISTINCT version FROM kid_area_summary');
    const [current] = await store.query<{ version: number }>('SELECT version FROM kid_current');
    expect(versions.map((v) => Number(v.version))).toEqual([Number(current?.version)]);
    expect(comparable(await populationHealthFigures(store, day, scope))).toEqual(comparable(before));
    // A warehouse built before the summary existed: the current version has none.
    await store.run('DELETE FROM kid_area_summary');
    await store.run('DELETE FROM kid_area_panels');
    expect(comparable(await populationHealthFigures(store, day, scope))).toEqual(comparable(before));
  });
});
