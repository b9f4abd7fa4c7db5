/**
 * `kernel plan`, `kernel raid`, `kernel report`: the programme office's plan, RAID log and
 * monthly update. Most commands are generated from the operations in
 * src/reporting/programme-operations.ts; the ones here write a file (the chart, the update
 * as HTML or PDF) or put two operations together (show a milestone, after changing it).
 */
import type { Command } from 'commander';
import {
  changeMilestoneOperation,
  changeRaidOperation,
  milestoneLines,
  milestoneOperation,
  monthlyUpdateOperation,
  planOperation,
  PROGRAMME_OPERATIONS,
  updateLines,
} from '../reporting/programme-operations.ts';
import { printJson, writeOut, type CliContext, type RegisterCommands } from './cli-context.ts';
import { registerOperationCommands } from './operation-commands.ts';

// Loaded when a document is written, not when any command starts (PDFKit and Nunjucks).
const documents = () => import('../reporting/update-documents.ts');

function registerPlan(group: Command, context: CliContext): void {
  const { io } = context;
  group
    .command('milestone <id>')
    .description('show a milestone with its history, or change it')
    .option('--title <title>', 'title')
    .option('--due <YYYY-MM>', 'a new due month')
    .option('--state <state>', 'planned, done or slipped')
    .option('--on <YYYY-MM-DD>', 'the day it was done (with --state done; today by default)')
    .option('--evidence <text>', 'what shows it is done')
    .option('--href <link>', 'a portal path or https address of the evidence')
    .option('--tie <fact>', 'the Kernel fact that completes it')
    .option('--untie', 'remove its tie')
    .option('--note <text>', 'why, for its history')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: Record<string, string | boolean | undefined>) => {
      const { json, untie, ...change } = opts;
      if (untie || Object.values(change).some((v) => v !== undefined)) {
        const tie = untie && change.tie === undefined ? { tie: null } : {};
        await context.run(changeMilestoneOperation, { id, ...change, ...tie });
      }
      const result = await context.run(milestoneOperation, { id });
      if (json) return printJson(io, result);
      io.out(milestoneLines(result));
    });

  group
    .command('chart')
    .description('the plan as an SVG chart (workstreams by month, milestones marked M)')
    .option('--month <YYYY-MM>', 'the month drawn as now (default this month)')
    .requiredOption('--svg <file>', 'where to write it')
    .action(async (opts: { month?: string; svg: string }) => {
      const view = await context.run(planOperation, { month: opts.month });
      writeOut(opts.svg, `<?xml version="1.0" encoding="UTF-8"?>\n${view.svg}\n`);
      io.out(`Wrote the plan as at ${view.asAt} to ${opts.svg}`);
    });
}

function registerRaid(group: Command, context: CliContext): void {
  for (const [name, state] of [
    ['close', 'closed'],
    ['reopen', 'open'],
  ] as const) {
    group
      .command(`${name} <id>`)
      .description(name === 'close' ? 'close an item' : 'reopen a closed item')
      .option('--on <YYYY-MM-DD>', 'the day it closed (default today)')
      .option('--note <text>', 'why, for its history')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { on?: string; note?: string; json?: boolean }) => {
        const item = await context.run(changeRaidOperation, { id, state, on: opts.on, note: opts.note });
        if (opts.json) return printJson(context.io, item);
        context.io.out(`${item.id} is ${item.state}${item.closedOn ? ` (closed ${item.closedOn})` : ''}.`);
      });
  }
}

function registerReport(group: Command, context: CliContext): void {
  const { io } = context;
  group
    .command('monthly')
    .description('the update for a month: drafted from Kernel’s records, or as issued')
    .requiredOption('--month <YYYY-MM>', 'the month it reports')
    .option('--html <file>', 'write it as a printable HTML document')
    .option('--pdf <file>', 'write it as an A4 PDF')
    .option(
      '--base-url <url>',
      'the portal’s address, for the evidence links (default http://127.0.0.1:PORT)',
    )
    .option('--json', 'print JSON')
    .action(
      async (opts: { month: string; html?: string; pdf?: string; baseUrl?: string; json?: boolean }) => {
        const update = await context.run(monthlyUpdateOperation, { month: opts.month });
        const baseUrl = opts.baseUrl ?? `http://127.0.0.1:${context.config().config.port}`;
        if (opts.html || opts.pdf) {
          const { monthlyUpdateHtml, monthlyUpdatePdf } = await documents();
          if (opts.html) writeOut(opts.html, monthlyUpdateHtml(update, { baseUrl }));
          if (opts.pdf) writeOut(opts.pdf, await monthlyUpdatePdf(update, { baseUrl }));
        }
        if (opts.json) return printJson(io, update);
        if (opts.html || opts.pdf) {
          io.out(
            `Wrote the ${update.state} update for ${update.monthName}: ${[opts.html, opts.pdf].filter(Boolean).join(', ')}`,
          );
          return;
        }
        io.out(updateLines(update));
      },
    );
}

export const registerProgrammeCommands: RegisterCommands = (program, context) => {
  // The groups first, with their descriptions; the generated commands join them.
  const plan = program.command('plan').description('the programme plan: workstreams and milestones');
  const raid = program.command('raid').description('the RAID log: risks, issues, assumptions, dependencies');
  const report = program.command('report').description('the monthly programme update');
  registerOperationCommands(program, context, PROGRAMME_OPERATIONS);
  registerPlan(plan, context);
  registerRaid(raid, context);
  registerReport(report, context);
};
