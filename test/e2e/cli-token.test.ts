/**
 * Review defect 5: with KERNEL_TOKEN set, no command runs as the operator without saying so.
 * `audit tail` and `audit verify` run as the token's user, as the API does (an IG lead reads
 * their own organisation's events); the operator's commands (accounts, tokens, single
 * sign-on, opt-outs, onboarding, letters…) refuse the token rather than ignore it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli, withKernelToken, type CliResult } from '../cli.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, igLeadOf } from './portal-helpers.ts';

describe.each(testStores())('the CLI with KERNEL_TOKEN on $engine (review defect 5)', (engine) => {
  it('reads the audit log as the token’s user, and refuses the operator’s commands', async () => {
    const where = await engine.fresh();
    const store = await openStore(where);
    const accounts = await accountsForEveryRole(store, 'RWF');
    const igRwf = await igLeadOf(store, 'RWF');
    await store.transaction((tx) =>
      appendAudit(
        tx,
        ['RWF', 'RPA'].map((org) => ({
          actor: 'user:analyst@elsewhere.test',
          action: 'data.read',
          target: 'dataset:apc',
          purpose: `uc-${org}`,
          details: { role: 'analyst', controllers: [org] },
        })),
      ),
    );
    await store.close();
    const flags = ['--data', where.dataDir, '--store', where.store];
    const kernel = (token: string | undefined, ...argv: string[]) =>
      withKernelToken(token, () => runCli([...argv, ...flags]));
    const purposes = (result: CliResult) =>
      (JSON.parse(result.stdout) as { purpose: string }[]).map((e) => e.purpose);

    // The IG lead reads what concerns RWF, as GET /api/v1/audit answers them; the operator all.
    const own = await kernel(igRwf.token, 'audit', 'tail', '--action', 'data.read', '--json');
    expect(own.stderr).toBe('');
    expect(purposes(own)).toEqual(['uc-RWF']);
    const all = await kernel(undefined, 'audit', 'tail', '--action', 'data.read', '--json');
    expect(purposes(all)).toEqual(['uc-RPA', 'uc-RWF']);
    expect((await kernel(igRwf.token, 'audit', 'verify')).stdout).toMatch(/^OK: \d+ events/);
    for (const argv of [
      ['audit', 'tail'],
      ['audit', 'verify'],
    ]) {
      const viewer = await kernel(accounts.viewer.token, ...argv);
      expect(viewer.code, argv.join(' ')).toBe(77);
      expect(viewer.stderr).toContain('The audit log is for administrators and IG leads');
    }
    const bogus = await kernel('kernel_bogus', 'audit', 'tail');
    expect(bogus.code).toBe(77);
    expect(bogus.stderr).toContain('KERNEL_TOKEN is not a valid API token');
    expect(bogus.stderr).not.toContain('kernel_bogus');

    // The operator's commands refuse a token, whoever's it is, and change nothing.
    const optouts = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-optouts-')), 'optouts.txt');
    writeFileSync(optouts, 'a'.repeat(64));
    const operatorOnly = [
      ['users', 'add', '--email', 'evil@kernel.example', '--role', 'admin'],
      ['users', 'list'],
      ['users', 'disable', '--email', accounts.analyst.email],
      ['tokens', 'new', '--email', accounts.analyst.email],
      ['tokens', 'list'],
      ['sso', 'rules'],
      ['optouts', 'load', optouts],
      ['orgs', 'onboard', 'RWF', '--step', 'agreement'],
      ['subscriptions', 'letters', '--year', '2025/26', '--out', path.dirname(optouts)],
      ['loads'],
    ];
    for (const token of [accounts.viewer.token, accounts.admin.token]) {
      for (const argv of operatorOnly) {
        const refused = await kernel(token, ...argv);
        expect(refused.code, argv.join(' ')).toBe(77);
        expect(refused.stderr).toContain(
          `kernel ${argv.slice(0, 2).join(' ')} acts as the operator, and does not run as the user whose token is in KERNEL_TOKEN`,
        );
        expect(refused.stderr).toContain('Unset KERNEL_TOKEN to run it as the operator');
        expect(refused.stderr).not.toContain(token);
      }
    }
    // A command that runs an operation as the token's user still does, CSV file and all.
    const csv = path.join(path.dirname(optouts), 'invoices.csv');
    const invoices = await kernel(accounts.admin.token, 'invoices', 'list', '--csv', csv);
    expect(invoices.stderr).toBe('');
    expect(invoices.stdout).toContain('Wrote 0 invoices');
    const users = JSON.parse((await kernel(undefined, 'users', 'list', '--json')).stdout) as {
      email: string;
    }[];
    expect(users.map((u) => u.email)).not.toContain('evil@kernel.example');
    expect(users.map((u) => u.email)).toContain(accounts.analyst.email);
    const optOutEvents = await kernel(undefined, 'audit', 'tail', '--action', 'optout', '--json');
    expect(JSON.parse(optOutEvents.stdout)).toEqual([]);
  }, 60_000);
});
