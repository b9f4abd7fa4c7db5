import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { listLoads } from '../../src/ingest/load-history.ts';
import { SESSION_COOKIE } from '../../src/server/app.ts';
import { createSession } from '../../src/server/auth/sessions.ts';
import { buildRouteTable } from '../../src/server/route-table.ts';
import { mayUse, type Role } from '../../src/server/routes.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { AXE_SOURCE, axeViolations, launchBrowser } from '../browser-setup.ts';
import {
  accountsForEveryRole,
  PASSWORD,
  prepareForFeed,
  pseudonymisedFeed,
  type PseudonymisedFeed,
  type TestAccount,
} from './portal-helpers.ts';
import { enrolTestAuthenticator, nextTotpCode } from './two-factor-helpers.ts';

/**
 * The portal in real Chromium against a real server on the embedded store: every page
 * passes axe-core's WCAG 2.2 AA rules, the CSP blocks nothing of ours, and signing in and
 * uploading work from the keyboard alone.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-browser-'));

/** Presses Tab until the focused element matches, as a keyboard user would. */
async function tabTo(page: Page, matches: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (
      await page.evaluate(
        `document.activeElement && document.activeElement.matches(${JSON.stringify(matches)})`,
      )
    )
      return;
  }
  throw new Error(`Tab never reached ${matches}`);
}

/**
 * Presses Space on the focused file input and picks `file` in the chooser it opens.
 * Playwright turns on its interception of file choosers asynchronously, so a press that
 * lands first opens a native dialog it never sees: a keyboard user would press again, and
 * so does this, up to three times.
 */
async function chooseByKeyboard(page: Page, file: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const opened = page.waitForEvent('filechooser', { timeout: 5_000 });
    await page.keyboard.press('Space');
    try {
      await (await opened).setFiles(file);
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

describe('portal in Chromium', () => {
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;
  let feed: PseudonymisedFeed;
  const cspProblems: string[] = [];
  /** the authenticators of the accounts that sign in by keyboard (issue 19: a second factor) */
  const authenticators = new Map<string, string>();

  beforeAll(async () => {
    const dataDir = path.join(dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    accounts = await accountsForEveryRole(store);
    for (const role of ['analyst', 'provider', 'admin'] as const) {
      authenticators.set(accounts[role].email, await enrolTestAuthenticator(store, accounts[role].userId));
    }
    feed = await pseudonymisedFeed(dir);
    await prepareForFeed(store, feed);
    server = await startServer({ store, config, port: 0 });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  async function pageFor(): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.url });
    // axe-core is added to every document through the DevTools protocol, outside the CSP.
    await context.addInitScript({ content: AXE_SOURCE });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        cspProblems.push(`${page.url()}: ${message.text()}`);
    });
    return page;
  }

  async function signInByKeyboard(page: Page, account: TestAccount): Promise<void> {
    await page.goto('/sign-in');
    await tabTo(page, '#email');
    await page.keyboard.type(account.email);
    await tabTo(page, '#password');
    await page.keyboard.type(PASSWORD);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/sign-in/two-factor'),
      page.keyboard.press('Enter'),
    ]);
    await tabTo(page, '#code');
    await page.keyboard.type(nextTotpCode(authenticators.get(account.email) as string));
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.keyboard.press('Enter')]);
  }

  async function expectAccessible(page: Page, what: string): Promise<void> {
    const violations = await axeViolations(page);
    expect(
      violations.map(
        (v) =>
          `${what}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      ),
    ).toEqual([]);
  }

  it('signs in with the keyboard alone, and the sign-in page (with and without errors) is accessible', async () => {
    const page = await pageFor();
    await page.goto('/sign-in');
    await expectAccessible(page, '/sign-in');
    await tabTo(page, 'button[type="submit"], .nhsuk-button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.nhsuk-error-summary');
    await expectAccessible(page, '/sign-in with errors');
    // The error summary takes focus (NHS.UK frontend), so a keyboard user hears it first.
    await signInByKeyboard(page, accounts.analyst);
    expect(await page.textContent('h1')).toContain('Kernel');
    await page.context().close();
  }, 180_000);

  it('uploads a pseudonymised file and its manifest with the keyboard, through the same load as kernel load', async () => {
    const page = await pageFor();
    await signInByKeyboard(page, accounts.provider);
    await page.goto('/upload');
    await expectAccessible(page, '/upload');
    // It opens clean: no field in the error state, no empty "Error:" for a screen reader
    // (issue 22, item 4). Sent empty, every missing field says what it needs.
    expect(await page.locator('.nhsuk-form-group--error, .nhsuk-error-message').count()).toBe(0);
    await Promise.all([
      page.waitForLoadState(),
      page.click('form[action="/upload"] button:not([type="button"])'),
    ]);
    expect(await page.locator('.nhsuk-error-summary').count()).toBe(1);
    const messages = await page.locator('.nhsuk-error-message').allTextContents();
    expect(messages.map((m) => m.replace(/\s+/g, ' ').trim())).toEqual([
      'Error: Select the dataset the file holds',
      'Error: Select the pseudonymised file',
      'Error: Select the file’s manifest (.manifest.json)',
    ]);
    await expectAccessible(page, '/upload with errors');
    await page.goto('/upload');
    await tabTo(page, '#dataset');
    await page.keyboard.type('Admitted');
    expect(await page.inputValue('#dataset')).toBe('apc');
    for (const [id, file] of [
      ['file', feed.file],
      ['manifest', feed.manifest],
    ] as const) {
      // Space on a focused file input opens the chooser, as it does for a keyboard user.
      await tabTo(page, `#${id}`);
      await chooseByKeyboard(page, file);
    }
    await tabTo(page, 'form[action="/upload"] button:not([type="button"])');
    await Promise.all([page.waitForURL(/\/loads\/ld-/), page.keyboard.press('Enter')]);
    const body = await page.textContent('main');
    expect(body).toContain('Your file has been through the load');
    expect(body).toContain('Reconciliation');
    expect(body).toContain('apc-2025-04.csv');
    await expectAccessible(page, 'load report');
    const [load] = await listLoads(store, { org: 'RWF' });
    expect(load).toMatchObject({
      dataset: 'apc',
      period: '2025-04',
      state: 'loaded',
      rowsRead: 30,
      rowsQuarantined: 1,
    });
    await page.context().close();
  }, 180_000);

  it('shows the audit log as a readable, paged list, each event whole on its own page (issue 22, item 3)', async () => {
    // Events with long details, as loads and reads leave them.
    await store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 150 }, (_, i) => ({
          actor: 'cli:ops',
          action: 'load.completed',
          target: `ld-long-${i}`,
          details: {
            org: 'RWF',
            dataset: 'apc',
            period: '2025-04',
            sha256: 'f'.repeat(64),
            rowsRead: 1000,
            rowsLoaded: 990,
            supersedes: ['ld-a', 'ld-b', 'ld-c'],
          },
        })),
      ),
    );
    const page = await pageFor();
    await signInByKeyboard(page, accounts.admin);
    await page.goto('/audit');
    await expectAccessible(page, '/audit');
    const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
    expect(height).toBeLessThan(20_000);
    const tallest = await page.$$eval('main tbody tr', (rows) =>
      Math.max(...rows.map((r) => r.getBoundingClientRect().height)),
    );
    expect(tallest).toBeLessThan(160); // it was 873 px, with the details squeezed to 73 px
    const narrowest = await page.$$eval('td.kernel-audit-summary', (cells) =>
      Math.min(...cells.map((c) => c.getBoundingClientRect().width)),
    );
    expect(narrowest).toBeGreaterThan(200);
    expect(await page.textContent('caption')).toMatch(/^100 of [\d,]+ events, newest first$/);
    expect(await page.locator('main tbody tr', { hasText: 'ld-long-149' }).textContent()).toContain(
      'rowsRead: 1000',
    );
    await Promise.all([page.waitForURL(/\/audit\?before=\d+/), page.click('text=Older events')]);
    expect(await page.locator('main tbody tr').count()).toBeGreaterThan(0);
    await Promise.all([
      page.waitForURL(/\/audit\/events\/\d+/),
      page.locator('main tbody tr a').first().click(),
    ]);
    await expectAccessible(page, 'an audit event');
    expect(await page.textContent('pre')).toMatch(/"sha256": "f{64}"/);
    await page.context().close();
  }, 120_000);

  it('passes axe (WCAG 2.2 AA) on every page of the route table, with no CSP violation', async () => {
    const routes = buildRouteTable({ store, config: resolveConfig({}).config });
    const [load] = await listLoads(store, {});
    const examples: Record<string, string> = { id: load?.loadId ?? 'ld-none', dataset: 'apc' };
    // Each page is visited as the first role that may use it (administrators first), in a
    // browser context signed in as that role.
    const pages = new Map<Role, Page>();
    const pageAs = async (role: Role): Promise<Page> => {
      let page = pages.get(role);
      if (!page) {
        page = await pageFor();
        const { sessionId } = await createSession(store, accounts[role].userId);
        await page.context().addCookies([{ name: SESSION_COOKIE, value: sessionId, url: server.url }]);
        pages.set(role, page);
      }
      return page;
    };
    const order: Role[] = ['admin', 'ig-lead', 'provider', 'analyst', 'viewer'];
    const visited: string[] = [];
    for (const route of routes) {
      if (route.kind !== 'page' || route.method !== 'GET' || route.path.endsWith('.json')) continue;
      if (route.path === '/sign-in') continue; // covered signed out, above
      const role = order.find((r) =>
        mayUse(route.access, {
          userId: '',
          email: '',
          role: r,
          org: null,
          via: 'session',
          mustChangePassword: false,
        }),
      );
      if (!role) continue;
      const url = route.path.replace(
        /:(\w+)/g,
        (_, name: string) => examples[name] ?? route.example?.[name] ?? 'x',
      );
      const page = await pageAs(role);
      // Downloads (CSV, PDF) are not pages for axe.
      const head = await page.request.get(url);
      if (!(head.headers()['content-type'] ?? '').startsWith('text/html')) continue;
      const response = await page.goto(url);
      expect(response?.status(), url).toBeLessThan(500);
      await expectAccessible(page, `${url} as ${role}`);
      visited.push(url);
    }
    const page = await pageAs('admin');
    await page.goto('/catalogue/coverage?from=2025-13');
    await expectAccessible(page, 'coverage with an error');
    await page.goto('/no-such-page');
    await expectAccessible(page, 'not found');
    expect(visited).toEqual(
      expect.arrayContaining([
        '/',
        '/catalogue',
        '/catalogue/coverage',
        '/catalogue/apc',
        '/loads',
        '/audit',
        '/upload',
      ]),
    );
    expect(cspProblems).toEqual([]);
    for (const open of pages.values()) await open.context().close();
  }, 300_000);
});
