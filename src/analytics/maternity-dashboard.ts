/**
 * The maternity dashboard: every measure of `maternity-measures.ts`, month by month, for
 * one provider or for the whole system (and then for each provider too), each with its
 * XmR chart (spc.ts) and under disclosure control (disclosure-control.ts).
 *
 *   maternityDashboard(store, access, { org?, from: 'YYYY-MM', to: 'YYYY-MM', useCaseId? })
 *     → MaternityDashboard
 *
 * The portal page and `GET /api/v1/dashboards/maternity` both call it; neither holds a rule.
 *
 * Reads: the three MSDS tables are read only through the access policy
 * (`openGovernedRead`), under a use case the user belongs to: it narrows rows to the
 * controllers the use case and the user may see, removes people on the national data
 * opt-out where the purpose needs it, and audits the read (`data.read`, and a row per
 * controller in `data_access_log`).
 *
 * Caches, both in memory, both exact:
 * - the policy's grants per user, keyed by the governance version (a fingerprint of use
 *   cases, members, approvals and agreements) and the date: any change to them, or a new
 *   day, makes the policy decide again (and audit it);
 * - the counts per (data version, the governed reads' SQL, window). The data version is
 *   the number of successful MSDS loads and when the latest finished, plus the opt-out
 *   lists loaded (`warehouseVersions`): a new load or opt-out list makes the next request
 *   recompute, through fresh audited governed reads. A server rereads both versions at most
 *   once a second (`VERSION_MAX_AGE_MS`), so a change reaches the dashboard within a second.
 * A request answered from the caches is still checked (the grant is current) and recorded:
 * `dashboard.viewed` in the audit log and a `data_access_log` row per controller, committed
 * before the answer (group commit, view-audit.ts). Disclosure control and SPC run per
 * request, because they depend on who asks.
 */
import { KernelError } from '../errors.ts';
import {
  decideAccess,
  openGovernedRead,
  policyVersion,
  readableUseCases,
  type GovernedRead,
  type ReadUser,
} from '../governance/access-policy.ts';
import type { UseCase } from '../governance/use-cases.ts';
import type { Queryable, Store } from '../store/store.ts';
import {
  checkPolicy,
  controlRate,
  HES_2018,
  describePolicy,
  policyFor,
  type ControlledCount,
  type DisclosurePolicy,
  unitScale,
} from './disclosure-control.ts';
import { FUNNEL_REASON, MATERNITY_MEASURES, type MaternityMeasure } from './maternity-measures.ts';
import { readChartSettings, rebasesFor, targetFor, type ChartSettings } from './chart-settings.ts';
import { funnelLimits, funnelPlot, type FunnelPoint } from './funnel.ts';
import { baseTablesSql, MSDS_DATASETS, type MsdsDataset } from './maternity-tables.ts';
import { viewRecorder } from '../audit/view-audit.ts';
import {
  assuranceIcon,
  describeAssurance,
  describeIcon,
  xmrChart,
  type AssuranceIcon,
  type SpcResult,
  type SpecialCauseRule,
  type VariationIcon,
} from './spc.ts';

export interface MaternityQuery {
  /** a provider's ODS code; absent for the whole system */
  org?: string;
  /** first month shown, YYYY-MM */
  from: string;
  /** last month shown, YYYY-MM */
  to: string;
  /** the use case to read under; default the first the user may use that covers MSDS */
  useCaseId?: string;
}

export interface DashboardAccess {
  user: ReadUser;
  /** the audit actor; default `user:<id>` */
  actor?: string;
}

export interface MaternityPoint {
  month: string;
  /** null where nothing was submitted for the month: a gap, never a zero */
  numerator: ControlledCount | null;
  denominator: ControlledCount | null;
  /** the rate (or count) from the published numerator and denominator; '*' when suppressed */
  value: number | '*' | null;
  /** special-cause rules this point is part of */
  rules: SpecialCauseRule[];
  meaning: 'improvement' | 'concern' | 'neither' | null;
}

export interface MaternitySeries {
  /** ODS code, or null for the whole system */
  org: string | null;
  label: string;
  /** whether disclosure control was applied to this series */
  controlled: boolean;
  points: MaternityPoint[];
  spc: {
    mean: number | null;
    upperProcessLimit: number | null;
    lowerProcessLimit: number | null;
    meanMovingRange: number | null;
    icon: VariationIcon;
    iconText: string;
    shiftLength: number;
    trendLength: number;
    fewPoints: boolean;
    /** the periods of a rebased chart, each with its own (shown) mean and limits */
    segments: {
      from: string;
      to: string;
      mean: number | null;
      upperProcessLimit: number | null;
      lowerProcessLimit: number | null;
    }[];
    /** the rebases applied, in month order */
    rebases: { month: string; reason: string }[];
    /** the target this series is held to, if any */
    target: number | null;
    assurance: AssuranceIcon;
    assuranceText: string;
  };
  /** the companion data-quality measure: the share of records with the fields needed, each month */
  dataQuality: { month: string; value: number | '*' | null }[];
}

/** One provider on a funnel plot, over the whole window, under disclosure control. */
export interface FunnelProvider {
  org: string;
  numerator: ControlledCount;
  denominator: ControlledCount;
  /** '*' when suppressed, null with no denominator: neither is drawn */
  value: number | '*' | null;
  band: FunnelPoint['band'] | null;
  meaning: FunnelPoint['meaning'];
}

export interface MaternityMeasureResult {
  id: string;
  nationalId: string | null;
  title: string;
  unit: MaternityMeasure['unit'];
  windowMonths: number;
  polarity: MaternityMeasure['polarity'];
  counts: MaternityMeasure['counts'];
  numerator: string;
  denominator: string;
  definition: string;
  /** the MSDS fields it reads */
  fields: readonly string[];
  caveats: string[];
  /** the chart drawn: monthly XmR, or (rare events) a funnel plot of providers over the window */
  chart: MaternityMeasure['chart'];
  /** why a funnel plot, for rare events; null for XmR */
  chartReason: string | null;
  dataQuality: { numerator: string; denominator: string };
  /**
   * For a funnel measure viewed for the whole system: each provider's totals over the
   * window against the pooled rate, with 95% and 99.8% limits by volume. Null otherwise.
   */
  funnel: {
    /** the pooled rate, shown as the means are (rounded under disclosure control) */
    target: number | null;
    providers: FunnelProvider[];
    /** limit curves drawn from the shown target, at volumes from 1 to past the largest */
    curve: { denominator: number; lower95: number; upper95: number; lower998: number; upper998: number }[];
  } | null;
  /** the chosen scope: the provider asked for, or the whole system */
  series: MaternitySeries;
  /** for the whole system, each provider's series too */
  providers: MaternitySeries[];
}

export interface MaternityDashboard {
  scope: { org: string | null; label: string };
  from: string;
  to: string;
  months: string[];
  useCase: { id: string; title: string; purpose: string; months: 'published' | 'loaded' };
  /** organisations whose data the figures hold */
  controllers: string[];
  optOutApplied: boolean;
  disclosure: { policy: string; threshold: number | null; base: number | null; text: string };
  dataVersion: string;
  cached: boolean;
  measures: MaternityMeasureResult[];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const MAX_MONTHS = 60;

export function monthIndex(month: string): number {
  const m = MONTH.exec(month);
  if (!m)
    throw new KernelError('usage', `"${month}" is not a month`, {
      hint: 'Write months as YYYY-MM, e.g. 2021-03',
    });
  return Number(m[1]) * 12 + Number(m[2]) - 1;
}

export function monthOf(index: number): string {
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function checkQuery(query: MaternityQuery): { from: number; to: number } {
  const check = (value: string, field: string): number => {
    if (!MONTH.test(value)) {
      throw new KernelError('usage', `"${value}" is not a month`, {
        where: { field },
        hint: 'Write months as YYYY-MM, e.g. 2021-03',
      });
    }
    return monthIndex(value);
  };
  const from = check(query.from, 'from');
  const to = check(query.to, 'to');
  if (from > to)
    throw new KernelError('usage', `The period starts (${query.from}) after it ends (${query.to})`, {
      where: { field: 'from' },
      hint: 'Swap from and to',
    });
  if (to - from + 1 > MAX_MONTHS) {
    throw new KernelError(
      'usage',
      `The period covers ${to - from + 1} months; the dashboard shows at most ${MAX_MONTHS}`,
      { where: { field: 'from' }, hint: 'Choose a shorter period' },
    );
  }
  if (query.org !== undefined && !/^[A-Z0-9]{3,9}$/.test(query.org)) {
    throw new KernelError('usage', `"${query.org}" is not an organisation code`, {
      where: { field: 'org' },
      hint: 'Use an ODS code such as RWF, or leave it empty for the whole system',
    });
  }
  return { from, to };
}

/** Counts per measure, organisation (null = whole system) and month index. */
type RawCounts = Map<string, Map<string | null, Map<number, { numerator: number; denominator: number }>>>;

/** What the policy granted one user for the three datasets, under one use case. */
interface Grants {
  useCaseId: string;
  reads: Record<MsdsDataset, GovernedRead>;
  /** controllers every one of the three reads allows: a maternity joins them */
  controllers: string[];
}

/** Bounded, so that many distinct windows or users cannot grow memory without limit. */
const CACHE_LIMIT = 64;
const GRANT_LIMIT = 1024;
const countsCache = new Map<string, Promise<RawCounts>>();
const grantsCache = new Map<string, Promise<Grants>>();
/** the use cases each user may open the dashboard under (`maternityUseCases`) */
const openableCache = new Map<string, Promise<UseCase[]>>();
const measuresCache = new Map<string, MaternityMeasureResult[]>();

function remember<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.set(key, value);
  while (map.size > limit) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}

/** Forgets every cached result (tests; and a server may call it after a restore). */
export function clearMaternityCache(): void {
  countsCache.clear();
  grantsCache.clear();
  openableCache.clear();
  measuresCache.clear();
  generation++;
}

export interface WarehouseVersions {
  /** changes whenever an MSDS load succeeds or an opt-out list is loaded */
  data: string;
  /** changes whenever anything the access policy decides from changes */
  governance: string;
}

/**
 * Both versions, from a few small statements. The data version is the number of successful MSDS loads
 * and when the latest finished (a load that supersedes another is itself a new row), and
 * the opt-out lists loaded, and the sign-off decisions (what a published-only use case reads).
 * The governance version is the access policy's own (`policyVersion`): every row and column
 * of the tables it decides from, so a new input can never leave the grant cache stale.
 */
export async function warehouseVersions(q: Queryable): Promise<WarehouseVersions> {
  const datasets = MSDS_DATASETS.map((_, i) => `$${i + 1}`).join(', ');
  // Small statements, one after another: DuckDB plans a single statement of many scalar
  // subqueries far more slowly than it runs these.
  const one = async (sql: string, params: string[] = []): Promise<string> => {
    const [row] = await q.query<{ v: string | null }>(sql, params);
    return String(row?.v ?? '-');
  };
  const loads = await one(
    `SELECT CAST(COUNT(*) AS TEXT) || '@' || COALESCE(MAX(finished_at), '-') AS v FROM loads
     WHERE dataset_id IN (${datasets}) AND status IN ('loaded', 'superseded')`,
    [...MSDS_DATASETS],
  );
  const optouts = await one(
    `SELECT CAST(COUNT(*) AS TEXT) || '@' || COALESCE(MAX(loaded_at), '-') AS v FROM optout_batches`,
  );
  // a month published (or a decision taken back) changes what a published-only use case reads
  const signoffs = await one(
    `SELECT CAST(COUNT(*) AS TEXT) || '@' || COALESCE(MAX(changed_at), '-') AS v FROM signoffs`,
  );
  return {
    data: `loads:${loads};optouts:${optouts};signoffs:${signoffs}`,
    governance: await policyVersion(q),
  };
}

/**
 * How long a server may reuse the versions it last read before reading them again. Under
 * load, twenty requests a second would otherwise each queue ten small statements on
 * DuckDB's one connection; with this, a new load or a governance change reaches the
 * dashboard within a second. Set `versionMaxAgeMs: 0` to read them on every request.
 */
export const VERSION_MAX_AGE_MS = 1000;
interface Current {
  versions: WarehouseVersions;
  /** the maternity charts' rebases and targets (chart-settings.ts) */
  charts: ChartSettings;
}
const versionMemo = new WeakMap<Queryable, { at: number; generation: number; current: Promise<Current> }>();
let generation = 0;

async function readCurrent(q: Queryable): Promise<Current> {
  return { versions: await warehouseVersions(q), charts: await readChartSettings(q, CHART_PREFIX) };
}

async function currentVersions(q: Queryable, maxAgeMs: number): Promise<Current> {
  const memo = versionMemo.get(q);
  const now = performance.now();
  if (memo && memo.generation === generation && now - memo.at <= maxAgeMs) return memo.current;
  const current = readCurrent(q);
  versionMemo.set(q, { at: now, generation, current });
  current.catch(() => versionMemo.delete(q));
  return current;
}

/** Charts on this dashboard are named `maternity/<measure id>` (chart-settings.ts). */
export const CHART_PREFIX = 'maternity/';

/** Whether a chart name is one of this dashboard's measures. */
export const isMaternityChart = (chart: string): boolean =>
  chart.startsWith(CHART_PREFIX) && MATERNITY_MEASURES.some((m) => `${CHART_PREFIX}${m.id}` === chart);

/** The targets a maternity chart can reach: 0 to 100 for a percentage, 0 to 1,000 per 1,000. */
export const maternityTargetRange = (chart: string): { min: number; max: number } | undefined => {
  const measure = MATERNITY_MEASURES.find((m) => `${CHART_PREFIX}${m.id}` === chart);
  if (!measure) return undefined;
  if (measure.unit === 'percent') return { min: 0, max: 100 };
  if (measure.unit === 'per-1000') return { min: 0, max: 1000 };
  return { min: 0, max: Number.MAX_SAFE_INTEGER };
};

/** The data version alone (see `warehouseVersions`). */
export async function maternityDataVersion(q: Queryable): Promise<string> {
  return (await warehouseVersions(q)).data;
}

/**
 * The latest month with an MSDS feed loaded (the dashboard's default end), or last month
 * when nothing is loaded yet. Reads load metadata only, no warehouse rows.
 */
export async function latestMaternityMonth(q: Queryable, today: Date = new Date()): Promise<string> {
  const datasets = MSDS_DATASETS.map((_, i) => `$${i + 1}`).join(', ');
  const [row] = await q.query<{ latest: string | null }>(
    `SELECT MAX(period) AS latest FROM loads WHERE dataset_id IN (${datasets}) AND status = 'loaded'`,
    [...MSDS_DATASETS],
  );
  if (row?.latest && MONTH.test(row.latest)) return row.latest;
  return monthOf(today.getUTCFullYear() * 12 + today.getUTCMonth() - 1);
}

/**
 * The earliest month with an MSDS feed loaded, or null when nothing is loaded: the
 * dashboard's default window starts no earlier, so months before the data are not drawn.
 */
export async function earliestMaternityMonth(q: Queryable): Promise<string | null> {
  const datasets = MSDS_DATASETS.map((_, i) => `$${i + 1}`).join(', ');
  const [row] = await q.query<{ earliest: string | null }>(
    `SELECT MIN(period) AS earliest FROM loads WHERE dataset_id IN (${datasets}) AND status = 'loaded'`,
    [...MSDS_DATASETS],
  );
  return row?.earliest && MONTH.test(row.earliest) ? row.earliest : null;
}

/**
 * The use cases under which `user` may open the dashboard: the active ones they are on under
 * which the policy allows a read of each MSDS dataset (`decideAccess`: the decision
 * `openGovernedRead` audits, taken here without reading or auditing anything). The dashboard
 * reads under the first unless asked for another; the portal's menu offers it only to
 * someone with one (`mayOpenMaternityDashboard`), so the menu and the page cannot disagree.
 * Kept per user, the versions the grants are kept by (a first MSDS load is a new data
 * version) and the day: the menu asks on every page drawn.
 */
export async function maternityUseCases(
  store: Store,
  user: ReadUser,
  maxAgeMs: number = VERSION_MAX_AGE_MS,
): Promise<UseCase[]> {
  const { versions } = await currentVersions(store, maxAgeMs);
  const today = new Date().toISOString().slice(0, 10);
  const key = JSON.stringify([user.id, user.role, user.org, versions.governance, versions.data, today]);
  let useCases = openableCache.get(key);
  if (!useCases) {
    useCases = (async () => {
      const open: UseCase[] = [];
      for (const useCase of await readableUseCases(store, user)) {
        const access = { user, useCaseId: useCase.id };
        let allowed = true;
        for (const dataset of MSDS_DATASETS)
          if (allowed) allowed = (await decideAccess(store, access, dataset, today)).allowed;
        if (allowed) open.push(useCase);
      }
      return open;
    })();
    remember(openableCache, key, useCases, GRANT_LIMIT);
    useCases.catch(() => openableCache.delete(key));
  }
  return useCases;
}

/** Whether `user` may open the dashboard: they are on a use case it opens under (above). */
export async function mayOpenMaternityDashboard(store: Store, user: ReadUser): Promise<boolean> {
  return (await maternityUseCases(store, user)).length > 0;
}

async function chooseUseCase(
  store: Store,
  user: ReadUser,
  wanted: string | undefined,
  maxAgeMs: number,
): Promise<string> {
  if (wanted) return wanted;
  const [first] = await maternityUseCases(store, user, maxAgeMs);
  if (!first) {
    throw new KernelError(
      'forbidden',
      'You are on no active use case under which you may read the maternity datasets',
      {
        hint: 'Ask the programme team to add you to the maternity dashboard use case',
      },
    );
  }
  return first.id;
}

/** The policy's decision for all three datasets; each `openGovernedRead` is audited. */
async function openReads(
  store: Store,
  access: DashboardAccess,
  wanted: string | undefined,
  maxAgeMs: number,
): Promise<Grants> {
  const useCaseId = await chooseUseCase(store, access.user, wanted, maxAgeMs);
  const readAccess = { user: access.user, useCaseId, ...(access.actor ? { actor: access.actor } : {}) };
  const reads = {} as Record<MsdsDataset, GovernedRead>;
  for (const dataset of MSDS_DATASETS) reads[dataset] = await openGovernedRead(store, readAccess, dataset);
  const controllers = MSDS_DATASETS.map((d) => reads[d].controllers).reduce((a, b) =>
    a.filter((c) => b.includes(c)),
  );
  return { useCaseId, reads, controllers };
}

export interface MaternityOptions {
  /** the disclosure rule for everyone but a provider viewing its own figures; default HES 2018 */
  disclosure?: DisclosurePolicy;
  /** how old the data and governance versions may be, in ms; default VERSION_MAX_AGE_MS */
  versionMaxAgeMs?: number;
}

export async function maternityDashboard(
  store: Store,
  access: DashboardAccess,
  query: MaternityQuery,
  options: MaternityOptions = {},
): Promise<MaternityDashboard> {
  const rule = checkPolicy(options.disclosure ?? HES_2018);
  const window = checkQuery(query);
  const maxAgeMs = options.versionMaxAgeMs ?? VERSION_MAX_AGE_MS;
  const { versions, charts } = await currentVersions(store, maxAgeMs);
  const today = new Date().toISOString().slice(0, 10);
  const { user } = access;

  // The policy decides for this user whenever anything it decides from has changed (or a
  // day has turned: use cases have dates); each decision is a governed, audited read.
  const grantKey = JSON.stringify([
    user.id,
    user.role,
    user.org,
    query.useCaseId ?? '',
    versions.governance,
    today,
  ]);
  // Concurrent requests share one decision in flight; only its maker's reads are audited
  // as such, the others record a view like any cached request.
  let pending = grantsCache.get(grantKey);
  let audited = false;
  if (!pending) {
    pending = openReads(store, access, query.useCaseId, maxAgeMs);
    audited = true;
    remember(grantsCache, grantKey, pending, GRANT_LIMIT);
    pending.catch(() => grantsCache.delete(grantKey));
  }
  let grants = await pending;
  const { controllers, useCaseId } = grants;
  if (query.org !== undefined && !controllers.includes(query.org)) {
    throw new KernelError(
      'forbidden',
      `Your access under use case ${useCaseId} does not include ${query.org}'s maternity data`,
      {
        where: { field: 'org' },
        hint: controllers.length
          ? `It covers ${controllers.join(', ')}`
          : 'Ask the programme team about the use case',
      },
    );
  }

  const sourcesOf = (g: Grants) =>
    Object.fromEntries(MSDS_DATASETS.map((d) => [d, g.reads[d].sql])) as Record<MsdsDataset, string>;
  const countsKey = JSON.stringify([versions.data, Object.values(sourcesOf(grants)), window.from, window.to]);
  let cached = true;
  let entry = countsCache.get(countsKey);
  if (!entry) {
    cached = false;
    // The warehouse itself is read now: through fresh governed reads, each audited.
    if (!audited) {
      grants = await openReads(store, access, useCaseId, maxAgeMs);
      audited = true;
    }
    entry = computeCounts(store, sourcesOf(grants), window.from, window.to);
    remember(countsCache, countsKey, entry, CACHE_LIMIT);
    entry.catch(() => countsCache.delete(countsKey));
  }
  const counts = await entry;
  const first = grants.reads['msds-delivery'];
  if (!audited) {
    // Figures from the cache: the view is still checked (above) and recorded, per controller.
    await viewRecorder(store).record({
      audit: {
        actor: access.actor ?? `user:${user.id}`,
        action: 'dashboard.viewed',
        target: 'dashboard:maternity',
        purpose: useCaseId,
        details: {
          role: user.role,
          purpose: first.useCase.purpose,
          scope: query.org ?? 'system',
          from: query.from,
          to: query.to,
          controllers,
          optOutApplied: first.optOutApplies,
        },
      },
      access: MSDS_DATASETS.flatMap((datasetId) =>
        controllers.map((org) => ({
          userId: user.id,
          role: user.role,
          useCaseId,
          datasetId,
          org,
          optOutApplied: first.optOutApplies,
        })),
      ),
    });
  }

  const months: string[] = [];
  for (let i = window.from; i <= window.to; i++) months.push(monthOf(i));
  const viewer = { role: access.user.role, org: access.user.org };
  const scopeOrg = query.org ?? null;
  const systemPolicy = policyFor(viewer, query.org, rule);
  // The figures depend on the counts, the scope, the rule, and whether the viewer is a
  // provider (its own organisation's series are not controlled): built once for each.
  const exempt = viewer.role === 'provider' ? viewer.org : null;
  const measuresKey = JSON.stringify([countsKey, scopeOrg, controllers, rule, exempt, charts]);
  const measures = measuresCache.get(measuresKey) ?? buildMeasures();
  remember(measuresCache, measuresKey, measures, CACHE_LIMIT * 4);
  function buildMeasures(): MaternityMeasureResult[] {
    return MATERNITY_MEASURES.map((measure): MaternityMeasureResult => {
      const byOrg = counts.get(measure.id);
      const chart = `${CHART_PREFIX}${measure.id}`;
      const seriesFor = (org: string | null): MaternitySeries =>
        buildSeries(measure, {
          org,
          byMonth: byOrg?.get(org),
          quality: counts.get(`${measure.id}${DATA_QUALITY}`)?.get(org),
          submitted: counts.get(SUBMITTED)?.get(org),
          from: window.from,
          to: window.to,
          policy: policyFor(viewer, org ?? undefined, rule),
          rebases: rebasesFor(charts, chart, org),
          target: targetFor(charts, chart, org)?.target ?? null,
        });
      return {
        id: measure.id,
        nationalId: measure.nationalId ?? null,
        title: measure.title,
        unit: measure.unit,
        windowMonths: measure.windowMonths,
        polarity: measure.polarity,
        counts: measure.counts,
        numerator: measure.numerator,
        denominator: measure.denominator,
        definition: measure.definition,
        fields: measure.fields,
        caveats: measure.caveats,
        chart: measure.chart,
        chartReason: measure.chart === 'funnel' ? FUNNEL_REASON : null,
        dataQuality: {
          numerator: measure.dataQuality.numerator,
          denominator: measure.dataQuality.denominator,
        },
        funnel:
          measure.chart === 'funnel' && scopeOrg === null
            ? buildFunnel(measure, byOrg, controllers, window.from, window.to, viewer, rule)
            : null,
        series: seriesFor(scopeOrg),
        providers: scopeOrg === null ? controllers.map((org) => seriesFor(org)) : [],
      };
    });
  }
  return {
    scope: { org: scopeOrg, label: scopeOrg ?? 'Whole system' },
    from: query.from,
    to: query.to,
    months,
    useCase: first.useCase,
    controllers,
    optOutApplied: first.optOutApplies,
    disclosure: {
      policy: systemPolicy.id,
      threshold: systemPolicy.id === 'none' ? null : systemPolicy.threshold,
      base: systemPolicy.id === 'none' ? null : systemPolicy.base,
      text: describePolicy(systemPolicy),
    },
    dataVersion: versions.data,
    cached,
    measures,
  };
}

export type MonthCounts = Map<number, { numerator: number; denominator: number }>;

export interface SeriesInput {
  org: string | null;
  byMonth: MonthCounts | undefined;
  /** the data-quality companion's counts */
  quality: MonthCounts | undefined;
  submitted: Map<number, unknown> | undefined;
  from: number;
  to: number;
  policy: DisclosurePolicy;
  rebases: { period: string; reason: string }[];
  target: number | null;
}

/**
 * One series of a measure from its counts: SPC on the true values, disclosure control on
 * what is shown. Exported so that simulations can drive every measure through it.
 */
export function buildSeries(measure: MaternityMeasure, input: SeriesInput): MaternitySeries {
  const { org, byMonth, quality, submitted, from, to, policy } = input;
  const raw: {
    month: string;
    value: number | '*' | null;
    numerator: ControlledCount | null;
    denominator: ControlledCount | null;
  }[] = [];
  // The true (unrounded) value of each month, for SPC only: it never leaves this function.
  const trueValues: (number | null)[] = [];
  for (let i = from; i <= to; i++) {
    // A month with no MSDS record at all for the scope was not submitted: a gap (no value,
    // no flag, no moving range across it), never a zero that SPC would call special cause.
    if (!submitted?.has(i)) {
      raw.push({ month: monthOf(i), value: null, numerator: null, denominator: null });
      trueValues.push(null);
      continue;
    }
    const c = byMonth?.get(i) ?? { numerator: 0, denominator: 0 };
    trueValues.push(
      measure.unit === 'count'
        ? c.numerator
        : c.denominator > 0
          ? (c.numerator * unitScale(measure.unit)) / c.denominator
          : null,
    );
    const rate = controlRate(c.numerator, c.denominator, measure.unit, policy);
    raw.push({
      month: monthOf(i),
      value: rate.value,
      numerator: rate.numerator,
      denominator: rate.denominator,
    });
  }
  // SPC runs on the true values (rounded ones make limits and runs meaningless for small
  // rates); disclosure control applies to what leaves: the points keep their controlled
  // values, a suppressed point shows no flag (a flag would say on which side of the mean it
  // lies), and the mean, limits and mean moving range are rounded (see shownStatistic).
  // A rebase inside the window starts a new period; one before it changes nothing shown.
  const rebases = input.rebases.filter((r) => monthIndex(r.period) > from && monthIndex(r.period) <= to);
  const breaks = [...new Set(rebases.map((r) => monthIndex(r.period) - from))];
  // A rare event is compared on a funnel plot instead: its monthly points get no XmR limits
  // or flags, which would mean little on a handful of events a month (FUNNEL_REASON).
  const charted = measure.chart === 'xmr' ? trueValues : trueValues.map(() => null);
  const spc: SpcResult = xmrChart(charted, { polarity: measure.polarity, breaks });
  const controlled = policy.id !== 'none';
  const stat = (v: number | null): number | null => shownStatistic(v, measure.unit, controlled);
  // The icon describes the latest month shown as a number: a suppressed latest month must
  // not say, through the icon, which side of a limit its hidden value lies.
  let icon: VariationIcon = spc.icon;
  if (controlled && measure.chart === 'xmr') {
    let latest = -1;
    for (let i = raw.length - 1; i >= 0 && latest < 0; i--) if (typeof raw[i]?.value === 'number') latest = i;
    const point = spc.points[latest];
    icon =
      point === undefined
        ? 'none'
        : point.meaning === null || point.direction === null
          ? 'common-cause'
          : `${point.meaning}-${point.direction}`;
  }
  return {
    org,
    label: org ?? 'Whole system',
    controlled,
    points: raw.map((p, i) => ({
      ...p,
      rules: p.value === '*' ? [] : (spc.points[i]?.rules ?? []),
      meaning: p.value === '*' ? null : (spc.points[i]?.meaning ?? null),
    })),
    spc: {
      mean: stat(spc.mean),
      upperProcessLimit: stat(spc.upperProcessLimit),
      lowerProcessLimit: stat(spc.lowerProcessLimit),
      meanMovingRange: stat(spc.meanMovingRange),
      icon,
      iconText: describeIcon(icon),
      shiftLength: spc.shiftLength,
      trendLength: spc.trendLength,
      fewPoints: spc.fewPoints,
      segments: spc.segments.map((segment) => ({
        from: monthOf(from + segment.start),
        to: monthOf(from + segment.end),
        mean: stat(segment.mean),
        upperProcessLimit: stat(segment.upperProcessLimit),
        lowerProcessLimit: stat(segment.lowerProcessLimit),
      })),
      rebases: rebases.map((r) => ({ month: r.period, reason: r.reason })),
      target: input.target,
      // Assurance compares the true limits with the target, as the flags use true values.
      assurance: assuranceIcon(spc, input.target, measure.polarity),
      assuranceText: describeAssurance(assuranceIcon(spc, input.target, measure.polarity)),
    },
    dataQuality: raw.map((p, i) => {
      if (p.value === null) return { month: p.month, value: null };
      const c = quality?.get(from + i) ?? { numerator: 0, denominator: 0 };
      return { month: p.month, value: controlRate(c.numerator, c.denominator, 'percent', policy).value };
    }),
  };
}

/**
 * A rare-event measure's funnel plot: each provider's totals over the window (the sum of its
 * monthly counts) against the pooled rate. Bands come from the true counts, as SPC flags do;
 * what is shown is controlled: a provider whose count is suppressed is listed with '*' and
 * not placed, and the pooled rate and the limit curves drawn from it are rounded as means are.
 */
export function buildFunnel(
  measure: MaternityMeasure,
  byOrg: Map<string | null, MonthCounts> | undefined,
  controllers: readonly string[],
  from: number,
  to: number,
  viewer: { role: string; org: string | null },
  rule: DisclosurePolicy,
): MaternityMeasureResult['funnel'] {
  const totals = controllers.map((org) => {
    let numerator = 0;
    let denominator = 0;
    for (let i = from; i <= to; i++) {
      const c = byOrg?.get(org)?.get(i);
      numerator += c?.numerator ?? 0;
      denominator += c?.denominator ?? 0;
    }
    return { id: org, numerator, denominator };
  });
  const scale = unitScale(measure.unit);
  const plot = funnelPlot(totals, { polarity: measure.polarity, scale });
  const systemControlled = policyFor(viewer, undefined, rule).id !== 'none';
  const target = shownStatistic(plot.target, measure.unit, systemControlled, 1);
  return {
    target,
    providers: totals.map((unit) => {
      const policy = policyFor(viewer, unit.id, rule);
      const rate = controlRate(unit.numerator, unit.denominator, measure.unit, policy);
      const point = plot.points.find((p) => p.id === unit.id);
      const hidden = typeof rate.value !== 'number' || point === undefined;
      return {
        org: unit.id,
        numerator: rate.numerator,
        denominator: rate.denominator,
        value: rate.value,
        band: hidden ? null : point.band,
        meaning: hidden ? null : point.meaning,
      };
    }),
    curve:
      target === null
        ? []
        : plot.curve.map(({ denominator }) => ({
            denominator,
            ...funnelLimits(target / scale, denominator, scale),
          })),
  };
}

/**
 * A mean, limit or moving range as shown. Under disclosure control it is rounded to a whole
 * unit (a count to the rounding base of 5): each is an average over many months, so one
 * month moves it by 1/n of its value, and after rounding it cannot be differenced against
 * the other, rounded, months to work a suppressed count back. A provider's own figures keep
 * one decimal place.
 */
function shownStatistic(
  value: number | null,
  unit: MaternityMeasure['unit'],
  controlled: boolean,
  controlledDecimals = 0,
): number | null {
  if (value === null) return null;
  // `+ 0` turns a rounded −0 into 0, which JSON cannot tell apart anyway.
  if (!controlled) return Math.round(value * 10) / 10 + 0;
  const places = 10 ** controlledDecimals;
  return (unit === 'count' ? Math.round(value / 5) * 5 : Math.round(value * places) / places) + 0;
}

/** The pseudo-measure whose rows mark the months with a submission. */
const SUBMITTED = '_submitted';
/** The suffix of a measure's data-quality companion in the counts. */
const DATA_QUALITY = '#data-quality';

/** One query for every measure, organisation and month; see maternity-measures.ts. */
export function countsSql(sources: Record<MsdsDataset, string>, from: number, to: number): string {
  const cohorts = MATERNITY_MEASURES.flatMap((m) => [
    `SELECT '${m.id}' AS measure_id, c.org_code, c.month_index, c.subject, c.num, c.den FROM (${m.cohortSql}) AS c`,
    `SELECT '${m.id}${DATA_QUALITY}' AS measure_id, c.org_code, c.month_index, c.subject, c.num, c.den FROM (${m.dataQuality.cohortSql}) AS c`,
  ]).join('\n  UNION ALL\n  ');
  // The months each organisation submitted anything for (any MSDS record), counted through
  // the same grouping: the whole system has a month where any provider does.
  const submitted = `SELECT '${SUBMITTED}' AS measure_id, s.org_code, s.month_index, s.org_code AS subject, 1 AS num, 1 AS den FROM (SELECT org_code, month_index FROM bk UNION ALL SELECT org_code, month_index FROM dl UNION ALL SELECT org_code, month_index FROM bb) AS s`;
  const months: string[] = [];
  for (let i = from; i <= to; i++) months.push(`(${i})`);
  return `WITH ${baseTablesSql(sources, from, to)},
cohort AS (
  ${cohorts}
  UNION ALL
  ${submitted}
),
months AS (SELECT month_index FROM (VALUES ${months.join(', ')}) AS t(month_index)),
windowed AS (
  SELECT c.measure_id, m.month_index AS point, c.org_code, c.subject, c.num, c.den
  FROM cohort AS c JOIN months AS m ON c.month_index = m.month_index
)
SELECT measure_id, point, org_code, GROUPING(org_code) AS whole_system,
  COUNT(DISTINCT CASE WHEN num = 1 AND den = 1 THEN subject END) AS numerator,
  COUNT(DISTINCT CASE WHEN den = 1 THEN subject END) AS denominator
FROM windowed
GROUP BY GROUPING SETS ((measure_id, point, org_code), (measure_id, point))`;
}

async function computeCounts(
  store: Store,
  sources: Record<MsdsDataset, string>,
  from: number,
  to: number,
): Promise<RawCounts> {
  const rows = await store.query<{
    measure_id: string;
    point: number;
    org_code: string | null;
    whole_system: number;
    numerator: number;
    denominator: number;
  }>(countsSql(sources, from, to));
  const counts: RawCounts = new Map();
  for (const row of rows) {
    const org = Number(row.whole_system) === 1 ? null : row.org_code;
    let byOrg = counts.get(row.measure_id);
    if (!byOrg) counts.set(row.measure_id, (byOrg = new Map()));
    let byMonth = byOrg.get(org);
    if (!byMonth) byOrg.set(org, (byMonth = new Map()));
    byMonth.set(Number(row.point), {
      numerator: Number(row.numerator),
      denominator: Number(row.denominator),
    });
  }
  return counts;
}
