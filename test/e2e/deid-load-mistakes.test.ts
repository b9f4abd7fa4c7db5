/**
 * Mistakes in what `kernel deid` and `kernel load` are given are refused with a message and
 * an exit code, never a stack trace: an output folder that does not exist, a folder where a
 * file belongs (--out, --mapping, the file to load), and a manifest that is not an object;
 * a --period none of the rows falls in is warned of; a run stopped by Ctrl-C or SIGTERM leaves
 * no output behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeExtract } from '../../bench/ingest/extract-writer.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { KERNEL_BIN, ROOT, runCli, spawnCli, type CliResult } from '../cli.ts';

describe('deid and load refuse paths they cannot use', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-deid-mistakes-'));
  const at = (name: string) => path.join(dir, name);
  const data = at('warehouse');

  beforeAll(async () => {
    await writeExtract({
      spec: catalogueSpecs.spec('apc'),
      codeList: catalogueSpecs.codeList,
      file: at('extract.csv'),
      rows: 20,
      period: '2025-06',
    });
    expect((await runCli(['keys', 'new', '--out', at('link.key')])).code).toBe(0);
    expect((await runCli(['keys', 'new-signing', '--out', at('rwf.key')])).code).toBe(0);
    expect((await runCli(['init', '--data', data])).code).toBe(0);
    mkdirSync(at('folder'));
  }, 60_000);

  const deidArgs = (out: string, ...more: string[]) => [
    'deid',
    ...['--key', at('link.key'), '--sign', at('rwf.key'), '--org', 'RWF', '--dataset', 'apc'],
    ...['--in', at('extract.csv'), '--out', out],
    ...more,
  ];
  const clean = (result: CliResult): void => {
    expect(result.stderr).toMatch(/^kernel: /);
    expect(result.stderr).not.toMatch(/\n\s+at |Error:|node:events/);
  };

  it('says the folder for --out does not exist, exit 78, and writes nothing (a real process: no crash)', async () => {
    const out = at('nowhere/apc.csv');
    const result = await spawnCli(deidArgs(out));
    expect(result.code, result.stderr).toBe(78);
    clean(result);
    expect(result.stderr).toContain(`The folder ${at('nowhere')} does not exist`);
    expect(existsSync(at('nowhere'))).toBe(false);
  });

  it('refuses a folder given as --out, exit 78', async () => {
    const result = await spawnCli(deidArgs(at('folder')));
    expect(result.code, result.stderr).toBe(78);
    clean(result);
    expect(result.stderr).toContain(`${at('folder')} is a folder; --out names the file to write`);
    expect(existsSync(`${at('folder')}.partial`)).toBe(false);
  });

  it('refuses a folder given as --mapping, to deid and to mappings check, exit 65', async () => {
    const deid = await runCli(deidArgs(at('mapped.csv'), '--mapping', at('folder')));
    const check = await runCli(['mappings', 'check', '--mapping', at('folder'), '--in', at('extract.csv')]);
    for (const result of [deid, check]) {
      expect(result.code, result.stderr).toBe(65);
      clean(result);
      expect(result.stderr).toContain(`The source mapping ${at('folder')} is a folder, not a file`);
    }
  });

  it('says a folder given to load is a folder, not that it does not exist', async () => {
    const result = await runCli(['load', '--org', 'RWF', '--dataset', 'apc', at('folder'), '--data', data]);
    expect(result.code, result.stderr).toBe(65);
    expect(result.stderr).toContain(`${at('folder')} is a folder, not a file`);
    expect(result.stderr).not.toContain('does not exist');
  });

  it('warns when --period names a month none of the rows falls in, and still writes the file', async () => {
    const result = await runCli(deidArgs(at('as-july.csv'), '--period', '2025-07'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      'Warning: None of the 20 dated rows falls in 2025-07, the period given: by Episode_End_Date they fall in 2025-06. Check --period',
    );
    expect(existsSync(at('as-july.csv'))).toBe(true);
    const plain = await runCli(deidArgs(at('as-june.csv'), '--period', '2025-06'));
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('Warning');
  });

  it('refuses control totals that name no numeric or date field of the dataset, naming it, exit 65, and writes nothing', async () => {
    const cases: [string, object, string][] = [
      [
        'text',
        { sums: { Spell_Core_HRG: 1 } },
        'The control totals sum Spell_Core_HRG, which is not a numeric field of apc',
      ],
      ['unknown', { sums: { NoSuchField: 1 } }, 'The control totals sum NoSuchField, which is not a numeric'],
      [
        'month',
        { byMonth: { field: 'Admission_Method', rows: { '2025-06': 20 } } },
        'The control totals count rows by month of Admission_Method, which is not a date field of apc',
      ],
    ];
    for (const [name, totals, said] of cases) {
      writeFileSync(at(`${name}-totals.json`), JSON.stringify(totals));
      const out = at(`totals-${name}.csv`);
      const result = await runCli(deidArgs(out, '--control-totals', at(`${name}-totals.json`)));
      expect(result.code, `${name}: ${result.stderr}`).toBe(65);
      clean(result);
      expect(result.stderr).toContain(said);
      expect(result.stderr).toContain('kernel datasets show apc');
      for (const written of [out, `${out}.partial`, `${out}.manifest.json`])
        expect(existsSync(written)).toBe(false);
    }
    // A numeric field of the dataset is summed as before.
    writeFileSync(at('numeric-totals.json'), JSON.stringify({ sums: { Tariff_Total_Payment: 1 } }));
    const accepted = await runCli(
      deidArgs(at('totals-numeric.csv'), '--control-totals', at('numeric-totals.json')),
    );
    expect(accepted.code, accepted.stderr).toBe(0);
  });

  it('leaves no OUT.partial when stopped by SIGINT or SIGTERM, and ends as the signal would', async () => {
    // 60,000 rows (the 20 of the extract over and over): long enough to stop half-way.
    const [header, ...rows] = readFileSync(at('extract.csv'), 'utf8').trimEnd().split('\n');
    const big = at('big.csv');
    writeFileSync(
      big,
      [header, ...Array.from({ length: 60_000 }, (_, i) => rows[i % rows.length])].join('\n') + '\n',
    );
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const out = at(`stopped-${signal}.csv`);
      const child = spawn(
        process.execPath,
        [KERNEL_BIN, ...deidArgs(out).map((a) => (a === at('extract.csv') ? big : a))],
        {
          cwd: ROOT,
          stdio: 'ignore',
        },
      );
      const ended = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('close', (_code, s) => resolve(s)),
      );
      // Stopped once it has written part of the file.
      const writing = (): boolean => existsSync(`${out}.partial`) && statSync(`${out}.partial`).size > 0;
      while (!writing() && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 5));
      child.kill(signal);
      expect(await ended).toBe(signal);
      for (const written of [out, `${out}.partial`, `${out}.manifest.json`])
        expect(existsSync(written), written).toBe(false);
    }
    rmSync(big);
  }, 60_000);

  it('refuses a manifest that holds null as it refuses one that holds a list', async () => {
    const out = at('apc.csv');
    expect((await runCli(deidArgs(out))).code).toBe(0);
    for (const content of ['null', '[1,2]', '"x"']) {
      writeFileSync(`${out}.manifest.json`, content);
      const result = await runCli(['load', '--org', 'RWF', '--dataset', 'apc', out, '--data', data]);
      expect(result.code, `${content}: ${result.stderr}`).toBe(67);
      clean(result);
      expect(result.stderr).toContain('The manifest is not a Kernel feed manifest (bad or missing: format,');
    }
  });
});
