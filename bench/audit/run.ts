/**
 * bench/audit: how fast the audit log appends and verifies, on both engines.
 *
 *   npx tsx bench/audit/run.ts [--events 1000000] [--batch 10000]
 *
 * Prints appends per second (batched, and one event per transaction) and the time to
 * verify the whole chain. Targets on a 2-core machine: ≥ 20,000 appends/s batched;
 * verifying 1,000,000 events in under 3 s on DuckDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, verifyAudit, type AuditEntry } from '../../src/audit/audit-log.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { startPostgres } from '../../test/postgres-server.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/audit/run.ts', {
  options: {
    events: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '10000' },
    single: { type: 'string', default: '2000' },
    engines: { type: 'string', default: 'duckdb,postgres' },
  },
});
const events = Number(values.events);
const batch = Number(values.batch);
const single = Number(values.single);

function entry(i: number): AuditEntry {
  return {
    actor: `user:analyst${i % 50}@example.nhs.uk`,
    action: i % 3 === 0 ? 'data.read' : 'load.completed',
    target: `load:L${i}`,
    purpose: i % 3 === 0 ? 'usecase:4' : null,
    details: { rows: i % 10_000, dataset: 'apc', period: '2021-03' },
  };
}

async function measure(name: string, store: Store): Promise<void> {
  let started = performance.now();
  for (let i = 0; i < single; i++) {
    await store.transaction((tx) => appendAudit(tx, entry(i)));
  }
  const singleRate = single / ((performance.now() - started) / 1000);

  started = performance.now();
  for (let done = 0; done < events; done += batch) {
    const size = Math.min(batch, events - done);
    await store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: size }, (_, j) => entry(done + j)),
      ),
    );
  }
  const batchedSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const verdict = await verifyAudit(store);
  const verifySeconds = (performance.now() - started) / 1000;
  if (!verdict.ok) throw new Error(`verification failed: ${verdict.reason}`);

  console.log(
    [
      `${name.padEnd(8)}`,
      `batched appends: ${Math.round(events / batchedSeconds).toLocaleString('en-GB')}/s (${events.toLocaleString('en-GB')} in batches of ${batch.toLocaleString('en-GB')})`,
      `single appends: ${Math.round(singleRate).toLocaleString('en-GB')}/s (one per transaction)`,
      `verify ${verdict.count.toLocaleString('en-GB')} events: ${verifySeconds.toFixed(2)} s`,
    ].join(' | '),
  );
}

const engines = values.engines.split(',');
console.log(`bench/audit on ${os.cpus().length} cores, Node ${process.version}`);
if (engines.includes('duckdb')) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-bench-audit-'));
  const store = await openStore({ store: 'duckdb', dataDir: dir });
  try {
    await measure('duckdb', store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (engines.includes('postgres')) {
  const server = await startPostgres();
  try {
    const store = await openStore({ store: server.url, dataDir: os.tmpdir() });
    try {
      await measure('postgres', store);
    } finally {
      await store.close();
    }
  } finally {
    server.stop();
  }
}
console.log('targets: batched appends ≥ 20,000/s; verify 1,000,000 events < 3 s on DuckDB');
