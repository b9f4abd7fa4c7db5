import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../cli/cli-context.ts';
import {
  absolutePaths,
  dataDirFor,
  forwardToServer,
  readServerFile,
  shouldForward,
} from './cli-forwarding.ts';

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

  it('forwards the keys commands that register a public key in the warehouse (review defect 17)', () => {
    expect(shouldForward(['keys', 'trust', '--org', 'RWF', 'rwf.pub'])).toBe(true);
    expect(shouldForward(['--data', 'd', 'keys', 'trust-encryption', '--org', 'RWF', 'rwf.enc.pub'])).toBe(
      true,
    );
    for (const local of [['keys', 'new-signing', '--out', 'k'], ['keys', 'new-encryption'], ['keys']]) {
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
    writeFileSync(
      path.join(dir, 'server.json'),
      JSON.stringify({ pid: process.ppid, port: 1, secret: 's' }),
      {
        mode: 0o600,
      },
    );
    chmodSync(path.join(dir, 'server.json'), 0o600);
    chmodSync(dir, 0o700);
    expect(readServerFile(dir)).toEqual({ pid: process.ppid, port: 1, secret: 's' });
  });

  it('ignores a server.json another user could have planted or read, and says why (issue 23, M5)', () => {
    const live = JSON.stringify({ pid: process.ppid, port: 1, secret: 's' });
    const folder = (name: string) => {
      const d = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-planted-')), name);
      mkdirSync(d, { mode: 0o700 });
      return d;
    };
    const cases: [string, (d: string) => void, RegExp][] = [
      [
        'readable',
        (d) => writeFileSync(path.join(d, 'server.json'), live, { mode: 0o644 }),
        /other users can read/,
      ],
      [
        'open-folder',
        (d) => {
          writeFileSync(path.join(d, 'server.json'), live, { mode: 0o600 });
          chmodSync(d, 0o777);
        },
        /folder is not yours alone/,
      ],
      [
        'link',
        (d) => {
          writeFileSync(path.join(d, 'elsewhere.json'), live, { mode: 0o600 });
          symlinkSync(path.join(d, 'elsewhere.json'), path.join(d, 'server.json'));
        },
        /not a plain file/,
      ],
    ];
    if (process.getuid?.() === 0) {
      // As root (CI here), a file another account owns can be made for real.
      cases.push([
        'owner',
        (d) => {
          writeFileSync(path.join(d, 'server.json'), live, { mode: 0o600 });
          chownSync(path.join(d, 'server.json'), 65534, 65534);
        },
        /another user owns it/,
      ]);
    }
    for (const [name, plant, why] of cases) {
      const d = folder(name);
      plant(d);
      const warnings: string[] = [];
      expect(
        readServerFile(d, (w) => warnings.push(w)),
        name,
      ).toBeUndefined();
      expect(warnings.join(''), name).toMatch(why);
      rmSync(path.dirname(d), { recursive: true, force: true });
    }
  });

  it('sends nothing to a listener that cannot prove it holds the secret (issue 23, M5)', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'kernel-impostor-'));
    chmodSync(d, 0o700);
    const seen: string[] = [];
    const impostor = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push(`${request.method} ${request.url} ${JSON.stringify(request.headers)} ${body}`);
        response.setHeader('Content-Type', 'application/json');
        response.end(JSON.stringify({ proof: 'I am the server, honest' }));
      });
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const port = (impostor.address() as AddressInfo).port;
    writeFileSync(
      path.join(d, 'server.json'),
      JSON.stringify({ pid: process.ppid, port, secret: 'the-real-secret' }),
      {
        mode: 0o600,
      },
    );
    const stdin = new PassThrough();
    stdin.end('an admin password\n');
    const err: string[] = [];
    const io: CliIo = { out: () => undefined, err: (e) => void err.push(e), isTTY: false, stdin };
    const exit = await forwardToServer(
      d,
      ['users', 'add', '--email', 'a@b.nhs.uk', '--role', 'admin', '--password-stdin'],
      io,
    );
    impostor.close();
    expect(exit).toBe(69);
    expect(err.join('')).toMatch(/did not prove it is this warehouse's server/);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^GET \/internal\/cli\/hello /);
    expect(seen.join('')).not.toContain('the-real-secret');
    expect(seen.join('')).not.toContain('admin password');
    expect(seen.join('')).not.toContain('a@b.nhs.uk');
  });
});
