/** The benches' options (bench/bench-args.ts): what node cannot read is one line and exit code 2, not a stack trace. */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { expect, it } from 'vitest';
import { benchUsageError } from '../../bench/bench-args.ts';

const thrownBy = (args: string[]): unknown => {
  try {
    parseArgs({ args, options: { rounds: { type: 'string' } } });
  } catch (error) {
    return error;
  }
  throw new Error(`parseArgs read ${args.join(' ')}`);
};

it('says what node could not read, naming the bench, in one line', () => {
  expect(benchUsageError('bench/kid/run.ts', thrownBy(['--round', '3']))).toBe(
    "bench/kid/run.ts: Unknown option '--round' (its options are listed at the top of bench/kid/run.ts)",
  );
  expect(benchUsageError('bench/kid/run.ts', thrownBy(['--rounds']))).toContain(
    "'--rounds <value>' argument missing",
  );
  const dashed = benchUsageError('bench/kid/run.ts', thrownBy(['--rounds', '-3']));
  expect(dashed).toContain("use '--rounds=-XYZ'");
  expect(dashed).not.toContain('\n');
  // Anything else is not the options' fault, and is not turned into a usage line.
  expect(benchUsageError('bench/kid/run.ts', new Error('disk full'))).toBeNull();
});

it('ends a bench given an unknown option with exit code 2 and no stack trace', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/spc/run.ts', '--chart', '10'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status).toBe(2);
  expect(run.stderr.trim()).toBe(
    "bench/spc/run.ts: Unknown option '--chart' (its options are listed at the top of bench/spc/run.ts)",
  );
  expect(run.stdout).toBe('');
}, 60_000);
