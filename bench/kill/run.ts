/**
 * bench/kill: the kill test of issue 23 (C1) at full size. A standing month of 1,000,000 APC
 * rows is resubmitted (1,000,000 other rows) and the resubmission killed with SIGKILL at
 * points through its write and its commit; after each kill the store is reopened as every
 * CLI command opens it (dead loads recovered first) and the month's rows are counted.
 *
 *   npx tsx bench/kill/run.ts [--rows 1000000] [--store duckdb|postgres://…] [--dir DIR]
 *
 * It prints, per kill point, whether the signal landed before the load finished, which
 * submission stands, the rows counted (always one submission's, never both: the finding was
 * 1,999,992 for 999,996) and how long reopening and recovering took; then the median recovery.
 * The load average is printed before each kill.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listLoads, markStaleLoads } from '../../src/ingest/load-history.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { openStore } from '../../src/store/open-store.ts';
import { apcFeed, killLoadAt, prepareForApc } from '../../test/kill-load.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/kill/run.ts', {
  options: {
    rows: { type: 'string', default: '1000000' },
    store: { type: 'string', default: 'duckdb' },
    dir: { type: 'string' },
  },
});
const rows = Number(values.rows);
const dir = values.dir ? path.resolve(values.dir) : mkdtempSync(path.join(os.tmpdir(), 'kernel-bench-kill-'));
mkdirSync(dir, { recursive: true });
const feedsDir = path.join(dir, 'feeds');
mkdirSync(feedsDir, { recursive: true });
const dataDir = path.join(dir, 'data');
rmSync(dataDir, { recursive: true, force: true });
const config = { dataDir, store: String(values.store) };
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

console.log(
  `bench/kill: ${rows.toLocaleString('en-GB')} rows a submission, store ${config.store}, ${os.cpus().length} cores`,
);
let t = performance.now();
const files = [
  await apcFeed(feedsDir, 'apc-a', rows, '2025-04', 1),
  await apcFeed(feedsDir, 'apc-b', rows, '2025-04', 2),
] as const;
console.log(`two signed submissions written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const store = await openStore(config);
await prepareForApc(store, feedsDir);
const rowsOf = new Map<string, number>();
for (const file of files) {
  t = performance.now();
  const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'bench' });
  rowsOf.set(file, report.rowsLoaded);
  console.log(
    `loaded ${path.basename(file)}: ${report.rowsLoaded.toLocaleString('en-GB')} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
}
await store.close();

let standing: string = files[1];
const points: [string, 'block' | 'continue', number][] = [
  ['check', 'block', 0],
  ['write', 'block', 0],
  ['commit', 'block', 0],
  ...[0, 10, 20, 25, 30, 35, 40, 45, 50, 100, 200].map((ms): [string, 'continue', number] => [
    'commit',
    'continue',
    ms,
  ]),
];
const recoveries: number[] = [];
let doubles = 0;
for (const [phase, mode, delayMs] of points) {
  const resubmitted = standing === files[0] ? files[1] : files[0];
  console.log(
    `  load average before kill at ${phase}${mode === 'continue' ? ` +${delayMs} ms` : ''}: ${load()}`,
  );
  const { killed } = await killLoadAt(config, resubmitted, phase, { mode, delayMs });
  t = performance.now();
  const after = await openStore(config);
  const [{ seq: lastSeq = 0 } = {}] = await after.query<{ seq: number }>(
    'SELECT max(seq) AS seq FROM audit_events',
  );
  await markStaleLoads(after);
  const recovery = (performance.now() - t) / 1000;
  // What recovery deleted: rows the killed load had left in ds_apc (the finding's orphans).
  const removed = (
    await after.query<{ details: string }>(
      "SELECT details FROM audit_events WHERE action = 'load.interrupted' AND seq > $1",
      [Number(lastSeq)],
    )
  ).reduce((n, e) => n + Number((JSON.parse(e.details) as { rowsRemoved?: number }).rowsRemoved ?? 0), 0);
  recoveries.push(recovery);
  const loaded = (await listLoads(after)).filter((l) => l.period === '2025-04' && l.state === 'loaded');
  if (loaded[0]?.file === path.basename(resubmitted)) standing = resubmitted;
  const [count] = await after.query<{ n: number }>('SELECT count(*) AS n FROM ds_apc');
  const counted = Number(count?.n ?? 0);
  const expected = rowsOf.get(standing) ?? -1;
  if (counted !== expected || loaded.length !== 1) doubles += 1;
  console.log(
    `${phase}${mode === 'continue' ? ` +${delayMs} ms` : ''}: ${killed ? 'killed' : 'finished first'}, ` +
      `${standing === resubmitted ? 'the resubmission' : 'the standing month'} stands; ` +
      `${counted.toLocaleString('en-GB')} rows counted (expected ${expected.toLocaleString('en-GB')}), ` +
      `${loaded.length} loaded; recovery removed ${removed.toLocaleString('en-GB')} orphan rows; reopened and recovered in ${recovery.toFixed(2)} s`,
  );
  await after.close();
}
const sorted = [...recoveries].sort((a, b) => a - b);
console.log(
  `${points.length} kills: ${doubles === 0 ? 'the month was counted once after every one' : `${doubles} left the month miscounted`}; ` +
    `recovery median ${(sorted[Math.floor(sorted.length / 2)] as number).toFixed(2)} s, max ${(sorted.at(-1) as number).toFixed(2)} s`,
);
if (!values.dir) rmSync(dir, { recursive: true, force: true });
process.exitCode = doubles === 0 ? 0 : 1;
