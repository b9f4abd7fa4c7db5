import { appendAudit } from '../../audit/audit-log.ts';
import type { Store } from '../../store/store.ts';
import { checkSecondFactor, enrolAuthenticator, recoveryCodesLeft } from './second-factor.ts';
import { randomSecret, sha256 } from './secrets.ts';
import { newTotpSecret } from './totp.ts';
import { activeAccount, userColumns, type UserAccount, type UserRow } from './user-accounts.ts';

/**
 * A sign-in between the password and the second factor. It is deliberately not a session:
 * it gives no principal, so no page, API route or guard rule can mistake it for one; the
 * second-factor page alone reads it. Only the SHA-256 of its id is stored, as for sessions.
 */
export const PENDING_MINUTES = 10;
/** Wrong codes one pending sign-in may take before the person must give the password again. */
export const PENDING_TRIES = 5;
/**
 * Wrong codes an account may take across its live pending sign-ins (each lives
 * `PENDING_MINUTES`). Without it, someone holding the password could start sign-in after
 * sign-in, five guesses each; with it they get this many guesses per ten minutes, about two
 * hundred days on average to hit one of the three codes a six-digit window accepts
 * (RFC 4226 §7.3 asks for such throttling).
 */
export const ACCOUNT_CODE_FAILURES = 10;

export interface PendingSignIn {
  user: UserAccount;
  /** the secret being enrolled, for an account with no authenticator yet */
  enrolSecret: string | null;
}

/**
 * Starts the second step for an account whose password (or provider) was accepted; answers
 * its id, or undefined while the account has had `ACCOUNT_CODE_FAILURES` wrong codes in its
 * live pending sign-ins (the caller answers as for a wrong password).
 */
export async function startPendingSignIn(
  store: Store,
  userId: string,
  enrolling: boolean,
  now: Date = new Date(),
): Promise<string | undefined> {
  const [recent] = await store.query<{ n: number | string | null }>(
    'SELECT sum(failures) AS n FROM pending_sign_ins WHERE user_id = $1 AND expires_at > $2',
    [userId, now.toISOString()],
  );
  if (Number(recent?.n ?? 0) >= ACCOUNT_CODE_FAILURES) {
    await store.transaction((tx) =>
      appendAudit(tx, {
        actor: 'anonymous',
        action: 'auth.failed',
        target: `user:${userId}`,
        details: { reason: 'second-factor-throttled' },
      }),
    );
    return undefined;
  }
  const id = randomSecret();
  await store.run(
    `INSERT INTO pending_sign_ins (id_hash, user_id, created_at, expires_at, failures, enrol_secret)
     VALUES ($1, $2, $3, $4, 0, $5)`,
    [
      sha256(id),
      userId,
      now.toISOString(),
      new Date(now.getTime() + PENDING_MINUTES * 60_000).toISOString(),
      enrolling ? newTotpSecret() : null,
    ],
  );
  return id;
}

/** The pending sign-in a cookie names, or undefined when unknown, expired or its account disabled. */
export async function readPendingSignIn(
  store: Store,
  id: string,
  now: Date = new Date(),
): Promise<PendingSignIn | undefined> {
  const [row] = await store.query<
    UserRow & { expires_at: string; enrol_secret: string | null; pending_failures: number }
  >(
    `SELECT p.expires_at, p.enrol_secret, p.failures AS pending_failures, ${userColumns('u')}
       FROM pending_sign_ins p JOIN users u ON u.id = p.user_id WHERE p.id_hash = $1`,
    [sha256(id)],
  );
  if (!row || row.expires_at <= now.toISOString() || Number(row.pending_failures) >= PENDING_TRIES) {
    return undefined;
  }
  const user = activeAccount(row);
  return user ? { user, enrolSecret: row.enrol_secret } : undefined;
}

/**
 * Counts a wrong code; answers true when that was the last try. The row stays, used up, until
 * it expires, so its failures still count against the account (`ACCOUNT_CODE_FAILURES`).
 */
export async function failPendingSignIn(store: Store, id: string): Promise<boolean> {
  const [row] = await store.query<{ failures: number }>(
    'UPDATE pending_sign_ins SET failures = failures + 1 WHERE id_hash = $1 RETURNING failures',
    [sha256(id)],
  );
  return Number(row?.failures ?? PENDING_TRIES) >= PENDING_TRIES;
}

export async function endPendingSignIn(store: Store, id: string, now: Date = new Date()): Promise<void> {
  // Expired ones go too: nothing else sweeps the table.
  await store.run('DELETE FROM pending_sign_ins WHERE id_hash = $1 OR expires_at <= $2', [
    sha256(id),
    now.toISOString(),
  ]);
}

export type SecondFactorOutcome =
  | {
      ok: true;
      user: UserAccount;
      secondFactor: 'totp' | 'recovery-code';
      /** the new recovery codes, once, when this completed an enrolment */
      recoveryCodes?: string[];
    }
  /** `expired`: no pending sign-in (or its tries are used up): give the password again */
  | { ok: false; reason: 'wrong' | 'expired' };

/**
 * The second step of a sign-in: a code from the authenticator (enrolling it, when the pending
 * sign-in carries a new secret) or a recovery code. Audited: `auth.second-factor` with how it
 * was given, or `auth.failed` (reason `second-factor`) — never the code. On success the
 * pending sign-in ends and the caller starts the session.
 */
export async function giveSecondFactor(
  store: Store,
  pendingId: string,
  typed: string,
  now: Date = new Date(),
): Promise<SecondFactorOutcome> {
  const pending = await readPendingSignIn(store, pendingId, now);
  if (!pending) return { ok: false, reason: 'expired' };
  const { user } = pending;
  const actor = `user:${user.email}`;
  let outcome: SecondFactorOutcome;
  if (pending.enrolSecret !== null) {
    const recoveryCodes = await enrolAuthenticator(store, user.id, pending.enrolSecret, typed, actor, now);
    outcome = recoveryCodes
      ? { ok: true, user, secondFactor: 'totp', recoveryCodes }
      : { ok: false, reason: 'wrong' };
  } else {
    const secondFactor = await checkSecondFactor(store, user.id, typed, now);
    outcome = secondFactor ? { ok: true, user, secondFactor } : { ok: false, reason: 'wrong' };
  }
  if (outcome.ok) {
    await endPendingSignIn(store, pendingId, now);
    const left =
      outcome.secondFactor === 'recovery-code' ? await recoveryCodesLeft(store, user.id) : undefined;
    await store.transaction((tx) =>
      appendAudit(tx, {
        actor,
        action: 'auth.second-factor',
        target: `user:${user.id}`,
        details: { method: outcome.secondFactor, ...(left === undefined ? {} : { recoveryCodesLeft: left }) },
      }),
    );
    return outcome;
  }
  const lastTry = await failPendingSignIn(store, pendingId);
  await store.transaction((tx) =>
    appendAudit(tx, {
      actor: 'anonymous',
      action: 'auth.failed',
      target: `user:${user.id}`,
      details: { reason: 'second-factor', ...(lastTry ? { pendingEnded: true } : {}) },
    }),
  );
  return { ok: false, reason: lastTry ? 'expired' : 'wrong' };
}
