import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE, sourceStamp } from '../../bin/compiled-cli.js';
import { openStore } from '../../src/store/open-store.ts';
import { KERNEL_BIN, ROOT, runCli, spawnCli } from '../cli.ts';
import { testStores } from '../stores.ts';

describe.each(testStores())('kernel init and audit on $engine', (engine) => {
  it('migrates once, records it, and verifies the audit chain', async () => {
    const target = await engine.fresh();
    const flags = ['--data', target.dataDir, '--store', target.store];
    const first = await runCli([...flags, 'init', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ version: expect.any(Number) });
    const again = await runCli([...flags, 'init']);
    expect(again.stdout).toMatch(/is up to date at version \d+/);

    const verify = await runCli([...flags, 'audit', 'verify']);
    expect(verify).toMatchObject({ code: 0 });
    expect(verify.stdout).toMatch(/^OK: \d+ events, chain intact/);

    const store = await openStore({ dataDir: target.dataDir, store: target.store });
    try {
      await store.exec(
        "INSERT INTO audit_events SELECT COALESCE(max(seq), 0) + 1, '2020-01-01T00:00:00Z', 'x', 'y', 'z', NULL, '{}', 'bad', 'bad' FROM audit_events",
      );
    } finally {
      await store.close();
    }
    const broken = await runCli([...flags, 'audit', 'verify']);
    expect(broken.code).toBe(65);
    expect(broken.stdout).toMatch(/BROKEN at event \d+: event \d+ does not follow/);
    expect(broken.stderr).toMatch(/The audit log is broken at event \d+/);
  });
});

describe('kernel CLI edges', () => {
  it('prints one clear line and a usage exit code for an unknown command, without a stack', async () => {
    const result = await spawnCli(['frobnicate']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints its version, the one in package.json', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('runs a compiled copy of the CLI that answers as the source does', async () => {
    const compiled = await spawnCli(['datasets', '--json']);
    const fromSource = await spawnCli(['datasets', '--json'], { env: { KERNEL_FROM_SOURCE: '1' } });
    expect(compiled.code).toBe(0);
    expect(compiled).toEqual(fromSource);
    expect(existsSync(path.join(CACHE, sourceStamp(), 'main.js'))).toBe(true);
  });

  it('knows its compiled copy is stale when any source file changes, and only then', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'kernel-stamp-'));
    mkdirSync(path.join(root, 'src', 'cli'), { recursive: true });
    for (const file of ['package.json', 'tsconfig.json', 'src/cli/main.ts', 'src/cli/main.test.ts'])
      writeFileSync(path.join(root, file), '{}');
    const stamp = sourceStamp(root);
    expect(sourceStamp(root)).toBe(stamp);
    writeFileSync(path.join(root, 'src/cli/main.test.ts'), '{ "a test": true }');
    expect(sourceStamp(root)).toBe(stamp);
    writeFileSync(path.join(root, 'src/cli/main.ts'), '{ "changed": true }');
    const changed = sourceStamp(root);
    expect(changed).not.toBe(stamp);
    writeFileSync(path.join(root, 'src/cli/more.ts'), '');
    expect(sourceStamp(root)).not.toBe(changed);
  });

  it('stops quietly when its reader closes the pipe early, as `| head` does', async () => {
    // Output well past a pipe's buffer, with the reading end closed at once.
    const child = spawn(process.execPath, [KERNEL_BIN, 'datasets', '--json'], { cwd: ROOT });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('says what is wrong with a bad store setting', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'kernel-cli-'));
    const result = await spawnCli(['--data', data, '--store', 'mysql://nope', 'init']);
    expect(result.code).toBe(78);
    expect(result.stderr.trim()).toBe(
      `kernel: Unknown store "mysql://nope". Use 'duckdb' (the embedded store) or a postgres:// URL`,
    );
  });

  it('shows the stack only with --debug', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'kernel-cli-'));
    const result = await spawnCli(['--debug', '--data', data, '--store', 'mysql://nope', 'init']);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('prints the effective configuration with the password masked', async () => {
    const result = await runCli([
      '--store',
      'postgres://kernel:hunter2@db/kernel',
      'config',
      '--port',
      '9999',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const settings = (
      JSON.parse(result.stdout) as { settings: { key: string; value: string; source: string }[] }
    ).settings;
    expect(settings.find((s) => s.key === 'store')).toEqual({
      key: 'store',
      value: 'postgres://kernel:****@db/kernel',
      source: 'flag',
    });
    expect(settings.find((s) => s.key === 'port')).toMatchObject({ value: '9999', source: 'flag' });
    expect(result.stdout).not.toContain('hunter2');
  });

  it('answers a busy embedded store clearly when another process holds it', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'kernel-cli-'));
    const holder = await openStore({ dataDir: data, store: 'duckdb' });
    try {
      const result = await spawnCli(['--data', data, 'audit', 'tail']);
      expect(result.code).toBe(75);
      expect(result.stderr).toContain('is open in another Kernel process');
      // Commands are handed to a running server on their own: the hint offers only what the user can do.
      expect(result.stderr).toContain('Wait for that process to finish, or stop it');
      expect(result.stderr).not.toContain('run this command through it');
    } finally {
      await holder.close();
    }
  });
});

describe('the data folder (issue 23, H3)', () => {
  it('is made owner-only with the store file in it', async () => {
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-h3-')), 'data');
    expect((await runCli(['--data', dataDir, 'init'])).code).toBe(0);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, 'kernel.duckdb')).mode & 0o777).toBe(0o600);
  });

  it('is refused when other accounts can write to it, with what to do', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kernel-h3-'));
    chmodSync(dataDir, 0o777);
    const result = await runCli(['--data', dataDir, 'init']);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/can be written by other accounts/);
    expect(result.stderr).toMatch(/chmod 700/);
    expect(result.stderr).not.toMatch(/bug in Kernel|\n\s+at /);
    expect(existsSync(path.join(dataDir, 'kernel.duckdb'))).toBe(false);
  });

  it('that cannot be created gets a clear message, not "a bug in Kernel"', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-h3-')), 'a-file');
    writeFileSync(file, 'not a folder');
    const result = await runCli(['--data', path.join(file, 'data'), 'init']);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/cannot create or use the data folder/);
    expect(result.stderr).not.toMatch(/bug in Kernel|\n\s+at /);
  });
});
