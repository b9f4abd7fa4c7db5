/**
 * Issue 16: the agent pushes what it wrote — `kernel deid … --send URL` — to a running
 * warehouse, which loads it as the organisation whose token and key it carries; the sender
 * retries when the network or server fails, and never when the warehouse refuses.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postcodeLookupCsv, writeExtract } from '../../bench/ingest/extract-writer.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { listLoads } from '../../src/ingest/load-history.ts';
import { sendFeed } from '../../src/privacy/send-feed.ts';
import { trustSigningKey } from '../../src/ingest/trusted-keys.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { runCli } from '../cli.ts';
import { accountsForEveryRole } from './portal-helpers.ts';

describe('kernel deid --send', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-deid-send-'));
  const at = (name: string) => path.join(dir, name);
  let store: Store;
  let server: RunningServer;

  beforeAll(async () => {
    writeFileSync(at('postcodes.csv'), postcodeLookupCsv());
    await writeExtract({
      spec: catalogueSpecs.spec('apc'),
      codeList: catalogueSpecs.codeList,
      file: at('extract.csv'),
      rows: 40,
      period: '2025-06',
    });
    expect((await runCli(['keys', 'new', '--out', at('link.key')])).code).toBe(0);
    expect((await runCli(['keys', 'new-signing', '--out', at('rwf.key')])).code).toBe(0);
    const dataDir = at('warehouse');
    const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
    store = await openStore(config);
    await seedOrganisations(store, 'test');
    await createAgreement(store, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'test');
    await trustSigningKey(store, 'RWF', readFileSync(at('rwf.key.pub'), 'utf8'), 'test');
    const accounts = await accountsForEveryRole(store, 'RWF');
    writeFileSync(at('rwf.token'), `${accounts.provider.token}\n`, { mode: 0o600 });
    writeFileSync(at('viewer.token'), `${accounts.viewer.token}\n`, { mode: 0o600 });
    server = await startServer({ store, config, port: 0 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  const deid = (out: string, ...more: string[]) =>
    runCli([
      'deid',
      ...['--key', at('link.key'), '--sign', at('rwf.key'), '--org', 'RWF', '--dataset', 'apc'],
      ...['--in', at('extract.csv'), '--out', at(out), '--postcodes', at('postcodes.csv')],
      ...more,
    ]);

  it('pushes the signed file and manifest, and the warehouse loads them as RWF', async () => {
    const sent = await deid('apc-2025-06.csv', '--send', server.url, '--token-file', at('rwf.token'));
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(
      new RegExp(`Sent to ${server.url}: loaded as ld-\\S+ \\(40 of 40 rows loaded\\)\\.`),
    );
    expect(sent.stdout).not.toContain(readFileSync(at('rwf.token'), 'utf8').trim());
    const [load] = await listLoads(store);
    expect(load).toMatchObject({ org: 'RWF', dataset: 'apc', period: '2025-06', state: 'loaded' });
  });

  it('carries the sender’s own totals in the signed manifest, and refuses totals that are not totals', async () => {
    writeFileSync(at('totals.json'), JSON.stringify({ rows: 41 }));
    const sent = await deid('apc-totals.csv', '--control-totals', at('totals.json'));
    expect(sent.code, sent.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(at('apc-totals.csv.manifest.json'), 'utf8')) as {
      controlTotals?: unknown;
    };
    expect(manifest.controlTotals).toEqual({ rows: 41 });
    writeFileSync(at('bad-totals.json'), JSON.stringify({ rows: 'many' }));
    const bad = await deid('apc-bad.csv', '--control-totals', at('bad-totals.json'));
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain(
      'Control totals are {"rows": a whole number, "sums": {field: number}, "distinctPeople": a whole number, "byMonth": {"field": date field, "rows": {"YYYY-MM": a whole number}}}',
    );
    // distinct patients and rows by month are carried too
    writeFileSync(
      at('more-totals.json'),
      JSON.stringify({ distinctPeople: 12, byMonth: { field: 'Episode_End_Date', rows: { '2025-04': 41 } } }),
    );
    const more = await deid('apc-more.csv', '--control-totals', at('more-totals.json'));
    expect(more.code, more.stderr).toBe(0);
    expect(
      (JSON.parse(readFileSync(at('apc-more.csv.manifest.json'), 'utf8')) as { controlTotals?: unknown })
        .controlTotals,
    ).toEqual({ distinctPeople: 12, byMonth: { field: 'Episode_End_Date', rows: { '2025-04': 41 } } });
  });

  it('refuses plain HTTP to another machine, a missing token, and a token that may not load', async () => {
    const plain = await deid(
      'b.csv',
      '--send',
      'http://kernel.example.nhs.uk',
      '--token-file',
      at('rwf.token'),
    );
    expect([plain.code, plain.stderr.trim()]).toEqual([
      64,
      'kernel: Feeds are sent over HTTPS only (plain HTTP only to this machine) (field send). Use https://kernel.example.nhs.uk',
    ]);
    const none = await deid('c.csv', '--send', server.url);
    expect(none.code).toBe(64);
    expect(none.stderr).toContain('--send needs the organisation’s API token');
    const viewer = await deid('d.csv', '--send', server.url, '--token-file', at('viewer.token'));
    expect(viewer.code).toBe(77);
    expect(viewer.stderr).toContain('The warehouse answered 403');
  });

  it('prints why the warehouse refused a feed, with the exit code the refusal maps to (review R2, 2)', async () => {
    expect((await runCli(['keys', 'new-signing', '--out', at('stranger.key')])).code).toBe(0);
    const sent = await runCli([
      'deid',
      ...['--key', at('link.key'), '--sign', at('stranger.key'), '--org', 'RWF', '--dataset', 'apc'],
      ...['--in', at('extract.csv'), '--out', at('apc-stranger.csv'), '--postcodes', at('postcodes.csv')],
      ...['--send', server.url, '--token-file', at('rwf.token')],
    ]);
    expect(sent.code).toBe(67);
    expect(sent.stderr).toMatch(/The warehouse refused the feed as ld-\S+: \S.*\. \S/);
    expect(sent.stderr).not.toContain('its report says why');
  });

  it('retries a failing server and an unreachable one, and stops at once on a refusal', async () => {
    let calls = 0;
    const flaky = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        calls += 1;
        response.setHeader('Content-Type', 'application/json');
        if (calls < 3) {
          response.statusCode = 503;
          response.end('{"error":{"code":"busy","message":"busy"}}');
        } else response.end('{"status":"loaded","loadId":"ld-x","rowsLoaded":1,"rowsRead":1}');
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    const sent = await sendFeed(url, 'kernel_x', at('apc-2025-06.csv'), { firstWaitMs: 5 });
    expect([sent.attempts, sent.report.status, calls]).toEqual([3, 'loaded', 3]);
    flaky.close();
    await expect(sendFeed(url, 'kernel_x', at('apc-2025-06.csv'), { firstWaitMs: 5 })).rejects.toMatchObject({
      code: 'busy',
    });
    let refusals = 0;
    const strict = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        refusals += 1;
        response.statusCode = 403;
        response.setHeader('Content-Type', 'application/json');
        response.end('{"error":{"code":"forbidden","message":"not yours"}}');
      });
    });
    await new Promise<void>((resolve) => strict.listen(0, '127.0.0.1', resolve));
    const strictUrl = `http://127.0.0.1:${(strict.address() as AddressInfo).port}`;
    await expect(
      sendFeed(strictUrl, 'kernel_x', at('apc-2025-06.csv'), { firstWaitMs: 5 }),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: 'The warehouse answered 403: not yours',
    });
    expect(refusals).toBe(1);
    strict.close();
  });
});
