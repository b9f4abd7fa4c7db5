/**
 * The programme office's pages and API: the plan with its chart, the RAID log, and the
 * monthly updates (drafts edited, issued ones kept). Programme team and administrators.
 * Thin: each handler reads its input, calls one function in src/reporting/ with the caller,
 * and answers; the domain checks the caller again and holds every rule.
 */
import { KernelError } from '../errors.ts';
import {
  addUpdateEntry,
  issueMonthlyUpdate,
  listEntries,
  listMonthlyUpdates,
  monthlyUpdate,
  removeUpdateEntry,
  setUpdateSummary,
  ENTRY_SECTIONS,
} from '../reporting/monthly-update.ts';
import {
  addMilestone,
  addWorkstream,
  changeMilestone,
  parseMilestoneState,
  updateWorkstream,
  type MilestoneChange,
} from '../reporting/programme-plan.ts';
import { planChartSvg } from '../reporting/plan-chart.ts';
import {
  entryRequestSchema,
  milestoneChangeRequestSchema,
  milestoneRequestSchema,
  milestoneSchema,
  milestoneViewSchema,
  monthlyUpdateSchema,
  raidChangeRequestSchema,
  raidItemSchema,
  raidItemViewSchema,
  raidListSchema,
  raidRequestSchema,
  refreshResultSchema,
  summaryRequestSchema,
  updateEntrySchema,
  updateListSchema,
  planViewSchema,
  workstreamChangeRequestSchema,
  workstreamRequestSchema,
  workstreamSchema,
} from '../reporting/programme-schemas.ts';
import { parseMonth, PROGRAMME_ROLES, type ProgrammeCaller } from '../reporting/programme-values.ts';
import {
  milestoneView,
  planView,
  raidItemView,
  raidLogView,
  refreshNow,
} from '../reporting/programme-views.ts';
import {
  changeRaidItem,
  parseRaidKind,
  parseRaidState,
  RAID_KINDS,
  raiseRaidItem,
  type RaidChange,
  type RaidFilter,
} from '../reporting/raid-log.ts';
import { monthlyUpdateHtml, monthlyUpdatePdf } from '../reporting/update-documents.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const TEAM = PROGRAMME_ROLES;
const TAG = 'programme';

function callerOf(r: RouteRequest): ProgrammeCaller {
  return { actor: r.actor, role: r.principal?.role ?? 'anonymous' };
}

/** The request's input: a JSON object for the API, the form for pages. */
async function inputOf(r: RouteRequest, kind: 'api' | 'page'): Promise<Record<string, unknown>> {
  return kind === 'page' ? r.form() : r.jsonObject();
}

/** A field given as text (or a number, for ratings); empty form fields count as absent. */
function field(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string')
    throw new KernelError('usage', `"${name}" must be text`, { where: { field: name } });
  return value;
}

const need = (input: Record<string, unknown>, name: string): string => field(input, name) ?? '';

function milestoneChange(input: Record<string, unknown>): MilestoneChange {
  const state = field(input, 'state');
  const tie = input.tie === null ? null : field(input, 'tie');
  return {
    ...(field(input, 'title') !== undefined ? { title: need(input, 'title') } : {}),
    ...(field(input, 'due') !== undefined ? { due: need(input, 'due') } : {}),
    ...(state !== undefined ? { state: parseMilestoneState(state) } : {}),
    ...(field(input, 'on') !== undefined ? { doneOn: need(input, 'on') } : {}),
    ...(field(input, 'evidence') !== undefined ? { evidence: need(input, 'evidence') } : {}),
    ...(field(input, 'href') !== undefined ? { evidenceHref: need(input, 'href') } : {}),
    ...(tie !== undefined ? { tie } : {}),
    ...(field(input, 'note') !== undefined ? { note: need(input, 'note') } : {}),
  };
}

function raidChange(input: Record<string, unknown>): RaidChange {
  const out: RaidChange = {};
  for (const name of [
    'title',
    'description',
    'owner',
    'likelihood',
    'impact',
    'mitigation',
    'note',
  ] as const) {
    const value = field(input, name);
    if (value !== undefined) out[name] = value;
  }
  const review = field(input, 'review');
  if (review !== undefined) out.reviewOn = review;
  const href = field(input, 'href');
  if (href !== undefined) out.evidenceHref = href;
  const state = field(input, 'state');
  if (state !== undefined) out.state = parseRaidState(state);
  const on = field(input, 'on');
  if (on !== undefined) out.closedOn = on;
  return out;
}

/** The fields of a new workstream, from a form (supplier "yes") or JSON (supplier true). */
const workstreamInput = (input: Record<string, unknown>) => ({
  title: need(input, 'title'),
  owner: need(input, 'owner'),
  supplier: input.supplier === true || input.supplier === 'yes',
  from: need(input, 'from'),
  to: need(input, 'to'),
});

const milestoneInput = (input: Record<string, unknown>) => ({
  workstream: need(input, 'workstream'),
  title: need(input, 'title'),
  due: need(input, 'due'),
  tie: field(input, 'tie') ?? null,
});

function raidInput(input: Record<string, unknown>) {
  const raised = field(input, 'raised');
  return {
    kind: need(input, 'kind'),
    title: need(input, 'title'),
    owner: need(input, 'owner'),
    ...raidChange(input),
    ...(raised ? { raisedOn: raised } : {}),
  };
}

const entryInput = (input: Record<string, unknown>, month: string) => ({
  month,
  section: need(input, 'section'),
  text: need(input, 'text'),
  href: field(input, 'href') ?? null,
});

function raidFilter(r: RouteRequest): RaidFilter {
  const kind = r.query('kind');
  const state = r.query('state');
  return {
    ...(kind ? { kind: parseRaidKind(kind) } : {}),
    ...(state ? { state: parseRaidState(state) } : {}),
  };
}

/** The portal's own address, for links in a downloaded PDF. */
const originOf = (r: RouteRequest): string => new URL(r.c.req.url).origin;

const monthParam = { name: 'month', description: 'the month, YYYY-MM' };

export function programmeRoutes(deps: ServerDeps): RouteDeclaration[] {
  const { store } = deps;
  const now = (): Date => (deps.now ?? (() => new Date()))();

  const planPage = async (r: RouteRequest) => {
    const view = await planView(store, callerOf(r), { now: now() });
    return r.render('programme/plan.njk', { title: 'Programme plan', view, saved: r.query('saved') ?? '' });
  };

  return [
    // ---------------------------------------------------------------- the plan
    {
      method: 'GET',
      path: '/programme',
      kind: 'page',
      access: TEAM,
      nav: 'Programme',
      summary: 'The programme plan as a chart, with its workstreams and milestones',
      handle: planPage,
    },
    {
      method: 'POST',
      path: '/programme/workstreams',
      kind: 'page',
      access: TEAM,
      summary: 'Add a workstream to the plan',
      handle: async (r) => {
        const input = await inputOf(r, 'page');
        const ws = await addWorkstream(
          store,
          {
            title: need(input, 'title'),
            owner: need(input, 'owner'),
            supplier: field(input, 'supplier') === 'yes',
            from: need(input, 'from'),
            to: need(input, 'to'),
          },
          callerOf(r),
        );
        return r.redirect(`/programme?saved=${encodeURIComponent(ws.id)}`);
      },
    },
    {
      method: 'POST',
      path: '/programme/milestones',
      kind: 'page',
      access: TEAM,
      summary: 'Add a milestone to a workstream',
      handle: async (r) => {
        const input = await inputOf(r, 'page');
        const m = await addMilestone(store, milestoneInput(input), callerOf(r));
        return r.redirect(`/programme?saved=${encodeURIComponent(m.id)}#${m.id}`);
      },
    },
    {
      method: 'POST',
      path: '/programme/milestones/:id',
      kind: 'page',
      access: TEAM,
      example: { id: 'M-01' },
      summary: 'Mark a milestone done, slipped or planned, or re-plan it',
      handle: async (r) => {
        const m = await changeMilestone(
          store,
          r.param('id'),
          milestoneChange(await inputOf(r, 'page')),
          callerOf(r),
        );
        return r.redirect(`/programme?saved=${encodeURIComponent(m.id)}#${m.id}`);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/plan',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      query: [{ name: 'month', description: 'the month the chart is drawn as now (default this month)' }],
      summary: 'The plan, brought up to date with Kernel’s records, with its chart as SVG',
      response: planViewSchema,
      handle: async (r) => {
        const month = r.query('month');
        return r.json(await planView(store, callerOf(r), { now: now(), ...(month ? { month } : {}) }));
      },
    },
    {
      method: 'POST',
      path: '/api/v1/plan/workstreams',
      status: 201,
      kind: 'api',
      access: TEAM,
      tag: TAG,
      body: {
        contentType: 'application/json',
        description:
          '{"title": "Maternity dashboard", "owner": "QKS", "supplier": false, "from": "2021-07", "to": "2021-10"}',
      },
      summary: 'Add a workstream',
      request: workstreamRequestSchema,
      response: workstreamSchema,
      handle: async (r) => {
        const input = await inputOf(r, 'api');
        return r.json(await addWorkstream(store, workstreamInput(input), callerOf(r)), 201);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/plan/workstreams/:id',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { id: 'WS-01' },
      pathParams: [{ name: 'id', description: 'workstream id, e.g. WS-01' }],
      body: {
        contentType: 'application/json',
        description: '{"title", "owner", "supplier", "from", "to"}: any of them',
      },
      summary: 'Change a workstream',
      request: workstreamChangeRequestSchema,
      response: workstreamSchema,
      handle: async (r) => {
        const input = await inputOf(r, 'api');
        const change = {
          ...(field(input, 'title') !== undefined ? { title: need(input, 'title') } : {}),
          ...(field(input, 'owner') !== undefined ? { owner: need(input, 'owner') } : {}),
          ...(typeof input.supplier === 'boolean' ? { supplier: input.supplier } : {}),
          ...(field(input, 'from') !== undefined ? { from: need(input, 'from') } : {}),
          ...(field(input, 'to') !== undefined ? { to: need(input, 'to') } : {}),
        };
        return r.json(await updateWorkstream(store, r.param('id'), change, callerOf(r)));
      },
    },
    {
      method: 'POST',
      path: '/api/v1/plan/milestones',
      status: 201,
      kind: 'api',
      access: TEAM,
      tag: TAG,
      body: {
        contentType: 'application/json',
        description:
          '{"workstream": "WS-04", "title": "SUS loads completed for MTW", "due": "2021-09", "tie": "loads:RWF:apc+op+ecds"}',
      },
      summary: 'Add a milestone, optionally tied to the Kernel fact that completes it',
      request: milestoneRequestSchema,
      response: milestoneSchema,
      handle: async (r) => {
        const input = await inputOf(r, 'api');
        return r.json(await addMilestone(store, milestoneInput(input), callerOf(r)), 201);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/plan/milestones/:id',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { id: 'M-01' },
      pathParams: [{ name: 'id', description: 'milestone id, e.g. M-01' }],
      summary: 'A milestone with its history',
      response: milestoneViewSchema,
      handle: async (r) => r.json(await milestoneView(store, r.param('id'), callerOf(r))),
    },
    {
      method: 'POST',
      path: '/api/v1/plan/milestones/:id',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { id: 'M-01' },
      pathParams: [{ name: 'id', description: 'milestone id, e.g. M-01' }],
      body: {
        contentType: 'application/json',
        description:
          '{"state": "done", "on": "2021-07-19", "evidence": "…", "href": "/public", "title", "due", "tie" (null to remove), "note"}: any of them',
      },
      summary: 'Change a milestone: done (with the day and evidence), slipped, planned, or re-planned',
      request: milestoneChangeRequestSchema,
      response: milestoneSchema,
      handle: async (r) =>
        r.json(
          await changeMilestone(store, r.param('id'), milestoneChange(await inputOf(r, 'api')), callerOf(r)),
        ),
    },
    {
      method: 'POST',
      path: '/api/v1/plan/refresh',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      summary: 'Check tied milestones and automatic RAID issues against Kernel’s records now',
      response: refreshResultSchema,
      handle: async (r) => r.json(await refreshNow(store, callerOf(r), { now: now() })),
    },

    // ---------------------------------------------------------------- the RAID log
    {
      method: 'GET',
      path: '/programme/raid',
      kind: 'page',
      access: TEAM,
      nav: 'RAID log',
      query: [
        { name: 'kind', description: RAID_KINDS.join(', ') },
        { name: 'state', description: 'open or closed' },
      ],
      summary: 'Risks, issues, assumptions and dependencies, some raised by Kernel itself',
      handle: async (r) => {
        const filter = raidFilter(r);
        return r.render('programme/raid.njk', {
          title: 'RAID log',
          items: await raidLogView(store, callerOf(r), filter, { now: now() }),
          filter: { kind: filter.kind ?? '', state: filter.state ?? '' },
          kinds: RAID_KINDS,
        });
      },
    },
    {
      method: 'POST',
      path: '/programme/raid',
      kind: 'page',
      access: TEAM,
      summary: 'Raise a risk, issue, assumption or dependency',
      handle: async (r) => {
        const input = await inputOf(r, 'page');
        const item = await raiseRaidItem(store, raidInput(input), callerOf(r));
        return r.redirect(`/programme/raid/${encodeURIComponent(item.id)}`);
      },
    },
    {
      method: 'GET',
      path: '/programme/raid/:id',
      kind: 'page',
      access: TEAM,
      example: { id: 'R-001' },
      summary: 'One RAID item with its history',
      handle: async (r) => {
        const { item, history } = await raidItemView(store, r.param('id'), callerOf(r));
        return r.render('programme/raid-item.njk', { title: `${item.id} ${item.title}`, item, history });
      },
    },
    {
      method: 'POST',
      path: '/programme/raid/:id',
      kind: 'page',
      access: TEAM,
      example: { id: 'R-001' },
      summary: 'Change, close or reopen a RAID item',
      handle: async (r) => {
        const item = await changeRaidItem(
          store,
          r.param('id'),
          raidChange(await inputOf(r, 'page')),
          callerOf(r),
        );
        return r.redirect(`/programme/raid/${encodeURIComponent(item.id)}`);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/raid',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      query: [
        { name: 'kind', description: RAID_KINDS.join(', ') },
        { name: 'state', description: 'open or closed' },
      ],
      summary: 'The RAID log, brought up to date with Kernel’s records',
      response: raidListSchema,
      handle: async (r) =>
        r.json({ items: await raidLogView(store, callerOf(r), raidFilter(r), { now: now() }) }),
    },
    {
      method: 'POST',
      path: '/api/v1/raid',
      status: 201,
      kind: 'api',
      access: TEAM,
      tag: TAG,
      body: {
        contentType: 'application/json',
        description:
          '{"kind": "risk", "title", "owner", "likelihood": 4, "impact": 4, "mitigation", "review": "2021-08-01", "raised": "2021-02-10", "description", "href"}',
      },
      summary: 'Raise a risk, issue, assumption or dependency',
      request: raidRequestSchema,
      response: raidItemSchema,
      handle: async (r) => {
        const input = await inputOf(r, 'api');
        return r.json(await raiseRaidItem(store, raidInput(input), callerOf(r)), 201);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/raid/:id',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { id: 'R-001' },
      pathParams: [{ name: 'id', description: 'item id, e.g. R-001' }],
      summary: 'One RAID item with its history',
      response: raidItemViewSchema,
      handle: async (r) => r.json(await raidItemView(store, r.param('id'), callerOf(r))),
    },
    {
      method: 'POST',
      path: '/api/v1/raid/:id',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { id: 'R-001' },
      pathParams: [{ name: 'id', description: 'item id, e.g. R-001' }],
      body: {
        contentType: 'application/json',
        description: '{"state": "closed", "on": "2021-09-30", "note": "…", or any field of the item}',
      },
      summary: 'Change, close or reopen a RAID item',
      request: raidChangeRequestSchema,
      response: raidItemSchema,
      handle: async (r) =>
        r.json(await changeRaidItem(store, r.param('id'), raidChange(await inputOf(r, 'api')), callerOf(r))),
    },

    // ---------------------------------------------------------------- monthly updates
    {
      method: 'GET',
      path: '/programme/updates',
      kind: 'page',
      access: TEAM,
      nav: 'Monthly updates',
      query: [{ name: 'month', description: 'open the update for this month, YYYY-MM' }],
      summary: 'The monthly updates, drafted and issued',
      handle: async (r) => {
        const month = r.query('month');
        if (month) return r.redirect(`/programme/updates/${parseMonth(month)}`);
        return r.render('programme/updates.njk', {
          title: 'Monthly updates',
          updates: await listMonthlyUpdates(store, callerOf(r)),
          lastMonth: new Date(Date.UTC(now().getUTCFullYear(), now().getUTCMonth() - 1, 1))
            .toISOString()
            .slice(0, 7),
        });
      },
    },
    {
      method: 'GET',
      path: '/programme/updates/:month',
      kind: 'page',
      access: TEAM,
      example: { month: '2021-07' },
      summary: 'The update for a month, with its evidence links; a draft can be edited and issued',
      handle: async (r) => {
        const update = await monthlyUpdate(store, r.param('month'), callerOf(r), { now: now() });
        return r.render('programme/update.njk', {
          title: `${update.title}: ${update.monthName}`,
          update,
          entries: update.state === 'draft' ? await listEntries(store, update.month) : [],
          sections: ENTRY_SECTIONS,
          svg: planChartSvg(update.plan),
        });
      },
    },
    {
      method: 'GET',
      path: '/programme/updates/:month/document',
      kind: 'page',
      access: TEAM,
      example: { month: '2021-07' },
      summary: 'The update for a month as a printable document',
      handle: async (r) => {
        const update = await monthlyUpdate(store, r.param('month'), callerOf(r), { now: now() });
        return new Response(monthlyUpdateHtml(update, { nonce: r.nonce }), {
          headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
        });
      },
    },
    {
      method: 'GET',
      path: '/programme/updates/:month/pdf',
      kind: 'page',
      access: TEAM,
      example: { month: '2021-07' },
      summary: 'The update for a month as a PDF',
      handle: async (r) => {
        const update = await monthlyUpdate(store, r.param('month'), callerOf(r), { now: now() });
        return new Response(new Uint8Array(await monthlyUpdatePdf(update, { baseUrl: originOf(r) })), {
          headers: {
            'Content-Type': 'application/pdf',
            // RFC 6266: saved under this name.
            'Content-Disposition': `attachment; filename="kernel-update-${update.month}.pdf"`,
            'Cache-Control': 'no-store',
          },
        });
      },
    },
    {
      method: 'POST',
      path: '/programme/updates/:month/summary',
      kind: 'page',
      access: TEAM,
      example: { month: '2021-07' },
      summary: 'Set the summary of a draft update',
      handle: async (r) => {
        const input = await inputOf(r, 'page');
        await setUpdateSummary(
          store,
          { month: r.param('month'), summary: field(input, 'summary') ?? '' },
          callerOf(r),
        );
        return r.redirect(`/programme/updates/${parseMonth(r.param('month'))}`);
      },
    },
    {
      method: 'POST',
      path: '/programme/updates/:month/entries',
      kind: 'page',
      access: TEAM,
      example: { month: '2021-07' },
      summary: 'Add the team’s own line to a draft update',
      handle: async (r) => {
        const input = await inputOf(r, 'page');
        await addUpdateEntry(store, entryInput(input, r.param('month')), callerOf(r));
        return r.redirect(`/programme/updates/${parseMonth(r.param('month'))}`);
      },
    },
    {
      method: 'POST',
      path: '/programme/updates/:month/entries/:id/remove',
      kind: 'page',
      access: TEAM,
      example: { month: '2021-07', id: 'E-00000000' },
      summary: 'Remove one of the team’s lines from a draft update',
      handle: async (r) => {
        const entry = await removeUpdateEntry(store, r.param('id'), callerOf(r));
        return r.redirect(`/programme/updates/${entry.month}`);
      },
    },
    {
      method: 'POST',
      path: '/programme/updates/:month/issue',
      kind: 'page',
      access: TEAM,
      example: { month: '2021-07' },
      summary: 'Issue the update for a month that has ended',
      handle: async (r) => {
        const update = await issueMonthlyUpdate(store, r.param('month'), callerOf(r), { now: now() });
        return r.redirect(`/programme/updates/${update.month}`);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/reports/monthly',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      summary: 'The monthly updates begun or issued',
      response: updateListSchema,
      handle: async (r) => r.json({ updates: await listMonthlyUpdates(store, callerOf(r)) }),
    },
    {
      method: 'GET',
      path: '/api/v1/reports/monthly/:month',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { month: '2021-07' },
      pathParams: [monthParam],
      summary: 'The update for a month: drafted from Kernel’s records, or exactly as issued',
      response: monthlyUpdateSchema,
      handle: async (r) => r.json(await monthlyUpdate(store, r.param('month'), callerOf(r), { now: now() })),
    },
    {
      method: 'POST',
      path: '/api/v1/reports/monthly/:month/entries',
      status: 201,
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { month: '2021-07' },
      pathParams: [monthParam],
      body: {
        contentType: 'application/json',
        description: `{"section": "${ENTRY_SECTIONS.join(' | ')}", "text": "…", "href": "/optional/portal/path"}`,
      },
      summary: 'Add the team’s own line to a draft update',
      request: entryRequestSchema,
      response: updateEntrySchema,
      handle: async (r) => {
        const input = await inputOf(r, 'api');
        return r.json(await addUpdateEntry(store, entryInput(input, r.param('month')), callerOf(r)), 201);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/reports/monthly/:month/entries/:id/remove',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { month: '2021-07', id: 'E-00000000' },
      pathParams: [monthParam, { name: 'id', description: 'entry id, e.g. E-1a2b3c4d' }],
      summary: 'Remove one of the team’s lines from a draft update',
      response: updateEntrySchema,
      handle: async (r) => r.json(await removeUpdateEntry(store, r.param('id'), callerOf(r))),
    },
    {
      method: 'POST',
      path: '/api/v1/reports/monthly/:month/summary',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { month: '2021-07' },
      pathParams: [monthParam],
      body: { contentType: 'application/json', description: '{"summary": "…"}' },
      summary: 'Set the summary of a draft update',
      request: summaryRequestSchema,
      response: monthlyUpdateSchema,
      handle: async (r) => {
        const input = await inputOf(r, 'api');
        await setUpdateSummary(
          store,
          { month: r.param('month'), summary: field(input, 'summary') ?? '' },
          callerOf(r),
        );
        return r.json(await monthlyUpdate(store, r.param('month'), callerOf(r), { now: now() }));
      },
    },
    {
      method: 'POST',
      path: '/api/v1/reports/monthly/:month/issue',
      kind: 'api',
      access: TEAM,
      tag: TAG,
      example: { month: '2021-07' },
      pathParams: [monthParam],
      summary: 'Issue the update for a month that has ended; it is kept exactly as issued',
      response: monthlyUpdateSchema,
      handle: async (r) =>
        r.json(await issueMonthlyUpdate(store, r.param('month'), callerOf(r), { now: now() })),
    },
  ];
}
