/**
 * Worked examples, small enough to check by hand. The attack tables, built to defeat a
 * weaker method, are in aggregate-disclosure-control.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { HES_2018, NO_DISCLOSURE_CONTROL } from '../analytics/disclosure-control.ts';
import type { AggregateTable } from './aggregate-table.ts';
import { linkTables, type TableSystem } from './linked-tables.ts';
import { pairSingletons, planSuppression, primarySuppression } from './secondary-suppression.ts';
import { auditSuppression } from './suppression-audit.ts';

/** A system of one two-way table of these counts: rows r1, r2…, columns c1, c2…. */
function oneTable(counts: number[][]): TableSystem {
  const table: AggregateTable = {
    name: 't',
    rowDimension: 'row',
    columnDimension: 'col',
    rowKeys: counts.map((_, r) => `r${r + 1}`),
    columnKeys: (counts[0] ?? []).map((_, c) => `c${c + 1}`),
    counts,
  };
  return linkTables([table]);
}

/** Entry labels, short: "r1,c2" for a cell, "r1" / "c2" for a margin, "grand" for the total. */
function names(system: TableSystem, entries: Iterable<number>): string[] {
  return [...entries]
    .map((e) => {
      const place = system.entries[e]?.place;
      if (place?.kind === 'cell') return `${place.row},${place.column}`;
      if (place?.kind === 'margin') return place.key;
      return 'grand';
    })
    .sort();
}

describe('primary suppression', () => {
  it('takes every figure of 1 to 7, totals included, and never a 0', () => {
    const system = oneTable([
      [3, 0, 2],
      [0, 0, 40],
    ]);
    // cells 3 and 2; row total r1 = 5; column total c1 = 3 and c2 = 2 (c3 is 40, 0 stays 0)
    expect(names(system, primarySuppression(system, HES_2018))).toEqual(['c1', 'r1', 'r1,c1', 'r1,c3']);
    expect(primarySuppression(system, NO_DISCLOSURE_CONTROL).size).toBe(0);
  });
});

describe('pairSingletons', () => {
  it('pairs a lone small cell with the smallest non-zero figure in its row and its column', () => {
    //        c1  c2 | total
    // r1      3  40 |  43
    // r2     25  30 |  55
    // r3     18  22 |  40
    // total  46  92 | 138
    // r1 has one * (the 3): its smallest other figure is 40 (the total is 43). Column c1: 18.
    // Then r3 has one * (the 18): 22. Column c2 now holds 40 and 22: two, so it stops.
    const system = oneTable([
      [3, 40],
      [25, 30],
      [18, 22],
    ]);
    const paired = pairSingletons(system, primarySuppression(system, HES_2018));
    expect(names(system, paired)).toEqual(['r1,c1', 'r1,c2', 'r3,c1', 'r3,c2']);
  });

  it('falls back on the total when every other figure in the line is 0', () => {
    //       c1 c2 c3 | total
    // r1    12  0  0 |  12    12 is suppressed (say, to protect the 5 below it). A 0 is never
    // r2     5 30  9 |  44    suppressed, so r1's only possible partner is its total.
    const system = oneTable([
      [12, 0, 0],
      [5, 30, 9],
    ]);
    const twelve = system.layouts[0]?.cells[0]?.[0] as number;
    const five = system.layouts[0]?.cells[1]?.[0] as number;
    const paired = pairSingletons(system, new Set([five, twelve]));
    expect(names(system, paired)).toContain('r1');
  });
});

describe('auditSuppression', () => {
  it('gives the interval an attacker can work out for each * in a 2 × 2 (by hand)', () => {
    //        c1  c2 | total           a = 3 can fall by 2 (to 1, the least a * can be, since 0 is
    // r1      3  20 |  23             shown as 0) while d = 40 falls by as much; it can rise by 14
    // r2     15  40 |  55             before c = 15 reaches 1. So a ∈ [1, 17]; b = 23 − a ∈ [6, 22];
    // total  18  60 |  78             c = 18 − a ∈ [1, 17]; d = 37 + a ∈ [38, 54].
    const system = oneTable([
      [3, 20],
      [15, 40],
    ]);
    const cells = system.layouts[0]?.cells.flat() ?? [];
    const intervals = auditSuppression(system, new Set(cells), cells);
    expect(cells.map((e) => intervals.get(e))).toEqual([
      { low: 1, high: 17 },
      { low: 6, high: 22 },
      { low: 1, high: 17 },
      { low: 38, high: 54 },
    ]);
  });

  it('pins a lone * in a row exactly (the recovery secondary suppression prevents)', () => {
    const system = oneTable([[3, 40, 50]]);
    const three = system.layouts[0]?.cells[0]?.[0] as number;
    expect(auditSuppression(system, new Set([three]), [three]).get(three)).toEqual({ low: 3, high: 3 });
  });

  it('lets a * rise without limit when nothing published caps it', () => {
    const system = oneTable([[3, 40]]);
    const layout = system.layouts[0];
    const all = [...(layout?.cells.flat() ?? []), ...(layout?.columnTotals ?? []), layout?.grandTotal ?? -1];
    const suppressed = new Set([...all, ...(layout?.rowTotals ?? [])]);
    const three = layout?.cells[0]?.[0] as number;
    expect(auditSuppression(system, suppressed, [three]).get(three)).toEqual({ low: 1, high: Infinity });
  });
});

describe('planSuppression', () => {
  it('leaves a table with no small counts alone', () => {
    const system = oneTable([
      [30, 40],
      [25, 0],
    ]);
    expect(planSuppression(system, HES_2018).suppressed.size).toBe(0);
  });

  it('keeps the pairing when it already protects: [1, 20] is wider than 7', () => {
    const system = oneTable([
      [3, 40],
      [25, 30],
      [18, 22],
    ]);
    const plan = planSuppression(system, HES_2018);
    expect(names(system, plan.suppressed)).toEqual(['r1,c1', 'r1,c2', 'r3,c1', 'r3,c2']);
    // 3 can fall by 2 (to 1) and rise by 17 (until 18 in its column reaches 1)
    expect([...plan.intervals.values()]).toEqual([{ low: 1, high: 20 }]);
  });

  it('suppresses margins when the pairing leaves small counts too narrow (by hand)', () => {
    //        c1  c2 | total
    // r1      3   4 |   7    Every cell is 1–7 and so is r1's total. With only those suppressed,
    // r2      5   6 |  11    r1 = 18 − 11 = 7 exactly, and a = 3 lies in [1, 6] (c = 8 − a ≥ 1,
    // total   8  10 |  18    b = 7 − a ≥ 1): 5 wide, under 7. Hiding r2 frees r1 (r1 + r2 = 18,
    // so r1 ∈ [2, 16]); then a ∈ [1, 7] still (a + c = 8), so c1 must go, and with it c2 (c1 + c2 = 18).
    // Only the grand total is left: a ∈ [1, 15] (a + b + c + d = 18, each at least 1).
    const system = oneTable([
      [3, 4],
      [5, 6],
    ]);
    const plan = planSuppression(system, HES_2018);
    expect(names(system, plan.suppressed)).toEqual([
      'c1',
      'c2',
      'r1',
      'r1,c1',
      'r1,c2',
      'r2',
      'r2,c1',
      'r2,c2',
    ]);
    const cell = system.layouts[0]?.cells[0]?.[0] as number;
    const rowOne = system.layouts[0]?.rowTotals[0] as number;
    expect(plan.intervals.get(cell)).toEqual({ low: 1, high: 15 });
    expect(plan.intervals.get(rowOne)).toEqual({ low: 2, high: 16 });
  });

  it('takes a wider protection when asked, at the cost of more suppression', () => {
    const system = oneTable([
      [3, 40],
      [25, 30],
      [18, 22],
    ]);
    const plan = planSuppression(system, HES_2018, 30);
    const [interval] = [...plan.intervals.values()];
    expect((interval?.high ?? 0) - (interval?.low ?? 0)).toBeGreaterThanOrEqual(30);
    expect(plan.suppressed.size).toBeGreaterThan(4);
  });
});
