import { randomBytes } from 'node:crypto';
import { appendAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { Queryable, Store } from '../../store/store.ts';
import type { Role } from '../routes.ts';
import { sha256 } from './secrets.ts';
import { base32Encode, matchTotp } from './totp.ts';
import { activeAccountByEmail, type UserAccount } from './user-accounts.ts';

/**
 * The roles that read record-level data or approve something (issue 19): a password alone
 * never opens Kernel to them. Viewers and the programme team see only disclosure-controlled
 * aggregates and plans; they are asked for a second factor only once they have enrolled one.
 */
export const SECOND_FACTOR_ROLES: readonly Role[] = [
  'admin',
  'provider',
  'analyst',
  'ig-lead',
  'output-checker',
];

export const RECOVERY_CODE_COUNT = 10;

/** Whether the account has an authenticator enrolled. */
export async function hasAuthenticator(store: Queryable, userId: string): Promise<boolean> {
  const [row] = await store.query<{ n: number }>('SELECT count(*) AS n FROM user_totp WHERE user_id = $1', [
    userId,
  ]);
  return Number(row?.n ?? 0) > 0;
}

/** The ids of the accounts with an authenticator enrolled (for `kernel users list`). */
export async function accountsWithAuthenticator(store: Queryable): Promise<Set<string>> {
  const rows = await store.query<{ user_id: string }>('SELECT user_id FROM user_totp');
  return new Set(rows.map((r) => r.user_id));
}

/** Whether signing in to this account needs a second factor after the password. */
export async function needsSecondFactor(store: Queryable, user: UserAccount): Promise<boolean> {
  return SECOND_FACTOR_ROLES.includes(user.role) || (await hasAuthenticator(store, user.id));
}

/**
 * A recovery code: 80 random bits as 16 base32 letters in four groups (`abcd-efgh-ijkl-mnop`).
 * 80 bits leave nothing to search, so a fast hash is enough to keep it (as for API tokens).
 */
function newRecoveryCode(): string {
  return base32Encode(randomBytes(10)).toLowerCase().match(/.{4}/g)?.join('-') ?? '';
}

/** What a person typed, as the code it may be: lower case, without spaces or hyphens. */
function recoveryCodeHash(typed: string): string {
  return sha256(typed.replace(/[\s-]/g, '').toLowerCase());
}

async function replaceRecoveryCodes(tx: Queryable, userId: string, now: Date): Promise<string[]> {
  await tx.run('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  for (const code of codes) {
    await tx.run(
      'INSERT INTO recovery_codes (code_hash, user_id, created_at, used_at) VALUES ($1, $2, $3, NULL)',
      [recoveryCodeHash(code), userId, now.toISOString()],
    );
  }
  return codes;
}

/**
 * Enrols an authenticator once its first code proves the secret was copied: keeps the secret
 * (never shown again), makes new recovery codes and answers them, once. Audited as
 * `auth.mfa-enrolled` without the secret or the codes. Undefined when the code is wrong.
 */
export async function enrolAuthenticator(
  store: Store,
  userId: string,
  secret: string,
  code: string,
  actor: string,
  now: Date = new Date(),
): Promise<string[] | undefined> {
  const step = matchTotp(secret, code, now, null);
  if (step === undefined) return undefined;
  return store.transaction(async (tx) => {
    if (await hasAuthenticator(tx, userId)) {
      throw new KernelError('conflict', 'This account has an authenticator already', {
        hint: 'Sign in with it, or ask an administrator to reset it (kernel users reset-mfa)',
      });
    }
    await tx.run('INSERT INTO user_totp (user_id, secret, enrolled_at, last_step) VALUES ($1, $2, $3, $4)', [
      userId,
      secret,
      now.toISOString(),
      step,
    ]);
    const codes = await replaceRecoveryCodes(tx, userId, now);
    await appendAudit(tx, {
      actor,
      action: 'auth.mfa-enrolled',
      target: `user:${userId}`,
      details: { method: 'totp', recoveryCodes: codes.length },
    });
    return codes;
  });
}

/**
 * Checks a second factor: a code from the authenticator, or else an unused recovery code.
 * A code's time step is recorded in the same statement that accepts it, and a recovery code
 * is marked used the same way, so two requests racing with one code cannot both pass.
 * Answers how it was given, or undefined. The caller audits the outcome.
 */
export async function checkSecondFactor(
  store: Store,
  userId: string,
  typed: string,
  now: Date = new Date(),
): Promise<'totp' | 'recovery-code' | undefined> {
  const [row] = await store.query<{ secret: string; last_step: number | string | null }>(
    'SELECT secret, last_step FROM user_totp WHERE user_id = $1',
    [userId],
  );
  if (!row) return undefined;
  const lastStep = row.last_step === null ? null : Number(row.last_step);
  const step = matchTotp(row.secret, typed, now, lastStep);
  if (step !== undefined) {
    const taken = await store.run(
      'UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)',
      [userId, step],
    );
    return taken === 1 ? 'totp' : undefined;
  }
  if (/^\d[\d\s]*$/.test(typed.trim())) return undefined; // digits only: a TOTP code, not a recovery code
  const used = await store.run(
    'UPDATE recovery_codes SET used_at = $3 WHERE code_hash = $1 AND user_id = $2 AND used_at IS NULL',
    [recoveryCodeHash(typed), userId, now.toISOString()],
  );
  return used === 1 ? 'recovery-code' : undefined;
}

/** How many unused recovery codes the account has left. */
export async function recoveryCodesLeft(store: Queryable, userId: string): Promise<number> {
  const [row] = await store.query<{ n: number }>(
    'SELECT count(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL',
    [userId],
  );
  return Number(row?.n ?? 0);
}

/** New recovery codes in place of the old (all of which stop working), answered once. */
export async function renewRecoveryCodes(
  store: Store,
  userId: string,
  actor: string,
  now: Date = new Date(),
): Promise<string[]> {
  return store.transaction(async (tx) => {
    if (!(await hasAuthenticator(tx, userId))) {
      throw new KernelError('conflict', 'This account has no authenticator to go with recovery codes');
    }
    const codes = await replaceRecoveryCodes(tx, userId, now);
    await appendAudit(tx, {
      actor,
      action: 'auth.recovery-codes-renewed',
      target: `user:${userId}`,
      details: { recoveryCodes: codes.length },
    });
    return codes;
  });
}

/**
 * A lost or replaced device (`kernel users reset-mfa`): forgets the authenticator and the
 * recovery codes and ends the account's sessions and pending sign-ins, so whoever holds the
 * old device is out; at the next sign-in the person enrols a new one. Audited as
 * `auth.mfa-reset` with the counts.
 */
export async function resetSecondFactor(store: Store, email: string, actor: string): Promise<void> {
  const user = await activeAccountByEmail(store, email);
  await store.transaction(async (tx) => {
    const authenticators = await tx.run('DELETE FROM user_totp WHERE user_id = $1', [user.id]);
    const recoveryCodes = await tx.run('DELETE FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [
      user.id,
    ]);
    await tx.run('DELETE FROM recovery_codes WHERE user_id = $1', [user.id]);
    const sessionsEnded = await tx.run('DELETE FROM sessions WHERE user_id = $1', [user.id]);
    await tx.run('DELETE FROM pending_sign_ins WHERE user_id = $1', [user.id]);
    await appendAudit(tx, {
      actor,
      action: 'auth.mfa-reset',
      target: `user:${user.id}`,
      details: { authenticators, recoveryCodes, sessionsEnded },
    });
  });
}
