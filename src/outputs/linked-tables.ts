/**
 * The figures a release publishes, and the sums that tie them together: what an attacker
 * can use to recover a suppressed count.
 *
 * Every figure is an entry: an interior cell, a margin (the total for one key of one
 * dimension) or a grand total. Every sum is a line: `total = parts`. A table gives one line
 * per row, one per column, and one per dimension (its margins add up to the grand total).
 *
 * Tables in one release are linked when they share a dimension by name: practice × sex and
 * practice × age band publish the same practice totals, so those totals are one entry with
 * lines in both tables, and an attacker can carry what one table tells into the other.
 * Linked tables must therefore count the same people: their shared totals must agree, and
 * they share one grand total. Tables with no dimension in common are independent.
 */
import { KernelError } from '../errors.ts';
import { columnTotals, rowTotals, type AggregateTable } from './aggregate-table.ts';

export type EntryPlace =
  | { kind: 'cell'; table: string; row: string; column: string }
  | { kind: 'margin'; dimension: string; key: string }
  | { kind: 'grand-total'; tables: string[] };

export interface TableEntry {
  /** the true count */
  count: number;
  place: EntryPlace;
  /** how a person names it, e.g. "by-sex: practice A81001, sex F" */
  label: string;
}

/** `entries[total]` = Σ `entries[parts]` */
export interface TotalLine {
  total: number;
  parts: number[];
}

/** Where each of a table's figures is among the entries. */
export interface TableLayout {
  cells: number[][];
  rowTotals: number[];
  columnTotals: number[];
  grandTotal: number;
}

export interface TableSystem {
  tables: AggregateTable[];
  layouts: TableLayout[];
  entries: TableEntry[];
  lines: TotalLine[];
}

export function linkTables(tables: readonly AggregateTable[]): TableSystem {
  checkNames(tables);
  const margins = sharedMargins(tables);
  const entries: TableEntry[] = [];
  const add = (entry: TableEntry): number => entries.push(entry) - 1;

  const marginEntries = new Map<string, Map<string, number>>();
  for (const [dimension, totals] of margins) {
    const byKey = new Map<string, number>();
    for (const [key, count] of totals) byKey.set(key, add(marginTotal(dimension, key, count)));
    marginEntries.set(dimension, byKey);
  }
  const grandEntry = new Map<number, number>();
  for (const group of linkedGroups(tables)) {
    const members = group.map((t) => (tables[t] as AggregateTable).name);
    const count = (tables[group[0] as number] as AggregateTable).counts.flat().reduce((a, b) => a + b, 0);
    const entry = add({
      count,
      place: { kind: 'grand-total', tables: members },
      label: `grand total (${members.join(', ')})`,
    });
    for (const t of group) grandEntry.set(t, entry);
  }

  const layouts = tables.map((table, t): TableLayout => {
    const margin = (dimension: string, key: string) => marginEntries.get(dimension)?.get(key) as number;
    return {
      cells: table.counts.map((counts, r) => counts.map((count, c) => add(interiorCell(table, r, c, count)))),
      rowTotals: table.rowKeys.map((key) => margin(table.rowDimension, key)),
      columnTotals: table.columnKeys.map((key) => margin(table.columnDimension, key)),
      grandTotal: grandEntry.get(t) as number,
    };
  });
  return { tables: [...tables], layouts, entries, lines: totalLines(tables, layouts, marginEntries) };
}

function totalLines(
  tables: readonly AggregateTable[],
  layouts: readonly TableLayout[],
  marginEntries: ReadonlyMap<string, ReadonlyMap<string, number>>,
): TotalLine[] {
  const lines: TotalLine[] = [];
  // A dimension's margins add up to the grand total once, however many tables share it.
  const dimensionsDone = new Set<string>();
  tables.forEach((table, t) => {
    const layout = layouts[t] as TableLayout;
    layout.cells.forEach((row, r) => lines.push({ total: layout.rowTotals[r] as number, parts: row }));
    layout.columnTotals.forEach((total, c) =>
      lines.push({ total, parts: layout.cells.map((row) => row[c] as number) }),
    );
    for (const dimension of [table.rowDimension, table.columnDimension]) {
      if (dimensionsDone.has(dimension)) continue;
      dimensionsDone.add(dimension);
      lines.push({ total: layout.grandTotal, parts: [...(marginEntries.get(dimension)?.values() ?? [])] });
    }
  });
  return lines;
}

/**
 * Each dimension's totals by key, checked to agree between the tables that share it. A key
 * one table lacks counts 0 there, so the other tables must count 0 for it too.
 */
function sharedMargins(tables: readonly AggregateTable[]): Map<string, Map<string, number>> {
  const margins = new Map<string, Map<string, number>>();
  const firstTable = new Map<string, AggregateTable>();
  const totalsOf = (table: AggregateTable, dimension: string): Map<string, number> =>
    dimension === table.rowDimension
      ? zip(table.rowKeys, rowTotals(table))
      : zip(table.columnKeys, columnTotals(table));
  for (const table of tables) {
    for (const dimension of [table.rowDimension, table.columnDimension]) {
      const totals = totalsOf(table, dimension);
      const known = margins.get(dimension);
      const earlier = firstTable.get(dimension);
      if (!known || !earlier) {
        margins.set(dimension, totals);
        firstTable.set(dimension, table);
        continue;
      }
      for (const key of new Set([...known.keys(), ...totals.keys()])) {
        const before = known.get(key) ?? 0;
        const now = totals.get(key) ?? 0;
        if (before !== now) throw disagreement(earlier, table, dimension, key, before, now);
        known.set(key, now);
      }
    }
  }
  return margins;
}

/** Groups of linked tables (sharing a dimension, directly or through another table). */
function linkedGroups(tables: readonly AggregateTable[]): number[][] {
  const parent = tables.map((_, t) => t);
  const root = (t: number): number => (parent[t] === t ? t : (parent[t] = root(parent[t] as number)));
  const holder = new Map<string, number>();
  tables.forEach((table, t) => {
    for (const dimension of [table.rowDimension, table.columnDimension]) {
      const other = holder.get(dimension);
      if (other === undefined) holder.set(dimension, t);
      else parent[root(t)] = root(other);
    }
  });
  const groups = new Map<number, number[]>();
  tables.forEach((_, t) => groups.set(root(t), [...(groups.get(root(t)) ?? []), t]));
  return [...groups.values()];
}

function checkNames(tables: readonly AggregateTable[]): void {
  if (tables.length === 0) {
    throw new KernelError('usage', 'A release needs at least one table');
  }
  const names = new Set<string>();
  for (const table of tables) {
    if (names.has(table.name)) {
      throw new KernelError('usage', `Two tables in the release are called "${table.name}"`, {
        where: { field: 'name' },
        hint: 'Give each table its own name',
      });
    }
    names.add(table.name);
    if (table.rowDimension === table.columnDimension) {
      throw new KernelError('usage', `Table "${table.name}" has ${table.rowDimension} as rows and columns`, {
        where: { field: 'columns' },
        hint: 'A table crosses two different dimensions',
      });
    }
  }
}

function disagreement(
  first: AggregateTable,
  second: AggregateTable,
  dimension: string,
  key: string,
  before: number,
  now: number,
): KernelError {
  return new KernelError(
    'invalid-input',
    `Tables "${first.name}" and "${second.name}" both have ${dimension} but give ${dimension} ${key} different totals (${before} and ${now})`,
    {
      where: { field: dimension },
      hint: 'Tables that share a dimension must count the same people; release tables that count different things as separate outputs, or rename the dimension in one of them',
    },
  );
}

function marginTotal(dimension: string, key: string, count: number): TableEntry {
  return { count, place: { kind: 'margin', dimension, key }, label: `total for ${dimension} ${key}` };
}

function interiorCell(table: AggregateTable, r: number, c: number, count: number): TableEntry {
  const row = table.rowKeys[r] as string;
  const column = table.columnKeys[c] as string;
  return {
    count,
    place: { kind: 'cell', table: table.name, row, column },
    label: `${table.name}: ${table.rowDimension} ${row}, ${table.columnDimension} ${column}`,
  };
}

function zip(keys: readonly string[], totals: readonly number[]): Map<string, number> {
  return new Map(keys.map((key, i) => [key, totals[i] ?? 0]));
}
