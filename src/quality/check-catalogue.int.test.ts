/**
 * The check catalogue through a real load on both engines: each load's profile is stored in
 * its transaction, and the sign-off pack judges the month against it and the months before.
 * March's extract is spoiled on purpose: no ethnicity at all, five stays of over a year, and
 * three rows repeating another row's spell and episode.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../audit/audit-log.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { signOffPack } from '../signoff/sign-off-pack.ts';
import type { SignOffCaller } from '../signoff/sign-off.ts';
import type { Store } from '../store/store.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { apcFeed, prepareForApc } from '../../test/kill-load.ts';
import { testStores } from '../../test/stores.ts';
import { accountsForEveryRole, portalApp, sessionFor } from '../../test/e2e/portal-helpers.ts';
import { checksFor, type LoadProfile } from './check-catalogue.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-checks-'));
const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const shiftDays = (day: string, by: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + by * 86_400_000).toISOString().slice(0, 10);

/** March, spoiled: see the file's comment. */
function spoil(extract: string): void {
  const [header = [], ...rows] = parseCsv(readFileSync(extract, 'utf8')).filter((r) => r.length > 1);
  const at = (name: string): number => header.indexOf(name);
  for (const [i, row] of rows.entries()) {
    row[at('Ethnic_Category')] = '';
    if (i < 5) row[at('Admission_Date')] = shiftDays(row[at('Admission_Date')] as string, -400);
    if (i >= 10 && i < 13) {
      row[at('Hospital_Provider_Spell_Number')] = rows[20]?.[at('Hospital_Provider_Spell_Number')] ?? '';
      row[at('Episode_Number')] = rows[20]?.[at('Episode_Number')] ?? '';
    }
  }
  writeFileSync(extract, [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n');
}

const feeds = (async () => ({
  jan: await apcFeed(dir, 'apc-2025-01', 400, '2025-01', 1),
  feb: await apcFeed(dir, 'apc-2025-02', 420, '2025-02', 2),
  mar: await apcFeed(dir, 'apc-2025-03', 410, '2025-03', 3, undefined, spoil),
}))();

const biLead: SignOffCaller = { actor: 'user:bi@rwf.test', role: 'provider', org: 'RWF' };
const admin: SignOffCaller = { actor: 'user:admin@kernel.test', role: 'admin', org: null };

describe.each(testStores())('the check catalogue on $engine (issue 16)', (engine) => {
  let store: Store;
  const loadIds: Record<string, string> = {};
  beforeAll(async () => {
    store = await engine.open();
    await prepareForApc(store, dir);
    const f = await feeds;
    for (const [month, file] of Object.entries(f)) {
      const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
      expect(report.status).toBe('loaded');
      loadIds[month] = report.loadId ?? '';
    }
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  it('stores each load’s profile with it', async () => {
    const [row] = await store.query<{ profile: string }>(
      'SELECT profile FROM load_profiles WHERE load_id = $1',
      [loadIds.mar as string],
    );
    const profile = JSON.parse(row?.profile ?? '{}') as LoadProfile;
    expect(profile.rowsLoaded).toBe(410);
    expect(profile.filled.Ethnic_Category).toBe(0);
    expect(profile.filled.Admission_Method).toBe(410);
    expect(profile.implausible['length-of-stay']).toBe(5);
    expect(profile.duplicates.episode).toBe(3);
    expect(String(profile.ranges.Admission_Date?.min)).toMatch(/^2024-/); // the stays of over a year
    expect(String(profile.ranges.Episode_End_Date?.max)).toMatch(/^2025-03-/);
    expect(profile.top.Admission_Method?.length).toBeGreaterThan(0);
    expect(profile.top.Admission_Method?.length).toBeLessThanOrEqual(5);
    const counted = (profile.top.Admission_Method ?? []).map((t) => t.count);
    expect([...counted].sort((a, b) => b - a)).toEqual(counted);
    const [n] = await store.query<{ n: number }>('SELECT count(*) AS n FROM load_profiles');
    expect(Number(n?.n)).toBe(3);
  });

  it('judges the month in the sign-off pack, against the months before, and names every failing check', async () => {
    const pack = await signOffPack(store, biLead, 'RWF', 'apc', '2025-03');
    const { catalogue } = pack;
    expect(catalogue.results).toHaveLength(checksFor('apc').length);
    expect(catalogue.compared).toEqual({ previous: '2025-02', sameMonthLastYear: null });
    const status = (id: string) => catalogue.results.find((r) => r.id === id)?.status;
    expect(status('apc/completeness/Ethnic_Category')).toBe('fail');
    expect(status('apc/completeness-over-time/Ethnic_Category')).toBe('fail');
    expect(status('apc/plausibility/length-of-stay')).toBe('fail'); // 5 of 410: 1.2%
    expect(status('apc/uniqueness/episode')).toBe('fail'); // 3 of 410: 0.7%
    expect(status('apc/volume/rows')).toBe('pass');
    expect(status('apc/completeness/Admission_Method')).toBe('pass');
    const failing = catalogue.results.filter((r) => r.status === 'fail').map((r) => `dq:${r.id}`);
    expect(failing.length).toBe(catalogue.counts.fail);
    for (const id of failing) expect(pack.checks.map((c) => c.id)).toContain(id);
    // the flagged rate, month by month, with the XmR chart the check read
    const ethnicity = catalogue.rates.find((r) => r.field === 'Ethnic_Category');
    expect(ethnicity?.months).toEqual(['2025-01', '2025-02', '2025-03']);
    expect(ethnicity?.values.at(-1)).toBe(0);
    expect(ethnicity?.values[0]).toBeGreaterThan(50);
    expect(ethnicity?.spc.points).toHaveLength(3);
    // January had nothing before it
    const january = await signOffPack(store, biLead, 'RWF', 'apc', '2025-01');
    expect(january.catalogue.results.find((r) => r.id === 'apc/volume/rows')?.status).toBe('not-applicable');
    expect(january.catalogue.counts.fail).toBe(0);
  });

  it('draws the flagged rate on the pack page, with the catalogue and the sample', async () => {
    const accounts = await accountsForEveryRole(store, 'RWF');
    const portal = portalApp(store, dir);
    const { cookie } = await sessionFor(store, accounts.provider.userId);
    const page = await portal.app.request('/signoff/RWF/apc/2025-03', { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Ethnic_Category: completeness over the feed's months");
    expect(html).toMatch(/aria-labelledby="rate-0-title rate-0-desc"/);
    expect(html).toContain('Every check of the catalogue');
    expect(html).toContain("A sample of the month's rows");
    const pdf = await portal.app.request('/signoff/RWF/apc/2025-03/pdf', { headers: { Cookie: cookie } });
    expect(pdf.headers.get('Content-Type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
  });

  it('shows the sending organisation a few rows, without tokens, and records each look; others see none', async () => {
    const pack = await signOffPack(store, biLead, 'RWF', 'apc', '2025-03');
    expect(pack.sample?.rows).toHaveLength(10);
    expect(pack.sample?.columns).not.toContain('person_token');
    expect(pack.sample?.columns).toContain('Admission_Method');
    const [look] = await listAudit(store, { action: 'data.sample-read', limit: 1 });
    expect(look?.actor).toBe('user:bi@rwf.test');
    expect(JSON.parse(look?.details ?? '{}')).toMatchObject({ dataset: 'apc', period: '2025-03', rows: 10 });
    const logged = await store.query<{ n: number }>(
      "SELECT count(*) AS n FROM data_access_log WHERE use_case_id = 'sign-off' AND org_code = 'RWF' AND user_id = 'user:bi@rwf.test'",
    );
    expect(Number(logged[0]?.n)).toBeGreaterThan(0);
    expect((await signOffPack(store, admin, 'RWF', 'apc', '2025-03')).sample).toBeNull();
  });
});
