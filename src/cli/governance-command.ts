/**
 * `kernel orgs`, `kernel subscriptions`, `kernel invoices`, `kernel agreements`,
 * `kernel usecases`, `kernel optouts`: thin commands over src/governance/. Each parses
 * flags, calls one domain function, and prints a table or, with --json, JSON.
 */
import { Option, type Command } from 'commander';
import path from 'node:path';
import readline from 'node:readline';
import { KernelError } from '../errors.ts';
import { formatPounds, parseFinancialYear, parsePounds } from '../governance/governance-values.ts';
import { INVOICE_STATES, type InvoiceState } from '../governance/invoices.ts';
import { completeStep, onboardingStatus } from '../governance/onboarding.ts';
import { loadOptOutFile } from '../governance/optouts.ts';
import { updateOrganisation, type Contact } from '../governance/organisations.ts';
import {
  controllerReadsOperation,
  GOVERNANCE_OPERATIONS,
  onboardingLines,
  setAgreementStateOperation,
} from '../governance/governance-operations.ts';
import {
  FUNDING_OPERATIONS,
  listInvoicesOperation,
  setFundingOperation,
  showFundingOperation,
  showInvoiceOperation,
} from '../governance/funding-operations.ts';
import { readsCsv } from '../governance/transparency.ts';
import { commandFor, registerOperationCommands } from './operation-commands.ts';
import {
  formatTable,
  printJson,
  printTable,
  writeOut,
  type CliContext,
  type RegisterCommands,
} from './cli-context.ts';

/** Invoices and letters (Nunjucks, PDFKit), loaded only by the commands that print them. */
const documents = () => import('../governance/invoice-documents.ts');

/** Repeatable, comma-separated list options: `--dataset apc,op --dataset ecds`. */
const list = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

function wholeNumber(raw: string, field: string): number {
  const value = Number(raw.replace(/[,_]/g, ''));
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KernelError('usage', `--${field} must be a whole number, 0 or more`, { where: { field } });
  }
  return value;
}

function parseJsonFlag(raw: string, field: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new KernelError('usage', `--${field} is not valid JSON`, {
      where: { field },
      hint: `e.g. --${field} '{"kind":"population"}'`,
    });
  }
}

function registerOrgs(program: Command, context: CliContext): void {
  const { io } = context;
  const orgs = commandFor(program, ['orgs']).description('the organisation register and onboarding');

  orgs
    .command('set <code>')
    .description("change an organisation's details")
    .option('--name <name>', 'name')
    .option('--population <n>', 'population')
    .option('--income <pounds>', 'annual income')
    .option('--verified', 'the code is confirmed in ODS')
    .option(
      '--contact <role=name<email>>',
      'a contact, e.g. "chief-executive=Jo Bloggs <jo@example.org>" (repeatable; replaces the contact with that role, keeping the others)',
      list,
    )
    .option('--json', 'print JSON')
    .action(
      async (
        code: string,
        opts: {
          name?: string;
          population?: string;
          income?: string;
          verified?: boolean;
          contact?: string[];
          json?: boolean;
        },
      ) => {
        const contacts = opts.contact?.map((raw): Contact => {
          const match = /^([a-z-]+)=(.+?)\s*<([^>]+)>$/.exec(raw.trim());
          if (!match) {
            throw new KernelError('usage', `"${raw}" is not a contact`, {
              where: { field: 'contact' },
              hint: 'Write role=Name <email>',
            });
          }
          return { role: match[1] as string, name: match[2] as string, email: match[3] as string };
        });
        const org = await context.withStore((store) =>
          updateOrganisation(
            store,
            code,
            {
              ...(opts.name ? { name: opts.name } : {}),
              ...(opts.population !== undefined
                ? { population: wholeNumber(opts.population, 'population') }
                : {}),
              ...(opts.income !== undefined ? { incomePence: parsePounds(opts.income, 'income') } : {}),
              ...(opts.verified ? { codeVerified: true } : {}),
              ...(contacts ? { contacts } : {}),
            },
            context.actor,
          ),
        );
        if (opts.json) return printJson(io, org);
        io.out(`Updated ${org.name} (${org.code}).`);
      },
    );

  orgs
    .command('onboard <code>')
    .description('walk through the onboarding checklist for an organisation')
    .option('--step <step>', 'mark this step done without asking')
    .option('--note <text>', 'a note to record with the step')
    .option('--json', 'print the checklist as JSON and change nothing (unless --step)')
    .action(async (code: string, opts: { step?: string; note?: string; json?: boolean }) => {
      await context.withStore(async (store) => {
        if (opts.step) {
          const status = await completeStep(store, code, opts.step, context.actor, opts.note);
          if (opts.json) return printJson(io, status);
          return io.out(onboardingLines(status));
        }
        let status = await onboardingStatus(store, code);
        if (opts.json) return printJson(io, status);
        io.out(onboardingLines(status));
        const lines = readline.createInterface({ input: context.io.stdin, terminal: false });
        const answers = lines[Symbol.asyncIterator]();
        try {
          while (status.next) {
            io.out(`\nNext: ${status.next.title}. ${status.next.help}`);
            io.out(`Mark "${status.next.title}" done now? [y/N]`);
            const answer = await answers.next();
            if (answer.done || !/^y(es)?$/i.test(String(answer.value).trim())) {
              io.out(`Stopped. ${status.done} of ${status.total} steps done; run this again to carry on.`);
              return;
            }
            status = await completeStep(store, code, status.next.id, context.actor, opts.note);
            io.out(`Done: ${status.steps[status.done - 1]?.title ?? ''}.`);
          }
          io.out(`Onboarding of ${status.name} is complete.`);
        } finally {
          lines.close();
        }
      });
    });

  orgs
    .command('reads <code>')
    .description("who read this organisation's data, when, under which use case")
    .option('--from <date>', 'first day, YYYY-MM-DD')
    .option('--to <date>', 'last day, YYYY-MM-DD')
    .option('--usecase <id>', 'one use case')
    .option('--csv <file>', 'write the list as CSV')
    .option('--json', 'print JSON')
    .action(
      async (
        code: string,
        opts: { from?: string; to?: string; usecase?: string; csv?: string; json?: boolean },
      ) => {
        // Through the operation: an IG lead with their token gets their own organisation's only.
        const { reads: rows } = await context.run(controllerReadsOperation, {
          org: code,
          ...(opts.from ? { from: opts.from } : {}),
          ...(opts.to ? { to: opts.to } : {}),
          ...(opts.usecase ? { useCase: opts.usecase } : {}),
          limit: 100_000,
        });
        if (opts.csv) {
          writeOut(opts.csv, readsCsv(rows));
          io.out(`Wrote ${rows.length} reads to ${opts.csv}`);
          return;
        }
        printTable(io, opts.json, ['when', 'who', 'role', 'use case', 'purpose', 'dataset'], rows, (r) => [
          r.at,
          r.user,
          r.role,
          r.useCaseId,
          r.purpose,
          r.datasetId,
        ]);
      },
    );
}

function registerSubscriptions(program: Command, context: CliContext): void {
  const { io } = context;
  const subs = commandFor(program, ['subscriptions']).description(
    'subscriptions, the funding model and subscription letters',
  );

  subs
    .command('funding')
    .description("show or set the year's funding model: cost, rule and other funding")
    .requiredOption('--year <year>', 'financial year')
    .option('--cost <pounds>', "the programme's cost for the year")
    .option(
      '--rule <json>',
      'the rule: {"kind":"population"}, {"kind":"income"} or {"kind":"tiers","tiers":{"large":4,"small":1}}',
    )
    .option(
      '--add-source <name=pounds>',
      'other funding that reduces members\u2019 shares, e.g. "One-off allocation=250000"',
    )
    .option('--json', 'print JSON')
    .action(
      async (opts: { year: string; cost?: string; rule?: string; addSource?: string; json?: boolean }) => {
        const source = opts.addSource === undefined ? undefined : /^(.+)=([^=]+)$/.exec(opts.addSource);
        if (source === null)
          throw new KernelError('usage', '--add-source must be NAME=POUNDS', {
            where: { field: 'add-source' },
          });
        const changes = {
          ...(opts.cost !== undefined ? { cost: opts.cost } : {}),
          ...(opts.rule !== undefined ? { rule: parseJsonFlag(opts.rule, 'rule') } : {}),
          ...(source ? { source: { name: source[1], amount: source[2] } } : {}),
        };
        const { model } =
          Object.keys(changes).length > 0
            ? await context.run(setFundingOperation, { year: opts.year, ...changes })
            : await context.run(showFundingOperation, { year: opts.year });
        if (opts.json) return printJson(io, model);
        io.out(
          `Funding model ${model.year}: cost ${formatPounds(model.costPence)}, ${model.ruleDescription}`,
        );
        for (const s of model.sources) io.out(`  other funding: ${s.name} ${formatPounds(s.amountPence)}`);
      },
    );

  subs
    .command('letters')
    .description('subscription letters to chief executives, one HTML file each')
    .requiredOption('--year <year>', 'financial year')
    .requiredOption('--out <dir>', 'folder to write the letters to')
    .option('--org <code>', 'one organisation')
    .option('--json', 'print JSON')
    .action(async (opts: { year: string; out: string; org?: string; json?: boolean }) => {
      const { subscriptionLetters } = await documents();
      const letters = await context.withStore((store) =>
        subscriptionLetters(store, opts.year, opts.org ? { org: opts.org } : {}),
      );
      const year = parseFinancialYear(opts.year).replace('/', '-');
      const files = letters.map((l) => {
        const file = path.join(opts.out, `subscription-${year}-${l.org}.html`);
        writeOut(file, l.html);
        return { org: l.org, recipient: l.recipient, file };
      });
      if (opts.json) return printJson(io, files);
      io.out(`Wrote ${files.length} letters to ${opts.out}`);
    });
}

function registerInvoices(program: Command, context: CliContext): void {
  const { io } = context;
  const invoices = commandFor(program, ['invoices']).description('invoices to subscribers');

  invoices
    .command('list')
    .description('list invoices')
    .option('--year <year>', 'financial year')
    .option('--org <code>', 'one organisation')
    .addOption(new Option('--state <state>', 'one state').choices(INVOICE_STATES))
    .option('--csv <file>', 'export the list as CSV')
    .option('--json', 'print JSON')
    .action(
      async (opts: { year?: string; org?: string; state?: InvoiceState; csv?: string; json?: boolean }) => {
        const { invoices: rows } = await context.run(listInvoicesOperation, {
          ...(opts.year ? { year: opts.year } : {}),
          ...(opts.org ? { org: opts.org } : {}),
          ...(opts.state ? { state: opts.state } : {}),
        });
        if (opts.csv) {
          const csv = await context.withPrincipal(async (store) =>
            (await documents()).invoicesCsv(store, rows),
          );
          writeOut(opts.csv, csv);
          io.out(`Wrote ${rows.length} invoices to ${opts.csv}`);
          return;
        }
        printTable(io, opts.json, ['number', 'year', 'org', 'state', 'amount', 'replaces'], rows, (i) => [
          i.number ?? '(draft)',
          i.year,
          i.org,
          i.state,
          formatPounds(i.amountPence),
          i.replaces,
        ]);
      },
    );

  invoices
    .command('show <number>')
    .description('one invoice; write it as HTML or PDF')
    .option('--html <file>', 'write printable HTML')
    .option('--pdf <file>', 'write a PDF')
    .option('--json', 'print JSON')
    .action(async (number: string, opts: { html?: string; pdf?: string; json?: boolean }) => {
      const invoice = await context.run(showInvoiceOperation, { number });
      // The documents as the same principal, who may see this invoice (run checked it).
      if (opts.html || opts.pdf) {
        await context.withPrincipal(async (store) => {
          if (opts.html) writeOut(opts.html, await (await documents()).invoiceHtml(store, invoice));
          if (opts.pdf) writeOut(opts.pdf, await (await documents()).invoicePdf(store, invoice));
        });
      }
      if (opts.json) return printJson(io, invoice);
      io.out(
        formatTable(
          ['field', 'value'],
          [
            ['number', invoice.number ?? '(draft)'],
            ['org', invoice.org],
            ['year', invoice.year],
            ['state', invoice.state],
            ['amount', formatPounds(invoice.amountPence)],
            ['basis', invoice.basis.rule],
            ['replaces', invoice.replaces],
          ],
        ),
      );
      for (const file of [opts.html, opts.pdf]) if (file) io.out(`Wrote ${file}`);
    });
}

function registerAgreements(program: Command, context: CliContext): void {
  const { io } = context;
  const agreements = commandFor(program, ['agreements']).description('data sharing agreements');

  for (const [name, state, what] of [
    ['suspend', 'suspended', 'suspend an agreement (loads and reads stop)'],
    ['reinstate', 'in-force', 'put a suspended agreement back in force'],
    ['end', 'ended', 'end an agreement for good'],
  ] as const) {
    agreements
      .command(`${name} <id>`)
      .description(what)
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { json?: boolean }) => {
        const agreement = await context.run(setAgreementStateOperation, { id, state });
        if (opts.json) return printJson(io, agreement);
        io.out(`Agreement ${agreement.id} is ${agreement.state}.`);
      });
  }
}

function registerOptOuts(program: Command, context: CliContext): void {
  const { io } = context;
  const optouts = commandFor(program, ['optouts']).description('the national data opt-out, as tokens');

  optouts
    .command('load <file>')
    .description('replace the opt-out list with the tokens in FILE (one per line)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const result = await context.withStore((store) => loadOptOutFile(store, file, context.actor));
      if (opts.json) return printJson(io, result);
      io.out(`Loaded ${result.tokens} opt-out tokens (replacing ${result.replaced}).`);
    });
}

export const registerGovernanceCommands: RegisterCommands = (program, context) => {
  // Generated from the operations first, so each group lists its reading commands first.
  registerOperationCommands(program, context, [...GOVERNANCE_OPERATIONS, ...FUNDING_OPERATIONS]);
  commandFor(program, ['usecases']).description('the use-case register');
  registerOrgs(program, context);
  registerSubscriptions(program, context);
  registerInvoices(program, context);
  registerAgreements(program, context);
  registerOptOuts(program, context);
};
