import { spcChartSvg } from '../analytics/spc-chart-svg.ts';
import { packPdf } from '../signoff/pack-pdf.ts';
import { KernelError } from '../errors.ts';
import { signOffPack } from '../signoff/sign-off-pack.ts';
import {
  decide,
  listSignOffs,
  SIGNOFF_STATES,
  type SignOffCaller,
  type SignOffDecision,
  type SignOffState,
} from '../signoff/sign-off.ts';
import {
  decisionRequestSchema,
  signOffListSchema,
  signOffMonthSchema,
  signOffPackSchema,
} from '../signoff/signoff-schemas.ts';
import { givenFields } from '../operations/operation.ts';
import { download } from './download-response.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';
import { pagesFor } from './page-helpers.ts';

/** The sending organisations' BI leads (provider accounts) and administrators. */
const WHO = ['admin', 'provider'] as const;

function callerOf(r: RouteRequest): SignOffCaller {
  return { actor: r.actor, role: r.principal?.role ?? 'anonymous', org: r.principal?.org ?? null };
}

function stateOf(r: RouteRequest): SignOffState | undefined {
  const state = r.query('state');
  if (state === undefined) return undefined;
  if (!(SIGNOFF_STATES as readonly string[]).includes(state)) {
    throw new KernelError('usage', `"${state}" is not a sign-off state`, {
      where: { field: 'state' },
      hint: `Use one of ${SIGNOFF_STATES.join(', ')}`,
    });
  }
  return state as SignOffState;
}

const monthOf = (r: RouteRequest) => ({
  org: r.param('org').toUpperCase(),
  dataset: r.param('dataset'),
  period: r.param('period'),
});

/** A month's place in the path (`/signoff/:org/:dataset/:period`), documented, with a month to try. */
const MONTH_PATH_PARAMS = [
  { name: 'org', description: 'the sending organisation (ODS code)' },
  { name: 'dataset', description: 'dataset id, e.g. apc' },
  { name: 'period', description: 'reporting month YYYY-MM' },
];
const MONTH_EXAMPLE = { org: 'RWF', dataset: 'apc', period: '2025-04' };

/** What a decision's form or JSON body says beside the decision: a note, the load checked. */
function decisionDetails(given: Record<string, unknown>): { note?: string; loadId?: string } {
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return givenFields({ note: text(given.note), loadId: text(given.loadId) });
}

const page = pagesFor(WHO);
/** Sign-off: what waits, each month's pack, and the decisions on it (docs/signoff.md). */
export function signoffRoutes(deps: ServerDeps): RouteDeclaration[] {
  const store = deps.store;
  const decision = (name: SignOffDecision, summary: string): RouteDeclaration[] => [
    page({
      method: 'POST',
      path: `/signoff/:org/:dataset/:period/${name}`,
      summary,
      example: MONTH_EXAMPLE,
      handle: async (r) => {
        const form = await r.form();
        const month = monthOf(r);
        try {
          await decide(store, callerOf(r), { ...month, decision: name, ...decisionDetails(form) });
        } catch (error) {
          if (!(error instanceof KernelError) || !['usage', 'conflict'].includes(error.code)) throw error;
          return renderPack(r, month, [{ text: error.message, href: '#note' }], 400);
        }
        return r.redirect(`/signoff/${month.org}/${month.dataset}/${month.period}?done=${name}`);
      },
    }),
    {
      method: 'POST',
      path: `/api/v1/signoff/:org/:dataset/:period/${name}`,
      kind: 'api',
      access: WHO,
      tag: 'signoff',
      summary,
      pathParams: MONTH_PATH_PARAMS,
      body: {
        contentType: 'application/json',
        description: '{"note": "…", "loadId": "the load you checked"}',
      },
      request: decisionRequestSchema,
      response: signOffMonthSchema,
      example: MONTH_EXAMPLE,
      handle: async (r) => {
        const body = await r.jsonObject();
        return r.json(
          await decide(store, callerOf(r), { ...monthOf(r), decision: name, ...decisionDetails(body) }),
        );
      },
    },
  ];

  const renderPack = async (
    r: RouteRequest,
    month: { org: string; dataset: string; period: string },
    errors: { text: string; href: string }[] = [],
    status = 200,
  ) => {
    const pack = await signOffPack(store, callerOf(r), month.org, month.dataset, month.period);
    return r.render(
      'signoff/pack.njk',
      {
        title: `Sign-off: ${month.dataset} from ${month.org}, ${month.period}`,
        pack,
        errors,
        done: r.query('done') ?? null,
        rateCharts: pack.catalogue.rates.map((rate, i) => ({
          field: rate.field,
          chart: spcChartSvg({
            id: `rate-${i}`,
            title: `${rate.field}: share of rows filled each month, ${month.dataset} from ${month.org}`,
            description: `An XmR chart of how complete ${rate.field} was each month from ${rate.months[0]} to ${month.period}; its completeness over time is flagged.`,
            months: rate.months,
            spc: rate.spc,
            format: (v) => `${Math.round(v * 10) / 10}%`,
            yTitle: 'Rows with the field filled (%)',
          }),
        })),
        chart: spcChartSvg({
          id: 'volume',
          title: `Rows loaded each month: ${month.dataset} from ${month.org}`,
          description: `An XmR chart of the rows loaded each month from ${pack.volume.months[0]} to ${month.period}, with the mean and process limits.`,
          months: pack.volume.months,
          spc: pack.volume.spc,
          format: (v) => Math.round(v).toLocaleString('en-GB'),
          yTitle: 'Rows loaded',
        }),
      },
      status,
    );
  };

  return [
    page({
      method: 'GET',
      path: '/signoff',
      nav: 'Sign-off',
      summary: 'Months waiting for sign-off, and where each stands',
      query: [{ name: 'state', description: `one of ${SIGNOFF_STATES.join(', ')}` }],
      handle: async (r) =>
        r.render('signoff/list.njk', {
          title: 'Sign-off',
          months: await listSignOffs(store, callerOf(r), { ...(stateOf(r) ? { state: stateOf(r) } : {}) }),
          state: r.query('state') ?? '',
          states: SIGNOFF_STATES,
        }),
    }),
    page({
      method: 'GET',
      path: '/signoff/:org/:dataset/:period',
      summary: 'A month’s sign-off pack: its checks, volume and completeness, and the decision',
      example: MONTH_EXAMPLE,
      handle: (r) => renderPack(r, monthOf(r)),
    }),
    page({
      method: 'GET',
      path: '/signoff/:org/:dataset/:period/pdf',
      summary: 'A month’s sign-off pack as a PDF (no rows in it)',
      example: MONTH_EXAMPLE,
      handle: async (r) => {
        const month = monthOf(r);
        const pack = await signOffPack(store, callerOf(r), month.org, month.dataset, month.period);
        return download(new Uint8Array(await packPdf(pack)), {
          type: 'application/pdf',
          name: `kernel-signoff-${pack.month.org}-${pack.month.dataset}-${pack.month.period}.pdf`,
        });
      },
    }),
    {
      method: 'GET',
      path: '/api/v1/signoff',
      kind: 'api',
      access: WHO,
      tag: 'signoff',
      summary: 'Months and where each stands in sign-off (a provider sees its own)',
      query: [{ name: 'state', description: `one of ${SIGNOFF_STATES.join(', ')}` }],
      response: signOffListSchema,
      handle: async (r) =>
        r.json({
          months: await listSignOffs(store, callerOf(r), { ...(stateOf(r) ? { state: stateOf(r) } : {}) }),
        }),
    },
    {
      method: 'GET',
      path: '/api/v1/signoff/:org/:dataset/:period',
      kind: 'api',
      access: WHO,
      tag: 'signoff',
      summary: 'A month’s sign-off pack',
      response: signOffPackSchema,
      pathParams: MONTH_PATH_PARAMS,
      example: MONTH_EXAMPLE,
      handle: async (r) => {
        const month = monthOf(r);
        return r.json(await signOffPack(store, callerOf(r), month.org, month.dataset, month.period));
      },
    },
    ...decision('sign-off', 'Sign a month off: its data are right'),
    ...decision('reject', 'Reject a month, with the reasons the sender reads'),
    ...decision('publish', 'Publish a signed-off month (administrators)'),
  ];
}
