import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { buildSpine } from '../../src/kid/person-spine.ts';
import { createApp } from '../../src/server/app.ts';
import { buildRouteTable } from '../../src/server/route-table.ts';
import type { Role, ServerDeps } from '../../src/server/routes.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { axeViolations, launchBrowser } from '../browser-setup.ts';
import { makeKidWorld } from '../kid-world.ts';
import { accountsForEveryRole, sessionFor, type TestAccount } from './portal-helpers.ts';
import { activeUseCase } from '../use-cases.ts';

/**
 * The cohort builder in real Chromium on a small loaded world: pick a use case, tick criteria,
 * count, save; every page passes axe-core's WCAG 2.2 AA rules, and the counts are controlled.
 */
describe('the cohort builder in Chromium', () => {
  let store: Store;
  let server: ServerType;
  let url = '';
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;
  let useCase = '';

  beforeAll(async () => {
    const world = await makeKidWorld({
      people: 300,
      from: '2020-04',
      to: '2020-05',
      datasets: ['pmi', 'gp-events', 'apc'],
      defects: 'none',
    });
    const dataDir = path.join(world.dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    accounts = await accountsForEveryRole(store, 'RWF');
    await world.load(store);
    await buildSpine(store);
    const controllers = [...new Set(world.records.map((r) => r.org))];
    for (const org of controllers) {
      const datasets = [...new Set(world.records.filter((r) => r.org === org).map((r) => r.dataset))].filter(
        (d) => ['pmi', 'gp-events', 'apc'].includes(d),
      );
      if (datasets.length)
        await createAgreement(store, { org, datasets, from: '2019-04', to: '2030-03' }, 'test');
    }
    const proposed = await activeUseCase(store, {
      title: 'Case finding for proactive care',
      purpose: 'direct-care',
      datasets: ['pmi', 'gp-events', 'apc'],
      controllers,
      users: ['role:analyst'],
      start: '2021-04-01',
      end: '2099-03-31',
      months: 'loaded',
    });
    useCase = proposed.id;
    const deps: ServerDeps = { store, config };
    // The cohort routes, until the route table lists them (then only once).
    const routes = buildRouteTable(deps);
    const app = createApp(deps, { routes });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
  });

  async function pageAs(account: TestAccount): Promise<Page> {
    const context = await browser.newContext({ baseURL: url });
    const { cookie } = await sessionFor(store, account.userId);
    const [name, value] = cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url }]);
    return context.newPage();
  }

  it('picks a use case, counts a cohort and saves it, accessibly', async () => {
    const page = await pageAs(accounts.analyst);
    expect((await page.goto('/cohorts'))?.status()).toBe(200);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: new RegExp(useCase) }).click();
    await page.getByLabel('Day', { exact: true }).fill('2020-05-15');
    await page.getByLabel('Hypertension').check();
    await page.getByLabel('Aged from').fill('40');
    await page.getByRole('button', { name: 'Count' }).click();
    await expect.poll(() => page.locator('caption', { hasText: 'by practice and sex' }).count()).toBe(1);
    expect(await page.getByText('Aged 40 or over').count()).toBe(1);
    const figures = await page.locator('table.nhsuk-table td.nhsuk-table__cell--numeric').allTextContents();
    expect(figures.length).toBeGreaterThan(0);
    expect(figures.every((f) => f === '*' || Number(f.replace(/,/g, '')) % 5 === 0)).toBe(true);
    expect((await axeViolations(page)).map((v) => `${v.id}: ${v.help}`)).toEqual([]);

    await page.getByText('Save this cohort for the use case').click();
    await page.getByLabel('Name', { exact: true }).fill('Hypertension over 40');
    await page.getByRole('button', { name: 'Save the cohort' }).click();
    await expect.poll(() => page.getByText('Saved “Hypertension over 40”').count()).toBe(1);
    await page.getByRole('link', { name: 'Hypertension over 40' }).click();
    await expect.poll(() => page.locator('caption', { hasText: 'by age band and sex' }).count()).toBe(1);
    expect((await axeViolations(page)).map((v) => `${v.id}: ${v.help}`)).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('shows a mistake in the error summary, keeping the criteria', async () => {
    const page = await pageAs(accounts.analyst);
    await page.goto(`/cohorts?useCase=${useCase}`);
    await page.getByLabel('Day', { exact: true }).fill('2020-05-15');
    await page.getByLabel('Diabetes mellitus').check();
    await page.getByLabel('Aged from').fill('70');
    await page.getByLabel('Aged to (inclusive)').fill('60');
    await page.getByRole('button', { name: 'Count' }).click();
    await expect.poll(() => page.locator('.nhsuk-error-summary').count()).toBe(1);
    expect(await page.getByLabel('Diabetes mellitus').isChecked()).toBe(true);
    expect((await axeViolations(page)).map((v) => `${v.id}: ${v.help}`)).toEqual([]);
    await page.context().close();
  }, 60_000);
});
