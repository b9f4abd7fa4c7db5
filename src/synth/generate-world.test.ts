import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inboundColumns } from '../catalogue/shapes.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { DEFECT_KINDS } from './defects.ts';
import { generateWorld, type GenerateOptions } from './generate-world.ts';
import { checkSourceMapping, readSourceMapping } from '../privacy/source-mapping.ts';
import { localLayoutFor, mappingFileName } from './local-layouts.ts';
import { auditWorld } from './truth-audit.ts';
import { isNilReturn, listWorldFeeds } from './world-feeds.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kernel-synth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function world(name: string, options: Partial<GenerateOptions> = {}): string {
  const out = path.join(tmp, name);
  generateWorld({ out, people: 1500, seed: 7, from: '2019-04', to: '2019-06', ...options });
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort();
}

function digest(dir: string): string {
  const hash = createHash('sha256');
  for (const file of files(dir)) hash.update(file).update(readFileSync(path.join(dir, file)));
  return hash.digest('hex');
}

describe('generateWorld', () => {
  const first = world('a');

  it('writes byte-identical output for the same arguments, and different output for another seed', () => {
    const again = world('b');
    expect(files(again)).toEqual(files(first));
    expect(digest(again)).toBe(digest(first));
    const other = world('c', { seed: 8 });
    expect(digest(other)).not.toBe(digest(first));
  });

  it("writes every organisation's feeds with exactly the catalogue's inbound header, one file per month", () => {
    const feeds = files(path.join(first, 'feeds'));
    for (const org of ['RWF', 'RVV', 'RPA', 'RN7']) {
      for (const dataset of [
        'pmi',
        'apc',
        'op',
        'ecds',
        'msds-booking',
        'msds-delivery',
        'msds-baby',
        'esr',
      ]) {
        for (const month of ['2019-04', '2019-05', '2019-06'])
          expect(feeds).toContain(path.join(org, dataset, `${month}.csv`));
      }
    }
    for (const [org, dataset] of [
      ['RYY', 'pmi'],
      ['RYY', 'esr'],
      ['RXY', 'pmi'],
      ['RXY', 'esr'],
      ['E10000016', 'asc'],
      ['E06000035', 'asc'],
      ['KFRS', 'fire-safety'],
      ['Y99001', 'gp-events'],
      ['Y99001', 'pmi'],
    ]) {
      expect(feeds).toContain(path.join(org ?? '', dataset ?? '', '2019-04.csv'));
    }
    for (const file of feeds) {
      const [org = '', dataset = ''] = file.split(path.sep);
      const text = readFileSync(path.join(first, 'feeds', file), 'utf8');
      const local = localLayoutFor(org, dataset);
      expect(text.split('\n')[0]).toBe(
        (local ? Object.keys(local.mapping.columns) : inboundColumns(getDataset(dataset))).join(','),
      );
      expect(text).not.toContain('\r');
    }
  });

  it("writes two trusts' maternity feeds in layouts of their own, each with its mapping, which maps every row back", async () => {
    const layouts = ['RPA', 'RN7'].flatMap((org) =>
      ['msds-booking', 'msds-delivery', 'msds-baby'].map((dataset) => ({ org, dataset })),
    );
    expect(readdirSync(path.join(first, 'mappings')).sort()).toEqual(
      layouts.map((l) => mappingFileName(l.org, l.dataset)).sort(),
    );
    const feeds = listWorldFeeds(first, ['msds-booking', 'msds-delivery', 'msds-baby']);
    let checked = 0;
    for (const feed of feeds) {
      expect(Boolean(feed.mapping), `${feed.org}/${feed.dataset}`).toBe(
        feed.org === 'RPA' || feed.org === 'RN7',
      );
      if (!feed.mapping || isNilReturn(feed.file)) continue;
      const text = readFileSync(feed.file, 'utf8');
      expect(text).toMatch(/,\d{2}\/\d{2}\/\d{4},/);
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
      const report = await checkSourceMapping(readSourceMapping(feed.mapping), feed.file);
      expect(report.complete, `${feed.file}: ${JSON.stringify(report)}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(6);
  });

  it('writes the reference geography in the ONS Postcode Directory layout, with synthetic LSOAs', () => {
    const [header, ...rows] = parseCsv(readFileSync(path.join(first, 'reference', 'postcodes.csv'), 'utf8'));
    expect(header).toEqual(['pcd', 'pcds', 'dointr', 'doterm', 'oslaua', 'lsoa11', 'lsoa21', 'imd']);
    for (const row of rows.slice(0, 500)) {
      expect(row[1]).toMatch(/^(ME|CT|TN|DA)\d{1,2} \d[ABD-HJLNP-UW-Z]{2}$/);
      expect(row[5]).toMatch(/^Z01\d{6}$/);
      expect(Number(row[7])).toBeGreaterThanOrEqual(1);
      expect(Number(row[7])).toBeLessThanOrEqual(32844);
    }
    const lsoas = parseCsv(readFileSync(path.join(first, 'reference', 'lsoa.csv'), 'utf8'));
    expect(lsoas[1]?.[1]).toMatch(/\(synthetic\)$/);
    const organisations = readFileSync(path.join(first, 'reference', 'organisations.csv'), 'utf8');
    expect(organisations).toContain('E10000016,Kent County Council,local-authority,gss-code');
    expect(organisations).toContain('KFRS,');
  });

  it("counts exactly the defects truth records, of every kind, and finds every person's records consistent", () => {
    const rates = Object.fromEntries(DEFECT_KINDS.map((kind) => [kind, 0.02]));
    const out = world('defects', { defectRates: rates, from: '2019-04', to: '2019-05' });
    const audit = auditWorld(out);
    expect(audit.rows).toBeGreaterThan(1000);
    expect(audit.unexplained).toEqual([]);
    expect(audit.missed).toEqual([]);
    for (const kind of DEFECT_KINDS)
      expect(audit.recorded.filter((d) => d.kind === kind).length, kind).toBeGreaterThan(0);
  });

  it('uses only valid 999-range NHS numbers, except where truth records a wrong check digit', () => {
    const audit = auditWorld(first);
    const wrong = audit.recorded.filter((d) => d.kind === 'wrong-check-digit').length;
    expect(audit.nhsNumbers).toBeGreaterThan(1000);
    expect(audit.nhsNumbersValid999).toBe(audit.nhsNumbers - wrong);
  });

  it('refuses bad arguments with one clear error, and a non-empty folder without force', () => {
    const bad = (options: Partial<GenerateOptions>): unknown => {
      try {
        generateWorld({
          out: path.join(tmp, 'bad'),
          people: 10,
          seed: 1,
          from: '2019-04',
          to: '2019-04',
          ...options,
        });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(bad({ people: 0 })).toBeInstanceOf(KernelError);
    expect((bad({ from: '2019-13' }) as KernelError).where?.field).toBe('--from');
    expect((bad({ to: '2019-13' }) as KernelError).message).toBe('The last month "2019-13" is not a month');
    expect((bad({ to: '2019-01' }) as KernelError).message).toContain('before');
    expect((bad({ out: first }) as KernelError).code).toBe('conflict');
    expect((bad({ defectRates: { 'not-a-kind': 0.1 } as never }) as KernelError).code).toBe('usage');
    // a change the world cannot make: a share of labours induced above what onsets allow
    const change = bad({
      changes: [{ kind: 'induction-of-labour', from: '2019-04', share: 0.95 }],
    }) as KernelError;
    expect([change.code, change.where?.field]).toEqual(['usage', 'changes']);
    expect(
      (bad({ changes: [{ kind: 'induction-of-labour', from: 'April', share: 0.5 }] }) as KernelError).code,
    ).toBe('usage');
  });
});
