/**
 * What a chart's owner records about an SPC chart, kept as data and audited (issue 17):
 *
 * - a **rebase**: the process changed at a known month (a new pathway, a new definition),
 *   so the chart's limits are calculated afresh from that month (spc.ts `breaks`);
 * - a **target**: the value the measure is held to, so the chart can say whether the
 *   process will consistently pass it, hit and miss it, or consistently fail it.
 *
 * A chart is `<dashboard>/<measure>` (`maternity/robson-1`). A scope is an ODS code, for
 * one provider's series, or `all`, for the whole-system series and every provider's; a
 * provider's own target, where set, wins over `all`. Neither is warehouse data: both are
 * settings any user of the dashboard may see, with who set them and why.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { inTransaction, parseOrgCode, parsePeriod } from '../governance/governance-values.ts';
import { findOrganisation } from '../governance/organisations.ts';
import type { Queryable } from '../store/store.ts';

export interface ChartRebase {
  chart: string;
  scope: string;
  /** the first month of the new period, YYYY-MM */
  period: string;
  reason: string;
  recordedBy: string;
  recordedAt: string;
}

export interface ChartTarget {
  chart: string;
  scope: string;
  target: number;
  reason: string;
  setBy: string;
  setAt: string;
}

export interface ChartSettings {
  rebases: ChartRebase[];
  targets: ChartTarget[];
}

/** The charts a setting may name: the dashboards' measures, given by their owner. */
export type ChartNames = (chart: string) => boolean;

/** The targets a chart's measure can reach (0 to 100 for a percentage), given by its owner. */
export type TargetRange = (chart: string) => { min: number; max: number } | undefined;

const ALL = 'all';

function parseChart(raw: string, known: ChartNames): string {
  const chart = raw.trim();
  if (!known(chart)) {
    throw new KernelError('usage', `"${raw}" is not a chart`, {
      where: { field: 'chart' },
      hint: 'Name a chart as dashboard/measure, e.g. maternity/robson-1 (kernel charts list lists them)',
    });
  }
  return chart;
}

/** `all`, or the ODS code of a registered organisation: a setting for no one's series would never show. */
async function parseScope(q: Queryable, raw: string | undefined): Promise<string> {
  if (raw === undefined || raw.trim() === '' || raw.trim().toLowerCase() === ALL) return ALL;
  const code = parseOrgCode(raw, 'scope');
  if (!(await findOrganisation(q, code))) {
    throw new KernelError('usage', `No organisation ${code} is registered`, {
      where: { field: 'scope' },
      hint: 'Give all, or the ODS code of a registered provider; see `kernel orgs list`',
    });
  }
  return code;
}

/** A rebase marks a change already made: its month may not be after this one. */
function parseRebaseMonth(raw: string, now: Date): string {
  const period = parsePeriod(raw, 'from');
  const current = now.toISOString().slice(0, 7);
  if (period > current) {
    throw new KernelError('usage', `${period} is in the future; a rebase marks a change already made`, {
      where: { field: 'from' },
      hint: `Give the month the process changed, ${current} or before`,
    });
  }
  return period;
}

function parseReason(raw: string): string {
  const reason = raw.trim();
  if (reason.length < 5 || reason.length > 500) {
    throw new KernelError('usage', 'Say why, in 5 to 500 characters', {
      where: { field: 'reason' },
      hint: 'e.g. "New induction pathway from April 2021"',
    });
  }
  return reason;
}

/** Records that a chart's process changed in `period` (`chart.rebased` in the audit log). */
export async function recordRebase(
  q: Queryable,
  input: { chart: string; scope?: string; period: string; reason: string },
  actor: string,
  known: ChartNames,
): Promise<ChartRebase> {
  const rebase: ChartRebase = {
    chart: parseChart(input.chart, known),
    scope: await parseScope(q, input.scope),
    period: parseRebaseMonth(input.period, new Date()),
    reason: parseReason(input.reason),
    recordedBy: actor,
    recordedAt: new Date().toISOString(),
  };
  return inTransaction(q, async (tx) => {
    await tx.run('DELETE FROM chart_rebases WHERE chart = $1 AND scope = $2 AND period = $3', [
      rebase.chart,
      rebase.scope,
      rebase.period,
    ]);
    await tx.run(
      `INSERT INTO chart_rebases (chart, scope, period, reason, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [rebase.chart, rebase.scope, rebase.period, rebase.reason, actor, rebase.recordedAt],
    );
    await appendAudit(tx, {
      actor,
      action: 'chart.rebased',
      target: `chart:${rebase.chart}`,
      details: { scope: rebase.scope, period: rebase.period, reason: rebase.reason },
    });
    return rebase;
  });
}

/** Takes a rebase back (`chart.rebase-removed`); refused when there is none. */
export async function removeRebase(
  q: Queryable,
  input: { chart: string; scope?: string; period: string },
  actor: string,
  known: ChartNames,
): Promise<void> {
  const chart = parseChart(input.chart, known);
  const scope = await parseScope(q, input.scope);
  const period = parsePeriod(input.period, 'from');
  await inTransaction(q, async (tx) => {
    const [found] = await tx.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM chart_rebases WHERE chart = $1 AND scope = $2 AND period = $3',
      [chart, scope, period],
    );
    if (Number(found?.n ?? 0) === 0) {
      throw new KernelError('not-found', `${chart} has no rebase at ${period} for ${scope}`, {
        where: { field: 'from' },
        hint: 'kernel charts list shows the rebases recorded',
      });
    }
    await tx.run('DELETE FROM chart_rebases WHERE chart = $1 AND scope = $2 AND period = $3', [
      chart,
      scope,
      period,
    ]);
    await appendAudit(tx, {
      actor,
      action: 'chart.rebase-removed',
      target: `chart:${chart}`,
      details: { scope, period },
    });
  });
}

/** Sets (or, with `target: null`, clears) a chart's target (`chart.target-set` / `chart.target-cleared`). */
export async function setTarget(
  q: Queryable,
  input: { chart: string; scope?: string; target: number | string | null; reason: string },
  actor: string,
  known: ChartNames,
  rangeOf: TargetRange = () => undefined,
): Promise<ChartTarget | null> {
  const chart = parseChart(input.chart, known);
  const scope = await parseScope(q, input.scope);
  const reason = parseReason(input.reason);
  let target: number | null = null;
  if (input.target !== null) {
    const written = String(input.target).trim();
    target = typeof input.target === 'number' ? input.target : Number(written);
    // Decimal only: Number() would also read 0x10 as 16 and 1e2 as 100.
    if (!Number.isFinite(target) || (typeof input.target === 'string' && !/^-?\d+(\.\d+)?$/.test(written))) {
      throw new KernelError('usage', `"${input.target}" is not a number`, {
        where: { field: 'target' },
        hint: 'Give the target in the measure’s own unit as a decimal number, e.g. 25 for 25%',
      });
    }
    const range = rangeOf(chart);
    if (range && (target < range.min || target > range.max)) {
      throw new KernelError('usage', `${chart} cannot reach ${target}`, {
        where: { field: 'target' },
        hint: `Give a target from ${range.min} to ${range.max}, in the measure’s own unit`,
      });
    }
  }
  const at = new Date().toISOString();
  return inTransaction(q, async (tx) => {
    await tx.run('DELETE FROM chart_targets WHERE chart = $1 AND scope = $2', [chart, scope]);
    if (target !== null) {
      await tx.run(
        'INSERT INTO chart_targets (chart, scope, target, reason, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [chart, scope, target, reason, actor, at],
      );
    }
    await appendAudit(tx, {
      actor,
      action: target === null ? 'chart.target-cleared' : 'chart.target-set',
      target: `chart:${chart}`,
      details: { scope, target, reason },
    });
    return target === null ? null : { chart, scope, target, reason, setBy: actor, setAt: at };
  });
}

/** Every rebase and target recorded for charts whose name starts with `prefix` (e.g. `maternity/`). */
export async function readChartSettings(q: Queryable, prefix = ''): Promise<ChartSettings> {
  const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rebases = await q.query<{
    chart: string;
    scope: string;
    period: string;
    reason: string;
    recorded_by: string;
    recorded_at: string;
  }>(
    `SELECT chart, scope, period, reason, recorded_by, recorded_at FROM chart_rebases
     WHERE chart LIKE $1 ESCAPE '\\' ORDER BY chart, scope, period`,
    [like],
  );
  const targets = await q.query<{
    chart: string;
    scope: string;
    target: number;
    reason: string;
    set_by: string;
    set_at: string;
  }>(
    `SELECT chart, scope, target, reason, set_by, set_at FROM chart_targets
     WHERE chart LIKE $1 ESCAPE '\\' ORDER BY chart, scope`,
    [like],
  );
  return {
    rebases: rebases.map((r) => ({
      chart: r.chart,
      scope: r.scope,
      period: r.period,
      reason: r.reason,
      recordedBy: r.recorded_by,
      recordedAt: r.recorded_at,
    })),
    targets: targets.map((t) => ({
      chart: t.chart,
      scope: t.scope,
      target: Number(t.target),
      reason: t.reason,
      setBy: t.set_by,
      setAt: t.set_at,
    })),
  };
}

/** The rebases that apply to one series: its own scope's and `all`'s, in month order. */
export function rebasesFor(settings: ChartSettings, chart: string, org: string | null): ChartRebase[] {
  return settings.rebases
    .filter((r) => r.chart === chart && (r.scope === ALL || r.scope === org))
    .sort((a, b) => a.period.localeCompare(b.period));
}

/** The target that applies to one series: its provider's own, else `all`'s, else none. */
export function targetFor(settings: ChartSettings, chart: string, org: string | null): ChartTarget | null {
  const mine = org === null ? undefined : settings.targets.find((t) => t.chart === chart && t.scope === org);
  return mine ?? settings.targets.find((t) => t.chart === chart && t.scope === ALL) ?? null;
}
