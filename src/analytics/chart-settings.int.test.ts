import { describe, expect, it } from 'vitest';
import { openWithMembersForSuite } from '../../test/members-store.ts';
import { testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { recordRebase, setTarget } from './chart-settings.ts';
import { isMaternityChart, maternityTargetRange } from './maternity-dashboard.ts';

const CHART = 'maternity/booking-by-10-weeks';

describe.each(testStores())('chart settings refuse what cannot be on $engine', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));
  const rebase = (over: { scope?: string; period?: string }) =>
    recordRebase(
      store,
      { chart: CHART, period: '2021-01', reason: 'New pathway', ...over },
      'test',
      isMaternityChart,
    );
  const target = (value: number | string, scope?: string) =>
    setTarget(
      store,
      { chart: CHART, target: value, reason: 'National ambition', ...(scope ? { scope } : {}) },
      'test',
      isMaternityChart,
      maternityTargetRange,
    );

  it('takes all or a registered organisation as the scope', async () => {
    await expect(rebase({ scope: 'bogus' })).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'scope' },
    });
    await expect(target(50, 'NOPE')).rejects.toMatchObject({ code: 'usage', where: { field: 'scope' } });
    expect((await rebase({ scope: 'rwf' })).scope).toBe('RWF');
  });

  it('refuses a rebase in a month still to come', async () => {
    const next = new Date();
    next.setUTCMonth(next.getUTCMonth() + 2);
    await expect(rebase({ period: next.toISOString().slice(0, 7) })).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'from' },
    });
  });

  it('refuses a percentage target outside 0 to 100, or not written in decimal', async () => {
    for (const value of ['150', '-5', '0x10', '1e2', 101]) {
      await expect(target(value)).rejects.toMatchObject({ code: 'usage', where: { field: 'target' } });
    }
    expect((await target('87.5'))?.target).toBe(87.5);
  });
});
