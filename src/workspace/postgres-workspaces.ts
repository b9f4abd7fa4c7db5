/**
 * Governed SQL on PostgreSQL, for psql, Power BI, R (DBI) and Python: each use case's
 * workspace views in a schema of their own, and a login role per user granted only the
 * schemas of their use cases.
 *
 * - A schema per use case and access shape: `ws_uc_001` for its analysts, `ws_uc_001_rwf` for
 *   a provider (RWF), who reads only its own organisation's rows. Each view reads a snapshot
 *   table holding the rows of the plan's SQL (openGovernedRead's subquery, or a KID view's:
 *   workspace-plan.ts) when it was provisioned, so its rows are exactly what the policy gives
 *   those users; a view runs with its owner's rights, and its owner, `kernel_workspace_owner`,
 *   is no superuser and cannot log in: it owns the snapshot tables and reads nothing else. A
 *   view is its snapshot table whole, with no condition of its own, so an analyst's function in
 *   a WHERE clause has no hidden row to see, and `security_barrier` (PostgreSQL docs, "Rules
 *   and Privileges") would guard nothing; without it the planner treats the view as the table.
 * - Why snapshots (as DuckDB's sandbox has, duckdb-snapshot.ts), not views over the warehouse:
 *   measured on bench/workspace's 1.9M-person world (quiet machine), an analyst's window over
 *   the PMI (3.4 million rows) took 6.3 s through a view computing the governed SQL on every
 *   query, of which 1.4 s was the link join and the opt-out check of each row, which a snapshot
 *   has done once. An index on the person token was tried and left out: the planner, which
 *   cannot estimate how many rows survive a window's `newest = 1`, then chose a nested loop over
 *   the index for the join (11-15 s on a busy machine, against 6-10 s with a hash join). The
 *   cost: a copy of each view's rows per schema (schemas whose views are the same SQL share
 *   one; the bench's five schemas took 4.3 GB beside a 2.2 GB warehouse), and the rows are as
 *   of the last provisioning: `refreshPostgresWorkspaces` provisions again whenever the
 *   workspace version (workspace-version.ts: the policy, loads, sign-offs, the opt-out list,
 *   links, the KID's build, the day) has changed since, and the server should run it often (a
 *   new opt-out list must reach the workspaces promptly).
 *   The snapshot tables live in a schema of their own (`kernel_ws_data_<random>`), made anew
 *   by each provisioning before the old is dropped, so analysts' views change in one commit.
 * - A login role per user, `kernel_u_<id>`: no superuser, no role or database creation, no
 *   inheritance; `CONNECTION LIMIT`, `statement_timeout`, `idle_in_transaction_session_timeout`,
 *   `default_transaction_read_only` and a `search_path` of the user's schemas set on the role;
 *   USAGE and SELECT on those schemas only. The role's comment names the database and the user,
 *   which is how a later run finds the roles it made (roles belong to the whole server).
 * - Temporary tables are revoked from PUBLIC in the database, so a login can hold nothing of
 *   its own there.
 *
 * `provisionPostgresWorkspaces` (re)creates all of it from the current use cases and users, in
 * one transaction, and returns each login's connection details. A password is made only for a
 * new login, returned once, and sent to the server as a SCRAM verifier (scram-verifier.ts): it
 * is never stored, logged or audited. Role settings are defaults a session may change (a user
 * can SET statement_timeout), so `stopOverrunningWorkspaceQueries` is the real time limit: the
 * server runs it on an interval.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { readableUseCases, ROLE_TIERS, type ReadUser } from '../governance/access-policy.ts';
import { quoteIdentifier, quoteLiteral } from '../store/sql.ts';
import type { Queryable, Store } from '../store/store.ts';
import { newLoginPassword, scramVerifier } from './scram-verifier.ts';
import { DEFAULT_POSTGRES_LOGIN_LIMITS, type PostgresLoginLimits } from './workspace-limits.ts';
import { planWorkspace, type WorkspacePlan } from './workspace-plan.ts';
import { workspaceVersion } from './workspace-version.ts';

export const WORKSPACE_OWNER_ROLE = 'kernel_workspace_owner';
/** The snapshot tables' schemas: `kernel_ws_data_<random>`, one per provisioning. */
const DATA_SCHEMA_PREFIX = 'kernel_ws_data_';
const LOGIN_PREFIX = 'kernel_u_';

export interface WorkspaceConnection {
  host: string;
  port: number;
  database: string;
}

export interface WorkspaceSchema {
  name: string;
  useCaseId: string;
  views: string[];
  /** user ids granted it */
  users: string[];
}

export interface WorkspaceLogin {
  userId: string;
  /** the login role: the user name to connect with */
  role: string;
  schemas: string[];
  /** only for a login made by this call (or a reset): shown once, kept nowhere */
  password: string | null;
}

export interface ProvisionedWorkspaces {
  connection: WorkspaceConnection;
  schemas: WorkspaceSchema[];
  logins: WorkspaceLogin[];
  /** use cases a user belongs to that gave no workspace, with the policy's reason */
  refused: { schema: string; useCaseId: string; reason: string }[];
  /** login roles removed: their users no longer have any workspace */
  removed: string[];
}

export interface ProvisionOptions {
  actor: string;
  limits?: Partial<PostgresLoginLimits>;
  /** the host and port analysts' tools reach the server at; the server's own address by default */
  host?: string;
  port?: number;
}

/** An identifier part from a free-text id: lower case, `_` for anything else, and a hash where that changed it. */
function identifierPart(raw: string, max: number): string {
  const clean = raw.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (clean === raw && clean.length <= max) return clean;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${clean.slice(0, max - 9)}_${hash}`;
}

/** PostgreSQL identifiers are at most 63 bytes (docs, "Identifiers and Key Words"). */
export function loginRoleName(userId: string): string {
  return `${LOGIN_PREFIX}${identifierPart(userId, 63 - LOGIN_PREFIX.length)}`;
}

/** `ws_uc_001` for a use case's analysts; `ws_uc_001_rwf` for a provider, whose rows are its own. */
export function schemaName(useCaseId: string, user: ReadUser): string {
  const base = `ws_${useCaseId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  return user.role === 'provider' && user.org ? `${base}_${user.org.toLowerCase()}` : base;
}

function requirePostgres(q: Queryable): void {
  if (q.dialect.name !== 'postgres') {
    throw new KernelError('config', 'Workspace schemas and logins are made on a PostgreSQL store', {
      hint: 'On the embedded store, queries run in the workspace sandbox (DuckDBWorkspaces)',
    });
  }
}

/** Runs DDL that carries a secret (a password verifier) without echoing the statement in an error. */
async function execQuietly(q: Queryable, sql: string, what: string): Promise<void> {
  try {
    await q.exec(sql);
  } catch (error) {
    throw new KernelError('store', `PostgreSQL refused to ${what}`, {
      hint: "Check the store's role may create roles (CREATEROLE)",
      // the database's own error, not the store's, whose message would quote the statement
      cause: (error as { cause?: unknown }).cause,
    });
  }
}

interface SchemaGroup {
  name: string;
  useCaseId: string;
  members: ReadUser[];
}

/** Every enabled account whose role reads record-level rows, as the policy sees a reader. */
async function workspaceUsers(q: Queryable): Promise<ReadUser[]> {
  const rows = await q.query<{ id: string; role: string; org_code: string | null }>(
    'SELECT id, role, org_code FROM users WHERE disabled_at IS NULL ORDER BY id',
  );
  return rows
    .map((r) => ({ id: r.id, role: r.role, org: r.org_code }))
    .filter((user) => ROLE_TIERS[user.role] === 'record-level');
}

/**
 * Users grouped by the schema their workspace lives in. Members of one group share the use
 * case, the record-level tier and (providers) the organisation — everything the policy decides
 * from besides membership, which `readableUseCases` has checked — so one plan serves them all.
 */
async function schemaGroups(q: Queryable, users: ReadUser[]): Promise<SchemaGroup[]> {
  const groups = new Map<string, SchemaGroup>();
  for (const user of users) {
    for (const useCase of await readableUseCases(q, user)) {
      const name = schemaName(useCase.id, user);
      const group = groups.get(name) ?? { name, useCaseId: useCase.id, members: [] };
      group.members.push(user);
      groups.set(name, group);
    }
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}

async function ensureOwnerRole(tx: Queryable): Promise<void> {
  // Two databases on one server may run this at once: the loser of the race moves on.
  await tx.exec(`DO $$ BEGIN
      CREATE ROLE ${WORKSPACE_OWNER_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`);
  await tx.exec(`GRANT ${WORKSPACE_OWNER_ROLE} TO CURRENT_USER`);
}

/**
 * Drops every workspace schema of this database but the snapshot schema `keep`: what stands
 * after is made from the policy afresh.
 */
async function dropWorkspaceSchemas(tx: Queryable, keep: string): Promise<void> {
  const existing = await tx.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace
     WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = $1)
       AND (nspname LIKE 'ws\\_%' OR nspname LIKE $2) AND nspname <> $3`,
    [WORKSPACE_OWNER_ROLE, `${DATA_SCHEMA_PREFIX.replace(/_/g, '\\_')}%`, keep],
  );
  for (const { name } of existing) await tx.exec(`DROP SCHEMA ${quoteIdentifier(name)} CASCADE`);
}

/** A new schema for this provisioning's snapshot tables, owned by the view owner, granted to no login. */
async function createDataSchema(tx: Queryable, version: string): Promise<string> {
  const name = `${DATA_SCHEMA_PREFIX}${randomBytes(6).toString('hex')}`;
  await tx.exec(`CREATE SCHEMA ${quoteIdentifier(name)} AUTHORIZATION ${WORKSPACE_OWNER_ROLE}`);
  await tx.exec(`REVOKE ALL ON SCHEMA ${quoteIdentifier(name)} FROM PUBLIC`);
  await tx.exec(
    `COMMENT ON SCHEMA ${quoteIdentifier(name)} IS ${quoteLiteral(`kernel workspace snapshots; version ${version}`)}`,
  );
  return name;
}

/** A view's snapshot table, named by its SQL: schemas whose views are the same SQL share one. */
const snapshotTable = (dataSchema: string, view: WorkspacePlan['views'][number]): string =>
  `${quoteIdentifier(dataSchema)}.${quoteIdentifier(`${view.name}_${createHash('sha256').update(view.sql).digest('hex').slice(0, 16)}`)}`;

/**
 * Writes each view's rows into a snapshot table, unless another schema's view of the same SQL
 * has (`written`), analysed so the planner knows its size at once.
 */
async function writeSnapshots(
  tx: Queryable,
  dataSchema: string,
  plan: WorkspacePlan,
  written: Set<string>,
): Promise<void> {
  for (const view of plan.views) {
    const table = snapshotTable(dataSchema, view);
    if (written.has(table)) continue;
    written.add(table);
    await tx.exec(`CREATE TABLE ${table} AS SELECT * FROM ${view.sql} AS governed`);
    await tx.exec(`ALTER TABLE ${table} OWNER TO ${WORKSPACE_OWNER_ROLE}`);
    await tx.exec(`ANALYZE ${table}`);
  }
}

async function createSchema(
  tx: Queryable,
  dataSchema: string,
  name: string,
  plan: WorkspacePlan,
): Promise<void> {
  const schema = quoteIdentifier(name);
  await tx.exec(`CREATE SCHEMA ${schema} AUTHORIZATION ${WORKSPACE_OWNER_ROLE}`);
  await tx.exec(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
  for (const view of plan.views) {
    const qualified = `${schema}.${quoteIdentifier(view.name)}`;
    // The whole snapshot table: no condition that a leaky function could get round (see the top).
    await tx.exec(`CREATE VIEW ${qualified} AS SELECT * FROM ${snapshotTable(dataSchema, view)}`);
    await tx.exec(`ALTER VIEW ${qualified} OWNER TO ${WORKSPACE_OWNER_ROLE}`);
  }
}

/** This database's workspace logins, by role name → user id, from the comments they carry. */
async function existingLogins(tx: Queryable, database: string): Promise<Map<string, string>> {
  const rows = await tx.query<{ role: string; note: string | null }>(
    `SELECT rolname AS role, shobj_description(oid, 'pg_authid') AS note FROM pg_roles WHERE rolname LIKE $1`,
    [`${LOGIN_PREFIX}%`],
  );
  const logins = new Map<string, string>();
  for (const { role, note } of rows) {
    const match = /^kernel workspace login; database (\S+); user (\S+)$/.exec(note ?? '');
    if (match && match[1] === database) logins.set(role, match[2] as string);
  }
  return logins;
}

function loginComment(database: string, userId: string): string {
  return `kernel workspace login; database ${database}; user ${userId}`;
}

const ROLE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS';

/** Creates or updates one login; answers its new password when it made the role. */
async function syncLogin(
  tx: Queryable,
  login: { role: string; userId: string; schemas: string[]; exists: boolean },
  database: string,
  limits: PostgresLoginLimits,
): Promise<string | null> {
  const role = quoteIdentifier(login.role);
  let password: string | null = null;
  if (login.exists) {
    await tx.exec(`ALTER ROLE ${role} ${ROLE_ATTRIBUTES} CONNECTION LIMIT ${limits.connections}`);
  } else {
    password = newLoginPassword();
    await execQuietly(
      tx,
      `CREATE ROLE ${role} ${ROLE_ATTRIBUTES} CONNECTION LIMIT ${limits.connections} PASSWORD ${quoteLiteral(scramVerifier(password))}`,
      `create the login ${login.role}`,
    );
  }
  await tx.exec(`COMMENT ON ROLE ${role} IS ${quoteLiteral(loginComment(database, login.userId))}`);
  const settings: [string, string][] = [
    ['statement_timeout', `${limits.seconds}s`],
    ['idle_in_transaction_session_timeout', `${limits.idleInTransactionSeconds}s`],
    ['default_transaction_read_only', 'on'],
    // Analysts' SQL runs once, over a few million rows: compiling it (JIT) cost 0.25 s a
    // query on a quiet two-core machine and 0.7 s on a busy one (bench/workspace), more than
    // it saved. A session that wants it may SET jit = on.
    ['jit', 'off'],
    ['work_mem', limits.workMemory],
    ['search_path', login.schemas.map(quoteIdentifier).join(', ')],
  ];
  for (const [name, value] of settings) {
    const literal = name === 'search_path' ? value : quoteLiteral(value);
    await tx.exec(`ALTER ROLE ${role} SET ${name} = ${literal}`);
  }
  for (const schema of login.schemas.map(quoteIdentifier)) {
    await tx.exec(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await tx.exec(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  }
  return password;
}

/** Ends a login's sessions and removes it; one that still holds rights elsewhere can only be barred. */
async function removeLogin(tx: Queryable, role: string): Promise<void> {
  await tx.exec(`ALTER ROLE ${quoteIdentifier(role)} NOLOGIN`);
  await tx.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
  await tx.exec(`SAVEPOINT drop_login`);
  try {
    await tx.exec(`DROP ROLE ${quoteIdentifier(role)}`);
    await tx.exec(`RELEASE SAVEPOINT drop_login`);
  } catch {
    await tx.exec(`ROLLBACK TO SAVEPOINT drop_login`);
  }
}

async function connectionDetails(q: Queryable, options: ProvisionOptions): Promise<WorkspaceConnection> {
  const [server] = await q.query<{ host: string | null; port: number | null; database: string }>(
    'SELECT host(inet_server_addr()) AS host, inet_server_port() AS port, current_database() AS database',
  );
  return {
    host: options.host ?? server?.host ?? 'localhost',
    port: options.port ?? server?.port ?? 5432,
    database: server?.database ?? '',
  };
}

/**
 * (Re)creates every workspace schema and login from the current use cases and users, in one
 * transaction; see the top of this file. Answers the connection details, each login (with a
 * password only where it was made now), and what the policy refused.
 */
export async function provisionPostgresWorkspaces(
  store: Store,
  options: ProvisionOptions,
): Promise<ProvisionedWorkspaces> {
  requirePostgres(store);
  const limits = { ...DEFAULT_POSTGRES_LOGIN_LIMITS, ...options.limits };
  const connection = await connectionDetails(store, options);
  return store.transaction(async (tx) => {
    const version = await workspaceVersion(tx);
    const groups = await schemaGroups(tx, await workspaceUsers(tx));
    const schemas: WorkspaceSchema[] = [];
    const refused: ProvisionedWorkspaces['refused'] = [];
    await ensureOwnerRole(tx);
    // The owner reads its snapshots alone: any grant an earlier design gave it on the warehouse goes.
    await tx.exec(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${WORKSPACE_OWNER_ROLE}`);
    // The snapshots are written first, while the old views still answer; the swap comes after.
    const dataSchema = await createDataSchema(tx, version);
    const planned: { group: SchemaGroup; plan: WorkspacePlan }[] = [];
    const written = new Set<string>();
    for (const group of groups) {
      const access = { user: group.members[0] as ReadUser, useCaseId: group.useCaseId, actor: options.actor };
      const plan = await planOrRefusal(tx, access);
      if (typeof plan === 'string') {
        refused.push({ schema: group.name, useCaseId: group.useCaseId, reason: plan });
        continue;
      }
      await writeSnapshots(tx, dataSchema, plan, written);
      planned.push({ group, plan });
    }
    await dropWorkspaceSchemas(tx, dataSchema);
    for (const { group, plan } of planned) {
      await createSchema(tx, dataSchema, group.name, plan);
      schemas.push({
        name: group.name,
        useCaseId: group.useCaseId,
        views: plan.views.map((v) => v.name),
        users: group.members.map((m) => m.id),
      });
    }
    await tx.exec(`REVOKE TEMPORARY ON DATABASE ${quoteIdentifier(connection.database)} FROM PUBLIC`);
    await tx.exec(`GRANT TEMPORARY ON DATABASE ${quoteIdentifier(connection.database)} TO CURRENT_USER`);
    const { logins, removed } = await syncLogins(tx, schemas, connection.database, limits);
    await appendAudit(tx, {
      actor: options.actor,
      action: 'workspace.provisioned',
      target: `database:${connection.database}`,
      details: {
        engine: 'postgres',
        schemas: schemas.map((s) => s.name),
        logins: logins.length,
        created: logins.filter((l) => l.password !== null).length,
        removed: removed.length,
        refused: refused.map((r) => r.schema),
      },
    });
    return { connection, schemas, logins, refused, removed };
  });
}

/** The workspace version the standing snapshots were made under, or null before the first provisioning. */
export async function provisionedVersion(q: Queryable): Promise<string | null> {
  const rows = await q.query<{ note: string | null }>(
    `SELECT obj_description(n.oid, 'pg_namespace') AS note FROM pg_namespace n
     WHERE n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = $1) AND n.nspname LIKE $2`,
    [WORKSPACE_OWNER_ROLE, `${DATA_SCHEMA_PREFIX.replace(/_/g, '\\_')}%`],
  );
  const match = /version (\S+)$/.exec(rows[0]?.note ?? '');
  return match ? (match[1] as string) : null;
}

/**
 * Provisions the workspaces again when anything their snapshots were made from has changed
 * (workspace-version.ts): a new load, sign-off, opt-out list, link run or KID build, a change
 * to the policy, a new day. Answers null when they are current. Meant to run on an interval
 * beside `stopOverrunningWorkspaceQueries`; a login it makes for a new user gets a password
 * no one has seen, so that user asks for `kernel workspace reset-login`.
 */
export async function refreshPostgresWorkspaces(
  store: Store,
  options: ProvisionOptions,
): Promise<ProvisionedWorkspaces | null> {
  requirePostgres(store);
  const standing = await provisionedVersion(store);
  if (standing === null || standing === (await workspaceVersion(store))) return null;
  return provisionPostgresWorkspaces(store, options);
}

/** The plan, or the policy's reason for refusing it (already audited by the policy). */
async function planOrRefusal(
  tx: Queryable,
  access: { user: ReadUser; useCaseId: string; actor: string },
): Promise<WorkspacePlan | string> {
  try {
    return await planWorkspace(tx, access);
  } catch (error) {
    if (error instanceof KernelError && error.code === 'forbidden') return error.message;
    throw error;
  }
}

async function syncLogins(
  tx: Queryable,
  schemas: WorkspaceSchema[],
  database: string,
  limits: PostgresLoginLimits,
): Promise<{ logins: WorkspaceLogin[]; removed: string[] }> {
  const existing = await existingLogins(tx, database);
  const wanted = new Map<string, string[]>();
  for (const schema of schemas) {
    for (const userId of schema.users) wanted.set(userId, [...(wanted.get(userId) ?? []), schema.name]);
  }
  const logins: WorkspaceLogin[] = [];
  for (const [userId, userSchemas] of wanted) {
    const role = loginRoleName(userId);
    const exists = existing.has(role);
    const password = await syncLogin(tx, { role, userId, schemas: userSchemas, exists }, database, limits);
    logins.push({ userId, role, schemas: userSchemas, password });
  }
  const kept = new Set(logins.map((l) => l.role));
  const removed = [...existing.keys()].filter((role) => !kept.has(role)).sort();
  for (const role of removed) await removeLogin(tx, role);
  return { logins, removed };
}

/**
 * Gives a user's login a new password and answers it (once), for a user who lost theirs.
 * Audited without the password.
 */
export async function resetWorkspacePassword(
  store: Store,
  userId: string,
  options: Pick<ProvisionOptions, 'actor' | 'host' | 'port'>,
): Promise<WorkspaceLogin & { connection: WorkspaceConnection }> {
  requirePostgres(store);
  const connection = await connectionDetails(store, options);
  const role = loginRoleName(userId);
  return store.transaction(async (tx) => {
    if (!(await existingLogins(tx, connection.database)).has(role)) {
      throw new KernelError('not-found', `User ${userId} has no workspace login`, {
        hint: 'Logins are made for users of an active use case by provisioning the workspaces',
      });
    }
    const password = newLoginPassword();
    await execQuietly(
      tx,
      `ALTER ROLE ${quoteIdentifier(role)} PASSWORD ${quoteLiteral(scramVerifier(password))}`,
      `set the password of ${role}`,
    );
    const [settings] = await tx.query<{ path: string | null }>(
      `SELECT (SELECT substring(s FROM 'search_path=(.*)') FROM unnest(rolconfig) s WHERE s LIKE 'search\\_path=%') AS path
       FROM pg_roles WHERE rolname = $1`,
      [role],
    );
    await appendAudit(tx, {
      actor: options.actor,
      action: 'workspace.password-reset',
      target: `user:${userId}`,
      details: { engine: 'postgres', role },
    });
    const schemas = (settings?.path ?? '').split(/,\s*/).filter(Boolean);
    return { userId, role, schemas: schemas.map((s) => s.replace(/^"|"$/g, '')), password, connection };
  });
}

/**
 * Cancels every workspace login's statement that has run longer than `seconds`: the time
 * limit a user cannot SET away. Answers how many were cancelled.
 */
export async function stopOverrunningWorkspaceQueries(store: Store, seconds: number): Promise<number> {
  requirePostgres(store);
  const [database] = await store.query<{ name: string }>('SELECT current_database() AS name');
  const roles = [...(await existingLogins(store, database?.name ?? '')).keys()];
  if (roles.length === 0) return 0;
  const overrunning = await store.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND state = 'active' AND usename = ANY($1::text[])
       AND now() - query_start > make_interval(secs => $2)`,
    [`{${roles.join(',')}}`, seconds],
  );
  // Cancelled one by one after choosing: in a WHERE clause, PostgreSQL may call
  // pg_cancel_backend before the conditions that choose the row (even on its own session).
  let cancelled = 0;
  for (const { pid } of overrunning) {
    const [row] = await store.query<{ ok: boolean }>('SELECT pg_cancel_backend($1) AS ok', [pid]);
    if (row?.ok) cancelled++;
  }
  return cancelled;
}
