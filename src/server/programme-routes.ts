/**
 * The programme office's pages and API: the plan with its chart, the RAID log, and the
 * monthly updates (drafts edited, issued ones kept). Programme team and administrators.
 * The API is generated from src/reporting/programme-operations.ts; the pages are templates
 * over the same operations (`r.run`), so they apply the same rules.
 */
import { listEntries, ENTRY_SECTIONS } from '../reporting/monthly-update.ts';
import { planChartSvg } from '../reporting/plan-chart.ts';
import {
  addEntryOperation,
  addMilestoneOperation,
  addWorkstreamOperation,
  changeMilestoneOperation,
  changeRaidOperation,
  issueUpdateOperation,
  listUpdatesOperation,
  monthlyUpdateOperation,
  planOperation,
  PROGRAMME_OPERATIONS,
  raidFilterOf,
  raidItemOperation,
  raidLogOperation,
  raiseRaidOperation,
  removeEntryOperation,
  setSummaryOperation,
} from '../reporting/programme-operations.ts';
import { parseMonth, PROGRAMME_ROLES } from '../reporting/programme-values.ts';
import { RAID_KINDS } from '../reporting/raid-log.ts';
import { monthlyUpdateHtml, monthlyUpdatePdf } from '../reporting/update-documents.ts';
import { operationRoutes } from './operation-routes.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const TEAM = PROGRAMME_ROLES;

/** A form's fields, a blank one left out (the operation's default applies, as in the API). */
async function filledForm(r: RouteRequest): Promise<Record<string, unknown>> {
  const form = await r.form();
  return Object.fromEntries(Object.entries(form).filter(([name, v]) => v !== '' && name !== 'csrf'));
}

/** The portal's own address, for links in a downloaded PDF. */
const originOf = (r: RouteRequest): string => new URL(r.c.req.url).origin;

const monthOf = (r: RouteRequest) => r.run(monthlyUpdateOperation, { month: r.param('month') });
const toUpdate = (r: RouteRequest, month: string) => r.redirect(`/programme/updates/${month}`);

export function programmeRoutes(deps: ServerDeps): RouteDeclaration[] {
  const now = (): Date => (deps.now ?? (() => new Date()))();
  const page = (route: Omit<RouteDeclaration, 'kind' | 'access'>): RouteDeclaration => ({
    ...route,
    kind: 'page',
    access: TEAM,
  });

  return [
    // ---------------------------------------------------------------- the plan
    page({
      method: 'GET',
      path: '/programme',
      nav: 'Programme',
      summary: 'The programme plan as a chart, with its workstreams and milestones',
      handle: async (r) =>
        r.render('programme/plan.njk', {
          title: 'Programme plan',
          view: await r.run(planOperation, {}),
          saved: r.query('saved') ?? '',
        }),
    }),
    page({
      method: 'POST',
      path: '/programme/workstreams',
      summary: 'Add a workstream to the plan',
      handle: async (r) => {
        const form = await filledForm(r);
        const ws = await r.run(addWorkstreamOperation, { ...form, supplier: form.supplier === 'yes' });
        return r.redirect(`/programme?saved=${encodeURIComponent(ws.id)}`);
      },
    }),
    page({
      method: 'POST',
      path: '/programme/milestones',
      summary: 'Add a milestone to a workstream',
      handle: async (r) => {
        const m = await r.run(addMilestoneOperation, await filledForm(r));
        return r.redirect(`/programme?saved=${encodeURIComponent(m.id)}#${m.id}`);
      },
    }),
    page({
      method: 'POST',
      path: '/programme/milestones/:id',
      example: { id: 'M-01' },
      summary: 'Mark a milestone done, slipped or planned, or re-plan it',
      handle: async (r) => {
        const m = await r.run(changeMilestoneOperation, { ...(await filledForm(r)), id: r.param('id') });
        return r.redirect(`/programme?saved=${encodeURIComponent(m.id)}#${m.id}`);
      },
    }),

    // ---------------------------------------------------------------- the RAID log
    page({
      method: 'GET',
      path: '/programme/raid',
      nav: 'RAID log',
      query: [
        { name: 'kind', description: RAID_KINDS.join(', ') },
        { name: 'state', description: 'open or closed' },
      ],
      summary: 'Risks, issues, assumptions and dependencies, some raised by Kernel itself',
      handle: async (r) => {
        const asked = { kind: r.query('kind'), state: r.query('state') };
        const filter = raidFilterOf(asked);
        return r.render('programme/raid.njk', {
          title: 'RAID log',
          items: (await r.run(raidLogOperation, asked)).items,
          filter: { kind: filter.kind ?? '', state: filter.state ?? '' },
          kinds: RAID_KINDS,
        });
      },
    }),
    page({
      method: 'POST',
      path: '/programme/raid',
      summary: 'Raise a risk, issue, assumption or dependency',
      handle: async (r) => {
        const item = await r.run(raiseRaidOperation, await filledForm(r));
        return r.redirect(`/programme/raid/${encodeURIComponent(item.id)}`);
      },
    }),
    page({
      method: 'GET',
      path: '/programme/raid/:id',
      example: { id: 'R-001' },
      summary: 'One RAID item with its history',
      handle: async (r) => {
        const { item, history } = await r.run(raidItemOperation, { id: r.param('id') });
        return r.render('programme/raid-item.njk', { title: `${item.id} ${item.title}`, item, history });
      },
    }),
    page({
      method: 'POST',
      path: '/programme/raid/:id',
      example: { id: 'R-001' },
      summary: 'Change, close or reopen a RAID item',
      handle: async (r) => {
        const item = await r.run(changeRaidOperation, { ...(await filledForm(r)), id: r.param('id') });
        return r.redirect(`/programme/raid/${encodeURIComponent(item.id)}`);
      },
    }),

    // ---------------------------------------------------------------- monthly updates
    page({
      method: 'GET',
      path: '/programme/updates',
      nav: 'Monthly updates',
      query: [{ name: 'month', description: 'open the update for this month, YYYY-MM' }],
      summary: 'The monthly updates, drafted and issued',
      handle: async (r) => {
        const month = r.query('month');
        if (month) return toUpdate(r, parseMonth(month));
        return r.render('programme/updates.njk', {
          title: 'Monthly updates',
          updates: (await r.run(listUpdatesOperation, {})).updates,
          lastMonth: new Date(Date.UTC(now().getUTCFullYear(), now().getUTCMonth() - 1, 1))
            .toISOString()
            .slice(0, 7),
        });
      },
    }),
    page({
      method: 'GET',
      path: '/programme/updates/:month',
      example: { month: '2021-07' },
      summary: 'The update for a month, with its evidence links; a draft can be edited and issued',
      handle: async (r) => {
        const update = await monthOf(r);
        return r.render('programme/update.njk', {
          title: `${update.title}: ${update.monthName}`,
          update,
          entries: update.state === 'draft' ? await listEntries(deps.store, update.month) : [],
          sections: ENTRY_SECTIONS,
          svg: planChartSvg(update.plan),
        });
      },
    }),
    page({
      method: 'GET',
      path: '/programme/updates/:month/document',
      example: { month: '2021-07' },
      summary: 'The update for a month as a printable document',
      handle: async (r) =>
        new Response(monthlyUpdateHtml(await monthOf(r), { nonce: r.nonce }), {
          headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
        }),
    }),
    page({
      method: 'GET',
      path: '/programme/updates/:month/pdf',
      example: { month: '2021-07' },
      summary: 'The update for a month as a PDF',
      handle: async (r) => {
        const update = await monthOf(r);
        return new Response(new Uint8Array(await monthlyUpdatePdf(update, { baseUrl: originOf(r) })), {
          headers: {
            'Content-Type': 'application/pdf',
            // RFC 6266: saved under this name.
            'Content-Disposition': `attachment; filename="kernel-update-${update.month}.pdf"`,
            'Cache-Control': 'no-store',
          },
        });
      },
    }),
    page({
      method: 'POST',
      path: '/programme/updates/:month/summary',
      example: { month: '2021-07' },
      summary: 'Set the summary of a draft update',
      handle: async (r) => {
        const { summary } = await filledForm(r);
        return toUpdate(r, (await r.run(setSummaryOperation, { month: r.param('month'), summary })).month);
      },
    }),
    page({
      method: 'POST',
      path: '/programme/updates/:month/entries',
      example: { month: '2021-07' },
      summary: 'Add the team’s own line to a draft update',
      handle: async (r) => {
        const entry = await r.run(addEntryOperation, { ...(await filledForm(r)), month: r.param('month') });
        return toUpdate(r, entry.month);
      },
    }),
    page({
      method: 'POST',
      path: '/programme/updates/:month/entries/:id/remove',
      example: { month: '2021-07', id: 'E-00000000' },
      summary: 'Remove one of the team’s lines from a draft update',
      handle: async (r) => {
        const entry = await r.run(removeEntryOperation, { month: r.param('month'), id: r.param('id') });
        return toUpdate(r, entry.month);
      },
    }),
    page({
      method: 'POST',
      path: '/programme/updates/:month/issue',
      example: { month: '2021-07' },
      summary: 'Issue the update for a month that has ended',
      handle: async (r) =>
        toUpdate(r, (await r.run(issueUpdateOperation, { month: r.param('month') })).month),
    }),

    ...operationRoutes(PROGRAMME_OPERATIONS, deps),
  ];
}
