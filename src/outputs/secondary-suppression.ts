/**
 * Cell suppression for a release of aggregate tables: which figures to show as `*`.
 *
 * 1. Primary: every figure the policy suppresses (1 to 7 under HES 2018), totals included.
 * 2. Pairing: a row, column or margin sum with exactly one `*` gives that figure away by
 *    subtraction, so each such line gets a complementary `*` on its smallest non-zero
 *    published figure, until no line has exactly one (the singleton rule every suppression
 *    heuristic starts from; e.g. τ-ARGUS's hypercube method, Repsilber 1994).
 * 3. Audit (`suppression-audit.ts`): pairing is not enough (a `*` can still be pinned through
 *    a chain of rows and columns, or through a linked table), so an LP finds each primary
 *    figure's feasible interval.
 * 4. Repair: for a primary figure whose interval is narrower than the protection width,
 *    find the cheapest way the whole release could change so that figure moves far enough
 *    while every sum still holds and every figure stays ≥ 1: a min-cost LP over all figures
 *    (Kelly, Golden and Assad, "Cell suppression: disclosure protection for sensitive
 *    tabular data", Networks 1992; Fischetti and Salazar-González 2000, the protection
 *    subproblem). Every figure that move touches is suppressed, and the move itself is then
 *    a table consistent with everything published, so the figure is protected.
 *    Suppressing more only widens every interval, so repairs never undo each other.
 * 5. Audit again; the loop ends when every primary figure is protected.
 *
 * The cost of moving a figure is its count, so the complements are the smallest counts that
 * do the job ("minimise the suppressed total"); 0 is never suppressed, as the policy shows it.
 */
import { controlCount, type DisclosurePolicy } from '../analytics/disclosure-control.ts';
import { KernelError } from '../errors.ts';
import type { TableSystem, TotalLine } from './linked-tables.ts';
import { FeasibleLinearProgram } from './simplex-solver.ts';
import { auditSuppression, intervalWidth, type FeasibleInterval } from './suppression-audit.ts';

export interface SuppressionPlan {
  /** entries the policy suppresses on their own count */
  primary: ReadonlySet<number>;
  /** every suppressed entry: primary and complementary */
  suppressed: ReadonlySet<number>;
  /** the attacker's interval for each primary entry, from the final audit */
  intervals: ReadonlyMap<number, FeasibleInterval>;
  /** the narrowest interval the plan allows an attacker */
  protectionWidth: number;
}

export function planSuppression(
  system: TableSystem,
  policy: DisclosurePolicy,
  protectionWidth: number = policy.threshold,
): SuppressionPlan {
  const primary = primarySuppression(system, policy);
  const suppressed = pairSingletons(system, primary);
  let intervals = auditSuppression(system, suppressed, primary);
  // Each round protects every figure that failed the last audit; a second round is only a
  // check, so more than two means a bug, not a hard table.
  for (let round = 0; ; round++) {
    const failing = [...intervals].filter(([, interval]) => intervalWidth(interval) < protectionWidth);
    if (failing.length === 0) return { primary, suppressed, intervals, protectionWidth };
    if (round >= 2) {
      throw new KernelError('internal', `Secondary suppression left ${failing.length} figures unprotected`);
    }
    for (const [entry] of failing) protectEntry(system, suppressed, entry, protectionWidth);
    intervals = auditSuppression(system, suppressed, primary);
  }
}

/** Entries whose own count the policy suppresses (1 to the threshold). */
export function primarySuppression(system: TableSystem, policy: DisclosurePolicy): Set<number> {
  const primary = new Set<number>();
  system.entries.forEach((entry, e) => {
    if (controlCount(entry.count, policy) === '*') primary.add(e);
  });
  return primary;
}

/**
 * `suppressed` plus complements until no line has exactly one suppressed figure. The
 * complement is the line's smallest non-zero published figure; between equal counts, the
 * one that leaves fewest other lines with a lone `*`, so complements close rectangles
 * rather than start new chains.
 */
export function pairSingletons(system: TableSystem, suppressed: ReadonlySet<number>): Set<number> {
  const result = new Set(suppressed);
  const linesOf = linesByEntry(system);
  const hidden = (line: TotalLine) => membersOf(line).filter((e) => result.has(e)).length;
  for (let changed = true; changed;) {
    changed = false;
    for (const line of system.lines) {
      if (hidden(line) !== 1) continue;
      const candidates = membersOf(line).filter((e) => !result.has(e) && countOf(system, e) > 0);
      const lonelyLines = (e: number) =>
        (linesOf[e] ?? []).filter((other) => other !== line && hidden(other) === 0).length;
      const cost = (e: number): [number, number, number] => [countOf(system, e), lonelyLines(e), e];
      const complement = candidates.sort((a, b) => compareTuples(cost(a), cost(b)))[0];
      // A suppressed figure is ≥ 1, so its line always holds another non-zero figure.
      if (complement === undefined) throw new KernelError('internal', 'A line has one * and nothing to pair');
      result.add(complement);
      changed = true;
    }
  }
  return result;
}

/**
 * Suppresses what one primary entry needs so its interval is at least `width` wide: the
 * cheaper of moving it up (to low + width) or down (to high − width, if that stays ≥ 1).
 */
function protectEntry(system: TableSystem, suppressed: Set<number>, entry: number, width: number): void {
  const current = auditSuppression(system, suppressed, [entry]).get(entry) as FeasibleInterval;
  if (intervalWidth(current) >= width) return; // an earlier repair already covered it
  const count = countOf(system, entry);
  const moves = [cheapestMove(system, suppressed, entry, current.low + width - count)];
  if (current.high - width >= 1) {
    moves.push(cheapestMove(system, suppressed, entry, current.high - width - count));
  }
  const best = moves.filter((move): move is Move => move !== null).sort((a, b) => a.cost - b.cost)[0];
  // Raising a figure with its margins up to the grand total is always possible.
  if (!best) throw new KernelError('internal', `No move protects ${system.entries[entry]?.label}`);
  for (const moved of best.entries) suppressed.add(moved);
}

interface Move {
  cost: number;
  entries: number[];
}

/**
 * The cheapest change to the true figures that shifts `entry` by `shift`, keeps every line's
 * sum, keeps every figure ≥ 1 and every 0 at 0. Variables: each other non-zero figure may
 * rise or fall (by at most count − 1). Moving a published figure costs its count per unit;
 * moving one already suppressed costs nothing. Null when no such change exists.
 */
function cheapestMove(
  system: TableSystem,
  suppressed: ReadonlySet<number>,
  entry: number,
  shift: number,
): Move | null {
  const movable = system.entries.flatMap((e, index) => (index !== entry && e.count > 0 ? [index] : []));
  const variableOf = new Map(movable.map((e, k) => [e, k]));
  const constraints: number[][] = [];
  const rhs: number[] = [];
  for (const line of system.lines) {
    const row = new Array<number>(2 * movable.length).fill(0);
    let fixed = 0;
    signedMembers(line).forEach(([e, sign]) => {
      if (e === entry) fixed += sign * shift;
      const k = variableOf.get(e);
      if (k === undefined) return;
      row[2 * k] = (row[2 * k] ?? 0) + sign;
      row[2 * k + 1] = (row[2 * k + 1] ?? 0) - sign;
    });
    constraints.push(row);
    rhs.push(-fixed);
  }
  const upper = movable.flatMap((e) => [Infinity, countOf(system, e) - 1]);
  const feasible = FeasibleLinearProgram.find({ constraints, rhs, upper });
  if (!feasible) return null;
  const costs = movable.flatMap((e) => {
    const cost = suppressed.has(e) ? 0 : countOf(system, e);
    return [cost, cost];
  });
  const optimum = feasible.minimise(costs);
  if (optimum.status !== 'optimal') return null;
  const entries = movable.filter(
    (e, k) => !suppressed.has(e) && (optimum.x[2 * k] as number) + (optimum.x[2 * k + 1] as number) > 1e-9,
  );
  return { cost: optimum.value, entries };
}

function membersOf(line: TotalLine): number[] {
  return [line.total, ...line.parts];
}

/** The line as `total − Σ parts = 0`. */
function signedMembers(line: TotalLine): [number, number][] {
  return [[line.total, 1], ...line.parts.map((part): [number, number] => [part, -1])];
}

function linesByEntry(system: TableSystem): TotalLine[][] {
  const linesOf: TotalLine[][] = system.entries.map(() => []);
  for (const line of system.lines) for (const e of membersOf(line)) linesOf[e]?.push(line);
  return linesOf;
}

function countOf(system: TableSystem, entry: number): number {
  return system.entries[entry]?.count ?? 0;
}

function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
