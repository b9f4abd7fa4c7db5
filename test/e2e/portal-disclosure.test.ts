/**
 * Issue 23, H1: counts in load metadata (the loads pages and API, the coverage grid, the home
 * page's latest loads) are counts of patients' records, so a role that may not see an
 * organisation's figures exactly sees them as the dashboards show them; every read is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { CoverageGridReader } from '../../src/server/coverage-grid.ts';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import {
  accountsForEveryRole,
  insertLoad,
  portalApp,
  sessionFor,
  type TestAccount,
} from './portal-helpers.ts';

interface LoadJson {
  loadId: string;
  org: string;
  rowsRead: number | string;
  rowsLoaded: number | string;
  rowsQuarantined: number | string;
  findings: { count: number | string }[];
  completeness: { filled: number | string; percent: number | string }[];
  disclosure: string;
}
interface GridJson {
  datasets: { rows: { org: string; cells: { state: string; rows: number | string }[] }[] }[];
}

/** Every count a response shows: each must be 0, `*` or a multiple of 5 under control. */
function countsOf(load: LoadJson): (number | string)[] {
  return [
    load.rowsRead,
    load.rowsLoaded,
    load.rowsQuarantined,
    ...load.findings.map((f) => f.count),
    ...load.completeness.flatMap((c) => [c.filled, c.percent]),
  ];
}

describe.each(testStores())('disclosure control on load metadata on $engine (issue 23, H1)', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;
  const get = async (path: string, account: TestAccount) =>
    portal.app.request(path, { headers: { Authorization: `Bearer ${account.token}` } });

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store, 'RWF');
    portal = portalApp(store);
    // Small counts: 10 read, 9 loaded, 1 quarantined, as a month of baby records can be.
    await insertLoad(store, 'ld-rwf-b1', 'RWF', 'msds-baby', '2025-01', 'loaded');
    await insertLoad(store, 'ld-rvv-b1', 'RVV', 'msds-baby', '2025-01', 'loaded');
  });
  afterAll(async () => {
    await store.close();
  });

  it('shows the loads API’s counts controlled to every role but an admin and the provider’s own', async () => {
    for (const role of ['analyst', 'ig-lead', 'programme'] as const) {
      const { loads } = (await (await get('/api/v1/loads', accounts[role])).json()) as { loads: LoadJson[] };
      expect(loads).toHaveLength(2);
      for (const load of loads) {
        expect(load.disclosure).toBe('hes2018');
        // 10 → 10, 9 → 10, 1 → *: nothing from 1 to 7, nothing not rounded to 5.
        expect([load.rowsRead, load.rowsLoaded, load.rowsQuarantined]).toEqual([10, 10, '*']);
        expect(load.findings[0]?.count).toBe('*');
        expect(load.completeness[0]).toMatchObject({ filled: 10, percent: 100 });
        for (const count of countsOf(load)) {
          expect(count === '*' || (typeof count === 'number' && count % 5 === 0)).toBe(true);
        }
      }
      const one = (await (await get('/api/v1/loads/ld-rvv-b1', accounts[role])).json()) as LoadJson;
      expect([one.rowsLoaded, one.rowsQuarantined]).toEqual([10, '*']);
    }
    const admin = (await (await get('/api/v1/loads', accounts.admin)).json()) as { loads: LoadJson[] };
    expect(admin.loads.map((l) => [l.rowsLoaded, l.rowsQuarantined, l.disclosure])).toEqual([
      [9, 1, 'none'],
      [9, 1, 'none'],
    ]);
    const own = (await (await get('/api/v1/loads/ld-rwf-b1', accounts.provider)).json()) as LoadJson;
    expect([own.rowsRead, own.rowsLoaded, own.rowsQuarantined, own.findings[0]?.count]).toEqual([
      10, 9, 1, 1,
    ]);
  });

  it('controls the loads pages and the home page, and says which rule applies', async () => {
    const { cookie } = await sessionFor(store, accounts.analyst.userId);
    for (const path of ['/loads', '/loads/ld-rvv-b1', '/']) {
      const html = await (await portal.app.request(path, { headers: { Cookie: cookie } })).text();
      // Read, loaded and quarantined are 10, 9 and 1: only 10 and * may appear in the cells.
      const cells = [...html.matchAll(/nhsuk-table__cell--numeric">([^<]*)</g)].map((m) => m[1]);
      expect(cells.length).toBeGreaterThan(0);
      expect(cells.filter((c) => c === '9' || c === '1')).toEqual([]);
      if (path !== '/') expect(html).toContain('Small numbers are controlled');
    }
    const mine = await sessionFor(store, accounts.provider.userId);
    const page = await (
      await portal.app.request('/loads/ld-rwf-b1', { headers: { Cookie: mine.cookie } })
    ).text();
    expect(page).not.toContain('Small numbers are controlled');
    expect([...page.matchAll(/nhsuk-table__cell--numeric">([^<]*)</g)].map((m) => m[1])).toContain('9');
  });

  it('controls the coverage grid’s counts the same way, in the API and on the page', async () => {
    const grid = async (account: TestAccount) =>
      (
        (await (await get('/api/v1/coverage?from=2025-01&to=2025-01', account)).json()) as GridJson
      ).datasets[0]?.rows.map((r) => [r.org, r.cells[0]?.rows]);
    expect(await grid(accounts.viewer)).toEqual([
      ['RVV', 10],
      ['RWF', 10],
    ]);
    expect(await grid(accounts.admin)).toEqual([
      ['RVV', 9],
      ['RWF', 9],
    ]);
    expect(await grid(accounts.provider)).toEqual([['RWF', 9]]);
    const { cookie } = await sessionFor(store, accounts.viewer.userId);
    const html = await (
      await portal.app.request('/catalogue/coverage?from=2025-01&to=2025-01', { headers: { Cookie: cookie } })
    ).text();
    expect(html).toContain('Small numbers are controlled');
    expect(html).not.toMatch(/nhsuk-body-s">9</);
    // A cell links to its load's report only for a role that may open one.
    const coverageFor = async (role: Role) => {
      const session = await sessionFor(store, accounts[role].userId);
      return (
        await portal.app.request('/catalogue/coverage?from=2025-01&to=2025-01', {
          headers: { Cookie: session.cookie },
        })
      ).text();
    };
    for (const role of ['viewer', 'output-checker'] as const) {
      const page = await coverageFor(role);
      expect(page, role).toContain('kernel-cell-loaded');
      expect(page, role).not.toContain('href="/loads/');
    }
    for (const role of ['analyst', 'admin', 'provider'] as const) {
      expect(await coverageFor(role), role).toContain('href="/loads/ld-rwf-b1"');
    }
  });

  it('audits every read of load metadata with the rule applied, and keeps typed values out of the log', async () => {
    const [last] = await listAudit(store, { limit: 1 });
    await get('/api/v1/loads?org=RVV', accounts.analyst);
    await get('/api/v1/loads/ld-rwf-b1', accounts.provider);
    await get('/api/v1/coverage?org=RVV', accounts.viewer);
    // An org typed as an NHS number is not an ODS code: refused, and never logged.
    expect((await get('/api/v1/coverage?org=9991234567', accounts.viewer)).status).toBe(400);
    // A postcode typed as a filter finds nothing; the read is audited without it.
    expect((await get('/api/v1/loads?org=ME14%201AA', accounts.analyst)).status).toBe(200);
    const events = (await listAudit(store, { action: 'metadata.read', limit: 100 })).filter(
      (e) => e.seq > (last?.seq ?? 0),
    );
    const read = events.map((e) => ({
      target: e.target,
      ...(JSON.parse(e.details) as Record<string, string>),
    }));
    expect(read).toEqual(
      expect.arrayContaining([
        { target: 'loads', role: 'analyst', disclosure: 'hes2018', org: 'RVV' },
        {
          target: 'load:ld-rwf-b1',
          role: 'provider',
          disclosure: 'none',
          org: 'RWF',
          dataset: 'msds-baby',
          period: '2025-01',
        },
        expect.objectContaining({ target: 'coverage', role: 'viewer', disclosure: 'hes2018', org: 'RVV' }),
        { target: 'loads', role: 'analyst', disclosure: 'hes2018', org: '(withheld)' },
      ]),
    );
    expect(events).toHaveLength(4);
    const details = events.map((e) => e.details).join('\n');
    expect(details).not.toContain('999');
    expect(details).not.toMatch(/ME14/);
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('judges a load’s reconciliation on its true counts and shows only the verdict', async () => {
    // 10 read = 9 loaded + 1 quarantined: controlled as 10, 10 and *, it must not look short.
    await insertLoad(store, 'ld-rwf-odd', 'RWF', 'msds-baby', '2024-06', 'loaded', {
      read: 20,
      loaded: 9,
      quarantined: 1,
      dropped: 0,
      filled: 9,
      percent: 100,
    });
    for (const role of ['analyst', 'ig-lead', 'programme', 'admin'] as const) {
      const { cookie } = await sessionFor(store, accounts[role].userId);
      const page = async (id: string) =>
        (await portal.app.request(`/loads/${id}`, { headers: { Cookie: cookie } })).text();
      const fine = await page('ld-rvv-b1');
      expect(fine).not.toContain('Rows do not reconcile');
      expect(fine).not.toContain('NaN');
      const odd = await page('ld-rwf-odd');
      expect(odd).toContain('Rows do not reconcile');
      expect(odd).not.toMatch(/\d+ rows are not accounted for/);
      const json = (await (await get('/api/v1/loads/ld-rwf-odd', accounts[role])).json()) as {
        reconciles: boolean;
      };
      expect(json.reconciles).toBe(false);
    }
    const fine = (await (await get('/api/v1/loads/ld-rvv-b1', accounts.analyst)).json()) as {
      reconciles: boolean;
    };
    expect(fine.reconciles).toBe(true);
  });

  it('gives a field’s completeness as a share of the rows it counts, never over 100%', async () => {
    // 831 of the 832 rows kept (827 loaded, 5 quarantined) have the field: 830 of 825 was 101%.
    await insertLoad(store, 'ld-rwf-full', 'RWF', 'msds-baby', '2024-07', 'loaded', {
      read: 832,
      loaded: 827,
      quarantined: 5,
      dropped: 0,
      filled: 831,
      percent: 99.9,
    });
    const shown = async (role: Role) =>
      ((await (await get('/api/v1/loads/ld-rwf-full', accounts[role])).json()) as LoadJson).completeness[0];
    expect(await shown('analyst')).toMatchObject({ filled: 830, percent: 100 });
    expect(await shown('admin')).toMatchObject({ filled: 831, percent: 99.9 });
    const { cookie } = await sessionFor(store, accounts.analyst.userId);
    const html = await (
      await portal.app.request('/loads/ld-rwf-full', { headers: { Cookie: cookie } })
    ).text();
    expect(html).toContain('Share of the rows loaded or quarantined with each field filled');
    expect(html).not.toContain('101%');
  });

  it('keeps the coverage cache bounded whatever organisations are asked for (issue 23, H2)', async () => {
    const reader = new CoverageGridReader(store);
    for (let i = 0; i < 400; i += 1) await reader.read({ org: `X${String(i).padStart(4, '0')}` });
    expect((Reflect.get(reader, 'cache') as Map<string, unknown>).size).toBeLessThanOrEqual(256);
    // What is cached still answers: the latest asked for, and a real one read again.
    expect(
      (await reader.read({ org: 'RWF', from: '2025-01', to: '2025-01' })).datasets[0]?.rows[0]?.org,
    ).toBe('RWF');
  });
});
