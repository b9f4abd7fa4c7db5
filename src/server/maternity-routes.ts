/**
 * The maternity dashboard: the portal page `/dashboards/maternity` and the API
 * `GET /api/v1/dashboards/maternity`. Both call `maternityDashboard` (src/analytics/) and
 * only format what it answers: the page draws an SPC chart (server-rendered SVG) and a
 * data table per measure; the API returns the same figures as JSON.
 */
import { readUserOf } from '../governance/access-policy.ts';
import { readChartSettings, recordRebase, setTarget } from '../analytics/chart-settings.ts';
import { MATERNITY_MEASURES } from '../analytics/maternity-measures.ts';
import {
  CHART_PREFIX,
  isMaternityChart,
  maternityTargetRange,
  earliestMaternityMonth,
  latestMaternityMonth,
  maternityDashboard,
  mayOpenMaternityDashboard,
  monthOf,
  monthIndex,
  type MaternityDashboard,
  type MaternitySeries,
} from '../analytics/maternity-dashboard.ts';
import { spcChartSvg, monthLabel } from '../analytics/spc-chart-svg.ts';
import { funnelChartSvg } from '../analytics/funnel-chart-svg.ts';
import {
  chartListSchema,
  chartRebaseSchema,
  maternityDashboardSchema,
  rebaseRequestSchema,
  targetAnswerSchema,
  targetRequestSchema,
} from '../analytics/maternity-schemas.ts';
import { DEFAULT_RUN_LENGTH } from '../analytics/spc.ts';
import { KernelError } from '../errors.ts';
import { isMonth } from '../months.ts';
import type { ParamDoc, RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const WHO = ['admin', 'provider', 'analyst', 'ig-lead', 'viewer'] as const;
const DEFAULT_MONTHS = 24;

const QUERY: ParamDoc[] = [
  {
    name: 'org',
    description: 'a provider’s ODS code (e.g. RWF); leave out for the whole system and every provider',
  },
  { name: 'from', description: 'first month, YYYY-MM (default: 23 months before `to`)' },
  { name: 'to', description: 'last month, YYYY-MM (default: the latest month loaded)' },
  {
    name: 'useCase',
    description:
      'the use case to read under (default: the first of yours that covers the maternity datasets)',
  },
];

async function queryFrom(r: RouteRequest) {
  const principal = r.principal;
  if (!principal) throw new KernelError('unauthenticated', 'Sign in to see the maternity dashboard');
  const to = r.query('to') ?? (await latestMaternityMonth(r.deps.store));
  let from = r.query('from');
  if (from === undefined) {
    // An invalid `to` is reported by the domain; only derive `from` from a valid one.
    // The window defaults to the months loaded (at most DEFAULT_MONTHS), not to months
    // before the first submission.
    if (isMonth(to)) {
      const earliest = await earliestMaternityMonth(r.deps.store);
      const start = monthIndex(to) - (DEFAULT_MONTHS - 1);
      from = monthOf(
        earliest === null ? start : Math.min(monthIndex(to), Math.max(start, monthIndex(earliest))),
      );
    } else from = to;
  }
  // A provider reads only its own organisation's rows (the access policy), so its own
  // figures are where its dashboard starts.
  const org =
    r.query('org')?.trim().toUpperCase() ??
    (principal.role === 'provider' ? (principal.org ?? undefined) : undefined);
  const useCaseId = r.query('useCase');
  return {
    access: { user: readUserOf(principal), actor: r.actor },
    query: { from, to, ...(org ? { org } : {}), ...(useCaseId ? { useCaseId } : {}) },
  };
}

function formatValue(value: number, unit: string, decimals = 1): string {
  const text = value.toLocaleString('en-GB', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
  return unit === 'percent' ? `${text}%` : unit === 'per-1000' ? `${text} per 1,000` : text;
}

const RULE_WORDS: Record<string, string> = {
  'beyond-limit': 'Beyond a process limit',
  shift: 'Shift',
  trend: 'Trend',
  'two-of-three': 'Two of three near a limit',
};

const ASSURANCE_TAGS: Record<string, string> = {
  'consistently-passing': 'nhsuk-tag--blue',
  'hit-and-miss': 'nhsuk-tag--grey',
  'consistently-failing': 'nhsuk-tag--orange',
  none: 'nhsuk-tag--white',
};

const ASSURANCE_SHORT: Record<string, string> = {
  'consistently-passing': 'Consistently passing',
  'hit-and-miss': 'Hit and miss',
  'consistently-failing': 'Consistently failing',
  none: 'No target',
};

const ICON_SHORT: Record<string, string> = {
  'common-cause': 'Common cause',
  'improvement-high': 'Improvement (high)',
  'improvement-low': 'Improvement (low)',
  'concern-high': 'Concern (high)',
  'concern-low': 'Concern (low)',
  'neither-high': 'Special cause (high)',
  'neither-low': 'Special cause (low)',
  none: 'No data',
};

const BAND_WORDS: Record<string, string> = {
  within: 'Within the 95% limits',
  'above-95': 'Above the 95% limit (within 99.8%)',
  'below-95': 'Below the 95% limit (within 99.8%)',
  'above-99.8': 'Above the 99.8% limit: special cause',
  'below-99.8': 'Below the 99.8% limit: special cause',
};

const ICON_TAGS: Record<string, string> = {
  'common-cause': 'nhsuk-tag--grey',
  'improvement-high': 'nhsuk-tag--blue',
  'improvement-low': 'nhsuk-tag--blue',
  'concern-high': 'nhsuk-tag--orange',
  'concern-low': 'nhsuk-tag--orange',
  'neither-high': 'nhsuk-tag--purple',
  'neither-low': 'nhsuk-tag--purple',
  none: 'nhsuk-tag--white',
};

/** What the template needs: strings and markup only. */
function dashboardView(result: MaternityDashboard) {
  const seriesView = (
    measure: MaternityDashboard['measures'][number],
    series: MaternitySeries,
    id: string,
  ) => {
    const format = (v: number): string => formatValue(v, measure.unit);
    const show = (v: number | '*' | null): string => (v === null ? '–' : v === '*' ? '*' : format(v));
    const count = (v: number | '*' | null): string =>
      v === null ? 'not submitted' : v === '*' ? '*' : v.toLocaleString('en-GB');
    const segments = series.spc.segments.map((g) => ({
      start: result.months.indexOf(g.from),
      end: result.months.indexOf(g.to),
      mean: g.mean,
      upperProcessLimit: g.upperProcessLimit,
      lowerProcessLimit: g.lowerProcessLimit,
      reason: series.spc.rebases.find((r) => r.month === g.from)?.reason,
    }));
    const lastIndex = (() => {
      for (let i = series.points.length - 1; i >= 0; i--) if (series.points[i]?.value !== null) return i;
      return -1;
    })();
    const latest = series.points[lastIndex];
    return {
      label: series.label,
      latestMonth: latest ? monthLabel(latest.month) : '–',
      latest: latest ? show(latest.value) : '–',
      iconShort: ICON_SHORT[series.spc.icon] ?? series.spc.icon,
      target: series.spc.target === null ? null : format(series.spc.target),
      assurance: series.spc.assurance,
      assuranceShort: ASSURANCE_SHORT[series.spc.assurance] ?? series.spc.assurance,
      assuranceText: series.spc.assuranceText,
      assuranceClass: ASSURANCE_TAGS[series.spc.assurance] ?? 'nhsuk-tag--white',
      rebases: series.spc.rebases.map((r) => ({ month: monthLabel(r.month), reason: r.reason })),
      dataQualityLatest: (() => {
        const q = lastIndex >= 0 ? series.dataQuality[lastIndex] : undefined;
        return q === undefined || q.value === null
          ? '–'
          : q.value === '*'
            ? '*'
            : formatValue(q.value, 'percent');
      })(),
      iconText: series.spc.iconText,
      iconClass: ICON_TAGS[series.spc.icon] ?? 'nhsuk-tag--grey',
      mean: series.spc.mean === null ? '–' : format(series.spc.mean),
      upper: series.spc.upperProcessLimit === null ? '–' : format(series.spc.upperProcessLimit),
      lower: series.spc.lowerProcessLimit === null ? '–' : format(series.spc.lowerProcessLimit),
      fewPoints: series.spc.fewPoints,
      chart: spcChartSvg({
        id,
        title: `${measure.title}, ${series.label}, ${monthLabel(result.from)} to ${monthLabel(result.to)}`,
        description: `Statistical process control chart. ${series.spc.iconText}. Mean ${series.spc.mean === null ? 'not available' : format(series.spc.mean)}, upper process limit ${series.spc.upperProcessLimit === null ? 'not available' : format(series.spc.upperProcessLimit)}, lower process limit ${series.spc.lowerProcessLimit === null ? 'not available' : format(series.spc.lowerProcessLimit)}. The table below gives every value.`,
        months: result.months,
        spc: {
          mean: series.spc.mean,
          upperProcessLimit: series.spc.upperProcessLimit,
          lowerProcessLimit: series.spc.lowerProcessLimit,
          segments,
          target: series.spc.target,
          points: series.points.map((p) => ({
            value: typeof p.value === 'number' ? p.value : null,
            rules: p.rules,
            meaning: p.meaning,
          })),
        },
        format,
        yTitle:
          measure.unit === 'percent' ? 'Per cent' : measure.unit === 'per-1000' ? 'Rate per 1,000' : 'Number',
        xTitle: 'Month',
      }),
      rows: series.points.map((p, i) => ({
        month: monthLabel(p.month),
        dataQuality: (() => {
          const q = series.dataQuality[i]?.value ?? null;
          return q === null ? '–' : q === '*' ? '*' : formatValue(q, 'percent');
        })(),
        ...(() => {
          // the limits of the period this month belongs to
          const g = segments.find((x) => i >= x.start && i <= x.end);
          const f = (v: number | null | undefined): string =>
            v === null || v === undefined ? '–' : format(v);
          return { lower: f(g?.lowerProcessLimit), mean: f(g?.mean), upper: f(g?.upperProcessLimit) };
        })(),
        numerator: count(p.numerator),
        denominator: measure.unit === 'count' ? '–' : count(p.denominator),
        value: show(p.value),
        flags: p.rules.length
          ? `${p.meaning === 'improvement' ? 'Improvement' : p.meaning === 'concern' ? 'Concern' : 'Special cause'}: ${p.rules.map((rule) => RULE_WORDS[rule] ?? rule).join(', ')}`
          : '',
      })),
    };
  };
  return {
    measures: result.measures.map((m) => ({
      id: m.id,
      title: m.title,
      nationalId: m.nationalId,
      unitText: m.unit === 'percent' ? 'per cent' : m.unit === 'per-1000' ? 'per 1,000' : 'count',
      windowText: 'each month',
      countsText: m.counts === 'mothers' ? 'distinct mothers' : 'distinct babies',
      polarityText:
        m.polarity === 'higher-is-better'
          ? 'Higher is better'
          : m.polarity === 'lower-is-better'
            ? 'Lower is better'
            : 'Neither higher nor lower is better',
      numerator: m.numerator,
      denominator: m.denominator,
      definition: m.definition,
      fields: m.fields.join(', '),
      caveats: m.caveats,
      chartKind: m.chart,
      chartReason: m.chartReason,
      dataQuality: m.dataQuality,
      funnel: m.funnel === null ? null : funnelView(m, result),
      main: seriesView(m, m.series, `chart-${m.id}`),
      providers: m.providers.map((p) => {
        const last = [...p.points].reverse().find((point) => point.value !== null);
        return {
          label: p.label,
          latestMonth: last ? monthLabel(last.month) : '–',
          latest: last ? (last.value === '*' ? '*' : formatValue(last.value as number, m.unit)) : '–',
          iconText: p.spc.iconText,
          iconClass: ICON_TAGS[p.spc.icon] ?? 'nhsuk-tag--grey',
        };
      }),
    })),
  };
}

/** A rare-event measure's funnel plot and its table, for the page. */
function funnelView(measure: MaternityDashboard['measures'][number], result: MaternityDashboard) {
  const funnel = measure.funnel;
  if (funnel === null) return null;
  const format = (v: number): string => formatValue(v, measure.unit);
  const count = (v: number | '*'): string => (v === '*' ? '*' : v.toLocaleString('en-GB'));
  const placed = funnel.providers.filter(
    (p): p is typeof p & { value: number; numerator: number; denominator: number } =>
      typeof p.value === 'number' && typeof p.numerator === 'number' && typeof p.denominator === 'number',
  );
  const outside = placed.filter((p) => p.band === 'above-99.8' || p.band === 'below-99.8');
  return {
    summary:
      funnel.target === null
        ? 'No figures for this period'
        : outside.length === 0
          ? 'Every provider shown is within the 99.8% limits'
          : `${outside.map((p) => p.org).join(', ')} outside the 99.8% limits`,
    target: funnel.target === null ? '–' : format(funnel.target),
    chart: funnelChartSvg({
      id: `funnel-${measure.id}`,
      title: `${measure.title}: providers compared, ${monthLabel(result.from)} to ${monthLabel(result.to)}`,
      target: funnel.target,
      curve: funnel.curve,
      points: placed.map((p) => ({
        id: p.org,
        denominator: p.denominator,
        value: p.value,
        band: p.band ?? 'within',
        meaning: p.meaning,
      })),
      format,
      xTitle:
        measure.counts === 'mothers'
          ? 'Women in the denominator, over the period'
          : 'Babies in the denominator, over the period',
      yTitle: measure.unit === 'percent' ? 'Per cent' : 'Rate per 1,000',
    }),
    rows: funnel.providers.map((p) => ({
      org: p.org,
      numerator: count(p.numerator),
      denominator: count(p.denominator),
      value: p.value === null ? '–' : p.value === '*' ? '*' : format(p.value),
      band: p.band === null ? 'Not shown (small numbers)' : (BAND_WORDS[p.band] ?? p.band),
    })),
  };
}

/**
 * The API body, as UTF-8 bytes. The measures (most of it) come from the dashboard's cache as
 * the same object for every viewer of the same figures, so their encoded JSON is kept beside
 * them and the rest of the answer is spliced around it — byte for byte what
 * `JSON.stringify` would give, without re-encoding 180 KiB per request.
 */
const measuresJson = new WeakMap<object, Buffer>();
export function dashboardJson(result: MaternityDashboard): Buffer {
  let measures = measuresJson.get(result.measures);
  if (measures === undefined) {
    measures = Buffer.from(JSON.stringify(result.measures), 'utf8');
    measuresJson.set(result.measures, measures);
  }
  const { measures: _measures, ...rest } = result;
  return Buffer.concat([
    Buffer.from(`${JSON.stringify(rest).slice(0, -1)},"measures":`, 'utf8'),
    measures,
    Buffer.from('}'),
  ]);
}

/** Who may rebase a chart or set its target: what a board sees is the programme's to set. */
const CHART_OWNERS = ['admin', 'programme'] as const;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The chart settings page: every chart, its target and rebases, and forms to change them. */
async function renderChartSettings(
  r: RouteRequest,
  deps: ServerDeps,
  errors: { text: string; href: string }[] = [],
  status = 200,
) {
  const settings = await readChartSettings(deps.store, CHART_PREFIX);
  return r.render(
    'maternity/charts.njk',
    {
      title: 'Chart targets and rebases',
      charts: MATERNITY_MEASURES.map((m) => {
        const chart = `${CHART_PREFIX}${m.id}`;
        return {
          chart,
          title: m.title,
          kind: m.chart,
          unit: m.unit === 'percent' ? '%' : m.unit === 'per-1000' ? 'per 1,000' : 'count',
          polarity: m.polarity,
          targets: settings.targets.filter((t) => t.chart === chart),
          rebases: settings.rebases.filter((b) => b.chart === chart),
        };
      }),
      errors,
      done: r.query('done') ?? null,
      // the programme role sets targets but may not open the dashboard: no links to it
      mayOpenDashboard: (WHO as readonly string[]).includes(r.principal?.role ?? ''),
    },
    status,
  );
}

export function maternityRoutes(deps: ServerDeps): RouteDeclaration[] {
  const chartForm = (
    path: string,
    summary: string,
    act: (form: Record<string, string>, actor: string) => Promise<unknown>,
    done: string,
    /** the form's field ids, where they differ from the field names (two forms on one page) */
    ids: Record<string, string> = {},
  ): RouteDeclaration => ({
    method: 'POST',
    path,
    kind: 'page',
    access: CHART_OWNERS,
    summary,
    handle: async (r) => {
      const raw = await r.form();
      const form = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : '']),
      ) as Record<string, string>;
      try {
        await act(form, r.actor);
      } catch (error) {
        if (!(error instanceof KernelError) || !['usage', 'not-found'].includes(error.code)) throw error;
        const field = error.where?.field ?? 'chart';
        return renderChartSettings(r, deps, [{ text: error.message, href: `#${ids[field] ?? field}` }], 400);
      }
      return r.redirect(`/dashboards/maternity/charts?done=${done}`);
    },
  });
  return [
    {
      method: 'GET',
      path: '/dashboards/maternity/charts',
      kind: 'page',
      access: CHART_OWNERS,
      nav: 'Chart targets',
      summary: 'The maternity charts’ targets and rebases, and forms to set them',
      handle: (r) => renderChartSettings(r, deps),
    },
    chartForm(
      '/dashboards/maternity/charts/target',
      'Set or clear a chart’s target (audited)',
      (form, actor) =>
        setTarget(
          deps.store,
          {
            chart: form.chart ?? '',
            target: form.clear === 'yes' ? null : (form.target ?? ''),
            reason: form.reason ?? '',
            ...(form.scope ? { scope: form.scope } : {}),
          },
          actor,
          isMaternityChart,
          maternityTargetRange,
        ),
      'target',
    ),
    chartForm(
      '/dashboards/maternity/charts/rebase',
      'Record a rebase of a chart at a known change (audited)',
      (form, actor) =>
        recordRebase(
          deps.store,
          {
            chart: form.chart ?? '',
            period: form.from ?? '',
            reason: form.reason ?? '',
            ...(form.scope ? { scope: form.scope } : {}),
          },
          actor,
          isMaternityChart,
        ),
      'rebase',
      { chart: 'rebase-chart', scope: 'rebase-scope', reason: 'rebase-reason' },
    ),
    {
      method: 'GET',
      path: '/api/v1/charts',
      kind: 'api',
      access: WHO,
      tag: 'dashboards',
      summary: 'The maternity charts, with the rebases and targets recorded for them',
      response: chartListSchema,
      handle: async (r) =>
        r.json({
          charts: MATERNITY_MEASURES.map((m) => ({
            chart: `${CHART_PREFIX}${m.id}`,
            title: m.title,
            kind: m.chart,
          })),
          ...(await readChartSettings(deps.store, CHART_PREFIX)),
        }),
    },
    {
      method: 'POST',
      path: '/api/v1/charts/rebases',
      status: 201,
      kind: 'api',
      access: CHART_OWNERS,
      tag: 'dashboards',
      summary:
        'Record that a chart’s process changed in a month, so its limits are calculated afresh from it (audited)',
      body: {
        contentType: 'application/json',
        description:
          '{"chart": "maternity/robson-1", "from": "YYYY-MM", "reason": "…", "scope": "all or an ODS code"}',
      },
      request: rebaseRequestSchema,
      response: chartRebaseSchema,
      handle: async (r) => {
        const body = await r.jsonObject();
        const rebase = await recordRebase(
          deps.store,
          {
            chart: text(body.chart) ?? '',
            period: text(body.from) ?? '',
            reason: text(body.reason) ?? '',
            ...(text(body.scope) ? { scope: text(body.scope) as string } : {}),
          },
          r.actor,
          isMaternityChart,
        );
        return r.json(rebase, 201);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/charts/targets',
      kind: 'api',
      access: CHART_OWNERS,
      tag: 'dashboards',
      summary: 'Set (or, with "target": null, clear) a chart’s target, in the measure’s own unit (audited)',
      body: {
        contentType: 'application/json',
        description:
          '{"chart": "maternity/booking-by-10-weeks", "target": 75, "reason": "…", "scope": "all or an ODS code"}',
      },
      request: targetRequestSchema,
      response: targetAnswerSchema,
      handle: async (r) => {
        const body = await r.jsonObject();
        const value = body.target;
        if (value !== null && typeof value !== 'number' && typeof value !== 'string') {
          throw new KernelError('usage', 'Give the target as a number, or null to clear it', {
            where: { field: 'target' },
          });
        }
        const target = await setTarget(
          deps.store,
          {
            chart: text(body.chart) ?? '',
            target: value,
            reason: text(body.reason) ?? '',
            ...(text(body.scope) ? { scope: text(body.scope) as string } : {}),
          },
          r.actor,
          isMaternityChart,
          maternityTargetRange,
        );
        return r.json({ target }, 200);
      },
    },
    {
      method: 'GET',
      path: '/dashboards/maternity',
      kind: 'page',
      access: WHO,
      nav: 'Maternity',
      // The dashboard refuses (chooseUseCase) whoever maternityUseCases gives none; the menu
      // asks the same question of the same function.
      mayOpen: (principal) => mayOpenMaternityDashboard(deps.store, readUserOf(principal)),
      tag: 'dashboards',
      summary:
        'Maternity dashboard: national maternity measures as SPC charts, per provider and for the whole system',
      query: QUERY,
      handle: async (r) => {
        const { access, query } = await queryFrom(r);
        const filter = { org: query.org ?? '', from: query.from, to: query.to };
        try {
          const result = await maternityDashboard(deps.store, access, query);
          return r.render('maternity/dashboard.njk', {
            title: 'Maternity dashboard',
            result,
            runLengths: { shift: DEFAULT_RUN_LENGTH, trend: DEFAULT_RUN_LENGTH },
            mayChangeCharts: (CHART_OWNERS as readonly string[]).includes(r.principal?.role ?? ''),
            view: dashboardView(result),
            filter,
            errors: [],
            fromLabel: monthLabel(result.from),
            toLabel: monthLabel(result.to),
          });
        } catch (error) {
          // A mistake in the filters is shown on the page with the error summary pattern.
          if (error instanceof KernelError && error.code === 'usage' && error.where?.field) {
            return r.render(
              'maternity/dashboard.njk',
              {
                title: 'Maternity dashboard',
                result: null,
                filter,
                errors: [
                  {
                    text: error.message + (error.hint ? `. ${error.hint}` : ''),
                    href: `#${error.where.field}`,
                  },
                ],
                errorFor: { [error.where.field]: error.message },
              },
              400,
            );
          }
          throw error;
        }
      },
    },
    {
      method: 'GET',
      path: '/api/v1/dashboards/maternity',
      kind: 'api',
      access: WHO,
      tag: 'dashboards',
      summary:
        'Maternity measures by month for a provider or the whole system, with SPC and disclosure control',
      query: QUERY,
      response: maternityDashboardSchema,
      handle: async (r) => {
        const { access, query } = await queryFrom(r);
        const result = await maternityDashboard(deps.store, access, query);
        const body = dashboardJson(result);
        // A view of the same bytes (a Buffer's type is wider than Hono's body type).
        return r.c.body(new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), 200, {
          'Content-Type': 'application/json; charset=UTF-8',
        });
      },
    },
  ];
}
