import type { Hono } from 'hono';
import { resolveConfig } from '../../src/config/config.ts';
import { createApp, SESSION_COOKIE, type AppEnv } from '../../src/server/app.ts';
import { createApiToken } from '../../src/server/auth/api-tokens.ts';
import { createSession } from '../../src/server/auth/sessions.ts';
import { addUser, changePassword } from '../../src/server/auth/user-accounts.ts';
import { buildRouteTable } from '../../src/server/route-table.ts';
import { ROLES, type Role, type RouteDeclaration, type ServerDeps } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';

export const PASSWORD = 'portal test passphrase';

export interface TestAccount {
  role: Role;
  email: string;
  userId: string;
  token: string;
}

/** The app on a store, with its route table and a log that keeps every line. */
export function portalApp(store: Store, dataDir = '/tmp') {
  const lines: string[] = [];
  const deps: ServerDeps = {
    store,
    config: { ...resolveConfig({ data: dataDir }).config, dataDir },
    log: (line) => lines.push(line),
  };
  const routes: RouteDeclaration[] = buildRouteTable(deps);
  const app: Hono<AppEnv> = createApp(deps, { routes });
  return { app, routes, deps, lines };
}

/** One ready account per role (password changed, so no redirect), with an API token. */
export async function accountsForEveryRole(store: Store, org = 'RWF'): Promise<Record<Role, TestAccount>> {
  const out = {} as Record<Role, TestAccount>;
  for (const role of ROLES) {
    const email = `${role}@portal.test`;
    const { user } = await addUser(
      store,
      { email, role, org: role === 'provider' ? org : undefined, password: `${PASSWORD} 0` },
      'test',
    );
    await changePassword(store, user.id, `${PASSWORD} 0`, PASSWORD, 'test');
    const { token } = await createApiToken(store, email, 'test');
    out[role] = { role, email, userId: user.id, token };
  }
  return out;
}

/** A fresh session for an account: the cookie header and the session's CSRF token. */
export async function sessionFor(store: Store, userId: string): Promise<{ cookie: string; csrf: string }> {
  const { sessionId, csrfToken } = await createSession(store, userId);
  return { cookie: `${SESSION_COOKIE}=${sessionId}`, csrf: csrfToken };
}

/** A route's path with its example parameters filled in. */
export function concretePath(route: RouteDeclaration): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => route.example?.[name] ?? 'example');
}
