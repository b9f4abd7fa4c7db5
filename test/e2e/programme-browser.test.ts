import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import { seedDemoProgramme } from '../../src/reporting/demo-programme.ts';
import { SESSION_COOKIE } from '../../src/server/app.ts';
import { createSession } from '../../src/server/auth/sessions.ts';
import type { Role } from '../../src/server/routes.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { axeViolations, launchBrowser } from '../browser-setup.ts';
import { accountsForEveryRole, type TestAccount } from './portal-helpers.ts';

/**
 * The programme office's pages in real Chromium, signed in as the programme team, on the
 * demo's 2021 plan: every page passes axe (WCAG 2.2 AA) with no CSP violation, the plan's
 * chart is drawn readably (a screenshot is taken to look at), and a draft update is edited
 * and issued through its forms.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-programme-browser-'));
export const CHART_SCREENSHOT = path.join(os.tmpdir(), 'kernel-programme-plan-2021-07.png');

describe('the programme office in Chromium', () => {
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;
  let page: Page;
  const cspProblems: string[] = [];

  beforeAll(async () => {
    const dataDir = path.join(dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    accounts = await accountsForEveryRole(store);
    await seedDemoGovernance(store, 'test');
    await seedDemoProgramme(store, 'test');
    server = await startServer({ store, config, port: 0 });
    browser = await launchBrowser();
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
    const { sessionId } = await createSession(store, accounts.programme.userId);
    await context.addCookies([{ name: SESSION_COOKIE, value: sessionId, url: server.url }]);
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        cspProblems.push(`${page.url()}: ${message.text()}`);
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  async function expectAccessible(what: string): Promise<void> {
    const violations = await axeViolations(page);
    expect(
      violations.map(
        (v) =>
          `${what}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      ),
    ).toEqual([]);
  }

  it('passes axe on the plan, the RAID log, an item, the updates and an update, with no CSP violation', async () => {
    for (const url of [
      '/programme',
      '/programme/raid',
      '/programme/raid?kind=risk&state=open',
      '/programme/raid/R-001',
      '/programme/raid/I-001',
      '/programme/updates',
      '/programme/updates/2021-07',
      '/programme/updates/2021-07/document',
    ]) {
      const response = await page.goto(url);
      expect(response?.status(), url).toBe(200);
      await expectAccessible(url);
    }
    expect(
      await page.request.get('/programme/updates/2021-07/pdf').then((r) => r.headers()['content-type']),
    ).toBe('application/pdf');
    expect(cspProblems).toEqual([]);
  }, 120_000);

  it('draws the July 2021 plan readably: months, workstreams, milestones marked M, and now', async () => {
    await page.goto('/programme/updates/2021-07');
    const chart = page.locator('svg[aria-labelledby^="plan-chart"]');
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(700);
    expect(box?.height).toBeGreaterThan(300);
    const texts = await chart.locator('text').allTextContents();
    for (const expected of ['Jan', 'Jul', 'Oct', 'Proof of concept', 'Maternity dashboard', 'Now', 'M']) {
      expect(texts).toContain(expected);
    }
    expect(await chart.locator('title').first().textContent()).toBe(
      'High-level plan, January 2021 to October 2021',
    );
    await chart.screenshot({ path: CHART_SCREENSHOT });
    expect(statSync(CHART_SCREENSHOT).size).toBeGreaterThan(10_000);
  }, 60_000);

  it('edits a draft update through its forms and issues it; the issued update offers no forms', async () => {
    await page.goto('/programme/updates/2021-07');
    await page.fill('#text', 'Data engineer recruited');
    await page.selectOption('#section', 'completed');
    await Promise.all([
      page.waitForURL('**/programme/updates/2021-07'),
      page.click('button:has-text("Add line")'),
    ]);
    expect(await page.locator('main').textContent()).toContain('Data engineer recruited');
    await Promise.all([
      page.waitForURL('**/programme/updates/2021-07'),
      page.click('button:has-text("Issue the update for July 2021")'),
    ]);
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toMatch(/Issued\s.*it is kept exactly as issued/);
    expect(await page.locator('main form').count()).toBe(0);
    await expectAccessible('an issued update');
  }, 60_000);
});
