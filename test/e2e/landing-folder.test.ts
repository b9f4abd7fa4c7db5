/**
 * Issue 16: feeds that arrive by themselves, through a landing folder the server watches.
 * A settled pair is loaded once and moved with its report; a half-written file waits; a pair
 * that does not verify goes to failed/ with what was wrong.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepLandingFolder, type LandingMemory } from '../../src/ingest/landing-folder.ts';
import { listLoads } from '../../src/ingest/load-history.ts';
import { manifestPathFor } from '../../src/privacy/manifest.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { startServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import { apcFeed, prepareForApc } from '../kill-load.ts';
import { runCli } from '../cli.ts';
import { testStores } from '../stores.ts';

const source = mkdtempSync(path.join(os.tmpdir(), 'kernel-landing-src-'));
const feeds = (async () => ({
  april: await apcFeed(source, 'apc-2025-04', 120, '2025-04', 1),
  may: await apcFeed(source, 'apc-2025-05', 130, '2025-05', 2),
}))();

/** Drops a feed and its manifest into the landing folder, as a transfer would. */
function drop(file: string, into: string, name = path.basename(file)): string {
  const to = path.join(into, name);
  copyFileSync(file, to);
  copyFileSync(manifestPathFor(file), manifestPathFor(to));
  return to;
}

describe.each(testStores())('the landing folder on $engine', (engine) => {
  it('loads a settled pair once, waits for a file still being written, and fails one that does not verify', async () => {
    const { april, may } = await feeds;
    const store = await engine.open();
    try {
      await prepareForApc(store, source);
      const landing = mkdtempSync(path.join(os.tmpdir(), 'kernel-landing-'));
      const memory: LandingMemory = new Map();
      drop(april, landing);
      // A pair is taken only once it has not changed since the sweep before.
      expect(await sweepLandingFolder(store, landing, memory)).toEqual([]);
      const [loaded] = await sweepLandingFolder(store, landing, memory);
      expect(loaded).toMatchObject({ file: 'apc-2025-04.csv', status: 'loaded', movedTo: 'done' });
      expect(readdirSync(path.join(landing, 'done')).sort()).toEqual([
        'apc-2025-04.csv',
        'apc-2025-04.csv.manifest.json',
        'apc-2025-04.csv.report.json',
      ]);
      const report = JSON.parse(
        readFileSync(path.join(landing, 'done', 'apc-2025-04.csv.report.json'), 'utf8'),
      );
      expect(report).toMatchObject({
        status: 'loaded',
        org: 'RWF',
        dataset: 'apc',
        period: '2025-04',
        rowsRead: 120,
      });
      expect((await listLoads(store)).map((l) => [l.period, l.state, l.actor])).toEqual([
        ['2025-04', 'loaded', `landing:${path.basename(landing)}`],
      ]);

      // Half-written: the file grows between sweeps, so it waits; when it stops, it is taken.
      const growing = drop(may, landing);
      await sweepLandingFolder(store, landing, memory);
      const whole = readFileSync(growing);
      writeFileSync(growing, whole.subarray(0, whole.length - 10));
      expect(await sweepLandingFolder(store, landing, memory)).toEqual([]);
      expect((await listLoads(store)).length).toBe(1);
      writeFileSync(growing, whole);
      await sweepLandingFolder(store, landing, memory);
      const [mayLoaded] = await sweepLandingFolder(store, landing, memory);
      expect(mayLoaded).toMatchObject({ status: 'loaded', movedTo: 'done' });

      // The same file again is a duplicate, done; a manifest for another file fails, with why.
      drop(april, landing, 'apc-2025-04-again.csv');
      copyFileSync(manifestPathFor(may), manifestPathFor(path.join(landing, 'wrong.csv')));
      copyFileSync(april, path.join(landing, 'wrong.csv'));
      await sweepLandingFolder(store, landing, memory);
      const outcomes = await sweepLandingFolder(store, landing, memory);
      expect(outcomes.map((o) => [o.file, o.status, o.movedTo])).toEqual([
        ['apc-2025-04-again.csv', 'duplicate', 'done'],
        ['wrong.csv', 'refused', 'failed'],
      ]);
      const why = JSON.parse(readFileSync(path.join(landing, 'failed', 'wrong.csv.report.json'), 'utf8'));
      expect(why.status).toBe('refused');
      // and why: the report alone holds no reason (review R2, 2)
      expect(why.error).toMatchObject({ code: 'refused', message: expect.stringContaining('another file') });
      expect(existsSync(path.join(landing, 'wrong.csv'))).toBe(false);
      // A name sent again (the month resent) is kept beside the first pair, never over it (review R2, 11).
      drop(april, landing);
      await sweepLandingFolder(store, landing, memory);
      const [again] = await sweepLandingFolder(store, landing, memory);
      expect(again).toMatchObject({
        file: 'apc-2025-04.csv',
        status: 'duplicate',
        movedTo: 'done',
        keptAs: 'apc-2025-04-2.csv',
      });
      const kept = (name: string) => JSON.parse(readFileSync(path.join(landing, 'done', name), 'utf8'));
      expect(kept('apc-2025-04.csv.report.json').status).toBe('loaded');
      expect(kept('apc-2025-04-2.csv.report.json').status).toBe('duplicate');
      expect(existsSync(manifestPathFor(path.join(landing, 'done', 'apc-2025-04-2.csv')))).toBe(true);
      // Transfers' temporary names are never touched.
      copyFileSync(april, path.join(landing, 'incoming.csv.part'));
      await sweepLandingFolder(store, landing, memory);
      expect(await sweepLandingFolder(store, landing, memory)).toEqual([]);
      expect(existsSync(path.join(landing, 'incoming.csv.part'))).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('kernel serve --landing', () => {
  it('refuses a landing path that is a file before it serves, and leaves no server behind (review R2, 6)', async () => {
    const engine = testStores()[0]!;
    const target = await engine.fresh();
    const store = await openStore(target);
    const afile = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-landing-file-')), 'afile');
    writeFileSync(afile, '');
    const config = { ...resolveConfig({ data: target.dataDir }).config, dataDir: target.dataDir };
    try {
      await expect(startServer({ store, config, port: 0, landing: afile })).rejects.toMatchObject({
        code: 'usage',
        message: `The landing folder ${afile} is a file, not a folder`,
        where: { field: 'landing' },
      });
    } finally {
      await store.close();
    }
    const serve = await runCli([
      ...['--data', target.dataDir, '--store', target.store],
      ...['serve', '--port', '0', '--landing', afile],
    ]);
    expect([serve.code, serve.stdout]).toEqual([64, '']);
    expect(serve.stderr).toContain('is a file, not a folder (field landing). Give --landing a folder');
    expect(existsSync(path.join(target.dataDir, 'server.json'))).toBe(false);
  });

  it('sweeps the folder while it serves', async () => {
    const { april } = await feeds;
    const engine = testStores()[0]!;
    const target = await engine.fresh();
    const store = await openStore(target);
    await prepareForApc(store, source);
    const landing = mkdtempSync(path.join(os.tmpdir(), 'kernel-landing-serve-'));
    const lines: string[] = [];
    const server = await startServer({
      store,
      config: { ...resolveConfig({ data: target.dataDir }).config, dataDir: target.dataDir },
      port: 0,
      landing,
      landingEveryMs: 100,
      log: (line) => lines.push(line),
    });
    try {
      drop(april, landing);
      for (
        let i = 0;
        i < 100 && !existsSync(path.join(landing, 'done', 'apc-2025-04.csv.report.json'));
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(lines.join('\n')).toMatch(/landing: apc-2025-04\.csv loaded as ld-\S+, moved to done\//);
    } finally {
      await server.close();
      await store.close();
    }
  }, 60_000);
});
