/**
 * The maternity page and API through the real app (`createApp`, its guard, sessions,
 * tokens and security headers), on both engines, over the hand-counted world.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accountsForEveryRole,
  portalApp,
  sessionFor,
  type TestAccount,
} from '../../test/e2e/portal-helpers.ts';
import { buildWorld, EXPECTED, WINDOW } from '../../test/maternity-world.ts';
import { testStores } from '../../test/stores.ts';
import {
  clearMaternityCache,
  maternityDashboard,
  type MaternityDashboard,
} from '../analytics/maternity-dashboard.ts';
import { dashboardJson } from './maternity-routes.ts';
import type { Role } from './routes.ts';
import type { Store } from '../store/store.ts';

const QUERY = `from=${WINDOW.from}&to=${WINDOW.to}`;

describe.each(testStores())('maternity dashboard routes on $engine', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;

  beforeAll(async () => {
    clearMaternityCache();
    store = await engine.open();
    accounts = await accountsForEveryRole(store, 'RWF');
    await buildWorld(store, ['role:provider', 'role:analyst', 'role:viewer', 'role:admin']);
    portal = portalApp(store);
  });
  afterAll(async () => {
    await store?.close();
  });

  const api = (account: TestAccount, query: string) =>
    portal.app.request(`/api/v1/dashboards/maternity?${query}`, {
      headers: { Authorization: `Bearer ${account.token}` },
    });

  it('offers Maternity in the menu to whoever the dashboard opens for, and to no one else', async () => {
    // The IG lead is on no use case covering the maternity datasets (buildWorld's users).
    const page = async (role: Role, path: string) => {
      const { cookie } = await sessionFor(store, accounts[role].userId);
      return portal.app.request(path, { headers: { Cookie: cookie } });
    };
    const offered = async (role: Role): Promise<boolean> =>
      (await (await page(role, '/')).text()).includes('href="/dashboards/maternity"');
    for (const role of ['provider', 'analyst', 'viewer', 'admin'] as const) {
      expect(await offered(role), role).toBe(true);
      expect((await page(role, `/dashboards/maternity?${QUERY}`)).status, role).toBe(200);
    }
    expect(await offered('ig-lead')).toBe(false);
    expect((await page('ig-lead', `/dashboards/maternity?${QUERY}`)).status).toBe(403);
  });

  it('answers the API with the same figures as the domain function', async () => {
    const response = await api(accounts.analyst, QUERY);
    expect(response.status).toBe(200);
    const body = (await response.json()) as MaternityDashboard;
    const direct = await maternityDashboard(
      store,
      { user: { id: accounts.analyst.userId, role: 'analyst', org: null } },
      WINDOW,
    );
    expect(body.measures).toEqual(direct.measures);
    expect(dashboardJson(direct).toString('utf8')).toBe(JSON.stringify(direct));
    expect(body.scope).toEqual({ org: null, label: 'Whole system' });
    expect(body.disclosure.policy).toBe('hes2018');
    expect(body.measures.map((m) => m.id)).toEqual(Object.keys(EXPECTED));
  });

  it('gives a provider its own figures unrounded, as the hand counts say', async () => {
    const response = await api(accounts.provider, `org=RWF&${QUERY}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as MaternityDashboard;
    expect(body.disclosure.policy).toBe('none');
    for (const m of body.measures) {
      expect([m.id, m.series.points.map((p) => [p.numerator, p.denominator])]).toEqual([
        m.id,
        EXPECTED[m.id]?.RWF,
      ]);
    }
  });

  it('starts the default window at the first month loaded, not months before the data', async () => {
    // the world's loads are all for March 2021: the default window is that month alone
    const body = (await (await api(accounts.analyst, '')).json()) as MaternityDashboard;
    expect([body.from, body.to, body.months]).toEqual(['2021-03', '2021-03', ['2021-03']]);
  });

  it('refuses bad filters and other organisations with one clear JSON error', async () => {
    const bad = await api(accounts.analyst, 'from=2021-1&to=2021-03');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'usage', where: { field: 'from' } } });
    const other = await api(accounts.provider, `org=RVV&${QUERY}`);
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { message: string } }).error.message).toMatch(
      /does not include RVV/,
    );
    const outsider = await api(accounts['ig-lead'], QUERY);
    expect(outsider.status).toBe(403);
    expect((await portal.app.request(`/api/v1/dashboards/maternity?${QUERY}`)).status).toBe(401);
  });

  it('renders the page with a chart and a data table per measure, the definitions and the suppression rule', async () => {
    const session = await sessionFor(store, accounts.viewer.userId);
    const response = await portal.app.request(`/dashboards/maternity?${QUERY}`, {
      headers: { Cookie: session.cookie },
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    const measures = Object.keys(EXPECTED);
    // rare events are drawn as funnel plots comparing providers, the rest as XmR charts
    const rare = ['third-fourth-degree-tears', 'apgar-low-term', 'stillbirth-rate', 'neonatal-deaths'];
    expect(html.match(/<svg [^>]*class="kernel-spc-chart"/g)?.length).toBe(measures.length - rare.length);
    expect(html.match(/<svg [^>]*class="kernel-funnel-chart"/g)?.length).toBe(rare.length);
    for (const id of rare) expect(html).toContain(`aria-labelledby="funnel-${id}-title funnel-${id}-desc"`);
    expect(html).toContain('Why a funnel plot.');
    // the icons table: every measure, with its variation and assurance
    const icons = /<table class="nhsuk-table kernel-icons-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    for (const id of measures) expect(icons).toContain(`href="#${id}"`);
    expect(icons).toContain('Assurance');
    expect(icons).toContain('Records complete');
    expect(html.match(/<table class="nhsuk-table">/g)?.length).toBeGreaterThanOrEqual(measures.length);
    for (const id of measures) expect(html).toContain(`id="${id}"`);
    expect(html).toContain('aria-labelledby="chart-births-title chart-births-desc"');
    expect(html).toContain('Small numbers are controlled by the NHS Digital (HES) 2018 method');
    expect(html).toContain('CQIMPPH');
    expect(html).toContain('women giving birth with a blood-loss observation');
    // The Content Security Policy forbids inline styles, and every script carries the nonce.
    expect(html).not.toMatch(/\sstyle="/);
    const nonce = /script-src 'self' 'nonce-([^']+)'/.exec(
      response.headers.get('Content-Security-Policy') ?? '',
    )?.[1];
    expect(nonce).toBeTruthy();
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toContain(`nonce="${nonce}"`);
  });

  it('shows a mistake in the filters with the error summary, not an error page', async () => {
    const session = await sessionFor(store, accounts.analyst.userId);
    const response = await portal.app.request('/dashboards/maternity?from=2021-03&to=2021-01', {
      headers: { Cookie: session.cookie },
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('There is a problem');
    expect(html).toContain('href="#from"');
    expect(html).toMatch(/starts \(2021-03\) after it ends \(2021-01\)/);
  });
});
