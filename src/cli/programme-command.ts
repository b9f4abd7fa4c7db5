/**
 * `kernel plan`, `kernel raid`, `kernel report`: the programme office's plan, RAID log and
 * monthly update. Thin commands over src/reporting/: each parses flags, calls one domain
 * function as the CLI operator, and prints a table or, with --json, JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { MonthlyUpdate } from '../reporting/monthly-update.ts';
import type { Milestone } from '../reporting/programme-plan.ts';
import { CLI_OPERATOR, type HistoryEntry, type ProgrammeCaller } from '../reporting/programme-values.ts';
import type { RaidItem } from '../reporting/raid-log.ts';
import { formatTable, printJson, type CliContext, type RegisterCommands } from './cli-context.ts';

// Loaded when a command here runs, not when any command starts (PDFKit and Nunjucks).
const plan = () => import('../reporting/programme-plan.ts');
const views = () => import('../reporting/programme-views.ts');
const raid = () => import('../reporting/raid-log.ts');
const updates = () => import('../reporting/monthly-update.ts');
const documents = () => import('../reporting/update-documents.ts');

function writeOut(file: string, content: string | Buffer): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, content);
}

const callerOf = (context: CliContext): ProgrammeCaller => ({ actor: context.actor, role: CLI_OPERATOR });

function printHistory(context: CliContext, history: HistoryEntry[]): void {
  context.io.out(
    formatTable(
      ['when', 'who', 'what', 'changes', 'note'],
      history.map((h) => [
        h.at.slice(0, 16).replace('T', ' '),
        h.actor,
        h.action,
        JSON.stringify(h.changes),
        h.note,
      ]),
    ),
  );
}

function milestoneRow(m: Milestone): (string | null)[] {
  return [m.id, m.due, m.state, m.doneOn, m.title, m.tie, m.evidence];
}

function registerPlan(program: Command, context: CliContext): void {
  const { io } = context;
  const group = program.command('plan').description('the programme plan: workstreams and milestones');

  group
    .command('list', { isDefault: true })
    .description('the plan, brought up to date with Kernel’s records')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { planView } = await views();
      const view = await context.withStore((store) => planView(store, callerOf(context)));
      if (opts.json) return printJson(io, { ...view, svg: undefined });
      if (view.workstreams.length === 0) {
        io.out(
          'The plan is empty. Add a workstream: kernel plan add-workstream --title T --owner QKS --from 2021-01 --to 2021-10',
        );
        return;
      }
      for (const w of view.workstreams) {
        io.out(
          `${w.id}  ${w.title} — ${w.owner}${w.ownerKind === 'supplier' ? ' (supplier)' : ''}, ${w.from} to ${w.to}`,
        );
        if (w.milestones.length) {
          io.out(
            formatTable(
              ['  milestone', 'due', 'state', 'done', 'title', 'tie', 'evidence'],
              w.milestones.map(milestoneRow),
            ),
          );
        }
      }
    });

  group
    .command('add-workstream')
    .description('add a workstream')
    .requiredOption('--title <title>', 'e.g. "Maternity dashboard"')
    .requiredOption('--owner <owner>', 'an organisation code (QKS), or with --supplier a supplier’s name')
    .option('--supplier', 'the owner is a supplier, not a member organisation')
    .requiredOption('--from <YYYY-MM>', 'first month')
    .requiredOption('--to <YYYY-MM>', 'last month')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        title: string;
        owner: string;
        supplier?: boolean;
        from: string;
        to: string;
        json?: boolean;
      }) => {
        const { addWorkstream } = await plan();
        const ws = await context.withStore((store) =>
          addWorkstream(store, { ...opts, supplier: opts.supplier ?? false }, callerOf(context)),
        );
        if (opts.json) return printJson(io, ws);
        io.out(`Added workstream ${ws.id}: ${ws.title}, ${ws.from} to ${ws.to}.`);
      },
    );

  group
    .command('set-workstream <id>')
    .description('change a workstream')
    .option('--title <title>', 'title')
    .option('--owner <owner>', 'owner')
    .option('--supplier', 'the owner is a supplier')
    .option('--from <YYYY-MM>', 'first month')
    .option('--to <YYYY-MM>', 'last month')
    .option('--json', 'print JSON')
    .action(
      async (
        id: string,
        opts: {
          title?: string;
          owner?: string;
          supplier?: boolean;
          from?: string;
          to?: string;
          json?: boolean;
        },
      ) => {
        const { updateWorkstream } = await plan();
        const { json, ...change } = opts;
        const ws = await context.withStore((store) => updateWorkstream(store, id, change, callerOf(context)));
        if (json) return printJson(io, ws);
        io.out(`Workstream ${ws.id}: ${ws.title}, ${ws.owner}, ${ws.from} to ${ws.to}.`);
      },
    );

  group
    .command('add-milestone')
    .description('add a milestone to a workstream')
    .requiredOption('--workstream <id>', 'e.g. WS-01')
    .requiredOption('--title <title>', 'e.g. "SUS loads completed for MTW"')
    .requiredOption('--due <YYYY-MM>', 'the month it is due')
    .option(
      '--tie <fact>',
      'the Kernel fact that completes it: loads:RWF:apc+op+ecds[:YYYY-MM], subscription:RWF:2021/22, agreement:RWF[:apc], usecase:UC-001, onboarded:RWF',
    )
    .option('--json', 'print JSON')
    .action(
      async (opts: { workstream: string; title: string; due: string; tie?: string; json?: boolean }) => {
        const { addMilestone } = await plan();
        const m = await context.withStore((store) =>
          addMilestone(
            store,
            { workstream: opts.workstream, title: opts.title, due: opts.due, tie: opts.tie ?? null },
            callerOf(context),
          ),
        );
        if (opts.json) return printJson(io, m);
        io.out(
          `Added milestone ${m.id}: ${m.title}, due ${m.due}${m.tieText ? `; done when ${m.tieText}` : ''}.`,
        );
      },
    );

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
    .action(
      async (
        id: string,
        opts: {
          title?: string;
          due?: string;
          state?: string;
          on?: string;
          evidence?: string;
          href?: string;
          tie?: string;
          untie?: boolean;
          note?: string;
          json?: boolean;
        },
      ) => {
        const { changeMilestone, parseMilestoneState } = await plan();
        const { milestoneView } = await views();
        const changing = ['title', 'due', 'state', 'on', 'evidence', 'href', 'tie', 'untie', 'note'].some(
          (k) => opts[k as keyof typeof opts] !== undefined,
        );
        const result = await context.withStore(async (store) => {
          if (changing) {
            await changeMilestone(
              store,
              id,
              {
                ...(opts.title !== undefined ? { title: opts.title } : {}),
                ...(opts.due !== undefined ? { due: opts.due } : {}),
                ...(opts.state !== undefined ? { state: parseMilestoneState(opts.state) } : {}),
                ...(opts.on !== undefined ? { doneOn: opts.on } : {}),
                ...(opts.evidence !== undefined ? { evidence: opts.evidence } : {}),
                ...(opts.href !== undefined ? { evidenceHref: opts.href } : {}),
                ...(opts.tie !== undefined ? { tie: opts.tie } : opts.untie ? { tie: null } : {}),
                ...(opts.note !== undefined ? { note: opts.note } : {}),
              },
              callerOf(context),
            );
          }
          return milestoneView(store, id, callerOf(context));
        });
        if (opts.json) return printJson(io, result);
        const m = result.milestone;
        io.out(`${m.id} ${m.title}: due ${m.due}, ${m.state}${m.doneOn ? ` on ${m.doneOn}` : ''}`);
        if (m.tieText) io.out(`Done when ${m.tieText} (${m.tie ?? ''})`);
        if (m.evidence) io.out(`Evidence: ${m.evidence}${m.evidenceHref ? ` (${m.evidenceHref})` : ''}`);
        printHistory(context, result.history);
      },
    );

  group
    .command('chart')
    .description('the plan as an SVG chart (workstreams by month, milestones marked M)')
    .option('--month <YYYY-MM>', 'the month drawn as now (default this month)')
    .requiredOption('--svg <file>', 'where to write it')
    .action(async (opts: { month?: string; svg: string }) => {
      const { planView } = await views();
      const view = await context.withStore((store) =>
        planView(store, callerOf(context), opts.month ? { month: opts.month } : {}),
      );
      writeOut(opts.svg, `<?xml version="1.0" encoding="UTF-8"?>\n${view.svg}\n`);
      io.out(`Wrote the plan as at ${view.asAt} to ${opts.svg}`);
    });

  group
    .command('refresh')
    .description('check tied milestones and automatic RAID issues against Kernel’s records now')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { refreshNow } = await views();
      const result = await context.withStore((store) => refreshNow(store, callerOf(context)));
      if (opts.json) return printJson(io, result);
      const said = [
        ['milestones done', result.milestonesDone],
        ['milestones slipped', result.milestonesSlipped],
        ['RAID items opened', result.raidOpened],
        ['reopened', result.raidReopened],
        ['updated', result.raidUpdated],
        ['closed', result.raidClosed],
      ].filter(([, ids]) => (ids as string[]).length > 0);
      io.out(
        said.length
          ? said.map(([what, ids]) => `${what}: ${(ids as string[]).join(', ')}`).join('\n')
          : 'The plan and RAID log already match Kernel’s records.',
      );
    });
}

function raidRows(items: RaidItem[]): (string | number | null)[][] {
  return items.map((i) => [
    i.id,
    i.kind,
    i.state,
    i.score ?? i.impact,
    i.owner,
    i.raisedOn,
    i.closedOn,
    `${i.title}${i.autoKey ? ' (Kernel)' : ''}`,
  ]);
}

interface RaidFlags {
  title?: string;
  description?: string;
  owner?: string;
  likelihood?: string;
  impact?: string;
  mitigation?: string;
  review?: string;
  href?: string;
  note?: string;
  on?: string;
  json?: boolean;
}

function raidChange(opts: RaidFlags) {
  return {
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
    ...(opts.likelihood !== undefined ? { likelihood: opts.likelihood } : {}),
    ...(opts.impact !== undefined ? { impact: opts.impact } : {}),
    ...(opts.mitigation !== undefined ? { mitigation: opts.mitigation } : {}),
    ...(opts.review !== undefined ? { reviewOn: opts.review } : {}),
    ...(opts.href !== undefined ? { evidenceHref: opts.href } : {}),
    ...(opts.note !== undefined ? { note: opts.note } : {}),
  };
}

function withRaidFields(command: Command): Command {
  return command
    .option('--title <title>', 'one line')
    .option('--description <text>', 'more detail')
    .option('--owner <owner>', 'who owns it: an organisation code or a name')
    .option('--likelihood <1-5>', 'risks: 1 rare … 5 almost certain')
    .option('--impact <1-5>', 'risks and issues: 1 negligible … 5 severe')
    .option('--mitigation <text>', 'a risk’s mitigation, or an issue’s action')
    .option('--review <YYYY-MM-DD>', 'when to review it')
    .option('--href <link>', 'a portal path or https address of the evidence')
    .option('--json', 'print JSON');
}

function registerRaid(program: Command, context: CliContext): void {
  const { io } = context;
  const group = program.command('raid').description('the RAID log: risks, issues, assumptions, dependencies');

  group
    .command('list', { isDefault: true })
    .description('the log, brought up to date with Kernel’s records')
    .option('--kind <kind>', 'risk, issue, assumption or dependency')
    .option('--state <state>', 'open or closed')
    .option('--json', 'print JSON')
    .action(async (opts: { kind?: string; state?: string; json?: boolean }) => {
      const { parseRaidKind, parseRaidState } = await raid();
      const { raidLogView } = await views();
      const items = await context.withStore((store) =>
        raidLogView(store, callerOf(context), {
          ...(opts.kind ? { kind: parseRaidKind(opts.kind) } : {}),
          ...(opts.state ? { state: parseRaidState(opts.state) } : {}),
        }),
      );
      if (opts.json) return printJson(io, items);
      io.out(
        formatTable(['id', 'kind', 'state', 'score', 'owner', 'raised', 'closed', 'title'], raidRows(items)),
      );
    });

  withRaidFields(
    group
      .command('add')
      .description('raise a risk, issue, assumption or dependency')
      .requiredOption('--kind <kind>', 'risk, issue, assumption or dependency')
      .option('--raised <YYYY-MM-DD>', 'the day it was raised (default today)'),
  ).action(async (opts: RaidFlags & { kind: string; raised?: string }) => {
    const { raiseRaidItem } = await raid();
    const item = await context.withStore((store) =>
      raiseRaidItem(
        store,
        {
          kind: opts.kind,
          title: opts.title ?? '',
          owner: opts.owner ?? '',
          ...raidChange(opts),
          ...(opts.raised ? { raisedOn: opts.raised } : {}),
        },
        callerOf(context),
      ),
    );
    if (opts.json) return printJson(io, item);
    io.out(`Raised ${item.id}: ${item.title}${item.score !== null ? ` (score ${item.score})` : ''}.`);
  });

  withRaidFields(
    group.command('set <id>').description('change an item').option('--note <text>', 'why, for its history'),
  ).action(async (id: string, opts: RaidFlags) => {
    const { changeRaidItem } = await raid();
    const item = await context.withStore((store) =>
      changeRaidItem(store, id, raidChange(opts), callerOf(context)),
    );
    if (opts.json) return printJson(io, item);
    io.out(`${item.id} updated.`);
  });

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
      .action(async (id: string, opts: RaidFlags) => {
        const { changeRaidItem } = await raid();
        const item = await context.withStore((store) =>
          changeRaidItem(
            store,
            id,
            { state, ...(opts.on ? { closedOn: opts.on } : {}), ...(opts.note ? { note: opts.note } : {}) },
            callerOf(context),
          ),
        );
        if (opts.json) return printJson(io, item);
        io.out(`${item.id} is ${item.state}${item.closedOn ? ` (closed ${item.closedOn})` : ''}.`);
      });
  }

  group
    .command('show <id>')
    .description('one item with its history')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { raidItemView } = await views();
      const result = await context.withStore((store) => raidItemView(store, id, callerOf(context)));
      if (opts.json) return printJson(io, result);
      const i = result.item;
      io.out(
        formatTable(
          ['field', 'value'],
          [
            ['id', `${i.id} (${i.kind}, ${i.state})`],
            ['title', i.title],
            ['description', i.description],
            ['owner', i.owner],
            [
              'likelihood × impact',
              i.kind === 'risk' ? `${i.likelihood ?? ''} × ${i.impact ?? ''} = ${i.score ?? ''}` : i.impact,
            ],
            ['mitigation', i.mitigation],
            ['review', i.reviewOn],
            ['raised', i.raisedOn],
            ['closed', i.closedOn],
            ['evidence', i.evidenceHref],
            ['raised by Kernel', i.autoKey],
          ],
        ),
      );
      printHistory(context, result.history);
    });

  group
    .command('rules')
    .description(
      'the rules Kernel raises issues by; --sign-off-weeks N changes how long a first load may wait',
    )
    .option('--sign-off-weeks <n>', 'weeks a first load may wait for sign-off before it is an issue')
    .option('--json', 'print JSON')
    .action(async (opts: { signOffWeeks?: string; json?: boolean }) => {
      const { readRuleOptions, setSignOffWeeks } = await import('../reporting/raid-rules.ts');
      const rules = await context.withStore((store) =>
        opts.signOffWeeks === undefined
          ? readRuleOptions(store)
          : setSignOffWeeks(store, opts.signOffWeeks, callerOf(context)),
      );
      if (opts.json) return printJson(io, rules);
      io.out(
        [
          'Kernel raises an issue when:',
          '- a member’s regular feed has no completed load for the two latest months due;',
          `- a member’s first load waits for sign-off more than ${rules.signOffWeeks} weeks;`,
          '- a financial year has begun with subscriptions still unconfirmed.',
        ].join('\n'),
      );
    });
}

function printUpdate(context: CliContext, update: MonthlyUpdate): void {
  const { io } = context;
  io.out(
    `${update.title}: ${update.monthName} (${update.state}${update.issuedAt ? ` ${update.issuedAt.slice(0, 10)}` : ''})`,
  );
  if (update.summary) io.out(update.summary);
  const section = (title: string, lines: { text: string; href: string | null }[]): void => {
    io.out(`\n${title}`);
    if (lines.length === 0) io.out('  (none)');
    for (const l of lines) io.out(`  - ${l.text}${l.href ? `  [${l.href}]` : ''}`);
  };
  io.out('\n1. Completed activities and milestones achieved');
  if (update.completed.length === 0) io.out('  (none)');
  for (const g of update.completed) section(`  ${g.heading}`, g.lines);
  section('2. Key issues', update.keyIssues);
  section('3. Outstanding activities', update.outstanding);
  section('   Scheduled events', update.events);
  section('4. Key risks', update.keyRisks);
}

function registerReport(program: Command, context: CliContext): void {
  const { io } = context;
  const group = program.command('report').description('the monthly programme update');

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
        const { monthlyUpdate } = await updates();
        const update = await context.withStore((store) =>
          monthlyUpdate(store, opts.month, callerOf(context)),
        );
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
        printUpdate(context, update);
      },
    );

  group
    .command('entry')
    .description('add the team’s own line to a draft update')
    .requiredOption('--month <YYYY-MM>', 'the month')
    .requiredOption('--section <section>', 'completed, issues, outstanding, events or risks')
    .requiredOption('--text <text>', 'the line')
    .option('--href <link>', 'a portal path or https address')
    .option('--json', 'print JSON')
    .action(async (opts: { month: string; section: string; text: string; href?: string; json?: boolean }) => {
      const { addUpdateEntry } = await updates();
      const entry = await context.withStore((store) => addUpdateEntry(store, opts, callerOf(context)));
      if (opts.json) return printJson(io, entry);
      io.out(`Added ${entry.id} to ${entry.section} for ${entry.month}.`);
    });

  group
    .command('remove-entry <id>')
    .description('remove one of the team’s lines from a draft update')
    .action(async (id: string) => {
      const { removeUpdateEntry } = await updates();
      const entry = await context.withStore((store) => removeUpdateEntry(store, id, callerOf(context)));
      io.out(`Removed ${entry.id} from ${entry.month}.`);
    });

  group
    .command('summary')
    .description('set the opening summary of a draft update')
    .requiredOption('--month <YYYY-MM>', 'the month')
    .requiredOption('--text <text>', 'the summary (empty to remove)')
    .action(async (opts: { month: string; text: string }) => {
      const { setUpdateSummary } = await updates();
      await context.withStore((store) =>
        setUpdateSummary(store, { month: opts.month, summary: opts.text }, callerOf(context)),
      );
      io.out(`Summary set for ${opts.month}.`);
    });

  group
    .command('issue')
    .description('issue the update for a month that has ended: it is kept as issued and never changes')
    .requiredOption('--month <YYYY-MM>', 'the month')
    .option('--json', 'print JSON')
    .action(async (opts: { month: string; json?: boolean }) => {
      const { issueMonthlyUpdate } = await updates();
      const update = await context.withStore((store) =>
        issueMonthlyUpdate(store, opts.month, callerOf(context)),
      );
      if (opts.json) return printJson(io, update);
      io.out(`Issued the update for ${update.monthName} (SHA-256 ${update.issuedSha256 ?? ''}).`);
    });

  group
    .command('list')
    .description('updates begun or issued')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listMonthlyUpdates } = await updates();
      const list = await context.withStore((store) => listMonthlyUpdates(store, callerOf(context)));
      if (opts.json) return printJson(io, list);
      io.out(
        formatTable(
          ['month', 'state', 'issued', 'by'],
          list.map((u) => [u.month, u.state, u.issuedAt?.slice(0, 10), u.issuedBy]),
        ),
      );
    });
}

export const registerProgrammeCommands: RegisterCommands = (program, context) => {
  registerPlan(program, context);
  registerRaid(program, context);
  registerReport(program, context);
};
