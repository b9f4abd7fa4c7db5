import { describe, expect, it } from 'vitest';
import { mayUse, ROLES, type Principal, type Role } from '../../src/server/routes.ts';
import { responseSchemaOf } from '../../src/server/openapi.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import {
  concretePath,
  sessionFor,
  type TestAccount,
  openPortalForSuite,
  type PortalSuite,
} from './portal-helpers.ts';

/**
 * The route × role matrix: every declared route, called with no session and as every role,
 * answers as its declaration says — the guard comes from the table, not from handlers.
 */
describe.each(testStores())('every route with every role on $engine', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: PortalSuite['portal'];

  openPortalForSuite(engine, (suite) => void ({ store, accounts, portal } = suite));

  it('declares each route once, with a summary and who may use it', () => {
    expect(portal.routes.length).toBeGreaterThan(20);
    for (const route of portal.routes) {
      expect(route.summary.length, `${route.method} ${route.path}`).toBeGreaterThan(5);
      expect(route.access === 'public' || route.access === 'signed-in' || route.access.length > 0).toBe(true);
      if (route.kind === 'api') expect(route.path.startsWith('/api/v1/')).toBe(true);
    }
  });

  it('answers every route as declared, for no session and every role, on pages and the API', async () => {
    const failures: string[] = [];
    let calls = 0;
    for (const route of portal.routes) {
      const path = concretePath(route);
      const unsafe = route.method !== 'GET';
      for (const role of [null, ...ROLES] as const) {
        const account = role ? accounts[role] : undefined;
        const principal: Principal | null = role
          ? { userId: 'x', email: 'x', role, org: null, via: 'session', mustChangePassword: false }
          : null;
        const allowed = mayUse(route.access, principal);
        const headers: Record<string, string> = {};
        let body: string | undefined;
        if (!account && unsafe) {
          // A visitor's forms carry the pre-session token (double-submit cookie).
          const presession = 'p'.repeat(43);
          headers.Cookie = `kernel_presession=${presession}`;
          headers['Content-Type'] = 'application/x-www-form-urlencoded';
          body = new URLSearchParams({ csrf: presession }).toString();
        } else if (account && route.kind === 'api') {
          headers.Authorization = `Bearer ${account.token}`;
        } else if (account) {
          const session = await sessionFor(store, account.userId);
          headers.Cookie = session.cookie;
          if (unsafe) {
            headers['Content-Type'] = 'application/x-www-form-urlencoded';
            body = new URLSearchParams({ csrf: session.csrf }).toString();
          }
        }
        const response = await portal.app.request(path, {
          method: route.method,
          headers,
          body,
          redirect: 'manual',
        });
        calls++;
        const status = response.status;
        const location = response.headers.get('Location') ?? '';
        const label = `${route.method} ${path} as ${role ?? 'nobody'}: ${status} ${location}`;
        // The guard's own refusal, as opposed to a domain's (e.g. no approved use case).
        // Pages say "page"; the API says "API operation" (issue 22, item 7).
        const guardRefused =
          status === 403 &&
          (await response.text()).includes(
            `may not use this ${route.kind === 'api' ? 'API operation' : 'page'}`,
          );
        const sentToSignIn = status === 302 && location.startsWith('/sign-in');
        // Every answer the API gives matches the schema its OpenAPI document declares.
        const declared = responseSchemaOf(route);
        if (route.kind === 'api' && (status === 200 || status === 201) && declared) {
          const checked = declared.safeParse(await response.json());
          if (!checked.success)
            failures.push(`${label} (answer does not match its schema: ${checked.error.message})`);
        }
        if (status >= 500) failures.push(`${label} (server error)`);
        else if (allowed) {
          if (status === 401 || guardRefused || sentToSignIn) failures.push(`${label} (should be allowed)`);
        } else if (!role) {
          const expected = route.kind === 'api' ? status === 401 : sentToSignIn;
          if (!expected) failures.push(`${label} (should ask to sign in)`);
        } else if (!guardRefused) {
          failures.push(`${label} (should be 403)`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBe(portal.routes.length * (ROLES.length + 1));
  });

  it('sends a page visitor without a session to sign in and back to where they were going', async () => {
    const response = await portal.app.request('/loads?status=loaded');
    expect(response.status).toBe(302);
    expect(response.headers.get('Location')).toBe('/sign-in?next=%2Floads');
  });

  it('lets API callers use the portal session for reads, but not for writes without the CSRF header', async () => {
    const session = await sessionFor(store, accounts.admin.userId);
    const me = await portal.app.request('/api/v1/me', { headers: { Cookie: session.cookie } });
    expect(await me.json()).toMatchObject({ role: 'admin', via: 'session' });
    const write = await portal.app.request('/api/v1/loads', {
      method: 'POST',
      headers: { Cookie: session.cookie },
    });
    expect(write.status).toBe(403);
  });
});
