import { appendAudit } from '../../audit/audit-log.ts';
import type { Store } from '../../store/store.ts';
import type { Principal } from '../routes.ts';
import { randomSecret, sha256 } from './secrets.ts';
import { activeAccount, principalFor, userColumns, type UserRow } from './user-accounts.ts';

/** A working day: OWASP Session Management suggests short absolute lifetimes for sensitive data. */
export const SESSION_HOURS = 8;

export interface OpenSession {
  principal: Principal;
  /** the synchronizer token every form of this session must carry (OWASP CSRF Cheat Sheet) */
  csrfToken: string;
}

/**
 * Starts a session: the random id goes in the cookie; the store keeps only its SHA-256,
 * with the session's CSRF token.
 */
export async function createSession(
  store: Store,
  userId: string,
  now: Date = new Date(),
): Promise<{ sessionId: string; csrfToken: string }> {
  const sessionId = randomSecret();
  const csrfToken = randomSecret();
  await store.run(
    'INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [
      sha256(sessionId),
      userId,
      csrfToken,
      now.toISOString(),
      new Date(now.getTime() + SESSION_HOURS * 3_600_000).toISOString(),
    ],
  );
  return { sessionId, csrfToken };
}

/** The session a cookie names, or undefined when it is unknown, expired or its account gone. */
export async function readSession(
  store: Store,
  sessionId: string,
  now: Date = new Date(),
): Promise<OpenSession | undefined> {
  // One statement per request: the session and its account together.
  const [row] = await store.query<UserRow & { csrf_token: string; expires_at: string }>(
    `SELECT s.csrf_token, s.expires_at, ${userColumns('u')}
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
    [sha256(sessionId)],
  );
  if (!row || row.expires_at <= now.toISOString()) return undefined;
  const user = activeAccount(row);
  return user ? { principal: principalFor(user, 'session'), csrfToken: row.csrf_token } : undefined;
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
