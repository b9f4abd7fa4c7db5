import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearMaternityCache } from '../../src/analytics/maternity-dashboard.ts';
import { resolveConfig } from '../../src/config/config.ts';
import type { Role } from '../../src/server/routes.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { axeViolations, launchBrowser } from '../browser-setup.ts';
import { buildWorld, WINDOW } from '../maternity-world.ts';
import { accountsForEveryRole, sessionFor, type TestAccount } from './portal-helpers.ts';

/**
 * The maternity dashboard in real Chromium, with figures (the hand-counted world): it
 * passes axe-core's WCAG 2.2 AA rules for the whole system and for a provider, its charts
 * are SVG images with a name, the CSP blocks nothing, and the data tables open from the
 * keyboard.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-maternity-browser-'));

describe('maternity dashboard in Chromium', () => {
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;
  const cspProblems: string[] = [];

  beforeAll(async () => {
    clearMaternityCache();
    const dataDir = path.join(dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    accounts = await accountsForEveryRole(store, 'RWF');
    await buildWorld(store, ['role:provider', 'role:analyst', 'role:viewer', 'role:admin']);
    server = await startServer({ store, config, port: 0 });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  async function pageAs(account: TestAccount): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.url });
    const { cookie } = await sessionFor(store, account.userId);
    const [name, value] = cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url: server.url }]);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspProblems.push(message.text());
    });
    return page;
  }

  async function expectAccessible(page: Page, label: string): Promise<void> {
    const violations = await axeViolations(page);
    expect(
      violations.map(
        (v) => `${label}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`,
      ),
    ).toEqual([]);
  }

  it('passes axe for the whole system, a provider, and a mistake in the filters', async () => {
    const page = await pageAs(accounts.analyst);
    const response = await page.goto(`/dashboards/maternity?from=${WINDOW.from}&to=${WINDOW.to}`);
    expect(response?.status()).toBe(200);
    // 18 measures on XmR charts; 4 rare events on funnel plots of providers
    expect(await page.locator('svg.kernel-spc-chart').count()).toBe(18);
    expect(await page.locator('svg.kernel-funnel-chart').count()).toBe(4);
    await expect(page.locator('table.kernel-icons-table tbody tr').count()).resolves.toBe(22);
    expect(await page.locator('svg.kernel-spc-chart').first().getAttribute('role')).toBe('img');
    await expectAccessible(page, 'whole system');

    const provider = await pageAs(accounts.provider);
    await provider.goto(`/dashboards/maternity?org=RWF&from=${WINDOW.from}&to=${WINDOW.to}`);
    await expect(provider.locator('h2', { hasText: 'RWF, Jan 2021 to Mar 2021' }).count()).resolves.toBe(1);
    await expect(provider.getByText('These are your organisation’s own figures').count()).resolves.toBe(1);
    await expectAccessible(provider, 'provider');

    await page.goto('/dashboards/maternity?from=2021-13&to=2021-03');
    await expectAccessible(page, 'filter error');

    // the chart settings page, for the people who set targets and rebases
    const admin = await pageAs(accounts.admin);
    expect((await admin.goto('/dashboards/maternity/charts'))?.status()).toBe(200);
    await expectAccessible(admin, 'chart settings');
    await admin.getByRole('button', { name: 'Set the target' }).click();
    await admin.waitForURL('**/dashboards/maternity/charts/target');
    await expectAccessible(admin, 'chart settings with an error');
    await admin.context().close();
    expect(cspProblems).toEqual([]);
    await page.context().close();
    await provider.context().close();
  });

  it('opens a data table from the keyboard alone', async () => {
    const page = await pageAs(accounts.viewer);
    await page.goto(`/dashboards/maternity?from=${WINDOW.from}&to=${WINDOW.to}`);
    const summary = page.locator('summary', { hasText: /^\s*Data table: Births\s*$/ });
    await summary.focus();
    await page.keyboard.press('Enter');
    const table = page.locator('details[open] table').first();
    await expect(table.isVisible()).resolves.toBe(true);
    await expect(table.locator('tbody tr').count()).resolves.toBe(3);
    await page.context().close();
  });
});
