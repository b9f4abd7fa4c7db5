import path from 'node:path';
import type { CommandRunner } from '../server/start-server.ts';
import type { RegisterCommands } from './cli-context.ts';

/** `kernel serve`: the portal and the API, until interrupted. */
export const registerServeCommands: RegisterCommands = (program, context) => {
  program
    .command('serve')
    .description('serve the portal and the API (the CLI keeps working: it hands commands to the server)')
    .option('--port <port>', 'HTTP port (default 8080)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option(
      '--landing <dir>',
      'a folder to watch: each file and signed manifest dropped there is loaded once',
    )
    .action(async (options: { host?: string; landing?: string }) => {
      const { config } = context.config();
      // Imported here, not at the top: the server (Hono, Nunjucks, the NHS.UK templates) is
      // the heaviest part of Kernel, and every other command would pay to load it.
      const { startServer } = await import('../server/start-server.ts');
      await context.withStore(async (store) => {
        const server = await startServer({
          store,
          config,
          host: options.host,
          ...(options.landing ? { landing: path.resolve(options.landing) } : {}),
          log: (line) => context.io.err(`${new Date().toISOString()} ${line}`),
          runCommand: runInServer,
        });
        context.io.out(`Kernel is serving ${store.description} at ${server.url} (Ctrl-C to stop)`);
        await waitForSignal();
        context.io.out('Stopping…');
        await server.close();
      });
    });
};

/**
 * What the server runs for a command the CLI hands it: this CLI's own `main`, against the
 * server's store. Passed in, so the server never imports the CLI.
 */
export const runInServer: CommandRunner = async (argv, io, store, token) => {
  const { main } = await import('./main.ts');
  return main(argv, io, { store, ...(token ? { token } : {}) });
};

/** Resolves on SIGINT or SIGTERM, so the store closes cleanly and server.json is removed. */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.removeListener('SIGINT', done);
      process.removeListener('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
