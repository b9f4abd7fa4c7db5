import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { totpCode } from '../../src/server/auth/totp.ts';
import type { Role } from '../../src/server/routes.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { AXE_SOURCE, axeViolations, launchBrowser } from '../browser-setup.ts';
import { addSsoRule, configureSso } from '../../src/server/auth/single-sign-on.ts';
import { startTestProvider, type TestProvider } from './oidc-test-provider.ts';
import { accountsForEveryRole, PASSWORD, type TestAccount } from './portal-helpers.ts';

/**
 * Issue 19 in real Chromium: an analyst sets up an authenticator at first sign-in, keeps the
 * recovery codes, signs in again with a code, and manages their sessions; every new page
 * passes axe-core's WCAG 2.2 AA rules.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-mfa-browser-'));

describe('two-factor sign-in in Chromium', () => {
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;
  let provider: TestProvider;

  beforeAll(async () => {
    const dataDir = path.join(dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    accounts = await accountsForEveryRole(store);
    server = await startServer({ store, config, port: 0 });
    provider = await startTestProvider(() => `${server.url}/sign-in/sso/callback`);
    await configureSso(
      store,
      {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        redirectUri: `${server.url}/sign-in/sso/callback`,
      },
      'test',
    );
    await addSsoRule(store, { claim: 'groups', value: 'analysts', role: 'analyst', org: null }, 'test');
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await provider?.close();
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.url });
    await context.addInitScript({ content: AXE_SOURCE });
    return context.newPage();
  }

  async function expectAccessible(page: Page, what: string): Promise<void> {
    const violations = await axeViolations(page);
    expect(violations.map((v) => `${what}: ${v.id} (${v.impact}) ${v.help}`)).toEqual([]);
  }

  async function password(page: Page, email: string): Promise<void> {
    await page.goto('/sign-in');
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/sign-in/two-factor'),
      page.click('form[action="/sign-in"] button'),
    ]);
  }

  it('enrols an authenticator, shows the recovery codes once, and signs in again with a code', async () => {
    const page = await newPage();
    await password(page, accounts.analyst.email);
    expect(await page.textContent('h1')).toContain('Set up your authenticator app');
    await expectAccessible(page, 'enrolment');
    const secret = ((await page.textContent('#secret')) ?? '').replace(/\s/g, '');
    // A wrong code: the error summary, and the page stays accessible.
    await page.fill('#code', '000000');
    await page.click('form[action="/sign-in/two-factor"] button');
    await page.waitForSelector('.nhsuk-error-summary');
    await expectAccessible(page, 'enrolment with an error');
    await page.fill('#code', totpCode(secret, new Date()));
    await page.click('form[action="/sign-in/two-factor"] button');
    await page.waitForSelector('#recovery-codes');
    await expectAccessible(page, 'recovery codes');
    const codes = (await page.$$eval('#recovery-codes code', (nodes) =>
      nodes.map((n) => n.textContent),
    )) as string[];
    expect(codes).toHaveLength(10);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/'),
      page.click('text=I have kept my codes'),
    ]);

    await page.goto('/account/security');
    await expectAccessible(page, 'your sign-in and sessions');
    expect(await page.textContent('main')).toContain('(this session)');
    expect(await page.textContent('main')).toContain('Chrome on Linux');

    // A second browser signs in with the next code; the first sees two sessions and ends the other.
    const other = await newPage();
    await password(other, accounts.analyst.email);
    await expectAccessible(other, 'code');
    await other.fill('#code', totpCode(secret, new Date(Date.now() + 30_000)));
    await Promise.all([
      other.waitForURL((url) => url.pathname === '/'),
      other.click('form[action="/sign-in/two-factor"] button'),
    ]);
    await page.goto('/account/security');
    expect(await page.textContent('caption')).toContain('2 active sessions');
    const rows = page.locator('tbody tr', { hasNotText: '(this session)' });
    await Promise.all([page.waitForURL(/ended=1/), rows.locator('button').click()]);
    await expectAccessible(page, 'a session signed out');
    await other.goto('/loads');
    expect(new URL(other.url()).pathname).toBe('/sign-in');

    // Sign out everywhere ends this session too.
    await Promise.all([page.waitForURL(/\/sign-in/), page.click('text=Sign out everywhere')]);
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.context().close();
    await other.context().close();
  }, 180_000);

  it('signs in through the OpenID Connect provider on loopback, then Kernel’s own second factor', async () => {
    const page = await newPage();
    provider.person = {
      sub: 'sso-1',
      email: 'sso.analyst@example.nhs.uk',
      groups: ['analysts'],
      amr: ['pwd'],
    };
    await page.goto('/sign-in');
    await expectAccessible(page, '/sign-in with single sign-on');
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/sign-in/two-factor'),
      page.click('text=Sign in with your organisation'),
    ]);
    // An analyst, and the provider checked only a password: Kernel asks for its own factor.
    const secret = ((await page.textContent('#secret')) ?? '').replace(/\s/g, '');
    await page.fill('#code', totpCode(secret, new Date()));
    await page.click('form[action="/sign-in/two-factor"] button');
    await page.waitForSelector('#recovery-codes');
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/'),
      page.click('text=I have kept my codes'),
    ]);
    expect(await page.textContent('body')).toContain('sso.analyst@example.nhs.uk');
    await page.context().close();
  }, 120_000);
});
