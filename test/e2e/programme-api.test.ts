import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, portalApp, sessionFor, type TestAccount } from './portal-helpers.ts';

describe.each(testStores())('the programme office API and pages on $engine', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store);
    await seedOrganisations(store, 'test');
    portal = portalApp(store);
  });
  afterAll(async () => {
    await store.close();
  });

  const call = async (role: Role, method: string, path: string, body?: unknown) => {
    const response = await portal.app.request(path, {
      method,
      headers: { Authorization: `Bearer ${accounts[role].token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  it('keeps the plan, the RAID log and the update through the API, as the programme team', async () => {
    expect(
      (
        await call('programme', 'POST', '/api/v1/plan/workstreams', {
          title: 'Phase 1',
          owner: 'QKS',
          from: '2021-03',
          to: '2021-09',
        })
      ).status,
    ).toBe(201);
    const milestone = await call('programme', 'POST', '/api/v1/plan/milestones', {
      workstream: 'WS-01',
      title: 'RWF agreement',
      due: '2021-04',
      tie: 'agreement:RWF',
    });
    expect(milestone).toMatchObject({
      status: 201,
      json: { id: 'M-01', tieText: 'RWF signs a data sharing agreement' },
    });
    const bad = await call('programme', 'POST', '/api/v1/plan/milestones', {
      workstream: 'WS-01',
      title: 'X',
      due: '2021-04',
      tie: 'weather:RWF',
    });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'usage', where: { field: 'tie' } } } });
    // A tie the records could never meet is refused, not left to slip.
    for (const tie of ['loads:ZZZ99:apc', 'usecase:UC-999']) {
      const never = await call('programme', 'POST', '/api/v1/plan/milestones', {
        workstream: 'WS-01',
        title: 't',
        due: '2021-09',
        tie,
      });
      expect(never, tie).toMatchObject({
        status: 404,
        json: { error: { code: 'not-found', where: { field: 'tie' } } },
      });
    }
    expect(
      await call('programme', 'POST', '/api/v1/plan/milestones/M-01', { state: 'done', on: '2021-04-20' }),
    ).toMatchObject({ status: 200, json: { state: 'done', doneOn: '2021-04-20' } });
    const plan = await call('admin', 'GET', '/api/v1/plan?month=2021-04');
    expect(plan.json).toMatchObject({ asAt: '2021-04', from: '2021-03', to: '2021-09' });
    expect(String(plan.json.svg)).toMatch(/^<svg/);

    expect(
      await call('programme', 'POST', '/api/v1/raid', {
        kind: 'risk',
        title: 'BI teams lack time',
        owner: 'Programme office',
        likelihood: 4,
        impact: 3,
        raised: '2021-02-10',
      }),
    ).toMatchObject({ status: 201, json: { id: 'R-001', score: 12 } });
    await call('programme', 'POST', '/api/v1/raid/R-001', {
      state: 'closed',
      on: '2021-05-01',
      note: 'Done',
    });
    const item = await call('programme', 'GET', '/api/v1/raid/R-001');
    expect((item.json.history as { action: string }[]).map((h) => h.action)).toEqual(['raised', 'closed']);
    const risks = await call('programme', 'GET', '/api/v1/raid?kind=risk&state=closed');
    expect((risks.json.items as { id: string }[]).map((i) => i.id)).toEqual(['R-001']);

    const entry = await call('programme', 'POST', '/api/v1/reports/monthly/2021-04/entries', {
      section: 'events',
      text: 'Kernel Development Group, 14 May 2021',
    });
    expect(entry.status).toBe(201);
    // The path's month names the update: another month's, or no month, leaves the entry be.
    const entryId = String(entry.json.id);
    expect(
      await call('programme', 'POST', `/api/v1/reports/monthly/2020-01/entries/${entryId}/remove`, {}),
    ).toMatchObject({ status: 404, json: { error: { code: 'not-found' } } });
    expect(
      await call('programme', 'POST', `/api/v1/reports/monthly/2021-99/entries/${entryId}/remove`, {}),
    ).toMatchObject({ status: 400, json: { error: { code: 'usage', where: { field: 'month' } } } });
    const april = await call('programme', 'GET', '/api/v1/reports/monthly/2021-04');
    expect(april.json).toMatchObject({
      month: '2021-04',
      state: 'draft',
      events: [{ text: 'Kernel Development Group, 14 May 2021' }],
    });
    expect(JSON.stringify(april.json.completed)).toContain('M-01 RWF agreement');
    const issued = await call('programme', 'POST', '/api/v1/reports/monthly/2021-04/issue');
    expect(issued).toMatchObject({ status: 200, json: { state: 'issued' } });
    const late = await call('programme', 'POST', '/api/v1/reports/monthly/2021-04/entries', {
      section: 'events',
      text: 'Late',
    });
    expect(late).toMatchObject({ status: 409, json: { error: { code: 'conflict' } } });
    expect((await call('programme', 'GET', '/api/v1/reports/monthly')).json.updates).toEqual([
      expect.objectContaining({ month: '2021-04', state: 'issued' }),
    ]);
  });

  it('keeps the plan and the RAID log through the pages’ forms, which run the same operations', async () => {
    const team = await sessionFor(store, accounts.programme.userId);
    const post = async (path: string, fields: Record<string, string>) => {
      const response = await portal.app.request(path, {
        method: 'POST',
        headers: { Cookie: team.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: team.csrf, ...fields }).toString(),
        redirect: 'manual',
      });
      return [response.status, response.headers.get('Location')];
    };
    expect(
      await post('/programme/workstreams', {
        title: 'Forms',
        owner: 'A supplier',
        supplier: 'yes',
        from: '2021-05',
        to: '2021-06',
      }),
    ).toEqual([303, '/programme?saved=WS-02']);
    expect(
      await post('/programme/milestones', {
        workstream: 'WS-02',
        title: 'Form sent',
        due: '2021-06',
        tie: '',
      }),
    ).toEqual([303, '/programme?saved=M-02#M-02']);
    // Blank fields are left out, as the API leaves them out.
    expect(
      await post('/programme/milestones/M-02', { state: 'done', on: '2021-06-02', evidence: '', href: '' }),
    ).toEqual([303, '/programme?saved=M-02#M-02']);
    expect(await call('programme', 'GET', '/api/v1/plan/milestones/M-02')).toMatchObject({
      json: { milestone: { state: 'done', doneOn: '2021-06-02', evidence: null } },
    });
    expect(
      await post('/programme/raid', {
        kind: 'issue',
        title: 'Forms late',
        owner: 'QKS',
        impact: '2',
        likelihood: '',
      }),
    ).toEqual([303, '/programme/raid/I-001']);
    expect(await post('/programme/raid/I-001', { state: 'closed', on: '', note: 'Sent' })).toEqual([
      303,
      '/programme/raid/I-001',
    ]);
    expect(await call('programme', 'GET', '/api/v1/raid/I-001')).toMatchObject({
      json: {
        item: { state: 'closed', impact: 2 },
        history: [{ action: 'raised' }, { action: 'closed', note: 'Sent' }],
      },
    });
    const workstreams = (await call('programme', 'GET', '/api/v1/plan')).json.workstreams as unknown[];
    expect(workstreams).toContainEqual(expect.objectContaining({ id: 'WS-02', ownerKind: 'supplier' }));
  });

  it('lets only the programme team and administrators in, and lists the operations in OpenAPI', async () => {
    for (const role of ['viewer', 'analyst', 'provider', 'ig-lead'] as const) {
      expect((await call(role, 'GET', '/api/v1/plan')).status, role).toBe(403);
      expect((await call(role, 'GET', '/api/v1/reports/monthly/2021-04')).status, role).toBe(403);
    }
    const viewer = await sessionFor(store, accounts.viewer.userId);
    const page = await portal.app.request('/programme/raid', { headers: { Cookie: viewer.cookie } });
    expect(page.status).toBe(403);
    const team = await sessionFor(store, accounts.programme.userId);
    const home = await portal.app.request('/', { headers: { Cookie: team.cookie } });
    const nav = await home.text();
    expect(nav).toContain('href="/programme"');
    expect(nav).toContain('href="/programme/raid"');

    const openapi = (await (await portal.app.request('/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, { tags: string[]; description: string }>>;
    };
    for (const path of [
      '/api/v1/plan',
      '/api/v1/plan/milestones/{id}',
      '/api/v1/raid',
      '/api/v1/raid/{id}',
      '/api/v1/reports/monthly/{month}',
      '/api/v1/reports/monthly/{month}/issue',
    ]) {
      const operations = Object.values(openapi.paths[path] ?? {});
      expect(operations.length, path).toBeGreaterThan(0);
      for (const op of operations) {
        expect(op.tags).toEqual(['programme']);
        expect(op.description).toBe('Roles: admin, programme.');
      }
    }
  });
});
