/**
 * The policy matrix for workspace views, on both engines: for each user and use case, every
 * view of the workspace holds exactly the rows `openGovernedRead` gives the same user for the
 * same dataset, and where the policy refuses, there is no workspace. The one deliberate
 * difference: aggregate-only roles, whom the policy lets read (for dashboards), get no
 * workspace, because a workspace answers record-level SQL (workspace-plan.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { openGovernedRead, ROLE_TIERS, type ReadAccess } from '../governance/access-policy.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { testStores, type TestStore } from '../../test/stores.ts';
import {
  provisionPostgresWorkspaces,
  schemaName,
  type ProvisionedWorkspaces,
} from './postgres-workspaces.ts';
import { viewName } from './workspace-plan.ts';
import { DuckDBWorkspaces } from './duckdb-workspaces.ts';
import {
  buildWorkspaceWorld,
  WORLD_DATASETS,
  type WorkspaceWorld,
  type WorldUseCaseKey,
  type WorldUserKey,
} from './workspace-world.ts';

/** Who × which use case, with the governed rows each dataset must hold (0 = refused). */
const MATRIX: { user: WorldUserKey; useCase: WorldUseCaseKey; rows: Record<string, number> }[] = [
  // planning: RWF and RVV (RPA agreed direct care only), 4 people × 2 months each, less the opted-out person
  { user: 'analyst1', useCase: 'planning', rows: { 'msds-booking': 12, 'msds-delivery': 12 } },
  { user: 'analyst2', useCase: 'planning', rows: { 'msds-booking': 12, 'msds-delivery': 12 } },
  { user: 'providerRwf', useCase: 'planning', rows: { 'msds-booking': 6, 'msds-delivery': 6 } },
  { user: 'providerRpa', useCase: 'planning', rows: { 'msds-booking': 0, 'msds-delivery': 0 } },
  { user: 'guest', useCase: 'planning', rows: { 'msds-booking': 0, 'msds-delivery': 0 } },
  // direct care: the opt-out does not apply, and RPA shares for it
  { user: 'analyst2', useCase: 'directCare', rows: { 'msds-booking': 16, 'msds-delivery': 0 } },
  { user: 'analyst1', useCase: 'directCare', rows: { 'msds-booking': 0, 'msds-delivery': 0 } },
  // published months only: RWF's January booking load, less the opted-out person
  { user: 'analyst1', useCase: 'published', rows: { 'msds-booking': 3, 'msds-delivery': 0 } },
];

/** What a workspace view holds, as one canonical JSON text per row, sorted. */
type ReadView = (access: ReadAccess, datasetId: string) => Promise<string[] | 'refused'>;

async function governedRows(
  store: Store,
  access: ReadAccess,
  datasetId: string,
): Promise<string[] | 'refused'> {
  try {
    const read = await openGovernedRead(store, access, datasetId);
    return canonical(await store.query(`SELECT * FROM ${read.sql} AS g`));
  } catch (error) {
    if (error instanceof KernelError && error.code === 'forbidden') return 'refused';
    throw error;
  }
}

function canonical(rows: Record<string, unknown>[]): string[] {
  return rows.map((row) => JSON.stringify(row)).sort();
}

/** DuckDB: the view as the analyst's own SELECT sees it in the sandbox. */
function duckdbReader(store: Store): { read: ReadView; close(): Promise<void> } {
  const workspaces = new DuckDBWorkspaces(store);
  return {
    async read(access, datasetId) {
      try {
        const summary = await workspaces.open(access);
        if (!summary.views.some((v) => v.datasetId === datasetId)) return 'refused';
        const result = await workspaces.query(access, `SELECT * FROM ${viewName(datasetId)}`);
        return canonical(
          result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]]))),
        );
      } catch (error) {
        if (error instanceof KernelError && error.code === 'forbidden') return 'refused';
        throw error;
      }
    },
    close: () => workspaces.close(),
  };
}

/** PostgreSQL: the view read through the user's own login, as psql or Power BI would. */
async function postgresReader(
  store: Store,
  url: string,
): Promise<{ read: ReadView; close(): Promise<void> }> {
  const provisioned: ProvisionedWorkspaces = await provisionPostgresWorkspaces(store, {
    actor: 'test:admin',
  });
  // One connection per login, kept: a login has only a few (CONNECTION LIMIT)
  const clients = new Map<string, pg.Client>();
  const clientFor = async (role: string, password: string): Promise<pg.Client> => {
    const existing = clients.get(role);
    if (existing) return existing;
    const asLogin = new URL(url);
    asLogin.username = role;
    asLogin.password = password;
    const client = new pg.Client({ connectionString: asLogin.toString() });
    await client.connect();
    clients.set(role, client);
    return client;
  };
  return {
    async read(access, datasetId) {
      const login = provisioned.logins.find((l) => l.userId === access.user.id);
      const schema = schemaName(access.useCaseId, access.user);
      if (!login || !login.schemas.includes(schema)) return 'refused';
      const client = await clientFor(login.role, login.password ?? '');
      const view = `${schema}.${viewName(datasetId)}`;
      const exists = await client.query('SELECT to_regclass($1) AS v', [view]);
      if (exists.rows[0]?.v === null) return 'refused';
      // row_to_json on both sides: the same text for the same values, whatever the client's type parsers
      const result = await client.query<{ r: string }>(
        `SELECT CAST(row_to_json(g) AS TEXT) AS r FROM ${view} AS g`,
      );
      return result.rows.map((row) => JSON.stringify(JSON.parse(row.r))).sort();
    },
    async close() {
      for (const client of clients.values()) await client.end();
    },
  };
}

/** The governed rows in the same canonical form as the reader of the engine uses. */
function expectedReader(engine: TestStore, store: Store): ReadView {
  if (engine.engine === 'duckdb') return (access, datasetId) => governedRows(store, access, datasetId);
  return async (access, datasetId) => {
    try {
      const read = await openGovernedRead(store, access, datasetId);
      const rows = await store.query<{ r: string }>(
        `SELECT CAST(row_to_json(g) AS TEXT) AS r FROM ${read.sql} AS g`,
      );
      return rows.map((row) => JSON.stringify(JSON.parse(row.r))).sort();
    } catch (error) {
      if (error instanceof KernelError && error.code === 'forbidden') return 'refused';
      throw error;
    }
  };
}

describe.each(testStores())('workspace views equal the governed reads on $engine', (engine) => {
  let store: Store;
  let world: WorkspaceWorld;
  let workspace: { read: ReadView; close(): Promise<void> };
  let governed: ReadView;

  beforeAll(async () => {
    const where = await engine.fresh();
    store = await openStore(where);
    world = await buildWorkspaceWorld(store, `mx${engine.engine}${Date.now().toString(36)}`);
    workspace = engine.engine === 'duckdb' ? duckdbReader(store) : await postgresReader(store, where.store);
    governed = expectedReader(engine, store);
  });

  afterAll(async () => {
    await workspace.close();
    await store.close();
  });

  it.each(MATRIX)('$user × $useCase', async ({ user, useCase, rows }) => {
    const access = { user: world.users[user], useCaseId: world.useCases[useCase] };
    for (const datasetId of WORLD_DATASETS) {
      const want = await governed(access, datasetId);
      const got = await workspace.read(access, datasetId);
      expect(got, `${user} × ${useCase} × ${datasetId}`).toEqual(want);
      expect(want === 'refused' ? 0 : want.length, `${datasetId} rows`).toBe(rows[datasetId]);
    }
  });

  it('gives an aggregate-only role, whom the policy lets read for dashboards, no workspace', async () => {
    const access = { user: world.users.viewer, useCaseId: world.useCases.planning };
    expect(ROLE_TIERS[access.user.role]).toBe('aggregate-only');
    expect(await governed(access, 'msds-booking')).not.toBe('refused');
    expect(await workspace.read(access, 'msds-booking')).toBe('refused');
  });
});
