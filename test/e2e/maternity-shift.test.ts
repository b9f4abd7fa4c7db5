/**
 * Issue 17: a real change, injected into the synthetic world, is flagged on the dashboard
 * within the run length. The world's induced share of labours rises from about 33% to 55%
 * from June 2021 (truth/changes.json); its MSDS extracts go through the real agent and the
 * real load, and the induction-of-labour chart must show special cause in one of the seven
 * months from the change, and no high one in the 17 months before it. (Months before the change
 * may be flagged low: the chart's mean includes the raised months, as it would for a board
 * until the chart is rebased at the change.)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_DISCLOSURE_CONTROL } from '../../src/analytics/disclosure-control.ts';
import { clearMaternityCache, maternityDashboard } from '../../src/analytics/maternity-dashboard.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import { DEFECT_KINDS } from '../../src/synth/defects.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { testStores } from '../stores.ts';
import { loadWorldFeeds } from '../world-feeds.ts';

const FROM = '2020-01';
const TO = '2021-12';
const CHANGE = '2021-06';
const ACUTE = ['RN7', 'RPA', 'RVV', 'RWF'];

describe('a change injected into the synthetic world', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-maternity-shift-'));
  const worldDir = path.join(dir, 'world');
  it.each(testStores().filter((s) => s.engine === 'duckdb'))(
    'is flagged within the run length on the induction chart ($engine)',
    async (engine) => {
      clearMaternityCache();
      generateWorld({
        out: worldDir,
        people: 80_000,
        seed: 3,
        from: FROM,
        to: TO,
        defectRates: Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])),
        changes: [{ kind: 'induction-of-labour', from: CHANGE, share: 0.55 }],
      });
      expect(JSON.parse(readFileSync(path.join(worldDir, 'truth', 'changes.json'), 'utf8'))).toEqual([
        { kind: 'induction-of-labour', from: CHANGE, share: 0.55 },
      ]);
      const store = await engine.open();
      try {
        await seedDemoGovernance(store, 'test');
        await loadWorldFeeds(store, {
          worldDir,
          outbox: path.join(dir, 'outbox'),
          orgs: ACUTE,
          datasets: ['msds-booking', 'msds-delivery', 'msds-baby'],
        });
        const result = await maternityDashboard(
          store,
          { user: { id: 'u-analyst', role: 'analyst', org: null } },
          { from: FROM, to: TO },
          { disclosure: NO_DISCLOSURE_CONTROL },
        );
        const induction = result.measures.find((m) => m.id === 'induction-of-labour')!;
        const points = induction.series.points;
        const changeAt = result.months.indexOf(CHANGE);
        expect(changeAt).toBe(17);
        const mean = induction.series.spc.mean ?? NaN;
        const high = (i: number): boolean =>
          (points[i]?.rules.length ?? 0) > 0 &&
          typeof points[i]?.value === 'number' &&
          (points[i]?.value as number) > mean;
        // found high within the run length of the change ...
        const firstHigh = points.findIndex((_, i) => high(i));
        expect(firstHigh).toBeGreaterThanOrEqual(changeAt);
        expect(firstHigh).toBeLessThan(changeAt + 7);
        // ... and every month from the change on is part of the signal (the shift's run)
        expect(points.slice(changeAt).every((p) => p.rules.includes('shift'))).toBe(true);
      } finally {
        await store.close();
      }
    },
    300_000,
  );
});
