/**
 * Issue 22, item 8: CLI mistakes are caught, not carried out. A mistyped --data does not start
 * a new warehouse; an organisation that is not a member is refused; a script that asked for
 * JSON gets its error as JSON; lists print as CSV on request.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';

describe('CLI mistakes (issue 22, item 8)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kernel-mistakes-'));
  const data = path.join(root, 'kernel-data');

  it('opens only a warehouse that exists: a mistyped --data is refused, and only init creates one', async () => {
    expect((await runCli(['init', '--data', data])).code).toBe(0);
    const typo = path.join(root, 'kernel-dta');
    const refused = await runCli(['users', 'list', '--data', typo]);
    expect(refused.code).toBe(66);
    expect(refused.stderr.trim()).toBe(
      `kernel: There is no warehouse at ${typo}: the folder does not exist (${typo}). Check --data (or KERNEL_DATA); to create a warehouse there, run kernel init --data ${typo}`,
    );
    expect(existsSync(typo)).toBe(false);
    // A folder holding something else is not a warehouse either.
    const elsewhere = path.join(root, 'documents');
    mkdirSync(elsewhere, { mode: 0o700 });
    writeFileSync(path.join(elsewhere, 'notes.txt'), 'not a warehouse');
    const notHere = await runCli(['audit', 'verify', '--data', elsewhere]);
    expect(notHere.code).toBe(66);
    expect(notHere.stderr).toContain(`There is no warehouse in ${elsewhere} (it holds no kernel.duckdb)`);
    expect(existsSync(path.join(elsewhere, 'kernel.duckdb'))).toBe(false);
    // The real one still answers.
    expect((await runCli(['audit', 'verify', '--data', data])).code).toBe(0);
  });

  it('refuses an account for an organisation that is not a member', async () => {
    expect((await runCli(['orgs', 'seed', '--data', data])).code).toBe(0);
    const nope = await runCli([
      'users',
      'add',
      '--email',
      'a@b.nhs.uk',
      '--role',
      'provider',
      '--org',
      'NOPE',
      '--data',
      data,
    ]);
    expect(nope.code).toBe(64);
    expect(nope.stderr.trim()).toBe(
      'kernel: NOPE is not a registered organisation (field org). Use kernel orgs list to see the members (kernel orgs seed registers Kent and Medway’s)',
    );
    expect(
      (
        await runCli([
          'users',
          'add',
          '--email',
          'a@b.nhs.uk',
          '--role',
          'provider',
          '--org',
          'RWF',
          '--data',
          data,
        ])
      ).code,
    ).toBe(0);
  });

  it('answers a --json command’s error as a JSON object, with no prose around it', async () => {
    const result = await runCli(['loads', 'show', 'ld-none', '--json', '--data', data]);
    expect(result.code).toBe(66);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toEqual({
      error: {
        code: 'not-found',
        message: 'There is no load ld-none',
        hint: 'Run `kernel loads` to list the loads',
      },
      exit: 66,
    });
    // and so is a mistake in the command line itself, which the parser refuses
    const missing = await runCli(['loads', '--json', '--limit', '--data', data]);
    expect(missing.code).toBe(64);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toEqual({
      error: {
        code: 'usage',
        message: "option '--limit <n>' argument missing",
        hint: 'Run the command with --help to see its arguments and options',
      },
      exit: 64,
    });
    const required = await runCli(['users', 'add', '--json', '--data', data]);
    expect(required.code).toBe(64);
    expect(JSON.parse(required.stderr).error.message).toBe("required option '--email <email>' not specified");
    // Without --json the parser's own words and usage stand, as before.
    const plain = await runCli(['loads', '--limit', '--data', data]);
    expect(plain.code).toBe(64);
    expect(plain.stderr).toMatch(/^error: option '--limit <n>' argument missing\n/);
  });

  it('prints lists as CSV with --csv, and keeps a command’s own --csv FILE', async () => {
    const csv = await runCli(['users', 'list', '--csv', '--data', data]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    // (the authenticator column came with strong sign-in, issue 19)
    expect(lines[0]).toBe('email,role,org,id,created,authenticator,state');
    expect(lines[1]).toMatch(
      /^a@b\.nhs\.uk,provider,RWF,u_[0-9a-f]+,\d{4}-\d{2}-\d{2},not yet,must change password$/,
    );
    const orgs = await runCli(['orgs', 'list', '--csv', '--data', data]);
    expect(orgs.stdout.split('\n')[0]).toMatch(/^code,/);
    expect(orgs.stdout).toMatch(/\nRWF,/);
    // A command that has subcommands of its own prints its table as CSV too.
    const datasets = await runCli(['datasets', '--csv', '--data', data]);
    expect(datasets.code, datasets.stderr).toBe(0);
    expect(datasets.stdout.split('\n')[0]).toBe('id,title,subject,fields,accepted columns,table,standard');
    expect(datasets.stdout).toMatch(/\npmi,/);
    const loads = await runCli(['loads', '--csv', '--data', data]);
    expect(loads.code, loads.stderr).toBe(0);
    // Standard output is the CSV alone: the count and the hints below a table go to standard error.
    expect(loads.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^load,/)]);
    expect(loads.stderr).not.toBe('');
    const plainLoads = await runCli(['loads', '--data', data]);
    expect(plainLoads.stderr).toBe('');
    // A command's own --csv FILE keeps its meaning.
    const help = await runCli(['invoices', 'list', '--help', '--data', data]);
    expect(help.stdout).toContain('--csv <file>');
  });
});
