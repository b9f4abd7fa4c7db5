/**
 * Issue 19, re-identification, in real Chromium against the portal: an analyst asks for a
 * direct-care cohort of RWF's patients; a refused request shows its error summary; RWF's IG
 * lead and an administrator approve it; the IG lead downloads the sealed file; RWF's agent
 * re-identifies it against RWF's own extract. Every new page passes axe-core's WCAG 2.2 AA rules.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { parseCsv } from '../../src/files/csv-file-writer.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { newEncryptionKeyPair } from '../../src/privacy/encryption-key.ts';
import { newLinkKey } from '../../src/privacy/link-key.ts';
import { testRangeNhsNumber } from '../../src/privacy/nhs-number.ts';
import { reidentifyExtract } from '../../src/privacy/reidentify-extract.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { kernelSigningKey } from '../../src/reid/kernel-signing-key.ts';
import { trustEncryptionKey } from '../../src/reid/reid-requests.ts';
import { createApp } from '../../src/server/app.ts';
import { addUser, changePassword } from '../../src/server/auth/user-accounts.ts';
import { buildRouteTable } from '../../src/server/route-table.ts';
import type { ServerDeps } from '../../src/server/routes.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { AXE_SOURCE, axeViolations, launchBrowser } from '../browser-setup.ts';
import { sessionFor } from './portal-helpers.ts';
import { activeUseCase } from '../use-cases.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-reid-browser-'));
const PASSWORD = 'a long test passphrase 1';

const PEOPLE: string[] = [];
for (let serial = 100; PEOPLE.length < 6; serial++) {
  const n = testRangeNhsNumber(serial);
  if (n) PEOPLE.push(n);
}
const linkKey = newLinkKey();
const tokenOf = (n: string): string => hmacTokeniser(linkKey).token(n);

describe('re-identification in the portal, in Chromium', () => {
  let store: Store;
  let server: ServerType;
  let url = '';
  let browser: Browser;
  let dataDir = '';
  const users: Record<string, string> = {};
  const rwfKeys = newEncryptionKeyPair();
  const logLines: string[] = [];

  beforeAll(async () => {
    dataDir = path.join(dir, 'data');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    await seedOrganisations(store, 'test');
    await createAgreement(
      store,
      { org: 'RWF', datasets: ['msds-booking'], purposes: ['direct-care'], from: '2019-04', to: '2022-03' },
      'test',
    );
    await trustEncryptionKey(store, 'RWF', rwfKeys.publicKeyPem, 'test');
    await activeUseCase(store, {
      title: 'Missed maternity follow-up',
      purpose: 'direct-care',
      datasets: ['msds-booking'],
      controllers: ['RWF'],
      users: ['role:analyst'],
      months: 'loaded',
    });
    await store.exec(
      'CREATE TABLE ds_msds_booking (load_id TEXT NOT NULL, org_code TEXT NOT NULL, source_line BIGINT NOT NULL, person_token TEXT)',
    );
    await store.insertRows(
      'ds_msds_booking',
      ['load_id', 'org_code', 'source_line', 'person_token'],
      PEOPLE.map((n, i) => ['load-1', 'RWF', i + 2, tokenOf(n)]),
    );
    for (const [name, role, org] of [
      ['analyst', 'analyst', null],
      ['ig', 'ig-lead', 'RWF'],
      ['admin', 'admin', null],
    ] as const) {
      const { user } = await addUser(
        store,
        { email: `${name}@reid.test`, role, ...(org ? { org } : {}), password: PASSWORD },
        'test',
      );
      await changePassword(store, user.id, PASSWORD, `${PASSWORD}2`, 'test');
      users[name] = user.id;
    }
    const deps: ServerDeps = { store, config, log: (line) => logLines.push(line) };
    const routes = buildRouteTable(deps);
    const app = createApp(deps, { routes });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        url = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
  });

  async function signedIn(userId: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ baseURL: url, acceptDownloads: true });
    await context.addInitScript({ content: AXE_SOURCE });
    const [name, value] = (await sessionFor(store, userId)).cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url }]);
    return { context, page: await context.newPage() };
  }

  const accessible = async (page: Page, what: string) =>
    expect((await axeViolations(page)).map((v) => `${what}: ${v.id}: ${v.help}`)).toEqual([]);

  it('asks, is refused with a clear error, asks again, is approved twice, and is re-identified at RWF', async () => {
    const analyst = await signedIn(users.analyst as string);
    const page = analyst.page;
    await page.goto('/reidentification');
    await accessible(page, 'the list');
    await page.click('a:has-text("Ask for re-identification")');
    await accessible(page, 'the form');
    await page.fill('#controller', 'RWF');
    await page.fill('#reason', 'Missed postnatal follow-up: the midwives will call each');
    await page.fill('#fields', 'given_name, phone');
    await page.fill('#tokens', 'not-a-token');
    await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Ask for approval")')]);
    expect(await page.textContent('.nhsuk-error-summary')).toContain('not person tokens');
    await accessible(page, 'the form with an error');

    const cohort = PEOPLE.slice(0, 3).map(tokenOf);
    await page.fill('#tokens', cohort.join('\n'));
    await Promise.all([
      page.waitForURL(/\/reidentification\/REID-/),
      page.click('button:has-text("Ask for approval")'),
    ]);
    const requestUrl = new URL(page.url()).pathname;
    expect(await page.textContent('main')).toContain('awaiting-approval');
    expect(await page.locator('form[action$="/decision"]').count()).toBe(0);
    await accessible(page, 'the request, as its requester');
    await analyst.context.close();

    for (const who of ['ig', 'admin']) {
      const { context, page: approving } = await signedIn(users[who] as string);
      await approving.goto(requestUrl);
      await accessible(approving, `the approver’s form (${who})`);
      await Promise.all([
        approving.waitForLoadState('load'),
        approving.click('button:has-text("Record my decision")'),
      ]);
      await context.close();
    }

    const ig = await signedIn(users.ig as string);
    await ig.page.goto(requestUrl);
    expect(await ig.page.textContent('main')).toContain('released');
    await accessible(ig.page, 'a released request');
    const [download] = await Promise.all([
      ig.page.waitForEvent('download'),
      ig.page.click('a:has-text("Download")'),
    ]);
    const sealed = path.join(dir, 'sealed.reid.json');
    await download.saveAs(sealed);
    // The IG lead's record of its organisation's requests, and the public monthly counts.
    await ig.page.goto('/reidentification/record?org=RPA');
    const record = (await ig.page.textContent('main')) ?? '';
    expect(record).toContain('Re-identification record: RWF');
    expect(record).toContain('Missed postnatal follow-up');
    expect(record).toMatch(/IG lead: approve; second approver: approve/);
    await accessible(ig.page, 'the re-identification record');
    await ig.context.close();
    const administrator = await signedIn(users.admin as string);
    await administrator.page.goto('/reidentification/record');
    await accessible(administrator.page, 'the record, choosing a controller');
    await administrator.context.close();

    // RWF's agent, on RWF's machine: its extract knows people 0, 1 (not 2) and 3–5.
    const extract = path.join(dir, 'rwf.csv');
    writeFileSync(
      extract,
      ['nhs_number,given_name,phone', ...[0, 1, 3, 4, 5].map((i) => `${PEOPLE[i]},Name${i},0700${i}`)].join(
        '\n',
      ),
    );
    writeFileSync(path.join(dir, 'rwf.enc.key'), rwfKeys.privateKeyPem);
    writeFileSync(path.join(dir, 'kernel.pub'), kernelSigningKey(dataDir).publicKeyPem);
    const result = await reidentifyExtract({
      requestFile: sealed,
      decryptKeyFile: path.join(dir, 'rwf.enc.key'),
      kernelKeyFile: path.join(dir, 'kernel.pub'),
      linkKey,
      lookupFile: extract,
      outFile: path.join(dir, 'rwf-list.csv'),
    });
    expect(result).toMatchObject({ requested: 3, matched: 2, unmatched: 1 });
    expect(parseCsv(readFileSync(path.join(dir, 'rwf-list.csv'), 'utf8'))).toEqual([
      ['nhs_number', 'given_name', 'phone'],
      [PEOPLE[0], 'Name0', '07000'],
      [PEOPLE[1], 'Name1', '07001'],
    ]);

    // The server's log and the warehouse's store never held an NHS number.
    expect(logLines.length).toBeGreaterThan(5);
    let held = logLines.join('\n');
    const tables = await store.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()',
    );
    for (const { table_name } of tables) {
      held += JSON.stringify(await store.query(`SELECT * FROM "${table_name}"`), (_k, v: unknown) =>
        typeof v === 'bigint' ? String(v) : v,
      );
    }
    for (const n of PEOPLE) expect(held).not.toContain(n);
  }, 120_000);
});
