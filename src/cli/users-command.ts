import { KernelError } from '../errors.ts';
import { ROLES } from '../server/routes.ts';
import { formatTable, printJson, printTable, type CliIo, type RegisterCommands } from './cli-context.ts';

/** Reads a password from standard input: the first line, without its line ending. */
async function readPasswordFromStdin(io: CliIo): Promise<string> {
  let data = '';
  for await (const chunk of io.stdin)
    data += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  const line = data.split(/\r?\n/)[0] ?? '';
  if (!line) {
    throw new KernelError('usage', 'No password came on standard input', {
      hint: 'Pipe it in, e.g. printf %s "$PASSWORD" | kernel users add … --password-stdin',
    });
  }
  return line;
}

// The account modules load a native password-hashing library: imported when a command
// here runs, not when any command starts.
const accounts = () => import('../server/auth/user-accounts.ts');
const apiTokens = () => import('../server/auth/api-tokens.ts');
const secondFactor = () => import('../server/auth/second-factor.ts');
const singleSignOn = () => import('../server/auth/single-sign-on.ts');

/** `kernel users …` and `kernel tokens …`: portal and API accounts. */
export const registerUserCommands: RegisterCommands = (program, context) => {
  const users = program.command('users').description('portal and API accounts');

  users
    .command('add')
    .description('create an account and print its one-time password (changed at first sign-in)')
    .requiredOption('--email <email>', 'the person’s work email')
    .requiredOption('--role <role>', `one of: ${ROLES.join(', ')}`)
    .option('--org <ods>', 'their organisation’s ODS code (required for provider and ig-lead)')
    .option('--password-stdin', 'read the initial password from standard input instead of generating one')
    .option('--json', 'print the result as JSON')
    .action(
      async (options: {
        email: string;
        role: string;
        org?: string;
        passwordStdin?: boolean;
        json?: boolean;
      }) => {
        const password = options.passwordStdin ? await readPasswordFromStdin(context.io) : undefined;
        const { addUser } = await accounts();
        const { user, oneTimePassword } = await context.withStore((store) =>
          addUser(
            store,
            { email: options.email, role: options.role, org: options.org, password },
            context.actor,
          ),
        );
        if (options.json) {
          printJson(context.io, { ...user, ...(oneTimePassword ? { oneTimePassword } : {}) });
          return;
        }
        context.io.out(
          `Created ${user.role} account ${user.email}${user.org ? ` for ${user.org}` : ''} (${user.id})`,
        );
        if (oneTimePassword) {
          context.io.out(`One-time password: ${oneTimePassword}`);
          context.io.out(
            'Give it to them privately; they must choose their own at first sign-in. It is not shown again.',
          );
        } else {
          context.io.out('They must change this password at first sign-in.');
        }
      },
    );

  users
    .command('list')
    .description('list accounts')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      const { listUsers } = await accounts();
      const { accountsWithAuthenticator, SECOND_FACTOR_ROLES } = await secondFactor();
      const [list, enrolled] = await context.withStore(
        async (store) =>
          [
            await listUsers(store, { includeDisabled: true }),
            await accountsWithAuthenticator(store),
          ] as const,
      );
      if (options.json) {
        printJson(
          context.io,
          list.map((u) => ({ ...u, authenticator: enrolled.has(u.id) })),
        );
        return;
      }
      context.io.out(
        formatTable(
          ['email', 'role', 'org', 'id', 'created', 'authenticator', 'state'],
          list.map((u) => [
            u.email,
            u.role,
            u.org,
            u.id,
            u.createdAt.slice(0, 10),
            // Someone in a role that needs one and without it sets it up at next sign-in.
            enrolled.has(u.id) ? 'yes' : SECOND_FACTOR_ROLES.includes(u.role) ? 'not yet' : 'no',
            u.disabledAt
              ? 'disabled'
              : u.lockedUntil && u.lockedUntil > new Date().toISOString()
                ? 'locked'
                : u.mustChangePassword
                  ? 'must change password'
                  : 'active',
          ]),
        ),
      );
    });

  users
    .command('reset-password')
    .description('give an account a new one-time password (also unlocks it and ends its sessions)')
    .requiredOption('--email <email>', 'the account')
    .action(async (options: { email: string }) => {
      const { resetPassword } = await accounts();
      const oneTimePassword = await context.withStore((store) =>
        resetPassword(store, options.email, context.actor),
      );
      context.io.out(`One-time password for ${options.email}: ${oneTimePassword}`);
      context.io.out(
        'Give it to them privately; they must choose their own at sign-in. It is not shown again.',
      );
    });

  users
    .command('reset-mfa')
    .description(
      'forget an account’s authenticator and recovery codes (a lost phone): ends its sessions; it sets up a new one at next sign-in',
    )
    .argument('[email]', 'the account')
    .option('--email <email>', 'the account')
    .action(async (positional: string | undefined, options: { email?: string }) => {
      const email = options.email ?? positional;
      if (!email) {
        throw new KernelError('usage', 'Name the account', { hint: 'kernel users reset-mfa ana@nhs.net' });
      }
      const { resetSecondFactor } = await secondFactor();
      await context.withStore((store) => resetSecondFactor(store, email, context.actor));
      context.io.out(
        `Reset the authenticator of ${email}: its recovery codes no longer work and its sessions are ended.`,
      );
      context.io.out('At their next sign-in they set up a new authenticator app.');
    });

  users
    .command('disable')
    .description('stop an account signing in: ends its sessions and revokes its API tokens')
    .requiredOption('--email <email>', 'the account')
    .action(async (options: { email: string }) => {
      const { disableUser } = await accounts();
      await context.withStore((store) => disableUser(store, options.email, context.actor));
      context.io.out(`Disabled ${options.email}: its sessions are ended and its API tokens revoked.`);
    });

  users
    .command('enable')
    .description('let a disabled account sign in again (it needs new API tokens)')
    .requiredOption('--email <email>', 'the account')
    .action(async (options: { email: string }) => {
      const { enableUser } = await accounts();
      await context.withStore((store) => enableUser(store, options.email, context.actor));
      context.io.out(`Enabled ${options.email}: it may sign in again with its password.`);
    });

  const tokens = program.command('tokens').description('API tokens for scripts and BI tools');

  tokens
    .command('new')
    .description('issue an API token for an account and print it once (only its hash is kept)')
    .requiredOption('--email <email>', 'the account the token acts as')
    .option('--expires <lifetime>', 'how long it lasts: days or weeks, e.g. 90d or 12w (at most 366d)', '90d')
    .option(
      '--scope <scope>',
      'full (what the account may do), read-only (no changes) or feeds-only (only sending feeds)',
      'full',
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: { email: string; expires: string; scope: string; json?: boolean }) => {
      const { createApiToken, isTokenScope, parseTokenLifetime, TOKEN_SCOPES } = await apiTokens();
      const scope = options.scope;
      if (!isTokenScope(scope)) {
        throw new KernelError('usage', `"${scope}" is not a token scope`, {
          where: { field: 'scope' },
          hint: `Use one of: ${TOKEN_SCOPES.join(', ')}`,
        });
      }
      const days = parseTokenLifetime(options.expires);
      const { id, token, expiresAt } = await context.withStore((store) =>
        createApiToken(store, options.email, context.actor, new Date(), { scope, days }),
      );
      if (options.json) {
        printJson(context.io, { id, token, scope, expiresAt });
        return;
      }
      context.io.out(`API token ${id} for ${options.email} (${scope}, expires ${expiresAt.slice(0, 10)}):`);
      context.io.out(token);
      context.io.out(
        'Send it as "Authorization: Bearer <token>". It is not shown again; revoke it with kernel tokens revoke.',
      );
    });

  tokens
    .command('revoke')
    .description('revoke an API token by its id')
    .argument('<id>', 'the token id, e.g. tok_…')
    .action(async (id: string) => {
      const { revokeApiToken } = await apiTokens();
      await context.withStore((store) => revokeApiToken(store, id, context.actor));
      context.io.out(`Revoked API token ${id}`);
    });

  tokens
    .command('list')
    .description('list API tokens (ids and owners, never the tokens)')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      const { listApiTokens } = await apiTokens();
      const list = await context.withStore((store) => listApiTokens(store));
      printTable(
        context.io,
        options.json,
        ['id', 'email', 'scope', 'created', 'expires', 'revoked'],
        list,
        (t) => [
          t.id,
          t.email,
          t.scope,
          t.createdAt.slice(0, 19),
          t.expiresAt?.slice(0, 19) ?? 'never',
          t.revokedAt?.slice(0, 19) ?? '',
        ],
      );
    });

  const sso = program
    .command('sso')
    .description('single sign-on by OpenID Connect, and the rules mapping claims to roles');

  sso
    .command('configure')
    .description('trust one OpenID Connect provider (authorization code with PKCE)')
    .requiredOption('--issuer <url>', 'the provider’s issuer, e.g. https://login.example.nhs.uk')
    .requiredOption('--client-id <id>', 'Kernel’s client id at the provider')
    .requiredOption('--redirect-uri <url>', 'https://<this warehouse>/sign-in/sso/callback, as registered')
    .option('--client-secret-stdin', 'read the client secret from standard input (a confidential client)')
    .action(
      async (options: {
        issuer: string;
        clientId: string;
        redirectUri: string;
        clientSecretStdin?: boolean;
      }) => {
        const clientSecret = options.clientSecretStdin ? await readPasswordFromStdin(context.io) : null;
        const { configureSso } = await singleSignOn();
        await context.withStore((store) =>
          configureSso(
            store,
            {
              issuer: options.issuer,
              clientId: options.clientId,
              redirectUri: options.redirectUri,
              clientSecret,
            },
            context.actor,
          ),
        );
        context.io.out(
          `Single sign-on trusts ${options.issuer}. Add rules (kernel sso rule-add) to let people in.`,
        );
      },
    );

  sso
    .command('rule-add')
    .description('give a role to people whose claim holds a value (rules are tried in order; the first wins)')
    .requiredOption('--claim <name>', 'the ID token claim, e.g. groups')
    .requiredOption('--value <value>', 'the value it must equal or hold, e.g. kernel-analysts')
    .requiredOption('--role <role>', `one of: ${ROLES.join(', ')}`)
    .option('--org <ods>', 'their organisation’s ODS code (required for provider and ig-lead)')
    .action(async (options: { claim: string; value: string; role: string; org?: string }) => {
      const { addSsoRule } = await singleSignOn();
      const rule = await context.withStore((store) =>
        addSsoRule(
          store,
          { claim: options.claim, value: options.value, role: options.role, org: options.org ?? null },
          context.actor,
        ),
      );
      context.io.out(
        `Rule ${rule.id}: ${rule.claim} = ${rule.value} gives ${rule.role}${rule.org ? ` at ${rule.org}` : ''}`,
      );
    });

  sso
    .command('rules')
    .description('list the rules, in the order they are tried')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      const { listSsoRules } = await singleSignOn();
      const rules = await context.withStore((store) => listSsoRules(store));
      printTable(context.io, options.json, ['id', 'claim', 'value', 'role', 'org'], rules, (r) => [
        r.id,
        r.claim,
        r.value,
        r.role,
        r.org,
      ]);
    });

  sso
    .command('rule-remove')
    .description('remove a rule by its id')
    .argument('<id>', 'the rule id, e.g. sso_…')
    .action(async (id: string) => {
      const { removeSsoRule } = await singleSignOn();
      await context.withStore((store) => removeSsoRule(store, id, context.actor));
      context.io.out(`Removed rule ${id}`);
    });
};
