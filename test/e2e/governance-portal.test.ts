import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadUser } from '../../src/governance/access-policy.ts';
import { openGovernedRead } from '../../src/governance/access-policy.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, igLeadOf, portalApp, sessionFor, type TestAccount } from './portal-helpers.ts';

describe.each(testStores())('governance in the portal and the API on $engine', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;
  let igRwf: { userId: string; token: string };

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store);
    igRwf = await igLeadOf(store, 'RWF');
    await seedDemoGovernance(store, 'test');
    portal = portalApp(store);
    // Someone reads RWF's maternity data under the dashboard use case, and RPA's under workforce.
    await store.exec(
      'CREATE TABLE ds_msds_booking (load_id TEXT NOT NULL, org_code TEXT NOT NULL, source_line BIGINT NOT NULL, person_token TEXT)',
    );
    const analyst: ReadUser = { id: accounts.analyst.userId, role: 'analyst', org: null };
    await openGovernedRead(store, { user: analyst, useCaseId: 'UC-004' }, 'msds-booking');
  });
  afterAll(async () => {
    await store.close();
  });

  const page = async (path: string, account?: { userId: string }) => {
    const headers: Record<string, string> = {};
    if (account) headers.Cookie = (await sessionFor(store, account.userId)).cookie;
    const response = await portal.app.request(path, { headers, redirect: 'manual' });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  it('serves the public site without sign-in: members, datasets held, approved use cases, how to opt out', async () => {
    const { status, body } = await page('/public');
    expect(status).toBe(200);
    expect(body).toContain('Maidstone and Tunbridge Wells NHS Trust');
    expect(body).toContain('Maternity dashboard');
    expect(body).toContain('UK GDPR Art 6(1)(e) and 9(2)(j); s251 support under COPI Regulation 5');
    expect(body).toContain('https://www.nhs.uk/your-nhs-data-matters/');
    const api = await portal.app.request('/api/v1/public');
    expect(api.status).toBe(200);
    const site = (await api.json()) as { useCases: unknown[]; members: unknown[] };
    expect(site.useCases).toHaveLength(5);
  });

  it('shows every member’s onboarding at a glance, and lets an administrator mark the next step', async () => {
    const list = await page('/organisations', accounts.viewer);
    expect(list.status).toBe(200);
    expect(list.body).toMatch(/Kent Community Health NHS Foundation Trust[\s\S]*3 of 7 steps/);
    const session = await sessionFor(store, accounts.admin.userId);
    const post = await portal.app.request('/organisations/RYY/onboarding', {
      method: 'POST',
      headers: { Cookie: session.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        csrf: session.csrf,
        step: 'test-feed-loaded',
        note: 'April 2021 PMI',
      }).toString(),
      redirect: 'manual',
    });
    expect(post.status).toBe(303);
    const detail = await page('/organisations/RYY?done=test-feed-loaded', accounts.admin);
    expect(detail.body).toContain('April 2021 PMI');
    expect(detail.body).toContain('Mark “Data quality reviewed” done');
  });

  it('shows an administrator the year’s funding and invoices, printable and exportable', async () => {
    const funding = await page('/funding?year=2021/22', accounts.admin);
    expect(funding.status).toBe(200);
    expect(funding.body).toContain('KER-2122-0001');
    expect(funding.body).toContain('£1,000,000.00');
    const html = await page('/funding/invoices/KER-2122-0001', accounts.admin);
    expect(html.body).toContain('Invoice KER-2122-0001');
    const pdf = await portal.app.request('/funding/invoices/KER-2122-0001/pdf', {
      headers: { Cookie: (await sessionFor(store, accounts.admin.userId)).cookie },
    });
    expect(pdf.headers.get('Content-Type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    const csv = await page('/funding/invoices.csv?year=2021/22', accounts.admin);
    expect(csv.headers.get('Content-Disposition')).toBe('attachment; filename="invoices-2021-22.csv"');
    expect(csv.body.split('\r\n')[0]).toMatch(/^number,financial_year/);
    expect((await page('/funding', accounts.viewer)).status).toBe(403);
  });

  it('shows an IG lead who read their organisation’s data, and nobody else’s', async () => {
    const own = await page('/transparency', igRwf);
    expect(own.status).toBe(200);
    expect(own.body).toContain('UC-004: Maternity dashboard');
    expect(own.body).toContain('analyst@portal.test (analyst)');
    // Asking for another controller changes nothing: an IG lead sees their own.
    const other = await portal.app.request('/api/v1/transparency/reads?org=RPA', {
      headers: { Authorization: `Bearer ${igRwf.token}` },
    });
    const reads = ((await other.json()) as { reads: { org: string }[] }).reads;
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.org === 'RWF')).toBe(true);
    const csv = await page('/transparency/reads.csv', igRwf);
    expect(csv.body).toMatch(/^accessed_at,user,role,use_case/);
    expect(csv.body).toContain(',UC-004,Maternity dashboard,planning,msds-booking,RWF,yes');
    const orphan = await page('/transparency', accounts['ig-lead']);
    expect(orphan.status).toBe(403);
    // Past 500 reads the page says how many there are and that the CSV has them all
    // (issue 22, item 2: lists never stop silently).
    const before = Number(/(\d+) reads, newest first/.exec((await page('/transparency', igRwf)).body)?.[1]);
    await store.insertRows(
      'data_access_log',
      [
        'access_id',
        'accessed_at',
        'user_id',
        'user_role',
        'use_case_id',
        'dataset_id',
        'org_code',
        'opt_out_applied',
      ],
      Array.from({ length: 520 }, (_, i) => [
        `a-${i}`,
        '2021-01-01T00:00:00.000Z',
        'u-x',
        'analyst',
        'UC-004',
        'msds-booking',
        'RWF',
        true,
      ]),
    );
    expect((await page('/transparency', igRwf)).body).toContain(
      `The latest 500 of ${(before + 520).toLocaleString('en-GB')} reads (the CSV has them all), newest first`,
    );
  });

  it('takes use cases through the API: propose, approve per controller (IG leads for their own), activate', async () => {
    const admin = { Authorization: `Bearer ${accounts.admin.token}`, 'Content-Type': 'application/json' };
    const proposed = await portal.app.request('/api/v1/use-cases', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        title: 'Stroke pathway audit',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
        datasets: ['apc'],
        controllers: ['RWF', 'RPA'],
        users: ['role:analyst'],
        start: '2022-01-01',
        end: '2099-12-31',
      }),
    });
    expect(proposed.status).toBe(201);
    const { id } = (await proposed.json()) as { id: string };
    const ig = { Authorization: `Bearer ${igRwf.token}`, 'Content-Type': 'application/json' };
    // The IG lead names RPA, but approves for RWF, their own organisation.
    const approval = await portal.app.request(`/api/v1/use-cases/${id}/approve`, {
      method: 'POST',
      headers: ig,
      body: JSON.stringify({ org: 'RPA' }),
    });
    expect(((await approval.json()) as { awaiting: string[] }).awaiting).toEqual(['RPA']);
    const early = await portal.app.request(`/api/v1/use-cases/${id}/activate`, {
      method: 'POST',
      headers: admin,
    });
    expect(early.status).toBe(409);
    await portal.app.request(`/api/v1/use-cases/${id}/approve`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ org: 'RPA' }),
    });
    const active = await portal.app.request(`/api/v1/use-cases/${id}/activate`, {
      method: 'POST',
      headers: admin,
    });
    expect(((await active.json()) as { state: string }).state).toBe('active');
    const bad = await portal.app.request('/api/v1/invoices/draft', {
      method: 'POST',
      headers: admin,
      body: 'not json',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      'The request body is not JSON',
    );
  });

  it('registers organisations, changes agreement states and use-case users, and prints letters through the API and portal', async () => {
    const admin = { Authorization: `Bearer ${accounts.admin.token}`, 'Content-Type': 'application/json' };
    const added = await portal.app.request('/api/v1/organisations', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        code: 'y9k999',
        name: 'Harbour Surgery (synthetic)',
        type: 'gp',
        codeSystem: 'local',
        codeVerified: false,
        population: 9000,
      }),
    });
    expect(added.status).toBe(201);
    expect(await added.json()).toMatchObject({ code: 'Y9K999', codeVerified: false });
    const badType = await portal.app.request('/api/v1/organisations', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ code: 'ZZ1', name: 'X', type: 'spaceport' }),
    });
    expect(badType.status).toBe(400);
    const seeded = await portal.app.request('/api/v1/organisations/seed', { method: 'POST', headers: admin });
    expect(((await seeded.json()) as { added: string[] }).added).toEqual([]);

    const suspended = await portal.app.request('/api/v1/agreements/DSA-KFRS-001/state', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ state: 'suspended' }),
    });
    expect(((await suspended.json()) as { state: string }).state).toBe('suspended');
    const users = await portal.app.request('/api/v1/use-cases/UC-005/users', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ users: ['role:analyst'] }),
    });
    expect(((await users.json()) as { users: string[] }).users).toEqual(['role:analyst']);
    const viewer = { Authorization: `Bearer ${accounts.viewer.token}`, 'Content-Type': 'application/json' };
    expect(
      (
        await portal.app.request('/api/v1/use-cases/UC-005/users', {
          method: 'POST',
          headers: viewer,
          body: '{}',
        })
      ).status,
    ).toBe(403);

    const letter = await page('/funding/letters/RWF?year=2021/22', accounts.admin);
    expect(letter.status).toBe(200);
    expect(letter.body).toContain('Dear Chief Executive');
    // Its one inline style block carries this response's CSP nonce, so the policy allows it.
    const nonce = /'nonce-([^']+)'/.exec(letter.headers.get('Content-Security-Policy') ?? '')?.[1];
    expect(nonce).toBeTruthy();
    expect(letter.body).toContain(`<style nonce="${nonce}">`);
    expect(letter.body).toContain("Your organisation's subscription to Kernel, 2021/22");
  });
});
