import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { absolutePaths, dataDirFor, readServerFile, shouldForward } from './cli-forwarding.ts';

describe('handing CLI commands to a running server', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-forward-'));
  writeFileSync(path.join(dir, 'apc.csv'), 'x');

  it('forwards store commands, never serve, demo, deid, keys, synth, config or help', () => {
    expect(shouldForward(['load', 'f.csv', '--org', 'RWF'])).toBe(true);
    expect(shouldForward(['--data', 'serve', 'audit', 'verify'])).toBe(true); // "serve" is --data's value here
    for (const local of [
      ['serve'],
      ['demo'],
      ['deid', 'x'],
      ['keys', 'new'],
      ['synth'],
      ['config'],
      ['load', '--help'],
      [],
    ]) {
      expect(shouldForward(local), local.join(' ')).toBe(false);
    }
  });

  it('makes existing files and output options absolute from the CLI’s folder, and leaves other words alone', () => {
    expect(
      absolutePaths(
        ['load', 'apc.csv', '--org', 'RWF', '--out', 'report.csv', '--report=r.json', 'a@b.nhs.uk'],
        dir,
      ),
    ).toEqual([
      'load',
      path.join(dir, 'apc.csv'),
      '--org',
      'RWF',
      '--out',
      path.join(dir, 'report.csv'),
      `--report=${path.join(dir, 'r.json')}`,
      'a@b.nhs.uk',
    ]);
  });

  it('finds the data folder from --data, and ignores a missing or stale server.json', () => {
    expect(dataDirFor(['--data', dir, 'users', 'list'], {}, '/')).toBe(dir);
    expect(dataDirFor(['--config', path.join(dir, 'missing.json')], {}, '/')).toBeUndefined();
    expect(readServerFile(dir)).toBeUndefined();
    // A pid no process has (the kernel's pid_max is at most 2^22).
    writeFileSync(path.join(dir, 'server.json'), JSON.stringify({ pid: 2 ** 22 + 1, port: 1, secret: 's' }));
    expect(readServerFile(dir)).toBeUndefined();
    writeFileSync(path.join(dir, 'server.json'), JSON.stringify({ pid: process.ppid, port: 1, secret: 's' }));
    expect(readServerFile(dir)).toEqual({ pid: process.ppid, port: 1, secret: 's' });
  });
});
