import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStores, type TestStore } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import {
  buildReferenceGeography,
  pcnOn as truthPcnOn,
  type ReferenceGeography,
} from '../synth/reference-geography.ts';
import { writeReference } from '../synth/truth-writer.ts';
import { buildWorld } from '../synth/world.ts';
import { imdOf, lsoa2021Of, pcnOn, wardOf } from './geography-lookups.ts';
import { listReferenceReleases, loadReferenceGeography } from './load-reference-geography.ts';

let dir = '';
let truth: ReferenceGeography;
let world: ReturnType<typeof buildWorld>;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-geo-'));
  world = buildWorld({
    people: 20_000,
    seed: 7,
    from: { year: 2023, month: 1 },
    to: { year: 2023, month: 12 },
  });
  writeReference(world, path.join(dir, 'reference'));
  truth = buildReferenceGeography(world.geography, world.practices, world.window, world.seed);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the reference folder with one file's text changed. */
function alteredCopy(name: string, file: string, change: (text: string) => string): string {
  const copy = path.join(dir, name);
  mkdirSync(copy, { recursive: true });
  const source = path.join(dir, 'reference');
  for (const f of [
    'geography.json',
    'lsoa11-lsoa21-lad22.csv',
    'imd2019-lsoa11.csv',
    'lsoa21-ward23-lad23.csv',
    'epcn-practices.csv',
  ]) {
    copyFileSync(path.join(source, f), path.join(copy, f));
  }
  writeFileSync(path.join(copy, file), change(readFileSync(path.join(copy, file), 'utf8')));
  return copy;
}

/** Runs `work` on a new, empty store of its own, closed after. */
async function onNewStore(engine: TestStore, work: (store: Store) => Promise<void>): Promise<void> {
  const store = await engine.open();
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

describe.each(testStores())('reference geography on %s', (engine) => {
  it('loads each release once, audited, and makes it current', () =>
    onNewStore(engine, async (store) => {
      const loaded = await loadReferenceGeography(store, path.join(dir, 'reference'), 'test');
      expect(loaded.map((r) => [r.kind, r.status])).toEqual([
        ['lsoa-2011-2021', 'loaded'],
        ['imd', 'loaded'],
        ['ward-lad', 'loaded'],
        ['practice-pcn', 'loaded'],
      ]);
      expect(loaded.find((r) => r.kind === 'practice-pcn')?.rows).toBe(truth.pcnMemberships.length);
      const again = await loadReferenceGeography(store, path.join(dir, 'reference'), 'test');
      expect(again.every((r) => r.status === 'unchanged')).toBe(true);
      const releases = await listReferenceReleases(store);
      expect(
        releases
          .filter((r) => r.current)
          .map((r) => r.version)
          .sort(),
      ).toEqual(['ePCN-2023-12', 'IMD2019', 'LSOA11-LSOA21-LAD22', 'WD23-LAD23'].sort());
      const audit = await store.query<{ n: number }>(
        "SELECT count(*) AS n FROM audit_events WHERE action = 'reference.loaded'",
      );
      expect(Number(audit[0]?.n)).toBe(4);
    }));

  it('maps a 2011 LSOA to its 2021 LSOA(s): split, merged and unchanged', () =>
    onNewStore(engine, async (store) => {
      await loadReferenceGeography(store, path.join(dir, 'reference'), 'test');
      const split = truth.lsoa11To21.find((r) => r.change === 'S');
      const merged = truth.lsoa11To21.find((r) => r.change === 'M');
      const unchanged = truth.lsoa11To21.find((r) => r.change === 'U');
      if (!split || !merged || !unchanged) throw new Error('the world has no split, merge or unchanged LSOA');
      const halves = truth.lsoa11To21.filter((r) => r.lsoa11 === split.lsoa11).map((r) => r.lsoa21);
      expect(halves).toHaveLength(2);
      const answer = await lsoa2021Of(store, split.lsoa11);
      expect(answer.version).toBe('LSOA11-LSOA21-LAD22');
      expect(answer.value).toEqual(halves.sort().map((lsoa21) => ({ lsoa21, change: 'S' })));
      expect((await lsoa2021Of(store, merged.lsoa11)).value).toEqual([
        { lsoa21: merged.lsoa21, change: 'M' },
      ]);
      expect((await lsoa2021Of(store, unchanged.lsoa11)).value).toEqual([
        { lsoa21: unchanged.lsoa11, change: 'U' },
      ]);
      // IMD 2019 is on 2011 LSOAs; the ward lookup on 2021 ones.
      const lsoa = world.geography.lsoas[0];
      expect((await imdOf(store, lsoa?.code ?? '')).value).toEqual({
        rank: lsoa?.imdRank,
        decile: lsoa?.imdDecile,
        lsoaVintage: '2011',
      });
      const half = truth.lsoas2021.find((l) => l.code === halves[0]);
      expect((await wardOf(store, halves[0] ?? '')).value).toMatchObject({
        ward: half?.ward,
        lad: world.geography.localAuthorities[half?.la ?? 0]?.code,
      });
    }));

  it("follows a practice's PCN membership history by date", () =>
    onNewStore(engine, async (store) => {
      await loadReferenceGeography(store, path.join(dir, 'reference'), 'test');
      const moved = truth.pcnMemberships.find((m) => m.to !== '');
      if (!moved) throw new Error('no practice moved PCN in the world');
      const after = truth.pcnMemberships.find((m) => m.practice === moved.practice && m.from > moved.to);
      expect(after?.pcn).not.toBe(moved.pcn);
      const dayAfter = after?.from ?? '';
      for (const day of ['2019-07-01', moved.to, dayAfter, '2023-12-31']) {
        const answer = await pcnOn(store, moved.practice, day);
        expect(answer.value, day).toBe(truthPcnOn(truth.pcnMemberships, moved.practice, day));
        expect(answer.version).toBe('ePCN-2023-12');
      }
      expect((await pcnOn(store, moved.practice, moved.to)).value).toBe(moved.pcn);
      expect((await pcnOn(store, moved.practice, dayAfter)).value).toBe(after?.pcn);
      // before PCNs existed, a practice had none
      expect((await pcnOn(store, moved.practice, '2019-06-30')).value).toBeNull();
    }));

  it('refuses a bad file or a changed release whole, saying where', () =>
    onNewStore(engine, async (store) => {
      const badDate = alteredCopy('bad-date', 'epcn-practices.csv', (t) =>
        t.replace(',2019-07-01,', ',2019-13-01,'),
      );
      await expect(loadReferenceGeography(store, badDate, 'test')).rejects.toMatchObject({
        code: 'invalid-input',
        where: { file: path.join(badDate, 'epcn-practices.csv'), line: 2, column: 5 },
      });
      const noColumn = alteredCopy('no-column', 'imd2019-lsoa11.csv', (t) =>
        t.replace('IMD) Rank', 'IMD) Score'),
      );
      await expect(loadReferenceGeography(store, noColumn, 'test')).rejects.toMatchObject({
        code: 'invalid-input',
        message: expect.stringContaining('Index of Multiple Deprivation (IMD) Rank'),
      });
      // nothing was written by either
      expect(await listReferenceReleases(store)).toEqual([]);
      await loadReferenceGeography(store, path.join(dir, 'reference'), 'test');
      const changed = alteredCopy('changed', 'epcn-practices.csv', (t) => t.replace(/\n[^\n]+\n$/, '\n'));
      await expect(loadReferenceGeography(store, changed, 'test')).rejects.toMatchObject({
        code: 'conflict',
      });
      const rows = await store.query<{ n: number }>('SELECT count(*) AS n FROM ref_practice_pcn');
      expect(Number(rows[0]?.n)).toBe(truth.pcnMemberships.length);
    }));
});
