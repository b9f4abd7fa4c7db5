/**
 * The check catalogue's results for one load: its profile, and its feed's earlier months'
 * (the loads standing for each earlier month, oldest first), through `evaluateChecks`.
 * Reads load metadata only (loads, load_profiles), never warehouse rows.
 */
import { xmrChart, type SpcResult } from '../analytics/spc.ts';
import { KernelError } from '../errors.ts';
import type { FieldCompleteness, LoadFinding } from './load-findings.ts';
import type { Queryable } from '../store/store.ts';
import {
  evaluateChecks,
  type CheckResult,
  type CheckStatus,
  type EarlierProfile,
  type LoadProfile,
} from './check-catalogue.ts';
import { profileFromReport } from './load-profile.ts';

export interface CatalogueResults {
  /** checks by status */
  counts: Record<CheckStatus, number>;
  /** failing first, then warnings, passes and not applicable */
  results: CheckResult[];
  /** the months compared with */
  compared: { previous: string | null; sameMonthLastYear: string | null };
  /**
   * for each field whose completeness over time fails or warns (at most four), its
   * completeness month by month with the XmR chart the check read
   */
  rates: { field: string; months: string[]; values: number[]; spc: SpcResult }[];
}

const MAX_RATE_CHARTS = 4;

type ProfiledLoad = {
  load_id: string;
  period: string;
  rows_read: number | null;
  rows_loaded: number | null;
  rows_dropped: number | null;
  report: string | null;
  profile: string | null;
};

const PROFILED = `SELECT l.load_id, l.period, l.rows_read, l.rows_loaded, l.rows_dropped, l.report, p.profile
  FROM loads l LEFT JOIN load_profiles p ON p.load_id = l.load_id`;

/** A load's stored profile, or, for a load from before profiles were kept, one from its report. */
function profileOf(row: ProfiledLoad): LoadProfile {
  if (row.profile) return JSON.parse(row.profile) as LoadProfile;
  const report = row.report
    ? (JSON.parse(row.report) as { findings?: LoadFinding[]; completeness?: FieldCompleteness[] })
    : {};
  return profileFromReport({
    rowsRead: Number(row.rows_read ?? 0),
    rowsLoaded: Number(row.rows_loaded ?? 0),
    rowsDropped: Number(row.rows_dropped ?? 0),
    findings: report.findings ?? [],
    completeness: report.completeness ?? [],
  });
}

export async function catalogueResults(
  q: Queryable,
  load: { loadId: string; org: string; dataset: string; period: string },
): Promise<CatalogueResults> {
  const [current] = await q.query<ProfiledLoad>(`${PROFILED} WHERE l.load_id = $1`, [load.loadId]);
  if (!current) throw new KernelError('not-found', `No load ${load.loadId}`, { where: { field: 'load' } });
  const profile = profileOf(current);
  const earlier: EarlierProfile[] = (
    await q.query<ProfiledLoad>(
      `${PROFILED} WHERE l.org_code = $1 AND l.dataset_id = $2 AND l.status = 'loaded' AND l.period IS NOT NULL AND l.period < $3
        ORDER BY l.period`,
      [load.org, load.dataset, load.period],
    )
  ).map((row) => ({ period: row.period, profile: profileOf(row) }));
  const results = evaluateChecks(load.dataset, load.period, profile, earlier);
  const history = [...earlier, { period: load.period, profile }];
  const rates = results
    .filter(
      (r) => r.kind === 'completeness-over-time' && (r.status === 'fail' || r.status === 'warn') && r.field,
    )
    .slice(0, MAX_RATE_CHARTS)
    .map((r) => {
      const field = r.field as string;
      const values = history.map(
        (h) => Math.round(((h.profile.filled[field] ?? 0) * 1000) / Math.max(1, h.profile.rowsKept)) / 10,
      );
      return {
        field,
        months: history.map((h) => h.period),
        values,
        spc: xmrChart(values, { polarity: 'higher-is-better' }),
      };
    });
  const counts: Record<CheckStatus, number> = { fail: 0, warn: 0, pass: 0, 'not-applicable': 0 };
  for (const r of results) counts[r.status]++;
  const lastYear = `${Number(load.period.slice(0, 4)) - 1}${load.period.slice(4)}`;
  return {
    counts,
    results,
    rates,
    compared: {
      previous: earlier.at(-1)?.period ?? null,
      sameMonthLastYear: earlier.some((e) => e.period === lastYear) ? lastYear : null,
    },
  };
}
