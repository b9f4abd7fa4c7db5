import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { appendAudit, countAudit } from '../audit/audit-log.ts';
import { listDatasets } from '../catalogue/catalogue.ts';
import type { CliContext } from '../cli/cli-context.ts';
import { formatTable } from '../cli/cli-context.ts';
import { KernelError } from '../errors.ts';
import { seedDemoGovernance, type ExtraOrganisation } from '../governance/demo-governance.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { listLoads } from '../ingest/load-history.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import { newLinkKey, readLinkKeyFile, writeLinkKeyFile } from '../privacy/link-key.ts';
import { readPostcodeLookup } from '../privacy/postcode-lookup.ts';
import { newSigningKeyPair, readSigningPrivateKey, writeSigningKeyPair } from '../privacy/signing-key.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import { trustSigningKey } from '../privacy/trusted-keys.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { createDemoUsers } from '../server/demo-users.ts';
import { startServer } from '../server/start-server.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { generateWorld } from '../synth/generate-world.ts';

export interface DemoOptions {
  people: number;
  serve: boolean;
  /** the synthetic world's first and last month */
  from: string;
  to: string;
}

export const DEMO_WINDOW = { from: '2019-04', to: '2021-03' } as const;

interface Feed {
  org: string;
  dataset: string;
  period: string;
  file: string;
}

/**
 * `kernel demo` (what `npm start` runs): the whole pipeline on the embedded store, from
 * nothing to a living portal, playing every part itself — the key custodian, each member
 * organisation's agent, the warehouse and the programme admin. Each step is the call the
 * matching CLI command makes. Running it again reuses the world and the keys, and every
 * load comes back `duplicate`: loads are idempotent.
 */
export async function runDemo(context: CliContext, options: DemoOptions): Promise<void> {
  const { config } = context.config();
  const io = context.io;
  if (!Number.isInteger(options.people) || options.people < 100 || options.people > 2_000_000) {
    throw new KernelError(
      'usage',
      `--people must be a whole number from 100 to 2000000, not "${options.people}"`,
    );
  }
  const started = performance.now();
  const step = (text: string): void =>
    io.out(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${text}`);
  const demoDir = path.join(config.dataDir, 'demo');
  const worldDir = path.join(demoDir, 'world');
  const keysDir = path.join(demoDir, 'keys');
  const outbox = path.join(demoDir, 'outbox');
  mkdirSync(keysDir, { recursive: true });

  io.out(`Kernel demo: a synthetic Kent and Medway warehouse in ${config.dataDir}`);
  if (!existsSync(path.join(worldDir, 'feeds'))) {
    const world = generateWorld({
      out: worldDir,
      people: options.people,
      seed: 1,
      from: options.from,
      to: options.to,
    });
    step(
      `synthetic world: ${world.people.toLocaleString('en-GB')} people, ${world.files} feed files, ` +
        `${world.rows.toLocaleString('en-GB')} rows, ${Object.values(world.defectsByKind).reduce((a, b) => a + b, 0)} injected defects`,
    );
  } else {
    step(`synthetic world: reusing ${worldDir}`);
  }

  // The key custodian makes the link key once; every organisation's agent uses it.
  const linkKeyFile = path.join(keysDir, 'link.key');
  if (!existsSync(linkKeyFile)) writeLinkKeyFile(linkKeyFile, newLinkKey());
  const tokeniser = hmacTokeniser(readLinkKeyFile(linkKeyFile));
  const postcodes = await readPostcodeLookup(path.join(worldDir, 'reference', 'postcodes.csv'));

  const store = await openStore(config);
  let keepOpen = false;
  try {
    await store.transaction((tx) =>
      appendAudit(tx, {
        actor: context.actor,
        action: 'demo.started',
        target: 'warehouse',
        details: { people: options.people, from: options.from, to: options.to },
      }),
    );
    const governance = await seedDemoGovernance(store, context.actor, {
      extraOrganisations: worldOrganisations(worldDir),
    });
    step(
      governance.alreadySeeded
        ? 'governance: already seeded'
        : `governance: ${governance.organisations} organisations, ${governance.agreements} agreements, ` +
            `${governance.useCases.length} use cases, ${governance.invoices.length} invoices raised`,
    );

    const feeds = listFeeds(path.join(worldDir, 'feeds'));
    const orgs = [...new Set(feeds.map((f) => f.org))];
    for (const org of orgs) await ensureSigningKey(store, keysDir, org, context.actor);
    step(`keys: one link key, ${orgs.length} organisations' signing keys trusted`);

    const counts = { loaded: 0, duplicate: 0, refused: 0, nil: 0, rows: 0, quarantined: 0 };
    let lastShown = performance.now();
    for (const [index, feed] of feeds.entries()) {
      // A month with no activity is a nil return: nothing to send (a header-only file is refused).
      if (!hasDataRows(feed.file)) {
        counts.nil++;
        continue;
      }
      try {
        const out = path.join(outbox, feed.org, feed.dataset, `${feed.period}.csv`);
        if (!existsSync(`${out}.manifest.json`)) {
          mkdirSync(path.dirname(out), { recursive: true });
          await deidentifyFile({
            spec: getDataset(feed.dataset),
            org: feed.org,
            input: feed.file,
            output: out,
            tokeniser,
            postcodes,
            signing: readSigningPrivateKey(path.join(keysDir, `${feed.org}.key`)),
            period: feed.period,
          });
        }
        const report = await loadFeed(store, {
          org: feed.org,
          dataset: feed.dataset,
          period: feed.period,
          file: out,
          actor: context.actor,
        });
        if (report.status === 'duplicate') counts.duplicate++;
        else counts.loaded++;
        counts.rows += report.rowsLoaded;
        counts.quarantined += report.rowsRejected;
      } catch (error) {
        if (!(error instanceof KernelError)) throw error;
        // A refused feed is part of the story: the sender gets the reason and the report.
        counts.refused++;
        if (counts.refused <= 3)
          io.out(`  refused ${feed.org}/${feed.dataset}/${feed.period}: ${error.message}`);
      }
      if (performance.now() - lastShown > 5000) {
        step(`feeds: ${index + 1} of ${feeds.length} de-identified and loaded`);
        lastShown = performance.now();
      }
    }
    step(
      `feeds: ${counts.loaded} loaded, ${counts.duplicate} already loaded (duplicate), ${counts.refused} refused, ` +
        `${counts.nil} nil returns; ` +
        `${counts.rows.toLocaleString('en-GB')} rows in the warehouse, ${counts.quarantined.toLocaleString('en-GB')} quarantined with reasons`,
    );

    await printSummary(store, context);
    if (!options.serve) return;

    const accounts = await createDemoUsers(store, context.actor);
    const server = await startServer({ store, config });
    keepOpen = true;
    io.out('');
    io.out(`The portal is at ${server.url} — sign in with one of these demo accounts:`);
    io.out(
      formatTable(
        ['email', 'role', 'organisation', 'one-time password'],
        accounts.map((a) => [a.email, a.role, a.org ?? '', a.oneTimePassword]),
      ),
    );
    io.out('Press Ctrl+C to stop.');
    const stop = async (): Promise<void> => {
      await server.close();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  } finally {
    if (!keepOpen) await store.close();
  }
}

function hasDataRows(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  const firstBreak = text.indexOf('\n');
  return firstBreak >= 0 && text.slice(firstBreak + 1).trim().length > 0;
}

async function ensureSigningKey(store: Store, keysDir: string, org: string, actor: string): Promise<void> {
  const file = path.join(keysDir, `${org}.key`);
  if (!existsSync(file)) writeSigningKeyPair(file, newSigningKeyPair());
  await trustSigningKey(store, org, readFileSync(`${file}.pub`, 'utf8'), actor);
}

/** Every feed file of the world, organisation by organisation, month by month. */
function listFeeds(feedsDir: string): Feed[] {
  const feeds: Feed[] = [];
  for (const org of readdirSync(feedsDir).sort()) {
    for (const dataset of readdirSync(path.join(feedsDir, org)).sort()) {
      for (const name of readdirSync(path.join(feedsDir, org, dataset)).sort()) {
        const match = /^(\d{4}-\d{2})\.csv$/.exec(name);
        if (match?.[1])
          feeds.push({ org, dataset, period: match[1], file: path.join(feedsDir, org, dataset, name) });
      }
    }
  }
  // Month by month across organisations, as feeds would arrive.
  return feeds.sort((a, b) => a.period.localeCompare(b.period) || a.org.localeCompare(b.org));
}

/** The world's own organisations that the seed does not know (its synthetic GP practices). */
function worldOrganisations(worldDir: string): ExtraOrganisation[] {
  const text = readFileSync(path.join(worldDir, 'reference', 'organisations.csv'), 'utf8');
  const [header, ...lines] = text.trim().split('\n');
  const columns = (header ?? '').split(',');
  const at = (name: string): number => columns.indexOf(name);
  return lines
    .map((line) => line.split(','))
    .filter((cells) => cells[at('type')] === 'gp')
    .map((cells) => ({
      code: cells[at('ods_code')] ?? '',
      name: cells[at('name')] ?? '',
      type: 'gp' as const,
    }));
}

async function printSummary(store: Store, context: CliContext): Promise<void> {
  const loads = await listLoads(store, {});
  const byStatus = new Map<string, number>();
  for (const load of loads) byStatus.set(load.status, (byStatus.get(load.status) ?? 0) + 1);
  context.io.out('');
  context.io.out('What the warehouse holds:');
  context.io.out(
    formatTable(
      ['what', 'count'],
      [
        ['datasets in the catalogue', listDatasets().length],
        ...[...byStatus.entries()].sort().map(([status, n]): [string, number] => [`loads ${status}`, n]),
        ['audit events', await countAudit(store)],
      ],
    ),
  );
}
