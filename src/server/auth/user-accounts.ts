import { appendAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { Queryable, Store } from '../../store/store.ts';
import { isRole, ORGANISATION_ROLES, ROLES, type Principal, type Role } from '../routes.ts';
import { checkNewPassword, generateOneTimePassword, hashPassword, verifyPassword } from './passwords.ts';
import { randomId, sha256 } from './secrets.ts';

/** A portal or API account. Never holds the password, only its Argon2id hash (not exposed). */
export interface UserAccount {
  id: string;
  email: string;
  role: Role;
  org: string | null;
  mustChangePassword: boolean;
  lockedUntil: string | null;
  createdAt: string;
  /** when an administrator disabled it (`kernel users disable`); null while it may sign in */
  disabledAt: string | null;
}

export interface UserRow {
  id: string;
  email: string;
  role: string;
  org_code: string | null;
  password_hash: string;
  must_change_password: boolean;
  failed_attempts: number;
  locked_until: string | null;
  created_at: string;
  disabled_at: string | null;
  [column: string]: string | number | boolean | null;
}

const USER_COLUMNS =
  'id, email, role, org_code, password_hash, must_change_password, failed_attempts, locked_until, created_at, disabled_at';

/**
 * OWASP Authentication Cheat Sheet: lock an account after repeated failures, for a while.
 * The backstop against guessing spread over many addresses: the sign-in limiter already stops
 * any one address after five tries at an account (`sign-in-limiter.ts`), so only failures
 * from several addresses reach this, and one stranger cannot keep a person locked out.
 */
export const LOCKOUT_THRESHOLD = 20;
export const LOCKOUT_MINUTES = 15;

// Deliberately loose (RFC 5321 allows far more); it catches typing mistakes, nothing else.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// ODS organisation codes are 3 (trusts) to 6 (sites, practices) letters and digits.
const ODS_SHAPE = /^[A-Z0-9]{3,6}$/;

/** The account columns, qualified by `alias`, for a query that joins `users` to a credential. */
export function userColumns(alias: string): string {
  return USER_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');
}

/** The account in a row selected with `userColumns`, or undefined when it is disabled. */
export function activeAccount(row: UserRow): UserAccount | undefined {
  return row.disabled_at === null ? toAccount(row) : undefined;
}

function toAccount(row: UserRow): UserAccount {
  return {
    id: row.id,
    email: row.email,
    role: row.role as Role,
    org: row.org_code,
    mustChangePassword: Boolean(row.must_change_password),
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

export function principalFor(user: UserAccount, via: Principal['via']): Principal {
  return {
    userId: user.id,
    email: user.email,
    role: user.role,
    org: user.org,
    via,
    mustChangePassword: user.mustChangePassword,
  };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface NewUser {
  email: string;
  role: string;
  org?: string | undefined;
  /** a chosen password; when absent a one-time password is generated and returned */
  password?: string | undefined;
}

/**
 * Creates an account. Without a password it generates a one-time password, returned once
 * and never stored in clear; either way the user must change it at first sign-in.
 */
export async function addUser(
  store: Store,
  input: NewUser,
  actor: string,
  now: Date = new Date(),
): Promise<{ user: UserAccount; oneTimePassword: string | undefined }> {
  const email = normaliseEmail(input.email);
  if (!EMAIL_SHAPE.test(email)) {
    throw new KernelError('usage', `"${input.email}" is not an email address`, {
      where: { field: 'email' },
      hint: 'Give the person’s work email, e.g. name@nhs.net',
    });
  }
  if (!isRole(input.role)) {
    throw new KernelError('usage', `"${input.role}" is not a role`, {
      where: { field: 'role' },
      hint: `Use one of: ${ROLES.join(', ')}`,
    });
  }
  const org = input.org?.trim().toUpperCase() || null;
  if (org !== null && !ODS_SHAPE.test(org)) {
    throw new KernelError('usage', `"${input.org}" is not an ODS organisation code`, {
      where: { field: 'org' },
      hint: 'Give the ODS code, e.g. RWF for Maidstone and Tunbridge Wells',
    });
  }
  if (ORGANISATION_ROLES.includes(input.role) && org === null) {
    const article = /^[aeiou]/.test(input.role) ? 'An' : 'A';
    throw new KernelError('usage', `${article} ${input.role} account belongs to one organisation`, {
      where: { field: 'org' },
      hint: 'Add --org with its ODS code, e.g. --org RWF',
    });
  }
  const oneTimePassword = input.password === undefined ? generateOneTimePassword() : undefined;
  const password = input.password ?? (oneTimePassword as string);
  checkNewPassword(password);
  const passwordHash = await hashPassword(password);
  const id = randomId('u');
  const createdAt = now.toISOString();
  await store.transaction(async (tx) => {
    // An account speaks for a member: a code no member has is a typing mistake (issue 22, item 8).
    if (org !== null) {
      const [member] = await tx.query('SELECT org_code FROM organisations WHERE org_code = $1', [org]);
      if (!member) {
        throw new KernelError('usage', `${org} is not a registered organisation`, {
          where: { field: 'org' },
          hint: 'Use kernel orgs list to see the members (kernel orgs seed registers Kent and Medway’s)',
        });
      }
    }
    const [existing] = await tx.query('SELECT id FROM users WHERE email = $1', [email]);
    if (existing) {
      throw new KernelError('conflict', `An account for ${email} exists already`, {
        where: { field: 'email' },
        hint: 'Use kernel users list to see accounts',
      });
    }
    await tx.run(`INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, $7, NULL)`, [
      id,
      email,
      input.role,
      org,
      passwordHash,
      true,
      createdAt,
    ]);
    await appendAudit(tx, {
      actor,
      action: 'user.created',
      target: `user:${id}`,
      details: { role: input.role, org, generatedPassword: oneTimePassword !== undefined },
    });
  });
  const user = await getUser(store, id);
  return { user, oneTimePassword };
}

/** The accounts that may sign in; with `includeDisabled`, the disabled ones too. */
export async function listUsers(
  store: Queryable,
  options: { includeDisabled?: boolean } = {},
): Promise<UserAccount[]> {
  const rows = await store.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users ${options.includeDisabled ? '' : 'WHERE disabled_at IS NULL'} ORDER BY email`,
  );
  return rows.map(toAccount);
}

export async function getUser(store: Queryable, id: string): Promise<UserAccount> {
  const [row] = await store.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  if (!row || row.disabled_at !== null) throw new KernelError('not-found', 'No such account');
  return toAccount(row);
}

export async function findUserByEmail(store: Queryable, email: string): Promise<UserAccount | undefined> {
  const [row] = await store.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE email = $1 AND disabled_at IS NULL`,
    [normaliseEmail(email)],
  );
  return row ? toAccount(row) : undefined;
}

export type SignInResult =
  { ok: true; user: UserAccount } | { ok: false; reason: 'invalid' | 'locked'; lockedUntil?: string };

// Verified against when the email is unknown, so a wrong email takes as long as a wrong
// password and the answer's timing does not reveal which accounts exist.
let decoyHash: Promise<string> | undefined;

async function checkDecoy(password: string): Promise<void> {
  decoyHash ??= hashPassword(generateOneTimePassword());
  await verifyPassword(await decoyHash, password);
}

/**
 * A refusal that takes as long as checking a password, for a sign-in refused before any
 * account is looked at (the limiter's per-account throttle): audited without an account.
 */
export function refuseWithoutChecking(store: Store, password: string): Promise<SignInResult> {
  return refuseUnknown(store, password, 'throttled');
}

/** A refusal with no account to name: a decoy hash checked, and `auth.failed` for `user:unknown`. */
async function refuseUnknown(store: Store, password: string, reason: string): Promise<SignInResult> {
  await checkDecoy(password);
  await store.transaction((tx) =>
    appendAudit(tx, {
      actor: 'anonymous',
      action: 'auth.failed',
      target: 'user:unknown',
      details: { reason },
    }),
  );
  return { ok: false, reason: 'invalid' };
}

/**
 * Checks an email and password. Every outcome is audited (`auth.signed-in`,
 * `auth.failed`, `auth.locked`) with the account id, never the email typed or the password.
 * After `LOCKOUT_THRESHOLD` consecutive failures the account locks for `LOCKOUT_MINUTES`.
 */
export async function checkSignIn(
  store: Store,
  email: string,
  password: string,
  now: Date = new Date(),
): Promise<SignInResult> {
  const [row] = await store.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE email = $1 AND disabled_at IS NULL`,
    [normaliseEmail(email)],
  );
  if (!row) return refuseUnknown(store, password, 'no-account');
  const target = `user:${row.id}`;
  if (row.locked_until !== null && row.locked_until > now.toISOString()) {
    // As long as a real check, so a locked account answers no faster than any other.
    await verifyPassword(row.password_hash, password);
    await store.transaction((tx) =>
      appendAudit(tx, { actor: 'anonymous', action: 'auth.failed', target, details: { reason: 'locked' } }),
    );
    return { ok: false, reason: 'locked', lockedUntil: row.locked_until };
  }
  if (await verifyPassword(row.password_hash, password)) {
    await store.transaction(async (tx) => {
      await tx.run('UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1', [row.id]);
      await appendAudit(tx, { actor: `user:${row.email}`, action: 'auth.signed-in', target });
    });
    return { ok: true, user: toAccount({ ...row, failed_attempts: 0, locked_until: null }) };
  }
  const failures = Number(row.failed_attempts) + 1;
  const lock = failures >= LOCKOUT_THRESHOLD;
  const lockedUntil = lock ? new Date(now.getTime() + LOCKOUT_MINUTES * 60_000).toISOString() : null;
  await store.transaction(async (tx) => {
    await tx.run('UPDATE users SET failed_attempts = $1, locked_until = $2 WHERE id = $3', [
      lock ? 0 : failures,
      lockedUntil,
      row.id,
    ]);
    await appendAudit(tx, {
      actor: 'anonymous',
      action: 'auth.failed',
      target,
      details: { reason: 'password', failures },
    });
    if (lock) {
      await appendAudit(tx, {
        actor: 'system',
        action: 'auth.locked',
        target,
        details: { minutes: LOCKOUT_MINUTES, failures },
      });
    }
  });
  return lock
    ? { ok: false, reason: 'locked', lockedUntil: lockedUntil as string }
    : { ok: false, reason: 'invalid' };
}

/**
 * Replaces a password after checking the current one; clears the one-time flag. Whoever
 * knew the old password may hold a session or an API token made with it, so every other
 * session of the account ends and every token is revoked (issue 23, M2); the session the
 * change was made from (`keepSessionId`) stays signed in.
 */
export async function changePassword(
  store: Store,
  userId: string,
  current: string,
  next: string,
  actor: string,
  options: { keepSessionId?: string } = {},
): Promise<void> {
  const [row] = await store.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [userId]);
  if (!row) throw new KernelError('not-found', 'No such account');
  if (!(await verifyPassword(row.password_hash, current))) {
    throw new KernelError('invalid-input', 'The current password is not right', {
      where: { field: 'current' },
      hint: 'Type the password you signed in with',
    });
  }
  checkNewPassword(next);
  if (next === current) {
    throw new KernelError('invalid-input', 'The new password must differ from the current one', {
      where: { field: 'password' },
    });
  }
  const passwordHash = await hashPassword(next);
  await store.transaction(async (tx) => {
    await tx.run('UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3', [
      passwordHash,
      false,
      userId,
    ]);
    const sessionsEnded = await tx.run('DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2', [
      userId,
      options.keepSessionId ? sha256(options.keepSessionId) : '',
    ]);
    const tokensRevoked = await tx.run(
      'UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL',
      [userId, new Date().toISOString()],
    );
    await appendAudit(tx, {
      actor,
      action: 'auth.password-changed',
      target: `user:${userId}`,
      details: { sessionsEnded, tokensRevoked },
    });
  });
}

/**
 * Gives an account a new one-time password (forgotten password, or a demo run again):
 * unlocks it, ends its sessions, and answers the password once.
 */
export async function resetPassword(store: Store, email: string, actor: string): Promise<string> {
  const user = await activeAccountByEmail(store, email);
  const oneTimePassword = generateOneTimePassword();
  const passwordHash = await hashPassword(oneTimePassword);
  await store.transaction(async (tx) => {
    await tx.run(
      'UPDATE users SET password_hash = $1, must_change_password = $2, failed_attempts = 0, locked_until = NULL WHERE id = $3',
      [passwordHash, true, user.id],
    );
    await tx.run('DELETE FROM sessions WHERE user_id = $1', [user.id]);
    await appendAudit(tx, { actor, action: 'auth.password-reset', target: `user:${user.id}` });
  });
  return oneTimePassword;
}

/**
 * Disables an account (issue 23, M2): someone has left, or an account is thought taken over.
 * It can no longer sign in; its sessions end and its API tokens are revoked at once, in the
 * same transaction as the audit event (`auth.disabled`, with the counts). The row is kept:
 * the audit log names accounts by id, and `enableUser` can let the person back.
 */
export async function disableUser(store: Store, email: string, actor: string): Promise<void> {
  const row = await accountRow(store, email);
  if (row.disabled_at !== null) {
    throw new KernelError('conflict', `The account ${row.email} is disabled already`, {
      hint: 'Use kernel users enable to let it sign in again',
    });
  }
  await store.transaction(async (tx) => {
    await tx.run('UPDATE users SET disabled_at = $2 WHERE id = $1', [row.id, new Date().toISOString()]);
    const sessionsEnded = await tx.run('DELETE FROM sessions WHERE user_id = $1', [row.id]);
    const tokensRevoked = await tx.run(
      'UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL',
      [row.id, new Date().toISOString()],
    );
    await appendAudit(tx, {
      actor,
      action: 'auth.disabled',
      target: `user:${row.id}`,
      details: { sessionsEnded, tokensRevoked },
    });
  });
}

/**
 * Lets a disabled account sign in again with the password it had (`auth.enabled`). Its old
 * sessions and tokens stay ended: the person signs in afresh and asks for new tokens.
 */
export async function enableUser(store: Store, email: string, actor: string): Promise<void> {
  const row = await accountRow(store, email);
  if (row.disabled_at === null) {
    throw new KernelError('conflict', `The account ${row.email} is not disabled`, {
      hint: 'Use kernel users list to see which accounts are disabled',
    });
  }
  await store.transaction(async (tx) => {
    await tx.run(
      'UPDATE users SET disabled_at = NULL, failed_attempts = 0, locked_until = NULL WHERE id = $1',
      [row.id],
    );
    await appendAudit(tx, { actor, action: 'auth.enabled', target: `user:${row.id}` });
  });
}

/**
 * The account a change is for (a new API token, a password or authenticator reset), by
 * email. A disabled account is refused as disabled, not as missing: it exists, and `users
 * add` would say so; enabling it comes first.
 */
export async function activeAccountByEmail(store: Queryable, email: string): Promise<UserAccount> {
  const row = await accountRow(store, email);
  if (row.disabled_at !== null) {
    throw new KernelError('conflict', `The account ${row.email} is disabled`, {
      where: { field: 'email' },
      hint: `Use kernel users enable --email ${row.email} to let it sign in again first`,
    });
  }
  return toAccount(row);
}

/** The account's row, disabled or not; not found says how to see the accounts. */
async function accountRow(store: Queryable, email: string): Promise<UserRow> {
  const [row] = await store.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, [
    normaliseEmail(email),
  ]);
  if (!row) {
    throw new KernelError('not-found', `No account for ${email}`, {
      hint: 'Use kernel users list to see accounts',
    });
  }
  return row;
}
