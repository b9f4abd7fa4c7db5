import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../audit/audit-log.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import type { Store } from '../store/store.ts';
import { accountsForEveryRole, portalApp } from '../../test/e2e/portal-helpers.ts';
import { apcFeed, prepareForApc } from '../../test/kill-load.ts';
import { testStores } from '../../test/stores.ts';
import { signOffPack } from './sign-off-pack.ts';
import { decide, listSignOffs, signOffMonth, type SignOffCaller } from './sign-off.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-signoff-'));
// RWF's APC for three months, then March sent again with far fewer rows.
const feeds = (async () => ({
  jan: await apcFeed(dir, 'apc-2025-01', 400, '2025-01', 1),
  feb: await apcFeed(dir, 'apc-2025-02', 420, '2025-02', 2),
  mar: await apcFeed(dir, 'apc-2025-03', 410, '2025-03', 3),
  marAgain: await apcFeed(dir, 'apc-2025-03-again', 150, '2025-03', 4),
}))();

const biLead: SignOffCaller = { actor: 'user:bi@rwf.test', role: 'provider', org: 'RWF' };
const otherTrust: SignOffCaller = { actor: 'user:bi@rvv.test', role: 'provider', org: 'RVV' };
const admin: SignOffCaller = { actor: 'user:admin@kernel.test', role: 'admin', org: null };
const analyst: SignOffCaller = { actor: 'user:an@kernel.test', role: 'analyst', org: null };
const MARCH = { org: 'RWF', dataset: 'apc', period: '2025-03' };

describe.each(testStores())('sign-off on $engine (issue 16)', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await prepareForApc(store, dir);
    const f = await feeds;
    for (const file of [f.jan, f.feb, f.mar]) {
      expect((await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' })).status).toBe(
        'loaded',
      );
    }
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  it('lists each loaded month as loaded, and shows a provider only its own organisation', async () => {
    const months = await listSignOffs(store, biLead);
    expect(months.map((m) => [m.period, m.state])).toEqual([
      ['2025-03', 'loaded'],
      ['2025-02', 'loaded'],
      ['2025-01', 'loaded'],
    ]);
    expect(await listSignOffs(store, otherTrust)).toEqual([]);
    await expect(listSignOffs(store, analyst)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(signOffPack(store, otherTrust, 'RWF', 'apc', '2025-03')).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('refuses a month that is not a month, rather than saying nothing is loaded for it', async () => {
    for (const period of ['2021-13', '2021-2', 'yesterday']) {
      await expect(signOffMonth(store, biLead, MARCH.org, MARCH.dataset, period)).rejects.toMatchObject({
        code: 'usage',
        where: { field: 'period' },
      });
      await expect(decide(store, admin, { ...MARCH, period, decision: 'publish' })).rejects.toMatchObject({
        code: 'usage',
        where: { field: 'period' },
      });
    }
  });

  it('runs the pack’s checks when the BI lead opens it, and the month is checked', async () => {
    const pack = await signOffPack(store, biLead, 'RWF', 'apc', '2025-03');
    expect(pack.month.state).toBe('checked');
    expect(pack.volume.months).toEqual(['2025-01', '2025-02', '2025-03']);
    expect(pack.checks.find((c) => c.id === 'reconciliation')?.status).toBe('pass');
    expect(pack.checks.find((c) => c.id === 'volume')?.status).toBe('pass');
    // The extracts carry the world's injected faults: each finding names its line.
    for (const check of pack.checks.filter((c) => c.id.startsWith('finding-'))) {
      expect(check.detail).toMatch(/ rows \(\d+\.\d%\), first at line \d+$/);
    }
    expect(pack.checks.map((c) => c.status)).toEqual(
      [...pack.checks.map((c) => c.status)].sort(
        (a, b) => ['fail', 'warn', 'pass'].indexOf(a) - ['fail', 'warn', 'pass'].indexOf(b),
      ),
    );
  });

  it('lets only the sending organisation sign off, needs reasons to reject, and an administrator to publish', async () => {
    // Another organisation's month is not found, as reading it is (docs/signoff.md).
    await expect(decide(store, otherTrust, { ...MARCH, decision: 'sign-off' })).rejects.toMatchObject({
      code: 'not-found',
      message: 'Nothing of apc from RWF for 2025-03 is loaded',
    });
    await expect(decide(store, analyst, { ...MARCH, decision: 'sign-off' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    // Publishing is for administrators, whoever's month it is: a BI lead is not told it may.
    for (const caller of [otherTrust, biLead]) {
      await expect(decide(store, caller, { ...MARCH, decision: 'publish' })).rejects.toMatchObject({
        code: 'forbidden',
        message: 'Only administrators publish a signed-off month',
        hint: 'A BI lead signs the month off; an administrator publishes it',
      });
    }
    // A decision the month's state does not allow says what does.
    await expect(decide(store, admin, { ...MARCH, decision: 'publish' })).rejects.toMatchObject({
      code: 'conflict',
      message: 'The month is checked: it cannot be published from there',
      hint: 'From checked it can be signed off or rejected: a month is published once its BI lead signs it off',
    });
    await expect(decide(store, biLead, { ...MARCH, decision: 'reject' })).rejects.toMatchObject({
      code: 'usage',
    });
    const signed = await decide(store, biLead, {
      ...MARCH,
      decision: 'sign-off',
      note: 'Matches our own totals',
    });
    expect(signed).toMatchObject({
      state: 'signed-off',
      changedBy: 'user:bi@rwf.test',
      note: 'Matches our own totals',
    });
    await expect(decide(store, biLead, { ...MARCH, decision: 'publish' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await decide(store, admin, { ...MARCH, decision: 'publish' })).toMatchObject({
      state: 'published',
    });
    await expect(decide(store, admin, { ...MARCH, decision: 'sign-off' })).rejects.toMatchObject({
      code: 'conflict',
      message: 'The month is published: it cannot be signed-off from there',
      hint: 'A published month stays so until a newer load of it lands',
    });
    const events = (await listAudit(store, { action: 'signoff.', limit: 10 })).map((e) => e.action).reverse();
    expect(events).toEqual(['signoff.checked', 'signoff.signed-off', 'signoff.published']);
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('starts a resubmitted month afresh, refuses a decision about the load it replaced, and warns of the fall in volume', async () => {
    const before = (await listSignOffs(store, biLead)).find((m) => m.period === '2025-03')!;
    const again = await loadFeed(store, {
      org: 'RWF',
      dataset: 'apc',
      file: (await feeds).marAgain,
      actor: 'test',
    });
    expect(again.status).toBe('loaded');
    const month = (await listSignOffs(store, biLead)).find((m) => m.period === '2025-03')!;
    expect([month.state, month.loadId]).toEqual(['loaded', again.loadId]);
    await expect(
      decide(store, biLead, { ...MARCH, decision: 'sign-off', loadId: before.loadId }),
    ).rejects.toMatchObject({ code: 'conflict' });
    const pack = await signOffPack(store, biLead, 'RWF', 'apc', '2025-03');
    expect(pack.checks.find((c) => c.id === 'volume')).toMatchObject({ status: 'warn' });
    const rejected = await decide(store, biLead, {
      ...MARCH,
      decision: 'reject',
      note: 'Only 150 rows: the extract stopped early',
      loadId: again.loadId!,
    });
    expect(rejected.state).toBe('rejected');
    expect(pack.history.map((h) => h.state)).toEqual(['checked', 'signed-off', 'published', 'checked']);
  });

  it('answers a loadId that is no load of the month with not found, naming the field, not a newer load', async () => {
    const january = (await listSignOffs(store, biLead)).find((m) => m.period === '2025-01')!;
    const FEBRUARY = { ...MARCH, period: '2025-02' };
    // No load at all, and a load of another month: neither is "a newer load since you looked".
    for (const loadId of ['ld-nothing', january.loadId]) {
      const refused = await decide(store, biLead, { ...FEBRUARY, decision: 'sign-off', loadId }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused, loadId).toMatchObject({
        code: 'not-found',
        message: 'No load of apc from RWF for 2025-02 has the loadId sent',
        where: { field: 'loadId' },
        hint:
          "List the month's loads (GET /api/v1/loads?org=RWF&dataset=apc&period=2025-02, or kernel loads " +
          '--org RWF --dataset apc --period 2025-02) and send the id of the one you checked, or no loadId',
      });
    }
    // Through the API: 404, with the JSON error body.
    const portal = portalApp(store);
    const accounts = await accountsForEveryRole(store);
    const response = await portal.app.request('/api/v1/signoff/RWF/apc/2025-02/sign-off', {
      method: 'POST',
      headers: { Authorization: `Bearer ${accounts.provider.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ loadId: 'ld-nothing' }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: {
        code: 'not-found',
        where: { field: 'loadId' },
        hint: expect.stringContaining('/api/v1/loads?'),
      },
    });
    // Nothing was decided.
    const february = (await listSignOffs(store, biLead)).find((m) => m.period === '2025-02')!;
    expect(february.state).toBe('loaded');
  });

  it('reconciles a load with the sender’s own totals, and the pack fails on a difference (issue 16)', async () => {
    const file = await apcFeed(dir, 'apc-2025-06', 300, '2025-06', 6, {
      rows: 299,
      sums: { age_on_admission: 1 },
    });
    const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
    expect(report.status).toBe('loaded');
    const control = report.findings.filter((f) => f.rule === 'control-total');
    expect(control.map((f) => [f.field, f.expected])).toEqual([
      [null, 299],
      ['age_on_admission', 1],
    ]);
    expect(control[0]?.actual).toBe(300);
    expect(control[1]?.actual).toBeGreaterThan(1000);
    const pack = await signOffPack(store, biLead, 'RWF', 'apc', '2025-06');
    const failing = pack.checks.filter((c) => c.id.startsWith('control-total'));
    expect(failing.map((c) => c.status)).toEqual(['fail', 'fail']);
    expect(failing[0]?.detail).toBe("299 by the sender's system, 300 in the load (rows read)");
    // Totals that agree leave no finding.
    const agreeing = await apcFeed(dir, 'apc-2025-07', 200, '2025-07', 7, { rows: 200 });
    const ok = await loadFeed(store, { org: 'RWF', dataset: 'apc', file: agreeing, actor: 'test' });
    expect(ok.findings.filter((f) => f.rule === 'control-total')).toEqual([]);
    // Distinct patients and rows by month: the sender counts 1 person too many, and puts a
    // row in the month before that the load does not have.
    const people = await store.query<{ n: number }>(
      'SELECT count(DISTINCT person_token) AS n FROM ds_apc WHERE load_id = $1',
      [ok.loadId],
    );
    const distinct = Number(people[0]?.n);
    const byMonthFile = await apcFeed(dir, 'apc-2025-08', 200, '2025-08', 7, {
      distinctPeople: distinct + 1,
      byMonth: { field: 'Episode_End_Date', rows: { '2025-07': 1, '2025-08': 200 } },
    });
    const counted = await loadFeed(store, { org: 'RWF', dataset: 'apc', file: byMonthFile, actor: 'test' });
    const more = counted.findings.filter((f) => f.rule === 'control-total');
    expect(more.map((f) => [f.field, f.expected, f.actual])).toEqual([
      ['distinct:person_token', distinct + 1, distinct],
      ['month:2025-07:Episode_End_Date', 1, 0],
    ]);
    const august = await signOffPack(store, biLead, 'RWF', 'apc', '2025-08');
    expect(august.checks.map((c) => c.title)).toEqual(
      expect.arrayContaining([
        "The sender's own count of distinct patients differs from the load",
        "The sender's own rows for 2025-07 (by Episode_End_Date) differs from the load",
      ]),
    );
  });

  it('takes an earlier file sent again, superseded since, as a duplicate: the month keeps its newer load, published (review R2, 7)', async () => {
    const SEPTEMBER = { ...MARCH, period: '2025-09' };
    const first = await apcFeed(dir, 'apc-2025-09', 120, '2025-09', 9);
    const second = await apcFeed(dir, 'apc-2025-09-again', 130, '2025-09', 10);
    const load = (file: string) => loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
    const earlier = await load(first);
    const newer = await load(second);
    expect([earlier.status, newer.status]).toEqual(['loaded', 'loaded']);
    await decide(store, biLead, { ...SEPTEMBER, decision: 'sign-off', loadId: newer.loadId! });
    await decide(store, admin, { ...SEPTEMBER, decision: 'publish', loadId: newer.loadId! });

    const again = await load(first);
    expect([again.status, again.loadId]).toEqual(['duplicate', earlier.loadId]);
    const month = (await listSignOffs(store, admin)).find((m) => m.period === '2025-09')!;
    expect([month.loadId, month.state]).toEqual([newer.loadId, 'published']);
    const states = await store.query<{ load_id: string; status: string }>(
      "SELECT load_id, status FROM loads WHERE dataset_id = 'apc' AND period = '2025-09' ORDER BY started_at",
    );
    expect(states.map((l) => [l.load_id, l.status])).toEqual([
      [earlier.loadId, 'superseded'],
      [newer.loadId, 'loaded'],
    ]);
  });
});
