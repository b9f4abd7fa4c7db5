/**
 * Issue 17: rebases and targets are data, set through the CLI and the API by the people who
 * own what a board sees, audited, and drawn on the maternity dashboard.
 */
import { describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.ts';
import { clearMaternityCache, maternityDashboard } from '../../src/analytics/maternity-dashboard.ts';
import { NO_DISCLOSURE_CONTROL } from '../../src/analytics/disclosure-control.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli } from '../cli.ts';
import { buildWorld, WINDOW } from '../maternity-world.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, portalApp, sessionFor } from './portal-helpers.ts';

describe.each(testStores())('chart rebases and targets on $engine', (engine) => {
  it('records them from the CLI and the API, audits them, and the dashboard draws them', async () => {
    clearMaternityCache();
    const target = await engine.fresh();
    const k = (...args: string[]) => runCli(['--data', target.dataDir, '--store', target.store, ...args]);
    const init = await k('init');
    expect(init.code, init.stderr).toBe(0);
    // DuckDB lets one process write a file at a time: the store is closed while the CLI runs.
    let store = await openStore(target);
    try {
      await buildWorld(store);
      const accounts = await accountsForEveryRole(store, 'RWF');
      const analyst = { user: { id: accounts.analyst.userId, role: 'analyst', org: null } };
      const before = await maternityDashboard(store, analyst, WINDOW, {
        disclosure: NO_DISCLOSURE_CONTROL,
        versionMaxAgeMs: 0,
      });
      const induction = (d: typeof before) => d.measures.find((m) => m.id === 'induction-of-labour')!;
      expect(induction(before).series.spc.segments).toHaveLength(1);
      expect(induction(before).series.spc.assurance).toBe('none');

      // the CLI: a rebase from February for every series, refused without a reason or for no chart
      await store.close();
      const rebase = await k(
        'charts',
        'rebase',
        '--chart',
        'maternity/induction-of-labour',
        '--from',
        '2021-02',
        '--reason',
        'New induction pathway',
      );
      expect(rebase.code, rebase.stderr).toBe(0);
      expect(rebase.stdout).toBe(
        'maternity/induction-of-labour (all) is rebased from 2021-02: New induction pathway.\n',
      );
      const noReason = await k(
        'charts',
        'rebase',
        '--chart',
        'maternity/induction-of-labour',
        '--from',
        '2021-03',
      );
      expect(noReason.code).not.toBe(0);
      expect(noReason.stderr).toMatch(/Say why/);
      const noChart = await k(
        'charts',
        'rebase',
        '--chart',
        'maternity/nothing',
        '--from',
        '2021-03',
        '--reason',
        'Because',
      );
      expect(noChart.stderr).toMatch(/"maternity\/nothing" is not a chart/);
      expect(noChart.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
      store = await openStore(target);

      // the API: a target, by the programme team; an analyst may not set one
      const portal = portalApp(store, target.dataDir);
      const post = (who: { token: string }, body: unknown) =>
        portal.app.request('/api/v1/charts/targets', {
          method: 'POST',
          headers: { Authorization: `Bearer ${who.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      const chart = 'maternity/term-admissions-neonatal';
      const refused = await post(accounts.analyst, {
        chart,
        target: 30,
        reason: 'Local ambition',
      });
      expect(refused.status).toBe(403);
      const bad = await post(accounts.programme, {
        chart,
        target: 'thirty',
        reason: 'Local ambition',
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: { code: 'usage', where: { field: 'target' } } });
      const set = await post(accounts.programme, {
        chart,
        target: 30,
        reason: 'Local ambition',
      });
      expect(set.status, await set.clone().text()).toBe(200);

      const after = await maternityDashboard(store, analyst, WINDOW, {
        disclosure: NO_DISCLOSURE_CONTROL,
        versionMaxAgeMs: 0,
      });
      const spc = induction(after).series.spc;
      expect(spc.rebases).toEqual([{ month: '2021-02', reason: 'New induction pathway' }]);
      expect(spc.segments.map((g) => [g.from, g.to])).toEqual([
        ['2021-01', '2021-01'],
        ['2021-02', '2021-03'],
      ]);
      // the first period is January alone (1 of 1 induced); the second, February and March
      expect(spc.segments[0]?.mean).toBe(100);
      expect(spc.target).toBeNull();
      const admissions = after.measures.find((m) => m.id === 'term-admissions-neonatal')!.series.spc;
      expect(admissions.target).toBe(30);
      expect(['consistently-passing', 'hit-and-miss', 'consistently-failing']).toContain(
        admissions.assurance,
      );
      expect(admissions.assuranceText).not.toMatch(/No target/);
      // every other measure is untouched
      expect(after.measures.find((m) => m.id === 'births')?.series.spc.segments).toHaveLength(1);

      // the page draws the rebase and the target
      const { cookie } = await sessionFor(store, accounts.analyst.userId);
      const html = await (
        await portal.app.request(`/dashboards/maternity?from=${WINDOW.from}&to=${WINDOW.to}`, {
          headers: { Cookie: cookie },
        })
      ).text();
      expect(html).toContain('Rebased from Feb 2021: New induction pathway');
      expect(html).toContain('From Feb 2021: New induction pathway');
      expect(html).toMatch(/Target 30%/);

      // the portal: the programme team sets a target and records a rebase through forms
      const team = await sessionFor(store, accounts.programme.userId);
      const page = await portal.app.request('/dashboards/maternity/charts', {
        headers: { Cookie: team.cookie },
      });
      expect(page.status).toBe(200);
      const teamHtml = await page.text();
      expect(teamHtml).toContain('New induction pathway');
      // the programme team may not open the dashboard itself: the charts are named, not linked
      expect(teamHtml).not.toMatch(/href="\/dashboards\/maternity["#]/);
      expect(teamHtml).toContain('>Booked by 10 weeks of pregnancy<');
      const owner = await sessionFor(store, accounts.admin.userId);
      const ownerHtml = await (
        await portal.app.request('/dashboards/maternity/charts', { headers: { Cookie: owner.cookie } })
      ).text();
      expect(ownerHtml).toMatch(/href="\/dashboards\/maternity#booking-by-10-weeks"/);
      const send = (path: string, fields: Record<string, string>) =>
        portal.app.request(path, {
          method: 'POST',
          headers: { Cookie: team.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf: team.csrf, ...fields }).toString(),
        });
      const noFormReason = await send('/dashboards/maternity/charts/target', {
        chart: 'maternity/booking-by-10-weeks',
        target: '60',
        scope: 'all',
        reason: '',
      });
      expect(noFormReason.status).toBe(400);
      expect(await noFormReason.text()).toContain('Say why, in 5 to 500 characters');
      const set2 = await send('/dashboards/maternity/charts/target', {
        chart: 'maternity/booking-by-10-weeks',
        target: '60',
        scope: 'all',
        reason: 'Local ambition for early booking',
      });
      expect([set2.status, set2.headers.get('Location')]).toEqual([
        303,
        '/dashboards/maternity/charts?done=target',
      ]);
      const rebased = await send('/dashboards/maternity/charts/rebase', {
        chart: 'maternity/smoking-at-booking',
        from: '2021-03',
        scope: 'RWF',
        reason: 'New smoking cessation service at RWF',
      });
      expect(rebased.status).toBe(303);
      const analystSession = await sessionFor(store, accounts.analyst.userId);
      expect(
        (
          await portal.app.request('/dashboards/maternity/charts', {
            headers: { Cookie: analystSession.cookie },
          })
        ).status,
      ).toBe(403);
      const settled = await maternityDashboard(store, analyst, WINDOW, {
        disclosure: NO_DISCLOSURE_CONTROL,
        versionMaxAgeMs: 0,
      });
      expect(settled.measures.find((m) => m.id === 'booking-by-10-weeks')?.series.spc.target).toBe(60);
      const rwfSmoking = settled.measures
        .find((m) => m.id === 'smoking-at-booking')
        ?.providers.find((p) => p.org === 'RWF');
      expect(rwfSmoking?.spc.rebases).toEqual([
        { month: '2021-03', reason: 'New smoking cessation service at RWF' },
      ]);
      // a rebase for one provider leaves the whole system's series alone
      expect(settled.measures.find((m) => m.id === 'smoking-at-booking')?.series.spc.rebases).toEqual([]);

      const actions = (await listAudit(store, { limit: 50 })).map((e) => e.action);
      expect(actions).toContain('chart.rebased');
      expect(actions).toContain('chart.target-set');

      // listed, then taken back
      await store.close();
      const list = await k('charts', '--json');
      const listed = JSON.parse(list.stdout) as {
        charts: { chart: string }[];
        rebases: unknown[];
        targets: unknown[];
      };
      expect(listed.charts.map((c) => c.chart)).toContain('maternity/neonatal-deaths');
      expect(listed.rebases).toHaveLength(2);
      expect(listed.targets).toHaveLength(2);
      expect(
        (
          await k(
            'charts',
            'rebase',
            '--chart',
            'maternity/induction-of-labour',
            '--from',
            '2021-02',
            '--remove',
          )
        ).code,
      ).toBe(0);
      expect(
        (await k('charts', 'target', '--chart', chart, '--clear', '--reason', 'Ambition withdrawn')).stdout,
      ).toBe('maternity/term-admissions-neonatal has no target now.\n');
      store = await openStore(target);
      const gone = await maternityDashboard(store, analyst, WINDOW, {
        disclosure: NO_DISCLOSURE_CONTROL,
        versionMaxAgeMs: 0,
      });
      expect(induction(gone).series.spc.segments).toHaveLength(1);
      expect(gone.measures.find((m) => m.id === 'term-admissions-neonatal')?.series.spc.target).toBeNull();
    } finally {
      await store.close();
    }
  }, 120_000);
});
