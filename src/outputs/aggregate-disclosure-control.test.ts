/**
 * Disclosure control on tables built to be attacked.
 *
 * The attacker here is written apart from the code under test: it reads only the released
 * tables (which figures are `*`, how rows, columns, totals and shared dimensions add up), and
 * solves its own linear programs with the simplex solver. It is made stronger than a real
 * one: it knows every published figure exactly, as if nothing were rounded, and that every
 * `*` is at least 1 (0 is always shown). A small count counts as protected when the attacker
 * is left an interval at least 7 wide (the threshold), i.e. no tighter than `*` itself says.
 * Complementary `*`s (8 or more) need no protection: recovering one discloses only what the
 * rounding would have blurred.
 *
 * Each attack first shows that primary suppression alone gives the small count away, so the
 * test fails if secondary suppression stops doing its job.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { controlCount, HES_2018, NO_DISCLOSURE_CONTROL } from '../analytics/disclosure-control.ts';
import { KernelError } from '../errors.ts';
import { columnTotals, grandTotal, rowTotals, type AggregateTable } from './aggregate-table.ts';
import {
  controlAggregateTables,
  MAX_RELEASE_FIGURES,
  releaseTables,
  type ReleasedTable,
} from './aggregate-disclosure-control.ts';
import { linkTables } from './linked-tables.ts';
import { pairSingletons, primarySuppression } from './secondary-suppression.ts';
import { FeasibleLinearProgram } from './simplex-solver.ts';

const PROTECTION = HES_2018.threshold;

// ---------------------------------------------------------------- the attacker

interface Interval {
  low: number;
  high: number;
}

/**
 * Figures by name: "table|row|column" for a cell, "dimension=key" for a total (one figure
 * however many tables show it), "grand" for the grand total (the tables in an attack are
 * always linked, so they share it).
 */
function truthOf(tables: readonly AggregateTable[]): Map<string, number> {
  const truth = new Map<string, number>();
  for (const t of tables) {
    t.counts.forEach((row, r) =>
      row.forEach((count, c) => truth.set(`${t.name}|${t.rowKeys[r]}|${t.columnKeys[c]}`, count)),
    );
    rowTotals(t).forEach((total, r) => truth.set(`${t.rowDimension}=${t.rowKeys[r]}`, total));
    columnTotals(t).forEach((total, c) => truth.set(`${t.columnDimension}=${t.columnKeys[c]}`, total));
    truth.set('grand', grandTotal(t));
  }
  return truth;
}

/** Each released sum as [total, parts], figure names with what the release shows. */
function releasedSums(released: readonly ReleasedTable[]) {
  const shown = new Map<string, number | '*'>();
  const sums: [string, string[]][] = [];
  for (const t of released) {
    const cell = (r: number, c: number) => `${t.name}|${t.rowKeys[r]}|${t.columnKeys[c]}`;
    const rowTotal = (r: number) => `${t.rowDimension}=${t.rowKeys[r]}`;
    const columnTotal = (c: number) => `${t.columnDimension}=${t.columnKeys[c]}`;
    t.cells.forEach((row, r) => row.forEach((value, c) => shown.set(cell(r, c), value)));
    t.rowTotals.forEach((value, r) => shown.set(rowTotal(r), value));
    t.columnTotals.forEach((value, c) => shown.set(columnTotal(c), value));
    shown.set('grand', t.grandTotal);
    t.rowKeys.forEach((_, r) => sums.push([rowTotal(r), t.columnKeys.map((_, c) => cell(r, c))]));
    t.columnKeys.forEach((_, c) => sums.push([columnTotal(c), t.rowKeys.map((_, r) => cell(r, c))]));
    sums.push(['grand', t.rowKeys.map((_, r) => rowTotal(r))]);
    sums.push(['grand', t.columnKeys.map((_, c) => columnTotal(c))]);
  }
  return { shown, sums };
}

/** The tightest interval the attacker can find for every `*` in the release. */
function attack(released: readonly ReleasedTable[], truth: ReadonlyMap<string, number>) {
  const { shown, sums } = releasedSums(released);
  const hidden = [...shown].filter(([, value]) => value === '*').map(([name]) => name);
  const variable = new Map(hidden.map((name, v) => [name, v]));
  const constraints: number[][] = [];
  const rhs: number[] = [];
  // total − Σ parts = 0, in y = figure − 1 for each *, published figures at their true value
  for (const [total, parts] of sums) {
    const row = new Array<number>(hidden.length).fill(0);
    let constant = 0;
    for (const [name, sign] of [[total, 1] as const, ...parts.map((p) => [p, -1] as const)]) {
      const v = variable.get(name);
      if (v === undefined) constant += sign * (truth.get(name) ?? NaN);
      else [row[v], constant] = [(row[v] ?? 0) + sign, constant + sign];
    }
    constraints.push(row);
    rhs.push(-constant);
  }
  const feasible = FeasibleLinearProgram.find({ constraints, rhs, upper: hidden.map(() => Infinity) });
  if (!feasible) throw new Error('the released figures contradict the truth');
  const bounds = new Map<string, Interval>();
  hidden.forEach((name, v) => {
    const objective = hidden.map((_, w) => (w === v ? 1 : 0));
    const lowest = feasible.minimise(objective);
    const highest = feasible.minimise(objective.map((a) => -a));
    if (lowest.status !== 'optimal') throw new Error('unbounded below');
    bounds.set(name, {
      low: 1 + Math.ceil(lowest.value - 1e-6),
      high: highest.status === 'unbounded' ? Infinity : 1 + Math.floor(-highest.value + 1e-6),
    });
  });
  return bounds;
}

/** Small counts (1–7) the attacker narrows below the protection width, with their intervals. */
function exposedSmallCounts(released: readonly ReleasedTable[], tables: readonly AggregateTable[]) {
  const truth = truthOf(tables);
  const exposed: Record<string, Interval> = {};
  for (const [name, interval] of attack(released, truth)) {
    const count = truth.get(name) ?? 0;
    if (count >= 1 && count <= HES_2018.threshold && interval.high - interval.low < PROTECTION) {
      exposed[name] = interval;
    }
  }
  return exposed;
}

function primaryOnly(tables: readonly AggregateTable[]): ReleasedTable[] {
  const system = linkTables(tables);
  return releaseTables(system, primarySuppression(system, HES_2018), HES_2018);
}

function table(name: string, rows: string, columns: string, counts: number[][]): AggregateTable {
  return {
    name,
    rowDimension: rows,
    columnDimension: columns,
    rowKeys: counts.map((_, r) => `${rows[0]?.toUpperCase()}${r + 1}`),
    columnKeys: (counts[0] ?? []).map((_, c) => `${columns[0]}${c + 1}`),
    counts,
  };
}

// ---------------------------------------------------------------- a release by hand

describe('controlAggregateTables: what leaves', () => {
  it('publishes 0 as 0, suppresses 1–7, rounds the rest, and rounds totals from the true totals', () => {
    //        s1  s2  s3 | total
    // P1     12  12   0 |  24 → 25 (the rounded cells, 10 + 10, would say 20)
    // P2     31  46  22 |  99 → 100
    // total  43  58  22 | 123 → 125
    const release = controlAggregateTables([
      table('t', 'practice', 'sex', [
        [12, 12, 0],
        [31, 46, 22],
      ]),
    ]);
    expect(release.tables[0]).toMatchObject({
      cells: [
        [10, 10, 0],
        [30, 45, 20],
      ],
      rowTotals: [25, 100],
      columnTotals: [45, 60, 20],
      grandTotal: 125,
    });
    expect(release.suppressions).toEqual([]);
    expect(release.note).toMatch(/Totals are rounded from the true totals/);
  });

  it('marks why each figure is suppressed, with the interval left to an attacker of a small count', () => {
    const release = controlAggregateTables([
      table('by-sex', 'practice', 'sex', [
        [3, 40],
        [25, 30],
        [18, 22],
      ]),
    ]);
    expect(release.tables[0]?.cells).toEqual([
      ['*', '*'],
      [25, 30],
      ['*', '*'],
    ]);
    expect(release.suppressions).toEqual([
      {
        label: 'by-sex: practice P1, sex s1',
        reason: 'small count',
        attackerInterval: { low: 1, high: 20 },
      },
      { label: 'by-sex: practice P1, sex s2', reason: 'protects a small count' },
      { label: 'by-sex: practice P3, sex s1', reason: 'protects a small count' },
      { label: 'by-sex: practice P3, sex s2', reason: 'protects a small count' },
    ]);
  });

  it('leaves figures exact under no disclosure control', () => {
    const release = controlAggregateTables([table('t', 'practice', 'sex', [[3, 40]])], NO_DISCLOSURE_CONTROL);
    expect(release.tables[0]).toMatchObject({ cells: [[3, 40]], rowTotals: [43], grandTotal: 43 });
  });

  it('refuses a bad protection width and a release too big to audit, with what to do', () => {
    const small = [table('t', 'practice', 'sex', [[3, 40]])];
    expect(() => controlAggregateTables(small, HES_2018, { protectionWidth: -1 })).toThrow(KernelError);
    const huge = table(
      'huge',
      'practice',
      'band',
      Array.from({ length: 100 }, () => new Array<number>(50).fill(10)),
    );
    try {
      controlAggregateTables([huge]);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'too-large',
        message: `The release has 5151 figures; automatic disclosure control takes up to ${MAX_RELEASE_FIGURES}`,
      });
    }
  });
});

// ---------------------------------------------------------------- attack tables

describe('attack tables', () => {
  it('a row with a single small cell: its row total gives it away unless a partner is hidden', () => {
    const tables = [
      table('t', 'practice', 'band', [
        [3, 40, 50],
        [20, 35, 60],
      ]),
    ];
    expect(exposedSmallCounts(primaryOnly(tables), tables)).toEqual({
      't|P1|b1': { low: 3, high: 3 },
    });
    expect(exposedSmallCounts(controlAggregateTables(tables).tables, tables)).toEqual({});
  });

  it('a 2 × 2 with one small cell: all four cells must go, and a ∈ [1, 17]', () => {
    const tables = [
      table('t', 'practice', 'sex', [
        [3, 20],
        [15, 40],
      ]),
    ];
    expect(exposedSmallCounts(primaryOnly(tables), tables)).toEqual({ 't|P1|s1': { low: 3, high: 3 } });
    const released = controlAggregateTables(tables).tables;
    expect(released[0]).toMatchObject({
      cells: [
        ['*', '*'],
        ['*', '*'],
      ],
      rowTotals: [25, 55],
      columnTotals: [20, 60],
      grandTotal: 80,
    });
    expect(attack(released, truthOf(tables)).get('t|P1|s1')).toEqual({ low: 1, high: 17 });
  });

  it('a chain: every row and column has two *s (what naive pairing checks), yet the link is pinned', () => {
    //        b1  b2  b3  b4
    // P1      2   3  40  50     Two 2 × 2 blocks of small counts, joined by the 5 at (P2, b3).
    // P2      4   2   5  60     Each row and column holds 0 or at least two *s, so pairing adds
    // P3     30  45   3   2     nothing; but the 5 lies on no cycle of *s: the sum of the *s in
    // P4     35  55   6   4     P1 and P2 (16) less those in b1 and b2 (11) is exactly 5.
    const tables = [
      table('t', 'practice', 'band', [
        [2, 3, 40, 50],
        [4, 2, 5, 60],
        [30, 45, 3, 2],
        [35, 55, 6, 4],
      ]),
    ];
    const system = linkTables(tables);
    const primary = primarySuppression(system, HES_2018);
    expect(pairSingletons(system, primary)).toEqual(primary);
    const exposed = exposedSmallCounts(primaryOnly(tables), tables);
    expect(exposed['t|P2|b3']).toEqual({ low: 5, high: 5 });
    // the blocks themselves are too tight as well: 2 at (P1, b1) lies in [1, 4]
    expect(exposed['t|P1|b1']).toEqual({ low: 1, high: 4 });
    expect(exposedSmallCounts(controlAggregateTables(tables).tables, tables)).toEqual({});
  });

  it('two linked tables: a cell hidden in one is recovered through totals the other publishes', () => {
    //  by-sex   s1  s2 | total        by-age   a1  a2 | total
    //  P1        3  10 |  13          P1       13   0 |  13
    //  P2        0  60 |  60          P2       30  30 |  60
    //  P3       20   0 |  20          P3       10  10 |  20
    // Controlled alone, by-sex hides its P2 and P3 totals to protect the 3; by-age has no small
    // count and publishes them. Then (P2, s2) = 60, (P1, s2) = 70 − 60 = 10, (P1, s1) = 13 − 10 = 3.
    const bySex = table('by-sex', 'practice', 'sex', [
      [3, 10],
      [0, 60],
      [20, 0],
    ]);
    const byAge = table('by-age', 'practice', 'age', [
      [13, 0],
      [30, 30],
      [10, 10],
    ]);
    const tables = [bySex, byAge];
    const separately = [...controlAggregateTables([bySex]).tables, ...controlAggregateTables([byAge]).tables];
    expect(exposedSmallCounts(controlAggregateTables([bySex]).tables, [bySex])).toEqual({});
    expect(separately[0]?.rowTotals).toEqual([15, '*', '*']);
    expect(separately[1]?.rowTotals).toEqual([15, 60, 20]);
    expect(exposedSmallCounts(separately, tables)).toEqual({ 'by-sex|P1|s1': { low: 3, high: 3 } });

    const together = controlAggregateTables(tables).tables;
    expect(exposedSmallCounts(together, tables)).toEqual({});
    expect(together[1]?.rowTotals).toEqual(together[0]?.rowTotals);
  });

  it('zero rows and columns: 0 is never a partner, so a small count pairs with totals', () => {
    //        b1  b2  b3 | total
    // P1      3   0  40 |  43     Column b1 is 3, 0, 0: its total is 3 as well (a second small
    // P2      0   0   0 |   0     count). The zero row and zero column offer no partners.
    // P3      0   0  25 |  25
    const tables = [
      table('t', 'practice', 'band', [
        [3, 0, 40],
        [0, 0, 0],
        [0, 0, 25],
      ]),
    ];
    const naive = exposedSmallCounts(primaryOnly(tables), tables);
    expect(naive['t|P1|b1']).toEqual({ low: 3, high: 3 });
    expect(naive['band=b1']).toEqual({ low: 3, high: 3 });
    const released = controlAggregateTables(tables).tables;
    expect(exposedSmallCounts(released, tables)).toEqual({});
    expect(released[0]?.cells[1]).toEqual([0, 0, 0]);
    expect(released[0]?.columnTotals[1]).toBe(0);
  });

  it('a small total: a row of 7 ones and zeros is suppressed whole, the total with it', () => {
    const tables = [
      table('t', 'practice', 'band', [
        [1, 0, 6],
        [20, 30, 9],
      ]),
    ];
    const released = controlAggregateTables(tables).tables;
    expect(released[0]?.rowTotals[0]).toBe('*');
    expect(exposedSmallCounts(released, tables)).toEqual({});
  });
});

// ---------------------------------------------------------------- random tables

/** Counts as an output sees them: many zeros and small counts, some middling, a few large. */
const count = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 7 }) },
  { weight: 4, arbitrary: fc.integer({ min: 8, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 41, max: 500 }) },
);

const twoWayTable = fc
  .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }))
  .chain(([rows, columns]) =>
    fc.array(fc.array(count, { minLength: columns, maxLength: columns }), {
      minLength: rows,
      maxLength: rows,
    }),
  )
  .map((counts) => table('t', 'practice', 'band', counts));

/** practice × sex and practice × age, from one practice × sex × age count so the totals agree */
const linkedPair = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
  .chain(([practices, sexes, ages]) =>
    fc.array(
      fc.array(fc.array(count, { minLength: ages, maxLength: ages }), { minLength: sexes, maxLength: sexes }),
      {
        minLength: practices,
        maxLength: practices,
      },
    ),
  )
  .map((cube) => [
    table(
      'by-sex',
      'practice',
      'sex',
      cube.map((bySex) => bySex.map((byAge) => byAge.reduce((a, b) => a + b, 0))),
    ),
    table(
      'by-age',
      'practice',
      'age',
      cube.map((bySex) =>
        (bySex[0] ?? []).map((_, a) => bySex.reduce((sum, byAge) => sum + (byAge[a] ?? 0), 0)),
      ),
    ),
  ]);

function expectSafeRelease(tables: AggregateTable[]): void {
  const release = controlAggregateTables(tables);
  expect(exposedSmallCounts(release.tables, tables)).toEqual({});
  // every figure shown is the policy's figure for the truth; no 0 is ever hidden
  const truth = truthOf(tables);
  const { shown } = releasedSums(release.tables);
  for (const [name, value] of shown) {
    const count = truth.get(name) ?? NaN;
    if (value === '*') expect(count).toBeGreaterThan(0);
    else expect(value).toBe(controlCount(count, HES_2018));
  }
}

describe('random tables', () => {
  it('leave no small count narrower than 7 to the attacker', () => {
    fc.assert(
      fc.property(twoWayTable, (t) => expectSafeRelease([t])),
      { numRuns: 200 },
    );
  });

  it('linked by a shared dimension, leave no small count narrower than 7 to the attacker', () => {
    fc.assert(
      fc.property(linkedPair, (tables) => expectSafeRelease(tables)),
      { numRuns: 150 },
    );
  });
});
