import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FeasibleLinearProgram, type LinearProgram } from './simplex-solver.ts';

function solve(program: LinearProgram, objective: number[]) {
  const feasible = FeasibleLinearProgram.find(program);
  if (!feasible) return 'infeasible' as const;
  return feasible.minimise(objective);
}

describe('FeasibleLinearProgram', () => {
  it('solves a textbook problem (max 3x + 5y, x ≤ 4, 2y ≤ 12, 3x + 2y ≤ 18: optimum 36 at (2, 6))', () => {
    // slacks s1, s2, s3 turn the inequalities into equations
    const program: LinearProgram = {
      constraints: [
        [1, 0, 1, 0, 0],
        [0, 2, 0, 1, 0],
        [3, 2, 0, 0, 1],
      ],
      rhs: [4, 12, 18],
      upper: [Infinity, Infinity, Infinity, Infinity, Infinity],
    };
    const result = solve(program, [-3, -5, 0, 0, 0]);
    expect(result).toMatchObject({ status: 'optimal' });
    if (result === 'infeasible' || result.status !== 'optimal') return;
    expect(result.value).toBeCloseTo(-36);
    expect(result.x[0]).toBeCloseTo(2);
    expect(result.x[1]).toBeCloseTo(6);
  });

  it('uses upper bounds without rows for them (x + y = 10, x ≤ 3: y is at least 7)', () => {
    const program: LinearProgram = { constraints: [[1, 1]], rhs: [10], upper: [3, Infinity] };
    const feasible = FeasibleLinearProgram.find(program);
    expect(feasible?.minimise([0, 1])).toMatchObject({ status: 'optimal', value: 7 });
    expect(feasible?.minimise([0, -1])).toMatchObject({ status: 'optimal', value: -10 });
    expect(feasible?.minimise([-1, 0])).toMatchObject({ status: 'optimal', value: -3 });
  });

  it('reports an unbounded objective and an infeasible system', () => {
    const free: LinearProgram = { constraints: [[1, -1]], rhs: [2], upper: [Infinity, Infinity] };
    expect(solve(free, [-1, 0])).toEqual({ status: 'unbounded' });
    const contradiction: LinearProgram = {
      constraints: [
        [1, 1],
        [1, 1],
      ],
      rhs: [2, 3],
      upper: [Infinity, Infinity],
    };
    expect(solve(contradiction, [0, 0])).toBe('infeasible');
    expect(solve({ constraints: [[1]], rhs: [5], upper: [4] }, [0])).toBe('infeasible');
  });

  it('finishes on redundant and negative-right-hand-side rows', () => {
    const program: LinearProgram = {
      constraints: [
        [1, 1, 0],
        [-1, -1, 0],
        [0, 1, 1],
      ],
      rhs: [4, -4, 6],
      upper: [Infinity, Infinity, Infinity],
    };
    expect(solve(program, [0, 1, 0])).toMatchObject({ status: 'optimal', value: 0 });
    expect(solve(program, [0, -1, 0])).toMatchObject({ status: 'optimal', value: -4 });
  });

  it("does not cycle on Beale's degenerate example (optimum −1/20)", () => {
    // Beale (1955): min −3/4 x4 + 150 x5 − 1/50 x6 + 6 x7, three rows with slacks x1..x3,
    // the classic problem on which Dantzig's rule cycles.
    const program: LinearProgram = {
      constraints: [
        [1, 0, 0, 0.25, -60, -0.04, 9],
        [0, 1, 0, 0.5, -90, -0.02, 3],
        [0, 0, 1, 0, 0, 1, 0],
      ],
      rhs: [0, 0, 1],
      upper: Array(7).fill(Infinity),
    };
    const result = solve(program, [0, 0, 0, -0.75, 150, -0.02, 6]);
    expect(result).toMatchObject({ status: 'optimal' });
    if (result === 'infeasible' || result.status !== 'optimal') return;
    expect(result.value).toBeCloseTo(-0.05);
  });

  it('agrees with brute force on the bounds of one variable in random small systems', () => {
    // x ∈ {0..4}³ with two equations: the LP bound of x0 lies within [0, 4] and is attained
    // by some point, and no integer point beats it.
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -1, max: 1 }), { minLength: 3, maxLength: 3 }), {
          minLength: 1,
          maxLength: 2,
        }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }),
        (rows, point) => {
          const rhs = rows.map((row) => row.reduce((sum, a, j) => sum + a * (point[j] ?? 0), 0));
          const feasible = FeasibleLinearProgram.find({ constraints: rows, rhs, upper: [4, 4, 4] });
          if (!feasible) return false;
          const low = feasible.minimise([1, 0, 0]);
          const high = feasible.minimise([-1, 0, 0]);
          if (low.status !== 'optimal' || high.status !== 'optimal') return false;
          let integerLow = Infinity;
          let integerHigh = -Infinity;
          for (let a = 0; a <= 4; a++)
            for (let b = 0; b <= 4; b++)
              for (let c = 0; c <= 4; c++) {
                const fits = rows.every((row, i) => row[0]! * a + row[1]! * b + row[2]! * c === rhs[i]);
                if (fits) [integerLow, integerHigh] = [Math.min(integerLow, a), Math.max(integerHigh, a)];
              }
          return low.value <= integerLow + 1e-9 && -high.value >= integerHigh - 1e-9;
        },
      ),
    );
  });
});
