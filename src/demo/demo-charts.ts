/**
 * The demo's chart settings (issue 17): the induction chart rebased at the demo world's
 * known change, and two illustrative targets, so the dashboard shows a rebased chart and
 * assurance icons. Recorded through chart-settings.ts like any other, so audited; done once.
 */
import { DEMO_CHANGES } from './demo-window.ts';
import type { Queryable } from '../store/store.ts';
import { readChartSettings, recordRebase, setTarget } from '../analytics/chart-settings.ts';
import { CHART_PREFIX, isMaternityChart } from '../analytics/maternity-dashboard.ts';

export interface DemoCharts {
  rebases: number;
  targets: number;
}

/** Records the demo's rebase and targets, unless any chart setting exists already (null then). */
export async function seedDemoCharts(q: Queryable, actor: string): Promise<DemoCharts | null> {
  const existing = await readChartSettings(q, CHART_PREFIX);
  if (existing.rebases.length > 0 || existing.targets.length > 0) return null;
  for (const change of DEMO_CHANGES) {
    await recordRebase(
      q,
      {
        chart: `${CHART_PREFIX}${change.kind}`,
        period: change.from,
        reason:
          'New induction of labour pathway (demo: the synthetic world’s induced share rises from this month)',
      },
      actor,
      isMaternityChart,
    );
  }
  const targets: [string, number, string][] = [
    ['booking-by-10-weeks', 60, 'Demo: an illustrative local ambition for early booking'],
    ['term-admissions-neonatal', 6, 'Demo: an illustrative ambition for avoiding term admissions (ATAIN)'],
  ];
  for (const [measure, target, reason] of targets) {
    await setTarget(q, { chart: `${CHART_PREFIX}${measure}`, target, reason }, actor, isMaternityChart);
  }
  return { rebases: DEMO_CHANGES.length, targets: targets.length };
}
