import { spawn, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../audit/audit-log.ts';
import { closeUseCase } from '../governance/use-cases.ts';
import type { Store } from '../store/store.ts';
import { findBinDir } from '../../test/postgres-server.ts';
import { testStores } from '../../test/stores.ts';
import {
  loginRoleName,
  provisionedVersion,
  provisionPostgresWorkspaces,
  refreshPostgresWorkspaces,
  resetWorkspacePassword,
  stopOverrunningWorkspaceQueries,
  WORKSPACE_OWNER_ROLE,
  type ProvisionedWorkspaces,
  type WorkspaceLogin,
} from './postgres-workspaces.ts';
import { scramVerifier } from './scram-verifier.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { workspaceVersion } from './workspace-version.ts';
import { buildWorkspaceWorld, personToken, type WorkspaceWorld } from './workspace-world.ts';

const postgres = testStores().filter((engine) => engine.engine === 'postgres');

/** The real psql, beside the pg_ctl the test server was started with (a PATH entry may be a link). */
function findPsql(): string {
  const binDir = findBinDir();
  const beside = binDir ? path.join(path.dirname(realpathSync(path.join(binDir, 'pg_ctl'))), 'psql') : '';
  return existsSync(beside) ? beside : 'psql';
}
const PSQL = findPsql();

interface PsqlOutcome {
  status: number | null;
  out: string;
  err: string;
}

/** The real psql client, connected as a workspace login, running one command string. */
function psqlArgs(provisioned: ProvisionedWorkspaces, login: WorkspaceLogin, sql: string): string[] {
  const { host, port, database } = provisioned.connection;
  return [
    '-X',
    '-q',
    '-A',
    '-t',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    host,
    '-p',
    String(port),
    '-U',
    login.role,
    '-d',
    database,
    '-c',
    sql,
  ];
}

function psqlEnv(password: string): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' };
}

describe.each(postgres)('workspace schemas and logins on PostgreSQL, through psql', (engine) => {
  let store: Store;
  let world: WorkspaceWorld;
  let provisioned: ProvisionedWorkspaces;
  const passwords = new Map<string, string>();

  const login = (userId: string): WorkspaceLogin => {
    const found = provisioned.logins.find((l) => l.userId === userId);
    if (!found) throw new Error(`no login for ${userId}`);
    return found;
  };
  const psqlOnce = (userId: string, sql: string): PsqlOutcome => {
    const result = spawnSync(PSQL, psqlArgs(provisioned, login(userId), sql), {
      encoding: 'utf8',
      env: psqlEnv(passwords.get(userId) ?? ''),
    });
    return { status: result.status, out: result.stdout.trim(), err: result.stderr.trim() };
  };
  /**
   * psql, waiting for a free connection: the server process of a psql that has just exited
   * can outlive it by a moment and hold one of the login's few slots (CONNECTION LIMIT)
   * until it goes; the limit itself has a test of its own below.
   */
  const psql = (userId: string, sql: string): PsqlOutcome => {
    for (let attempt = 1; ; attempt++) {
      const outcome = psqlOnce(userId, sql);
      if (!/too many connections for role/.test(outcome.err) || attempt === 50) return outcome;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  };

  beforeAll(async () => {
    store = await engine.open();
    world = await buildWorkspaceWorld(store, `pg${Date.now().toString(36)}`);
    provisioned = await provisionPostgresWorkspaces(store, {
      actor: 'test:admin',
      limits: { seconds: 2, connections: 2 },
    });
    for (const l of provisioned.logins) passwords.set(l.userId, l.password ?? '');
  });

  afterAll(async () => {
    await store.close();
  });

  it("makes a schema per use case and access shape, and a login per user with only their use cases' schemas", () => {
    const [planning, directCare, published] = [
      world.useCases.planning,
      world.useCases.directCare,
      world.useCases.published,
    ].map((id) => `ws_${id.toLowerCase().replace('-', '_')}`);
    expect(provisioned.schemas.map((s) => [s.name, s.views])).toEqual([
      [planning, ['msds_booking', 'msds_delivery']],
      [`${planning}_rwf`, ['msds_booking', 'msds_delivery']],
      [directCare, ['msds_booking']],
      [published, ['msds_booking']],
    ]);
    const { analyst1, analyst2, providerRwf, providerRpa } = world.users;
    expect(provisioned.logins.map((l) => [l.userId, l.schemas]).sort()).toEqual(
      [
        [analyst1.id, [planning, published]],
        [analyst2.id, [planning, directCare]],
        [providerRwf.id, [`${planning}_rwf`]],
      ].sort(),
    );
    // RPA shares nothing for planning; viewers and the public get no login at all
    expect(provisioned.refused).toEqual([
      {
        schema: `${planning}_rpa`,
        useCaseId: world.useCases.planning,
        reason: expect.stringMatching(/gives RPA no rows/),
      },
    ]);
    expect(provisioned.logins.find((l) => l.userId === providerRpa.id)).toBeUndefined();
    expect(
      provisioned.logins.every((l) => l.role === loginRoleName(l.userId) && l.password?.length === 32),
    ).toBe(true);
  });

  it('sets the limits and the search path on each login, which is no superuser and can make nothing', async () => {
    const role = login(world.users.analyst1.id).role;
    const [row] = await store.query<{ config: string; limit: number; flags: string }>(
      `SELECT array_to_string(rolconfig, '|') AS config, rolconnlimit AS limit,
              concat_ws(',', rolsuper, rolcreaterole, rolcreatedb, rolinherit, rolbypassrls) AS flags
       FROM pg_roles WHERE rolname = $1`,
      [role],
    );
    expect(row?.limit).toBe(2);
    expect(row?.flags).toBe('f,f,f,f,f');
    expect(row?.config.split('|').sort()).toEqual([
      'default_transaction_read_only=on',
      'idle_in_transaction_session_timeout=300s',
      'jit=off',
      `search_path=${provisioned.logins.find((l) => l.role === role)?.schemas.join(', ')}`,
      'statement_timeout=2s',
      'work_mem=128MB',
    ]);
    const [owner] = await store.query<{ login: boolean; superuser: boolean }>(
      'SELECT rolcanlogin AS login, rolsuper AS superuser FROM pg_roles WHERE rolname = $1',
      [WORKSPACE_OWNER_ROLE],
    );
    expect(owner).toEqual({ login: false, superuser: false });
    const views = await store.query<{ owner: string; options: string }>(
      `SELECT c.relowner::regrole::text AS owner, array_to_string(c.reloptions, ',') AS options
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'ws\\_%' AND c.relkind = 'v'`,
    );
    expect(views.length).toBe(6);
    // PostgreSQL lets any login read view definitions (pg_views): a record-level view holds no
    // secret, since only aggregate-only reads inline the use case's pseudonym salt, and those
    // roles get no workspace
    const definitions = await store.query<{ definition: string }>(
      "SELECT definition FROM pg_views WHERE schemaname LIKE 'ws\\_%'",
    );
    expect(definitions).toHaveLength(6);
    expect(definitions.some((d) => /md5\(/.test(d.definition))).toBe(false);
    // each view is its snapshot table, whole: no condition of its own for a leaky function to
    // get round, so no security_barrier
    for (const { definition } of definitions) {
      expect(definition).toMatch(/^\s*SELECT [\s\S]* FROM kernel_ws_data_[0-9a-f]+\.\w+;$/);
      expect(definition).not.toMatch(/WHERE/);
    }
    expect(new Set(views.map((v) => `${v.owner} ${v.options}`))).toEqual(
      new Set([`${WORKSPACE_OWNER_ROLE} null`]),
    );
  });

  it('lets psql read the views of the use case, and nothing else', () => {
    const analyst = world.users.analyst1.id;
    const first = login(analyst).schemas[0] as string;
    expect(psql(analyst, 'SELECT current_user')).toEqual({ status: 0, out: login(analyst).role, err: '' });
    expect(psql(analyst, 'SELECT count(*) FROM msds_booking')).toMatchObject({ status: 0, out: '12' });
    expect(psql(analyst, `SELECT count(*) FROM ${first}.msds_delivery`)).toMatchObject({
      status: 0,
      out: '12',
    });
  });

  const refusals = (other: () => string): { attempt: string; sql: () => string; error: RegExp }[] => [
    {
      attempt: "another use case's schema",
      sql: () => `SELECT * FROM ${other()}.msds_booking`,
      error: /permission denied for schema ws_/,
    },
    {
      attempt: 'a base table',
      sql: () => 'SELECT * FROM public.ds_msds_booking',
      error: /permission denied for table ds_msds_booking/,
    },
    {
      attempt: 'the audit log',
      sql: () => 'SELECT * FROM public.audit_events',
      error: /permission denied for table audit_events/,
    },
    {
      attempt: 'the encodings',
      sql: () => 'SELECT * FROM public.linkage_encodings',
      error: /permission denied for table linkage_encodings/,
    },
    {
      attempt: 'the use cases and their salts',
      sql: () => 'SELECT pseudonym_salt FROM public.use_cases',
      error: /permission denied for table use_cases/,
    },
    {
      attempt: 'a file on the server',
      sql: () => "SELECT pg_read_file('/etc/passwd')",
      error: /permission denied for function pg_read_file/,
    },
    {
      attempt: 'a program on the server',
      sql: () => "COPY (SELECT 1) TO PROGRAM 'id'",
      error: /must be superuser or have privileges of the pg_execute_server_program role/,
    },
    {
      attempt: 'a file written on the server',
      sql: () => "COPY (SELECT 1) TO '/tmp/kernel-ws-out.csv'",
      error: /must be superuser or have privileges of the pg_write_server_files role/,
    },
    {
      attempt: "the store's role",
      sql: () => 'SET ROLE kernel',
      error: /permission denied to set role "kernel"/,
    },
    {
      attempt: "the views' owner",
      sql: () => `SET ROLE ${WORKSPACE_OWNER_ROLE}`,
      error: /permission denied to set role "kernel_workspace_owner"/,
    },
    {
      attempt: 'a table of its own',
      sql: () => 'CREATE TABLE mine (a int)',
      error: /cannot execute CREATE TABLE in a read-only transaction/,
    },
    {
      attempt: 'a table of its own, read-write',
      sql: () => 'BEGIN READ WRITE; CREATE TABLE mine (a int)',
      error: /permission denied for schema ws_/,
    },
    {
      attempt: 'a temporary table',
      sql: () => 'BEGIN READ WRITE; CREATE TEMP TABLE mine (a int)',
      error: /permission denied to create temporary tables in database/,
    },
    {
      attempt: 'a change to a view',
      sql: () => 'BEGIN READ WRITE; DELETE FROM msds_booking',
      // a view over its snapshot table could be updated, but the login may only SELECT
      error: /permission denied for view msds_booking/,
    },
    {
      attempt: 'a query past the time limit',
      sql: () => 'SELECT pg_sleep(5)',
      error: /canceling statement due to statement timeout/,
    },
  ];

  it.each(
    refusals(
      () =>
        login(world.users.analyst2.id).schemas.find(
          (s) => !login(world.users.analyst1.id).schemas.includes(s),
        ) as string,
    ),
  )('refuses $attempt with a clear message', ({ sql, error }) => {
    const outcome = psql(world.users.analyst1.id, sql());
    expect(outcome.status).not.toBe(0);
    expect(outcome.err).toMatch(error);
  });

  it('holds a login to its connection limit', async () => {
    const analyst = login(world.users.analyst1.id);
    const url = new URL(`postgres://${provisioned.connection.host}:${provisioned.connection.port}`);
    url.pathname = `/${provisioned.connection.database}`;
    url.username = analyst.role;
    url.password = passwords.get(analyst.userId) ?? '';
    const held = [new pg.Client(url.toString()), new pg.Client(url.toString())];
    try {
      for (const client of held) await client.connect();
      const outcome = psqlOnce(analyst.userId, 'SELECT 1');
      expect(outcome.status).not.toBe(0);
      expect(outcome.err).toMatch(new RegExp(`too many connections for role "${analyst.role}"`));
    } finally {
      for (const client of held) await client.end();
    }
  });

  it('gives a provider only its own organisation', () => {
    const provider = world.users.providerRwf.id;
    expect(psql(provider, "SELECT string_agg(DISTINCT org_code, ',') FROM msds_booking")).toMatchObject({
      status: 0,
      out: 'RWF',
    });
  });

  it('stops a query whose user took the time limit off, with the watchdog', async () => {
    const analyst = world.users.analyst1.id;
    const child = spawn(
      PSQL,
      psqlArgs(provisioned, login(analyst), 'SET statement_timeout = 0; SELECT pg_sleep(30)'),
      {
        env: psqlEnv(passwords.get(analyst) ?? ''),
      },
    );
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let cancelled = 0;
    for (let tries = 0; tries < 40 && cancelled === 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      cancelled = await stopOverrunningWorkspaceQueries(store, 1);
    }
    expect(cancelled).toBe(1);
    expect(await exited).not.toBe(0);
    expect(err).toMatch(/canceling statement due to user request/);
  });

  it('sends the password as a SCRAM verifier PostgreSQL itself would make, and never audits it', async () => {
    await store.exec("SET password_encryption = 'scram-sha-256'");
    const probe = `kernel_scram_probe_${Date.now().toString(36)}`;
    await store.exec(`CREATE ROLE ${probe} PASSWORD 'correct horse battery staple'`);
    const [made] = await store.query<{ verifier: string }>(
      'SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = $1',
      [probe],
    );
    await store.exec(`DROP ROLE ${probe}`);
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(made?.verifier ?? '') ?? [];
    expect(
      scramVerifier('correct horse battery staple', Buffer.from(salt ?? '', 'base64'), Number(iterations)),
    ).toBe(made?.verifier);

    const analyst = login(world.users.analyst1.id);
    const [stored] = await store.query<{ verifier: string }>(
      'SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = $1',
      [analyst.role],
    );
    expect(stored?.verifier).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(stored?.verifier).not.toContain(passwords.get(analyst.userId));
    const events = await listAudit(store, { action: 'workspace.', limit: 50 });
    expect(events.length).toBeGreaterThan(0);
    for (const password of passwords.values()) expect(JSON.stringify(events)).not.toContain(password);
  });

  it('answers from snapshots no login can read directly, made again when the opt-out list changes', async () => {
    const analyst = world.users.analyst1.id;
    const [snapshot] = await store.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname LIKE 'kernel\\_ws\\_data\\_%' AND c.relkind = 'r' LIMIT 1`,
    );
    const planning = `ws_${world.useCases.planning.toLowerCase().replace('-', '_')}`;
    expect(psql(analyst, `SELECT count(*) FROM ${snapshot?.name}`).err).toMatch(
      /permission denied for schema kernel_ws_data_/,
    );
    expect(await provisionedVersion(store)).toBe(await workspaceVersion(store));
    expect(await refreshPostgresWorkspaces(store, { actor: 'test:admin' })).toBeNull();

    // A new list: the second person of each trust opts out too.
    await loadOptOutTokens(
      store,
      ['p1', 'p2'].flatMap((p) => ['RWF', 'RVV', 'RPA'].map((org) => personToken(org, p))),
      'workspace-optouts-2.dat',
      'test',
    );
    expect(psql(analyst, `SELECT count(*) FROM ${planning}.msds_booking`)).toMatchObject({ out: '12' });
    const refreshed = await refreshPostgresWorkspaces(store, {
      actor: 'test:admin',
      limits: { seconds: 2, connections: 2 },
    });
    expect(refreshed?.schemas.map((s) => s.name)).toEqual(provisioned.schemas.map((s) => s.name));
    expect(refreshed?.logins.every((l) => l.password === null)).toBe(true);
    expect(psql(analyst, `SELECT count(*) FROM ${planning}.msds_booking`)).toMatchObject({ out: '8' });
    const schemas = await store.query(
      "SELECT 1 FROM pg_namespace WHERE nspname LIKE 'kernel\\_ws\\_data\\_%'",
    );
    expect(schemas).toHaveLength(1);
  });

  it('keeps passwords when run again, resets one on request, and removes what the policy no longer gives', async () => {
    const again = await provisionPostgresWorkspaces(store, {
      actor: 'test:admin',
      limits: { seconds: 2, connections: 2 },
    });
    expect(again.logins.every((l) => l.password === null)).toBe(true);
    expect(again.removed).toEqual([]);

    const analyst = world.users.analyst2.id;
    const reset = await resetWorkspacePassword(store, analyst, { actor: 'test:admin' });
    expect(reset.password).toHaveLength(32);
    expect(reset.schemas).toEqual(login(analyst).schemas);
    passwords.set(analyst, reset.password ?? '');
    expect(psql(analyst, 'SELECT 1')).toMatchObject({ status: 0, out: '1' });

    // Closing the planning use case takes its schemas away; the provider has nothing left.
    await closeUseCase(store, world.useCases.planning, 'test');
    const after = await provisionPostgresWorkspaces(store, {
      actor: 'test:admin',
      limits: { seconds: 2, connections: 2 },
    });
    expect(after.schemas.map((s) => s.useCaseId)).not.toContain(world.useCases.planning);
    expect(after.removed).toEqual([loginRoleName(world.users.providerRwf.id)]);
    const gone = await store.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      loginRoleName(world.users.providerRwf.id),
    ]);
    expect(gone).toEqual([]);
    expect(psql(world.users.analyst1.id, 'SELECT count(*) FROM msds_delivery').err).toMatch(
      /relation "msds_delivery" does not exist/,
    );
  });
});
