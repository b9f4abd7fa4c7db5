/**
 * Governed SQL on the embedded store: each analyst's workspace session, its snapshot and its
 * sandbox, kept while the policy and the data they were made from stand.
 *
 * ```ts
 * const workspaces = new DuckDBWorkspaces(store);
 * const access = { user: { id: 'u_1', role: 'analyst', org: null }, useCaseId: 'UC-001' };
 * const { views } = await workspaces.open(access); // msds_booking, msds_delivery…
 * const result = await workspaces.query(access, 'SELECT count(*) AS n FROM msds_booking');
 * ```
 *
 * Opening a session plans the workspace (workspace-plan.ts: the policy decides and audits each
 * dataset), writes its snapshot (duckdb-snapshot.ts) and connects to a locked-down sandbox on
 * it (duckdb-sandbox.ts). Before every query the workspace version (workspace-version.ts) is
 * read again: if anything it was made from has changed, the session is planned afresh, so a
 * revoked use case refuses the very next query. Users whose views are the same SQL (analysts
 * of one use case) share one snapshot; each session has its own connection, so one analyst's
 * interrupted query stops no one else's. Every query is audited (query-audit.ts).
 */
import { createHash } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { ReadAccess } from '../governance/access-policy.ts';
import { inTransaction } from '../governance/governance-values.ts';
import type { Store } from '../store/store.ts';
import { DuckDBSandbox, type SandboxConnection, type WorkspaceResult } from './duckdb-sandbox.ts';
import { removeSnapshot, writeSnapshot, type SnapshotFiles } from './duckdb-snapshot.ts';
import { auditWorkspaceQuery } from './query-audit.ts';
import { DEFAULT_WORKSPACE_LIMITS, type WorkspaceLimits } from './workspace-limits.ts';
import {
  planWorkspace,
  type UnavailableDataset,
  type WorkspacePlan,
  type WorkspaceView,
} from './workspace-plan.ts';
import { workspaceVersion } from './workspace-version.ts';

export interface WorkspaceOptions {
  limits?: Partial<WorkspaceLimits>;
  /** where snapshots are written (an owner-only folder is made inside); the system's temp folder by default */
  scratchDir?: string;
  /** a session unused this long is closed, and its snapshot removed once no session uses it */
  idleMinutes?: number;
}

/** What a workspace offers, for the editor's side panel: views and their columns, and what is missing and why. */
export interface WorkspaceSummary {
  useCase: WorkspacePlan['useCase'];
  views: Pick<WorkspaceView, 'name' | 'kind' | 'datasetId' | 'columns' | 'controllers' | 'kid'>[];
  unavailable: UnavailableDataset[];
}

interface SharedSnapshot {
  key: string;
  files: SnapshotFiles;
  sandbox: DuckDBSandbox;
  sessions: number;
}

interface Session {
  version: string;
  plan: WorkspacePlan;
  snapshot: SharedSnapshot;
  connection: SandboxConnection;
  lastUsed: number;
}

/**
 * Another form of a user's workspace, with the same views made differently: the one an output
 * request's query runs in holds pseudonyms in place of tokens and record keys
 * (src/outputs/output-workspace.ts). It has its own sessions and snapshot.
 */
export interface WorkspaceVariant {
  /** names the variant in its sessions' keys */
  name: string;
  views(views: WorkspaceView[]): WorkspaceView[];
}

/** A session is per user, as the policy sees them (role and organisation), per use case and per variant. */
function sessionKey(access: ReadAccess, variant: WorkspaceVariant | undefined): string {
  const { user } = access;
  return JSON.stringify([user.id, user.role, user.org, access.useCaseId, variant?.name ?? null]);
}

/** Sessions whose views are the same SQL, under the same version, share a snapshot. */
function snapshotKey(version: string, plan: WorkspacePlan): string {
  const hash = createHash('sha256').update(version);
  for (const view of plan.views) hash.update(`\n${view.name}\n${view.sql}`);
  return hash.digest('hex');
}

function summarise(plan: WorkspacePlan): WorkspaceSummary {
  return {
    useCase: plan.useCase,
    views: plan.views.map(({ name, kind, datasetId, columns, controllers, kid }) => ({
      name,
      kind,
      datasetId,
      columns,
      controllers,
      ...(kid ? { kid } : {}),
    })),
    unavailable: plan.unavailable,
  };
}

/** Runs work for one key at a time (one session's opening), other keys alongside. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export class DuckDBWorkspaces {
  private readonly limits: WorkspaceLimits;
  private readonly sessions = new Map<string, Session>();
  private readonly snapshots = new Map<string, SharedSnapshot>();
  private readonly opening = new KeyedLock();
  private readonly snapshotLock = new KeyedLock();

  constructor(
    private readonly store: Store,
    private readonly options: WorkspaceOptions = {},
  ) {
    if (store.dialect.name !== 'duckdb') {
      throw new KernelError('config', 'Workspace sandboxes are made from the embedded (DuckDB) store', {
        hint: 'On PostgreSQL, analysts connect with their own login: see provisionPostgresWorkspaces',
      });
    }
    this.limits = { ...DEFAULT_WORKSPACE_LIMITS, ...options.limits };
  }

  /** Opens (or reuses) the user's workspace on the use case; refuses as the access policy does. */
  async open(access: ReadAccess): Promise<WorkspaceSummary> {
    return summarise((await this.session(access)).plan);
  }

  /** Runs one SELECT in the user's workspace within its limits, and audits it whatever happens. */
  async query(access: ReadAccess, sql: string, variant?: WorkspaceVariant): Promise<WorkspaceResult> {
    const session = await this.session(access, variant);
    const started = performance.now();
    const record = {
      actor: access.actor ?? `user:${access.user.id}`,
      useCaseId: session.plan.useCase.id,
      engine: 'duckdb',
      sql,
    };
    try {
      const result = await session.connection.query(sql, this.limits);
      await auditWorkspaceQuery(this.store, {
        ...record,
        rows: result.rows.length,
        ms: result.ms,
        outcome: 'ok',
      });
      return result;
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const outcome = error instanceof KernelError ? error.code : 'internal';
      await auditWorkspaceQuery(this.store, { ...record, rows: null, ms, outcome });
      throw error;
    }
  }

  /** Closes every session and removes every snapshot (at shutdown). */
  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await this.release(session);
  }

  /** The user's session under the current workspace version, planned afresh if anything changed. */
  private session(access: ReadAccess, variant?: WorkspaceVariant): Promise<Session> {
    const key = sessionKey(access, variant);
    return this.opening.run(key, async () => {
      await this.closeIdle();
      const version = await workspaceVersion(this.store);
      const current = this.sessions.get(key);
      if (current?.version === version) {
        current.lastUsed = Date.now();
        return current;
      }
      if (current) {
        this.sessions.delete(key);
        await this.release(current);
      }
      const session = await this.openSession(access, version, variant);
      this.sessions.set(key, session);
      return session;
    });
  }

  private async openSession(
    access: ReadAccess,
    version: string,
    variant: WorkspaceVariant | undefined,
  ): Promise<Session> {
    const planned = await planWorkspace(this.store, access);
    const plan = variant ? { ...planned, views: variant.views(planned.views) } : planned;
    const snapshot = await this.acquireSnapshot(version, plan);
    try {
      const connection = await snapshot.sandbox.connect();
      await this.auditOpened(access, plan);
      return { version, plan, snapshot, connection, lastUsed: Date.now() };
    } catch (error) {
      await this.releaseSnapshot(snapshot);
      throw error;
    }
  }

  private async auditOpened(access: ReadAccess, plan: WorkspacePlan): Promise<void> {
    await inTransaction(this.store, (tx) =>
      appendAudit(tx, {
        actor: access.actor ?? `user:${access.user.id}`,
        action: 'workspace.opened',
        target: `usecase:${plan.useCase.id}`,
        purpose: plan.useCase.id,
        details: {
          engine: 'duckdb',
          role: access.user.role,
          views: plan.views.map((v) => v.name),
          unavailable: plan.unavailable.map((u) => u.datasetId),
        },
      }),
    );
  }

  /** Snapshots are made and dropped one at a time: simple, and two builds would only share two cores. */
  private acquireSnapshot(version: string, plan: WorkspacePlan): Promise<SharedSnapshot> {
    return this.snapshotLock.run('snapshots', async () => {
      const key = snapshotKey(version, plan);
      const existing = this.snapshots.get(key);
      if (existing) {
        existing.sessions++;
        return existing;
      }
      const made = await this.makeSnapshot(key, plan);
      this.snapshots.set(key, made);
      return made;
    });
  }

  private async makeSnapshot(key: string, plan: WorkspacePlan): Promise<SharedSnapshot> {
    const files = await writeSnapshot(this.store, plan.views, this.options.scratchDir);
    try {
      const names = plan.views.map((v) => v.name);
      const sandbox = await DuckDBSandbox.open(files.file, files.spillDir, names, this.limits);
      return { key, files, sandbox, sessions: 1 };
    } catch (error) {
      removeSnapshot(files);
      throw error;
    }
  }

  private async release(session: Session): Promise<void> {
    await session.connection.close();
    await this.releaseSnapshot(session.snapshot);
  }

  private releaseSnapshot(snapshot: SharedSnapshot): Promise<void> {
    return this.snapshotLock.run('snapshots', async () => {
      snapshot.sessions--;
      if (snapshot.sessions > 0) return;
      this.snapshots.delete(snapshot.key);
      snapshot.sandbox.close();
      removeSnapshot(snapshot.files);
    });
  }

  private async closeIdle(): Promise<void> {
    const cutoff = Date.now() - (this.options.idleMinutes ?? 30) * 60_000;
    for (const [key, session] of this.sessions) {
      if (session.lastUsed >= cutoff) continue;
      this.sessions.delete(key);
      await this.release(session);
    }
  }
}
