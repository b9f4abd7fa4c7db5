import { beforeAll, describe, expect, it } from 'vitest';
import { kidWorldForFile, openWorldForSuite } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { readingUseCaseId } from '../../test/use-cases.ts';
import { createAgreement } from '../governance/agreements.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import type { Purpose } from '../governance/governance-values.ts';
import type { Store } from '../store/store.ts';
import { conditionSummary, readConditionSummary } from './conditions.ts';
import { populationOn } from './person-spine.ts';
import { auditEventCount } from '../../test/audit-event-count.ts';
import { kidApiForAnalyst } from '../../test/kid-api.ts';

const world = kidWorldForFile({
  people: 400,
  from: '2020-04',
  to: '2020-05',
  datasets: ['pmi', 'gp-events'],
  defects: 'none',
  timeout: 120_000,
});

const DAY = '2020-05-15';
const analyst = { id: 'u-analyst', role: 'analyst', org: null };

const useCase = (store: Store, purpose: Purpose, datasets: string[], controllers: string[]) =>
  readingUseCaseId(store, 'KID', purpose, datasets, controllers);

describe.each(testStores())('reading the KID through the access policy on $engine', (engine) => {
  let store: Store;
  let practices: string[];
  openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });
  beforeAll(async () => {
    practices = [...new Set(world.addresses.map((a) => a.practice))].filter(Boolean);
    for (const org of practices)
      await createAgreement(
        store,
        { org, datasets: ['pmi', 'gp-events'], from: '2019-04', to: '2030-03' },
        'test',
      );
  });

  it('leaves opted-out people out of planning reads, never out of direct care', async () => {
    const planning = await useCase(store, 'planning', ['pmi', 'gp-events'], practices);
    const directCare = await useCase(store, 'direct-care', ['pmi', 'gp-events'], practices);
    const everyone = await conditionSummary(store, DAY);
    // Opt out every fifth person in the population, among them people with conditions.
    const population = await populationOn(store, DAY);
    const optedOut = population.filter((_, i) => i % 5 === 0).map((p) => p.person_token);
    await loadOptOutTokens(store, optedOut, 'test list', 'test');

    const planned = await readConditionSummary(store, { user: analyst, useCaseId: planning }, DAY);
    expect(planned.people).toBe(everyone.people - optedOut.length);
    const [withConditions] = await store.query<{ n: number }>(
      `SELECT count(DISTINCT k.person_token) AS n FROM kid_condition_current k
       JOIN optouts o ON o.token = k.person_token WHERE k.first_date <= CAST($1 AS DATE)`,
      [DAY],
    );
    expect(Number(withConditions?.n)).toBeGreaterThan(0);
    const prevalence = (s: typeof everyone): number => s.prevalence.reduce((n, p) => n + p.people, 0);
    expect(prevalence(planned)).toBeLessThan(prevalence(everyone));

    const care = await readConditionSummary(store, { user: analyst, useCaseId: directCare }, DAY);
    expect(care.people).toBe(everyone.people);

    expect(await auditEventCount(store, 'data.read', 'kid:population+conditions')).toBe(2);
  });

  it('refuses a read whose use case does not cover a dataset the fields derive from', async () => {
    const pmiOnly = await useCase(store, 'planning', ['pmi'], practices);
    await expect(
      readConditionSummary(store, { user: analyst, useCaseId: pmiOnly }, DAY),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('derive from gp-events'),
    });
    expect(await auditEventCount(store, 'data.read-denied', 'kid:population+conditions')).toBe(1);
    await expect(
      readConditionSummary(store, { user: { id: 'x', role: 'viewer', org: null }, useCaseId: pmiOnly }, DAY),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('answers the API with every count disclosure-controlled, under a use case', async () => {
    const planning = await useCase(store, 'planning', ['pmi', 'gp-events'], practices);
    const get = await kidApiForAnalyst(store, 'conditions');
    const response = await get(`?useCase=${planning}&date=${DAY}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      people: number | '*';
      rule: string;
      prevalence: { people: number | '*' }[];
    };
    expect(body.rule).toContain('*');
    const counts = [body.people, ...body.prevalence.map((p) => p.people)];
    expect(counts.every((n) => n === '*' || n === 0 || (typeof n === 'number' && n % 5 === 0))).toBe(true);
    expect(counts.some((n) => n === '*' || (typeof n === 'number' && n > 0))).toBe(true);
    expect((await get(`?date=${DAY}`)).status).toBe(400);
  });
});
