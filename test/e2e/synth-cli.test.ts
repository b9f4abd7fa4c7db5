import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../cli.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kernel-synth-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('kernel synth', () => {
  it('writes a world, reports it as JSON, and checks its defects against truth', async () => {
    const out = path.join(tmp, 'world');
    const result = await runCli([
      'synth',
      '--out',
      out,
      '--people',
      '400',
      '--from',
      '2020-01',
      '--to',
      '2020-02',
      '--seed',
      '3',
      '--check',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      files: number;
      rows: number;
      rowsByDataset: Record<string, number>;
      check: { unexplained: number; missed: number };
    };
    expect(summary.files).toBeGreaterThan(50);
    expect(summary.rowsByDataset.op).toBeGreaterThan(0);
    expect(summary.check).toMatchObject({ unexplained: 0, missed: 0 });
    expect(readFileSync(path.join(out, 'truth', 'people.csv'), 'utf8').split('\n')[0]).toContain(
      'nhs_number',
    );
  });

  it('refuses a non-empty folder unless --force', async () => {
    const out = path.join(tmp, 'world');
    const refused = await runCli([
      'synth',
      '--out',
      out,
      '--people',
      '50',
      '--from',
      '2020-01',
      '--to',
      '2020-01',
    ]);
    expect(refused.code).toBe(75);
    expect(refused.stderr).toContain('not empty');
    expect(refused.stderr).toContain('--force');
    const forced = await runCli([
      'synth',
      '--out',
      out,
      '--people',
      '50',
      '--from',
      '2020-01',
      '--to',
      '2020-01',
      '--force',
    ]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Synthetic Kent and Medway world');
  });

  it.each([
    [['--people', 'lots'], '--people'],
    [['--people', '0'], '--people'],
    [['--from', '2019-4'], '--from'],
    [['--from', '2020-03', '--to', '2020-01'], '--to'],
    [['--seed', '-1'], '--seed'],
  ])('refuses %j with one line naming %s', async (args, field) => {
    const result = await runCli(['synth', '--out', path.join(tmp, 'never'), ...args]);
    expect(result.code).toBe(64);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(field);
  });

  it('exits 64 with no stack trace from a real process', async () => {
    const result = await spawnCli(['synth', '--out', path.join(tmp, 'never'), '--people', 'lots']);
    expect(result.code).toBe(64);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
