/**
 * The screened copy's scan in parts on worker threads (scan-workers.ts) gives what the scan
 * of the whole file on one thread gives: the same lines for COPY in the same order, the same
 * rows set aside, row index, checksum, completeness and profile tally, and the same refusal,
 * word for word, where the file is at fault.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchored } from '../catalogue/catalogue.ts';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { contentField, testSpec } from '../../test/test-spec.ts';
import { KernelError } from '../errors.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { ProfileTally } from '../quality/profile-tally.ts';
import { rowScreen } from '../quality/row-screen.ts';
import { scanFeedFile, type FeedScan, type ScanOptions } from './scan-feed.ts';
import { scanInParts, type PartsCopy } from './scan-workers.ts';
import { LineWriter, RowCopier } from './screened-copy.ts';

const field = contentField;

// The APC dataset's id, so the profile tally has key fields and rules to tally.
const spec: DatasetSpec = testSpec(
  'apc',
  [
    field('age', 'integer', { minimum: 0, maximum: 115 }),
    field('start_day', 'date', { required: true }),
    field('end_day', 'date'),
    field('colour', 'code', { codeList: 'colour' }),
    field('note', 'string', { maxLength: 12 }),
    field('ref', 'string'),
  ],
  {
    title: 'Parts test',
    description: 'A few kinds of rule',
    periodField: 'start_day',
    dateOrder: [{ start: 'start_day', end: 'end_day' }],
  },
);
const lists: Record<string, CodeList> = {
  colour: { id: 'colour', title: 'Colour', codes: ['R', 'G', 'B'].map((code) => ({ code, label: code })) },
} as unknown as Record<string, CodeList>;
const plan = deidPlan(spec);
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-scan-parts-'));

/** `rows` rows, one in 50 failing a rule, some padded or quoted, with `change` applied. */
function feedFile(
  name: string,
  rows: number,
  change: (line: number, values: string[]) => string[] = (_l, v) => v,
): string {
  const lines = [plan.accepted.join(',')];
  for (let i = 1; i <= rows; i++) {
    const day = `2026-0${1 + (i % 9)}-1${i % 10}`;
    let values = [
      String(i),
      String(i % 100),
      day,
      i % 50 === 7 ? '2025-01-01' : day,
      'RGB'[i % 3] as string,
      `n${i}`,
      `r${i % 997}`,
    ];
    if (i % 13 === 0) values[5] = ` n${i} `;
    if (i % 17 === 0) values[5] = `"n,${i}"`;
    values = change(i, values);
    lines.push(values.join(','));
  }
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

interface Outcome {
  scan: FeedScan;
  lines: Buffer;
  setAside: number[];
  tally: unknown;
}

const leading = ['load-1', 'ORG'];
const hold = [5, 600, 601, 4000];

/**
 * The file scanned as the load scans it on its own thread; `offerParts` makes the scan in
 * parts the load offers it, writing to the same lines, rows set aside and tally.
 */
async function serially(
  file: string,
  offerParts?: (copy: { copier: RowCopier; tally: ProfileTally; chunks: Buffer[] }) => ScanOptions['inParts'],
): Promise<Outcome> {
  const chunks: Buffer[] = [];
  const tally = new ProfileTally(plan);
  const writer = new LineWriter(leading, (c) => chunks.push(Buffer.from(c)));
  const copier = new RowCopier(
    hold,
    rowScreen(plan, (id) => lists[id], anchored),
    writer,
    tally,
  );
  const inParts = offerParts?.({ copier, tally, chunks });
  const scan = await scanFeedFile(file, plan, {
    displayName: 'feed.csv',
    onRow: (record, values, untidy, line) => copier.take(record, values, untidy, line),
    ...(inParts ? { inParts } : {}),
  });
  writer.flush();
  return { scan, lines: Buffer.concat(chunks), setAside: copier.setAside, tally: tally.result() };
}

/** What the load gives the scan in parts: its lines to `chunks`, in parts of 16 KB. */
const partsCopy = (tally: ProfileTally, chunks: Buffer[], setAside: number[]): PartsCopy => ({
  leading,
  hold,
  codeList: (id) => lists[id],
  quotedLineBreaks: false,
  tally,
  push: (c) => chunks.push(c),
  drained: () => undefined,
  setAside,
  partBytes: 16 * 1024,
});

async function inParts(file: string): Promise<Outcome> {
  const chunks: Buffer[] = [];
  const tally = new ProfileTally(plan);
  const setAside: number[] = [];
  const scan = await scanFeedFile(file, plan, {
    displayName: 'feed.csv',
    onRow: () => {
      throw new Error('not scanned in parts');
    },
    inParts: (f, p, options) => scanInParts(f, p, options, partsCopy(tally, chunks, setAside)),
  });
  return { scan, lines: Buffer.concat(chunks), setAside, tally: tally.result() };
}

const failure = async (work: Promise<unknown>): Promise<KernelError> => {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KernelError);
  return error as KernelError;
};

describe('the scan in parts on worker threads', () => {
  // Every file in parts, on two workers whatever the machine (by default a load leaves one
  // core to the database server, so a two-core machine scans whole).
  const settings = { KERNEL_PARALLEL_ABOVE_BYTES: '0', KERNEL_SCAN_THREADS: '2' };
  const before = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  beforeAll(() => {
    Object.assign(process.env, settings);
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('copies, sets aside, indexes and tallies as the whole file scanned on one thread', async () => {
    const file = feedFile('good.csv', 6000);
    const [one, parts] = [await serially(file), await inParts(file)];
    expect(parts.lines.length).toBeGreaterThan(100_000);
    expect(parts.lines.equals(one.lines)).toBe(true);
    expect(parts.setAside).toEqual(one.setAside);
    expect(parts.setAside.length).toBeGreaterThan(100);
    expect(parts.tally).toEqual(one.tally);
    const { index: partsIndex, ...partsScan } = parts.scan;
    const { index: oneIndex, ...oneScan } = one.scan;
    expect(partsScan).toEqual(oneScan);
    expect(partsIndex.leftOut(new Map())).toEqual(oneIndex.leftOut(new Map()));
  });

  it('leaves a file that may hold a quoted line break to the scan of the whole file', () => {
    const file = feedFile('quoted.csv', 100);
    const copy = { leading, hold, codeList: () => undefined, tally: undefined, setAside: [] };
    const options = { displayName: 'quoted.csv' };
    const io = { push: () => undefined, drained: () => undefined };
    expect(scanInParts(file, plan, options, { ...copy, ...io, quotedLineBreaks: true })).toBeUndefined();
    const parts = scanInParts(file, plan, options, { ...copy, ...io, quotedLineBreaks: false });
    expect(parts).toBeInstanceOf(Promise);
    return parts;
  });

  it('scans on this thread when the workers cannot start, before anything is copied', async () => {
    const file = feedFile('unsendable.csv', 2000);
    const one = await serially(file);
    // A plan a worker cannot be sent (a function in it): the workers fail at their start.
    const unsendable = { ...plan, spec: { ...plan.spec, extra: () => undefined } } as unknown as typeof plan;
    const fallen = await serially(
      file,
      ({ copier, tally, chunks }) =>
        (f, _p, options) =>
          scanInParts(f, unsendable, options, partsCopy(tally, chunks, copier.setAside)),
    );
    expect(fallen.scan.sha256).toBe(one.scan.sha256);
    expect(fallen.lines.equals(one.lines)).toBe(true);
    expect(fallen.setAside).toEqual(one.setAside);
    expect(fallen.tally).toEqual(one.tally);
  });

  it('refuses a file with the same message, line and field', async () => {
    const cases: [string, (line: number, values: string[]) => string[], RegExp][] = [
      ['columns', (line, v) => (line === 4321 ? v.slice(0, 5) : v), /5 columns/],
      ['source-line', (line, v) => (line === 3000 ? ['2999', ...v.slice(1)] : v), /does not come after/],
      [
        'nhs-numbers',
        (line, v) => (line >= 3500 && line % 200 === 0 ? [...v.slice(0, 6), '9434765919'] : v),
        /ref holds values shaped like NHS numbers \(13 of 6000, first on line 3601\)/,
      ],
      // Valid NHS numbers (counting up) as the last rows' source_line: hunted like any column.
      [
        'nhs-numbers-as-source-line',
        (line, v) =>
          line > 5997
            ? [['9990001049', '9990001057', '9990001065'][line - 5998] as string, ...v.slice(1)]
            : v,
        /source_line holds values shaped like NHS numbers \(3 of 6000, first on line 5999\)/,
      ],
      ['quote', (line, v) => (line === 5001 ? [...v.slice(0, 6), 'a"b'] : v), /double quote/],
      // One value unambiguously shaped like an identifier is enough (docs/feeds.md).
      [
        'grouped-nhs-number',
        (line, v) => (line === 4500 ? [...v.slice(0, 6), '999 000 0018'] : v),
        /ref holds values shaped like NHS numbers written in groups \(1 of 6000, first on line 4501\)/,
      ],
      [
        'hyphened-nhs-number',
        (line, v) => (line === 4500 ? [...v.slice(0, 6), '999-000-0018'] : v),
        /ref holds values shaped like NHS numbers written in groups \(1 of 6000, first on line 4501\)/,
      ],
      [
        'postcode',
        (line, v) => (line === 4500 ? [...v.slice(0, 5), 'DA4 8NF', v[6] as string] : v),
        /note holds values shaped like full postcodes \(1 of 6000, first on line 4501\)/,
      ],
      [
        'date',
        (line, v) => (line === 4500 ? [...v.slice(0, 6), '1970-11-26'] : v),
        /ref holds values shaped like full dates of birth \(1 of 6000, first on line 4501\)/,
      ],
    ];
    for (const [name, change, said] of cases) {
      const file = feedFile(`${name}.csv`, 6000, change);
      const one = await failure(serially(file));
      const parts = await failure(inParts(file));
      expect(parts.message).toMatch(said);
      expect({ name, message: parts.message, where: parts.where, code: parts.code }).toEqual({
        name,
        message: one.message,
        where: one.where,
        code: one.code,
      });
      for (const value of ['000 0018', '000-0018', 'DA4', '8NF', '1970-11-26', '9990001'])
        expect(parts.message).not.toContain(value);
    }
  });

  it('still accepts one ungrouped ten-digit number with a valid check digit (a spell number, say)', async () => {
    const file = feedFile('one-ten-digit.csv', 6000, (line, v) =>
      line === 4500 ? [...v.slice(0, 6), '9990000018'] : v,
    );
    const [one, parts] = [await serially(file), await inParts(file)];
    expect(parts.scan.rows).toBe(6000);
    expect(one.scan.rows).toBe(6000);
  });
});
