/**
 * Issue 23, C1: a load killed with SIGKILL at any point — while it checks, while it writes,
 * just before and during its commit — leaves the month counted once. Each case kills a real
 * load in a child process, reopens the store as the CLI does (recovering first), counts rows,
 * and loads again.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/audit-log.ts';
import { listLoads, markStaleLoads } from '../../src/ingest/load-history.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { manifestPathFor } from '../../src/privacy/manifest.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { apcFeed, killLoadAt, prepareForApc } from '../kill-load.ts';
import { signAgain } from '../signed-feed.ts';
import { testStores } from '../stores.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-kill-'));
// Two submissions of the same month (different rows), so each can supersede the other.
const feeds = (async () => {
  const first = await apcFeed(dir, 'apc-a', 1500, '2025-04', 1);
  const second = await apcFeed(dir, 'apc-b', 1700, '2025-04', 2);
  return [first, second] as const;
})();

/**
 * `file` sent again in round `round`: the same rows, their source_line moved on, signed again.
 * The very same file again would be a duplicate (docs/feeds.md), which changes nothing.
 */
function sentAgain(file: string, round: number): string {
  const copy = path.join(dir, `${path.basename(file, '.csv')}-round-${round}.csv`);
  const moved = readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => {
      const comma = line.indexOf(',');
      return i === 0 || comma < 0
        ? line
        : `${Number(line.slice(0, comma)) + round * 100_000}${line.slice(comma)}`;
    });
  writeFileSync(copy, moved.join('\n'));
  copyFileSync(manifestPathFor(file), manifestPathFor(copy));
  signAgain(copy);
  return copy;
}

async function rowsIn(store: Store): Promise<number> {
  try {
    return Number((await store.query<{ n: number }>('SELECT count(*) AS n FROM ds_apc'))[0]?.n ?? 0);
  } catch {
    return 0; // the table is made inside the load's transaction, so it may not exist
  }
}

/** Opens the store as every CLI command does: a dead load's leftovers go before any read. */
async function reopen(config: { dataDir: string; store: string }): Promise<Store> {
  const store = await openStore(config);
  await markStaleLoads(store);
  return store;
}

describe.each(testStores())('a load killed mid-way on $engine', (engine) => {
  it.each(['check', 'write', 'commit'])(
    'killed during %s of a first load: leaves only a failed-load record, and the next load succeeds',
    async (phase) => {
      const [file] = await feeds;
      const config = await engine.fresh();
      const setup = await openStore(config);
      await prepareForApc(setup, dir);
      await setup.close();

      expect((await killLoadAt(config, file, phase)).stdout).toContain(`AT ${phase}`);

      const store = await reopen(config);
      try {
        expect(await rowsIn(store)).toBe(0);
        const loads = await listLoads(store);
        expect(loads.map((l) => [l.state, l.interrupted])).toEqual([['failed', true]]);
        expect(loads[0]?.error).toMatch(/stopped before it finished/);
        const interrupted = await store.query<{ details: string }>(
          "SELECT details FROM audit_events WHERE action = 'load.interrupted'",
        );
        expect(interrupted).toHaveLength(1);
        expect((await store.query('SELECT * FROM load_quarantine')).length).toBe(0);
        expect((await verifyAudit(store)).ok).toBe(true);

        const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
        expect(report).toMatchObject({ status: 'loaded', rowsRead: 1500 });
        expect(await rowsIn(store)).toBe(report.rowsLoaded);
        expect((await listLoads(store)).map((l) => l.state)).toEqual(['loaded', 'failed']);
      } finally {
        await store.close();
      }
    },
    60_000,
  );

  it('a resubmission killed at many points of its commit never leaves the month counted twice', async () => {
    const files = await feeds;
    const config = await engine.fresh();
    const store = await openStore(config);
    await prepareForApc(store, dir);
    const rowsOf: number[] = [];
    for (const file of files) {
      const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
      rowsOf.push(report.rowsLoaded);
    }
    // `files[1]` stands; the month is resubmitted again and again, killed each time.
    let standing = 1;
    await store.close();
    const points: [string, 'block' | 'continue', number][] = [
      ['write', 'block', 0],
      ['commit', 'block', 0],
      // A moment after the commit began: before, inside and after the engine writes it.
      ...[0, 1, 2, 4, 8, 12, 18, 25, 40].map((ms): [string, 'continue', number] => [
        'commit',
        'continue',
        ms,
      ]),
    ];
    const outcomes: string[] = [];
    for (const [round, [phase, mode, delayMs]] of points.entries()) {
      const other = 1 - standing;
      const resubmitted = sentAgain(files[other] as string, round + 1);
      const { killed } = await killLoadAt(config, resubmitted, phase, { mode, delayMs });
      const after = await reopen(config);
      try {
        const month = (await listLoads(after)).filter((l) => l.period === '2025-04');
        const loaded = month.filter((l) => l.state === 'loaded');
        // Exactly one submission stands, and the table holds exactly its rows: never both.
        expect(loaded, `${phase} +${delayMs}ms`).toHaveLength(1);
        const resubmissionStands = loaded[0]?.file === path.basename(resubmitted);
        if (resubmissionStands) standing = other;
        expect(await rowsIn(after), `${phase} +${delayMs}ms`).toBe(rowsOf[standing]);
        const strays = await after.query<{ n: number }>(
          'SELECT count(*) AS n FROM ds_apc WHERE load_id <> $1',
          [loaded[0]!.loadId!],
        );
        expect(Number(strays[0]?.n), `${phase} +${delayMs}ms`).toBe(0);
        expect(month.filter((l) => l.state === 'running')).toEqual([]);
        expect((await verifyAudit(after)).ok).toBe(true);
        outcomes.push(
          `${phase}+${delayMs}ms: ${killed ? 'killed' : 'finished'}, ${resubmissionStands ? 'new' : 'old'} stands`,
        );
      } finally {
        await after.close();
      }
    }
    // Whatever the kills left, one more load of the other submission leaves one copy.
    const last = await reopen(config);
    try {
      const other = 1 - standing;
      const file = sentAgain(files[other] as string, points.length + 1);
      const report = await loadFeed(last, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
      expect(report.status).toBe('loaded');
      expect(await rowsIn(last)).toBe(rowsOf[other]);
    } finally {
      await last.close();
    }
    expect(outcomes).toHaveLength(points.length);
    // Ten child processes, each loading a freshly signed copy: about two minutes on a busy
    // 2-core machine, so the limit leaves room for one.
  }, 240_000);
});
