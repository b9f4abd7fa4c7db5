/**
 * bench/kid's scale-up (bench/kid/replicate.ts) on both engines: a warehouse copied three
 * times over is three distinct sets of the same people's rows, and the KID built on it has
 * three times the people; the opt-out list put on it holds the copies of the people on it.
 */
import { describe, expect, it } from 'vitest';
import { loadBenchOptOuts } from '../../bench/kid/optouts.ts';
import { replicateLoads } from '../../bench/kid/replicate.ts';
import { buildSpine } from '../../src/kid/person-spine.ts';
import type { Store } from '../../src/store/store.ts';
import { kidWorldForFile, openWorldForSuite } from '../kid-world.ts';
import { testStores } from '../stores.ts';

const world = kidWorldForFile({
  people: 120,
  from: '2020-04',
  to: '2020-05',
  datasets: ['pmi', 'ecds'],
  defects: 'none',
  timeout: 120_000,
});

describe.each(testStores())('the bench warehouse replicated on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world });

  it('copies every loaded row under new tokens and load ids, and the KID counts each copy', async () => {
    const count = async (sql: string): Promise<number> =>
      Number((await store.query<{ n: number }>(sql))[0]?.n ?? 0);
    const before = {
      pmi: await count('SELECT count(*) AS n FROM ds_pmi'),
      tokens: await count('SELECT count(DISTINCT person_token) AS n FROM ds_pmi'),
      loads: await count(`SELECT count(*) AS n FROM loads WHERE status = 'loaded'`),
      people: (await buildSpine(store, { full: true })).people,
    };
    expect(before.people).toBeGreaterThan(0);

    const added = await replicateLoads(store, 3);
    expect(await count('SELECT count(*) AS n FROM ds_pmi')).toBe(3 * before.pmi);
    expect(await count('SELECT count(DISTINCT person_token) AS n FROM ds_pmi')).toBe(3 * before.tokens);
    expect(await count(`SELECT count(*) AS n FROM loads WHERE status = 'loaded'`)).toBe(3 * before.loads);
    expect(added).toBeGreaterThan(2 * before.pmi);
    expect((await buildSpine(store, { full: true })).people).toBe(3 * before.people);

    const listed = await loadBenchOptOuts(store, {
      percent: 10,
      name: 'test list',
      actor: 'test',
      replicas: 3,
    });
    const originals = await count(`SELECT count(*) AS n FROM optouts WHERE token NOT LIKE '%~%'`);
    expect(originals).toBe(Math.ceil(before.tokens / 10));
    expect(listed).toBe(3 * originals);
    // Every copy of a person on the list is a person of the warehouse, and on the list.
    expect(
      await count(
        `SELECT count(DISTINCT o.token) AS n FROM optouts o JOIN ds_pmi p ON p.person_token = o.token`,
      ),
    ).toBe(listed);
    expect(await count('SELECT sum(token_count) AS n FROM optout_batches')).toBe(listed);
    // A list already there is kept.
    expect(await loadBenchOptOuts(store, { percent: 50, name: 'another', actor: 'test', replicas: 3 })).toBe(
      listed,
    );
  });
});
