/**
 * A load run as a child process by feeds-kill.test.ts: when the load reaches the named
 * phase it says so on stdout and blocks its thread, so the test can kill it mid-load at a
 * known point. Usage: feeds-kill-child.ts DATA_DIR STORE FILE PHASE
 */
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { openStore } from '../../src/store/open-store.ts';

const [dataDir, store, file, phase] = process.argv.slice(2) as [string, string, string, string];
const warehouse = await openStore({ dataDir, store });
let announced = false;
await loadFeed(warehouse, { org: 'RWF', dataset: 'apc', file, actor: 'test' }, (progress) => {
  if (progress.phase !== phase || announced) return;
  announced = true;
  process.stdout.write(`AT ${phase}\n`);
  // Block this thread (and so the load) until the test kills the process.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
});
process.stdout.write('FINISHED\n');
await warehouse.close();
