import { appendAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import type { Principal } from '../routes.ts';
import { randomSecret, sha256 } from './secrets.ts';
import { activeAccount, principalFor, userColumns, type UserRow } from './user-accounts.ts';

/**
 * How long a session lives. OWASP Session Management Cheat Sheet: an idle timeout of 15–30
 * minutes for an application holding sensitive data, and an absolute one however busy the
 * session is (a working day here). Either ends the session; the person signs in again.
 */
export interface SessionLimits {
  idleMinutes: number;
  absoluteHours: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMinutes: 30, absoluteHours: 8 };

/** The absolute lifetime by default, for the cookie's Max-Age. */
export const SESSION_HOURS = DEFAULT_SESSION_LIMITS.absoluteHours;

/**
 * The limits a configuration sets (`sessionIdleMinutes`, `sessionHours`), each falling back to
 * its default: read by shape, so a configuration without them keeps the defaults.
 */
export function sessionLimitsFrom(config: object): SessionLimits {
  const set = config as { sessionIdleMinutes?: unknown; sessionHours?: unknown };
  const positive = (value: unknown, fallback: number) =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
  return {
    idleMinutes: positive(set.sessionIdleMinutes, DEFAULT_SESSION_LIMITS.idleMinutes),
    absoluteHours: positive(set.sessionHours, DEFAULT_SESSION_LIMITS.absoluteHours),
  };
}

// A session's last use is written at most once a minute, not on every request.
const TOUCH_EVERY_MS = 60_000;

export interface OpenSession {
  principal: Principal;
  /** the synchronizer token every form of this session must carry (OWASP CSRF Cheat Sheet) */
  csrfToken: string;
}

export interface NewSessionOptions {
  /** how the second factor was given ('totp', 'recovery-code'), or absent for none */
  secondFactor?: string | undefined;
  /** the browser, for the person's list of sessions ("Chrome on Linux") */
  label?: string | undefined;
  limits?: SessionLimits;
}

/**
 * Starts a session for someone whose sign-in is complete: every factor their account needs
 * has been checked by the caller (the sign-in pages call it only then). The random id goes
 * in the cookie; the store keeps only its SHA-256, with the session's CSRF token.
 */
export async function createSession(
  store: Store,
  userId: string,
  now: Date = new Date(),
  options: NewSessionOptions = {},
): Promise<{ sessionId: string; csrfToken: string }> {
  const sessionId = randomSecret();
  const csrfToken = randomSecret();
  const limits = options.limits ?? DEFAULT_SESSION_LIMITS;
  await store.run(
    `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, last_seen_at, second_factor, label)
     VALUES ($1, $2, $3, $4, $5, $4, $6, $7)`,
    [
      sha256(sessionId),
      userId,
      csrfToken,
      now.toISOString(),
      new Date(now.getTime() + limits.absoluteHours * 3_600_000).toISOString(),
      options.secondFactor ?? null,
      options.label ?? null,
    ],
  );
  return { sessionId, csrfToken };
}

/**
 * The session a cookie names, or undefined when it is unknown, past its absolute lifetime,
 * idle too long, or its account gone. A session found ended by time is deleted.
 */
export async function readSession(
  store: Store,
  sessionId: string,
  now: Date = new Date(),
  limits: SessionLimits = DEFAULT_SESSION_LIMITS,
): Promise<OpenSession | undefined> {
  const idHash = sha256(sessionId);
  // One statement per request: the session and its account together.
  const [row] = await store.query<
    UserRow & {
      csrf_token: string;
      expires_at: string;
      session_created_at: string;
      last_seen_at: string | null;
    }
  >(
    `SELECT s.csrf_token, s.expires_at, s.created_at AS session_created_at, s.last_seen_at, ${userColumns('u')}
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
    [idHash],
  );
  if (!row) return undefined;
  const lastSeen = Date.parse(row.last_seen_at ?? row.session_created_at);
  const absoluteEnd = Math.min(
    Date.parse(row.expires_at),
    Date.parse(row.session_created_at) + limits.absoluteHours * 3_600_000,
  );
  if (absoluteEnd <= now.getTime() || lastSeen + limits.idleMinutes * 60_000 <= now.getTime()) {
    await store.run('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    return undefined;
  }
  const user = activeAccount(row);
  if (!user) return undefined;
  if (now.getTime() - lastSeen >= TOUCH_EVERY_MS) {
    await store.run('UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1', [idHash, now.toISOString()]);
  }
  return { principal: principalFor(user, 'session'), csrfToken: row.csrf_token };
}

export interface SessionInfo {
  /** the SHA-256 the store keeps: names the session without being able to open it */
  handle: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  secondFactor: string | null;
  label: string | null;
}

/** An account's sessions, newest first (ended ones are not listed). */
export async function listSessions(
  store: Store,
  userId: string,
  now: Date = new Date(),
  limits: SessionLimits = DEFAULT_SESSION_LIMITS,
): Promise<SessionInfo[]> {
  const rows = await store.query<{
    id_hash: string;
    created_at: string;
    last_seen_at: string | null;
    expires_at: string;
    second_factor: string | null;
    label: string | null;
  }>(
    `SELECT id_hash, created_at, last_seen_at, expires_at, second_factor, label
       FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id_hash`,
    [userId],
  );
  return rows
    .map((r) => ({
      handle: r.id_hash,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at ?? r.created_at,
      expiresAt: new Date(
        Math.min(Date.parse(r.expires_at), Date.parse(r.created_at) + limits.absoluteHours * 3_600_000),
      ).toISOString(),
      secondFactor: r.second_factor,
      label: r.label,
    }))
    .filter(
      (s) =>
        Date.parse(s.expiresAt) > now.getTime() &&
        Date.parse(s.lastSeenAt) + limits.idleMinutes * 60_000 > now.getTime(),
    );
}

/** The handle of the session a cookie names, to mark "this session" in the list. */
export function sessionHandle(sessionId: string): string {
  return sha256(sessionId);
}

/** Ends one of the account's own sessions by its handle (`auth.signed-out`, how: 'listed'). */
export async function endSessionByHandle(
  store: Store,
  userId: string,
  handle: string,
  actor: string,
): Promise<void> {
  await store.transaction(async (tx) => {
    const ended = await tx.run('DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2', [handle, userId]);
    if (ended === 0) {
      throw new KernelError('not-found', 'That session has ended already', {
        hint: 'Reload the list of your sessions',
      });
    }
    await appendAudit(tx, {
      actor,
      action: 'auth.signed-out',
      target: `user:${userId}`,
      details: { how: 'from-session-list' },
    });
  });
}

/** Signs the account out everywhere: every session ends (`auth.signed-out-everywhere`). */
export async function endAllSessions(store: Store, userId: string, actor: string): Promise<number> {
  return store.transaction(async (tx) => {
    const sessionsEnded = await tx.run('DELETE FROM sessions WHERE user_id = $1', [userId]);
    await appendAudit(tx, {
      actor,
      action: 'auth.signed-out-everywhere',
      target: `user:${userId}`,
      details: { sessionsEnded },
    });
    return sessionsEnded;
  });
}

/** Ends a session and audits `auth.signed-out`. */
export async function endSession(store: Store, sessionId: string, principal: Principal): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.run('DELETE FROM sessions WHERE id_hash = $1', [sha256(sessionId)]);
    await appendAudit(tx, {
      actor: `user:${principal.email}`,
      action: 'auth.signed-out',
      target: `user:${principal.userId}`,
    });
  });
}

/**
 * A short name for the browser from its User-Agent ("Firefox on Windows"), for the list of
 * sessions. The header itself is not kept: it fingerprints, and the list needs only this.
 */
export function browserLabel(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'A browser';
  const system = /Windows/.test(ua)
    ? 'Windows'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Android/.test(ua)
        ? 'Android'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'an unknown system';
  return `${browser} on ${system}`;
}
