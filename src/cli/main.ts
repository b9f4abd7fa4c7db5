import { Command, CommanderError } from 'commander';
import os from 'node:os';
import { resolveConfig, type ResolvedConfig } from '../config/config.ts';
import { describeError, errorBody, exitCodeFor, KernelError } from '../errors.ts';
import { markStaleLoads } from '../ingest/load-history.ts';
import { openExistingStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { kernelVersion } from '../version.ts';
import { dataDirFor, forwardToServer } from '../server/cli-forwarding.ts';
import { credentialForToken } from '../server/auth/api-tokens.ts';
import { runOperation } from '../operations/operation.ts';
import { closeWorkspaces } from '../workspace/workspace-operations.ts';
import { actorOf, operatorPrincipal, type Principal } from '../operations/principal.ts';
import {
  csvAwareIo,
  printTablesAsCsv,
  type CliContext,
  type CliIo,
  type GlobalFlags,
  type RegisterCommands,
} from './cli-context.ts';
import { registerAuditCommands } from './audit-command.ts';
import { registerDatasetCommands } from './datasets-command.ts';
import { registerFoundationCommands } from './foundation-command.ts';
import { registerSynthCommands } from './synth-command.ts';
import { registerKeyCommands } from './keys-command.ts';
import { registerReidCommands } from './reid-command.ts';
import { registerDeidCommands } from './deid-command.ts';
import { registerMappingsCommands } from './mappings-command.ts';
import { registerLoadCommands } from './load-command.ts';
import { registerServeCommands } from './serve-command.ts';
import { registerUserCommands } from './users-command.ts';
import { registerGovernanceCommands } from './governance-command.ts';
import { registerLinkageCommands } from './linkage-command.ts';
import { registerKidCommands } from './kid-command.ts';
import { registerProgrammeCommands } from './programme-command.ts';
import { registerSignoffCommands } from './signoff-command.ts';
import { registerFeedsCommands } from './feeds-command.ts';
import { registerChartsCommands } from './charts-command.ts';
import { registerOutputsCommands } from './outputs-command.ts';
import { registerWorkspaceCommands } from './workspace-command.ts';
import { registerCohortsCommands } from './cohorts-command.ts';
import { registerApcCommands } from './apc-command.ts';
import { registerReferenceCommands } from './reference-command.ts';

/** Every command group, in the order `kernel --help` lists them. */
const COMMAND_GROUPS: RegisterCommands[] = [
  registerFoundationCommands,
  registerDatasetCommands,
  registerSynthCommands,
  registerKeyCommands,
  // After the keys group: it adds the agent's encryption keys to it.
  registerReidCommands,
  registerDeidCommands,
  registerMappingsCommands,
  registerLoadCommands,
  registerServeCommands,
  registerUserCommands,
  registerGovernanceCommands,
  registerProgrammeCommands,
  registerSignoffCommands,
  registerFeedsCommands,
  registerChartsCommands,
  registerWorkspaceCommands,
  registerCohortsCommands,
  registerOutputsCommands,
  registerAuditCommands,
  registerLinkageCommands,
  registerKidCommands,
  registerApcCommands,
  registerReferenceCommands,
];

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: Boolean(process.stderr.isTTY),
  stdin: process.stdin,
};

/** `store`: an open store to use instead of opening one (a running server, on the CLI's behalf). */
export interface MainOptions {
  store?: Store;
  /** the API token a forwarded command was sent with (the CLI's KERNEL_TOKEN) */
  token?: string;
}

/** Flags are how the CLI names an input field in a message. */
const cliFieldName = (field: string): string => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Builds the `kernel` program; `io` decides where it writes. */
export function buildProgram(io: CliIo, options: MainOptions = {}): Command {
  const program = new Command('kernel');
  program
    .description('Kernel: the shared health and care data warehouse of an integrated care system')
    .version(kernelVersion(), '-V, --version', 'print the version')
    .option('--data <dir>', 'warehouse folder (default ./kernel-data)')
    .option('--store <url>', "store: 'duckdb' (embedded, default) or postgres://user@host/db")
    .option('--config <file>', 'config file (default ./kernel.config.json)')
    .option('--debug', 'show stack traces for errors')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  let resolved: ResolvedConfig | undefined;
  // The command running, as `kernel --help` names it ("users add"), for the messages below.
  let running = '';
  const tokenGiven = (): string | undefined =>
    (options.store ? options.token : process.env.KERNEL_TOKEN)?.trim() || undefined;
  /**
   * A command that acts as the operator refuses when an API token is given: it would
   * otherwise run as an administrator, audited under the operating-system name, while the
   * caller meant to act as the token's user (README: "every way in gets the same answer").
   */
  const asOperator = (): void => {
    if (!tokenGiven()) return;
    throw new KernelError(
      'forbidden',
      `kernel ${running} acts as the operator, and does not run as the user whose token is in KERNEL_TOKEN`,
      {
        hint: 'Unset KERNEL_TOKEN to run it as the operator (whoever holds the warehouse’s files), or do it in the portal or the API with your own account',
      },
    );
  };
  const openStoreFor = async <T>(work: (store: Store) => Promise<T>): Promise<T> => {
    if (options.store) return work(options.store);
    const store = await openExistingStore(context.config().config);
    try {
      // A load killed mid-commit may have left rows behind (issue 23, C1): they go before
      // any command reads, so no read ever counts a month twice.
      await markStaleLoads(store);
      return await work(store);
    } finally {
      // A command's workspace snapshots (governed rows) go before the store closes.
      await closeWorkspaces(store);
      await store.close();
    }
  };
  const context: CliContext = {
    io: csvAwareIo(io),
    get actor() {
      asOperator();
      return `cli:${safeUserName()}`;
    },
    config() {
      // Global flags and each command's own flags (e.g. --port, --key) share one namespace.
      resolved ??= resolveConfig(collectFlags(program));
      return resolved;
    },
    withPrincipal(work) {
      return openStoreFor(async (store) => {
        const token = tokenGiven();
        const principal = token
          ? await principalForCliToken(store, token)
          : operatorPrincipal(safeUserName());
        return work(store, principal, actorOf(principal));
      });
    },
    run(operation, input, nameOf = cliFieldName) {
      return context.withPrincipal((store, principal) =>
        runOperation(operation, { store, config: context.config().config, principal }, input, nameOf),
      );
    },
    withStore(work) {
      asOperator();
      return openStoreFor(work);
    },
  };
  program.hook('preAction', (_program, action) => {
    resolved = undefined;
    running = commandPath(action);
    printTablesAsCsv(action.opts().csv === true);
  });
  for (const register of COMMAND_GROUPS) register(program, context);
  offerCsv(program);
  for (const command of program.commands) applyOutput(command, io);
  return program;
}

/**
 * Every command that can print JSON can print its tables as CSV too (`--csv`, for a
 * spreadsheet), unless it already has a `--csv` of its own (`invoices list --csv FILE`).
 */
function offerCsv(command: Command): void {
  for (const sub of command.commands) {
    const flags = sub.options.map((o) => o.long);
    if (flags.includes('--json') && !flags.includes('--csv')) {
      sub.option('--csv', 'print tables as CSV rather than aligned columns');
    }
    offerCsv(sub);
  }
}

/** Commander's refusal as Kernel's: its message without the `error: ` it begins with. */
function commanderRefusal(error: CommanderError): KernelError {
  return new KernelError('usage', error.message.replace(/^error: /, ''), {
    hint: 'Run the command with --help to see its arguments and options',
  });
}

function applyOutput(command: Command, io: CliIo): void {
  command.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const sub of command.commands) applyOutput(sub, io);
}

/** "users add" for the `add` command under `users`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function collectFlags(program: Command): GlobalFlags {
  const flags: Record<string, unknown> = { ...program.opts() };
  // The action's command is the innermost one that ran; its options may name config too.
  const visit = (command: Command): void => {
    for (const sub of command.commands) {
      Object.assign(flags, Object.fromEntries(Object.entries(sub.opts()).filter(([, v]) => v !== undefined)));
      visit(sub);
    }
  };
  visit(program);
  return flags as GlobalFlags;
}

async function principalForCliToken(store: Store, token: string): Promise<Principal> {
  const credential = await credentialForToken(store, token.trim());
  if (!credential) {
    throw new KernelError('unauthenticated', 'KERNEL_TOKEN is not a valid API token', {
      hint: 'It may have been revoked; ask an administrator for a new one (kernel tokens new), or unset KERNEL_TOKEN to act as the operator',
    });
  }
  // The CLI cannot tell a read from a change before a command runs, so it takes full tokens
  // only; a narrower token is for the API it was made for.
  if (credential.scope !== 'full') {
    throw new KernelError(
      'forbidden',
      `KERNEL_TOKEN is a ${credential.scope} API token, and the CLI takes full tokens only`,
      {
        hint: 'Use it with the HTTP API, or ask an administrator for a full token (kernel tokens new --scope full)',
      },
    );
  }
  return credential.principal;
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Runs the CLI with `argv` (without node and script); answers the exit code. */
export async function main(
  argv: string[],
  io: CliIo = processIo,
  options: MainOptions = {},
): Promise<number> {
  const program = buildProgram(io, options);
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  // A script that asked for JSON reads Commander's refusals (an option missing its value, an
  // unknown option) as JSON too: they are held here and written as the API's error body.
  const refusals: string[] = [];
  if (json) {
    const hold = (command: Command): void => {
      command.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => refusals.push(s) });
      for (const sub of command.commands) hold(sub);
    };
    hold(program);
  }
  try {
    // While `kernel serve` holds the DuckDB file, the command runs inside the server.
    if (!options.store) {
      const forwarded = await forwardToServer(dataDirFor(argv), argv, io);
      if (forwarded !== undefined) return forwarded;
    }
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) {
        for (const text of refusals) io.err(text);
        return 0;
      }
      // Commander has already printed its message (and help where it applies), unless held.
      if (json) io.err(JSON.stringify({ ...errorBody(commanderRefusal(error)), exit: 64 }));
      return 64;
    }
    // A script that asked for JSON reads its errors as JSON too: the API's error body, one line.
    if (json) io.err(JSON.stringify({ ...errorBody(error), exit: exitCodeFor(error) }));
    else io.err(`kernel: ${describeError(error)}`);
    if (debug && error instanceof Error && error.stack) io.err(error.stack);
    if (!(error instanceof KernelError) && !debug && !json)
      io.err('kernel: (this is a bug in Kernel, not in your input)');
    return exitCodeFor(error);
  } finally {
    printTablesAsCsv(false);
  }
}
