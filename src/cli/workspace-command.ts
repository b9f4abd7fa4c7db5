/**
 * `kernel workspace show --usecase UC`, `kernel query --usecase UC --sql "…"` and `kernel
 * outputs request …`: the analyst workspace at the command line, generated from its
 * operations. They act as the user whose API token is in KERNEL_TOKEN: the operator holds no
 * workspace (an administrator sees aggregates only).
 *
 * On PostgreSQL, `kernel workspace logins` makes each analyst's own database login and
 * schemas (psql, Power BI, R, Python connect with them), printing a new login's password once,
 * to this terminal only; `kernel workspace reset-login --user ID` gives a lost one anew.
 */
import { formatTable, printJson } from '../console/console.ts';
import { KernelError } from '../errors.ts';
import type { Principal } from '../operations/principal.ts';
import { provisionPostgresWorkspaces, resetWorkspacePassword } from '../workspace/postgres-workspaces.ts';
import { WORKSPACE_OPERATIONS } from '../workspace/workspace-operations.ts';
import type { RegisterCommands } from './cli-context.ts';
import { commandFor, registerOperationCommands } from './operation-commands.ts';

/** Logins are an administrator's to make: the operator, or an admin's token. */
function administrator(principal: Principal, actor: string): { actor: string } {
  if (principal.role !== 'admin') {
    throw new KernelError('forbidden', `Your role (${principal.role}) may not manage workspace logins`, {
      hint: 'Ask an administrator',
    });
  }
  return { actor };
}

export const registerWorkspaceCommands: RegisterCommands = (program, context) => {
  registerOperationCommands(program, context, WORKSPACE_OPERATIONS);
  const workspace = commandFor(program, ['workspace']).description(
    'the analyst workspace: views of a use case, and (on PostgreSQL) analysts’ own logins',
  );

  workspace
    .command('logins')
    .description(
      'PostgreSQL: make or refresh every analyst’s login and schemas; new passwords are shown once',
    )
    .option('--host <host>', 'the host analysts’ tools connect to (default: the server’s own)')
    .option('--port <port>', 'the port analysts’ tools connect to')
    .option('--json', 'print JSON')
    .action(async (opts: { host?: string; port?: string; json?: boolean }) => {
      const result = await context.withPrincipal((store, principal, actor) =>
        provisionPostgresWorkspaces(store, {
          ...administrator(principal, actor),
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.port ? { port: Number(opts.port) } : {}),
        }),
      );
      if (opts.json) return printJson(context.io, result);
      const { host, port, database } = result.connection;
      context.io.out(`Connect to ${host}:${port}, database ${database}.`);
      context.io.out(
        formatTable(
          ['user', 'login', 'schemas', 'password (shown once)'],
          result.logins.map((l) => [l.userId, l.role, l.schemas.join(', '), l.password ?? '(unchanged)']),
        ),
      );
      for (const r of result.refused)
        context.io.out(`No workspace ${r.schema} (${r.useCaseId}): ${r.reason}`);
      if (result.removed.length) context.io.out(`Removed logins: ${result.removed.join(', ')}`);
    });

  workspace
    .command('reset-login')
    .description('PostgreSQL: a new password for a user’s workspace login, shown once')
    .requiredOption('--user <id>', 'the user id (kernel users list)')
    .option('--json', 'print JSON')
    .action(async (opts: { user: string; json?: boolean }) => {
      const login = await context.withPrincipal((store, principal, actor) =>
        resetWorkspacePassword(store, opts.user, administrator(principal, actor)),
      );
      if (opts.json) return printJson(context.io, login);
      context.io.out(
        `Login ${login.role} on ${login.connection.host}:${login.connection.port}/${login.connection.database}; password (shown once): ${login.password ?? ''}`,
      );
    });
};
