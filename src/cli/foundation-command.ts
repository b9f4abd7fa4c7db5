import { describeConfig } from '../config/config.ts';
import { migrate } from '../store/migrate.ts';
import { connectStore } from '../store/open-store.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { DEMO_PEOPLE, DEMO_WINDOW } from '../demo/demo-window.ts';
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

export const registerFoundationCommands: RegisterCommands = (program, context) => {
  program
    .command('init')
    .description('create the warehouse (if need be) and apply every migration')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const { config } = context.config();
      const store = await connectStore(config);
      try {
        const result = await migrate(store);
        if (result.applied.length > 0) {
          await store.transaction((tx) =>
            appendAudit(tx, {
              actor: context.actor,
              action: 'warehouse.migrated',
              target: 'warehouse',
              details: { version: result.current, applied: result.applied.map((m) => m.version) },
            }),
          );
        }
        if (options.json) {
          printJson(context.io, {
            store: store.description,
            version: result.current,
            applied: result.applied.map((m) => `${m.version}-${m.name}`),
          });
        } else {
          context.io.out(
            result.applied.length
              ? `Applied ${result.applied.length} migration(s) to ${store.description}; now at version ${result.current}`
              : `${store.description} is up to date at version ${result.current}`,
          );
        }
      } finally {
        await store.close();
      }
    });

  program
    .command('config')
    .description('print the effective configuration and where each value came from (secrets masked)')
    .option('--json', 'print as JSON')
    .option('--port <port>', 'HTTP port (as `kernel serve` would take it)')
    .option('--key <file>', 'link key file')
    .option('--sign-key <file>', 'signing key file')
    .option('--postcodes <file>', 'postcode lookup file')
    .action((options: { json?: boolean }) => {
      const resolved = context.config();
      const rows = describeConfig(resolved);
      if (options.json) {
        printJson(context.io, { file: resolved.file ?? null, settings: rows });
        return;
      }
      context.io.out(
        formatTable(
          ['setting', 'value', 'from'],
          rows.map((r) => [r.key, r.value, r.source]),
        ),
      );
      context.io.out(`config file: ${resolved.file ?? '(none)'}`);
    });

  program
    .command('demo')
    .description(
      'build a warehouse from the synthetic Kent and Medway world and serve the portal (what `npm start` runs)',
    )
    .option('--port <port>', 'HTTP port for the portal')
    .option('--people <n>', 'size of the synthetic population', String(DEMO_PEOPLE))
    .option('--from <YYYY-MM>', 'first month of synthetic activity', DEMO_WINDOW.from)
    .option('--to <YYYY-MM>', 'last month of synthetic activity', DEMO_WINDOW.to)
    .option('--no-serve', 'build and report, but make no demo accounts and do not start the portal')
    .action(async (options: { people: string; serve: boolean; from: string; to: string }) => {
      // Imported here: the demo pulls in the synthetic world and the server (see serve-command.ts).
      const { runDemo } = await import('../demo/run-demo.ts');
      const { runInServer } = await import('./serve-command.ts');
      await runDemo(context, {
        people: Number(options.people),
        serve: options.serve,
        from: options.from,
        to: options.to,
        runCommand: runInServer,
      });
    });
};
