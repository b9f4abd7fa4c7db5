import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { postcodeLookupCsv, writeExtract } from '../../bench/ingest/extract-writer.ts';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { listLoads, writeQuarantine } from '../../src/ingest/load-history.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { deidentifyFile } from '../../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import { newSigningKeyPair } from '../../src/privacy/signing-key.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../../src/ingest/trusted-keys.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { formatLoadReport } from '../../src/cli/load-command.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, portalApp, sessionFor } from './portal-helpers.ts';

// Issue 23, C1: a process killed while the engine writes a load's commit has been seen to
// leave the load's rows in its table with its record `running` (then `failed`), so every
// read counted the month twice. These tests put a store in exactly that state and check
// that recovery, and a reload of the feed, leave the month counted once.

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-recovery-'));
const spec = catalogueSpecs.spec('apc');
const pair = newSigningKeyPair();
const tokeniser = hmacTokeniser(newLinkKey());

async function makeFeed(name: string, seed: number): Promise<string> {
  const extract = path.join(dir, `${name}-extract.csv`);
  const out = path.join(dir, `${name}.csv`);
  writeFileSync(path.join(dir, 'postcodes.csv'), postcodeLookupCsv());
  await writeExtract({
    spec,
    codeList: catalogueSpecs.codeList,
    file: extract,
    rows: 500,
    period: '2025-04',
    seed,
  });
  await deidentifyFile({
    spec,
    org: 'RWF',
    input: extract,
    output: out,
    tokeniser,
    postcodes: await readPostcodeLookup(path.join(dir, 'postcodes.csv')),
    signing: { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) },
  });
  return out;
}

async function count(store: Store, sql: string, params: string[] = []): Promise<number> {
  return Number((await store.query<{ n: number }>(sql, params))[0]?.n ?? 0);
}

/** Copies a load's rows under another load id, as a commit cut short by a kill left them. */
async function leaveOrphans(store: Store, from: string, orphan: string, status: string): Promise<void> {
  const columns = (
    await store.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'ds_apc' ORDER BY ordinal_position",
    )
  ).map((c) => `"${c.column_name}"`);
  const select = columns.map((c) => (c === '"load_id"' ? '$2' : c)).join(', ');
  await store.run(
    `INSERT INTO ds_apc (${columns.join(', ')}) SELECT ${select} FROM ds_apc WHERE load_id = $1`,
    [from, orphan],
  );
  // A pid no process has: the load's process is gone.
  await store.run(
    `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, sha256, status, started_at, actor, host, pid)
     VALUES ($1, 'RWF', 'apc', '2025-04', 'apc.csv', $2, $3, $4, 'test', $5, 2147483646)`,
    [orphan, 'f'.repeat(64), status, new Date().toISOString(), os.hostname()],
  );
}

/** A store where RWF may send APC with the fixtures' signing key. */
async function storeForRwf(config: { dataDir: string; store: string }): Promise<Store> {
  const store = await openStore(config);
  await seedOrganisations(store, 'test');
  await createAgreement(store, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'test');
  await trustSigningKey(store, 'RWF', pair.publicKeyPem, 'test');
  return store;
}

describe.each(testStores())('rows a cut-short commit left behind, on $engine', (engine) => {
  it('are deleted when the dead load is recovered, with an audit event, and a reload removes older ones', async () => {
    const [first, second] = [await makeFeed('first', 1), await makeFeed('second', 2)];
    const store = await storeForRwf(await engine.fresh());
    try {
      const loaded = await loadFeed(store, { org: 'RWF', dataset: 'apc', file: first, actor: 'test' });
      expect(loaded.status).toBe('loaded');
      const month = loaded.rowsLoaded;

      // A running load whose process died after its rows reached the table.
      await leaveOrphans(store, loaded.loadId!, 'killed-load-1', 'running');
      expect(await count(store, 'SELECT count(*) AS n FROM ds_apc')).toBe(2 * month);
      const loads = await listLoads(store);
      expect(loads.find((l) => l.loadId === 'killed-load-1')?.state).toBe('failed');
      expect(await count(store, 'SELECT count(*) AS n FROM ds_apc')).toBe(month);
      const interrupted = (await listAudit(store)).filter((e) => e.action === 'load.interrupted');
      expect(interrupted).toHaveLength(1);
      expect(JSON.parse(String(interrupted[0]?.details))).toMatchObject({ rowsRemoved: month });
      expect((await verifyAudit(store)).ok).toBe(true);
      // Shown as interrupted, not refused: in the API, the portal and the CLI.
      const killed = loads.find((l) => l.loadId === 'killed-load-1');
      expect(killed).toMatchObject({ state: 'failed', interrupted: true });
      expect(formatLoadReport(killed!)).toMatch(
        /^Interrupted: apc from RWF \(load killed-load-1\) stopped before it finished/,
      );
      const accounts = await accountsForEveryRole(store);
      const { cookie } = await sessionFor(store, accounts.admin.userId);
      const page = await (
        await portalApp(store).app.request('/loads/killed-load-1', { headers: { Cookie: cookie } })
      ).text();
      expect(page).toContain('This load was interrupted');
      expect(page).toMatch(/nhsuk-tag--orange">\s*Interrupted/);

      // Rows of a load already marked failed (before recovery deleted them): a reload of the
      // same feed removes them as it supersedes the standing load.
      await leaveOrphans(store, loaded.loadId!, 'killed-load-2', 'failed');
      const reload = await loadFeed(store, { org: 'RWF', dataset: 'apc', file: second, actor: 'test' });
      expect(reload.status).toBe('loaded');
      expect(await count(store, 'SELECT count(*) AS n FROM ds_apc')).toBe(reload.rowsLoaded);
      expect(
        await count(store, 'SELECT count(*) AS n FROM ds_apc WHERE load_id <> $1', [reload.loadId!]),
      ).toBe(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe.each(testStores())("a load's quarantined rows exported on $engine (issue 23, low)", (engine) => {
  it('keep spreadsheet formulas as text, and the export is audited', async () => {
    const file = await makeFeed('quarantine', 3);
    const store = await storeForRwf(await engine.fresh());
    try {
      const loaded = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
      await store.run('DELETE FROM load_quarantine WHERE load_id = $1', [loaded.loadId!]);
      await store.run(
        "INSERT INTO load_quarantine (load_id, source_line, rule, field, row_json) VALUES ($1, 7, 'code', 'Admission_Method', $2)",
        [loaded.loadId!, JSON.stringify({ Admission_Method: '=HYPERLINK("http://x","y")', Note: '+1' })],
      );
      const out = path.join(dir, `quarantine-${engine.engine}.csv`);
      expect(await writeQuarantine(store, loaded.loadId!, out, 'cli:tester')).toBe(1);
      const [header, line] = readFileSync(out, 'utf8').trim().split('\n');
      expect(header).toBe('line,rule,field,Admission_Method,Note');
      expect(line).toBe(`7,code,Admission_Method,"'=HYPERLINK(""http://x"",""y"")",'+1`);
      const events = (await listAudit(store)).filter((e) => e.action === 'load.quarantine-exported');
      expect(events.map((e) => [e.actor, e.target, JSON.parse(String(e.details))])).toEqual([
        ['cli:tester', loaded.loadId, { rows: 1 }],
      ]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
