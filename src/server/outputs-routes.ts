/**
 * Output requests in the portal: the list, one request with its checks (and the checker's
 * form), and the requester's download once released. Thin: pages run the same operations
 * as the API and the CLI (src/outputs/output-operations.ts).
 */
import { CONTENT_TYPES } from '../files/output-files.ts';
import {
  checkOutputOperation,
  listOutputsOperation,
  OUTPUT_OPERATIONS,
  showOutputOperation,
} from '../outputs/output-operations.ts';
import { downloadOutput, outputPreview, outputsFolder } from '../outputs/output-requests.ts';
import { download } from './download-response.ts';
import { decisionOnItem } from './form-actions.ts';
import { operationRoutes } from './operation-routes.ts';
import type { RouteDeclaration, ServerDeps } from './routes.ts';
import { pagesFor, signedInPrincipal } from './page-helpers.ts';

const page = pagesFor('signed-in');
export function outputsRoutes(deps: ServerDeps): RouteDeclaration[] {
  const { store } = deps;
  return [
    page({
      method: 'GET',
      path: '/outputs',
      nav: 'Outputs',
      summary: 'Output requests from the workspace: your own, or all of them for an output checker',
      handle: async (r) => {
        const { outputs } = await r.run(listOutputsOperation, {});
        return r.render('outputs/outputs.njk', {
          title: 'Outputs',
          outputs,
          isChecker: r.principal?.role === 'output-checker',
        });
      },
    }),
    page({
      method: 'GET',
      path: '/outputs/:id',
      example: { id: 'OUT-0000000000' },
      summary: 'One output request: what it holds, its checks, and the checker’s form',
      handle: async (r) => {
        const output = await r.run(showOutputOperation, { id: r.param('id') });
        const principal = signedInPrincipal(r);
        const mine = output.requestedBy === principal.userId;
        const canCheck =
          principal.role === 'output-checker' &&
          !mine &&
          output.state === 'submitted' &&
          !output.checks.some((c) => c.checkerId === principal.userId);
        return r.render('outputs/output.njk', {
          title: output.title,
          output,
          preview: await outputPreview(store, principal, output.id),
          canCheck,
          canDownload: mine && output.state === 'released',
        });
      },
    }),
    page({
      method: 'POST',
      path: '/outputs/:id/check',
      access: ['output-checker'],
      example: { id: 'OUT-0000000000' },
      summary: 'Record an output checker’s decision',
      handle: decisionOnItem(checkOutputOperation, '/outputs'),
    }),
    page({
      method: 'GET',
      path: '/outputs/:id/download',
      example: { id: 'OUT-0000000000' },
      summary: 'Download a released output (its requester only; the file exactly as checked)',
      handle: async (r) => {
        const { request, bytes } = await downloadOutput(
          store,
          signedInPrincipal(r),
          r.param('id'),
          outputsFolder(deps.config.dataDir),
          r.actor,
        );
        return download(new Uint8Array(bytes), {
          type: CONTENT_TYPES[request.format],
          name: `${request.id}.${request.format}`,
          sha256: request.sha256,
        });
      },
    }),
    ...operationRoutes(OUTPUT_OPERATIONS, deps),
  ];
}
