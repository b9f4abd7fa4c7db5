/** Issue 16: feed schedules as data, and late months found against them, shown where people look. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { scheduledMonths, setFeedSchedule, workingDay } from '../../src/signoff/feed-schedules.ts';
import { decide } from '../../src/signoff/sign-off.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli } from '../cli.ts';
import { apcFeed, prepareForApc } from '../kill-load.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, portalApp, sessionFor } from './portal-helpers.ts';

describe('working days', () => {
  it('counts Monday to Friday', () => {
    expect(workingDay('2025-06', 1)).toBe('2025-06-02'); // 1 June 2025 was a Sunday
    expect(workingDay('2025-06', 10)).toBe('2025-06-13');
    expect(workingDay('2025-04', 10)).toBe('2025-04-14');
  });
});

describe.each(testStores())('feed schedules on $engine', (engine) => {
  it('finds late months, shows them on the coverage grid and the home page, and sets schedules from the CLI', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-schedules-'));
    const april = await apcFeed(dir, 'apc-2025-04', 60, '2025-04', 1);
    const target = await engine.fresh();
    const store = await openStore(target);
    try {
      await prepareForApc(store, dir);
      expect((await loadFeed(store, { org: 'RWF', dataset: 'apc', file: april, actor: 'test' })).status).toBe(
        'loaded',
      );
      await expect(
        setFeedSchedule(store, { org: 'RWF', dataset: 'apc', dueWorkingDay: 25, from: '2025-03' }, 'test'),
      ).rejects.toMatchObject({ code: 'usage' });
      await setFeedSchedule(
        store,
        { org: 'RWF', dataset: 'apc', dueWorkingDay: 10, from: '2025-03' },
        'test',
      );
      const states = async (today: string) =>
        (await scheduledMonths(store, new Date(`${today}T12:00:00Z`))).map((m) => [
          m.period,
          m.dueOn,
          m.state,
        ]);
      expect(await states('2025-06-10')).toEqual([
        ['2025-03', '2025-04-14', 'late'],
        ['2025-04', '2025-05-14', 'received'],
        ['2025-05', '2025-06-13', 'expected'],
      ]);
      expect((await states('2025-06-16')).at(-1)).toEqual(['2025-05', '2025-06-13', 'late']);
      const [event] = await listAudit(store, { action: 'feed.scheduled', limit: 1 });
      expect(JSON.parse(event!.details)).toEqual({
        dataset: 'apc',
        dueWorkingDay: 10,
        from: '2025-03',
        until: null,
      });
      // A schedule that ended covers no month after its end.
      await setFeedSchedule(
        store,
        { org: 'RWF', dataset: 'ecds', dueWorkingDay: 5, from: '2025-03', until: '2025-04' },
        'test',
      );
      expect(
        (await scheduledMonths(store, new Date('2025-09-01T12:00:00Z'), 'RWF'))
          .filter((m) => m.dataset === 'ecds')
          .map((m) => m.period),
      ).toEqual(['2025-03', '2025-04']);
      await store.run("DELETE FROM feed_schedules WHERE dataset_id = 'ecds'");

      // Where people look: the coverage grid marks the overdue gaps; the home page lists them.
      const accounts = await accountsForEveryRole(store, 'RWF');
      const portal = portalApp(store, target.dataDir);
      const grid = (await (
        await portal.app.request('/api/v1/coverage?org=RWF&from=2025-03&to=2025-05', {
          headers: { Authorization: `Bearer ${accounts.admin.token}` },
        })
      ).json()) as { datasets: { rows: { cells: { state: string }[] }[] }[] };
      expect(grid.datasets[0]?.rows[0]?.cells.map((c) => c.state)).toEqual(['late', 'loaded', 'late']);
      const { cookie } = await sessionFor(store, accounts.provider.userId);
      const home = await (await portal.app.request('/', { headers: { Cookie: cookie } })).text();
      expect(home).toContain('apc from RWF for 2025-03 is late: it was due by 2025-04-14');

      // April signed off and published shows so on the grid; a month still before its due day
      // shows as expected rather than as a gap
      const biLead = { actor: 'user:bi@rwf.test', role: 'provider', org: 'RWF' };
      const aprilMonth = { org: 'RWF', dataset: 'apc', period: '2025-04' };
      await decide(store, biLead, { ...aprilMonth, decision: 'sign-off' });
      await decide(
        store,
        { actor: 'user:admin@kernel.test', role: 'admin', org: null },
        { ...aprilMonth, decision: 'publish' },
      );
      const now = new Date();
      const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1))
        .toISOString()
        .slice(0, 7);
      await setFeedSchedule(
        store,
        { org: 'RWF', dataset: 'op', dueWorkingDay: 20, from: lastMonth, until: lastMonth },
        'test',
      );
      const due = (await scheduledMonths(store, now, 'RWF')).find((m) => m.dataset === 'op')?.state;
      // a fresh portal: the grid rereads schedules and decisions at most once a second
      const later = portalApp(store, target.dataDir);
      const read = async (from: string, to: string) =>
        (await (
          await later.app.request(`/api/v1/coverage?org=RWF&from=${from}&to=${to}`, {
            headers: { Authorization: `Bearer ${accounts.admin.token}` },
          })
        ).json()) as {
          datasets: { dataset: string; rows: { cells: { state: string; signOff?: string }[] }[] }[];
        };
      const apc = (await read('2025-03', '2025-05')).datasets.find((d) => d.dataset === 'apc');
      expect(apc?.rows[0]?.cells.map((c) => [c.state, c.signOff ?? null])).toEqual([
        ['late', null],
        ['loaded', 'published'],
        ['late', null],
      ]);
      const op = (await read(lastMonth, lastMonth)).datasets.find((d) => d.dataset === 'op');
      expect(['late', 'expected']).toContain(due);
      expect(op?.rows[0]?.cells[0]?.state).toBe(due);
      const page = await (
        await later.app.request(`/catalogue/coverage?org=RWF&from=2025-03&to=2025-05`, {
          headers: { Cookie: cookie },
        })
      ).text();
      expect(page).toContain('Published');
    } finally {
      await store.close();
    }
    const k = (...args: string[]) => runCli(['--data', target.dataDir, '--store', target.store, ...args]);
    const schedule = (...more: string[]) =>
      k(
        'feeds',
        'schedule',
        '--org',
        'RWF',
        '--dataset',
        'apc',
        '--due-day',
        '8',
        '--from',
        '2025-04',
        ...more,
      );
    expect((await schedule()).stdout).toBe(
      "RWF's apc is due monthly by working day 8 of the month after, from 2025-04.\n",
    );
    const late = await k('feeds', 'late');
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toMatch(/RWF\s+apc\s+2025-05\s+2025-06-11\s+late/);
    expect(late.stdout).not.toMatch(/2025-04\s/);
    // --until ends a schedule from the CLI too
    const ended = await schedule('--until', '2025-04');
    expect(ended.stdout).toBe(
      "RWF's apc is due monthly by working day 8 of the month after, from 2025-04 until 2025-04.\n",
    );
    expect((await k('feeds', 'late')).stdout).not.toMatch(/2025-05/);
  }, 60_000);
});
