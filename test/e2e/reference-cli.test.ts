/**
 * `kernel reference load` and `kernel reference list` as a person runs them: the synthetic
 * world's reference folder loads, again changes nothing, and a folder without geography.json
 * is a clear not-found (exit 66) with no stack trace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { writeReference } from '../../src/synth/truth-writer.ts';
import { buildWorld } from '../../src/synth/world.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-reference-cli-'));
const data = path.join(dir, 'data');
const reference = path.join(dir, 'reference');

beforeAll(async () => {
  const world = buildWorld({
    people: 5000,
    seed: 3,
    from: { year: 2021, month: 1 },
    to: { year: 2021, month: 6 },
  });
  writeReference(world, reference);
  expect((await runCli(['--data', data, 'init'])).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kernel reference', () => {
  it('loads a folder of releases, lists them, and loads the same folder again as unchanged', async () => {
    const first = await runCli(['--data', data, 'reference', 'load', reference, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const loaded = JSON.parse(first.stdout) as { kind: string; version: string; status: string }[];
    expect(loaded.map((r) => `${r.kind}:${r.version}:${r.status}`)).toEqual([
      'lsoa-2011-2021:LSOA11-LSOA21-LAD22:loaded',
      'imd:IMD2019:loaded',
      'ward-lad:WD23-LAD23:loaded',
      'practice-pcn:ePCN-2021-06:loaded',
    ]);
    const again = await runCli(['--data', data, 'reference', 'load', reference]);
    expect(again.stdout).toMatch(/practice-pcn\s+ePCN-2021-06\s+epcn-practices\.csv\s+\d+\s+unchanged/);
    const list = await runCli(['--data', data, 'reference']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/imd\s+IMD2019\s+yes/);
    expect(list.stdout).toContain('MHCLG, English Indices of Deprivation 2019');
  });

  it('says what is missing from a folder that is not a reference release', async () => {
    const wrong = await runCli(['--data', data, 'reference', 'load', dir, '--json']);
    expect(wrong.code).toBe(66);
    const error = JSON.parse(wrong.stderr) as { error: { code: string; message: string; hint: string } };
    expect(error.error).toMatchObject({
      code: 'not-found',
      message: expect.stringContaining('geography.json'),
    });
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });
});
