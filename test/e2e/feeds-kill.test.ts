import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { postcodeLookupCsv, writeExtract } from '../../bench/ingest/extract-writer.ts';
import { verifyAudit } from '../../src/audit/audit-log.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { listLoads } from '../../src/ingest/load-history.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { deidentifyFile } from '../../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import {
  newSigningKeyPair,
  readSigningPrivateKey,
  writeSigningKeyPair,
} from '../../src/privacy/signing-key.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../../src/privacy/trusted-keys.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { ROOT } from '../cli.ts';
import { testStores } from '../stores.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-kill-'));
const spec = catalogueSpecs.spec('apc');

async function makeFeed(): Promise<string> {
  const extract = path.join(dir, 'extract.csv');
  const out = path.join(dir, 'apc.csv');
  writeFileSync(path.join(dir, 'postcodes.csv'), postcodeLookupCsv());
  await writeExtract({
    spec,
    codeList: catalogueSpecs.codeList,
    file: extract,
    rows: 3000,
    period: '2025-04',
  });
  writeSigningKeyPair(path.join(dir, 'rwf.key'), newSigningKeyPair());
  await deidentifyFile({
    spec,
    org: 'RWF',
    input: extract,
    output: out,
    tokeniser: hmacTokeniser(newLinkKey()),
    postcodes: await readPostcodeLookup(path.join(dir, 'postcodes.csv')),
    signing: readSigningPrivateKey(path.join(dir, 'rwf.key')),
  });
  return out;
}
const feed = makeFeed();

/** Starts a load in a child process, kills it (SIGKILL) when it reaches `phase`. */
function killLoadAt(
  config: { dataDir: string; store: string },
  file: string,
  phase: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'test', 'e2e', 'feeds-kill-child.ts'),
        config.dataDir,
        config.store,
        file,
        phase,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes(`AT ${phase}`)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) =>
      signal === 'SIGKILL'
        ? resolve(stdout)
        : reject(new Error(`the load was not killed: ${stdout} ${stderr}`)),
    );
  });
}

async function rowsIn(store: Store): Promise<number> {
  try {
    return Number((await store.query<{ n: number }>('SELECT count(*) AS n FROM ds_apc'))[0]?.n ?? 0);
  } catch {
    return 0; // the table is made inside the load's transaction, so it may not exist
  }
}

describe.each(testStores())('a load killed mid-way on $engine', (engine) => {
  it.each(['check', 'write'])(
    'killed during %s: leaves only a failed-load record, and the next load succeeds',
    async (phase) => {
      const file = await feed;
      const config = await engine.fresh();
      const setup = await openStore(config);
      await seedOrganisations(setup, 'test');
      await createAgreement(setup, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'test');
      await trustSigningKey(setup, 'RWF', readFileSync(path.join(dir, 'rwf.key.pub'), 'utf8'), 'test');
      await setup.close();

      expect(await killLoadAt(config, file, phase)).toContain(`AT ${phase}`);

      const store = await openStore(config);
      try {
        expect(await rowsIn(store)).toBe(0);
        const loads = await listLoads(store);
        expect(loads.map((l) => l.state)).toEqual(['failed']);
        expect(loads[0]?.error).toMatch(/stopped before it finished/);
        expect((await store.query('SELECT * FROM load_quarantine')).length).toBe(0);
        expect((await verifyAudit(store)).ok).toBe(true);

        const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
        expect(report).toMatchObject({ status: 'loaded', rowsRead: 3000 });
        expect(await rowsIn(store)).toBe(report.rowsLoaded);
        expect((await listLoads(store)).map((l) => l.state)).toEqual(['loaded', 'failed']);
      } finally {
        await store.close();
      }
    },
    60_000,
  );
});
