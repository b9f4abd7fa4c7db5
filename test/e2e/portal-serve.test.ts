import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { KERNEL_BIN, ROOT, spawnCli } from '../cli.ts';
import { prepareForFeed, pseudonymisedFeed, type PseudonymisedFeed } from './portal-helpers.ts';

/**
 * `kernel serve` in a real process holding the DuckDB file, and the CLI in other processes
 * on the same data folder: their commands go to the server and still work.
 */
describe('kernel serve with the CLI alongside', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-serve-'));
  const data = path.join(dir, 'data');
  let feed: PseudonymisedFeed;
  let server: ChildProcessWithoutNullStreams;
  let url: string;
  let serverErr = '';

  beforeAll(async () => {
    feed = await pseudonymisedFeed(dir);
    const store = await openStore({ store: 'duckdb', dataDir: data });
    await prepareForFeed(store, feed);
    await store.close();
    server = spawn(process.execPath, [KERNEL_BIN, 'serve', '--port', '0', '--data', data], { cwd: ROOT });
    server.stderr.on('data', (d: Buffer) => (serverErr += d.toString()));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /at (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1] as string);
      });
      server.once('exit', (code) => reject(new Error(`kernel serve exited ${code}: ${serverErr}`)));
    });
  }, 120_000);
  afterAll(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });

  it('advertises itself in server.json, readable by its owner only', async () => {
    const file = path.join(data, 'server.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const advertised = JSON.parse(readFileSync(file, 'utf8')) as {
      pid: number;
      port: number;
      secret: string;
    };
    expect(advertised.pid).toBe(server.pid);
    expect(url).toBe(`http://127.0.0.1:${advertised.port}`);
    expect(await (await fetch(`${url}/api/v1/health`)).json()).toEqual({ status: 'ok', store: 'duckdb' });
  });

  it('runs kernel load from another process, with a path relative to that process’s folder', async () => {
    const result = await spawnCli(
      ['load', path.basename(feed.file), '--org', 'RWF', '--dataset', 'apc', '--json', '--data', data],
      { cwd: dir },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { status: string; rowsRead: number; loadId: string };
    expect(report).toMatchObject({ status: 'loaded', rowsRead: 30 });
  }, 180_000);

  it('runs kernel users add (with --password-stdin) and users list from other processes', async () => {
    const add = await spawnCli(
      ['users', 'add', '--email', 'cli@serve.test', '--role', 'viewer', '--password-stdin', '--data', data],
      { stdin: 'a long enough password\n' },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('Created viewer account cli@serve.test');
    const list = await spawnCli(['users', 'list', '--json', '--data', data]);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ email: 'cli@serve.test', role: 'viewer' }),
    ]);
  }, 180_000);

  it('runs kernel audit verify from another process, and a mistake comes back as one line and its exit code', async () => {
    const verify = await spawnCli(['audit', 'verify', '--data', data]);
    expect(verify.code, verify.stderr).toBe(0);
    const bad = await spawnCli(['users', 'add', '--email', 'x@serve.test', '--role', 'root', '--data', data]);
    expect(bad.code).toBe(64);
    expect(bad.stderr.trim()).toBe(
      'kernel: "root" is not a role (field role). Use one of: admin, provider, analyst, ig-lead, viewer, programme, output-checker',
    );
  }, 180_000);

  it('refuses the forwarding endpoint without the secret', async () => {
    const response = await fetch(`${url}/internal/cli`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Kernel-Cli-Secret': 'guess' },
      body: JSON.stringify({ argv: ['users', 'list'] }),
    });
    expect(response.status).toBe(403);
  });

  it('stops on SIGTERM, removes server.json, and the CLI then opens the store itself', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(path.join(data, 'server.json'))).toBe(false);
    const list = await spawnCli(['users', 'list', '--data', data]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('cli@serve.test');
    expect(serverErr).not.toMatch(/a long enough password|kernel_[A-Za-z0-9_-]{20}/);
  }, 180_000);
});
