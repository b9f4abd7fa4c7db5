/**
 * The sign-off pack of one organisation × dataset × month: everything a BI lead needs to sign
 * off or reject in one place — the load's findings with line numbers, reconciliation, the
 * month's volume against the feed's history as an XmR chart (the one SPC module), and each
 * field's completeness against the month before — each as a check that passes, warns or
 * fails, the failing ones first. Opening the pack runs its checks: a `loaded` month becomes
 * `checked`.
 */
import { xmrChart, type SpcResult } from '../analytics/spc.ts';
import { getLoadReport, type LoadDetails } from '../ingest/load-history.ts';
import type { Queryable } from '../store/store.ts';
import { catalogueResults, type CatalogueResults } from '../quality/check-results.ts';
import { sampleRows, type SampleRows } from './sample-rows.ts';
import {
  decide,
  mayDecide,
  signOffHistory,
  signOffMonth,
  type SignOffCaller,
  type SignOffMonth,
} from './sign-off.ts';

export const PACK_CHECK_STATUSES = ['fail', 'warn', 'pass', 'not-applicable'] as const;
export type CheckStatus = (typeof PACK_CHECK_STATUSES)[number];

export interface PackCheck {
  id: string;
  status: CheckStatus;
  title: string;
  detail: string;
}

export interface SignOffPack {
  month: SignOffMonth;
  load: LoadDetails;
  /** failing first, then warnings, then passes */
  checks: PackCheck[];
  volume: { months: string[]; values: (number | null)[]; spc: SpcResult };
  completeness: { field: string; percent: number; previous: number | null }[];
  history: Awaited<ReturnType<typeof signOffHistory>>;
  /** the check catalogue's results for the month (src/quality/) */
  catalogue: CatalogueResults;
  /** a few random rows to eyeball: for the sending organisation's own people only (null otherwise) */
  sample: SampleRows | null;
  /** whether the caller may sign off or reject it, and publish it */
  mayDecide: boolean;
  mayPublish: boolean;
}

/** A finding over this share of the rows read fails the pack; under it, it warns. */
const FINDING_FAIL_SHARE = 0.01;
/** A month whose volume moves more than this from the month before is worth a look. */
const VOLUME_CHANGE_WARN = 0.3;
/** A field whose completeness falls by more than this many points is worth a look. */
const COMPLETENESS_DROP_WARN = 10;

const ORDER: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2, 'not-applicable': 3 };

export async function signOffPack(
  q: Queryable,
  caller: SignOffCaller,
  org: string,
  dataset: string,
  period: string,
): Promise<SignOffPack> {
  let month = await signOffMonth(q, caller, org, dataset, period);
  const load = await getLoadReport(q, month.loadId);
  const history = await q.query<{ period: string; rows_loaded: number; report: string | null }>(
    `SELECT period, rows_loaded, report FROM loads
      WHERE org_code = $1 AND dataset_id = $2 AND status = 'loaded' AND period IS NOT NULL AND period <= $3
      ORDER BY period`,
    [org, dataset, period],
  );
  const months = monthsFrom(history[0]?.period ?? period, period);
  const byMonth = new Map(history.map((h) => [h.period, Number(h.rows_loaded)]));
  const values = months.map((m) => byMonth.get(m) ?? null);
  const spc = xmrChart(values, { polarity: 'neutral' });
  const previous = history.filter((h) => h.period < period).at(-1);
  const previousCompleteness = new Map<string, number>(
    previous?.report
      ? ((
          JSON.parse(previous.report) as { completeness?: { field: string; percent: number }[] }
        ).completeness?.map((c) => [c.field, c.percent]) ?? [])
      : [],
  );
  const completeness = load.completeness.map((c) => ({
    field: c.field,
    percent: c.percent,
    previous: previousCompleteness.get(c.field) ?? null,
  }));
  const catalogue = await catalogueResults(q, { loadId: month.loadId, org, dataset, period });
  // The catalogue's failures and warnings join the pack's own checks, so the pack names every
  // failing check in one list; all its results are in `catalogue`.
  const flagged = catalogue.results
    .filter((r) => r.status === 'fail' || r.status === 'warn')
    .map((r): PackCheck => ({ id: `dq:${r.id}`, status: r.status, title: r.title, detail: r.detail }));
  const checks = [
    ...findingChecks(load),
    reconciliationCheck(load),
    volumeCheck(months, values, spc, previous ? Number(previous.rows_loaded) : null),
    ...completenessChecks(completeness),
    ...flagged,
  ].sort((a, b) => ORDER[a.status] - ORDER[b.status]);
  // The checks have run and are in front of someone who decides: the month is checked.
  if (month.state === 'loaded' && mayDecide(caller, org)) {
    month = await decide(q, caller, { org, dataset, period, decision: 'check', loadId: month.loadId });
  }
  return {
    month,
    load,
    checks,
    volume: { months, values, spc },
    completeness,
    history: await signOffHistory(q, caller, org, dataset, period),
    catalogue,
    sample: await sampleRows(q, caller, month),
    mayDecide: mayDecide(caller, org),
    mayPublish: caller.role === 'admin' || caller.role === 'operator',
  };
}

function findingChecks(load: LoadDetails): PackCheck[] {
  if (load.findings.length === 0) {
    return [
      {
        id: 'rows',
        status: 'pass',
        title: 'Every row passed the load’s rules',
        detail: `${load.rowsRead} rows read`,
      },
    ];
  }
  return load.findings.map((f) => {
    if (f.rule === 'control-total') {
      const [kind, a, b] = (f.field ?? '').split(':');
      const what =
        f.field === null
          ? 'row count'
          : kind === 'distinct'
            ? 'count of distinct patients'
            : kind === 'month'
              ? `rows for ${a} (by ${b})`
              : `total of ${f.field}`;
      return {
        id: `control-total-${f.field ?? 'rows'}`,
        status: 'fail' as const,
        title: `The sender's own ${what} differs from the load`,
        detail: `${f.expected ?? '?'} by the sender's system, ${f.actual ?? '?'} in the load${f.field ? ' (rows loaded)' : ' (rows read)'}`,
      };
    }
    const share = load.rowsRead > 0 ? f.count / load.rowsRead : 1;
    const where = f.firstLine !== null ? `, first at line ${f.firstLine}` : '';
    return {
      id: `finding-${f.rule}-${f.field ?? 'row'}`,
      status: share > FINDING_FAIL_SHARE ? 'fail' : 'warn',
      title: `${f.rule}${f.field ? ` on ${f.field}` : ''}`,
      detail: `${f.count} of ${load.rowsRead} rows (${(share * 100).toFixed(1)}%)${where}`,
    };
  });
}

function reconciliationCheck(load: LoadDetails): PackCheck {
  const accounted = load.rowsLoaded + load.rowsQuarantined + load.rowsDropped;
  return {
    id: 'reconciliation',
    status: accounted === load.rowsRead ? 'pass' : 'fail',
    title: 'Every row read is loaded, quarantined or dropped',
    detail: `${load.rowsRead} read = ${load.rowsLoaded} loaded + ${load.rowsQuarantined} quarantined + ${load.rowsDropped} dropped`,
  };
}

function volumeCheck(
  months: string[],
  values: (number | null)[],
  spc: SpcResult,
  previous: number | null,
): PackCheck {
  const latest = values.at(-1) ?? 0;
  const point = spc.points.at(-1);
  if (point?.rules.length) {
    return {
      id: 'volume',
      status: 'warn',
      title: 'The month’s volume is unusual for this feed (special cause)',
      detail: `${latest} rows; the feed's mean is ${Math.round(spc.mean ?? 0)} (process limits ${Math.round(spc.lowerProcessLimit ?? 0)}–${Math.round(spc.upperProcessLimit ?? 0)}), rules: ${point.rules.join(', ')}`,
    };
  }
  if (previous !== null && previous > 0 && Math.abs(latest - previous) / previous > VOLUME_CHANGE_WARN) {
    return {
      id: 'volume',
      status: 'warn',
      title: `The month’s volume moved ${latest > previous ? 'up' : 'down'} by more than ${VOLUME_CHANGE_WARN * 100}%`,
      detail: `${latest} rows against ${previous} the month before`,
    };
  }
  return {
    id: 'volume',
    status: 'pass',
    title: 'The month’s volume is usual for this feed',
    detail:
      months.length < 2
        ? 'This is the feed’s first month: nothing to compare with yet'
        : `${latest} rows; the feed's mean over ${months.length} months is ${Math.round(spc.mean ?? 0)}`,
  };
}

function completenessChecks(
  rows: { field: string; percent: number; previous: number | null }[],
): PackCheck[] {
  const drops = rows.filter((r) => r.previous !== null && r.previous - r.percent > COMPLETENESS_DROP_WARN);
  if (drops.length === 0) {
    return [
      {
        id: 'completeness',
        status: 'pass',
        title: 'No field is less complete than the month before',
        detail: `${rows.length} fields compared`,
      },
    ];
  }
  return drops.map((d) => ({
    id: `completeness-${d.field}`,
    status: 'warn',
    title: `${d.field} is less complete than the month before`,
    detail: `${d.percent}% filled, against ${d.previous}%`,
  }));
}

function monthsFrom(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  while ((y < ty || (y === ty && m <= tm)) && out.length < 120) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m += 1;
    if (m > 12) [y, m] = [y + 1, 1];
  }
  return out;
}
