/**
 * A load run as a child process by feeds-kill.test.ts (and bench/kill): when the load reaches
 * the named phase it says so on stdout and then either blocks its thread (`block`), so the
 * test kills it at exactly that point, or carries on (`continue`), so a kill sent a moment
 * later lands somewhere in what follows (the commit, the write-ahead log, the checkpoint).
 * Usage: feeds-kill-child.ts DATA_DIR STORE FILE PHASE [block|continue]
 */
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { openStore } from '../../src/store/open-store.ts';

const [dataDir, store, file, phase, mode = 'block'] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string?,
];
const warehouse = await openStore({ dataDir, store });
let announced = false;
await loadFeed(warehouse, { org: 'RWF', dataset: 'apc', file, actor: 'test' }, (progress) => {
  if (progress.phase !== phase || announced) return;
  announced = true;
  process.stdout.write(`AT ${phase}\n`);
  // Block this thread (and so the load) until the test kills the process.
  if (mode === 'block') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
});
process.stdout.write('FINISHED\n');
await warehouse.close();
