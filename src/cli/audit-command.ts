import { Option } from 'commander';
import { AUDIT_READERS, verifyAudit } from '../audit/audit-log.ts';
import { auditVisibleTo } from '../audit/audit-scope.ts';
import { KernelError } from '../errors.ts';
import { mayUse } from '../operations/principal.ts';
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

/**
 * `kernel audit`: as the CLI's principal, so a command reads the log exactly as the API does —
 * the operator (an administrator) all of it, an IG lead's token their own organisation's.
 */
export const registerAuditCommands: RegisterCommands = (program, context) => {
  const audit = program.command('audit').description('the tamper-evident audit log');

  audit
    .command('verify')
    .description('walk the hash chain; exits non-zero at the first broken event')
    .option('--json', 'print the verdict as JSON')
    .action(async (options: { json?: boolean }) => {
      const verdict = await context.withPrincipal((store, principal) => {
        if (!mayUse(AUDIT_READERS, principal)) {
          throw new KernelError('forbidden', 'The audit log is for administrators and IG leads', {
            hint: 'Ask your IG lead for what you need from it',
          });
        }
        return verifyAudit(store);
      });
      if (options.json) printJson(context.io, verdict);
      else if (verdict.ok) context.io.out(`OK: ${verdict.count} events, chain intact`);
      else
        context.io.out(
          `BROKEN at event ${verdict.brokenAt}: ${verdict.reason} (${verdict.count} events verified before it)`,
        );
      if (!verdict.ok) {
        throw new KernelError('invalid-input', `The audit log is broken at event ${verdict.brokenAt}`, {
          hint: 'Treat this as a security incident: restore the store from a backup and investigate who changed it',
        });
      }
    });

  audit
    .command('tail')
    .description('show the latest events')
    .addOption(new Option('-n, --lines <n>', 'how many').default('20'))
    .option('--action <prefix>', 'only actions starting with this, e.g. load.')
    .option('--actor <actor>', 'only this actor')
    .option('--json', 'print the events as JSON')
    .action(async (options: { lines: string; action?: string; actor?: string; json?: boolean }) => {
      const limit = Number(options.lines);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new KernelError('usage', `-n must be a whole number of 1 or more, not "${options.lines}"`);
      }
      const filter = {
        limit,
        ...(options.action ? { action: options.action } : {}),
        ...(options.actor ? { actor: options.actor } : {}),
      };
      const events = await context.withPrincipal((store, principal) =>
        auditVisibleTo(store, { role: principal.role, org: principal.org }, filter),
      );
      if (options.json) {
        printJson(
          context.io,
          events.map((e) => ({ ...e, details: JSON.parse(e.details) as unknown })),
        );
        return;
      }
      context.io.out(
        formatTable(
          ['seq', 'time', 'actor', 'action', 'target', 'purpose', 'details'],
          events.reverse().map((e) => [e.seq, e.at, e.actor, e.action, e.target, e.purpose, e.details]),
        ),
      );
    });
};
