/** Issue 23, M2: an administrator disables an account, and it is shut out at once, everywhere. */
import { describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { principalForToken } from '../../src/server/auth/api-tokens.ts';
import { readSession } from '../../src/server/auth/sessions.ts';
import { checkSignIn, disableUser, enableUser, listUsers } from '../../src/server/auth/user-accounts.ts';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import {
  PASSWORD,
  sessionFor,
  type TestAccount,
  openPortalForSuite,
  type PortalSuite,
} from './portal-helpers.ts';

describe.each(testStores())('disabling an account on $engine (issue 23, M2)', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: PortalSuite['portal'];

  openPortalForSuite(engine, (suite) => void ({ store, accounts, portal } = suite));

  it('ends its sessions, revokes its tokens and refuses its password; enabling lets it sign in afresh', async () => {
    const analyst = accounts.analyst;
    const session = await sessionFor(store, analyst.userId);
    const sessionId = session.cookie.split('=')[1] as string;
    expect(await readSession(store, sessionId)).toBeDefined();
    const bearer = { Authorization: `Bearer ${analyst.token}` };
    expect((await portal.app.request('/api/v1/me', { headers: bearer })).status).toBe(200);

    await disableUser(store, analyst.email, 'cli:admin');

    expect(await readSession(store, sessionId)).toBeUndefined();
    expect(await principalForToken(store, analyst.token)).toBeUndefined();
    expect((await portal.app.request('/api/v1/me', { headers: bearer })).status).toBe(401);
    expect(await checkSignIn(store, analyst.email, PASSWORD)).toMatchObject({ ok: false });
    expect((await listUsers(store)).map((u) => u.email)).not.toContain(analyst.email);
    const listed = (await listUsers(store, { includeDisabled: true })).find((u) => u.email === analyst.email);
    expect(listed?.disabledAt).toMatch(/^\d{4}-/);
    const [event] = await listAudit(store, { action: 'auth.disabled', limit: 1 });
    expect(event).toMatchObject({ actor: 'cli:admin', target: `user:${analyst.userId}` });
    expect(JSON.parse(event?.details ?? '{}')).toEqual({ sessionsEnded: 1, tokensRevoked: 1 });
    await expect(disableUser(store, analyst.email, 'cli:admin')).rejects.toThrow(/disabled already/);

    await enableUser(store, analyst.email, 'cli:admin');
    expect(await checkSignIn(store, analyst.email, PASSWORD)).toMatchObject({ ok: true });
    // Its old token stays revoked: it asks for a new one.
    expect(await principalForToken(store, analyst.token)).toBeUndefined();
    await expect(enableUser(store, analyst.email, 'cli:admin')).rejects.toThrow(/is not disabled/);
    await expect(disableUser(store, 'nobody@portal.test', 'cli:admin')).rejects.toThrow(/No account/);
    expect((await verifyAudit(store)).ok).toBe(true);
  });
});
