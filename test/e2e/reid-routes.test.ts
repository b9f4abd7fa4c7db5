import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { createApp } from '../../src/server/app.ts';
import { responseSchemaOf } from '../../src/server/openapi.ts';
import { reidRoutes } from '../../src/server/reid-routes.ts';
import { buildRouteTable } from '../../src/server/route-table.ts';
import { mayUse, ROLES, type Principal, type Role, type ServerDeps } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, concretePath, sessionFor, type TestAccount } from './portal-helpers.ts';

/**
 * The route × role matrix of test/e2e/portal-routes.test.ts over the re-identification
 * routes (src/server/reid-routes.ts), mounted beside the whole table as the server will: each
 * answers as declared for no session and every role, and every API answer matches its schema.
 */
describe.each(testStores())('the re-identification routes with every role on $engine', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let app: ReturnType<typeof createApp>;
  let mine: ReturnType<typeof reidRoutes>;

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kernel-reid-routes-'));
    const deps: ServerDeps = { store, config: { ...resolveConfig({ data: dataDir }).config, dataDir } };
    mine = reidRoutes(deps);
    const routes = [...buildRouteTable(deps), ...mine];
    const seen = new Set<string>();
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      expect(seen.has(key), `${key} declared twice`).toBe(false);
      seen.add(key);
    }
    app = createApp(deps, { routes });
  });
  afterAll(async () => {
    await store.close();
  });

  it('answers every re-identification route as declared', async () => {
    const failures: string[] = [];
    for (const route of mine) {
      expect(route.summary.length).toBeGreaterThan(5);
      if (route.kind === 'api') expect(route.path.startsWith('/api/v1/')).toBe(true);
      const where = concretePath(route);
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
        const response = await app.request(where, {
          method: route.method,
          headers,
          body,
          redirect: 'manual',
        });
        const status = response.status;
        const location = response.headers.get('Location') ?? '';
        const label = `${route.method} ${where} as ${role ?? 'nobody'}: ${status} ${location}`;
        const text = await response.text();
        const guardRefused =
          status === 403 &&
          text.includes(`may not use this ${route.kind === 'api' ? 'API operation' : 'page'}`);
        const sentToSignIn = status === 302 && location.startsWith('/sign-in');
        const declared = responseSchemaOf(route);
        if (route.kind === 'api' && (status === 200 || status === 201) && declared) {
          const checked = declared.safeParse(JSON.parse(text));
          if (!checked.success) failures.push(`${label} (answer does not match its schema)`);
        }
        if (status >= 500) failures.push(`${label} (server error)`);
        else if (allowed) {
          if (status === 401 || guardRefused || sentToSignIn) failures.push(`${label} (should be allowed)`);
        } else if (!role) {
          if (!(route.kind === 'api' ? status === 401 : sentToSignIn))
            failures.push(`${label} (should ask to sign in)`);
        } else if (!guardRefused) {
          failures.push(`${label} (should be 403)`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
