/**
 * bench/dq: what the check catalogue costs a load (issue 16: at most 30% of the load's time
 * on a 1M-row APC feed).
 *
 *   npx tsx bench/dq/run.ts [--rows 1000000] [--rounds 3] [--store duckdb|postgres|postgres://…]
 *
 * `--store postgres` starts a throwaway PostgreSQL server, as the tests do.
 *
 * Writes and de-identifies RWF's APC feed of `rows` rows, loads it (the load profiles the month
 * in its own transaction), then times the profiling alone again on the loaded rows (`rounds`
 * times, the median) and the catalogue's judgement of the month (what opening a sign-off pack
 * adds). Prints the load average before each step, the load's time, the profile's, and the
 * profile's share of the load without it.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDataset } from '../../src/catalogue/catalogue.ts';
import { tableName } from '../../src/catalogue/shapes.ts';
import { getLoadReport } from '../../src/ingest/load-history.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { deidPlan } from '../../src/privacy/deid-plan.ts';
import { catalogueResults } from '../../src/quality/check-results.ts';
import { profileLoad } from '../../src/quality/load-profile.ts';
import { openStore } from '../../src/store/open-store.ts';
import { apcFeed, prepareForApc } from '../../test/kill-load.ts';
import { startPostgres } from '../../test/postgres-server.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/dq/run.ts', {
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    store: { type: 'string', default: 'duckdb' },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const load = () =>
  `load average ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-bench-dq-'));
console.log(
  `bench/dq: ${rows.toLocaleString('en-GB')} APC rows on ${values.store === 'duckdb' ? 'DuckDB' : 'PostgreSQL'}`,
);
const file = await apcFeed(dir, 'apc-2025-04', rows, '2025-04', 1);
const server = values.store === 'postgres' ? await startPostgres() : null;
const store = await openStore({ dataDir: dir, store: server ? server.url : (values.store ?? 'duckdb') });
try {
  await prepareForApc(store, dir);
  console.log(load());
  let started = performance.now();
  const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'bench' });
  const loadSeconds = (performance.now() - started) / 1000;
  console.log(
    `load: ${loadSeconds.toFixed(2)} s (${report.rowsLoaded.toLocaleString('en-GB')} rows loaded), profile included`,
  );

  const loadId = report.loadId ?? '';
  const details = await getLoadReport(store, loadId);
  const plan = deidPlan(getDataset('apc'));
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    console.log(load());
    started = performance.now();
    await profileLoad(store, {
      plan,
      table: tableName('apc'),
      loadId,
      rowsRead: details.rowsRead,
      rowsKept: details.rowsRead - details.rowsDropped,
      rowsLoaded: details.rowsLoaded,
      findings: details.findings,
      completeness: details.completeness,
    });
    times.push((performance.now() - started) / 1000);
  }
  const profile = median(times);
  started = performance.now();
  const judged = await catalogueResults(store, {
    loadId,
    org: 'RWF',
    dataset: 'apc',
    period: '2025-04',
  });
  const judging = (performance.now() - started) / 1000;
  console.log(
    `profile: median ${profile.toFixed(2)} s of ${rounds} (${times.map((t) => t.toFixed(2)).join(', ')}); ` +
      `${((profile / (loadSeconds - profile)) * 100).toFixed(1)}% of the load without it (target at most 30%)`,
  );
  console.log(
    `judging ${judged.results.length} checks for the sign-off pack: ${(judging * 1000).toFixed(0)} ms ` +
      `(${judged.counts.fail} fail, ${judged.counts.warn} warn, ${judged.counts.pass} pass, ${judged.counts['not-applicable']} not applicable)`,
  );
} finally {
  await store.close();
  server?.stop();
}
