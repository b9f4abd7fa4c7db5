/**
 * `kernel orgs`, `kernel subscriptions`, `kernel invoices`, `kernel agreements`,
 * `kernel usecases`, `kernel optouts`: thin commands over src/governance/. Each parses
 * flags, calls one domain function, and prints a table or, with --json, JSON.
 */
import { Option, type Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { KernelError } from '../errors.ts';
import {
  assertAgreementInForce,
  createAgreement,
  listAgreements,
  setAgreementState,
  type AgreementState,
} from '../governance/agreements.ts';
import {
  addFundingSource,
  findFundingModel,
  setFundingModel,
  yearShares,
} from '../governance/funding-model.ts';
import { formatPounds, parseFinancialYear, parsePounds } from '../governance/governance-values.ts';
import { toCsv } from '../governance/csv.ts';
import {
  cancelInvoice,
  draftInvoices,
  getInvoice,
  INVOICE_STATES,
  listInvoices,
  payInvoice,
  raiseInvoices,
  type InvoiceState,
} from '../governance/invoices.ts';
import {
  completeStep,
  onboardingOverview,
  onboardingStatus,
  type OnboardingStatus,
} from '../governance/onboarding.ts';
import { optOutImpact } from '../governance/access-policy.ts';
import { loadOptOutFile, optOutStatus } from '../governance/optouts.ts';
import {
  getOrganisation,
  KERNEL_ROLES,
  listOrganisations,
  ORG_TYPES,
  registerOrganisation,
  seedOrganisations,
  updateOrganisation,
  type Contact,
  type KernelRole,
  type OrgType,
} from '../governance/organisations.ts';
import {
  inviteMembers,
  listSubscriptions,
  parseSubscriptionState,
  setSubscription,
} from '../governance/subscriptions.ts';
import { accessesOf } from '../governance/transparency.ts';
import {
  activateUseCase,
  approveUseCase,
  closeUseCase,
  getUseCase,
  listUseCases,
  proposeUseCase,
  setUseCaseUsers,
  USE_CASE_STATES,
  type UseCase,
  type UseCaseState,
} from '../governance/use-cases.ts';
import { formatTable, printJson, type CliContext, type CliIo, type RegisterCommands } from './cli-context.ts';

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

function writeOut(file: string, content: string | Buffer): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, content);
}

function printOnboarding(io: CliIo, status: OnboardingStatus): void {
  io.out(`Onboarding ${status.name} (${status.org}): ${status.done} of ${status.total} steps done`);
  for (const step of status.steps) {
    const mark = step.done ? '[x]' : '[ ]';
    const who = step.done
      ? ` — ${step.by ?? ''}, ${step.at?.slice(0, 10) ?? ''}`
      : status.next?.id === step.id
        ? '  ← next'
        : '';
    io.out(`  ${mark} ${step.title}${who}`);
  }
}

function useCaseRows(useCases: UseCase[]): (string | number)[][] {
  return useCases.map((u) => [
    u.id,
    u.state,
    u.purpose,
    u.sponsor,
    u.datasets.join(','),
    `${u.approvals.length}/${u.controllers.length}`,
    u.title,
  ]);
}

function registerOrgs(program: Command, context: CliContext): void {
  const { io } = context;
  const orgs = program.command('orgs').description('the organisation register and onboarding');

  orgs
    .command('list')
    .description('list registered organisations')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const all = await context.withStore((store) => listOrganisations(store));
      if (opts.json) return printJson(io, all);
      io.out(
        formatTable(
          ['code', 'name', 'type', 'role', 'code verified'],
          all.map((o) => [
            o.code,
            o.name,
            o.type,
            o.kernelRole,
            o.codeVerified ? 'yes' : `no${o.codeNote ? ` (${o.codeNote})` : ''}`,
          ]),
        ),
      );
    });

  orgs
    .command('show <code>')
    .description("one organisation's entry and onboarding")
    .option('--json', 'print JSON')
    .action(async (code: string, opts: { json?: boolean }) => {
      const result = await context.withStore(async (store) => ({
        organisation: await getOrganisation(store, code),
        onboarding: await onboardingStatus(store, code),
      }));
      if (opts.json) return printJson(io, result);
      const o = result.organisation;
      io.out(
        formatTable(
          ['field', 'value'],
          [
            ['code', `${o.code} (${o.codeSystem}${o.codeVerified ? ', verified' : ', UNVERIFIED'})`],
            ['note', o.codeNote],
            ['name', o.name],
            ['type', o.type],
            ['role', o.kernelRole],
            ['population', o.population],
            ['income', o.incomePence === null ? '' : formatPounds(o.incomePence)],
            ...o.contacts.map((c) => [c.role, `${c.name} <${c.email}>`]),
          ],
        ),
      );
      printOnboarding(io, result.onboarding);
    });

  orgs
    .command('seed')
    .description('register the Kent and Medway members (reference §8)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const result = await context.withStore((store) => seedOrganisations(store, context.actor));
      if (opts.json) return printJson(io, result);
      io.out(
        `Registered ${result.added.length} organisations; ${result.existing.length} were already registered.`,
      );
    });

  orgs
    .command('add')
    .description('register an organisation')
    .requiredOption('--code <code>', 'ODS code (or GSS code for a council)')
    .requiredOption('--name <name>', 'name')
    .addOption(new Option('--type <type>', 'kind of organisation').choices(ORG_TYPES).makeOptionMandatory())
    .addOption(
      new Option('--role <role>', 'role for Kernel').choices(KERNEL_ROLES).default('data-controller'),
    )
    .addOption(
      new Option('--code-system <system>', 'where the code comes from')
        .choices(['ods', 'gss', 'local'])
        .default('ods'),
    )
    .option('--unverified', 'the code is not yet confirmed in ODS')
    .option('--population <n>', 'population, for funding by population')
    .option('--income <pounds>', 'annual income, for funding by income')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        code: string;
        name: string;
        type: OrgType;
        role: KernelRole;
        codeSystem: 'ods' | 'gss' | 'local';
        unverified?: boolean;
        population?: string;
        income?: string;
        json?: boolean;
      }) => {
        const org = await context.withStore((store) =>
          registerOrganisation(
            store,
            {
              code: opts.code,
              codeSystem: opts.codeSystem,
              codeVerified: !opts.unverified,
              codeNote: null,
              name: opts.name,
              type: opts.type,
              kernelRole: opts.role,
              population: opts.population === undefined ? null : wholeNumber(opts.population, 'population'),
              incomePence: opts.income === undefined ? null : parsePounds(opts.income, 'income'),
              contacts: [],
            },
            context.actor,
          ),
        );
        if (opts.json) return printJson(io, org);
        io.out(`Registered ${org.name} (${org.code}).`);
      },
    );

  orgs
    .command('set <code>')
    .description("change an organisation's details")
    .option('--name <name>', 'name')
    .option('--population <n>', 'population')
    .option('--income <pounds>', 'annual income')
    .option('--verified', 'the code is confirmed in ODS')
    .option(
      '--contact <role=name<email>>',
      'a contact, e.g. "chief-executive=Jo Bloggs <jo@example.org>" (repeatable)',
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
          return printOnboarding(io, status);
        }
        let status = await onboardingStatus(store, code);
        if (opts.json) return printJson(io, status);
        printOnboarding(io, status);
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
    .command('onboarding')
    .description("every member's onboarding progress")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const all = await context.withStore((store) => onboardingOverview(store));
      if (opts.json) return printJson(io, all);
      io.out(
        formatTable(
          ['code', 'name', 'done', 'next step'],
          all.map((s) => [s.org, s.name, `${s.done}/${s.total}`, s.next?.title ?? 'complete']),
        ),
      );
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
        const rows = await context.withStore((store) =>
          accessesOf(store, {
            org: code,
            ...(opts.from ? { from: opts.from } : {}),
            ...(opts.to ? { to: opts.to } : {}),
            ...(opts.usecase ? { useCaseId: opts.usecase } : {}),
            limit: 100_000,
          }),
        );
        if (opts.csv) {
          writeOut(
            opts.csv,
            toCsv(
              [
                'accessed_at',
                'user',
                'role',
                'use_case',
                'use_case_title',
                'purpose',
                'dataset',
                'org_code',
                'opt_out_applied',
              ],
              rows.map((r) => [
                r.at,
                r.user,
                r.role,
                r.useCaseId,
                r.useCaseTitle,
                r.purpose,
                r.datasetId,
                r.org,
                r.optOutApplied ? 'yes' : 'no',
              ]),
            ),
          );
          io.out(`Wrote ${rows.length} reads to ${opts.csv}`);
          return;
        }
        if (opts.json) return printJson(io, rows);
        io.out(
          formatTable(
            ['when', 'who', 'role', 'use case', 'purpose', 'dataset'],
            rows.map((r) => [r.at, r.user, r.role, r.useCaseId, r.purpose, r.datasetId]),
          ),
        );
      },
    );
}

function registerSubscriptions(program: Command, context: CliContext): void {
  const { io } = context;
  const subs = program
    .command('subscriptions')
    .description('subscriptions, the funding model and subscription letters');

  subs
    .command('list')
    .description('list subscriptions')
    .option('--year <year>', 'financial year, e.g. 2021/22')
    .option('--org <code>', 'one organisation')
    .option('--json', 'print JSON')
    .action(async (opts: { year?: string; org?: string; json?: boolean }) => {
      const rows = await context.withStore((store) =>
        listSubscriptions(store, {
          ...(opts.year ? { year: opts.year } : {}),
          ...(opts.org ? { org: opts.org } : {}),
        }),
      );
      if (opts.json) return printJson(io, rows);
      io.out(
        formatTable(
          ['year', 'org', 'state', 'tier', 'updated'],
          rows.map((s) => [s.year, s.org, s.state, s.tier, s.updatedAt.slice(0, 10)]),
        ),
      );
    });

  subs
    .command('set <org>')
    .description("set an organisation's subscription for a year")
    .requiredOption('--year <year>', 'financial year, e.g. 2021/22')
    .option('--state <state>', 'invited, confirmed, declined or lapsed')
    .option('--tier <tier>', 'funding tier, for tiered funding')
    .option('--json', 'print JSON')
    .action(async (org: string, opts: { year: string; state?: string; tier?: string; json?: boolean }) => {
      const sub = await context.withStore((store) =>
        setSubscription(
          store,
          {
            org,
            year: opts.year,
            ...(opts.state ? { state: parseSubscriptionState(opts.state) } : {}),
            ...(opts.tier ? { tier: opts.tier } : {}),
          },
          context.actor,
        ),
      );
      if (opts.json) return printJson(io, sub);
      io.out(
        `${sub.org}'s subscription for ${sub.year} is ${sub.state}${sub.tier ? ` (tier ${sub.tier})` : ''}.`,
      );
    });

  subs
    .command('invite')
    .description('invite every member without a subscription for the year')
    .requiredOption('--year <year>', 'financial year')
    .option('--json', 'print JSON')
    .action(async (opts: { year: string; json?: boolean }) => {
      const invited = await context.withStore((store) => inviteMembers(store, opts.year, context.actor));
      if (opts.json) return printJson(io, invited);
      io.out(`Invited ${invited.length} organisations for ${parseFinancialYear(opts.year)}.`);
    });

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
        const model = await context.withStore(async (store) => {
          if (opts.cost !== undefined || opts.rule !== undefined) {
            await setFundingModel(
              store,
              {
                year: opts.year,
                ...(opts.cost !== undefined ? { costPence: parsePounds(opts.cost, 'cost') } : {}),
                ...(opts.rule !== undefined ? { rule: parseJsonFlag(opts.rule, 'rule') } : {}),
              },
              context.actor,
            );
          }
          if (opts.addSource) {
            const match = /^(.+)=([^=]+)$/.exec(opts.addSource);
            if (!match)
              throw new KernelError('usage', '--add-source must be NAME=POUNDS', {
                where: { field: 'add-source' },
              });
            await addFundingSource(
              store,
              {
                year: opts.year,
                name: match[1] as string,
                amountPence: parsePounds(match[2] as string, 'add-source'),
              },
              context.actor,
            );
          }
          const found = await findFundingModel(store, opts.year);
          if (!found) {
            throw new KernelError(
              'not-found',
              `No funding model is set for ${parseFinancialYear(opts.year)}`,
              {
                hint: 'Give --cost and --rule to set one',
              },
            );
          }
          return found;
        });
        if (opts.json) return printJson(io, model);
        io.out(
          `Funding model ${model.year}: cost ${formatPounds(model.costPence)}, ${model.ruleDescription}`,
        );
        for (const s of model.sources) io.out(`  other funding: ${s.name} ${formatPounds(s.amountPence)}`);
      },
    );

  subs
    .command('shares')
    .description("each confirmed subscriber's share of the year's cost")
    .requiredOption('--year <year>', 'financial year')
    .option('--json', 'print JSON')
    .action(async (opts: { year: string; json?: boolean }) => {
      const result = await context.withStore((store) => yearShares(store, opts.year));
      if (opts.json) return printJson(io, result);
      io.out(
        formatTable(
          ['org', 'weight', 'share'],
          [
            ...result.shares.map((s) => [s.org, s.weight, formatPounds(s.sharePence)]),
            ['total', result.totalWeight, formatPounds(result.netPence)],
          ],
        ),
      );
      io.out(result.basis);
    });

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
  const invoices = program.command('invoices').description('invoices to subscribers');

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
        await context.withStore(async (store) => {
          const rows = await listInvoices(store, {
            ...(opts.year ? { year: opts.year } : {}),
            ...(opts.org ? { org: opts.org } : {}),
            ...(opts.state ? { state: opts.state } : {}),
          });
          if (opts.csv) {
            writeOut(opts.csv, await (await documents()).invoicesCsv(store, rows));
            io.out(`Wrote ${rows.length} invoices to ${opts.csv}`);
            return;
          }
          if (opts.json) return printJson(io, rows);
          io.out(
            formatTable(
              ['number', 'year', 'org', 'state', 'amount', 'replaces'],
              rows.map((i) => [
                i.number ?? '(draft)',
                i.year,
                i.org,
                i.state,
                formatPounds(i.amountPence),
                i.replaces,
              ]),
            ),
          );
        });
      },
    );

  invoices
    .command('draft')
    .description('draft invoices for every confirmed subscriber from the funding model')
    .requiredOption('--year <year>', 'financial year')
    .option('--json', 'print JSON')
    .action(async (opts: { year: string; json?: boolean }) => {
      const drafts = await context.withStore((store) => draftInvoices(store, opts.year, context.actor));
      if (opts.json) return printJson(io, drafts);
      io.out(
        formatTable(
          ['org', 'amount'],
          drafts.map((d) => [d.org, formatPounds(d.amountPence)]),
        ),
      );
    });

  invoices
    .command('raise')
    .description("raise the year's draft invoices (numbers them)")
    .requiredOption('--year <year>', 'financial year')
    .option('--org <code>', 'one organisation')
    .option('--json', 'print JSON')
    .action(async (opts: { year: string; org?: string; json?: boolean }) => {
      const raised = await context.withStore((store) =>
        raiseInvoices(store, opts.year, context.actor, opts.org ? { org: opts.org } : {}),
      );
      if (opts.json) return printJson(io, raised);
      io.out(
        formatTable(
          ['number', 'org', 'amount'],
          raised.map((i) => [i.number, i.org, formatPounds(i.amountPence)]),
        ),
      );
    });

  invoices
    .command('pay <number>')
    .description('record payment of a raised invoice')
    .option('--on <date>', 'date paid, YYYY-MM-DD (default today)')
    .option('--json', 'print JSON')
    .action(async (number: string, opts: { on?: string; json?: boolean }) => {
      const invoice = await context.withStore((store) => payInvoice(store, number, context.actor, opts.on));
      if (opts.json) return printJson(io, invoice);
      io.out(`Invoice ${number} is paid.`);
    });

  invoices
    .command('cancel <number>')
    .description('cancel a raised invoice (and raise its replacement with --replace)')
    .requiredOption('--reason <text>', 'why')
    .option('--replace', "raise a replacement for the organisation's current share")
    .option('--json', 'print JSON')
    .action(async (number: string, opts: { reason: string; replace?: boolean; json?: boolean }) => {
      const result = await context.withStore((store) =>
        cancelInvoice(store, number, opts.reason, context.actor, { replace: Boolean(opts.replace) }),
      );
      if (opts.json) return printJson(io, result);
      io.out(
        `Invoice ${number} is cancelled.${result.replacement ? ` Replacement: ${result.replacement.number} for ${formatPounds(result.replacement.amountPence)}.` : ''}`,
      );
    });

  invoices
    .command('show <number>')
    .description('one invoice; write it as HTML or PDF')
    .option('--html <file>', 'write printable HTML')
    .option('--pdf <file>', 'write a PDF')
    .option('--json', 'print JSON')
    .action(async (number: string, opts: { html?: string; pdf?: string; json?: boolean }) => {
      await context.withStore(async (store) => {
        const invoice = await getInvoice(store, number);
        if (opts.html) writeOut(opts.html, await (await documents()).invoiceHtml(store, invoice));
        if (opts.pdf) writeOut(opts.pdf, await (await documents()).invoicePdf(store, invoice));
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
    });
}

function registerAgreements(program: Command, context: CliContext): void {
  const { io } = context;
  const agreements = program.command('agreements').description('data sharing agreements');

  agreements
    .command('list')
    .description('list agreements')
    .option('--org <code>', 'one organisation')
    .option('--dataset <id>', 'one dataset')
    .option('--json', 'print JSON')
    .action(async (opts: { org?: string; dataset?: string; json?: boolean }) => {
      const rows = await context.withStore((store) =>
        listAgreements(store, {
          ...(opts.org ? { org: opts.org } : {}),
          ...(opts.dataset ? { dataset: opts.dataset } : {}),
        }),
      );
      if (opts.json) return printJson(io, rows);
      io.out(
        formatTable(
          ['id', 'org', 'state', 'from', 'to', 'datasets', 'purposes'],
          rows.map((a) => [a.id, a.org, a.state, a.from, a.to, a.datasets.join(','), a.purposes.join(',')]),
        ),
      );
    });

  agreements
    .command('add')
    .description('record a signed data sharing agreement')
    .requiredOption('--org <code>', 'the controller')
    .requiredOption('--dataset <ids>', 'datasets covered (comma-separated or repeated)', list)
    .requiredOption('--from <YYYY-MM>', 'first month covered')
    .requiredOption('--to <YYYY-MM>', 'last month covered')
    .option('--purpose <purposes>', 'purposes covered (default all: direct-care, planning, research)', list)
    .option('--title <title>', 'title')
    .option('--signed-by <who>', 'who signed for the controller')
    .option('--signed-on <date>', 'date signed, YYYY-MM-DD')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        org: string;
        dataset: string[];
        from: string;
        to: string;
        purpose?: string[];
        title?: string;
        signedBy?: string;
        signedOn?: string;
        json?: boolean;
      }) => {
        const agreement = await context.withStore((store) =>
          createAgreement(
            store,
            {
              org: opts.org,
              datasets: opts.dataset,
              from: opts.from,
              to: opts.to,
              ...(opts.purpose ? { purposes: opts.purpose } : {}),
              ...(opts.title ? { title: opts.title } : {}),
              ...(opts.signedBy ? { signedBy: opts.signedBy } : {}),
              ...(opts.signedOn ? { signedOn: opts.signedOn } : {}),
            },
            context.actor,
          ),
        );
        if (opts.json) return printJson(io, agreement);
        io.out(
          `Recorded ${agreement.id}: ${agreement.org} sends ${agreement.datasets.join(', ')} from ${agreement.from} to ${agreement.to}.`,
        );
      },
    );

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
        const agreement = await context.withStore((store) =>
          setAgreementState(store, id, state as AgreementState, context.actor),
        );
        if (opts.json) return printJson(io, agreement);
        io.out(`Agreement ${agreement.id} is ${agreement.state}.`);
      });
  }

  agreements
    .command('check')
    .description('would a feed be accepted under the agreements?')
    .requiredOption('--org <code>', 'sender')
    .requiredOption('--dataset <id>', 'dataset')
    .requiredOption('--period <YYYY-MM>', 'month of the feed')
    .option('--json', 'print JSON')
    .action(async (opts: { org: string; dataset: string; period: string; json?: boolean }) => {
      await context.withStore((store) => assertAgreementInForce(store, opts.org, opts.dataset, opts.period));
      if (opts.json)
        return printJson(io, { inForce: true, org: opts.org, dataset: opts.dataset, period: opts.period });
      io.out(
        `An agreement in force covers ${opts.org.toUpperCase()} sending ${opts.dataset} for ${opts.period}.`,
      );
    });
}

function registerUseCases(program: Command, context: CliContext): void {
  const { io } = context;
  const usecases = program.command('usecases').description('the use-case register');

  usecases
    .command('list')
    .description('list use cases')
    .addOption(new Option('--state <state>', 'one state').choices(USE_CASE_STATES))
    .option('--controller <code>', 'use cases using this controller’s data')
    .option('--json', 'print JSON')
    .action(async (opts: { state?: UseCaseState; controller?: string; json?: boolean }) => {
      const rows = await context.withStore((store) =>
        listUseCases(store, {
          ...(opts.state ? { state: [opts.state] } : {}),
          ...(opts.controller ? { controller: opts.controller } : {}),
        }),
      );
      if (opts.json) return printJson(io, rows);
      io.out(
        formatTable(
          ['id', 'state', 'purpose', 'sponsor', 'datasets', 'approved', 'title'],
          useCaseRows(rows),
        ),
      );
    });

  usecases
    .command('show <id>')
    .description('one use case with its approvals')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const u = await context.withStore((store) => getUseCase(store, id));
      if (opts.json) return printJson(io, u);
      io.out(
        formatTable(
          ['field', 'value'],
          [
            ['id', u.id],
            ['title', u.title],
            ['state', u.state],
            [
              'purpose',
              `${u.purpose} (national data opt-out ${u.optOutApplies ? 'applies' : 'does not apply'})`,
            ],
            ['legal basis', u.legalBasis],
            ['sponsor', u.sponsor],
            ['datasets', u.datasets.join(', ')],
            ['controllers', u.controllers.join(', ')],
            ['users', u.users.join(', ')],
            ['dates', `${u.start} to ${u.end}`],
            [
              'months read',
              u.months === 'published' ? 'published (signed off and published)' : 'every month loaded',
            ],
            ['approved by', u.approvals.map((a) => `${a.org} (${a.by}, ${a.at.slice(0, 10)})`).join('; ')],
            ['awaiting', u.awaiting.join(', ')],
          ],
        ),
      );
    });

  usecases
    .command('propose')
    .description('propose a use case')
    .requiredOption('--title <title>', 'title')
    .requiredOption('--sponsor <code>', 'sponsoring organisation')
    .requiredOption('--purpose <purpose>', 'direct-care, planning or research')
    .requiredOption('--legal-basis <text>', 'legal basis')
    .requiredOption('--dataset <ids>', 'datasets (comma-separated or repeated)', list)
    .requiredOption('--controller <codes>', 'controllers whose data it uses', list)
    .option('--user <ids>', 'users: user ids or role:<role>', list)
    .requiredOption('--start <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--end <date>', 'last day, YYYY-MM-DD')
    .option('--summary <text>', 'one paragraph, shown on the public site')
    .option(
      '--months <which>',
      'published (default: months signed off and published) or loaded (every month loaded)',
    )
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        months?: string;
        title: string;
        sponsor: string;
        purpose: string;
        legalBasis: string;
        dataset: string[];
        controller: string[];
        user?: string[];
        start: string;
        end: string;
        summary?: string;
        json?: boolean;
      }) => {
        const u = await context.withStore((store) =>
          proposeUseCase(
            store,
            {
              title: opts.title,
              sponsor: opts.sponsor,
              purpose: opts.purpose,
              legalBasis: opts.legalBasis,
              datasets: opts.dataset,
              controllers: opts.controller,
              users: opts.user ?? [],
              start: opts.start,
              end: opts.end,
              ...(opts.summary ? { summary: opts.summary } : {}),
              ...(opts.months ? { months: opts.months } : {}),
            },
            context.actor,
          ),
        );
        if (opts.json) return printJson(io, u);
        io.out(`Proposed ${u.id}; awaiting approval from ${u.awaiting.join(', ')}.`);
      },
    );

  usecases
    .command('approve <id>')
    .description("record a controller's approval")
    .requiredOption('--org <code>', 'the approving controller')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { org: string; json?: boolean }) => {
      const u = await context.withStore((store) => approveUseCase(store, id, opts.org, context.actor));
      if (opts.json) return printJson(io, u);
      io.out(
        u.state === 'approved'
          ? `${u.id} is approved by every controller.`
          : `Recorded. ${u.id} still awaits ${u.awaiting.join(', ')}.`,
      );
    });

  for (const [name, run] of [
    ['activate', activateUseCase],
    ['close', closeUseCase],
  ] as const) {
    usecases
      .command(`${name} <id>`)
      .description(
        name === 'activate' ? 'start an approved use case (reads allowed)' : 'close a use case (reads stop)',
      )
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { json?: boolean }) => {
        const u = await context.withStore((store) => run(store, id, context.actor));
        if (opts.json) return printJson(io, u);
        io.out(`${u.id} is ${u.state}.`);
      });
  }

  usecases
    .command('users <id>')
    .description('set who may use a use case')
    .requiredOption('--set <ids>', 'user ids or role:<role>, comma-separated', list)
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { set: string[]; json?: boolean }) => {
      const u = await context.withStore((store) => setUseCaseUsers(store, id, opts.set, context.actor));
      if (opts.json) return printJson(io, u);
      io.out(`${u.id} users: ${u.users.join(', ')}`);
    });
}

function registerOptOuts(program: Command, context: CliContext): void {
  const { io } = context;
  const optouts = program.command('optouts').description('the national data opt-out, as tokens');

  optouts
    .command('load <file>')
    .description('replace the opt-out list with the tokens in FILE (one per line)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const result = await context.withStore((store) => loadOptOutFile(store, file, context.actor));
      if (opts.json) return printJson(io, result);
      io.out(`Loaded ${result.tokens} opt-out tokens (replacing ${result.replaced}).`);
    });

  optouts
    .command('status')
    .description('how many tokens are held and when they were loaded')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const status = await context.withStore((store) => optOutStatus(store));
      if (opts.json) return printJson(io, status);
      io.out(
        status.lastLoad
          ? `${status.tokens} tokens, loaded ${status.lastLoad.loadedAt} by ${status.lastLoad.loadedBy} from ${status.lastLoad.source}.`
          : 'No opt-out list has been loaded.',
      );
    });

  optouts
    .command('impact')
    .description('records each use case loses to the opt-out, per dataset and controller')
    .option('--usecase <id>', 'one use case')
    .option('--org <code>', 'one controller')
    .option('--json', 'print JSON')
    .action(async (opts: { usecase?: string; org?: string; json?: boolean }) => {
      const rows = await context.withStore((store) =>
        optOutImpact(store, {
          actor: context.actor,
          ...(opts.usecase ? { useCaseId: opts.usecase } : {}),
          ...(opts.org ? { controller: opts.org } : {}),
        }),
      );
      if (opts.json) return printJson(io, rows);
      io.out(
        formatTable(
          ['use case', 'purpose', 'dataset', 'org', 'records', 'lost'],
          rows.map((r) => [
            r.useCaseId,
            r.purpose,
            r.datasetId,
            r.org,
            r.records,
            r.optOutApplies ? r.lost : 'n/a (direct care)',
          ]),
        ),
      );
    });
}

export const registerGovernanceCommands: RegisterCommands = (program, context) => {
  registerOrgs(program, context);
  registerSubscriptions(program, context);
  registerInvoices(program, context);
  registerAgreements(program, context);
  registerUseCases(program, context);
  registerOptOuts(program, context);
};
