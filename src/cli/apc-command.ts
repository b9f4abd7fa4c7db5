/**
 * `kernel apc spells`: APC episodes as spells, with Charlson and the HFRS, read under a use
 * case through the governed reader (src/hospital/apc-spells.ts; docs/hospital.md).
 */
import { readAccessOf } from '../governance/access-policy.ts';
import { readApcSpells } from '../hospital/apc-spells.ts';
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

export const registerApcCommands: RegisterCommands = (program, context) => {
  const apc = program.command('apc').description('admitted patient care: spells and comorbidity indices');
  apc
    .command('spells')
    .description(
      'provider and continuous inpatient spells, length of stay, Charlson and HFRS, under a use case',
    )
    .requiredOption('--usecase <id>', 'the use case the read is for')
    .option('--json', 'print the summary as JSON')
    .action(async (options: { usecase: string; json?: boolean }) => {
      const { summary } = await context.withPrincipal((store, principal, actor) =>
        readApcSpells(store, readAccessOf(principal, options.usecase, actor)),
      );
      if (options.json) return printJson(context.io, summary);
      context.io.out(
        `${summary.episodes} episodes make ${summary.providerSpells} provider spells (${summary.openSpells} still open) and ${summary.continuousSpells} continuous inpatient spells (${summary.transfers} with a transfer); mean length of stay ${summary.meanLengthOfStay ?? '-'} days.`,
      );
      context.io.out(
        formatTable(
          ['Charlson', 'spells'],
          Object.entries(summary.charlson).map(([band, n]) => [band, String(n)]),
        ),
      );
      context.io.out(
        formatTable(
          ['HFRS', 'spells'],
          Object.entries(summary.hfrs).map(([band, n]) => [band, String(n)]),
        ),
      );
    });
};
