import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { linkageReport } from '../../src/kid/linkage-report.ts';
import { buildSpine } from '../../src/kid/person-spine.ts';
import type { Role } from '../../src/server/routes.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { axeViolations, launchBrowser } from '../browser-setup.ts';
import { makeKidWorld } from '../kid-world.ts';
import { accountsForEveryRole, sessionFor, type TestAccount } from './portal-helpers.ts';

/**
 * The Linkage page in real Chromium on a small loaded world: it passes axe-core's WCAG 2.2
 * AA rules, shows each dataset's table with its reasons, and a provider sees only its own
 * organisation (page and API alike).
 */
describe('the Linkage page in Chromium', () => {
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;

  beforeAll(async () => {
    const world = await makeKidWorld({
      people: 200,
      from: '2020-04',
      to: '2020-05',
      datasets: ['pmi', 'apc', 'ecds', 'asc'],
      defects: 'none',
    });
    const dataDir = path.join(world.dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    accounts = await accountsForEveryRole(store, 'RWF');
    await world.load(store);
    await buildSpine(store);
    server = await startServer({ store, config, port: 0 });
    browser = await launchBrowser();
  }, 180_000);
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
    return context.newPage();
  }

  it('shows every linked dataset with its reasons, accessibly', async () => {
    const page = await pageAs(accounts.analyst);
    const response = await page.goto('/catalogue/linkage');
    expect(response?.status()).toBe(200);
    for (const dataset of ['pmi', 'apc', 'ecds', 'asc'])
      expect(await page.locator(`h2#linkage-${dataset}`).count()).toBe(1);
    expect(await page.locator('th', { hasText: 'Not registered' }).count()).toBe(4);
    const violations = await axeViolations(page);
    expect(violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('shows a provider only its own organisation', async () => {
    const page = await pageAs(accounts.provider);
    await page.goto('/catalogue/linkage');
    const providers = await page.locator('tbody th[scope="row"]').allTextContents();
    expect(providers.length).toBeGreaterThan(0);
    // Shown by name with the code (issue 22, item 7): "Maidstone and Tunbridge Wells NHS Trust (RWF)".
    const codes = providers.map((p) => /\(([A-Z0-9]{3,6})\)$/.exec(p.trim())?.[1] ?? p.trim());
    expect(new Set(codes)).toEqual(new Set(['RWF', 'All']));
    expect(providers.some((p) => p.includes('Maidstone and Tunbridge Wells'))).toBe(true);
    const api = await fetch(`${server.url}/api/v1/kid/linkage?org=RYY`, {
      headers: { Authorization: `Bearer ${accounts.provider.token}` },
    });
    const body = (await api.json()) as { rows: { org: string }[] };
    expect(body.rows.every((r) => r.org === 'RWF')).toBe(true);
    // Its own figures, exactly as the report holds them (issue 23, H1).
    expect(body.rows).toEqual(JSON.parse(JSON.stringify(await linkageReport(store, { org: 'RWF' }))));
    await page.context().close();
  }, 60_000);

  it('shows every other role the counts under disclosure control, and audits the read (issue 23, H1)', async () => {
    const api = await fetch(`${server.url}/api/v1/kid/linkage`, {
      headers: { Authorization: `Bearer ${accounts.analyst.token}` },
    });
    const body = (await api.json()) as { rows: Record<string, unknown>[] };
    const exact = await linkageReport(store, {});
    expect(body.rows).toHaveLength(exact.length);
    const counts = body.rows.flatMap((r) => [
      r.rows,
      r.withToken,
      r.onSpine,
      r.matched,
      r.linkedProbabilistically,
      ...Object.values(r.unmatched as Record<string, unknown>),
    ]);
    expect(counts.every((n) => n === '*' || (typeof n === 'number' && n % 5 === 0))).toBe(true);
    // A small world has small months: some are suppressed that the report holds exactly.
    expect(counts).toContain('*');
    expect(exact.some((r) => r.rows >= 1 && r.rows <= 7)).toBe(true);
    const page = await pageAs(accounts.viewer);
    await page.goto('/catalogue/linkage');
    expect(await page.locator('main').textContent()).toContain('Small numbers are controlled');
    await page.context().close();
    const audit = await store.query<{ n: number }>(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'metadata.read' AND target = 'linkage'",
    );
    expect(Number(audit[0]?.n)).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
