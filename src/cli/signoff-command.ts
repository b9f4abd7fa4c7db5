/**
 * `kernel signoff`: sign-off from the command line (docs/signoff.md). Thin: each command calls
 * the domain in src/signoff/ as the operator, who holds the store itself.
 */
import type { Command } from 'commander';
import { KernelError } from '../errors.ts';
import { formatTable, printJson, writeOut, type CliContext, type RegisterCommands } from './cli-context.ts';

const signoff = () => import('../signoff/sign-off.ts');
const packs = () => import('../signoff/sign-off-pack.ts');

function callerOf(context: CliContext) {
  return { actor: context.actor, role: 'operator', org: null };
}

function registerDecision(
  group: Command,
  context: CliContext,
  name: 'sign-off' | 'reject' | 'publish',
  description: string,
): void {
  group
    .command(name === 'sign-off' ? 'approve' : name)
    .description(description)
    .argument('<org>', 'the sending organisation (ODS code)')
    .argument('<dataset>', 'dataset id, e.g. apc')
    .argument('<period>', 'reporting month YYYY-MM')
    .option(
      '--note <text>',
      name === 'reject' ? 'why (required: the sender reads it)' : 'a note kept with the decision',
    )
    .option('--json', 'print JSON')
    .action(async (org: string, dataset: string, period: string, opts: { note?: string; json?: boolean }) => {
      const { decide } = await signoff();
      const month = await context.withStore((store) =>
        decide(store, callerOf(context), {
          org: org.toUpperCase(),
          dataset,
          period,
          decision: name,
          ...(opts.note ? { note: opts.note } : {}),
        }),
      );
      if (opts.json) return printJson(context.io, month);
      context.io.out(
        `${month.dataset} from ${month.org} for ${month.period} (load ${month.loadId}) is now ${month.state}.`,
      );
    });
}

export const registerSignoffCommands: RegisterCommands = (program, context) => {
  const group = program.command('signoff').description('sign-off of each organisation × dataset × month');

  group
    .command('list', { isDefault: true })
    .description('months and where each stands in sign-off, newest first')
    .option('--org <ods>', 'one organisation')
    .option('--dataset <id>', 'one dataset')
    .option('--state <state>', 'loaded, checked, signed-off, published or rejected')
    .option('--json', 'print JSON')
    .action(async (opts: { org?: string; dataset?: string; state?: string; json?: boolean }) => {
      const { listSignOffs, SIGNOFF_STATES } = await signoff();
      if (opts.state && !(SIGNOFF_STATES as readonly string[]).includes(opts.state)) {
        throw new KernelError('usage', `"${opts.state}" is not a sign-off state`, {
          where: { field: 'state' },
          hint: `Use one of ${SIGNOFF_STATES.join(', ')}`,
        });
      }
      const months = await context.withStore((store) =>
        listSignOffs(store, callerOf(context), {
          ...(opts.org ? { org: opts.org.toUpperCase() } : {}),
          ...(opts.dataset ? { dataset: opts.dataset } : {}),
          ...(opts.state ? { state: opts.state as (typeof SIGNOFF_STATES)[number] } : {}),
        }),
      );
      if (opts.json) return printJson(context.io, months);
      if (months.length === 0) return context.io.out('Nothing matches.');
      context.io.out(
        formatTable(
          ['month', 'org', 'dataset', 'state', 'load', 'changed', 'by'],
          months.map((m) => [m.period, m.org, m.dataset, m.state, m.loadId, m.changedAt, m.changedBy]),
        ),
      );
    });

  group
    .command('show')
    .description('a month’s sign-off pack: its checks (failing first), volume and completeness')
    .argument('<org>', 'the sending organisation (ODS code)')
    .argument('<dataset>', 'dataset id, e.g. apc')
    .argument('<period>', 'reporting month YYYY-MM')
    .option('--json', 'print JSON')
    .option('--pdf <file>', 'also write the pack as a PDF (no rows in it)')
    .action(async (org: string, dataset: string, period: string, opts: { json?: boolean; pdf?: string }) => {
      const { signOffPack } = await packs();
      const pack = await context.withStore((store) =>
        signOffPack(store, callerOf(context), org.toUpperCase(), dataset, period),
      );
      if (opts.pdf) {
        const { packPdf } = await import('../signoff/pack-pdf.ts');
        writeOut(opts.pdf, await packPdf(pack));
      }
      if (opts.json) return printJson(context.io, pack);
      const c = pack.catalogue.counts;
      context.io.out(
        `${pack.month.dataset} from ${pack.month.org} for ${pack.month.period}: ${pack.month.state} (load ${pack.month.loadId})`,
      );
      context.io.out(
        `The check catalogue: ${pack.catalogue.results.length} checks, ${c.fail} failing, ${c.warn} to look at, ${c.pass} passing, ${c['not-applicable']} not applicable.`,
      );
      context.io.out(
        formatTable(
          ['result', 'check', 'found'],
          pack.checks.map((c) => [c.status, c.title, c.detail]),
        ),
      );
    });

  registerDecision(group, context, 'sign-off', 'sign a month off: its data are right');
  registerDecision(group, context, 'reject', 'reject a month, with the reasons the sender reads (--note)');
  registerDecision(group, context, 'publish', 'publish a signed-off month');

  group
    .command('publish-backlog')
    .description(
      'publish every month loaded before a month that has no decision yet: the history a member brings',
    )
    .requiredOption('--before <YYYY-MM>', 'publish months before this one')
    .requiredOption('--note <text>', 'why they are published without their own sign-off')
    .option('--org <ods>', 'one organisation only')
    .option('--json', 'print JSON')
    .action(async (opts: { before: string; note: string; org?: string; json?: boolean }) => {
      const { publishBacklog } = await import('../signoff/sign-off.ts');
      const { parsePeriod } = await import('../governance/governance-values.ts');
      const before = parsePeriod(opts.before, 'before');
      const published = await context.withStore((store) =>
        publishBacklog(store, callerOf(context), {
          before,
          note: opts.note,
          ...(opts.org ? { org: opts.org.toUpperCase() } : {}),
        }),
      );
      if (opts.json) return printJson(context.io, { published });
      context.io.out(`${published} month${published === 1 ? '' : 's'} published from the backlog.`);
    });
};
