import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';

/** `kernel users …` and `kernel tokens …` in-process, on a fresh embedded store. */
describe('kernel users and kernel tokens', () => {
  const data = ['--data', mkdtempSync(path.join(os.tmpdir(), 'kernel-users-'))];

  it('adds accounts with a one-time password, lists them, resets a password, and issues and revokes tokens', async () => {
    expect((await runCli(['init', ...data])).code).toBe(0);
    expect((await runCli(['orgs', 'seed', ...data])).code).toBe(0);
    const add = await runCli([
      'users',
      'add',
      '--email',
      'Ana@Example.nhs.uk',
      '--role',
      'provider',
      '--org',
      'RWF',
      ...data,
    ]);
    expect(add.code, add.stderr).toBe(0);
    const otp = /One-time password: (\S+)/.exec(add.stdout)?.[1];
    expect(otp).toMatch(/^[A-Za-z2-9]{20}$/);
    const list = await runCli(['users', 'list', '--json', ...data]);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        email: 'ana@example.nhs.uk',
        role: 'provider',
        org: 'RWF',
        mustChangePassword: true,
      }),
    ]);
    expect(list.stdout).not.toContain(otp as string);
    const reset = await runCli(['users', 'reset-password', '--email', 'ana@example.nhs.uk', ...data]);
    expect(reset.stdout).toMatch(/One-time password for ana@example.nhs.uk: [A-Za-z2-9]{20}/);

    const issued = await runCli(['tokens', 'new', '--email', 'ana@example.nhs.uk', '--json', ...data]);
    const { id, token } = JSON.parse(issued.stdout) as { id: string; token: string };
    expect(token).toMatch(/^kernel_[A-Za-z0-9_-]{43}$/);
    const tokens = await runCli(['tokens', 'list', ...data]);
    expect(tokens.stdout).toContain(id);
    expect(tokens.stdout).not.toContain(token);
    expect((await runCli(['tokens', 'revoke', id, ...data])).code).toBe(0);
    const again = await runCli(['tokens', 'revoke', id, ...data]);
    expect(again.code).toBe(75);
    expect(again.stderr).toBe(`kernel: The API token ${id} is revoked already\n`);

    // Someone leaves: disable the account (issue 23, M2), see it listed so, and enable it.
    const disable = await runCli(['users', 'disable', '--email', 'ana@example.nhs.uk', ...data]);
    expect(disable.code, disable.stderr).toBe(0);
    expect(disable.stdout).toContain('Disabled ana@example.nhs.uk');
    expect((await runCli(['users', 'list', ...data])).stdout).toMatch(/ana@example\.nhs\.uk.*disabled/);
    const twice = await runCli(['users', 'disable', '--email', 'ana@example.nhs.uk', ...data]);
    expect(twice.code).toBe(75);
    expect(twice.stderr).toBe(
      'kernel: The account ana@example.nhs.uk is disabled already. Use kernel users enable to let it sign in again\n',
    );
    expect((await runCli(['users', 'enable', '--email', 'ana@example.nhs.uk', ...data])).code).toBe(0);
    expect((await runCli(['users', 'list', ...data])).stdout).not.toMatch(/disabled/);
  });

  it('says what is wrong in one line, with the exit code for a usage mistake', async () => {
    const noOrg = await runCli([
      'users',
      'add',
      '--email',
      'b@example.nhs.uk',
      '--role',
      'provider',
      ...data,
    ]);
    expect(noOrg.code).toBe(64);
    expect(noOrg.stderr).toBe(
      'kernel: A provider account belongs to one organisation (field org). Add --org with its ODS code, e.g. --org RWF\n',
    );
    const noStdin = await runCli([
      'users',
      'add',
      '--email',
      'c@example.nhs.uk',
      '--role',
      'viewer',
      '--password-stdin',
      ...data,
    ]);
    expect(noStdin.code).toBe(64);
    expect(noStdin.stderr).toContain('No password came on standard input');
    const unknown = await runCli(['tokens', 'new', '--email', 'nobody@example.nhs.uk', ...data]);
    expect(unknown.code).toBe(66);
  });
});
