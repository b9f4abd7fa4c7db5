import { Option } from 'commander';
import { KernelError } from '../errors.ts';
import type { WorldSummary } from '../synth/generate-world.ts';
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

function wholeNumber(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw.replace(/_/g, ''))) {
    throw new KernelError('usage', `${flag} "${raw}" is not a whole number`, {
      where: { field: flag },
      hint: `Give ${flag} as digits, e.g. ${flag} 20000`,
    });
  }
  return Number(raw.replace(/_/g, ''));
}

function printSummary(summary: WorldSummary, print: (text: string) => void): void {
  print(
    `Synthetic Kent and Medway world written to ${summary.out}: ${summary.peopleWithBirths.toLocaleString('en-GB')} people (${summary.people.toLocaleString('en-GB')} at the start, the rest born in the window), ${summary.from} to ${summary.to}, seed ${summary.seed}, in ${summary.seconds}s`,
  );
  print(
    formatTable(
      ['dataset', 'rows'],
      Object.entries(summary.rowsByDataset).map(([dataset, rows]) => [dataset, rows]),
    ),
  );
  print(formatTable(['defect', 'count'], Object.entries(summary.defectsByKind)));
  print(
    `${summary.files} files, ${summary.rows.toLocaleString('en-GB')} rows; truth in ${summary.out}/truth, reference data in ${summary.out}/reference`,
  );
}

/** `kernel synth`: writes the synthetic world's feeds, truth and reference data. */
export const registerSynthCommands: RegisterCommands = (program, context) => {
  program
    .command('synth')
    .description(
      "write the synthetic Kent and Medway world: every organisation's identifiable feeds, the truth and the reference data",
    )
    .requiredOption('--out <dir>', 'folder to write (must be new or empty unless --force)')
    .option('--people <n>', 'people alive at the start', '20000')
    .option('--seed <s>', 'random seed: the same arguments give byte-identical output', '1')
    .option('--from <YYYY-MM>', 'first month', '2019-04')
    .option('--to <YYYY-MM>', 'last month', '2021-07')
    .option('--force', 'write into a folder that is not empty')
    .option('--check', 'afterwards, re-count every defect in the files and compare with truth')
    .addOption(new Option('--json', 'print the summary as JSON'))
    .action(
      async (flags: {
        out: string;
        people: string;
        seed: string;
        from: string;
        to: string;
        force?: boolean;
        check?: boolean;
        json?: boolean;
      }) => {
        // Imported here, not above: the generator reads its reference data as it loads,
        // which every other command would pay for at start-up.
        const { generateWorld } = await import('../synth/generate-world.ts');
        const { auditWorld } = await import('../synth/truth-audit.ts');
        const summary = generateWorld({
          out: flags.out,
          people: wholeNumber('--people', flags.people),
          seed: wholeNumber('--seed', flags.seed),
          from: flags.from,
          to: flags.to,
          force: Boolean(flags.force),
          onMonth:
            context.io.isTTY && !flags.json
              ? (month, rows) => context.io.err(`  ${month}: ${rows.toLocaleString('en-GB')} rows`)
              : undefined,
        });
        const check = flags.check ? auditWorld(flags.out) : undefined;
        if (flags.json) {
          printJson(
            context.io,
            check
              ? {
                  ...summary,
                  check: {
                    rows: check.rows,
                    defectsFound: check.found.length,
                    defectsRecorded: check.recorded.length,
                    unexplained: check.unexplained.length,
                    missed: check.missed.length,
                  },
                }
              : summary,
          );
        } else {
          printSummary(summary, (text) => context.io.out(text));
          if (check)
            context.io.out(
              `Check: ${check.found.length} anomalies found in ${check.rows.toLocaleString('en-GB')} rows; truth records ${check.recorded.length}; unexplained ${check.unexplained.length}, missed ${check.missed.length}`,
            );
        }
        if (check && (check.unexplained.length > 0 || check.missed.length > 0)) {
          throw new KernelError('internal', 'The files and truth/defects.csv disagree', {
            hint: 'This is a bug in the generator; report it with the arguments used',
          });
        }
      },
    );
};
