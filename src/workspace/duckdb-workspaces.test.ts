import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { closeUseCase } from '../governance/use-cases.ts';
import type { Store } from '../store/store.ts';
import { testStores } from '../../test/stores.ts';
import type { ReadAccess } from '../governance/access-policy.ts';
import { auditableSql } from './query-audit.ts';
import { DuckDBWorkspaces } from './duckdb-workspaces.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ReadUser } from '../governance/access-policy.ts';
import { runOperation } from '../operations/operation.ts';
import type { Principal } from '../operations/principal.ts';
import { checkSingleSelect } from './select-statement.ts';
import { closeWorkspaces, saveQueryOperation, savedQueriesOperation } from './workspace-operations.ts';
import { DEFAULT_WORKSPACE_LIMITS } from './workspace-limits.ts';
import { buildWorkspaceWorld, personToken, type WorkspaceWorld } from './workspace-world.ts';

const duckdb = testStores().filter((engine) => engine.engine === 'duckdb');

/** Runs `work` and answers the KernelError it throws (failing the test if it throws none). */
async function refusal(work: Promise<unknown>): Promise<KernelError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the query to be refused').toBeInstanceOf(KernelError);
  return error as KernelError;
}

/** Attempts the sandbox answers alike, each by what it tries (the test's title) and its SQL. */
function refusals(code: string, message: RegExp, attempts: Record<string, string>) {
  return Object.entries(attempts).map(([attempt, sql]) => ({ attempt, sql, code, message }));
}

describe.each(duckdb)('the DuckDB workspace sandbox', (engine) => {
  let store: Store;
  let world: WorkspaceWorld;
  let workspaces: DuckDBWorkspaces;
  let scratchDir: string;
  let planning: ReadAccess;

  beforeAll(async () => {
    store = await engine.open();
    world = await buildWorkspaceWorld(store, 'duck');
    scratchDir = mkdtempSync(path.join(os.tmpdir(), 'kernel-ws-test-'));
    workspaces = new DuckDBWorkspaces(store, { scratchDir });
    planning = { user: world.users.analyst1, useCaseId: world.useCases.planning };
  });

  afterAll(async () => {
    await workspaces.close();
    await store.close();
    rmSync(scratchDir, { recursive: true, force: true });
  });

  it('names each view as the catalogue names its dataset, and says why a dataset is missing', async () => {
    const summary = await workspaces.open(planning);
    expect(summary.views.map((v) => v.name)).toEqual(['msds_booking', 'msds_delivery']);
    expect(summary.views[0]?.controllers).toEqual(['RVV', 'RWF']);
    expect(summary.unavailable).toEqual([
      {
        datasetId: 'apc',
        reason: `No controller's apc data is available under use case ${world.useCases.planning}`,
      },
    ]);
    const result = await workspaces.query(
      planning,
      'SELECT org_code, count(*) AS n FROM msds_booking GROUP BY 1 ORDER BY 1',
    );
    // 4 people × 2 months per trust, less the opted-out person's 2 rows; RPA shares for direct care only
    expect(result.rows).toEqual([
      ['RVV', 6],
      ['RWF', 6],
    ]);
    expect(result.columns).toEqual([
      { name: 'org_code', type: 'VARCHAR' },
      { name: 'n', type: 'BIGINT' },
    ]);
  });

  it('shows the analyst only the views, in the system tables too', async () => {
    const tables = await workspaces.query(planning, 'SELECT table_name FROM duckdb_tables() ORDER BY 1');
    expect(tables.rows).toEqual([['msds_booking'], ['msds_delivery']]);
    const schema = await workspaces.query(
      planning,
      'SELECT table_name FROM information_schema.tables ORDER BY 1',
    );
    expect(schema.rows).toEqual([['msds_booking'], ['msds_delivery']]);
    const views = await workspaces.query(planning, 'SELECT count(*) FROM duckdb_views() WHERE NOT internal');
    expect(views.rows).toEqual([[0]]);
  });

  it('shows the locked settings, which no statement can change', async () => {
    const settings = await workspaces.query(
      planning,
      `SELECT name, lower(CAST(value AS VARCHAR)) FROM duckdb_settings()
       WHERE name IN ('enable_external_access', 'lock_configuration', 'autoload_known_extensions', 'access_mode', 'threads')
       ORDER BY name`,
    );
    expect(settings.rows).toEqual([
      ['access_mode', 'read_only'],
      ['autoload_known_extensions', 'false'],
      ['enable_external_access', 'false'],
      ['lock_configuration', 'true'],
      ['threads', String(DEFAULT_WORKSPACE_LIMITS.threads)],
    ]);
  });

  // What the sandbox refuses, grouped by its answer: the error code and what the message says.
  const ESCAPES = [
    ...refusals('refused', /file system operations are disabled/, {
      'read a file': "SELECT * FROM read_csv('/etc/passwd')",
      'read a file as text': "SELECT * FROM read_text('/etc/passwd')",
      'list files': "SELECT * FROM glob('/*')",
    }),
    ...refusals('refused', /disabled/, {
      'read a URL': "SELECT * FROM read_parquet('https://example.org/x.parquet')",
    }),
    ...refusals('refused', /SELECT statements only/, {
      'attach the warehouse': "ATTACH 'kernel.duckdb' AS warehouse",
      'write a file': "COPY msds_booking TO '/tmp/out.csv'",
      'change a setting': 'SET enable_external_access = true',
      'reset a setting': 'RESET memory_limit',
      'set through PRAGMA': 'PRAGMA threads = 2',
      'install an extension': 'INSTALL httpfs',
      'load an extension': 'LOAD httpfs',
      'write a table': 'CREATE TABLE mine AS SELECT * FROM msds_booking',
      'write a temporary table': 'CREATE TEMP TABLE mine AS SELECT 1',
      'a second statement that writes': 'SELECT 1; DROP TABLE msds_booking',
    }),
    ...refusals('invalid-input', /single SELECT/, {
      'attach from inside a SELECT': "SELECT * FROM query('ATTACH ''kernel.duckdb''')",
    }),
    ...refusals('refused', /one statement at a time, and this text holds 2/, {
      'a second SELECT': 'SELECT 1; SELECT * FROM msds_delivery',
    }),
    ...refusals('invalid-input', /ds_msds_booking does not exist: it is not in this workspace/, {
      'a base table': 'SELECT * FROM ds_msds_booking',
    }),
    ...refusals('invalid-input', /not in this workspace/, {
      'a base table by query()': "SELECT * FROM query('SELECT * FROM ds_msds_booking')",
      'the audit log': 'SELECT * FROM audit_events',
      'the encodings': 'SELECT * FROM linkage_encodings',
      'the opt-out list': 'SELECT * FROM optouts',
      'the use cases and their salts': 'SELECT pseudonym_salt FROM use_cases',
      'a file named as a table': "FROM '/etc/passwd'",
    }),
    ...refusals('invalid-input', /getenv does not exist/, {
      'the environment': "SELECT getenv('HOME')",
    }),
    ...refusals('invalid-input', /does not parse/, {
      nonsense: 'SELEC 1',
    }),
  ];

  it.each(ESCAPES)('refuses to $attempt with a clear message', async ({ sql, code, message }) => {
    const error = await refusal(workspaces.query(planning, sql));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });

  it("refuses another use case's view: a workspace holds only its own use case's datasets and rows", async () => {
    const directCare = { user: world.users.analyst2, useCaseId: world.useCases.directCare };
    const error = await refusal(workspaces.query(directCare, 'SELECT * FROM msds_delivery'));
    expect(error.message).toMatch(/msds_delivery does not exist: it is not in this workspace/);
    expect(error.hint).toBe('This workspace holds msds_booking');
    // Same view name, other use case's rows: direct care keeps the opted-out and takes RPA.
    const count = 'SELECT org_code, count(*) FROM msds_booking GROUP BY 1 ORDER BY 1';
    expect((await workspaces.query(directCare, count)).rows).toEqual([
      ['RPA', 8],
      ['RWF', 8],
    ]);
    // analyst-1 is no user of the direct care use case at all
    const refused = await refusal(workspaces.query({ ...directCare, user: world.users.analyst1 }, count));
    expect(refused.code).toBe('forbidden');
    expect(refused.message).toMatch(/You are not a user of use case/);
  });

  it('gives no workspace to an aggregate-only role, a role that reads nothing, or a provider with no rows', async () => {
    const viewer = await refusal(
      workspaces.open({ user: world.users.viewer, useCaseId: world.useCases.planning }),
    );
    expect(viewer.code).toBe('forbidden');
    expect(viewer.message).toMatch(/record-level SQL, and the role "viewer" sees aggregates only/);
    const guest = await refusal(
      workspaces.open({ user: world.users.guest, useCaseId: world.useCases.planning }),
    );
    expect(guest.message).toMatch(/The role "public" may not read warehouse data/);
    const rpa = await refusal(
      workspaces.open({ user: world.users.providerRpa, useCaseId: world.useCases.planning }),
    );
    expect(rpa.message).toMatch(/gives RPA no rows of /);
    const events = await listAudit(store, { action: 'workspace.refused', limit: 10 });
    expect(events.some((e) => e.actor === `user:${world.users.viewer.id}`)).toBe(true);
    const denied = await listAudit(store, { action: 'data.read-denied', limit: 10 });
    expect(denied.some((e) => e.actor === `user:${world.users.providerRpa.id}`)).toBe(true);
  });

  it('says where a query went wrong, with DuckDB’s own suggestion, and tells a misspelt function from a missing view', async () => {
    const column = await refusal(
      workspaces.query(planning, 'SELECT org_code,\n  count(org_cod)\nFROM msds_booking GROUP BY 1'),
    );
    expect(column.message).toMatch(/Referenced column "org_cod" not found/);
    expect(column.where).toEqual({ field: 'sql', line: 2, column: 9 });
    expect(column.hint).toMatch(/^Candidate bindings: .*"org_code"/);
    const func = await refusal(workspaces.query(planning, 'SELECT cout(*) FROM msds_booking'));
    expect(func.message).toBe(
      'The query failed: Catalog Error: Scalar Function with name cout does not exist',
    );
    expect(func.message).not.toMatch(/not in this workspace/);
    expect(func.hint).toBe('Did you mean "count"?');
    expect(func.where).toEqual({ field: 'sql', line: 1, column: 8 });
    // DuckDB shows a long line as a window around the error; the column is still the query's.
    const long = `SELECT ${Array.from({ length: 40 }, (_, i) => `${i} AS c${i}`).join(', ')}, nosuch FROM msds_booking`;
    const far = await refusal(workspaces.query(planning, long));
    expect(far.where).toEqual({ field: 'sql', line: 1, column: long.indexOf('nosuch') + 1 });
    const view = await refusal(workspaces.query(planning, 'SELECT * FROM msds_bookings'));
    expect(view.message).toMatch(/msds_bookings does not exist: it is not in this workspace/);
    expect(view.where).toEqual({ field: 'sql', line: 1, column: 15 });
  });

  it('points out a view whose name is an SQL keyword (asc) where the parser stops at it', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const error = await refusal(checkSingleSelect(connection, 'SELECT *\nFROM asc', ['apc', 'asc']));
      expect(error.where).toEqual({ field: 'sql', line: 2, column: 6 });
      expect(error.hint).toBe(
        'asc is an SQL keyword as well as a view here: write it in double quotes, FROM "asc"',
      );
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('keeps a saved query as written, refuses one holding an identifier, and never replaces another user’s', async () => {
    const principalOf = (user: ReadUser): Principal => ({
      userId: user.id,
      email: `${user.id}@example.org`,
      role: user.role as Principal['role'],
      org: user.org,
      via: 'token',
      tokenId: `t-${user.id}`,
      mustChangePassword: false,
    });
    const save = (user: ReadUser, name: string, sql: string) =>
      runOperation(
        saveQueryOperation,
        { store, principal: principalOf(user) },
        { useCase: planning.useCaseId, name, sql },
      );
    const saved = async () =>
      (
        await runOperation(
          savedQueriesOperation,
          { store, principal: principalOf(world.users.analyst1) },
          { useCase: planning.useCaseId },
        )
      ).queries;
    try {
      // Longer than the audit keeps, and kept whole.
      const long = `SELECT count(*) AS n FROM msds_booking -- ${'x'.repeat(10_100)}`;
      expect((await save(world.users.analyst1, 'long', long)).sql).toBe(long);
      // A ten-digit number reads as an NHS number: refused, saying where, never masked.
      const numbered = await refusal(
        save(
          world.users.analyst1,
          'big number',
          'SELECT count(*) AS n\nFROM msds_booking WHERE 1 < 1234567890',
        ),
      );
      expect(numbered).toMatchObject({ code: 'usage', where: { field: 'sql', line: 2, column: 29 } });
      expect(numbered.message).toMatch(/looks like an NHS number/);
      expect(numbered.message).not.toContain('1234567890');
      const token = await refusal(
        save(
          world.users.analyst1,
          'one person',
          `SELECT * FROM msds_booking WHERE person_token = '${'ab'.repeat(32)}'`,
        ),
      );
      expect(token.message).toMatch(/looks like a token or pseudonym/);
      const mine = 'SELECT count(*) AS n FROM msds_booking';
      await save(world.users.analyst1, 'big number', mine);
      // Another user's query of the same name stays; the other user is told, not obeyed.
      const theirs = await refusal(save(world.users.providerRwf, 'big number', 'SELECT 1 AS replaced'));
      expect(theirs).toMatchObject({ code: 'conflict', where: { field: 'name' } });
      expect((await saved()).find((q) => q.name === 'big number')?.sql).toBe(mine);
      // One's own is replaced by saving again, and each save is audited.
      await save(world.users.analyst1, 'big number', `${mine} WHERE org_code = 'RWF'`);
      const named = (await saved()).filter((q) => q.name === 'big number');
      expect(named.map((q) => q.sql)).toEqual([`${mine} WHERE org_code = 'RWF'`]);
      const audits = await listAudit(store, { action: 'query.saved', limit: 10 });
      expect(audits).toHaveLength(3);
      expect(
        audits.filter((e) => (JSON.parse(e.details) as { replaced: unknown }).replaced !== null),
      ).toHaveLength(1);
    } finally {
      await closeWorkspaces(store);
    }
  });

  it('stops a query that runs past the time limit', async () => {
    const quick = new DuckDBWorkspaces(store, { scratchDir, limits: { seconds: 1 } });
    try {
      const started = Date.now();
      const error = await refusal(
        quick.query(planning, 'SELECT count(*) FROM range(1000000000) a, range(1000) b'),
      );
      expect(error.code).toBe('too-large');
      expect(error.message).toBe("The query ran past the workspace's 1-second limit and was stopped");
      expect(Date.now() - started).toBeLessThan(15_000);
      // the session is still usable afterwards
      expect((await quick.query(planning, 'SELECT 42 AS answer')).rows).toEqual([[42]]);
    } finally {
      await quick.close();
    }
  });

  it('stops a query that returns more rows than the limit, and one that needs more memory', async () => {
    const small = new DuckDBWorkspaces(store, {
      scratchDir,
      limits: { rows: 5, memory: '64MB', spill: '0B' },
    });
    try {
      const error = await refusal(small.query(planning, 'SELECT * FROM msds_booking'));
      expect(error.code).toBe('too-large');
      expect(error.message).toBe("The query returns more than the workspace's limit of 5 rows");
      expect((await small.query(planning, 'SELECT * FROM msds_booking LIMIT 5')).rows).toHaveLength(5);
      const memory = await refusal(small.query(planning, 'SELECT list(i) FROM range(100000000) t(i)'));
      expect(memory.code).toBe('too-large');
      expect(memory.message).toMatch(/more than the workspace's 64MB of memory/);
    } finally {
      await small.close();
    }
  });

  it('audits every query with its use case, SQL text, rows and time, never a token', async () => {
    const token = personToken('RWF', 'p2');
    await workspaces.query(planning, `SELECT count(*) FROM msds_booking WHERE person_token = '${token}'`);
    await refusal(workspaces.query(planning, "SELECT * FROM read_csv('/etc/passwd')"));
    const [refused, ok] = await listAudit(store, { action: 'workspace.query', limit: 2 });
    expect(ok?.purpose).toBe(world.useCases.planning);
    expect(ok?.target).toBe(`usecase:${world.useCases.planning}`);
    expect(ok?.actor).toBe(`user:${world.users.analyst1.id}`);
    const details = JSON.parse(ok?.details ?? '{}') as Record<string, unknown>;
    expect(details).toMatchObject({
      engine: 'duckdb',
      sql: "SELECT count(*) FROM msds_booking WHERE person_token = '<token>'",
      rows: 1,
      outcome: 'ok',
    });
    expect(details.ms).toEqual(expect.any(Number));
    expect(ok?.details).not.toContain(token);
    expect(JSON.parse(refused?.details ?? '{}')).toMatchObject({ rows: null, outcome: 'refused' });
    expect(auditableSql("WHERE nhs = '943 476 5919' OR pc = 'ME14 1XX'")).toBe(
      "WHERE nhs = '<number>' OR pc = '<postcode>'",
    );
  });

  it('remakes the workspace when the data or the policy changes: a new opt-out at once, a closed use case refused', async () => {
    const count = 'SELECT count(*) FROM msds_booking';
    expect((await workspaces.query(planning, count)).rows).toEqual([[12]]);
    await loadOptOutTokens(
      store,
      ['RWF', 'RVV', 'RPA'].flatMap((org) => [personToken(org, 'p1'), personToken(org, 'p2')]),
      'workspace-optouts-2.dat',
      'test',
    );
    expect((await workspaces.query(planning, count)).rows).toEqual([[8]]);
    await closeUseCase(store, world.useCases.planning, 'test');
    const error = await refusal(workspaces.query(planning, count));
    expect(error.code).toBe('forbidden');
    expect(error.message).toMatch(/is closed/);
  });

  it('removes its snapshots when closed', async () => {
    const own = mkdtempSync(path.join(os.tmpdir(), 'kernel-ws-close-'));
    const temporary = new DuckDBWorkspaces(store, { scratchDir: own });
    await temporary.open({ user: world.users.analyst1, useCaseId: world.useCases.published });
    expect(readdirSync(own)).toHaveLength(1);
    await temporary.close();
    expect(readdirSync(own)).toHaveLength(0);
    expect(existsSync(own)).toBe(true);
    rmSync(own, { recursive: true });
  });
});
