/**
 * The audit: how closely an attacker can pin down each suppressed figure from what a
 * release publishes, by linear programming (the standard audit of a suppression pattern;
 * Fischetti and Salazar-González, "Models and algorithms for optimizing cell suppression in
 * tabular data with linear constraints", JASA 2000, §2).
 *
 * The attacker is given more than a release shows, so the audit errs on the safe side:
 * - every published figure exactly, as if it were not rounded: protection must not lean on
 *   rounding, which differencing between overlapping outputs can undo;
 * - that every suppressed figure is at least 1, because 0 is always published as 0;
 * - every line (row, column, margin and linked-table sums).
 * For each suppressed entry the feasible interval is [min, max] of that entry over all
 * tables consistent with those facts. LP bounds are rounded inwards to whole numbers (counts
 * are whole); for a single two-way table the constraint matrix is totally unimodular, so
 * these are exactly the bounds an integer attacker gets. For linked tables an attacker
 * solving the integer problem could, rarely, do a little better than the LP bound.
 */
import { KernelError } from '../errors.ts';
import type { TableSystem } from './linked-tables.ts';
import { FeasibleLinearProgram } from './simplex-solver.ts';

/** What the attacker can learn of one suppressed entry: low ≤ count ≤ high. */
export interface FeasibleInterval {
  low: number;
  /** Infinity when nothing published caps it */
  high: number;
}

/** The attacker's interval for each of `targets` (suppressed entries) under `suppressed`. */
export function auditSuppression(
  system: TableSystem,
  suppressed: ReadonlySet<number>,
  targets: Iterable<number>,
): Map<number, FeasibleInterval> {
  const variables = [...suppressed];
  const variableOf = new Map(variables.map((entry, v) => [entry, v]));
  const program = attackerProgram(system, variableOf);
  const feasible = FeasibleLinearProgram.find(program);
  if (!feasible) {
    throw new KernelError('internal', 'The published figures of a release are inconsistent with its counts');
  }
  const intervals = new Map<number, FeasibleInterval>();
  for (const target of targets) {
    const v = variableOf.get(target);
    if (v === undefined) throw new KernelError('internal', `Entry ${target} is audited but not suppressed`);
    const objective = new Array<number>(variables.length).fill(0);
    objective[v] = 1;
    const lowest = feasible.minimise(objective);
    objective[v] = -1;
    const highest = feasible.minimise(objective);
    if (lowest.status !== 'optimal') throw new KernelError('internal', 'A count is unbounded below');
    intervals.set(target, {
      // the variable is the count less 1 (the attacker knows it is at least 1)
      low: 1 + Math.ceil(lowest.value - 1e-6),
      high: highest.status === 'unbounded' ? Infinity : 1 + Math.floor(-highest.value + 1e-6),
    });
  }
  return intervals;
}

/** The width an attacker leaves a figure: how many values beyond one it could still be. */
export function intervalWidth(interval: FeasibleInterval): number {
  return interval.high - interval.low;
}

/**
 * Each line `total − Σ parts = 0` over the suppressed entries, written in y = count − 1 ≥ 0,
 * with every published entry moved to the right-hand side at its true value.
 */
function attackerProgram(system: TableSystem, variableOf: ReadonlyMap<number, number>) {
  const constraints: number[][] = [];
  const rhs: number[] = [];
  for (const line of system.lines) {
    const row = new Array<number>(variableOf.size).fill(0);
    let constant = 0;
    let unknowns = 0;
    const take = (entry: number, sign: number) => {
      const v = variableOf.get(entry);
      if (v === undefined) {
        constant += sign * (system.entries[entry]?.count ?? 0);
        return;
      }
      row[v] = (row[v] ?? 0) + sign;
      constant += sign; // the 1 taken out of count − 1
      unknowns++;
    };
    take(line.total, 1);
    for (const part of line.parts) take(part, -1);
    if (unknowns === 0) continue;
    constraints.push(row);
    rhs.push(-constant);
  }
  return { constraints, rhs, upper: new Array<number>(variableOf.size).fill(Infinity) };
}
