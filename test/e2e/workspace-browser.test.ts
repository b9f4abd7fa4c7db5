/**
 * Issue 15 in real Chromium against a real server: an analyst writes a query beside the data
 * dictionary, runs and saves it, requests an aggregate output; two output checkers from
 * different organisations approve it; the analyst downloads exactly the file they checked.
 * Every new page passes axe-core's WCAG 2.2 AA rules.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { addUser, changePassword } from '../../src/server/auth/user-accounts.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { buildWorkspaceWorld, type WorkspaceWorld } from '../../src/workspace/workspace-world.ts';
import { AXE_SOURCE, axeViolations, launchBrowser } from '../browser-setup.ts';
import { sessionFor } from './portal-helpers.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-workspace-browser-'));

describe('the analyst workspace in Chromium', () => {
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let world: WorkspaceWorld;
  const checkers: string[] = [];

  beforeAll(async () => {
    const dataDir = path.join(dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    world = await buildWorkspaceWorld(store, 'browser');
    for (const [email, org] of [
      ['checker.icb@workspace.test', 'QKS'],
      ['checker.rwf@workspace.test', 'RWF'],
    ] as const) {
      const { user } = await addUser(
        store,
        { email, role: 'output-checker', org, password: 'a long test passphrase 1' },
        'test',
      );
      await changePassword(store, user.id, 'a long test passphrase 1', 'a long test passphrase 2', 'test');
      checkers.push(user.id);
    }
    server = await startServer({ store, config, port: 0 });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  async function signedIn(userId: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ baseURL: server.url, acceptDownloads: true });
    await context.addInitScript({ content: AXE_SOURCE });
    const [name, value] = (await sessionFor(store, userId)).cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url: server.url }]);
    return { context, page: await context.newPage() };
  }

  const accessible = async (page: Page, what: string) =>
    expect((await axeViolations(page)).map((v) => `${what}: ${v.id}: ${v.help}`)).toEqual([]);

  it('runs, saves and requests an output; two checkers release it; the analyst downloads it', async () => {
    const useCase = world.useCases.planning;
    const analyst = await signedIn(world.users.analyst1.id);
    const page = analyst.page;

    await page.goto('/workspace');
    await accessible(page, 'the use-case picker');
    await Promise.all([
      page.waitForURL(`**/workspace?useCase=${useCase}`),
      page.click(`a[href="/workspace?useCase=${useCase}"]`),
    ]);
    await accessible(page, 'the workspace');
    expect(await page.textContent('main')).toContain('msds_booking');

    const sql = 'SELECT org_code, count(*) AS bookings FROM msds_booking GROUP BY org_code ORDER BY org_code';
    await page.fill('#sql', sql);
    await Promise.all([page.waitForLoadState('load'), page.click('button[value="run"]')]);
    expect(await page.textContent('main')).toMatch(/\d+ rows in \d+ ms/);
    await accessible(page, 'a result');

    await page.fill('#name', 'Bookings by trust');
    await Promise.all([page.waitForLoadState('load'), page.click('button[value="save"]')]);
    expect(await page.textContent('main')).toContain('Saved “Bookings by trust” for this use case.');

    // A query that reaches outside the workspace is refused beside the editor, the SQL kept.
    await page.fill('#sql', "SELECT * FROM read_csv('/etc/passwd')");
    await Promise.all([page.waitForLoadState('load'), page.click('button[value="run"]')]);
    expect(await page.textContent('.nhsuk-error-summary')).toContain('The query did not run');
    expect(await page.inputValue('#sql')).toContain('/etc/passwd');

    await page.fill('#sql', sql);
    await page.click('summary:has-text("Request an output")');
    await page.fill('#title', 'Bookings by trust');
    await page.fill('#description', 'For the LMNS board paper');
    await page.fill('#rows', 'org_code');
    await page.fill('#count', 'bookings');
    await Promise.all([page.waitForURL(/\/outputs\/OUT-/), page.click('button[value="request"]')]);
    const outputUrl = new URL(page.url()).pathname;
    await accessible(page, 'an output request');
    expect(await page.textContent('main')).toContain('submitted');

    for (const checker of checkers) {
      const { context, page: checking } = await signedIn(checker);
      await checking.goto('/outputs');
      await accessible(checking, 'the outputs list');
      await checking.goto(outputUrl);
      await accessible(checking, 'the checker’s form');
      const before = await checking.locator('li:has-text("approve by an output checker")').count();
      await checking.click('button:has-text("Record my check")');
      await checking.locator('li:has-text("approve by an output checker")').nth(before).waitFor();
      await context.close();
    }

    await page.goto(outputUrl);
    expect(await page.textContent('main')).toContain('released');
    const sha256 = (await page.textContent('code'))?.trim();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('a:has-text("Download")'),
    ]);
    const file = path.join(dir, 'downloaded.csv');
    await download.saveAs(file);
    const bytes = readFileSync(file);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);
    expect(bytes.toString('utf8').split('\r\n')[0]).toBe('org_code,bookings');
    await analyst.context.close();

    // The controller sees the queries asked of its data on its transparency page.
    const { user: ig } = await addUser(
      store,
      { email: 'ig.rwf@workspace.test', role: 'ig-lead', org: 'RWF', password: 'a long test passphrase 1' },
      'test',
    );
    await changePassword(store, ig.id, 'a long test passphrase 1', 'a long test passphrase 2', 'test');
    const controller = await signedIn(ig.id);
    await controller.page.goto('/transparency');
    expect(await controller.page.textContent('main')).toContain('FROM msds_booking GROUP BY org_code');
    await accessible(controller.page, 'the transparency page with workspace queries');
    await controller.context.close();
  }, 120_000);
});
