/**
 * The KID in a workspace, on both engines: each KID view is in a workspace exactly when
 * `openKidRead` allows its fields to the same user under the same use case (a provider, whose
 * workspace holds only its own rows, gets none: kid-views.ts); its tokens join
 * the datasets' (apc); people on the opt-out are absent for planning, present for direct care.
 * DuckDB reads through the sandbox, PostgreSQL through the user's own login.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kidWorldForFile, openWorldForSuite } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { KernelError } from '../errors.ts';
import { openGovernedRead, type ReadAccess, type ReadUser } from '../governance/access-policy.ts';
import type { Purpose } from '../governance/governance-values.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { readingUseCaseId } from '../../test/use-cases.ts';
import { openKidRead, type KidFieldGroup } from '../kid/kid-read.ts';
import type { Store } from '../store/store.ts';
import { DuckDBWorkspaces } from './duckdb-workspaces.ts';
import { KID_VIEWS_LEFT_OUT, KID_WORKSPACE_VIEWS } from './kid-views.ts';
import { provisionPostgresWorkspaces, schemaName } from './postgres-workspaces.ts';
import { addAccounts } from './workspace-world.ts';

const DATASETS = ['pmi', 'gp-events', 'apc', 'asc'];
/** The KID views the test world has, and the fields each needs (kid-views.ts). */
const VIEW_FIELDS: Record<string, KidFieldGroup[]> = {
  person: ['population', 'demographics'],
  person_registration: ['population'],
  person_residence: ['residence'],
  person_condition: ['conditions'],
};

const world = kidWorldForFile({
  people: 300,
  from: '2020-04',
  to: '2020-05',
  datasets: DATASETS,
  defects: 'none',
  timeout: 180_000,
});

/** A workspace as the user sees it: its view names, and a query's rows. */
interface Workspace {
  views(access: ReadAccess): Promise<string[] | 'refused'>;
  query(access: ReadAccess, sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

function duckdbWorkspace(store: Store): Workspace {
  const workspaces = new DuckDBWorkspaces(store);
  return {
    async views(access) {
      try {
        return (await workspaces.open(access)).views.map((v) => v.name);
      } catch (error) {
        if (error instanceof KernelError && error.code === 'forbidden') return 'refused';
        throw error;
      }
    },
    async query(access, sql) {
      const result = await workspaces.query(access, sql);
      return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
    },
    close: () => workspaces.close(),
  };
}

async function postgresWorkspace(store: Store, url: string): Promise<Workspace> {
  const provisioned = await provisionPostgresWorkspaces(store, { actor: 'test:admin' });
  const clients = new Map<string, pg.Client>();
  const client = async (access: ReadAccess): Promise<{ client: pg.Client; schema: string } | null> => {
    const login = provisioned.logins.find((l) => l.userId === access.user.id);
    const schema = schemaName(access.useCaseId, access.user);
    if (!login || !login.schemas.includes(schema)) return null;
    let connected = clients.get(login.role);
    if (!connected) {
      const asLogin = new URL(url);
      asLogin.username = login.role;
      asLogin.password = login.password ?? '';
      connected = new pg.Client({ connectionString: asLogin.toString() });
      await connected.connect();
      clients.set(login.role, connected);
    }
    await connected.query(`SET search_path = ${schema}`);
    return { client: connected, schema };
  };
  return {
    async views(access) {
      const found = await client(access);
      if (!found) return 'refused';
      const rows = await found.client.query<{ name: string }>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1',
        [found.schema],
      );
      return rows.rows.map((r) => r.name);
    },
    async query(access, sql) {
      const found = await client(access);
      if (!found) throw new Error('no workspace');
      return (await found.client.query(sql)).rows;
    },
    async close() {
      for (const c of clients.values()) await c.end();
    },
  };
}

const useCase = (store: Store, purpose: Purpose, datasets: string[], controllers: string[]) =>
  readingUseCaseId(store, 'KID workspace', purpose, datasets, controllers, {
    users: ['role:analyst', 'role:provider', 'role:viewer'],
    months: 'loaded',
  });

const count = (rows: Record<string, unknown>[]): number => Number(rows[0]?.n);

describe.each(testStores())('the KID in a workspace on $engine', (engine) => {
  let store: Store;
  let workspace: Workspace;
  let users: Record<'analyst' | 'practice' | 'viewer', ReadUser>;
  let useCases: Record<'full' | 'noConditions' | 'directCare', string>;
  let optedOut: string[];

  const suite = openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });
  beforeAll(async () => {
    const tag = `${engine.engine}${Date.now().toString(36)}`;
    const practice = world.records.find((r) => r.dataset === 'pmi')?.org ?? '';
    users = {
      analyst: { id: `kid-analyst-${tag}`, role: 'analyst', org: null },
      practice: { id: `kid-practice-${tag}`, role: 'provider', org: practice },
      viewer: { id: `kid-viewer-${tag}`, role: 'viewer', org: null },
    };
    await addAccounts(store, Object.values(users));
    const controllers = [...new Set(world.records.map((r) => r.org))].sort();
    useCases = {
      full: await useCase(store, 'planning', DATASETS, controllers),
      noConditions: await useCase(store, 'planning', ['pmi', 'apc'], controllers),
      directCare: await useCase(store, 'direct-care', DATASETS, controllers),
    };
    // Every twentieth person on the spine opts out, among them people with conditions.
    const spine = await store.query<{ t: string }>(
      'SELECT person_token AS t FROM kid_spine_person ORDER BY person_token',
    );
    optedOut = spine.filter((_, i) => i % 20 === 0).map((r) => r.t);
    await loadOptOutTokens(store, optedOut, 'kid-workspace.dat', 'test');
    workspace =
      engine.engine === 'duckdb'
        ? duckdbWorkspace(store)
        : await postgresWorkspace(store, suite.target().store);
  });

  afterAll(async () => {
    await workspace?.close();
  });

  it('offers every KID view of the store, or leaves it out with a reason', async () => {
    const views = await store.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.views WHERE table_name LIKE 'kid\\_%' AND table_schema = current_schema()",
    );
    const known = new Set([...KID_WORKSPACE_VIEWS.map((v) => v.source), ...Object.keys(KID_VIEWS_LEFT_OUT)]);
    expect(views.map((v) => v.name).filter((name) => !known.has(name))).toEqual([]);
  });

  it('has a KID view exactly where openKidRead allows its fields', async () => {
    for (const user of Object.keys(users) as (keyof typeof users)[]) {
      for (const key of Object.keys(useCases) as (keyof typeof useCases)[]) {
        const access = { user: users[user], useCaseId: useCases[key], actor: 'test' };
        const got = await workspace.views(access);
        const allowed: string[] = [];
        for (const [name, fields] of Object.entries(VIEW_FIELDS)) {
          try {
            await openKidRead(store, access, fields);
            allowed.push(name);
          } catch (error) {
            if (!(error instanceof KernelError && error.code === 'forbidden')) throw error;
          }
        }
        const label = `${user} × ${key}`;
        if (users[user].role === 'viewer') {
          // aggregate-only: the policy lets it read for dashboards, but a workspace is record-level
          expect(got, label).toBe('refused');
          continue;
        }
        expect(got, label).not.toBe('refused');
        const kid = (got as string[]).filter((name) => name in VIEW_FIELDS).sort();
        if (users[user].role === 'provider') {
          // openKidRead lets the practice read the KID (it decides by dataset), but a provider's
          // workspace holds only its own rows, and the KID's views hold everyone
          expect(allowed, label).toContain('person');
          expect(kid, label).toEqual([]);
          continue;
        }
        expect(kid, label).toEqual(allowed.sort());
      }
    }
    // the analyst's full use case has all four
    const full = await workspace.views({ user: users.analyst, useCaseId: useCases.full });
    expect(full).toEqual(expect.arrayContaining(Object.keys(VIEW_FIELDS)));
  });

  it('gives a use case not covering gp-events no condition view, nor residence without asc', async () => {
    const access = { user: users.analyst, useCaseId: useCases.noConditions };
    const views = (await workspace.views(access)) as string[];
    expect(views).toEqual(expect.arrayContaining(['apc', 'pmi', 'person', 'person_registration']));
    expect(views).not.toContain('person_condition');
    expect(views).not.toContain('person_residence');
    const [person] = await workspace.query(access, 'SELECT * FROM person LIMIT 1');
    expect(Object.keys(person ?? {})).not.toContain('imd_decile');
    const [full] = await workspace.query(
      { user: users.analyst, useCaseId: useCases.full },
      'SELECT * FROM person LIMIT 1',
    );
    expect(Object.keys(full ?? {})).toEqual(
      expect.arrayContaining(['practice_code', 'lsoa_code', 'imd_decile']),
    );
    expect(Object.keys(full ?? {})).not.toContain('version');
  });

  it('gives person tokens that join apc’s', async () => {
    const access = { user: users.analyst, useCaseId: useCases.full };
    const joined = count(
      await workspace.query(
        access,
        'SELECT count(*) AS n FROM apc a JOIN person p ON p.person_token = a.person_token',
      ),
    );
    const apc = await openGovernedRead(store, access, 'apc');
    const [expected] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${apc.sql} AS a JOIN kid_spine_person p ON p.person_token = a.person_token`,
    );
    expect(joined).toBe(Number(expected?.n));
    expect(joined).toBeGreaterThan(0);
  });

  it('leaves opted-out people out for planning, not for direct care', async () => {
    const [spine] = await store.query<{ n: number }>('SELECT count(*) AS n FROM kid_spine_person');
    const people = Number(spine?.n);
    const planning = { user: users.analyst, useCaseId: useCases.full };
    const care = { user: users.analyst, useCaseId: useCases.directCare };
    expect(count(await workspace.query(planning, 'SELECT count(*) AS n FROM person'))).toBe(
      people - optedOut.length,
    );
    expect(count(await workspace.query(care, 'SELECT count(*) AS n FROM person'))).toBe(people);
    const one = `SELECT count(*) AS n FROM person WHERE person_token = '${optedOut[1]}'`;
    expect(count(await workspace.query(planning, one))).toBe(0);
    expect(count(await workspace.query(care, one))).toBe(1);
    const list = optedOut.map((t) => `'${t}'`).join(', ');
    for (const view of ['person_registration', 'person_residence', 'person_condition']) {
      const sql = `SELECT count(*) AS n FROM ${view} WHERE person_token IN (${list})`;
      expect(count(await workspace.query(planning, sql)), view).toBe(0);
      expect(count(await workspace.query(care, sql)), view).toBeGreaterThan(0);
    }
  });
});
