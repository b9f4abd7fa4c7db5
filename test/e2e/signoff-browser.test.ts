/**
 * Issue 16, measured: a BI lead goes from a new load to a signed-off month in Chromium, from
 * the home page's "Needs your action" to the pack and its decision, every page axe-clean. The
 * test prints the clicks and seconds it took.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import type { Role } from '../../src/server/routes.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { listSignOffs } from '../../src/signoff/sign-off.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { AXE_SOURCE, axeViolations, launchBrowser } from '../browser-setup.ts';
import { apcFeed, prepareForApc } from '../kill-load.ts';
import { accountsForEveryRole, sessionFor, type TestAccount } from './portal-helpers.ts';

describe('sign-off in Chromium (issue 16)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-signoff-browser-'));
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;

  beforeAll(async () => {
    const dataDir = path.join(dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    accounts = await accountsForEveryRole(store, 'RWF');
    const files = [
      await apcFeed(dir, 'apc-2025-02', 300, '2025-02', 1),
      await apcFeed(dir, 'apc-2025-03', 300, '2025-03', 2),
    ];
    await prepareForApc(store, dir);
    for (const file of files) {
      expect((await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' })).status).toBe(
        'loaded',
      );
    }
    server = await startServer({ store, config, port: 0 });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  it('takes a BI lead from a new load to a signed-off month in a few clicks, accessibly', async () => {
    const context = await browser.newContext({ baseURL: server.url });
    await context.addInitScript({ content: AXE_SOURCE });
    const { cookie } = await sessionFor(store, accounts.provider.userId);
    const [name, value] = cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url: server.url }]);
    const page = await context.newPage();
    const accessible = async (what: string) =>
      expect((await axeViolations(page)).map((v) => `${what}: ${v.id}: ${v.help}`)).toEqual([]);

    const started = performance.now();
    let clicks = 0;
    await page.goto('/');
    const waiting = page.locator('a', { hasText: 'apc from RWF for 2025-03 waits for your sign-off' });
    expect(await waiting.count()).toBe(1);
    await Promise.all([page.waitForURL('**/signoff/RWF/apc/2025-03'), waiting.click()]);
    clicks += 1;
    await accessible('the sign-off pack');
    expect(await page.textContent('main')).toContain('Checks');
    expect(await page.locator('.kernel-spc-chart').count()).toBe(1);
    await page.fill('#note', 'Agrees with our own count');
    await Promise.all([
      page.waitForURL(/\/signoff\/RWF\/apc\/2025-03\?done=sign-off/),
      page.getByRole('button', { name: 'Sign off' }).click(),
    ]);
    clicks += 1;
    const seconds = (performance.now() - started) / 1000;
    expect(await page.textContent('main')).toContain('Recorded: the month is now signed-off.');
    await accessible('the signed-off pack');
    await page.goto('/signoff');
    await accessible('the sign-off list');
    console.log(
      `sign-off: a BI lead went from the home page to a signed-off month in ${clicks} clicks and ${seconds.toFixed(1)} s`,
    );
    const march = (await listSignOffs(store, { actor: 'test', role: 'provider', org: 'RWF' })).find(
      (m) => m.period === '2025-03',
    );
    expect(march).toMatchObject({ state: 'signed-off', note: 'Agrees with our own count' });
    expect(clicks).toBeLessThanOrEqual(3);
    await context.close();
  }, 120_000);

  it('sends a rejection back with its reasons, and refuses one without them', async () => {
    const context = await browser.newContext({ baseURL: server.url });
    const { cookie } = await sessionFor(store, accounts.provider.userId);
    const [name, value] = cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url: server.url }]);
    const page = await context.newPage();
    await page.goto('/signoff/RWF/apc/2025-02');
    await Promise.all([
      page.waitForURL('**/2025-02/reject'),
      page.getByRole('button', { name: 'Reject' }).click(),
    ]);
    expect(await page.locator('.nhsuk-error-summary').textContent()).toContain(
      'Say why the month is rejected',
    );
    await page.fill('#note', 'Admissions for ward 7 are missing');
    await Promise.all([page.waitForURL(/done=reject/), page.getByRole('button', { name: 'Reject' }).click()]);
    expect(await page.textContent('main')).toContain('Note: Admissions for ward 7 are missing');
    await context.close();
  }, 60_000);
});
