/**
 * What the programme team reads — the plan with its chart, the RAID log, one item with its
 * history — each brought up to date with Kernel's records first and checked against the
 * caller, for the CLI, the API and the portal alike.
 */
import type { Queryable } from '../store/store.ts';
import { planChart, planChartSvg, type PlanChart } from './plan-chart.ts';
import { getMilestone, milestoneHistory, readPlan, type Milestone, type Plan } from './programme-plan.ts';
import { refreshProgramme, type RefreshOptions, type RefreshResult } from './programme-refresh.ts';
import {
  assertProgrammeCaller,
  parseMonth,
  type HistoryEntry,
  type ProgrammeCaller,
} from './programme-values.ts';
import { getRaidItem, listRaidItems, raidHistory, type RaidFilter, type RaidItem } from './raid-log.ts';

export interface PlanView extends Plan {
  /** the month drawn as now */
  asAt: string;
  chart: PlanChart;
  svg: string;
}

/** The plan, refreshed, with its chart drawn as at `month` (this month by default). */
export async function planView(
  q: Queryable,
  caller: ProgrammeCaller,
  options: RefreshOptions & { month?: string } = {},
): Promise<PlanView> {
  assertProgrammeCaller(caller, 'read the plan');
  const now = options.now ?? new Date();
  await refreshProgramme(q, { ...options, now });
  const asAt = options.month ? parseMonth(options.month) : now.toISOString().slice(0, 7);
  const plan = await readPlan(q);
  const chart = planChart(plan, asAt);
  return { ...plan, asAt, chart, svg: planChartSvg(chart) };
}

export async function milestoneView(
  q: Queryable,
  id: string,
  caller: ProgrammeCaller,
): Promise<{ milestone: Milestone; history: HistoryEntry[] }> {
  assertProgrammeCaller(caller, 'read the plan');
  await refreshProgramme(q);
  return { milestone: await getMilestone(q, id), history: await milestoneHistory(q, id) };
}

export async function raidLogView(
  q: Queryable,
  caller: ProgrammeCaller,
  filter: RaidFilter = {},
  options: RefreshOptions = {},
): Promise<RaidItem[]> {
  assertProgrammeCaller(caller, 'read the RAID log');
  await refreshProgramme(q, options);
  return listRaidItems(q, filter);
}

export async function raidItemView(
  q: Queryable,
  id: string,
  caller: ProgrammeCaller,
): Promise<{ item: RaidItem; history: HistoryEntry[] }> {
  assertProgrammeCaller(caller, 'read the RAID log');
  await refreshProgramme(q);
  return { item: await getRaidItem(q, id), history: await raidHistory(q, id) };
}

/** `kernel plan refresh`: checks ties and automatic issues now, and says what changed. */
export async function refreshNow(
  q: Queryable,
  caller: ProgrammeCaller,
  options: RefreshOptions = {},
): Promise<RefreshResult> {
  assertProgrammeCaller(caller, 'refresh the plan and RAID log');
  return refreshProgramme(q, options);
}
