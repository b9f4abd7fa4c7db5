import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MonthlyUpdate } from '../../src/reporting/monthly-update.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli, SMALL_DEMO } from '../cli.ts';
import { accountsForEveryRole, portalApp, sessionFor } from './portal-helpers.ts';

describe('the demo’s programme office', () => {
  it('seeds the 2021 plan and RAID log once, so the July 2021 update is drafted from the demo’s state', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'kernel-programme-demo-'));
    const argv = ['--data', data, ...SMALL_DEMO];
    const first = await runCli(argv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/programme: 10 workstreams, 16 milestones, 8 RAID items/);

    const report = await runCli(['--data', data, 'report', 'monthly', '--month', '2021-07', '--json']);
    expect(report.code, report.stderr).toBe(0);
    const july = JSON.parse(report.stdout) as MonthlyUpdate;
    expect(july.plan.months[0]).toBe('2021-01');
    expect(july.plan.months.at(-1)).toBe('2021-10');
    expect(july.plan.now).toBe('2021-07');
    expect(july.plan.rows.map((r) => r.title)).toEqual(
      expect.arrayContaining([
        'Proof of concept',
        'Phase 1',
        'Phase 2 & 3 scoping',
        'IG processes',
        'Infrastructure consultancy',
        'Website',
        'Processing capabilities',
        'Auditing capabilities',
        'Maternity datasets',
        'Maternity dashboard',
      ]),
    );
    // July's facts from the demo's records: the two payments recorded for July.
    expect(july.facts.map((f) => [f.kind, f.on])).toEqual([
      ['invoice-paid', '2021-07-20'],
      ['invoice-paid', '2021-07-27'],
    ]);
    const achieved = july.completed
      .find((g) => g.heading === 'Milestones achieved')
      ?.lines.map((l) => l.text);
    expect(achieved).toEqual([
      expect.stringContaining('Public transparency website live'),
      expect.stringContaining('Tamper-evident audit log verified'),
    ]);
    expect(july.keyRisks[0]?.text).toContain('Trust BI teams have no time to test and sign off datasets');
    expect(july.keyIssues.map((l) => l.text)).toEqual([
      expect.stringContaining('Maternity extracts differ between trusts'),
    ]);
    expect(july.outstanding.map((l) => l.text)).toEqual(
      expect.arrayContaining([expect.stringContaining('SUS loads completed for MTW')]),
    );

    // The tie to MTW's agreement completed the milestone on the agreement's signing day.
    const plan = await runCli(['--data', data, 'plan', '--json']);
    const milestones = (
      JSON.parse(plan.stdout) as {
        workstreams: { milestones: { title: string; state: string; doneOn: string }[] }[];
      }
    ).workstreams.flatMap((w) => w.milestones);
    expect(milestones.find((m) => m.title === 'Data sharing agreement signed by MTW')).toMatchObject({
      state: 'done',
      doneOn: '2021-03-15',
    });

    // Every line's evidence opens for the programme team, who read the update.
    const store = await openStore({ dataDir: data, store: 'duckdb' });
    try {
      const accounts = await accountsForEveryRole(store, 'QKS');
      const { cookie } = await sessionFor(store, accounts.programme.userId);
      const portal = portalApp(store, data);
      const hrefs = new Set(
        [...july.completed.flatMap((g) => g.lines), ...july.keyIssues, ...july.outstanding, ...july.keyRisks]
          .map((l) => l.href)
          .filter((h): h is string => typeof h === 'string' && h.startsWith('/')),
      );
      for (const fact of july.facts) hrefs.add(fact.href);
      expect(hrefs.size).toBeGreaterThan(3);
      for (const href of hrefs) {
        const response = await portal.app.request(href.split('#')[0] as string, {
          headers: { Cookie: cookie },
        });
        expect(response.status, href).toBe(200);
      }
    } finally {
      await store.close();
    }

    const again = await runCli(argv);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('programme: plan already seeded');
  }, 240_000);
});
