/**
 * Issue 23, M3: an IG lead reads the audit log of their own organisation only — never another
 * controller's reads — in the portal and the API alike; an administrator reads it all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, type AuditEntry } from '../../src/audit/audit-log.ts';
import { auditVisibleTo } from '../../src/audit/audit-scope.ts';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import {
  accountsForEveryRole,
  igLeadOf,
  insertLoad,
  portalApp,
  sessionFor,
  type TestAccount,
} from './portal-helpers.ts';

/** A read of warehouse data as the access policy records it. */
const read = (controllers: string[], useCase: string): AuditEntry => ({
  actor: 'user:analyst@elsewhere.test',
  action: 'data.read',
  target: 'dataset:apc',
  purpose: useCase,
  details: { role: 'analyst', purpose: 'service planning', tier: 'record-level', controllers },
});

describe.each(testStores())('the audit log as an IG lead reads it on $engine (issue 23, M3)', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let igRwf: TestAccount;
  let portal: ReturnType<typeof portalApp>;

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store, 'RWF');
    igRwf = { role: 'ig-lead', email: 'ig-rwf@portal.test', ...(await igLeadOf(store, 'RWF')) };
    portal = portalApp(store);
    await insertLoad(store, 'ld-rvv-9', 'RVV', 'apc', '2025-01', 'loaded');
    await insertLoad(store, 'ld-rwf-9', 'RWF', 'apc', '2025-01', 'loaded');
    await store.transaction((tx) =>
      appendAudit(tx, [
        read(['RWF'], 'uc-1'),
        read(['RVV'], 'uc-2'),
        read(['RVV', 'RWF'], 'uc-3'),
        { actor: 'cli:ops', action: 'agreement.signed', target: 'org:RVV', details: {} },
        { actor: 'cli:ops', action: 'agreement.signed', target: 'org:RWF', details: {} },
        { actor: 'cli:ops', action: 'load.completed', target: 'ld-rvv-9', details: { rows: 9 } },
        { actor: 'cli:ops', action: 'load.completed', target: 'ld-rwf-9', details: { rows: 9 } },
        { actor: 'user:provider@portal.test', action: 'usecase.proposed', target: 'usecase:7', details: {} },
        { actor: 'user:someone@rvv.test', action: 'usecase.proposed', target: 'usecase:8', details: {} },
      ]),
    );
  });
  afterAll(async () => {
    await store.close();
  });

  const api = async (path: string, account: TestAccount) => {
    const response = await portal.app.request(path, {
      headers: { Authorization: `Bearer ${account.token}` },
    });
    return {
      status: response.status,
      body: (await response.json()) as { events: { purpose: string | null; target: string }[] },
    };
  };

  it('shows an IG lead the reads of its own data only, and an admin every read', async () => {
    const mine = await api('/api/v1/audit?action=data.read', igRwf);
    expect(mine.status).toBe(200);
    expect(mine.body.events.map((e) => e.purpose).sort()).toEqual(['uc-1', 'uc-3']);
    const all = await api('/api/v1/audit?action=data.read', accounts.admin);
    expect(all.body.events.map((e) => e.purpose).sort()).toEqual(['uc-1', 'uc-2', 'uc-3']);
  });

  it('shows an IG lead events about its organisation, its loads and its people, not another’s', async () => {
    const { body } = await api('/api/v1/audit?limit=1000', igRwf);
    const targets = body.events.map((e) => e.target);
    expect(targets).toEqual(expect.arrayContaining(['org:RWF', 'ld-rwf-9']));
    expect(targets).not.toContain('org:RVV');
    expect(targets).not.toContain('ld-rvv-9');
    expect(targets).not.toContain('usecase:8');
    expect(body.events.filter((e) => e.purpose === 'uc-2')).toEqual([]);
    // Its own people's doings are its business, whatever they touched.
    expect(targets).toContain('usecase:7');
  });

  it('narrows the portal page the same way', async () => {
    const { cookie } = await sessionFor(store, igRwf.userId);
    const html = await (await portal.app.request('/audit?action=', { headers: { Cookie: cookie } })).text();
    expect(html).toContain('org:RWF');
    expect(html).not.toContain('org:RVV');
    expect(html).not.toContain('uc-2');
  });

  it('finds an organisation’s event behind thousands of others’, and refuses an IG lead with no organisation', async () => {
    await store.transaction((tx) => appendAudit(tx, read(['RWF'], 'uc-old')));
    await store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 4500 }, () => ({ actor: 'cli:ops', action: 'note', target: 'org:RVV' })),
      ),
    );
    const events = await auditVisibleTo(
      store,
      { role: 'ig-lead', org: 'RWF' },
      { action: 'data.read', limit: 10 },
    );
    expect(events.map((e) => e.purpose)).toContain('uc-old');
    await expect(auditVisibleTo(store, { role: 'ig-lead', org: null })).rejects.toThrow(
      /belongs to no organisation/,
    );
  }, 60_000);

  it('pages the log with the total the reader may see, and opens an event only to a reader who may see it (issue 22, item 3)', async () => {
    const all = (await api('/api/v1/audit?action=data.read', accounts.admin)).body as unknown as {
      total: number;
    };
    const mine = (await api('/api/v1/audit?action=data.read&limit=1', igRwf)).body as unknown as {
      events: { seq: number; purpose: string }[];
      total: number;
      next: number | null;
    };
    expect(mine.total).toBe(3); // uc-1, uc-3 and uc-old
    expect(all.total).toBe(4);
    expect(mine.events).toHaveLength(1);
    const second = (await api(`/api/v1/audit?action=data.read&limit=1&before=${mine.next}`, igRwf))
      .body as unknown as { events: { seq: number }[] };
    expect(second.events[0]!.seq).toBeLessThan(mine.events[0]!.seq);
    const own = await portal.app.request(`/api/v1/audit/events/${mine.events[0]!.seq}`, {
      headers: { Authorization: `Bearer ${igRwf.token}` },
    });
    expect(own.status).toBe(200);
    const [foreign] = await store.query<{ seq: number }>(
      "SELECT seq FROM audit_events WHERE action = 'data.read' AND purpose = 'uc-2'",
    );
    const hidden = await portal.app.request(`/api/v1/audit/events/${foreign!.seq}`, {
      headers: { Authorization: `Bearer ${igRwf.token}` },
    });
    expect(hidden.status).toBe(404);
    const { cookie } = await sessionFor(store, accounts.admin.userId);
    const page = await (
      await portal.app.request(`/audit/events/${foreign!.seq}`, { headers: { Cookie: cookie } })
    ).text();
    expect(page).toContain('uc-2');
    expect(page).toContain('This event&#39;s hash');
  });
  it('shows an IG lead an administrator’s view of its opt-out counts, not of another controller’s', async () => {
    for (const org of ['RWF', 'RVV']) {
      expect((await api(`/api/v1/optouts/impact?org=${org}`, accounts.admin)).status).toBe(200);
    }
    const views = await auditVisibleTo(store, { role: 'ig-lead', org: 'RWF' }, { action: 'optouts.impact' });
    expect(views.map((e) => (JSON.parse(e.details) as { org: string }).org)).toEqual(['RWF']);
  });

  it('refuses a date that is not in the calendar, naming the field', async () => {
    for (const name of ['since', 'until']) {
      const { status, body } = await api(`/api/v1/audit?${name}=2021-02-30`, accounts.admin);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: { code: 'usage', where: { field: name } } });
    }
    expect((await api('/api/v1/audit?since=2021-02-28', accounts.admin)).status).toBe(200);
  });
});
