/**
 * The analyst workspace in the portal: pick a use case, write SQL beside the data
 * dictionary, run it, save it, see your history, and request an output from it. Thin: the
 * page runs the workspace operations (src/workspace/workspace-operations.ts), which the API
 * and `kernel query` run too.
 */
import { describeError } from '../errors.ts';
import {
  openWorkspaceOperation,
  queryHistoryOperation,
  requestOutputOperation,
  runQueryOperation,
  savedQueriesOperation,
  saveQueryOperation,
  WORKSPACE_OPERATIONS,
} from '../workspace/workspace-operations.ts';
import { operationRoutes } from './operation-routes.ts';
import { formText } from './form-actions.ts';
import { isFormMistake, useCasesFor } from './page-helpers.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const WORKSPACE_PAGE_ROLES = ['analyst', 'provider'] as const;

async function workspacePage(r: RouteRequest, useCase: string, extra: Record<string, unknown> = {}) {
  const workspace = await r.run(openWorkspaceOperation, { useCase });
  const [{ queries: saved }, { history }] = [
    await r.run(savedQueriesOperation, { useCase }),
    await r.run(queryHistoryOperation, { useCase }),
  ];
  return r.render('workspace/workspace.njk', {
    title: `Workspace: ${workspace.useCase.id}`,
    workspace,
    saved,
    history: history.slice(0, 20),
    sql: '',
    name: '',
    ...extra,
  });
}

export function workspaceRoutes(deps: ServerDeps): RouteDeclaration[] {
  return [
    {
      method: 'GET',
      path: '/workspace',
      kind: 'page',
      access: WORKSPACE_PAGE_ROLES,
      nav: 'Workspace',
      query: [
        { name: 'useCase', description: 'the use case to work under' },
        { name: 'saved', description: 'a saved query to open' },
      ],
      summary: 'Governed SQL over a use case’s data, with the data dictionary, saved queries and history',
      handle: async (r) => {
        const useCase = r.query('useCase');
        if (!useCase) {
          const useCases = await useCasesFor(r, deps);
          return r.render('workspace/workspace.njk', { title: 'Workspace', useCases });
        }
        const savedId = r.query('saved');
        const { queries } = await r.run(savedQueriesOperation, { useCase });
        const opened = queries.find((q) => q.id === savedId);
        return workspacePage(r, useCase, opened ? { sql: opened.sql, name: opened.name } : {});
      },
    },
    {
      method: 'POST',
      path: '/workspace',
      kind: 'page',
      access: WORKSPACE_PAGE_ROLES,
      summary: 'Run, save, or request an output from a workspace query',
      handle: async (r) => {
        const form = await r.form();
        const useCase = formText(form.useCase);
        const sql = formText(form.sql);
        const name = formText(form.name);
        const action = formText(form.action) || 'run';
        try {
          if (action === 'save') {
            const saved = await r.run(saveQueryOperation, { useCase, name, sql });
            return await workspacePage(r, useCase, {
              sql,
              name,
              notice: `Saved “${saved.name}” for this use case.`,
            });
          }
          if (action === 'request') {
            const optional = (field: string) =>
              formText(form[field]) ? { [field]: formText(form[field]) } : {};
            const output = await r.run(requestOutputOperation, {
              useCase,
              sql,
              title: formText(form.title),
              description: formText(form.description),
              format: formText(form.format) || 'csv',
              ...optional('rows'),
              ...optional('columns'),
              ...optional('count'),
            });
            return r.redirect(`/outputs/${encodeURIComponent(output.id)}`);
          }
          const result = await r.run(runQueryOperation, { useCase, sql });
          return await workspacePage(r, useCase, { sql, name, result });
        } catch (error) {
          // A mistake in the SQL or the form is shown beside the editor, the SQL kept.
          if (!isFormMistake(error)) throw error;
          return await workspacePage(r, useCase, { sql, name, error: describeError(error) });
        }
      },
    },
    ...operationRoutes(WORKSPACE_OPERATIONS, deps),
  ];
}
