/**
 * The programme office's pages and API: the plan with its chart, the RAID log, and the
 * monthly updates (drafts edited, issued ones kept). Programme team and administrators.
 * The API is generated from src/reporting/programme-operations.ts; the pages are templates
 * over the same operations (`r.run`), so they apply the same rules.
 */
import { download } from './download-response.ts';
import { htmlDocument } from './document-response.ts';
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
import type { z } from 'zod';
import type { Operation } from '../operations/operation.ts';
import { operationRoutes } from './operation-routes.ts';
import { pagesFor } from './page-helpers.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

/** The programme team's and the administrators'. */
const page = pagesFor(PROGRAMME_ROLES);

/** A form's fields with the path's parameters; a blank field is left out, as in the API. */
async function formInput(r: RouteRequest): Promise<Record<string, unknown>> {
  const form = Object.entries(await r.form()).filter(([name, v]) => v !== '' && name !== 'csrf');
  return { ...Object.fromEntries(form), ...r.c.req.param() };
}

/** The portal's own address, for links in a downloaded PDF. */
const originOf = (r: RouteRequest): string => new URL(r.c.req.url).origin;

const monthOf = (r: RouteRequest) => r.run(monthlyUpdateOperation, { month: r.param('month') });

export function programmeRoutes(deps: ServerDeps): RouteDeclaration[] {
  const now = (): Date => (deps.now ?? (() => new Date()))();
  /** A form that runs an operation (on the form and the path) and goes on to what it changed. */
  const formAction = <O>(
    route: Pick<RouteDeclaration, 'path' | 'summary' | 'example'>,
    operation: Operation<z.ZodObject, z.ZodType<O>>,
    next: (output: O) => string,
    adapt: (input: Record<string, unknown>) => Record<string, unknown> = (input) => input,
  ): RouteDeclaration =>
    page({
      ...route,
      method: 'POST',
      handle: async (r) => r.redirect(next(await r.run(operation, adapt(await formInput(r))))),
    });
  const planAt = (saved: { id: string }) => `/programme?saved=${encodeURIComponent(saved.id)}`;
  const raidItemAt = (item: { id: string }) => `/programme/raid/${encodeURIComponent(item.id)}`;
  const updateAt = (update: { month: string }) => `/programme/updates/${update.month}`;

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
    formAction(
      { path: '/programme/workstreams', summary: 'Add a workstream to the plan' },
      addWorkstreamOperation,
      planAt,
      (form) => ({ ...form, supplier: form.supplier === 'yes' }),
    ),
    formAction(
      { path: '/programme/milestones', summary: 'Add a milestone to a workstream' },
      addMilestoneOperation,
      (m) => `${planAt(m)}#${m.id}`,
    ),
    formAction(
      {
        path: '/programme/milestones/:id',
        example: { id: 'M-01' },
        summary: 'Mark a milestone done, slipped or planned, or re-plan it',
      },
      changeMilestoneOperation,
      (m) => `${planAt(m)}#${m.id}`,
    ),

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
    formAction(
      { path: '/programme/raid', summary: 'Raise a risk, issue, assumption or dependency' },
      raiseRaidOperation,
      raidItemAt,
    ),
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
    formAction(
      {
        path: '/programme/raid/:id',
        example: { id: 'R-001' },
        summary: 'Change, close or reopen a RAID item',
      },
      changeRaidOperation,
      raidItemAt,
    ),

    // ---------------------------------------------------------------- monthly updates
    page({
      method: 'GET',
      path: '/programme/updates',
      nav: 'Monthly updates',
      query: [{ name: 'month', description: 'open the update for this month, YYYY-MM' }],
      summary: 'The monthly updates, drafted and issued',
      handle: async (r) => {
        const month = r.query('month');
        if (month) return r.redirect(updateAt({ month: parseMonth(month) }));
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
      handle: async (r) => htmlDocument(monthlyUpdateHtml(await monthOf(r), { nonce: r.nonce })),
    }),
    page({
      method: 'GET',
      path: '/programme/updates/:month/pdf',
      example: { month: '2021-07' },
      summary: 'The update for a month as a PDF',
      handle: async (r) => {
        const update = await monthOf(r);
        return download(new Uint8Array(await monthlyUpdatePdf(update, { baseUrl: originOf(r) })), {
          type: 'application/pdf',
          name: `kernel-update-${update.month}.pdf`,
        });
      },
    }),
    formAction(
      {
        path: '/programme/updates/:month/summary',
        example: { month: '2021-07' },
        summary: 'Set the summary of a draft update',
      },
      setSummaryOperation,
      updateAt,
    ),
    formAction(
      {
        path: '/programme/updates/:month/entries',
        example: { month: '2021-07' },
        summary: 'Add the team’s own line to a draft update',
      },
      addEntryOperation,
      updateAt,
    ),
    formAction(
      {
        path: '/programme/updates/:month/entries/:id/remove',
        example: { month: '2021-07', id: 'E-00000000' },
        summary: 'Remove one of the team’s lines from a draft update',
      },
      removeEntryOperation,
      updateAt,
    ),
    formAction(
      {
        path: '/programme/updates/:month/issue',
        example: { month: '2021-07' },
        summary: 'Issue the update for a month that has ended',
      },
      issueUpdateOperation,
      updateAt,
    ),

    ...operationRoutes(PROGRAMME_OPERATIONS, deps),
  ];
}
