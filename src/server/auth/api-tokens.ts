import { appendAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import type { HttpMethod, Principal } from '../routes.ts';
import { randomId, randomSecret, sha256 } from './secrets.ts';
import {
  activeAccount,
  activeAccountByEmail,
  principalFor,
  userColumns,
  type UserRow,
} from './user-accounts.ts';

/** API tokens start with this, so secret scanners (and people) can recognise a leaked one. */
export const TOKEN_PREFIX = 'kernel_';

/**
 * What a token may do, within its account's role (issue 19):
 * - `full`: whatever the account may do through the API;
 * - `read-only`: safe methods only (RFC 9110 §9.2.1: GET, HEAD, OPTIONS);
 * - `feeds-only`: nothing but sending feeds (`FEED_UPLOAD_ROUTES`), for a trust's sending system.
 */
export const TOKEN_SCOPES = ['full', 'read-only', 'feeds-only'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** The routes a feeds-only token may call: the two ways a feed is sent. */
export const FEED_UPLOAD_ROUTES: readonly string[] = ['POST /api/v1/loads', 'POST /api/v1/feeds'];

/** Tokens expire: 90 days unless asked otherwise, a year at most. */
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 366;

export interface ApiTokenInfo {
  id: string;
  email: string;
  createdAt: string;
  revokedAt: string | null;
  /** null for a token made before tokens expired */
  expiresAt: string | null;
  scope: TokenScope;
}

export function isTokenScope(value: string): value is TokenScope {
  return (TOKEN_SCOPES as readonly string[]).includes(value);
}

/** Days from a lifetime as typed: `90d`, `12w` or a bare number of days. */
export function parseTokenLifetime(text: string): number {
  const match = /^\s*(\d+)\s*([dw]?)\s*$/i.exec(text);
  const days = match ? Number(match[1]) * (match[2]?.toLowerCase() === 'w' ? 7 : 1) : NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
    throw new KernelError('usage', `"${text}" is not a token lifetime`, {
      where: { field: 'expires' },
      hint: `Give days or weeks, from 1d to ${MAX_TOKEN_DAYS}d, e.g. --expires 90d`,
    });
  }
  return days;
}

export interface NewTokenOptions {
  scope?: TokenScope;
  /** days until it expires; `DEFAULT_TOKEN_DAYS` when absent */
  days?: number;
}

/** Issues a token for scripts and BI tools; answers it once. Only its SHA-256 is stored. */
export async function createApiToken(
  store: Store,
  email: string,
  actor: string,
  now: Date = new Date(),
  options: NewTokenOptions = {},
): Promise<{ id: string; token: string; expiresAt: string; scope: TokenScope }> {
  const user = await activeAccountByEmail(store, email);
  const scope = options.scope ?? 'full';
  const days = options.days ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) parseTokenLifetime(String(days));
  const expiresAt = new Date(now.getTime() + days * 86_400_000).toISOString();
  const id = randomId('tok');
  const token = `${TOKEN_PREFIX}${randomSecret()}`;
  await store.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO api_tokens (id, user_id, token_hash, created_at, revoked_at, expires_at, scope)
       VALUES ($1, $2, $3, $4, NULL, $5, $6)`,
      [id, user.id, sha256(token), now.toISOString(), expiresAt, scope],
    );
    await appendAudit(tx, {
      actor,
      action: 'token.created',
      target: `token:${id}`,
      details: { user: user.id, scope, days },
    });
  });
  return { id, token, expiresAt, scope };
}

export async function revokeApiToken(
  store: Store,
  id: string,
  actor: string,
  now: Date = new Date(),
): Promise<void> {
  await store.transaction(async (tx) => {
    const [row] = await tx.query<{ revoked_at: string | null }>(
      'SELECT revoked_at FROM api_tokens WHERE id = $1',
      [id],
    );
    if (!row)
      throw new KernelError('not-found', `No API token ${id}`, {
        hint: 'Use kernel tokens list to see them',
      });
    if (row.revoked_at !== null) throw new KernelError('conflict', `The API token ${id} is revoked already`);
    await tx.run('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2', [now.toISOString(), id]);
    await appendAudit(tx, { actor, action: 'token.revoked', target: `token:${id}` });
  });
}

export async function listApiTokens(store: Store): Promise<ApiTokenInfo[]> {
  const rows = await store.query<Omit<ApiTokenInfo, 'scope'> & { scope: string | null }>(
    `SELECT t.id, u.email, t.created_at AS "createdAt", t.revoked_at AS "revokedAt",
            t.expires_at AS "expiresAt", t.scope
       FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id`,
  );
  return rows.map((r) => ({ ...r, scope: scopeOf(r.scope) }));
}

function scopeOf(value: string | null): TokenScope {
  return value !== null && isTokenScope(value) ? value : 'full';
}

export interface TokenCredential {
  principal: Principal;
  scope: TokenScope;
}

/** The account and scope a bearer token speaks for, or undefined when unknown, revoked or expired. */
export async function credentialForToken(
  store: Store,
  token: string,
  now: Date = new Date(),
): Promise<TokenCredential | undefined> {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  // One statement per request: the token and its account together.
  const [row] = await store.query<
    UserRow & { token_id: string; revoked_at: string | null; expires_at: string | null; scope: string | null }
  >(
    `SELECT t.id AS token_id, t.revoked_at, t.expires_at, t.scope, ${userColumns('u')}
       FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
    [sha256(token)],
  );
  if (!row || row.revoked_at !== null) return undefined;
  if (row.expires_at !== null && row.expires_at <= now.toISOString()) return undefined;
  const user = activeAccount(row);
  if (!user) return undefined;
  return {
    principal: { ...principalFor(user, 'token'), mustChangePassword: false, tokenId: row.token_id },
    scope: scopeOf(row.scope),
  };
}

/**
 * The account a full token speaks for (the CLI's `KERNEL_TOKEN`). A scoped token answers
 * undefined here: its limits are enforced by the API's guard, which the CLI does not pass.
 */
export async function principalForToken(
  store: Store,
  token: string,
  now: Date = new Date(),
): Promise<Principal | undefined> {
  const credential = await credentialForToken(store, token, now);
  return credential?.scope === 'full' ? credential.principal : undefined;
}

/** Why a token of this scope may not call this route, or undefined when it may. */
export function scopeRefusal(scope: TokenScope, method: HttpMethod, path: string): string | undefined {
  if (scope === 'read-only' && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
    return 'This API token is read-only: it may not change anything';
  }
  if (scope === 'feeds-only' && !FEED_UPLOAD_ROUTES.includes(`${method} ${path}`)) {
    return 'This API token may only send feeds (POST /api/v1/loads or /api/v1/feeds)';
  }
  return undefined;
}
