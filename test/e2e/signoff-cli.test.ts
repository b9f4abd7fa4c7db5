/** `kernel signoff …` on both engines: list, the pack, sign off, publish, and a clear refusal. */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractText, getDocumentProxy } from 'unpdf';
import { describe, expect, it } from 'vitest';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli } from '../cli.ts';
import { apcFeed, prepareForApc } from '../kill-load.ts';
import { testStores } from '../stores.ts';

describe.each(testStores())('kernel signoff on $engine (issue 16)', (engine) => {
  it('lists months, shows a pack, signs off and publishes, and refuses a rejection without reasons', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-signoff-cli-'));
    const file = await apcFeed(dir, 'apc-2025-05', 200, '2025-05', 5);
    const target = await engine.fresh();
    const store = await openStore(target);
    await prepareForApc(store, dir);
    expect((await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' })).status).toBe(
      'loaded',
    );
    await store.close();
    const k = (...args: string[]) => runCli(['--data', target.dataDir, '--store', target.store, ...args]);

    const list = await k('signoff', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/2025-05\s+RWF\s+apc\s+loaded/);
    const pdf = path.join(dir, 'pack.pdf');
    const show = await k('signoff', 'show', 'rwf', 'apc', '2025-05', '--pdf', pdf);
    expect(show.stdout).toMatch(/^apc from RWF for 2025-05: checked \(load ld-/);
    expect(show.stdout).toContain('Every row read is loaded, quarantined or dropped');
    expect(show.stdout).toMatch(/The check catalogue: \d+ checks, \d+ failing/);
    // the pack as a PDF: the month, its checks and the catalogue, and no rows
    const read = await extractText(await getDocumentProxy(new Uint8Array(readFileSync(pdf))), {
      mergePages: true,
    });
    const text = read.text.replace(/\s+/g, ' ');
    expect(text).toContain('Sign-off pack: apc from RWF, 2025-05');
    expect(text).toContain('Every row read is loaded, quarantined or dropped');
    expect(text).toMatch(/The check catalogue: \d+ checks/);
    expect(text).toContain('no row leaves in this document');
    // A folder, or a place under a file, for the PDF: refused clearly (exit 78), not an internal error.
    for (const where of [dir, path.join(pdf, 'x.pdf')]) {
      const refused = await k('signoff', 'show', 'RWF', 'apc', '2025-05', '--pdf', where);
      expect([refused.code, refused.stderr.split('\n')[0]]).toEqual([
        78,
        expect.stringMatching(/^kernel: Cannot write /),
      ]);
    }
    const bare = await k('signoff', 'reject', 'RWF', 'apc', '2025-05');
    expect([bare.code, bare.stderr.trim()]).toEqual([
      64,
      'kernel: Say why the month is rejected: the sender reads it to fix the file (field note)',
    ]);
    expect(
      (await k('signoff', 'approve', 'RWF', 'apc', '2025-05', '--note', 'Checked against PAS')).stdout,
    ).toMatch(/is now signed-off\.$/m);
    expect((await k('signoff', 'publish', 'RWF', 'apc', '2025-05')).stdout).toMatch(/is now published\.$/m);
    const months = JSON.parse((await k('signoff', 'list', '--state', 'published', '--json')).stdout) as {
      period: string;
    }[];
    expect(months.map((m) => m.period)).toEqual(['2025-05']);
    const twice = await k('signoff', 'publish', 'RWF', 'apc', '2025-05');
    expect(twice.code).toBe(75);
  }, 60_000);

  it('publishes the backlog of months before a month, leaving the rest for their BI leads', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-signoff-backlog-'));
    const april = await apcFeed(dir, 'apc-2025-04', 60, '2025-04', 4);
    const may = await apcFeed(dir, 'apc-2025-05', 60, '2025-05', 5);
    const target = await engine.fresh();
    const store = await openStore(target);
    await prepareForApc(store, dir);
    for (const file of [april, may])
      await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
    await store.close();
    const k = (...args: string[]) => runCli(['--data', target.dataDir, '--store', target.store, ...args]);
    const backlog = await k(
      'signoff',
      'publish-backlog',
      '--before',
      '2025-05',
      '--note',
      'History from before sign-off',
    );
    expect([backlog.code, backlog.stdout]).toEqual([0, '1 month published from the backlog.\n']);
    const months = JSON.parse((await k('signoff', 'list', '--json')).stdout) as {
      period: string;
      state: string;
    }[];
    expect(months.map((m) => [m.period, m.state])).toEqual([
      ['2025-05', 'loaded'],
      ['2025-04', 'published'],
    ]);
    expect((await k('signoff', 'publish-backlog', '--before', '2025-05', '--note', 'Again')).stdout).toBe(
      '0 months published from the backlog.\n',
    );
  }, 60_000);
});
