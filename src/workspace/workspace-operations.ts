/**
 * The analyst workspace as operations (issue 15; docs/workspace.md): open a use case's
 * workspace (its views and their data dictionary), run a query, save and list queries, see
 * one's history, and request an output from a query. The portal's SQL editor, the API
 * (`POST /api/v1/queries` for scripts) and `kernel query` are generated from, or call, these.
 *
 * Queries run in the use case's sandbox (duckdb-sandbox.ts), never on the warehouse's own
 * connection. On PostgreSQL, analysts query with their own login role instead (psql, Power BI,
 * R, Python: postgres-workspaces.ts); the portal's editor says so.
 */
import { z } from 'zod';
import { getDataset } from '../catalogue/catalogue.ts';
import { formatTable } from '../console/console.ts';
import { KernelError } from '../errors.ts';
import { readAccessOf } from '../governance/access-policy.ts';
import { inTransaction, newId, nowIso } from '../governance/governance-values.ts';
import { useCaseSalt } from '../governance/use-cases.ts';
import { OUTPUT_FORMATS, type Cell } from '../files/output-files.ts';
import { optionalText, requiredText, useCaseId } from '../operations/fields.ts';
import {
  defineOperation,
  operationsOf,
  type AnyOperation,
  type OperationContext,
} from '../operations/operation.ts';
import { outputRequestSchema } from '../outputs/output-operations.ts';
import { outputsFolder, requestOutput } from '../outputs/output-requests.ts';
import { pseudonymisedView } from '../outputs/output-workspace.ts';
import type { Store } from '../store/store.ts';
import {
  DuckDBWorkspaces,
  type WorkspaceOptions,
  type WorkspaceSummary,
  type WorkspaceVariant,
} from './duckdb-workspaces.ts';
import { auditableSql, identifierShapeIn } from './query-audit.ts';
import { appendAudit } from '../audit/audit-log.ts';

/** Roles that work with record-level rows (ROLE_TIERS); the policy then decides per use case. */
const WORKSPACE_ROLES = ['analyst', 'provider'] as const;
const workspaceOperation = operationsOf({ tag: 'workspace', access: WORKSPACE_ROLES });
/** How many rows an answer carries back to the editor or a script; the total says how many there were. */
export const SHOWN_ROWS = 500;

// ---------------------------------------------------------------- the engine, one per store

const engines = new WeakMap<Store, DuckDBWorkspaces>();

/**
 * The store's workspace engine, made on first use (with `options`, which a later call cannot
 * change); `closeWorkspaces` removes its snapshots.
 */
export function workspacesFor(store: Store, options: WorkspaceOptions = {}): DuckDBWorkspaces {
  if (store.dialect.name !== 'duckdb') {
    throw new KernelError('refused', 'On PostgreSQL, query the workspace with your own database login', {
      hint: 'Ask an administrator for your login (kernel workspace logins); connect with psql, Power BI, R or Python',
    });
  }
  let engine = engines.get(store);
  if (!engine) {
    engine = new DuckDBWorkspaces(store, options);
    engines.set(store, engine);
  }
  return engine;
}

export async function closeWorkspaces(store: Store): Promise<void> {
  const engine = engines.get(store);
  engines.delete(store);
  await engine?.close();
}

const accessOf = ({ principal, actor }: OperationContext, useCase: string) =>
  readAccessOf(principal, useCase, actor);

// ---------------------------------------------------------------- schemas

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const workspaceSchema = z.object({
  useCase: z.object({ id: z.string(), title: z.string(), purpose: z.string() }),
  views: z.array(
    z.object({
      name: z.string().describe('what to write in SQL, e.g. msds_booking, or person for the KID'),
      datasetId: z.string().describe('the dataset id; kid for a view of the Kent Integrated Dataset'),
      description: z.string().optional().describe('a KID view: what it holds'),
      lineage: z.array(z.string()).optional().describe('a KID view: the datasets it derives from'),
      controllers: z.array(z.string()),
      columns: z.array(z.object({ name: z.string(), title: z.string(), description: z.string() })),
    }),
  ),
  unavailable: z.array(z.object({ datasetId: z.string(), reason: z.string() })),
});

const resultSchema = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(cell)).describe(`the first ${SHOWN_ROWS} rows`),
  total: z.number().int().describe('how many rows the query returned'),
  ms: z.number().int(),
});

const savedQuerySchema = z.object({
  id: z.string(),
  useCaseId: z.string(),
  name: z.string(),
  sql: z.string(),
  savedBy: z.string(),
  savedAt: z.string(),
});

const historySchema = z.object({
  useCaseId: z.string(),
  sql: z.string(),
  rows: z.number().int().nullable(),
  ms: z.number().int(),
  outcome: z.string(),
  at: z.string(),
});

/** A view's columns with the catalogue's titles and descriptions, for the editor's side panel. */
function dictionary(summary: WorkspaceSummary): z.input<typeof workspaceSchema> {
  return {
    useCase: summary.useCase,
    unavailable: summary.unavailable,
    views: summary.views.map((view) => {
      if (view.kid) {
        const described = view.kid.columns;
        return {
          name: view.name,
          datasetId: view.datasetId,
          description: view.kid.description,
          lineage: view.kid.lineage,
          controllers: view.controllers,
          columns: view.columns.map((name) => ({
            name,
            title: name.replace(/_/g, ' '),
            description: described[name] ?? '',
          })),
        };
      }
      const fields = new Map(getDataset(view.datasetId).fields.map((f) => [f.name, f]));
      return {
        name: view.name,
        datasetId: view.datasetId,
        controllers: view.controllers,
        columns: view.columns.map((name) => ({
          name,
          title: fields.get(name)?.title ?? name.replace(/_/g, ' '),
          description: fields.get(name)?.description ?? '',
        })),
      };
    }),
  };
}

// ---------------------------------------------------------------- operations

export const openWorkspaceOperation = workspaceOperation({
  name: 'workspace.open',
  summary: 'Open your workspace on a use case: its views and their data dictionary',
  input: z.object({ useCase: useCaseId }),
  output: workspaceSchema,
  http: { method: 'GET', path: '/api/v1/workspace' },
  cli: {
    command: ['workspace', 'show'],
    flags: { useCase: 'usecase' },
    print: (w) =>
      [
        formatTable(
          ['view', 'dataset', 'columns'],
          w.views.map((v) => [v.name, v.datasetId, v.columns.map((c) => c.name).join(', ')]),
        ),
        // What the use case names but the workspace cannot offer, and why, as the API says it.
        ...w.unavailable.map((u) => `unavailable: ${u.datasetId}: ${u.reason}`),
      ].join('\n'),
  },
  run: async (context, { useCase }) =>
    dictionary(await workspacesFor(context.store).open(accessOf(context, useCase))),
});

async function recordHistory(
  store: Store,
  userId: string,
  useCase: string,
  sql: string,
  outcome: { rows: number | null; ms: number; outcome: string },
): Promise<void> {
  await inTransaction(store, (tx) =>
    tx.run(
      'INSERT INTO query_history (user_id, use_case_id, sql_text, rows_returned, ms, outcome, ran_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [userId, useCase, auditableSql(sql), outcome.rows, outcome.ms, outcome.outcome, nowIso()],
    ),
  );
}

/** Runs one query in the user's workspace; its history records it whatever the outcome. */
async function runQuery(context: OperationContext, useCase: string, sql: string, variant?: WorkspaceVariant) {
  const started = performance.now();
  try {
    const result = await workspacesFor(context.store).query(accessOf(context, useCase), sql, variant);
    await recordHistory(context.store, context.principal.userId, useCase, sql, {
      rows: result.rows.length,
      ms: result.ms,
      outcome: 'ok',
    });
    return result;
  } catch (error) {
    await recordHistory(context.store, context.principal.userId, useCase, sql, {
      rows: null,
      ms: Math.round(performance.now() - started),
      outcome: error instanceof KernelError ? error.code : 'internal',
    });
    throw error;
  }
}

const toCell = (value: unknown): Cell | boolean =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? value
    : String(value);

export const runQueryOperation = workspaceOperation({
  name: 'queries.run',
  summary: 'Run one SELECT in your workspace on a use case (audited; bounded in time, rows and memory)',
  input: z.object({
    useCase: useCaseId,
    sql: requiredText('one SELECT (or WITH … SELECT) over the workspace’s views'),
  }),
  output: resultSchema,
  http: { method: 'POST', path: '/api/v1/queries' },
  cli: {
    command: ['query'],
    flags: { useCase: 'usecase' },
    description: 'run one SELECT in your workspace on a use case',
    print: (r) =>
      `${formatTable(
        r.columns.map((c) => c.name),
        r.rows.map((row) => row.map((v) => (v === null ? '' : String(v)))),
      )}\n${r.total} ${r.total === 1 ? 'row' : 'rows'}, ${r.ms} ms${r.total > r.rows.length ? ` (the first ${r.rows.length} shown)` : ''}`,
  },
  run: async (context, { useCase, sql }) => {
    const result = await runQuery(context, useCase, sql);
    return {
      columns: result.columns,
      rows: result.rows.slice(0, SHOWN_ROWS).map((row) => row.map(toCell)),
      total: result.rows.length,
      ms: Math.round(result.ms),
    };
  },
});

export const saveQueryOperation = workspaceOperation({
  name: 'queries.save',
  summary: 'Save a query for everyone working on the use case',
  input: z.object({
    useCase: useCaseId,
    name: requiredText('a name others will recognise'),
    sql: requiredText('the query'),
  }),
  output: savedQuerySchema,
  http: { method: 'POST', path: '/api/v1/queries/saved', status: 201 },
  run: async (context, { useCase, name, sql }) => {
    // Only someone who may open the workspace may save into it.
    await workspacesFor(context.store).open(accessOf(context, useCase));
    // Kept as written, or refused: a query masked as the audit masks it would no longer run.
    const shape = identifierShapeIn(sql);
    if (shape)
      throw new KernelError(
        'usage',
        `The query holds what looks like ${shape.shape}, and a saved query is shown to everyone on the use case`,
        {
          where: { field: 'sql', line: shape.line, column: shape.column },
          hint: 'Take it out of the query before saving (a ten-digit number reads as an NHS number: write it as an expression, e.g. 123456789 * 10)',
        },
      );
    const saved = {
      id: newId(),
      useCaseId: useCase,
      name,
      sql,
      savedBy: context.principal.email || context.principal.userId,
      savedAt: nowIso(),
    };
    await inTransaction(context.store, async (tx) => {
      const [existing] = await tx.query<{ query_id: string; saved_by: string }>(
        'SELECT query_id, saved_by FROM saved_queries WHERE use_case_id = $1 AND name = $2',
        [useCase, name],
      );
      // Saving again under one's own name replaces one's own query; never someone else's.
      if (existing && existing.saved_by !== saved.savedBy)
        throw new KernelError('conflict', `Someone else has saved a query called “${name}” on ${useCase}`, {
          where: { field: 'name' },
          hint: 'Choose another name; their query stays as it is',
        });
      if (existing) await tx.run('DELETE FROM saved_queries WHERE query_id = $1', [existing.query_id]);
      await tx.run(
        'INSERT INTO saved_queries (query_id, use_case_id, name, sql_text, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [saved.id, useCase, name, saved.sql, saved.savedBy, saved.savedAt],
      );
      await appendAudit(tx, {
        actor: context.actor,
        action: 'query.saved',
        target: `query:${saved.id}`,
        purpose: useCase,
        details: { replaced: existing ? `query:${existing.query_id}` : null },
      });
    });
    return saved;
  },
});

export const savedQueriesOperation = workspaceOperation({
  name: 'queries.saved',
  summary: 'The queries saved on a use case',
  input: z.object({ useCase: useCaseId }),
  output: z.object({ queries: z.array(savedQuerySchema) }),
  http: { method: 'GET', path: '/api/v1/queries/saved' },
  run: async (context, { useCase }) => {
    await workspacesFor(context.store).open(accessOf(context, useCase));
    const rows = await context.store.query<{
      query_id: string;
      use_case_id: string;
      name: string;
      sql_text: string;
      saved_by: string;
      saved_at: string;
    }>('SELECT * FROM saved_queries WHERE use_case_id = $1 ORDER BY name', [useCase]);
    return {
      queries: rows.map((r) => ({
        id: r.query_id,
        useCaseId: r.use_case_id,
        name: r.name,
        sql: r.sql_text,
        savedBy: r.saved_by,
        savedAt: r.saved_at,
      })),
    };
  },
});

export const queryHistoryOperation = workspaceOperation({
  name: 'queries.history',
  summary: 'Your own query history, newest first',
  input: z.object({ useCase: useCaseId.optional() }),
  output: z.object({ history: z.array(historySchema) }),
  http: { method: 'GET', path: '/api/v1/queries/history' },
  run: async ({ store, principal }, { useCase }) => {
    const rows = await store.query<{
      use_case_id: string;
      sql_text: string;
      rows_returned: number | null;
      ms: number;
      outcome: string;
      ran_at: string;
    }>(
      `SELECT use_case_id, sql_text, rows_returned, ms, outcome, ran_at FROM query_history
        WHERE user_id = $1 ${useCase ? 'AND use_case_id = $2' : ''} ORDER BY ran_at DESC LIMIT 100`,
      useCase ? [principal.userId, useCase] : [principal.userId],
    );
    return {
      history: rows.map((r) => ({
        useCaseId: r.use_case_id,
        sql: r.sql_text,
        rows: r.rows_returned === null ? null : Number(r.rows_returned),
        ms: Number(r.ms),
        outcome: r.outcome,
        at: r.ran_at,
      })),
    };
  },
});

export const requestOutputOperation = defineOperation({
  name: 'outputs.request',
  summary: 'Request an output from a query: the workspace makes the file; two checkers release it',
  tag: 'outputs',
  access: WORKSPACE_ROLES,
  input: z.object({
    useCase: useCaseId,
    sql: requiredText('the query whose result leaves'),
    title: requiredText('what it is'),
    description: requiredText('what it is for, for the checkers'),
    format: z.enum(OUTPUT_FORMATS).default('csv'),
    rows: optionalText('aggregate outputs: the column whose values are the table’s rows'),
    columns: optionalText('aggregate outputs: the column whose values are its columns (optional)'),
    count: optionalText('aggregate outputs: the column holding the count of people'),
  }),
  output: outputRequestSchema,
  http: { method: 'POST', path: '/api/v1/outputs', status: 201 },
  cli: {
    command: ['outputs', 'request'],
    flags: { useCase: 'usecase' },
    print: (r) => `Requested ${r.id} (${r.kind}, ${r.rows} rows); two output checkers must approve it.`,
  },
  run: async (context, input) => {
    if ((input.rows === undefined) !== (input.count === undefined)) {
      throw new KernelError('usage', 'An aggregate output names both its rows and its count column', {
        where: { field: input.rows === undefined ? 'rows' : 'count' },
        hint: 'Give both for a table of counts, or neither for a record-level output',
      });
    }
    const useCaseKey = await useCaseSalt(context.store, input.useCase);
    // Run where every token and record key is already this use case's pseudonym, so nothing
    // derived from one can leave as it is (src/outputs/output-workspace.ts).
    const result = await runQuery(context, input.useCase, input.sql, {
      name: 'output',
      views: (views) => views.map((view) => pseudonymisedView(view, useCaseKey, context.store.dialect)),
    });
    const table = {
      columns: result.columns.map((c) => c.name),
      rows: result.rows.map((row) =>
        row.map((v) => (typeof v === 'boolean' ? String(v) : (toCell(v) as Cell))),
      ),
    };
    const folder = outputsFolder(context.config?.dataDir ?? '.');
    return requestOutput(
      context.store,
      context.principal,
      {
        useCaseId: input.useCase,
        title: input.title,
        description: input.description,
        format: input.format,
        ...(input.rows && input.count
          ? {
              aggregate: {
                rows: input.rows,
                count: input.count,
                ...(input.columns ? { columns: input.columns } : {}),
              },
            }
          : {}),
      },
      table,
      { folder, useCaseKey },
      context.actor,
    );
  },
});

export const WORKSPACE_OPERATIONS: readonly AnyOperation[] = [
  openWorkspaceOperation,
  runQueryOperation,
  saveQueryOperation,
  savedQueriesOperation,
  queryHistoryOperation,
  requestOutputOperation,
];
