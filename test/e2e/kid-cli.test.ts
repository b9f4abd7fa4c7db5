/** `kernel kid build`, `status` and `linkage` through the CLI, on a loaded warehouse. */
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { runCli } from '../cli.ts';
import { makeKidWorld, type KidWorld } from '../kid-world.ts';
import { testStores } from '../stores.ts';

let world: KidWorld;
beforeAll(async () => {
  world = await makeKidWorld({
    people: 150,
    from: '2020-04',
    to: '2020-05',
    datasets: ['pmi'],
    defects: 'none',
  });
}, 120_000);

describe.each(testStores())('kernel kid on $engine', (engine) => {
  it('says it has not been built, builds, reports up to date, and rebuilds with --full', async () => {
    const where = await engine.fresh();
    const flags = ['--data', where.dataDir, '--store', where.store];
    const before = await runCli(['kid', 'build', ...flags]);
    expect(before.code).toBe(66);
    expect(before.stderr).toContain('No patient master index has been loaded');
    expect(before.stderr).not.toContain('    at ');

    const store = await openStore(where);
    await world.load(store);
    await store.close();

    const status = await runCli(['kid', 'status', ...flags]);
    expect(status.stdout).toContain('has not been built yet');
    const built = await runCli(['kid', 'build', '--json', ...flags]);
    expect(built.code).toBe(0);
    const summary = JSON.parse(built.stdout) as { version: number; mode: string; people: number };
    expect(summary.mode).toBe('full');
    expect(summary.people).toBe(
      world.people.filter((p) => p.birthDate <= '2020-05-31' && (p.deathDate ?? '9') >= '2020-04-01').length,
    );
    const again = await runCli(['kid', 'build', ...flags]);
    expect(again.stdout).toContain('up to date');
    // PMI alone: no month of GP events, so the person-level model has no date.
    expect(again.stdout).toContain('The person-level model has no date yet');
    const full = JSON.parse((await runCli(['kid', 'build', '--full', '--json', ...flags])).stdout) as {
      version: number;
    };
    expect(full.version).toBe(summary.version + 1);
    const after = JSON.parse((await runCli(['kid', 'status', '--json', ...flags])).stdout) as {
      version: number;
      stale: boolean;
      modelDate: unknown;
    };
    expect(after).toMatchObject({ version: full.version, stale: false });
    expect(after.modelDate).toEqual({
      asOf: null,
      latestMonth: null,
      waitingFor: [],
      feedsWaiting: 0,
      lastDueOn: null,
    });
    const linkage = JSON.parse((await runCli(['kid', 'linkage', '--json', ...flags])).stdout) as {
      dataset: string;
      rows: number;
      matched: number;
    }[];
    const pmi = linkage.filter((r) => r.dataset === 'pmi');
    expect(pmi.length).toBeGreaterThan(0);
    expect(pmi.every((r) => r.matched === r.rows)).toBe(true);
    expect((await runCli(['kid', 'linkage', ...flags])).stdout).toContain('not registered');
    const homes = JSON.parse(
      (await runCli(['kid', 'households', '--date', '2020-04-01', '--json', ...flags])).stdout,
    ) as {
      people: number;
      households: number;
    };
    expect(homes.people).toBeGreaterThan(100);
    expect(homes.households).toBeGreaterThan(20);
    const conditions = JSON.parse(
      (await runCli(['kid', 'conditions', '--date', '2020-04-01', '--json', ...flags])).stdout,
    ) as {
      people: number;
      prevalence: unknown[];
    };
    expect(conditions.people).toBe(homes.people);
    expect(conditions.prevalence.length).toBeGreaterThanOrEqual(17);
    const wrongDay = await runCli(['kid', 'households', '--date', '2020-02-30', ...flags]);
    expect(wrongDay.code).not.toBe(0);
    expect(wrongDay.stderr).toContain('is not a date');
  }, 120_000);
});
