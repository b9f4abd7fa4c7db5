import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { noteLoadHistoryChanged } from '../../src/ingest/load-history.ts';
import { proposeUseCase } from '../../src/governance/use-cases.ts';
import { revokeApiToken, listApiTokens } from '../../src/server/auth/api-tokens.ts';
import { addUser, changePassword, findUserByEmail } from '../../src/server/auth/user-accounts.ts';
import { ROLES, type Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import {
  accountsForEveryRole,
  insertLoad,
  PASSWORD,
  portalApp,
  sessionFor,
  type TestAccount,
} from './portal-helpers.ts';

/** Signs in through the form, as a browser would; answers the response and the session cookie. */
async function signIn(app: ReturnType<typeof portalApp>['app'], email: string, password: string) {
  const page = await app.request('/sign-in');
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const presession = (page.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';
  const response = await app.request('/sign-in', {
    method: 'POST',
    headers: { Cookie: presession, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, email, password, next: '/loads' }).toString(),
  });
  const cookie = /kernel_session=[^;]+/.exec(response.headers.get('Set-Cookie') ?? '')?.[0];
  return { response, cookie, setCookie: response.headers.get('Set-Cookie') ?? '' };
}

describe.each(testStores())('portal security on $engine', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store);
    portal = portalApp(store);
    await insertLoad(store, 'ld-rwf-1', 'RWF', 'msds-delivery', '2025-01', 'loaded');
    await insertLoad(store, 'ld-rwf-2', 'RWF', 'msds-delivery', '2025-03', 'refused');
    await insertLoad(store, 'ld-rvv-1', 'RVV', 'msds-delivery', '2025-01', 'loaded');
  });
  afterAll(async () => {
    await store.close();
  });

  it('sends a CSP with a fresh nonce on every response, and every script carries it', async () => {
    const session = await sessionFor(store, accounts.admin.userId);
    const nonces = new Set<string>();
    for (const path of [
      '/',
      '/sign-in',
      '/catalogue',
      '/api/v1/health',
      '/assets/kernel.css',
      '/no-such-page',
    ]) {
      const response = await portal.app.request(path, { headers: { Cookie: session.cookie } });
      const csp = response.headers.get('Content-Security-Policy') ?? '';
      expect(csp, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}'/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('X-Frame-Options')).toBe('DENY');
      expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(response.headers.get('Referrer-Policy')).toBe('no-referrer');
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1] as string;
      nonces.add(nonce);
      if ((response.headers.get('Content-Type') ?? '').startsWith('text/html')) {
        const html = await response.text();
        const scripts = html.match(/<script\b[^>]*>/g) ?? [];
        expect(scripts.length, path).toBeGreaterThan(0);
        for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
        expect(html).not.toMatch(/\son[a-z]+="/); // no inline event handlers
        expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing from another host
      }
    }
    expect(nonces.size).toBe(6);
  });

  it('signs in with a secure, HTTP-only, same-site cookie, audits it, and signs out', async () => {
    // A viewer: a password alone signs them in. Roles that need a second factor are signed in
    // through it in portal-mfa.test.ts (issue 19).
    const { response, cookie, setCookie } = await signIn(portal.app, accounts.viewer.email, PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.get('Location')).toBe('/loads');
    expect(setCookie).toMatch(/kernel_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    const home = await portal.app.request('/', { headers: { Cookie: cookie as string } });
    expect(home.status).toBe(200);
    const homeHtml = await home.text();
    expect(homeHtml).toContain(accounts.viewer.email);
    // The account pages are a link away from every page, beside the email.
    expect(homeHtml).toMatch(/<a[^>]+href="\/account\/security"[^>]*>\s*Your account\s*<\/a>/);
    const security = await portal.app.request('/account/security', { headers: { Cookie: cookie as string } });
    expect(security.status).toBe(200);
    expect(await security.text()).toContain('href="/account/password"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(
      await (await portal.app.request('/sign-out', { headers: { Cookie: cookie as string } })).text(),
    )?.[1] as string;
    const out = await portal.app.request('/sign-out', {
      method: 'POST',
      headers: { Cookie: cookie as string, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(out.status).toBe(303);
    const after = await portal.app.request('/', { headers: { Cookie: cookie as string } });
    expect(after.status).toBe(302);
    const actions = (await listAudit(store, { action: 'auth.', limit: 50 })).map((e) => e.action);
    expect(actions).toContain('auth.signed-in');
    expect(actions).toContain('auth.signed-out');
  });

  it('refuses a form without the session’s CSRF token', async () => {
    const session = await sessionFor(store, accounts.admin.userId);
    for (const csrf of ['', 'forged-token-of-the-wrong-value-xxxxxxxxxxx']) {
      const response = await portal.app.request('/account/password', {
        method: 'POST',
        headers: { Cookie: session.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          csrf,
          current: PASSWORD,
          password: 'another long passphrase',
          confirm: 'another long passphrase',
        }).toString(),
      });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('This form has expired or did not come from Kernel');
    }
    // Sign-in without the pre-session token is refused too.
    const bare = await portal.app.request('/sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: accounts.admin.email, password: PASSWORD }).toString(),
    });
    expect(bare.status).toBe(403);
  });

  it('shows an error summary for a wrong password, and audits it without the password', async () => {
    await addUser(store, { email: 'victim@portal.test', role: 'viewer', password: PASSWORD }, 'test');
    const first = await signIn(portal.app, 'victim@portal.test', 'not the password');
    expect(first.response.status).toBe(401);
    const html = await first.response.text();
    expect(html).toContain('nhsuk-error-summary');
    expect(html).toContain('Enter a correct email address and password');
    expect(html).not.toContain('not the password');
    expect(first.cookie).toBeUndefined();
    const events = await listAudit(store, { action: 'auth.', limit: 100 });
    expect(events.some((e) => e.action === 'auth.failed')).toBe(true);
    expect(JSON.stringify(events)).not.toMatch(/not the password|portal test passphrase/);
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('rate-limits failed sign-ins from one client, and counts no successes', async () => {
    const fresh = portalApp(store);
    // Successes never count: thirty people behind one proxy sign in.
    for (let i = 0; i < 30; i++) {
      expect((await signIn(fresh.app, accounts.viewer.email, PASSWORD)).response.status).toBe(303);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++)
      statuses.push((await signIn(fresh.app, `nobody${i}@portal.test`, 'x')).response.status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
  });

  it('takes bearer tokens for the API, and refuses unknown and revoked ones', async () => {
    const ok = await portal.app.request('/api/v1/me', {
      headers: { Authorization: `Bearer ${accounts.viewer.token}` },
    });
    expect(await ok.json()).toEqual({
      email: accounts.viewer.email,
      role: 'viewer',
      org: null,
      via: 'token',
    });
    const bad = await portal.app.request('/api/v1/me', {
      headers: { Authorization: 'Bearer kernel_nonsense' },
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    const { id } = (await listApiTokens(store)).find((t) => t.email === accounts.viewer.email)!;
    await revokeApiToken(store, id, 'test');
    const revoked = await portal.app.request('/api/v1/me', {
      headers: { Authorization: `Bearer ${accounts.viewer.token}` },
    });
    expect(revoked.status).toBe(401);
  });

  it('shows a provider only its own organisation’s loads and coverage', async () => {
    const headers = { Authorization: `Bearer ${accounts.provider.token}` };
    const mine = (await (await portal.app.request('/api/v1/loads?org=RVV', { headers })).json()) as {
      loads: { org: string }[];
    };
    expect(mine.loads.map((l) => l.org)).toEqual(['RWF', 'RWF']);
    expect((await portal.app.request('/api/v1/loads/ld-rvv-1', { headers })).status).toBe(404);
    // Another organisation's load reads exactly as one that does not exist.
    const other = await (await portal.app.request('/api/v1/loads/ld-rvv-1', { headers })).json();
    const none = await (await portal.app.request('/api/v1/loads/ld-none-1', { headers })).json();
    expect(JSON.stringify(other).replace('ld-rvv-1', 'ID')).toBe(
      JSON.stringify(none).replace('ld-none-1', 'ID'),
    );
    expect((await portal.app.request('/api/v1/loads/ld-rwf-1', { headers })).status).toBe(200);
    const grid = (await (
      await portal.app.request('/api/v1/coverage?from=2025-01&to=2025-04', { headers })
    ).json()) as {
      months: string[];
      datasets: { dataset: string; rows: { org: string; cells: { state: string }[] }[] }[];
    };
    expect(grid.months).toEqual(['2025-01', '2025-02', '2025-03', '2025-04']);
    expect(grid.datasets[0]?.rows.map((r) => r.org)).toEqual(['RWF']);
    expect(grid.datasets[0]?.rows[0]?.cells.map((c) => c.state)).toEqual(['loaded', 'gap', 'refused', 'gap']);
    const admin = { Authorization: `Bearer ${accounts.admin.token}` };
    const all = (await (
      await portal.app.request('/api/v1/coverage?from=2025-01&to=2025-01', { headers: admin })
    ).json()) as typeof grid;
    expect(all.datasets[0]?.rows.map((r) => r.org)).toEqual(['RVV', 'RWF']);
    const rvvCells = async (): Promise<string[] | undefined> => {
      const body = (await (
        await portal.app.request('/api/v1/coverage?from=2025-01&to=2025-03', { headers: admin })
      ).json()) as typeof grid;
      return body.datasets[0]?.rows[0]?.cells.map((c) => c.state);
    };
    expect(await rvvCells()).toEqual(['loaded', 'gap', 'gap']);
    // A load by this process changes the cached grid at once…
    await insertLoad(store, 'ld-rvv-2', 'RVV', 'msds-delivery', '2025-02', 'loaded');
    noteLoadHistoryChanged();
    expect(await rvvCells()).toEqual(['loaded', 'loaded', 'gap']);
    // …and one by another process (PostgreSQL has several writers) within a second.
    await insertLoad(store, 'ld-rvv-3', 'RVV', 'msds-delivery', '2025-03', 'loaded');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await rvvCells()).toEqual(['loaded', 'loaded', 'loaded']);
  });

  it('shows on the home page what needs each person: refused loads, use cases awaiting approval', async () => {
    await seedOrganisations(store, 'test');
    await addUser(
      store,
      { email: 'ig.rwf@portal.test', role: 'ig-lead', org: 'RWF', password: PASSWORD },
      'test',
    );
    const igLead = await findUserByEmail(store, 'ig.rwf@portal.test');
    await changePassword(store, igLead!.id, PASSWORD, `${PASSWORD} 2`, 'test');
    const useCase = await proposeUseCase(
      store,
      {
        title: 'Maternity outcomes',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'GDPR 6(1)(e), 9(2)(h)',
        datasets: ['msds-delivery'],
        controllers: ['RWF'],
        start: '2025-01-01',
        end: '2025-12-31',
      },
      'test',
    );
    const home = async (userId: string) =>
      (
        await portal.app.request('/', { headers: { Cookie: (await sessionFor(store, userId)).cookie } })
      ).text();
    const forIgLead = await home(igLead!.id);
    expect(forIgLead).toContain(`Use case ${useCase.id}`);
    expect(forIgLead).toContain(`href="/use-cases/${useCase.id}"`);
    const forProvider = await home(accounts.provider.userId);
    expect(forProvider).toContain('href="/loads/ld-rwf-2"'); // its refused load
    expect(forProvider).not.toContain('ld-rvv-1');
    expect(forProvider).not.toContain(`Use case ${useCase.id}`);
  });

  it('renders a load report with findings, completeness and reconciliation', async () => {
    const session = await sessionFor(store, accounts.provider.userId);
    const html = await (
      await portal.app.request('/loads/ld-rwf-1', { headers: { Cookie: session.cookie } })
    ).text();
    for (const text of [
      'Reconciliation',
      // The fixture's finding is a code-list failure, whose rule id is `code` (RULE_IDS).
      '<td class="nhsuk-table__cell">code</td>',
      'Delivery_Method',
      'Quarantined',
      'Completeness',
      '100%',
    ]) {
      expect(html).toContain(text);
    }
  });

  it('describes every API route in the OpenAPI 3.1 document and the docs page', async () => {
    const doc = (await (await portal.app.request('/api/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security: unknown[] }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const apiRoutes = portal.routes.filter((r) => r.kind === 'api');
    for (const route of apiRoutes) {
      const op = doc.paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op?.security).toEqual(route.access === 'public' ? [] : [{ bearerAuth: [] }]);
    }
    const docs = await (await portal.app.request('/api/docs')).text();
    for (const route of apiRoutes) expect(docs).toContain(route.path);
    const health = await portal.app.request('/api/v1/health');
    expect(await health.json()).toEqual({ status: 'ok', store: engine.engine });
  });

  it('logs method, route, status and time only: no secrets, tokens, cookies or emails', async () => {
    for (const role of ROLES) {
      await portal.app.request(`/api/v1/loads?org=RWF&token=${accounts[role].token}`, {
        headers: { Authorization: `Bearer ${accounts[role].token}` },
      });
    }
    await signIn(portal.app, accounts.admin.email, PASSWORD);
    // Paths no route matches are logged with anything but plain words replaced (issue 23):
    // an NHS number or a postcode typed into a URL never reaches the log.
    for (const path of [
      '/9991234567',
      '/patients/999%20123%204567',
      '/find/ME14%201AA',
      '/x/ME141AA/notes',
    ]) {
      expect((await portal.app.request(path)).status).toBe(404);
    }
    const log = portal.lines.join('\n');
    expect(log).toContain('GET /patients/… 404');
    expect(log).toContain('GET /x/…/notes 404');
    expect(log).not.toMatch(/999|ME14|1AA/);
    expect(portal.lines.length).toBeGreaterThan(10);
    for (const line of portal.lines) expect(line).toMatch(/^[A-Z]+ \/\S* \d{3} \d+ms$/);
    expect(log).not.toMatch(/kernel_[A-Za-z0-9_-]{20,}|@portal\.test|passphrase|kernel_session|\?/);
  });
});

describe.each(testStores())(
  'a session signed in with a one-time password on $engine (issue 23, M1)',
  (engine) => {
    it('reaches nothing in the API or the portal until the password is changed', async () => {
      const store = await engine.open();
      try {
        const { user } = await addUser(
          store,
          { email: 'otp@portal.test', role: 'admin', password: `${PASSWORD} 0` },
          'test',
        );
        const session = await sessionFor(store, user.id);
        const portal = portalApp(store);
        const api = await portal.app.request('/api/v1/loads', { headers: { Cookie: session.cookie } });
        expect(api.status).toBe(403);
        expect(await api.text()).toMatch(/Choose a new password/);
        const page = await portal.app.request('/loads', { headers: { Cookie: session.cookie } });
        expect(page.status).toBe(302);
        expect(page.headers.get('Location')).toBe('/account/password');

        await changePassword(store, user.id, `${PASSWORD} 0`, PASSWORD, 'test', {
          keepSessionId: session.cookie.split('=')[1],
        });
        const after = await portal.app.request('/api/v1/loads', { headers: { Cookie: session.cookie } });
        expect(after.status).toBe(200);
      } finally {
        await store.close();
      }
    });
  },
);

describe.each(testStores())('changing a password on $engine (issue 23, M2)', (engine) => {
  it('ends the account’s other sessions and revokes its API tokens, keeping the session it was made from', async () => {
    const store = await engine.open();
    try {
      const accounts = await accountsForEveryRole(store);
      const { userId, token } = accounts.analyst;
      const [here, elsewhere] = [await sessionFor(store, userId), await sessionFor(store, userId)];
      const portal = portalApp(store);
      const loads = (headers: Record<string, string>) => portal.app.request('/api/v1/loads', { headers });
      expect((await loads({ Authorization: `Bearer ${token}` })).status).toBe(200);

      const keep = here.cookie.split('=')[1];
      await changePassword(store, userId, PASSWORD, `${PASSWORD} new`, 'test', { keepSessionId: keep });
      expect((await loads({ Cookie: here.cookie })).status).toBe(200);
      expect((await loads({ Cookie: elsewhere.cookie })).status).toBe(401);
      expect((await loads({ Authorization: `Bearer ${token}` })).status).toBe(401);
      const [event] = await listAudit(store, { action: 'auth.password-changed', limit: 1 });
      expect(JSON.parse(String(event?.details))).toEqual({ sessionsEnded: 1, tokensRevoked: 1 });
    } finally {
      await store.close();
    }
  });
});
