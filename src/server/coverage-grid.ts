import {
  controlCount,
  type ControlledCount,
  type DisclosurePolicy,
} from '../analytics/disclosure-control.ts';
import { KernelError } from '../errors.ts';
import { addMonths, parsePeriod } from '../governance/governance-values.ts';
import { loadHistoryChanges } from '../ingest/load-history.ts';
import type { Store } from '../store/store.ts';

/**
 * The catalogue's coverage grid: organisation × dataset × month, from the load history.
 * A read model over `loads` (metadata about loads, not warehouse rows). The rows read and
 * the grids built are cached, keyed by a stamp of the load history (`historyStamp`: count,
 * latest start, latest finish, number loaded), read with one cheap aggregate: a load in
 * this process invalidates them at once, a load elsewhere within a second.
 */

/**
 * `late`: nothing loaded for a month whose scheduled due day has passed; `expected`: nothing
 * loaded yet for a scheduled month still before its due day (feed schedules).
 */
export const CELL_STATES = ['loaded', 'running', 'refused', 'failed', 'gap', 'late', 'expected'] as const;
export type CellState = (typeof CELL_STATES)[number];

export interface CoverageCell {
  period: string;
  state: CellState;
  /** rows loaded; `*` where disclosure control suppresses it (`controlCoverage`) */
  rows: ControlledCount;
  loadId: string | null;
  /** where a loaded month stands in sign-off, once its BI lead has signed it off */
  signOff?: 'signed-off' | 'published';
}

export interface CoverageRow {
  org: string;
  cells: CoverageCell[];
}

export interface CoverageDataset {
  dataset: string;
  rows: CoverageRow[];
}

export interface CoverageGrid {
  months: string[];
  datasets: CoverageDataset[];
}

/** How long a stamp read from the store is trusted for loads made by other processes. */
const STAMP_MAX_AGE_MS = 1000;

/** The most months one grid shows: ten years. */
export const MAX_GRID_MONTHS = 120;

/** An ODS code: 3 to 6 letters and digits (trusts RWF, sites RWF01, practices G82001). */
const ODS_CODE = /^[A-Z0-9]{3,6}$/;

/** Organisations whose load rows are kept: one per organisation asked for, then the oldest go. */
const MAX_CACHED_ORGS = 256;

/** Every month from `from` to `to`, both included (checked months: at most MAX_GRID_MONTHS). */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m);
  return out;
}

// A cell shows the load that stands: a loaded one over one in progress over a refusal.
const RANK: Record<string, number> = { loaded: 4, running: 3, failed: 2, refused: 1 };

interface LoadCellRow {
  org_code: string;
  dataset_id: string;
  period: string;
  status: string;
  rows_loaded: number | null;
  load_id: string;
  [column: string]: string | number | null;
}

export interface CoverageQuery {
  org?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export class CoverageGridReader {
  private readonly cache = new Map<string, { stamp: string; rows: LoadCellRow[] }>();

  constructor(private readonly store: Store) {}

  private stampMemo: { at: number; changes: number; stamp: Promise<string> } | undefined;

  /**
   * Changes whenever a load starts, finishes or changes state. Read again when this process
   * has loaded something since (`loadHistoryChanges`), and otherwise at most once every
   * `STAMP_MAX_AGE_MS`, for loads by other processes (PostgreSQL has several writers).
   */
  private historyStamp(): Promise<string> {
    const now = performance.now();
    const changes = loadHistoryChanges();
    const memo = this.stampMemo;
    if (memo && memo.changes === changes && now - memo.at <= STAMP_MAX_AGE_MS) return memo.stamp;
    const stamp = this.readHistoryStamp();
    this.stampMemo = { at: now, changes, stamp };
    stamp.catch(() => (this.stampMemo = undefined));
    return stamp;
  }

  private async readHistoryStamp(): Promise<string> {
    const [row] = await this.store.query<{
      n: number;
      started: string | null;
      finished: string | null;
      loaded: number | null;
    }>(
      `SELECT count(*) AS n, max(started_at) AS started, max(finished_at) AS finished,
              sum(CASE WHEN status = 'loaded' THEN 1 ELSE 0 END) AS loaded FROM loads`,
    );
    return `${row?.n}|${row?.started}|${row?.finished}|${row?.loaded}`;
  }

  private readonly grids = new Map<string, CoverageGrid>();

  private async rowsFor(org: string | undefined, stamp: string): Promise<LoadCellRow[]> {
    const key = org ?? '*';
    const cached = this.cache.get(key);
    if (cached && cached.stamp === stamp) return cached.rows;
    const rows = await this.store.query<LoadCellRow>(
      `SELECT org_code, dataset_id, period, status, rows_loaded, load_id FROM loads
        WHERE period IS NOT NULL AND status <> 'superseded' ${org ? 'AND org_code = $1' : ''}
        ORDER BY started_at`,
      org ? [org] : [],
    );
    this.cache.delete(key);
    this.cache.set(key, { stamp, rows });
    // Bounded (issue 23, H2): every `org` asked for is a key, so a loop of made-up codes
    // must not grow the process without limit. Map keeps insertion order: oldest first.
    while (this.cache.size > MAX_CACHED_ORGS) this.cache.delete(this.cache.keys().next().value as string);
    return rows;
  }

  async read(query: CoverageQuery = {}): Promise<CoverageGrid> {
    for (const [field, value] of [
      ['from', query.from],
      ['to', query.to],
    ] as const) {
      if (value !== undefined) parsePeriod(value, field);
    }
    if (query.org !== undefined && !ODS_CODE.test(query.org)) {
      throw new KernelError('usage', `"${query.org.slice(0, 20)}" is not an organisation code`, {
        where: { field: 'org' },
        hint: 'Use an ODS code of 3 to 6 letters and digits, for example RWF',
      });
    }
    const stamp = await this.historyStamp();
    const gridKey = `${stamp}|${query.org ?? '*'}|${query.from ?? ''}|${query.to ?? ''}`;
    const memo = this.grids.get(gridKey);
    if (memo) return memo;
    const rows = await this.rowsFor(query.org, stamp);
    const latest = rows.reduce((max, r) => (r.period > max ? r.period : max), '');
    const to = query.to ?? (latest || new Date().toISOString().slice(0, 7));
    const from = query.from ?? addMonths(to, -11);
    if (from > to) {
      throw new KernelError('usage', `The first month (${from}) is after the last (${to})`, {
        where: { field: 'from' },
      });
    }
    const count = monthIndex(to) - monthIndex(from) + 1;
    if (count > MAX_GRID_MONTHS) {
      throw new KernelError(
        'usage',
        `The period covers ${count} months; the coverage grid shows at most ${MAX_GRID_MONTHS}`,
        { where: { field: 'from' }, hint: 'Choose a shorter period' },
      );
    }
    const months = monthsBetween(from, to);
    const best = new Map<string, LoadCellRow>();
    const feeds = new Map<string, Set<string>>();
    for (const row of rows) {
      (feeds.get(row.dataset_id) ?? feeds.set(row.dataset_id, new Set()).get(row.dataset_id))!.add(
        row.org_code,
      );
      const key = `${row.dataset_id}|${row.org_code}|${row.period}`;
      const current = best.get(key);
      if (!current || (RANK[row.status] ?? 0) >= (RANK[current.status] ?? 0)) best.set(key, row);
    }
    const datasets = [...feeds.keys()].sort().map((dataset) => ({
      dataset,
      rows: [...(feeds.get(dataset) ?? [])].sort().map((org) => ({
        org,
        cells: months.map((period): CoverageCell => {
          const hit = best.get(`${dataset}|${org}|${period}`);
          return hit
            ? {
                period,
                state: hit.status as CellState,
                rows: Number(hit.rows_loaded ?? 0),
                loadId: hit.load_id,
              }
            : { period, state: 'gap', rows: 0, loadId: null };
        }),
      })),
    }));
    const grid = { months, datasets };
    // Grids for an older history are never asked for again: drop them all when it changes.
    if (this.grids.size >= 64 || ![...this.grids.keys()].every((k) => k.startsWith(`${stamp}|`)))
      this.grids.clear();
    this.grids.set(gridKey, grid);
    return grid;
  }
}

const controlled = new WeakMap<CoverageGrid, Map<string, CoverageGrid>>();

/**
 * The grid with each cell's row count under `policy` (issue 23, H1: coverage counts are
 * counts of patients' records, 1–7 babies in a month as much as on a dashboard). Kept per
 * grid, so a page's tables are still rendered once per load history and policy.
 */
export function controlCoverage(grid: CoverageGrid, policy: DisclosurePolicy): CoverageGrid {
  if (policy.id === 'none') return grid;
  const byPolicy = controlled.get(grid) ?? new Map<string, CoverageGrid>();
  controlled.set(grid, byPolicy);
  const memo = byPolicy.get(policy.id);
  if (memo) return memo;
  const out = mapCells(grid, (c) => ({ ...c, rows: controlCount(Number(c.rows), policy) }));
  byPolicy.set(policy.id, out);
  return out;
}

/** What the feed schedules and sign-off say about the grid's months. */
export interface FeedStates {
  /** `dataset|org|period` → a scheduled month with nothing loaded: late or expected */
  scheduled: ReadonlyMap<string, 'late' | 'expected'>;
  /** load id → where its month stands in sign-off */
  signOffs: ReadonlyMap<string, 'signed-off' | 'published'>;
  /** changes whenever either does: the grids marked are kept per grid and stamp */
  stamp: string;
}

const withStates = new WeakMap<CoverageGrid, { stamp: string; grid: CoverageGrid }>();

/**
 * The grid as a feed's lifecycle shows it (issue 16): each gap whose month is scheduled shown
 * as `late` or `expected`, and each loaded month its BI lead has signed off (or the programme
 * published) marked so. Kept per grid and stamp, as `controlCoverage` is.
 */
export function markFeedStates(grid: CoverageGrid, states: FeedStates): CoverageGrid {
  if (states.scheduled.size === 0 && states.signOffs.size === 0) return grid;
  const memo = withStates.get(grid);
  if (memo && memo.stamp === states.stamp) return memo.grid;
  const out = mapCells(withScheduledFeeds(grid, states.scheduled), (c, dataset, org) => {
    const scheduled = c.state === 'gap' ? states.scheduled.get(`${dataset}|${org}|${c.period}`) : undefined;
    if (scheduled) return { ...c, state: scheduled };
    const signOff = c.loadId ? states.signOffs.get(c.loadId) : undefined;
    return signOff ? { ...c, signOff } : c;
  });
  withStates.set(grid, { stamp: states.stamp, grid: out });
  return out;
}

/**
 * The grid with a row of gaps for every scheduled feed that has loaded nothing yet (a member
 * just onboarded): its late and expected months are exactly what its grid should show.
 */
function withScheduledFeeds(
  grid: CoverageGrid,
  scheduled: ReadonlyMap<string, 'late' | 'expected'>,
): CoverageGrid {
  const missing = new Map<string, Set<string>>();
  for (const key of scheduled.keys()) {
    const [dataset = '', org = '', period = ''] = key.split('|');
    if (!grid.months.includes(period)) continue;
    const rows = grid.datasets.find((d) => d.dataset === dataset)?.rows;
    if (rows?.some((r) => r.org === org)) continue;
    (missing.get(dataset) ?? missing.set(dataset, new Set()).get(dataset))?.add(org);
  }
  if (missing.size === 0) return grid;
  const gaps = (org: string): CoverageRow => ({
    org,
    cells: grid.months.map((period) => ({ period, state: 'gap', rows: 0, loadId: null })),
  });
  const datasets = grid.datasets.map((d) => ({
    dataset: d.dataset,
    rows: [...d.rows, ...[...(missing.get(d.dataset) ?? [])].map(gaps)].sort((a, b) =>
      a.org.localeCompare(b.org),
    ),
  }));
  for (const [dataset, orgs] of missing) {
    if (!datasets.some((d) => d.dataset === dataset)) {
      datasets.push({ dataset, rows: [...orgs].sort().map(gaps) });
    }
  }
  return { months: grid.months, datasets: datasets.sort((a, b) => a.dataset.localeCompare(b.dataset)) };
}

/** A copy of the grid with each cell replaced by `change(cell, dataset, org)`. */
function mapCells(
  grid: CoverageGrid,
  change: (cell: CoverageCell, dataset: string, org: string) => CoverageCell,
): CoverageGrid {
  return {
    months: grid.months,
    datasets: grid.datasets.map((d) => ({
      dataset: d.dataset,
      rows: d.rows.map((row) => ({
        org: row.org,
        cells: row.cells.map((c) => change(c, d.dataset, row.org)),
      })),
    })),
  };
}

/** Months since year 0 of a checked 'YYYY-MM'. */
function monthIndex(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}
