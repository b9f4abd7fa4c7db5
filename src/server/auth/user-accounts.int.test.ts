import { describe, expect, it } from 'vitest';
import { openWithMembersForSuite } from '../../../test/members-store.ts';
import { testStores } from '../../../test/stores.ts';
import { listAudit, verifyAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import { createApiToken, principalForToken, revokeApiToken } from './api-tokens.ts';
import { createSession, endSession, readSession } from './sessions.ts';
import { sha256 } from './secrets.ts';
import { resetSecondFactor } from './second-factor.ts';
import { addSsoRule } from './single-sign-on.ts';
import {
  addUser,
  changePassword,
  checkSignIn,
  disableUser,
  enableUser,
  LOCKOUT_THRESHOLD,
  resetPassword,
} from './user-accounts.ts';

describe.each(testStores())('accounts, sessions and tokens on $engine', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));

  it('creates an account with an Argon2id hash and a one-time password it must change', async () => {
    const { user, oneTimePassword } = await addUser(
      store,
      { email: 'Ana@Example.nhs.uk', role: 'provider', org: 'rwf' },
      'cli:test',
    );
    expect(user).toMatchObject({
      email: 'ana@example.nhs.uk',
      role: 'provider',
      org: 'RWF',
      mustChangePassword: true,
    });
    expect(oneTimePassword).toMatch(/^[A-Za-z2-9]{20}$/);
    const [row] = await store.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [user.id],
    );
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    expect(row?.password_hash).not.toContain(oneTimePassword as string);
    expect((await checkSignIn(store, 'ana@example.nhs.uk', oneTimePassword as string)).ok).toBe(true);
    await changePassword(store, user.id, oneTimePassword as string, 'a much longer passphrase', 'user:ana');
    const after = await checkSignIn(store, 'ANA@example.nhs.uk', 'a much longer passphrase');
    expect(after.ok && after.user.mustChangePassword).toBe(false);
  });

  it('refuses bad roles, a provider without an organisation, and duplicates, with one clear line', async () => {
    await expect(addUser(store, { email: 'x@example.nhs.uk', role: 'root' }, 'cli:test')).rejects.toThrow(
      /not a role/,
    );
    await expect(addUser(store, { email: 'x@example.nhs.uk', role: 'provider' }, 'cli:test')).rejects.toThrow(
      /belongs to one organisation/,
    );
    await expect(addUser(store, { email: 'not-an-email', role: 'viewer' }, 'cli:test')).rejects.toThrow(
      /not an email/,
    );
    // An organisation no member has is a typing mistake (issue 22, item 8).
    await expect(
      addUser(store, { email: 'nope@example.nhs.uk', role: 'provider', org: 'NOPE' }, 'cli:test'),
    ).rejects.toMatchObject({ code: 'usage', message: 'NOPE is not a registered organisation' });
    await expect(
      addUser(
        store,
        { email: 'ana@example.nhs.uk', role: 'viewer', password: 'long enough password' },
        'cli:test',
      ),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      addUser(store, { email: 'short@example.nhs.uk', role: 'viewer', password: 'short' }, 'cli:test'),
    ).rejects.toBeInstanceOf(KernelError);
  });

  it('locks an account after repeated failures and audits each, without the password', async () => {
    await addUser(
      store,
      { email: 'lock@example.nhs.uk', role: 'viewer', password: 'correct horse battery' },
      'cli:test',
    );
    const t0 = new Date('2026-01-01T09:00:00Z');
    for (let i = 1; i < LOCKOUT_THRESHOLD; i++) {
      expect(await checkSignIn(store, 'lock@example.nhs.uk', `wrong guess ${i}`, t0)).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
    const locked = await checkSignIn(store, 'lock@example.nhs.uk', 'wrong guess last', t0);
    expect(locked).toMatchObject({ ok: false, reason: 'locked' });
    // Even the right password is refused while locked, and works once the lock expires.
    expect((await checkSignIn(store, 'lock@example.nhs.uk', 'correct horse battery', t0)).ok).toBe(false);
    const later = new Date(t0.getTime() + 16 * 60_000);
    expect((await checkSignIn(store, 'lock@example.nhs.uk', 'correct horse battery', later)).ok).toBe(true);
    const events = await listAudit(store, { action: 'auth.', limit: 100 });
    const actions = events.map((e) => e.action);
    expect(actions.filter((a) => a === 'auth.locked')).toHaveLength(1);
    expect(actions.filter((a) => a === 'auth.failed').length).toBeGreaterThanOrEqual(LOCKOUT_THRESHOLD + 1);
    const text = JSON.stringify(events);
    expect(text).not.toContain('wrong guess');
    expect(text).not.toContain('correct horse');
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('keeps only hashes of session ids and API tokens; revoked tokens stop working', async () => {
    const { user } = await addUser(
      store,
      { email: 'tok@example.nhs.uk', role: 'analyst', password: 'analyst passphrase' },
      'cli:test',
    );
    const { sessionId, csrfToken } = await createSession(store, user.id);
    const session = await readSession(store, sessionId);
    expect(session?.principal).toMatchObject({
      email: 'tok@example.nhs.uk',
      role: 'analyst',
      via: 'session',
    });
    expect(session?.csrfToken).toBe(csrfToken);
    const [stored] = await store.query<{ id_hash: string }>(
      'SELECT id_hash FROM sessions WHERE user_id = $1',
      [user.id],
    );
    expect(stored?.id_hash).toBe(sha256(sessionId));
    await endSession(store, sessionId, session!.principal);
    expect(await readSession(store, sessionId)).toBeUndefined();

    const { id, token } = await createApiToken(store, 'tok@example.nhs.uk', 'cli:test');
    expect((await principalForToken(store, token))?.tokenId).toBe(id);
    const dump = JSON.stringify(await store.query('SELECT * FROM api_tokens'));
    expect(dump).not.toContain(token);
    await revokeApiToken(store, id, 'cli:test');
    expect(await principalForToken(store, token)).toBeUndefined();
    await expect(revokeApiToken(store, id, 'cli:test')).rejects.toMatchObject({ code: 'conflict' });
    expect(JSON.stringify(await listAudit(store, { limit: 1000 }))).not.toContain(token);
  });

  it('refuses an IG lead without an organisation, by account and by single sign-on rule: every IG-lead action would be refused', async () => {
    await expect(
      addUser(store, { email: 'ig.none@example.nhs.uk', role: 'ig-lead' }, 'cli:test'),
    ).rejects.toMatchObject({
      code: 'usage',
      message: 'An ig-lead account belongs to one organisation',
      where: { field: 'org' },
      hint: 'Add --org with its ODS code, e.g. --org RWF',
    });
    expect(await store.query('SELECT id FROM users WHERE email = $1', ['ig.none@example.nhs.uk'])).toEqual(
      [],
    );
    await expect(
      addSsoRule(store, { claim: 'groups', value: 'ig', role: 'ig-lead', org: null }, 'cli:test'),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'org' } });
    const { user } = await addUser(
      store,
      { email: 'ig.rwf@example.nhs.uk', role: 'ig-lead', org: 'RWF' },
      'cli:test',
    );
    expect(user.org).toBe('RWF');
  });

  it('says a disabled account is disabled, not missing, when asked for a token or a reset', async () => {
    await addUser(store, { email: 'off@example.nhs.uk', role: 'analyst' }, 'cli:test');
    await disableUser(store, 'off@example.nhs.uk', 'cli:test');
    const disabled = {
      code: 'conflict',
      message: 'The account off@example.nhs.uk is disabled',
      where: { field: 'email' },
      hint: 'Use kernel users enable --email off@example.nhs.uk to let it sign in again first',
    };
    await expect(createApiToken(store, 'Off@example.nhs.uk', 'cli:test')).rejects.toMatchObject(disabled);
    await expect(resetPassword(store, 'off@example.nhs.uk', 'cli:test')).rejects.toMatchObject(disabled);
    await expect(resetSecondFactor(store, 'off@example.nhs.uk', 'cli:test')).rejects.toMatchObject(disabled);
    await expect(createApiToken(store, 'nobody@example.nhs.uk', 'cli:test')).rejects.toMatchObject({
      code: 'not-found',
    });
    await enableUser(store, 'off@example.nhs.uk', 'cli:test');
    expect((await createApiToken(store, 'off@example.nhs.uk', 'cli:test')).token).toMatch(/^kernel_/);
  });
});
