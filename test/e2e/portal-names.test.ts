/**
 * Issue 22, item 7: names where people expect names, a way home from a missing page, the API's
 * own words for a refusal, and an empty credential that is no credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import {
  accountsForEveryRole,
  insertLoad,
  portalApp,
  sessionFor,
  type TestAccount,
} from './portal-helpers.ts';

describe.each(testStores())('what users read first on $engine (issue 22, item 7)', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;
  let cookie: string;

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store);
    portal = portalApp(store);
    await insertLoad(store, 'ld-names-1', 'RWF', 'apc', '2025-01', 'loaded');
    cookie = (await sessionFor(store, accounts.admin.userId)).cookie;
  });
  afterAll(async () => {
    await store.close();
  });

  const page = async (path: string) =>
    (await portal.app.request(path, { headers: { Cookie: cookie } })).text();

  it('shows organisations and datasets by name with their codes', async () => {
    for (const path of ['/loads', '/loads/ld-names-1', '/', '/catalogue/coverage?from=2025-01&to=2025-01']) {
      const html = await page(path);
      expect(html, path).toContain('Maidstone and Tunbridge Wells NHS Trust (RWF)');
      if (path !== '/catalogue/coverage?from=2025-01&to=2025-01') {
        expect(html, path).toContain('Admitted patient care (SUS+ episodes) (apc)');
      }
    }
  });

  it('links a missing page to the home page', async () => {
    const response = await portal.app.request('/no-such-page', { headers: { Cookie: cookie } });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('<a href="/">Go to the home page</a>');
  });

  it('says "API operation" when the API refuses a role, and "page" on a page', async () => {
    const api = await portal.app.request('/api/v1/audit', {
      headers: { Authorization: `Bearer ${accounts.viewer.token}` },
    });
    expect(api.status).toBe(403);
    expect(((await api.json()) as { error: { message: string } }).error.message).toBe(
      'Your role (viewer) may not use this API operation',
    );
    const viewer = (await sessionFor(store, accounts.viewer.userId)).cookie;
    const html = await (await portal.app.request('/audit', { headers: { Cookie: viewer } })).text();
    expect(html).toContain('Your role (viewer) may not use this page');
  });

  it('takes an empty Authorization header as no credential on an open route', async () => {
    for (const header of ['', 'Bearer', 'Bearer ', '  ']) {
      const response = await portal.app.request('/api/v1/health', { headers: { Authorization: header } });
      expect(response.status, JSON.stringify(header)).toBe(200);
    }
    // A token that is there but wrong is still refused.
    const wrong = await portal.app.request('/api/v1/health', {
      headers: { Authorization: 'Bearer kernel_wrong' },
    });
    expect(wrong.status).toBe(401);
    // And an empty header on a closed route asks for a credential, as with none.
    expect((await portal.app.request('/api/v1/me', { headers: { Authorization: 'Bearer' } })).status).toBe(
      401,
    );
  });

  it('opens forms clean, and marks only the fields with a problem (issue 22, item 4)', async () => {
    const { cookie: session, csrf } = await sessionFor(store, accounts.analyst.userId);
    const blank = await (
      await portal.app.request('/account/password', { headers: { Cookie: session } })
    ).text();
    expect(blank).not.toMatch(/nhsuk-form-group--error|nhsuk-error-message/);
    const sent = await portal.app.request('/account/password', {
      method: 'POST',
      headers: { Cookie: session, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        csrf,
        current: 'wrong',
        password: 'a new long passphrase',
        confirm: 'another one',
      }).toString(),
    });
    const html = await sent.text();
    expect(sent.status).toBe(400);
    expect((html.match(/nhsuk-form-group--error/g) ?? []).length).toBeGreaterThan(0);
    expect(html).not.toMatch(
      /<span class="nhsuk-error-message"[^>]*>\s*<span class="nhsuk-u-visually-hidden">Error:<\/span>\s*<\/span>/,
    );
    const upload = await (await portal.app.request('/upload', { headers: { Cookie: cookie } })).text();
    expect(upload).not.toMatch(/nhsuk-form-group--error|nhsuk-error-message/);
  });
});
