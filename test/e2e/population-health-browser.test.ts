import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { activateUseCase, approveUseCase, proposeUseCase } from '../../src/governance/use-cases.ts';
import { buildSpine } from '../../src/kid/person-spine.ts';
import { DASHBOARD_DATASETS } from '../../src/kid/population-health.ts';
import type { Role } from '../../src/server/routes.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { axeViolations, launchBrowser } from '../browser-setup.ts';
import { makeKidWorld } from '../kid-world.ts';
import { accountsForEveryRole, sessionFor, type TestAccount } from './portal-helpers.ts';

/**
 * The population health dashboard in real Chromium on a small loaded world: it passes
 * axe-core's WCAG 2.2 AA rules, draws each chart with a data table under it, filters to a
 * practice, and shows only disclosure-controlled counts.
 */
describe('the population health dashboard in Chromium', () => {
  let store: Store;
  let server: RunningServer;
  let browser: Browser;
  let accounts: Record<Role, TestAccount>;
  let useCase = '';
  const datasets = [...DASHBOARD_DATASETS];

  beforeAll(async () => {
    const world = await makeKidWorld({
      people: 2000,
      from: '2020-04',
      to: '2020-09',
      datasets,
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
      const supplied = [...new Set(world.records.filter((r) => r.org === org).map((r) => r.dataset))];
      await createAgreement(store, { org, datasets: supplied, from: '2019-04', to: '2030-03' }, 'test');
    }
    const proposed = await proposeUseCase(
      store,
      {
        title: 'Population health management',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
        datasets,
        controllers,
        users: ['role:analyst'],
        start: '2021-04-01',
        end: '2099-03-31',
        months: 'loaded',
      },
      'test',
    );
    for (const org of controllers) await approveUseCase(store, proposed.id, org, 'test');
    await activateUseCase(store, proposed.id, 'test');
    useCase = proposed.id;
    server = await startServer({ store, config, port: 0 });
    browser = await launchBrowser();
  }, 240_000);
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

  it('shows every chart with its data table, for the system and a practice, accessibly', async () => {
    const page = await pageAs(accounts.analyst);
    expect((await page.goto('/'))?.status()).toBe(200);
    await page.getByRole('link', { name: 'Population health' }).first().click();
    await expect
      .poll(() => page.getByRole('heading', { name: 'Population health', level: 1 }).count())
      .toBe(1);
    // The use case made for this test (the picker lists every one the analyst is on).
    await page.locator('#useCase').selectOption(useCase);
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.locator('#useCase').inputValue()).toBe(useCase);
    for (const heading of [
      'Population by age and sex',
      'Long-term conditions',
      'Number of conditions by age',
      'Conditions by age and deprivation',
      'Frailty',
      'Cost per person by segment and setting',
    ])
      expect(await page.getByRole('heading', { name: heading, exact: true }).count(), heading).toBe(1);
    // Every chart is an image with a name and a description, and a data table follows it.
    const charts = page.locator('figure svg[role="img"]');
    expect(await charts.count()).toBeGreaterThanOrEqual(6);
    expect(await page.locator('details table.nhsuk-table').count()).toBeGreaterThanOrEqual(6);
    expect((await axeViolations(page)).map((v) => `${v.id}: ${v.help}`)).toEqual([]);

    // Open the tables: every count shown is controlled (0, *, or a multiple of 5).
    await page.getByText('Data table: population by age and sex').click();
    const counts = await page
      .locator('table:has(caption:text("Population by age band and sex")) td.nhsuk-table__cell--numeric')
      .allTextContents();
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.every((c) => c === '*' || Number(c.replace(/,/g, '')) % 5 === 0)).toBe(true);

    // A practice: choose it and show.
    const practice = await page.locator('#scope option[value^="practice:"]').first().getAttribute('value');
    expect(practice).toBeTruthy();
    await page.locator('#scope').selectOption(practice as string);
    await page.getByRole('button', { name: 'Show' }).click();
    await expect
      .poll(() =>
        page
          .getByRole('heading', { level: 2, name: new RegExp(`Practice ${(practice as string).slice(9)}`) })
          .count(),
      )
      .toBe(1);
    expect((await axeViolations(page)).map((v) => `${v.id}: ${v.help}`)).toEqual([]);

    // A mistake in the area is shown beside the form.
    await page.goto('/kid/population-health?lsoa=not-a-code');
    await expect.poll(() => page.getByText('There is a problem').count()).toBe(1);
    expect((await axeViolations(page)).map((v) => `${v.id}: ${v.help}`)).toEqual([]);
    await page.context().close();
  }, 120_000);
});
