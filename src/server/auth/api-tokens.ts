import { appendAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import type { Principal } from '../routes.ts';
import { randomId, randomSecret, sha256 } from './secrets.ts';
import { activeAccount, findUserByEmail, principalFor, userColumns, type UserRow } from './user-accounts.ts';

/** API tokens start with this, so secret scanners (and people) can recognise a leaked one. */
export const TOKEN_PREFIX = 'kernel_';

export interface ApiTokenInfo {
  id: string;
  email: string;
  createdAt: string;
  revokedAt: string | null;
}

/** Issues a token for scripts and BI tools; answers it once. Only its SHA-256 is stored. */
export async function createApiToken(
  store: Store,
  email: string,
  actor: string,
  now: Date = new Date(),
): Promise<{ id: string; token: string }> {
  const user = await findUserByEmail(store, email);
  if (!user) {
    throw new KernelError('not-found', `No account for ${email}`, {
      hint: 'Create it first with kernel users add',
    });
  }
  const id = randomId('tok');
  const token = `${TOKEN_PREFIX}${randomSecret()}`;
  await store.transaction(async (tx) => {
    await tx.run(
      'INSERT INTO api_tokens (id, user_id, token_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, NULL)',
      [id, user.id, sha256(token), now.toISOString()],
    );
    await appendAudit(tx, {
      actor,
      action: 'token.created',
      target: `token:${id}`,
      details: { user: user.id },
    });
  });
  return { id, token };
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
  return store.query<{ id: string; email: string; createdAt: string; revokedAt: string | null }>(
    `SELECT t.id, u.email, t.created_at AS "createdAt", t.revoked_at AS "revokedAt"
       FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id`,
  );
}

/** The account a bearer token speaks for, or undefined when it is unknown or revoked. */
export async function principalForToken(store: Store, token: string): Promise<Principal | undefined> {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  // One statement per request: the token and its account together.
  const [row] = await store.query<UserRow & { token_id: string; revoked_at: string | null }>(
    `SELECT t.id AS token_id, t.revoked_at, ${userColumns('u')}
       FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
    [sha256(token)],
  );
  if (!row || row.revoked_at !== null) return undefined;
  const user = activeAccount(row);
  if (!user) return undefined;
  return { ...principalFor(user, 'token'), mustChangePassword: false, tokenId: row.token_id };
}
