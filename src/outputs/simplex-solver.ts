/**
 * A small linear-programming solver for disclosure control: the bounded-variable primal
 * simplex method on a dense tableau, two phases, with Bland's rule.
 *
 * It solves   minimise c·x   subject to   A x = b,   0 ≤ x ≤ u   (u may be Infinity).
 *
 * - Upper bounds are handled by the upper-bounding technique (Chvátal, "Linear Programming",
 *   1983, ch. 8): a non-basic variable sits at 0 or at its bound, and a step that stops at
 *   the entering variable's own bound "flips" it without a pivot. The move that protects a
 *   suppressed cell needs a bound on every cell (a count cannot go below 1), and as rows
 *   those bounds would multiply the tableau's size many times over.
 * - Bland's rule (Bland, "New finite pivoting rules for the simplex method", 1977): the
 *   lowest-numbered improving variable enters, and the lowest-numbered of the tied blocking
 *   variables leaves. Tables of counts are very degenerate (many cells share a value), and
 *   Bland's rule cannot cycle where Dantzig's can.
 * - Phase 1 (artificial variables, minimise their sum) runs once per problem; each
 *   objective then starts from a copy of the feasible basis, because the audit asks for the
 *   minimum and maximum of every suppressed cell over the same constraints.
 *
 * Dense arithmetic in doubles is exact enough here: the coefficients are 1, −1 and 0 and
 * the right-hand sides are counts, so the tableau stays small integers for a table's sums.
 * Sized for tables up to a few thousand cells; not a general-purpose solver.
 */
import { KernelError } from '../errors.ts';

export interface LinearProgram {
  /** the rows of A: each constraint is `constraints[i] · x = rhs[i]` */
  constraints: readonly (readonly number[])[];
  rhs: readonly number[];
  /** each variable's upper bound (its lower bound is 0); Infinity where there is none */
  upper: readonly number[];
}

export type Optimum = { status: 'optimal'; value: number; x: Float64Array } | { status: 'unbounded' };

const TOLERANCE = 1e-9;
/** Bland's rule terminates; this only turns a bug into an error rather than a hung request. */
const MAX_PIVOTS = 200_000;

/** A linear program with a feasible basis found, ready to optimise any objective. */
export class FeasibleLinearProgram {
  private constructor(
    private readonly tableau: Tableau,
    private readonly variables: number,
  ) {}

  /** Runs phase 1; null if no x satisfies the constraints. */
  static find(program: LinearProgram): FeasibleLinearProgram | null {
    const tableau = Tableau.withArtificialBasis(program);
    const variables = program.upper.length;
    const phaseOne = new Float64Array(tableau.width);
    phaseOne.fill(1, variables);
    const result = tableau.optimise(phaseOne);
    const scale = 1 + program.rhs.reduce((most, b) => Math.max(most, Math.abs(b)), 0);
    if (result.status !== 'optimal' || result.value > TOLERANCE * scale) return null;
    // An artificial variable may stay basic at 0; a bound of 0 keeps it there in phase 2.
    tableau.fixAtZero(variables);
    return new FeasibleLinearProgram(tableau, variables);
  }

  /** The minimum of `objective · x` over the feasible set, or `unbounded`. */
  minimise(objective: readonly number[]): Optimum {
    if (objective.length !== this.variables) {
      throw new KernelError('internal', 'The objective has the wrong number of variables');
    }
    const costs = new Float64Array(this.tableau.width);
    costs.set(objective);
    const result = this.tableau.copy().optimise(costs);
    if (result.status === 'unbounded') return result;
    return { status: 'optimal', value: result.value, x: result.x.slice(0, this.variables) };
  }
}

/** The simplex tableau B⁻¹[A | I], the basic variables' values and each non-basic's bound. */
class Tableau {
  private constructor(
    private readonly rows: Float64Array[],
    private readonly basis: Int32Array,
    private readonly basicValue: Float64Array,
    private readonly upper: Float64Array,
    private readonly atUpper: Uint8Array,
    private readonly rowOfBasic: Int32Array,
  ) {}

  get width(): number {
    return this.upper.length;
  }

  static withArtificialBasis(program: LinearProgram): Tableau {
    const m = program.constraints.length;
    const n = program.upper.length;
    const width = n + m;
    const rows: Float64Array[] = [];
    const basicValue = new Float64Array(m);
    const basis = new Int32Array(m);
    const rowOfBasic = new Int32Array(width).fill(-1);
    program.constraints.forEach((constraint, i) => {
      if (constraint.length !== n) {
        throw new KernelError('internal', `Constraint ${i + 1} has the wrong number of variables`);
      }
      // Artificial variables start at |b|, so a row with a negative b is negated first.
      const sign = (program.rhs[i] ?? 0) < 0 ? -1 : 1;
      const row = new Float64Array(width);
      for (let j = 0; j < n; j++) row[j] = sign * (constraint[j] ?? 0);
      row[n + i] = 1;
      rows.push(row);
      basicValue[i] = sign * (program.rhs[i] ?? 0);
      basis[i] = n + i;
      rowOfBasic[n + i] = i;
    });
    const upper = new Float64Array(width).fill(Infinity);
    upper.set(program.upper);
    return new Tableau(rows, basis, basicValue, upper, new Uint8Array(width), rowOfBasic);
  }

  copy(): Tableau {
    return new Tableau(
      this.rows.map((row) => row.slice()),
      this.basis.slice(),
      this.basicValue.slice(),
      this.upper.slice(),
      this.atUpper.slice(),
      this.rowOfBasic.slice(),
    );
  }

  fixAtZero(from: number): void {
    for (let j = from; j < this.width; j++) {
      this.upper[j] = 0;
      this.atUpper[j] = 0;
    }
  }

  optimise(costs: Float64Array): Optimum {
    const reduced = this.reducedCosts(costs);
    for (let pivots = 0; pivots < MAX_PIVOTS; pivots++) {
      const entering = this.enteringVariable(reduced);
      if (entering < 0) return { status: 'optimal', ...this.solution(costs) };
      const step = this.ratioTest(entering);
      if (step.length === Infinity) return { status: 'unbounded' };
      this.move(entering, step, reduced);
    }
    throw new KernelError('internal', `The simplex method did not finish within ${MAX_PIVOTS} pivots`);
  }

  /** cⱼ − c_B·(B⁻¹A)ⱼ for every variable. */
  private reducedCosts(costs: Float64Array): Float64Array {
    const reduced = costs.slice();
    this.rows.forEach((row, i) => {
      const basicCost = costs[this.basis[i] as number] as number;
      if (basicCost === 0) return;
      for (let j = 0; j < row.length; j++)
        reduced[j] = (reduced[j] as number) - basicCost * (row[j] as number);
    });
    return reduced;
  }

  /** Bland: the lowest-numbered non-basic variable whose move lowers the objective. */
  private enteringVariable(reduced: Float64Array): number {
    for (let j = 0; j < this.width; j++) {
      if (this.rowOfBasic[j] !== -1) continue;
      const d = reduced[j] as number;
      const canRise = this.atUpper[j] === 0 && (this.upper[j] as number) > TOLERANCE && d < -TOLERANCE;
      const canFall = this.atUpper[j] === 1 && d > TOLERANCE;
      if (canRise || canFall) return j;
    }
    return -1;
  }

  /** How far the entering variable can move, and which bound stops it. */
  private ratioTest(entering: number): Step {
    const direction = this.atUpper[entering] === 1 ? -1 : 1;
    let best: Step = { length: this.upper[entering] as number, row: -1, leavesAtUpper: false, direction };
    let bestLeaving = Infinity;
    this.rows.forEach((row, i) => {
      const rate = direction * (row[entering] as number);
      const value = this.basicValue[i] as number;
      const basic = this.basis[i] as number;
      let length: number;
      let leavesAtUpper: boolean;
      if (rate > TOLERANCE) {
        length = Math.max(0, value) / rate;
        leavesAtUpper = false;
      } else if (rate < -TOLERANCE && Number.isFinite(this.upper[basic])) {
        length = Math.max(0, (this.upper[basic] as number) - value) / -rate;
        leavesAtUpper = true;
      } else {
        return;
      }
      // Strictly shorter wins; a tie goes to the lowest-numbered leaving variable (Bland).
      // A tie with the entering variable's own bound goes to the bound flip (no pivot).
      const shorter = length < best.length - TOLERANCE;
      const tied = Math.abs(length - best.length) <= TOLERANCE && best.row >= 0 && basic < bestLeaving;
      if (shorter || tied) {
        best = { length, row: i, leavesAtUpper, direction };
        bestLeaving = basic;
      }
    });
    return best;
  }

  private move(entering: number, step: Step, reduced: Float64Array): void {
    const { length, row: pivotRow, direction } = step;
    this.rows.forEach((row, i) => {
      const updated = (this.basicValue[i] as number) - direction * length * (row[entering] as number);
      this.basicValue[i] = Math.abs(updated) < TOLERANCE ? 0 : updated;
    });
    if (pivotRow < 0) {
      this.atUpper[entering] = this.atUpper[entering] === 1 ? 0 : 1;
      return;
    }
    const leaving = this.basis[pivotRow] as number;
    const enteringValue = this.atUpper[entering] === 1 ? (this.upper[entering] as number) - length : length;
    this.atUpper[leaving] = step.leavesAtUpper ? 1 : 0;
    this.atUpper[entering] = 0;
    this.rowOfBasic[leaving] = -1;
    this.rowOfBasic[entering] = pivotRow;
    this.basis[pivotRow] = entering;
    this.basicValue[pivotRow] = enteringValue;
    this.pivot(pivotRow, entering, reduced);
  }

  private pivot(pivotRow: number, entering: number, reduced: Float64Array): void {
    const source = this.rows[pivotRow] as Float64Array;
    const scale = source[entering] as number;
    for (let j = 0; j < source.length; j++) source[j] = (source[j] as number) / scale;
    const eliminate = (target: Float64Array): void => {
      const factor = target[entering] as number;
      if (factor === 0) return;
      for (let j = 0; j < target.length; j++) {
        const s = source[j] as number;
        if (s !== 0) target[j] = (target[j] as number) - factor * s;
      }
      target[entering] = 0;
    };
    this.rows.forEach((row, i) => {
      if (i !== pivotRow) eliminate(row);
    });
    eliminate(reduced);
  }

  private solution(costs: Float64Array): { value: number; x: Float64Array } {
    const x = new Float64Array(this.width);
    for (let j = 0; j < this.width; j++) {
      const row = this.rowOfBasic[j] as number;
      x[j] =
        row >= 0 ? (this.basicValue[row] as number) : this.atUpper[j] === 1 ? (this.upper[j] as number) : 0;
    }
    let value = 0;
    for (let j = 0; j < this.width; j++) if (costs[j] !== 0) value += (costs[j] as number) * (x[j] as number);
    return { value, x };
  }
}

interface Step {
  /** how far the entering variable moves; Infinity when nothing stops it */
  length: number;
  /** the row whose basic variable leaves, or −1 for a bound flip */
  row: number;
  leavesAtUpper: boolean;
  /** +1 when the entering variable rises from 0, −1 when it falls from its upper bound */
  direction: number;
}
