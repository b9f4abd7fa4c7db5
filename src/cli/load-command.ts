import type { Command } from 'commander';
import { KernelError } from '../errors.ts';
import { parsePeriod } from '../months.ts';
import { loadFeed, LoadRefusedError, type LoadRequest } from '../ingest/load-feed.ts';
import {
  getLoadReport,
  LOAD_STATUSES,
  pageOfLoads,
  reportJson,
  writeQuarantine,
  type LoadDetails,
  type LoadFilter,
  type LoadReport,
  type LoadStatus,
} from '../ingest/load-history.ts';
import { readLinkKeyFile } from '../privacy/link-key.ts';
import { readPostcodeLookup } from '../privacy/postcode-lookup.ts';
import {
  formatTable,
  printingCsv,
  printJson,
  printTablesAsCsv,
  type CliIo,
  type RegisterCommands,
} from './cli-context.ts';

/**
 * A progress bar on stderr, only when a person is watching (`io.isTTY`). Each update moves
 * the cursor to the start of the previous line and clears it (ANSI CSI "F" and "K"), so
 * the bar redraws in place.
 */
export function progressBar(
  io: CliIo,
  label: string,
): { update(done: number, total: number, phase?: string): void; done(): void } {
  let shown = false;
  let last = '';
  return {
    update(done, total, phase = label) {
      if (!io.isTTY || total <= 0) return;
      const percent = Math.min(100, Math.floor((done * 100) / total));
      const key = `${phase}${percent}`;
      if (key === last) return;
      last = key;
      const width = 30;
      const filled = Math.round((percent * width) / 100);
      io.err(
        `${shown ? '\x1b[1F\x1b[2K' : ''}${phase.padEnd(12)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${percent}%`,
      );
      shown = true;
    },
    done() {
      if (shown) io.err('\x1b[1F\x1b[2K\x1b[1F');
      shown = false;
    },
  };
}

export function formatLoadReport(report: LoadReport | LoadDetails): string {
  const lines: string[] = [];
  const details = 'state' in report ? report : undefined;
  const headline =
    report.status === 'duplicate'
      ? `Duplicate: this file was already loaded as ${report.loadId}; nothing changed.`
      : details?.interrupted
        ? `Interrupted: ${report.dataset} from ${report.org} (load ${report.loadId}) stopped before it finished; nothing it wrote is kept.`
        : report.status === 'refused'
          ? `Refused: ${report.dataset} from ${report.org}${report.loadId ? ` (load ${report.loadId})` : ''}; nothing was loaded.`
          : `Loaded ${report.dataset} from ${report.org} for ${report.period ?? '?'} as ${report.loadId}${details && details.state !== 'loaded' ? ` (now ${details.state}${details.supersededBy ? ` by ${details.supersededBy}` : ''})` : ''}.`;
  lines.push(headline);
  lines.push(`File: ${report.file}${report.sha256 ? ` (SHA-256 ${report.sha256.slice(0, 16)}…)` : ''}`);
  if (details?.error) lines.push(`Reason: ${details.error}`);
  if (report.status !== 'duplicate') {
    const split = details
      ? `, quarantined ${details.rowsQuarantined}, dropped ${details.rowsDropped} (duplicates)`
      : `, rejected ${report.rowsRejected}`;
    lines.push(`Rows: read ${report.rowsRead}, loaded ${report.rowsLoaded}${split}`);
  }
  if (report.findings.length > 0) {
    lines.push('', 'Findings:');
    lines.push(
      formatTable(
        ['rule', 'field', 'count', 'first line'],
        report.findings.map((f) => [f.rule, f.field ?? '(whole row)', f.count, f.firstLine]),
      ),
    );
  }
  if (details && details.completeness.length > 0) {
    lines.push('', 'Completeness:');
    lines.push(
      formatTable(
        ['field', 'filled', '%'],
        details.completeness.map((c) => [c.field, c.filled, c.percent.toFixed(1)]),
      ),
    );
  }
  if (details?.supersedes.length) lines.push('', `Supersedes: ${details.supersedes.join(', ')}`);
  lines.push('', `Time: ${report.seconds.toFixed(2)} s`);
  return lines.join('\n');
}

interface LoadOptions {
  org: string;
  dataset: string;
  period?: string;
  json?: boolean;
}

/** `kernel load` and `kernel loads`: the warehouse's side of a feed. */
export const registerLoadCommands: RegisterCommands = (program, context) => {
  program
    .command('load')
    .description('verify, validate and load a pseudonymised feed file, all or nothing')
    .requiredOption('--org <ods>', 'the sending organisation')
    .requiredOption('--dataset <id>', 'the dataset the file is')
    .option('--period <YYYY-MM>', "the reporting month (default: the manifest's)")
    .argument('<file>', 'the file from `kernel deid` (its manifest beside it)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: LoadOptions) => {
      const config = context.config().config;
      const request: LoadRequest = {
        org: options.org,
        dataset: options.dataset,
        ...(options.period ? { period: options.period } : {}),
        file,
        actor: context.actor,
      };
      if (config.allowIdentifiableLoads) {
        if (!config.keyPath) {
          throw new KernelError('config', 'allowIdentifiableLoads is on but no link key is configured', {
            hint: 'Set keyPath in kernel.config.json or KERNEL_KEY',
          });
        }
        request.identifiable = {
          linkKey: readLinkKeyFile(config.keyPath),
          ...(config.postcodeLookupPath
            ? { postcodes: await readPostcodeLookup(config.postcodeLookupPath) }
            : {}),
          workDir: config.dataDir,
        };
      }
      const bar = progressBar(context.io, 'load');
      try {
        const report = await context.withStore((store) =>
          loadFeed(store, request, (p) => bar.update(p.done, p.total, p.phase)),
        );
        bar.done();
        if (options.json) printJson(context.io, reportJson(report));
        else if (report.status === 'duplicate') context.io.out(formatLoadReport(report));
        else
          context.io.out(
            formatLoadReport(await context.withStore((store) => getLoadReport(store, report.loadId ?? ''))),
          );
      } catch (error) {
        bar.done();
        if (error instanceof LoadRefusedError && options.json)
          printJson(context.io, reportJson(error.report, error));
        throw error;
      }
    });

  const loads = program
    .command('loads')
    .description(
      'the load history, newest first, a page at a time; `loads show ID`, `loads quarantine ID --out FILE`',
    )
    .option('--org <ods>', 'only this organisation')
    .option('--dataset <id>', 'only this dataset')
    .option('--period <YYYY-MM>', 'only this reporting month')
    .option('--status <state>', `only loads in this state: ${LOAD_STATUSES.join(', ')}`)
    .option('--limit <n>', 'loads per page, 1 to 1000', '50')
    .option('--before <cursor>', 'the next page: the cursor the page before printed')
    .option('--json', 'print the page as JSON: {loads, total, next}')
    .action(async (options: LoadsOptions & { json?: boolean }) => {
      const page = await context.withStore((store) => pageOfLoads(store, loadFilterOf(options)));
      if (options.json) {
        printJson(context.io, page);
        return;
      }
      if (page.total === 0 && !printingCsv()) {
        context.io.out('No loads match.');
        return;
      }
      context.io.out(
        formatTable(
          ['load', 'org', 'dataset', 'period', 'state', 'read', 'loaded', 'rejected', 'started'],
          page.loads.map((r) => [
            r.loadId,
            r.org,
            r.dataset,
            r.period,
            r.interrupted ? 'interrupted' : r.state,
            r.rowsRead,
            r.rowsLoaded,
            r.rowsRejected,
            r.startedAt,
          ]),
        ),
      );
      context.io.out(
        page.next
          ? `${page.loads.length} of ${page.total} loads. Older: add --before ${page.next}`
          : `${page.total} ${page.total === 1 ? 'load' : 'loads'}${options.before ? ' (last page)' : ''}.`,
      );
    });

  loads
    .command('show')
    .description("print a load's report")
    .argument('<load>', 'the load id')
    .option('--json', 'print the report as JSON')
    .action(async (loadId: string, _options: unknown, command: Command) => {
      // `loads` takes --json and --csv for its list too, and commander hands a flag written
      // after `show` to the parent that knows it: show takes them from either.
      const { json, csv } = command.optsWithGlobals<{ json?: boolean; csv?: boolean }>();
      if (csv === true) printTablesAsCsv(true);
      const details = await context.withStore((store) => getLoadReport(store, loadId));
      if (json === true) printJson(context.io, details);
      else context.io.out(formatLoadReport(details));
    });

  loads
    .command('quarantine')
    .description("write a load's quarantined rows (tokens, never identifiers) with line numbers and reasons")
    .argument('<load>', 'the load id')
    .requiredOption('--out <file>', 'the CSV file to write (never overwritten)')
    .action(async (loadId: string, options: { out: string }) => {
      const count = await context.withStore((store) =>
        writeQuarantine(store, loadId, options.out, context.actor),
      );
      context.io.out(`Wrote ${count} quarantined rows of ${loadId} to ${options.out}.`);
    });
};

/** The flags of `kernel loads` that choose which loads to list, as the command line gives them. */
interface LoadsOptions {
  org?: string;
  dataset?: string;
  period?: string;
  status?: string;
  limit: string;
  before?: string;
}

/** The command line's filter, checked, as `pageOfLoads` takes it. */
function loadFilterOf(options: LoadsOptions): LoadFilter {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new KernelError('usage', `"${options.limit}" is not a number of loads from 1 to 1000`, {
      where: { field: 'limit' },
    });
  }
  if (options.period !== undefined) parsePeriod(options.period);
  if (options.status !== undefined && !(LOAD_STATUSES as readonly string[]).includes(options.status)) {
    throw new KernelError('usage', `"${options.status}" is not a load state`, {
      where: { field: 'status' },
      hint: `Use one of ${LOAD_STATUSES.join(', ')}`,
    });
  }
  return {
    limit,
    ...(options.org ? { org: options.org.toUpperCase() } : {}),
    ...(options.dataset ? { dataset: options.dataset } : {}),
    ...(options.period ? { period: options.period } : {}),
    ...(options.status ? { status: options.status as LoadStatus } : {}),
    ...(options.before ? { before: options.before } : {}),
  };
}
