/**
 * The benches' options, read with node's `parseArgs`. An unknown option, or an option whose
 * value is missing (`--rounds` last, or `--optout-percent -3`, whose value begins with a
 * dash), is said in one line naming the bench's file, and the bench exits with code 2
 * (usage), where node would throw with its stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The line to print for an error `parseArgs` threw (`script` is the bench's file, where its
 * options are listed), or null when the error is not about the options.
 */
export function benchUsageError(script: string, error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return null;
  const said = (error as Error).message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
  return `${script}: ${said} (its options are listed at the top of ${script})`;
}

/** `parseArgs(config).values`, or the usage line and exit code 2 for options it cannot read. */
export function benchArgs<T extends ParseArgsConfig>(
  script: string,
  config: T,
): ReturnType<typeof parseArgs<T>>['values'] {
  try {
    return parseArgs(config).values;
  } catch (error) {
    const line = benchUsageError(script, error);
    if (line === null) throw error;
    process.stderr.write(`${line}\n`);
    process.exit(2);
  }
}
