import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import { runCli } from '../cli.ts';
import { testStores } from '../stores.ts';

describe.each(testStores())('kernel plan, raid and report on $engine', (engine) => {
  it('keeps the plan and RAID log and writes the monthly update as HTML and PDF', async () => {
    const target = await engine.fresh();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-programme-cli-'));
    const k = (...args: string[]) => runCli(['--data', target.dataDir, '--store', target.store, ...args]);
    const ok = async (...args: string[]) => {
      const result = await k(...args);
      expect(result.stderr, args.join(' ')).toBe('');
      expect(result.code, args.join(' ')).toBe(0);
      return result.stdout;
    };

    await ok('orgs', 'seed');
    expect(await ok('plan')).toContain('The plan is empty');
    expect(await ok('raid', 'rules')).toContain('waits for sign-off more than 6 weeks');
    expect(await ok('raid', 'rules', '--sign-off-weeks', '8')).toContain('more than 8 weeks');
    expect(JSON.parse(await ok('raid', 'rules', '--json'))).toEqual({ signOffWeeks: 8 });
    const badWeeks = await k('raid', 'rules', '--sign-off-weeks', '0');
    expect([badWeeks.code, badWeeks.stderr.trim()]).toEqual([
      64,
      'kernel: "0" is not a number of weeks from 1 to 52 (field sign-off-weeks). Give a whole number of weeks, e.g. 6',
    ]);
    expect(
      await ok(
        'plan',
        'add-workstream',
        '--title',
        'Website',
        '--owner',
        'QKS',
        '--from',
        '2021-04',
        '--to',
        '2021-07',
      ),
    ).toContain('Added workstream WS-01');
    await ok(
      'plan',
      'add-workstream',
      '--title',
      'Proof of concept',
      '--owner',
      'A supplier',
      '--supplier',
      '--from',
      '2021-01',
      '--to',
      '2021-03',
    );
    expect(
      await ok(
        'plan',
        'add-milestone',
        '--workstream',
        'WS-01',
        '--title',
        'Website live',
        '--due',
        '2021-07',
      ),
    ).toContain('Added milestone M-01');
    expect(
      await ok(
        'plan',
        'add-milestone',
        '--workstream',
        'WS-01',
        '--title',
        'MTW agreement',
        '--due',
        '2021-09',
        '--tie',
        'agreement:RWF',
      ),
    ).toContain('done when RWF signs a data sharing agreement');
    const done = await ok(
      'plan',
      'milestone',
      'M-01',
      '--state',
      'done',
      '--on',
      '2021-07-19',
      '--evidence',
      'The public site',
      '--note',
      'Launched',
    );
    expect(done).toMatch(/M-01 Website live: due 2021-07, done on 2021-07-19/);
    expect(done).toMatch(
      /done\s+\{"state":"done","doneOn":"2021-07-19","evidence":"The public site"\}\s+Launched/,
    );

    // A tied milestone completes when the fact appears.
    await ok('agreements', 'add', '--org', 'RWF', '--dataset', 'apc', '--from', '2021-04', '--to', '2022-03');
    expect(await ok('plan', 'refresh')).toContain('milestones done: M-02');
    const plan = JSON.parse(await ok('plan', '--json')) as {
      workstreams: { milestones: { id: string; state: string }[] }[];
    };
    expect(plan.workstreams.flatMap((w) => w.milestones).map((m) => [m.id, m.state])).toEqual([
      ['M-01', 'done'],
      ['M-02', 'done'],
    ]);

    expect(
      await ok(
        'raid',
        'add',
        '--kind',
        'risk',
        '--title',
        'BI teams lack time',
        '--owner',
        'Programme office',
        '--likelihood',
        '4',
        '--impact',
        '4',
        '--raised',
        '2021-02-10',
      ),
    ).toContain('Raised R-001: BI teams lack time (score 16)');
    await ok(
      'raid',
      'add',
      '--kind',
      'issue',
      '--title',
      'Procurement delayed',
      '--owner',
      'QKS',
      '--impact',
      '3',
      '--raised',
      '2021-04-06',
    );
    expect(await ok('raid', 'close', 'I-001', '--on', '2021-06-15', '--note', 'Delivered')).toContain(
      'I-001 is closed (closed 2021-06-15)',
    );
    expect(await ok('raid', '--state', 'open')).toMatch(/R-001\s+risk\s+open\s+16/);
    expect(await ok('raid', 'show', 'I-001')).toMatch(
      /closed\s+\{"state":"closed","closedOn":"2021-06-15"\}\s+Delivered/,
    );

    await ok(
      'report',
      'entry',
      '--month',
      '2021-07',
      '--section',
      'events',
      '--text',
      'Kernel Development Group, 12 August 2021',
    );
    const text = await ok('report', 'monthly', '--month', '2021-07');
    expect(text).toContain('Kernel Development Group – Update: July 2021 (draft)');
    expect(text).toContain(
      'M-01 Website live (Website), done 2021-07-19: The public site  [/programme#M-01]',
    );
    expect(text).toContain('Kernel Development Group, 12 August 2021');
    expect(text).toMatch(/Key risks\n {2}- R-001 BI teams lack time/);

    const html = path.join(dir, 'july.html');
    const pdf = path.join(dir, 'july.pdf');
    expect(
      await ok(
        'report',
        'monthly',
        '--month',
        '2021-07',
        '--html',
        html,
        '--pdf',
        pdf,
        '--base-url',
        'https://kernel.test',
      ),
    ).toContain(`Wrote the draft update for July 2021: ${html}, ${pdf}`);
    expect(readFileSync(html, 'utf8')).toContain('<a href="https://kernel.test/programme#M-01">');
    const read = await extractText(await getDocumentProxy(new Uint8Array(readFileSync(pdf))), {
      mergePages: true,
    });
    expect(read.text.replace(/\s+/g, ' ')).toContain('M-01 Website live (Website), done 2021-07-19');

    expect(await ok('report', 'issue', '--month', '2021-07')).toMatch(
      /Issued the update for July 2021 \(SHA-256 [0-9a-f]{64}\)/,
    );
    expect(await ok('report', 'list')).toMatch(/2021-07\s+issued/);

    // Mistakes: one clear line and the exit code, never a stack trace.
    const issued = await k('report', 'entry', '--month', '2021-07', '--section', 'events', '--text', 'Late');
    expect(issued.code).toBe(75);
    expect(issued.stderr).toMatch(
      /^kernel: The update for July 2021 was issued on \d{4}-\d{2}-\d{2} and cannot change\. An issued update is kept as issued/,
    );
    // A folder, or a place under a file that cannot be made a folder: refused as `loads
    // quarantine --out` refuses one (exit 78), never an internal error.
    const notAFolder = path.join(dir, 'not-a-folder');
    writeFileSync(notAFolder, 'x');
    for (const [args, where] of [
      [['report', 'monthly', '--month', '2021-07', '--pdf', dir], dir],
      [['plan', 'chart', '--svg', dir], dir],
      [['report', 'monthly', '--month', '2021-07', '--pdf', path.join(notAFolder, 'x.pdf')], notAFolder],
    ] as const) {
      const refused = await k(...args);
      expect([refused.code, refused.stderr], args.join(' ')).toEqual([
        78,
        expect.stringContaining('kernel: Cannot write'),
      ]);
      expect(refused.stderr).toContain(where);
      expect(refused.stderr).not.toMatch(/internal|\n\s+at /);
    }
    const badMonth = await k('report', 'monthly', '--month', '2021-13');
    expect(badMonth.code).toBe(64);
    expect(badMonth.stderr.trim()).toBe(
      'kernel: "2021-13" is not a month (field month). Write months as YYYY-MM, e.g. 2021-04',
    );
    const badTie = await k(
      'plan',
      'add-milestone',
      '--workstream',
      'WS-01',
      '--title',
      'X',
      '--due',
      '2021-08',
      '--tie',
      'weather:RWF',
    );
    expect(badTie.code).toBe(64);
    expect(badTie.stderr).toContain('"weather:RWF" is not a milestone tie');
    const missing = await k('raid', 'show', 'R-099');
    expect(missing.code).toBe(66);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});

describe('kernel report and plan while a server holds the store', () => {
  it('write their documents where the CLI was run, not where the server was started', async () => {
    const { absolutePaths } = await import('../../src/server/cli-forwarding.ts');
    expect(
      absolutePaths(
        ['report', 'monthly', '--month', '2021-07', '--pdf', 'july.pdf', '--html=july.html'],
        '/home/pm',
      ),
    ).toEqual([
      'report',
      'monthly',
      '--month',
      '2021-07',
      '--pdf',
      '/home/pm/july.pdf',
      '--html=/home/pm/july.html',
    ]);
    expect(absolutePaths(['plan', 'chart', '--svg', 'plan.svg'], '/home/pm')).toEqual([
      'plan',
      'chart',
      '--svg',
      '/home/pm/plan.svg',
    ]);
  });
});
