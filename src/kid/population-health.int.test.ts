import { beforeAll, describe, expect, it } from 'vitest';
import {
  ageInMonthsOn,
  aliveOn,
  CODE_LIST_OF,
  kidWorldForFile,
  openWorldForSuite,
  truthAddressOn,
  truthConditionsOn,
  type TruthPerson,
} from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { activeUseCase, readingUseCaseId } from '../../test/use-cases.ts';
import { PASSWORD, accountsForEveryRole, portalApp } from '../../test/e2e/portal-helpers.ts';
import { HES_2018, controlCount } from '../analytics/disclosure-control.ts';
import { createAgreement } from '../governance/agreements.ts';
import type { Purpose } from '../governance/governance-values.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { setUseCaseUsers } from '../governance/use-cases.ts';
import { createApiToken } from '../server/auth/api-tokens.ts';
import { addUser, changePassword } from '../server/auth/user-accounts.ts';
import type { Store } from '../store/store.ts';
import { AGE_BANDS } from './conditions.ts';
import { populationOn } from './person-spine.ts';
import {
  DASHBOARD_DATASETS,
  POLICY_VERSION_MAX_AGE_MS,
  dashboardAreas,
  defaultDashboardDay,
  parseScope,
  populationHealthFigures,
  readPopulationHealth,
  readPopulationHealthPage,
  type PopulationHealthFigures,
} from './population-health.ts';
import { populationHealthSchema } from './population-health-schemas.ts';

/** Every source the dashboard's panels derive from (KID_LINEAGE), so each panel can show. */
const DATASETS = [...DASHBOARD_DATASETS];
const DAY = '2020-09-30';
const analyst = { id: 'u-analyst', role: 'analyst', org: null };

const world = kidWorldForFile({
  people: 2000,
  from: '2020-04',
  to: '2020-09',
  datasets: DATASETS,
  defects: 'none',
  timeout: 240_000,
});

const truthConditionCount = (p: TruthPerson, day: string): number => truthConditionsOn(p, day).size;
const ageOn = (p: TruthPerson, day: string): number => Math.floor(ageInMonthsOn(p, day) / 12);
const pyramidBand = (age: number): string =>
  age >= 90 ? '90+' : `${Math.floor(age / 5) * 5}-${Math.floor(age / 5) * 5 + 4}`;
const conditionBand = (age: number): string => AGE_BANDS.find((b) => age < b.below)?.band ?? '85+';

/** An active use case titled `Population health PURPOSE DATASETS` (test/use-cases.ts). */
const useCase = (
  store: Store,
  purpose: Purpose,
  datasets: string[],
  controllers: string[],
): Promise<string> => readingUseCaseId(store, 'Population health', purpose, datasets, controllers);

describe.each(testStores())('the population health dashboard on $engine', (engine) => {
  let store: Store;
  let controllers: string[];
  let planning: string;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });
  /** The dashboard on DAY as the analyst reads it under `useCaseId`: the whole ICS unless `scope` says. */
  const readOnDay = (useCaseId: string, scope = 'ics') =>
    readPopulationHealth(store, { user: analyst, useCaseId }, { scope: parseScope(scope), day: DAY });
  beforeAll(async () => {
    controllers = [...new Set(world.records.map((r) => r.org))].sort();
    for (const org of controllers) {
      const datasets = [...new Set(world.records.filter((r) => r.org === org).map((r) => r.dataset))];
      await createAgreement(store, { org, datasets, from: '2019-04', to: '2030-03' }, 'test');
    }
    planning = await useCase(store, 'planning', DATASETS, controllers);
  });

  const living = (day: string, practice?: string): TruthPerson[] =>
    world.people.filter(
      (p) =>
        aliveOn(p, day) && (practice === undefined || truthAddressOn(world, p, day)?.practice === practice),
    );

  function expectTruth(f: PopulationHealthFigures, people: TruthPerson[]): void {
    expect(f.people).toBe(people.length);
    for (const row of f.pyramid) {
      const inBand = people.filter((p) => pyramidBand(ageOn(p, f.day)) === row.band);
      expect(row.female + row.male + row.other, row.band).toBe(inBand.length);
      expect(row.female, row.band).toBe(inBand.filter((p) => p.sex === '2').length);
    }
    for (const row of f.byAge.filter((r) => r.band !== 'unknown')) {
      const inBand = people.filter((p) => conditionBand(ageOn(p, f.day)) === row.band);
      expect(row.people, row.band).toBe(inBand.length);
      expect(row.conditions, row.band).toBe(inBand.reduce((n, p) => n + truthConditionCount(p, f.day), 0));
      expect(row.multimorbidity, row.band).toBe(
        inBand.filter((p) => truthConditionCount(p, f.day) >= 2).length,
      );
    }
    const decileOf = (p: TruthPerson): string =>
      String(world.imdDecile.get(truthAddressOn(world, p, f.day)?.lsoa ?? '') ?? 'unknown');
    for (const row of f.byImdDecile) {
      const inDecile = people.filter((p) => decileOf(p) === row.decile);
      expect(row.people, `decile ${row.decile}`).toBe(inDecile.length);
      expect(row.conditions, `decile ${row.decile}`).toBe(
        inDecile.reduce((n, p) => n + truthConditionCount(p, f.day), 0),
      );
    }
    for (const row of f.prevalence.filter((p) => Object.values(CODE_LIST_OF).includes(p.condition))) {
      const names = Object.keys(CODE_LIST_OF).filter((n) => CODE_LIST_OF[n] === row.condition);
      const has = (p: TruthPerson): boolean =>
        names.some(
          (n) =>
            p.conditionsAtStart.includes(n) ||
            (p.incident === n && p.incidentDate !== null && p.incidentDate <= f.day),
        );
      expect(row.people, row.condition).toBe(people.filter(has).length);
    }
  }

  it('counts the whole system and a practice as the synthetic truth has them', async () => {
    // On the model's date the figures come from the person-level model; on any other day,
    // from the spine: both as the truth has them.
    expectTruth(await populationHealthFigures(store, DAY, parseScope('ics')), living(DAY));
    expectTruth(await populationHealthFigures(store, '2020-06-30', parseScope('ics')), living('2020-06-30'));
    const practices = [...new Set(living(DAY).map((p) => truthAddressOn(world, p, DAY)?.practice))].filter(
      (p): p is string => Boolean(p),
    );
    const practice = practices[0] as string;
    expectTruth(
      await populationHealthFigures(store, DAY, parseScope(`practice:${practice}`)),
      living(DAY, practice),
    );
    // An LSOA: the people living there on the day.
    const lsoa = truthAddressOn(world, living(DAY)[0] as TruthPerson, DAY)?.lsoa as string;
    const inLsoa = living(DAY).filter((p) => truthAddressOn(world, p, DAY)?.lsoa === lsoa);
    expect((await populationHealthFigures(store, DAY, parseScope(`lsoa:${lsoa}`))).people).toBe(
      inLsoa.length,
    );
    // Without a day, the latest the patient master index describes.
    expect(await defaultDashboardDay(store)).toMatch(/^2020-09-/);
  });

  it('shows multimorbidity earlier in deprived areas: more conditions at the same age in decile 1 than in decile 10', async () => {
    const f = await populationHealthFigures(store, DAY, parseScope('ics'));
    const mean = (band: string, decile: string): number => {
      const row = f.byAgeAndDecile.find((r) => r.band === band && r.decile === decile);
      return row && row.people > 0 ? row.conditions / row.people : NaN;
    };
    for (const band of ['40-64', '65-74']) {
      expect(mean(band, '1'), band).toBeGreaterThan(mean(band, '10'));
    }
    // And on the published figures: the most deprived quintile ahead of the least at 40-64.
    const shown = await readOnDay(planning);
    const published = (q: string): number => {
      const value = shown.byAgeAndQuintile?.find(
        (r) => r.band === '40-64' && r.quintile === q,
      )?.meanConditions;
      return typeof value === 'number' ? value : NaN;
    };
    expect(published('1')).toBeGreaterThan(published('5'));
  });

  it('controls small numbers in a small practice, as the HES 2018 rule does', async () => {
    const byPractice = new Map<string, number>();
    for (const p of living(DAY)) {
      const practice = truthAddressOn(world, p, DAY)?.practice;
      if (practice) byPractice.set(practice, (byPractice.get(practice) ?? 0) + 1);
    }
    const smallest = [...byPractice.entries()].sort((a, b) => a[1] - b[1])[0]?.[0] as string;
    const scope = parseScope(`practice:${smallest}`);
    const raw = await populationHealthFigures(store, DAY, scope, { optOut: true });
    const shown = await readPopulationHealth(
      store,
      { user: analyst, useCaseId: planning },
      { scope, day: DAY },
    );
    expect(populationHealthSchema.parse(shown)).toEqual(shown);
    expect(shown.rule).toContain('*');
    expect(shown.people).toBe(controlCount(raw.people, HES_2018));
    const counts = shown.pyramid?.flatMap((p) => [p.female, p.male, p.other]) ?? [];
    expect(counts.every((n) => n === '*' || n % 5 === 0)).toBe(true);
    expect(counts).toContain('*');
    shown.pyramid?.forEach((p, i) =>
      expect(p.female).toBe(controlCount(raw.pyramid[i]?.female ?? -1, HES_2018)),
    );
    // A mean is published only where its group's count is.
    for (const row of shown.byAge ?? []) if (row.people === '*') expect(row.meanConditions).toBe('*');
    expect((shown.byAge ?? []).some((r) => r.people === '*')).toBe(true);
  });

  it('leaves opted-out people out of planning figures, never out of direct care', async () => {
    const directCare = await useCase(store, 'direct-care', DATASETS, controllers);
    const population = await populationOn(store, DAY);
    const before = await populationHealthFigures(store, DAY, parseScope('ics'));
    const optedOut = [...new Set(population.map((p) => p.person_token))].filter((_, i) => i % 4 === 0);
    await loadOptOutTokens(store, optedOut, 'test list', 'test');
    const raw = await populationHealthFigures(store, DAY, parseScope('ics'), { optOut: true });
    expect(raw.people).toBe(before.people - optedOut.length);
    expect(raw.prevalence.reduce((n, p) => n + p.people, 0)).toBeLessThan(
      before.prevalence.reduce((n, p) => n + p.people, 0),
    );
    const planned = await readOnDay(planning);
    expect(planned.optOutApplied).toBe(true);
    expect(planned.people).toBe(controlCount(raw.people, HES_2018));
    const care = await readOnDay(directCare);
    expect(care.optOutApplied).toBe(false);
    expect(care.people).toBe(controlCount(before.people, HES_2018));
  });

  it('leaves out a panel whose sources the use case does not cover, and refuses without the conditions', async () => {
    const noResidence = await useCase(store, 'planning', ['pmi', 'gp-events'], controllers);
    const shown = await readOnDay(noResidence);
    expect(shown.byImdDecile).toBeNull();
    expect(shown.pyramid).not.toBeNull();
    expect(shown.leftOut.find((l) => l.panel === 'deprivation')?.reason).toContain('asc');
    const pmiOnly = await useCase(store, 'planning', ['pmi'], controllers);
    await expect(readOnDay(pmiOnly)).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('gp-events'),
    });
    expect(() => parseScope('ward:X')).toThrow(/not an area/);
  });

  it('prices each segment per person and setting as the person-level model has it, by practice', async () => {
    const [{ practice_code: practice } = { practice_code: '' }] = await store.query<{
      practice_code: string;
    }>(
      `SELECT practice_code, count(*) AS n FROM kid_person_model GROUP BY practice_code ORDER BY n DESC, practice_code LIMIT 1`,
    );
    const rows = await store.query<{ segment: string; people: number; emergency: number; total: number }>(
      `SELECT segment, count(*) AS people, sum(COALESCE(cost_emergency, 0)) AS emergency, sum(cost_total) AS total
       FROM kid_person_model WHERE practice_code = $1 GROUP BY segment`,
      [practice],
    );
    const f = await populationHealthFigures(store, DAY, parseScope(`practice:${practice}`));
    expect(f.costs?.asOf).toBe(DAY);
    expect(f.costs?.segments.map((s) => s.segment).sort()).toEqual(rows.map((r) => r.segment).sort());
    for (const row of rows) {
      const s = f.costs?.segments.find((x) => x.segment === row.segment);
      expect(s?.people, row.segment).toBe(Number(row.people));
      expect(s?.cost.emergency ?? NaN, row.segment).toBeCloseTo(Number(row.emergency), 2);
      const total = Object.values(s?.cost ?? {}).reduce((n, c) => n + c, 0);
      expect(total, row.segment).toBeCloseTo(Number(row.total), 2);
    }
    // Frailty: people aged 65+ alive on the model's date, by eFI category, as the model has them.
    const efi = await store.query<{ category: string; people: number }>(
      `SELECT efi_category AS category, count(*) AS people FROM kid_person_model
       WHERE practice_code = $1 AND death_date IS NULL AND efi_category IS NOT NULL GROUP BY efi_category`,
      [practice],
    );
    expect(f.frailty?.people).toBe(efi.reduce((n, r) => n + Number(r.people), 0));
    expect(f.frailty?.people).toBeGreaterThan(0);
    for (const c of f.frailty?.categories ?? [])
      expect(c.people, c.category).toBe(Number(efi.find((r) => r.category === c.category)?.people ?? 0));
    // A PCN the model does not place any practice in is refused, naming the scope.
    await expect(populationHealthFigures(store, DAY, parseScope('pcn:U00000'))).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'scope' },
    });
    // Published: a segment's cost per person only where its count of people is.
    const shown = await readOnDay(planning, `practice:${practice}`);
    expect(shown.costs?.segments.length).toBeGreaterThan(0);
    for (const s of shown.costs?.segments ?? [])
      expect(s.people === '*' ? s.total === '*' : typeof s.total === 'number' || s.total === null).toBe(true);
    expect(shown.leftOut.map((l) => l.panel)).not.toContain('costs');
    expect(shown.leftOut.map((l) => l.panel)).not.toContain('frailty');
    expect(shown.frailty?.categories.map((c) => c.category)).toEqual(['fit', 'mild', 'moderate', 'severe']);
  });

  it('answers the API only under a covering use case, audited, with every count controlled', async () => {
    const accounts = await accountsForEveryRole(store);
    const { app } = portalApp(store);
    const get = (query: string, token = accounts.analyst.token) =>
      app.request(`/api/v1/kid/population-health${query}`, { headers: { Authorization: `Bearer ${token}` } });
    const audited = async (action: string): Promise<number> =>
      Number(
        (
          await store.query<{ n: number }>(
            `SELECT count(*) AS n FROM audit_events WHERE action = $1 AND target LIKE 'kid:%' AND purpose = $2`,
            [action, pmiOnly],
          )
        )[0]?.n,
      );
    const pmiOnly = await useCase(store, 'planning', ['pmi'], controllers);
    const denied = await get(`?useCase=${pmiOnly}&date=${DAY}`);
    expect(denied.status).toBe(403);
    expect(await audited('data.read-denied')).toBe(1);

    const ok = await get(`?useCase=${planning}&date=${DAY}&scope=ics`);
    expect(ok.status).toBe(200);
    const body = populationHealthSchema.parse(await ok.json());
    expect(body.useCase.id).toBe(planning);
    const counts = [body.people, ...(body.prevalence ?? []).map((p) => p.people)];
    expect(counts.every((n) => n === '*' || n % 5 === 0)).toBe(true);
    const [reads] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM audit_events WHERE action = 'data.read' AND purpose = $1 AND target LIKE 'kid:%'`,
      [planning],
    );
    expect(Number(reads?.n)).toBeGreaterThan(0);
    // Asked again, the policy's decision stands (nothing it decides from changed) and the
    // view is recorded; the figures are counted afresh.
    expect((await get(`?useCase=${planning}&date=${DAY}&scope=ics`)).status).toBe(200);
    const [views] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM audit_events WHERE action = 'dashboard.viewed' AND purpose = $1
         AND target = 'dashboard:population-health'`,
      [planning],
    );
    expect(Number(views?.n)).toBeGreaterThan(0);
    expect((await get(`?useCase=${planning}&scope=ward:1`)).status).toBe(400);
    for (const scope of ['practice:NOPE', 'pcn:NOPE']) {
      const unknown = await get(`?useCase=${planning}&date=${DAY}&scope=${scope}`);
      expect(unknown.status, scope).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: { message: expect.stringContaining('NOPE') } });
    }
    // An LSOA as a practice: a code that cannot be one is a mistake in the field, and one no one
    // has lived in is refused rather than answered with noughts.
    const notAnLsoa = await get(`?useCase=${planning}&date=${DAY}&scope=lsoa:NOTANLSOA1`);
    expect(notAnLsoa.status).toBe(400);
    expect(await notAnLsoa.json()).toMatchObject({ error: { where: { field: 'scope' } } });
    const nobodyThere = await get(`?useCase=${planning}&date=${DAY}&scope=lsoa:E01999999`);
    expect(nobodyThere.status).toBe(404);
    expect(await nobodyThere.json()).toMatchObject({
      error: { message: expect.stringContaining('E01999999'), where: { field: 'scope' } },
    });
    // A day after the data ends (the world's last month) is not answered with everyone older.
    const future = await get(`?useCase=${planning}&date=2099-01-01&scope=ics`);
    expect(future.status).toBe(400);
    expect(await future.json()).toMatchObject({
      error: { message: expect.stringContaining('The data ends on'), where: { field: 'date' } },
    });
    // The page, for a signed-in analyst, under the same use case.
    const page = await app.request(`/kid/population-health?useCase=${planning}&date=${DAY}`, {
      headers: { Authorization: `Bearer ${accounts.analyst.token}` },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Conditions by age and deprivation');
    expect(html).toContain('<svg');
  });

  /** An analyst of the test's own, with an API token (the role's shared account is another test's). */
  async function analystToken(email: string): Promise<string> {
    const { user } = await addUser(store, { email, role: 'analyst', password: `${PASSWORD} 0` }, 'test');
    await changePassword(store, user.id, `${PASSWORD} 0`, PASSWORD, 'test');
    return (await createApiToken(store, email, 'test')).token;
  }

  it("reads the page's figures and its picker's areas with one read of the KID's version", async () => {
    // The page needs the areas of the version its figures come from; reading the version
    // again for them was a statement per page the API does not run (docs/kid.md).
    let versionReads = 0;
    const counting = new Proxy(store, {
      get(target, property) {
        if (property === 'query')
          return (sql: string, params?: never[]) => {
            if (/SELECT max\(version\) AS version FROM kid_current/.test(sql)) versionReads++;
            return target.query(sql, params);
          };
        const value = Reflect.get(target, property) as unknown;
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const request = { scope: parseScope('ics'), day: DAY };
    const page = await readPopulationHealthPage(counting, { user: analyst, useCaseId: planning }, request);
    expect(versionReads).toBe(1);
    expect(page.answer).toEqual(
      await readPopulationHealth(store, { user: analyst, useCaseId: planning }, request),
    );
    expect(page.areas).toEqual(await dashboardAreas(store, DAY));
    expect(page.areas.practices.length).toBeGreaterThan(0);
  });

  it("shows a mistake in the page's filters beside its field, as NHS.UK's form components mark it", async () => {
    // The form is written out rather than drawn by the NHS.UK macros (for speed): the error
    // state must still be the one those components give, tied to its field for screen readers.
    const token = await analystToken('form-analyst@portal.test');
    const { app } = portalApp(store);
    const page = async (query: string): Promise<string> => {
      const response = await app.request(`/kid/population-health?useCase=${planning}&${query}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(400);
      return response.text();
    };
    const day = await page('date=2020-13-45');
    expect(day).toContain('<div class="nhsuk-form-group nhsuk-form-group--error">');
    expect(day).toMatch(
      /<span class="nhsuk-error-message" id="date-error"><span class="nhsuk-u-visually-hidden">Error: <\/span>[^<]+<\/span>/,
    );
    expect(day).toMatch(
      /<input class="nhsuk-input nhsuk-input--error[^"]*" id="date"[^>]*aria-describedby="date-hint date-error"/,
    );
    expect(day).toContain('<a href="#date">');
    const area = await page('scope=ward:1');
    expect(area).toMatch(
      /<select class="nhsuk-select nhsuk-select--error" id="scope" name="scope" aria-describedby="scope-error">/,
    );
    expect(area).toMatch(/<span class="nhsuk-error-message" id="scope-error">/);
    expect(area).not.toContain('id="date-error"');
    // An LSOA typed in its own field is named there, where the summary's link leads.
    const lsoa = await page('lsoa=NOT-AN-LSOA');
    expect(lsoa).toContain('<a href="#lsoa">');
    expect(lsoa).toMatch(/<span class="nhsuk-error-message" id="lsoa-error">/);
    expect(lsoa).toMatch(
      /<input class="nhsuk-input nhsuk-input--error[^"]*" id="lsoa"[^>]*aria-describedby="lsoa-hint lsoa-error"/,
    );
    // A practice or PCN that does not exist is named, not shown as a dashboard of noughts.
    const practice = await page(`date=${DAY}&scope=practice:NOPE`);
    expect(practice).toContain('There is no practice NOPE');
    expect(practice).toMatch(/<span class="nhsuk-error-message" id="scope-error">/);
    expect(await page(`date=${DAY}&scope=pcn:NOPE`)).toContain('the PCN NOPE');
    // What the user typed is kept, escaped.
    expect(await page('date=%22%3E%3Cscript%3E')).toContain('value="&quot;&gt;&lt;script&gt;"');
  });

  it('is in the menu only for whoever it opens for, and deciding that audits nothing', async () => {
    // RWF's BI lead is a user of a use case covering the dashboard's sources, but RWF
    // controls none of them: the policy gives a provider only its own organisation's rows.
    const { user } = await addUser(
      store,
      { email: 'menu-provider@portal.test', role: 'provider', org: 'RWF', password: `${PASSWORD} 0` },
      'test',
    );
    await changePassword(store, user.id, `${PASSWORD} 0`, PASSWORD, 'test');
    const provider = (await createApiToken(store, 'menu-provider@portal.test', 'test')).token;
    await activeUseCase(store, {
      title: 'Population health for providers',
      datasets: ['pmi', 'gp-events'],
      controllers,
      users: ['role:provider'],
    });
    const { app } = portalApp(store);
    const get = (path: string, token: string) =>
      app.request(path, { headers: { Authorization: `Bearer ${token}` } });
    const reads = async (): Promise<number> =>
      Number(
        (
          await store.query<{ n: number }>(
            "SELECT count(*) AS n FROM audit_events WHERE action IN ('data.read', 'data.read-denied')",
          )
        )[0]?.n,
      );
    const link = 'href="/kid/population-health"';
    const before = await reads();
    expect(await (await get('/', provider)).text()).not.toContain(link);
    expect(await (await get('/', await analystToken('menu-analyst@portal.test'))).text()).toContain(link);
    expect(await reads()).toBe(before);
    // The page refuses the provider by the same decision, saying why.
    const refused = await get('/kid/population-health', provider);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('no active use case under which you may read');
  });

  it("offers in the page's picker the use cases the policy allows now, not those of a moment before", async () => {
    // The picker's list is kept per user and policy version (population-health-routes.ts):
    // a use case made, or a member taken off, shows once the policy's version is read again.
    const token = await analystToken('picker-analyst@portal.test');
    const { app } = portalApp(store);
    const picker = async (): Promise<string[]> => {
      const page = await app.request(`/kid/population-health?useCase=${planning}&date=${DAY}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(page.status).toBe(200);
      const select = /<select[^>]*id="useCase"[^>]*>([\s\S]*?)<\/select>/.exec(await page.text())?.[1] ?? '';
      return [...select.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1] as string);
    };
    const before = await picker();
    expect(before).toContain(planning);
    const later = (): Promise<void> => new Promise((r) => setTimeout(r, POLICY_VERSION_MAX_AGE_MS + 100));

    const added = await activeUseCase(store, {
      title: 'Population health picker',
      datasets: ['pmi', 'gp-events'],
      controllers,
      users: ['role:analyst'],
      start: '2021-04-01',
      end: '2099-03-31',
    });
    expect(before).not.toContain(added.id);
    await later();
    expect((await picker()).sort()).toEqual([...before, added.id].sort());

    await setUseCaseUsers(store, added.id, ['role:ig-lead'], 'test');
    await later();
    expect(await picker()).toEqual(before);
  });
});
