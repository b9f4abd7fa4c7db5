/**
 * The screen (row-screen.ts) against the rules in SQL (row-rules.ts) on both engines: every
 * value it passes, each engine's rules pass too; and it passes the plain values most rows
 * hold, so the load's fast path is the usual one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchored } from '../catalogue/catalogue.ts';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { contentField, testCodeList, testSpec } from '../../test/test-spec.ts';
import { scanFeedFile } from '../ingest/scan-feed.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { quoteIdentifier } from '../store/sql.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { rowChecks, trimmedValue } from './row-rules.ts';
import { rowScreen } from './row-screen.ts';

const field = contentField;

const spec: DatasetSpec = testSpec(
  'screen-test',
  [
    field('age', 'integer', { minimum: 0, maximum: 115 }),
    field('amount', 'decimal', { minimum: -10.5, maximum: 10.5 }),
    field('start_day', 'date'),
    field('end_day', 'date'),
    field('stamp', 'datetime'),
    field('later_stamp', 'datetime'),
    field('clock', 'time'),
    field('flag', 'boolean'),
    field('ref', 'string', { maxLength: 4, pattern: '[A-Z][0-9]{3}' }),
    field('colour', 'code', { codeList: 'colour' }),
    field('diagnosis', 'code', { codeList: 'diagnosis', maxLength: 4 }),
    field('kept', 'string', { required: true }),
    field('unit_days', 'integer', { minimum: 0, maximum: 999 }),
  ],
  {
    title: 'Screen test',
    description: 'Every kind of rule',
    periodField: 'start_day',
    dateOrder: [
      { start: 'start_day', end: 'end_day' },
      { start: 'stamp', end: 'later_stamp' },
      { start: 'start_day', end: 'later_stamp' },
    ],
    daysWithin: [{ days: 'unit_days', start: 'stamp', end: 'later_stamp' }],
  },
);

const lists: Record<string, CodeList> = {
  colour: testCodeList('colour', ['R', 'G']),
  // Q1 is not of the scheme's shape, so it must be listed; A01 is, so its shape accepts it.
  diagnosis: testCodeList('diagnosis', ['Q1', 'A01'], '[A-Z][0-9]{2}'),
};

/** Values for one column, each in a row of its own (the other columns empty but `kept`). */
const corpus: Record<string, string[]> = {
  age: ['0', '115', '116', '-1', '5', '007', '+5', ' 12 ', '1.0', '1e2', '99999999999999999999', '12x', '-0'],
  amount: [
    '10.5',
    '10.4',
    '-10.5',
    '-10.6',
    '.5',
    '5.',
    '1e1',
    '0.000000001',
    'abc',
    'NaN',
    'Infinity',
    '1.2.3',
    '3',
  ],
  start_day: [
    '2024-02-29',
    '2023-02-29',
    '2025-04-31',
    '0000-01-01',
    '0001-01-01',
    '9999-12-31',
    '2025-1-01',
  ],
  end_day: ['20250101', ' 2025-04-01 ', '2025-13-01', '2025-00-10', '2025-12-00', '2025-04-30'],
  stamp: [
    '2025-04-01T10:11:12',
    '2025-04-01 10:11:12.123456',
    '2025-04-01T24:00:00',
    '2025-04-01T10:11',
    '2025-04-01T10:11:60',
    '2025-02-30T00:00:00',
    '2025-04-01T10:11:12.1234567',
    '2025-04-01t10:11:12',
  ],
  clock: ['10:11', '23:59:59', '24:00', '9:00', '10:60', '10:11:12.5'],
  flag: ['Y', 'n', 'true', 'TRUE', 'True', 'yes', '1', '0', '2'],
  ref: ['A123', 'a123', 'A1234', '"É123"', 'A12', '"A123"', '" A123 "', '"A""1"'],
  colour: ['R', 'G', 'B', 'r', ' R ', '"R"', '""'],
  diagnosis: ['Q1', 'X12', 'X123', 'x12', 'Q1 ', 'A01', 'A1', 'Q2'],
};

/** Pairs for the date-order rules: [start_day, end_day, stamp, later_stamp]. */
const orders: string[][] = [
  ['2025-04-01', '2025-04-02', '', ''],
  ['2025-04-02', '2025-04-01', '', ''],
  ['2025-04-01', '2025-04-01', '', ''],
  ['', '', '2025-04-01T10:00:00', '2025-04-01T09:00:00'],
  ['', '', '2025-04-01T10:00:00', '2025-04-02T09:00:00'],
  ['', '', '2025-04-02T10:00:00', '2025-04-01T11:00:00'],
  ['2025-04-02', '', '', '2025-04-01T11:00:00'],
  ['2025-04-01', '', '', '2025-04-01T00:00:00'],
  ['2025-04-01', '', '', '2025-04-03T00:00:00'],
];

/** Counts for the days-within rule: [stamp, later_stamp, unit_days]. */
const within: string[][] = [
  ['2025-04-01T10:00:00', '2025-04-03T09:00:00', '3'],
  ['2025-04-01T10:00:00', '2025-04-03T09:00:00', '4'],
  ['2025-12-31T23:00:00', '2026-01-01T01:00:00', '2'],
  ['2024-02-28T10:00:00', '2024-03-01T10:00:00', '4'],
  ['', '2024-03-01T10:00:00', '9'],
  ['2025-04-01T10:00:00', '2025-04-03T09:00:00', '+3'],
];

/** What the screen must pass: the plain values a feed mostly holds. */
const plain = new Set([
  'age=0',
  'age=115',
  'age=5',
  'age=007',
  'age=-0',
  'age= 12 ',
  'amount=10.4',
  'amount=3',
  'amount=0.000000001',
  'start_day=2024-02-29',
  'start_day=0001-01-01',
  'start_day=9999-12-31',
  'end_day= 2025-04-01 ',
  'end_day=2025-04-30',
  'stamp=2025-04-01T10:11:12',
  'stamp=2025-04-01 10:11:12.123456',
  'clock=10:11',
  'clock=23:59:59',
  'flag=Y',
  'flag=n',
  'flag=true',
  'flag=TRUE',
  'flag=1',
  'flag=0',
  'ref=A123',
  'ref="A123"',
  'ref=" A123 "',
  'colour=R',
  'colour=G',
  'colour= R ',
  'colour="R"',
  'colour=""',
  'diagnosis=Q1',
  'diagnosis=X12',
  'diagnosis=Q1 ',
  'diagnosis=A01',
  'order=0',
  'order=4',
  'order=8',
  'within=0',
  'within=2',
  'within=4',
]);

const plan = deidPlan(spec);
const columns = plan.columns.map((c) => c.name);
const rows: { label: string; values: string[] }[] = [];
for (const [name, values] of Object.entries(corpus)) {
  for (const value of values) {
    rows.push({
      label: `${name}=${value}`,
      values: columns.map((c) => (c === name ? value : c === 'kept' ? 'k' : '')),
    });
  }
}
orders.forEach(([start = '', end = '', stamp = '', later = ''], i) => {
  const set: Record<string, string> = {
    start_day: start,
    end_day: end,
    stamp,
    later_stamp: later,
    kept: 'k',
  };
  rows.push({ label: `order=${i}`, values: columns.map((c) => set[c] ?? '') });
});
within.forEach(([stamp = '', later = '', days = ''], i) => {
  const set: Record<string, string> = { stamp, later_stamp: later, unit_days: days, kept: 'k' };
  rows.push({ label: `within=${i}`, values: columns.map((c) => set[c] ?? '') });
});
rows.push({ label: 'kept missing', values: columns.map(() => '') });

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-screen-'));
const file = path.join(dir, 'screen.csv');
writeFileSync(
  file,
  [plan.accepted.join(','), ...rows.map((r, i) => [String(i + 1), ...r.values].join(','))].join('\n') + '\n',
);

/** The rows the screen passes, by label, through the load's own scan. */
async function screened(): Promise<Set<string>> {
  const screen = rowScreen(plan, (id) => lists[id], anchored);
  const passed = new Set<string>();
  await scanFeedFile(file, plan, {
    displayName: 'screen.csv',
    onRow: (_record, values, _untidy, line) => {
      if (screen.passes(values)) passed.add((rows[line - 1] as { label: string }).label);
    },
  });
  return passed;
}

describe.each(testStores())('the row screen on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('passes only rows every rule in SQL passes, and the plain values a feed mostly holds', async () => {
    const passed = await screened();
    const q = quoteIdentifier;
    await store.exec(`CREATE TABLE screen_rows (${plan.accepted.map((c) => `${q(c)} VARCHAR`).join(', ')})`);
    await store.copyCsv('screen_rows', { path: file, columns: plan.accepted });
    const checks = rowChecks(plan, (id) => lists[id], store.dialect);
    const trimmed = `(SELECT CAST(s.source_line AS BIGINT) AS line, ${columns
      .map((c) => `${trimmedValue(c, 's.')} AS ${q(c)}`)
      .join(', ')} FROM screen_rows s)`;
    const failing = await store.query<{ line: number }>(
      `SELECT line FROM ${trimmed} t WHERE (${checks.map((c) => `(${c.condition})`).join(' OR ')}) IS TRUE`,
    );
    const failed = new Set(failing.map((r) => (rows[Number(r.line) - 1] as { label: string }).label));
    expect([...passed].filter((label) => failed.has(label))).toEqual([]);
    expect([...plain].filter((label) => !passed.has(label))).toEqual([]);
    expect(failed.has('kept missing')).toBe(true);
    // more days than the period's calendar days (a leap day counted) fail days-within in SQL
    expect(['within=1', 'within=3'].filter((label) => failed.has(label))).toEqual(['within=1', 'within=3']);
    expect(failed.has('within=2')).toBe(false);
  });
});
