import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { testStores } from '../stores.ts';

const token = (seed: string): string => createHash('sha256').update(`cli-person-${seed}`).digest('hex');

describe.each(testStores())('kernel governance commands on $engine', (engine) => {
  it('runs members, money, agreements, use cases and opt-outs end to end, every change audited', async () => {
    const target = await engine.fresh();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-gov-cli-'));
    const k = (...args: string[]) => runCli(['--data', target.dataDir, '--store', target.store, ...args]);
    const ok = async (...args: string[]) => {
      const result = await k(...args);
      expect(result.stderr, args.join(' ')).toBe('');
      expect(result.code, args.join(' ')).toBe(0);
      return result.stdout;
    };

    // Members
    expect(await ok('orgs', 'seed')).toMatch(/^Registered 14 organisations; 0 were already registered/);
    const orgs = JSON.parse(await ok('orgs', 'list', '--json')) as { code: string; codeVerified: boolean }[];
    expect(orgs.find((o) => o.code === 'NQV')?.codeVerified).toBe(false);
    expect(orgs.find((o) => o.code === 'RWF')?.codeVerified).toBe(true);
    expect(await ok('orgs', 'list')).toMatch(/E10000016\s+Kent County Council\s+local-authority/);

    // Agreements and the loader's check
    const refused = await k('agreements', 'check', '--org', 'RWF', '--dataset', 'apc', '--period', '2021-05');
    expect(refused.code).toBe(67);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('No data sharing agreement covers RWF sending apc');
    await ok(
      'agreements',
      'add',
      '--org',
      'RWF',
      '--dataset',
      'apc,msds-booking',
      '--dataset',
      'op',
      '--from',
      '2019-04',
      '--to',
      '2022-03',
    );
    await ok(
      'agreements',
      'add',
      '--org',
      'RPA',
      '--dataset',
      'msds-booking',
      '--from',
      '2019-04',
      '--to',
      '2022-03',
    );
    expect(
      await ok('agreements', 'check', '--org', 'rwf', '--dataset', 'apc', '--period', '2021-05'),
    ).toContain('An agreement in force covers RWF');
    const agreements = JSON.parse(await ok('agreements', 'list', '--json')) as {
      id: string;
      datasets: string[];
    }[];
    expect(agreements.map((a) => a.id)).toEqual(['DSA-RPA-001', 'DSA-RWF-001']);
    expect(agreements[1]?.datasets).toEqual(['apc', 'msds-booking', 'op']);

    // Onboarding, walked interactively: say yes once, then stop.
    const walk = await runCli(
      ['--data', target.dataDir, '--store', target.store, 'orgs', 'onboard', 'RWF'],
      'y\nn\n',
    );
    expect(walk.code).toBe(0);
    expect(walk.stdout).toContain('Mark "Data sharing agreement signed" done now? [y/N]');
    expect(walk.stdout).toContain('Done: Data sharing agreement signed.');
    expect(walk.stdout).toContain('Stopped. 1 of 7 steps done');
    const status = JSON.parse(await ok('orgs', 'onboard', 'RWF', '--step', 'dpia-reviewed', '--json')) as {
      done: number;
      next: { id: string };
    };
    expect(status).toMatchObject({ done: 2, next: { id: 'signing-key-trusted' } });
    const skip = await k('orgs', 'onboard', 'RWF', '--step', 'regular-feed-agreed');
    expect(skip.code).toBe(75);
    expect(skip.stderr).toContain('cannot be done before "Signing key trusted"');

    // Money
    for (const org of ['RWF', 'RPA', 'RVV'])
      await ok(
        'subscriptions',
        'set',
        org,
        '--year',
        '2021/22',
        '--state',
        'confirmed',
        '--tier',
        org === 'RVV' ? 'small' : 'large',
      );
    await ok(
      'subscriptions',
      'funding',
      '--year',
      '2021/22',
      '--cost',
      '100000',
      '--rule',
      '{"kind":"tiers","tiers":{"large":2,"small":1}}',
    );
    await ok('subscriptions', 'funding', '--year', '2021/22', '--add-source', 'One-off allocation=10000.01');
    const shares = JSON.parse(await ok('subscriptions', 'shares', '--year', '2021/22', '--json')) as {
      netPence: number;
      shares: { org: string; sharePence: number }[];
    };
    expect(shares.netPence).toBe(8_999_999);
    expect(shares.shares.reduce((s, x) => s + x.sharePence, 0)).toBe(8_999_999);
    const badRule = await k('subscriptions', 'funding', '--year', '2021/22', '--rule', '{"kind":"vibes"}');
    expect(badRule.code).toBe(64);
    expect(badRule.stderr).toContain('unknown kind "vibes"');
    await ok('invoices', 'draft', '--year', '2021/22');
    const raised = JSON.parse(await ok('invoices', 'raise', '--year', '2021/22', '--json')) as {
      number: string;
      org: string;
    }[];
    expect(raised.map((i) => i.number)).toEqual(['KER-2122-0001', 'KER-2122-0002', 'KER-2122-0003']);
    expect(
      await ok('invoices', 'cancel', 'KER-2122-0002', '--reason', 'Wrong address', '--replace'),
    ).toContain('Replacement: KER-2122-0004');
    await ok('invoices', 'pay', 'KER-2122-0001', '--on', '2021-06-30');
    const csvFile = path.join(dir, 'invoices.csv');
    await ok('invoices', 'list', '--year', '2021/22', '--csv', csvFile);
    expect(readFileSync(csvFile, 'utf8').split('\r\n')[0]).toMatch(/^number,financial_year,org_code/);
    const pdfFile = path.join(dir, 'inv.pdf');
    const htmlFile = path.join(dir, 'inv.html');
    await ok('invoices', 'show', 'KER-2122-0004', '--pdf', pdfFile, '--html', htmlFile);
    expect(readFileSync(pdfFile).subarray(0, 5).toString()).toBe('%PDF-');
    expect(readFileSync(htmlFile, 'utf8')).toContain('Replaces invoice KER-2122-0002');
    const letters = JSON.parse(
      await ok('subscriptions', 'letters', '--year', '2021/22', '--out', path.join(dir, 'letters'), '--json'),
    ) as { file: string }[];
    expect(letters).toHaveLength(3);
    expect(readFileSync(letters[0]?.file as string, 'utf8')).toContain('Dear Chief Executive');

    // Use cases
    const proposed = JSON.parse(
      await ok(
        'usecases',
        'propose',
        '--title',
        'Maternity dashboard',
        '--sponsor',
        'QKS',
        '--purpose',
        'planning',
        '--legal-basis',
        'UK GDPR Art 6(1)(e) and 9(2)(h)',
        '--dataset',
        'msds-booking',
        '--controller',
        'RWF,RPA',
        '--user',
        'role:viewer',
        '--start',
        '2021-04-01',
        '--end',
        '2099-03-31',
        '--json',
      ),
    ) as { id: string; awaiting: string[] };
    expect(proposed).toMatchObject({ id: 'UC-001', awaiting: ['RPA', 'RWF'] });
    expect(await ok('usecases', 'approve', 'UC-001', '--org', 'RWF')).toContain('still awaits RPA');
    const early = await k('usecases', 'activate', 'UC-001');
    expect(early.code).toBe(75);
    expect(await ok('usecases', 'approve', 'UC-001', '--org', 'RPA')).toContain(
      'approved by every controller',
    );
    await ok('usecases', 'activate', 'UC-001');
    const listed = JSON.parse(await ok('usecases', 'list', '--state', 'active', '--json')) as {
      id: string;
      optOutApplies: boolean;
    }[];
    expect(listed).toMatchObject([{ id: 'UC-001', optOutApplies: true }]);

    // Opt-outs: an NHS number in the file is refused with its line, and nothing is loaded.
    const bad = path.join(dir, 'bad.dat');
    writeFileSync(bad, `${token('a')},\n9990000018,\n`);
    const refusedOptOut = await k('optouts', 'load', bad);
    expect(refusedOptOut.code).toBe(65);
    expect(refusedOptOut.stderr).toContain('holds an NHS number, not a token');
    expect(refusedOptOut.stderr).toContain('line 2');
    expect(refusedOptOut.stderr).not.toContain('9990000018');
    const good = path.join(dir, 'optouts.dat');
    writeFileSync(good, `${token('a')},\n${token('b')},\n${token('a')},\n`);
    expect(await ok('optouts', 'load', good)).toContain('Loaded 2 opt-out tokens (replacing 0)');
    expect(JSON.parse(await ok('optouts', 'status', '--json'))).toMatchObject({ tokens: 2 });
    expect(JSON.parse(await ok('optouts', 'impact', '--json'))).toEqual([]);

    // Transparency export (no reads yet: a header only)
    const readsFile = path.join(dir, 'reads.csv');
    expect(await ok('orgs', 'reads', 'RWF', '--csv', readsFile)).toContain('Wrote 0 reads');
    expect(readFileSync(readsFile, 'utf8')).toMatch(/^accessed_at,user,role,use_case/);

    expect(await ok('audit', 'verify')).toMatch(/^OK/);
  });
});

describe('kernel governance errors', () => {
  it('prints one line without a stack trace for a malformed value', async () => {
    const target = await testStores()[0]?.fresh();
    const result = await runCli([
      '--data',
      target?.dataDir ?? '',
      'agreements',
      'check',
      '--org',
      'RWF',
      '--dataset',
      'apc',
      '--period',
      '2021-13',
    ]);
    expect(result.code).toBe(64);
    expect(result.stderr.trim()).toBe(
      'kernel: "2021-13" is not a month (field period). Write months as YYYY-MM, e.g. 2021-04',
    );
  });
});
