/**
 * Re-identification in the portal: the list, a request form for analysts in a direct-care
 * use case, one request with the approvers' form, and the sealed file for the controller's
 * IG lead. Thin: pages run the same operations as the API and the CLI
 * (src/reid/reid-operations.ts); the rules live in src/reid/reid-requests.ts.
 */
import { describeError, KernelError } from '../errors.ts';
import {
  controllerReidOperation,
  decideReidOperation,
  monthlyReidOperation,
  listReidOperation,
  REID_OPERATIONS,
  requestReidOperation,
  showReidOperation,
} from '../reid/reid-operations.ts';
import {
  approverCapacity,
  downloadSealedRelease,
  reidControllers,
  REQUESTER_ROLES,
} from '../reid/reid-requests.ts';
import { download } from './download-response.ts';
import { decisionOnItem, formText } from './form-actions.ts';
import { operationRoutes } from './operation-routes.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';
import { pagesFor, signedInPrincipal, useCasesFor } from './page-helpers.ts';

/** Tokens pasted one a line, or separated by commas or spaces. */
function tokenList(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

function nameList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const page = pagesFor('signed-in');
export function reidRoutes(deps: ServerDeps): RouteDeclaration[] {
  const { store } = deps;

  const formPage = async (
    r: RouteRequest,
    values: Record<string, string> = {},
    error?: { text: string; href: string },
  ) => {
    const useCases = (await useCasesFor(r, deps)).filter((uc) => uc.purpose === 'direct-care');
    return r.render(
      'reid/new.njk',
      {
        title: error ? 'Error: Ask for re-identification' : 'Ask for re-identification',
        useCases,
        values,
        errors: error ? [error] : [],
      },
      error ? 400 : 200,
    );
  };

  return [
    page({
      method: 'GET',
      path: '/reidentification',
      nav: 'Re-identification',
      summary: 'Re-identification requests for direct care: your own, your organisation’s, or all',
      handle: async (r) => {
        const { requests } = await r.run(listReidOperation, {});
        const role = signedInPrincipal(r).role;
        return r.render('reid/requests.njk', {
          title: 'Re-identification',
          requests,
          mayRequest: (REQUESTER_ROLES as readonly string[]).includes(role),
        });
      },
    }),
    page({
      method: 'GET',
      path: '/reidentification/new',
      access: REQUESTER_ROLES,
      summary: 'The form to ask for a direct-care cohort to be re-identified',
      handle: (r) => formPage(r),
    }),
    page({
      method: 'POST',
      path: '/reidentification/new',
      access: REQUESTER_ROLES,
      summary: 'Ask for a direct-care cohort to be re-identified by one controller',
      handle: async (r) => {
        const form = await r.form();
        const values = {
          useCaseId: formText(form.useCaseId),
          controller: formText(form.controller).trim().toUpperCase(),
          reason: formText(form.reason),
          fields: formText(form.fields),
          tokens: formText(form.tokens),
        };
        try {
          const request = await r.run(requestReidOperation, {
            useCaseId: values.useCaseId,
            controller: values.controller,
            reason: values.reason,
            fields: nameList(values.fields),
            tokens: tokenList(values.tokens),
          });
          return r.redirect(`/reidentification/${encodeURIComponent(request.id)}`);
        } catch (error) {
          if (!(error instanceof KernelError) || error.code === 'internal') throw error;
          const at = error.where?.field;
          const href = `#${at && at in values ? at : 'useCaseId'}`;
          return formPage(r, values, { text: describeError(error), href });
        }
      },
    }),
    page({
      method: 'GET',
      path: '/reidentification/record',
      access: ['ig-lead', 'admin'],
      summary: 'A controller’s re-identification record (an IG lead: their own) and the monthly counts',
      query: [{ name: 'org', description: 'the controller (administrators choose)' }],
      handle: async (r) => {
        const principal = signedInPrincipal(r);
        const requested = r.query('org');
        const record =
          principal.role === 'ig-lead' || requested
            ? await r.run(controllerReidOperation, requested ? { org: requested } : {})
            : undefined;
        const { months } = await r.run(monthlyReidOperation, {});
        const orgs = principal.role === 'admin' ? await reidControllers(store) : [];
        return r.render('reid/record.njk', {
          title: 'Re-identification record',
          org: record?.org,
          reidRequests: record?.requests ?? [],
          reidMonths: months,
          orgs,
        });
      },
    }),
    page({
      method: 'GET',
      path: '/reidentification/:id',
      example: { id: 'REID-BCDFGHJKLM' },
      summary: 'One re-identification request: its approvals, the approvers’ form, the sealed file',
      handle: async (r) => {
        const request = await r.run(showReidOperation, { id: r.param('id') });
        const principal = signedInPrincipal(r);
        const may = await approverCapacity(store, principal, request);
        return r.render('reid/request.njk', {
          title: `Re-identification ${request.id}`,
          request,
          capacity: 'capacity' in may ? may.capacity : null,
          canDownload:
            request.state === 'released' &&
            (principal.role === 'admin' ||
              (principal.role === 'ig-lead' && principal.org === request.controller)),
        });
      },
    }),
    page({
      method: 'POST',
      path: '/reidentification/:id/decision',
      example: { id: 'REID-BCDFGHJKLM' },
      summary: 'Record an approver’s decision on a re-identification request',
      handle: decisionOnItem(decideReidOperation, '/reidentification'),
    }),
    page({
      method: 'GET',
      path: '/reidentification/:id/sealed',
      access: ['ig-lead', 'admin'],
      example: { id: 'REID-BCDFGHJKLM' },
      summary: 'Download the sealed file of a released request (the controller’s IG lead)',
      handle: async (r) => {
        const { bytes, fileName, request } = await downloadSealedRelease(
          store,
          signedInPrincipal(r),
          r.param('id'),
          r.actor,
        );
        return download(new Uint8Array(bytes), {
          type: 'application/json',
          name: fileName,
          sha256: request.sealedSha256 ?? '',
        });
      },
    }),
    ...operationRoutes(REID_OPERATIONS, deps),
  ];
}
