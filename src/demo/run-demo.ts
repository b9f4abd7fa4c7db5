import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { appendAudit, countAudit } from '../audit/audit-log.ts';
import { listDatasets } from '../catalogue/catalogue.ts';
import { formatTable, type CliIo } from '../console/console.ts';
import type { ResolvedConfig } from '../config/config.ts';
import { KernelError } from '../errors.ts';
import { seedDemoGovernance } from '../governance/demo-governance.ts';
import { seedDemoProgramme } from '../reporting/demo-programme.ts';
import { seedDemoSignOff } from '../signoff/demo-signoff.ts';
import { seedDemoCharts } from './demo-charts.ts';
import { DEMO_CHANGES } from './demo-window.ts';
import { newLinkKey, readLinkKeyFile, writeLinkKeyFile } from '../privacy/link-key.ts';
import { readPostcodeLookup } from '../privacy/postcode-lookup.ts';
import { loadReferenceGeography, REFERENCE_MANIFEST_FILE } from '../reference/load-reference-geography.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import { createDemoUsers } from '../server/demo-users.ts';
import { startServer, type CommandRunner } from '../server/start-server.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { generateWorld } from '../synth/generate-world.ts';
import {
  listWorldFeeds,
  sendWorldFeeds,
  trustWorldSigningKeys,
  worldGpPractices,
} from './send-world-feeds.ts';
import { buildSpine } from '../kid/person-spine.ts';

export interface DemoOptions {
  people: number;
  serve: boolean;
  /** the synthetic world's first and last month */
  from: string;
  to: string;
  /** how the served portal runs CLI commands handed to it (the CLI passes its own) */
  runCommand?: CommandRunner;
}

export { DEMO_WINDOW } from './demo-window.ts';

/**
 * `kernel demo` (what `npm start` runs): the whole pipeline on the embedded store, from
 * nothing to a living portal, playing every part itself — the key custodian, each member
 * organisation's agent, the warehouse and the programme admin. Each step is the call the
 * matching CLI command makes. Running it again reuses the world and the keys, and every
 * load comes back `duplicate`: loads are idempotent.
 */
/** What the demo needs from whoever runs it (the CLI's context has it all). */
export interface DemoContext {
  io: CliIo;
  config(): ResolvedConfig;
  actor: string;
}

export async function runDemo(context: DemoContext, options: DemoOptions): Promise<void> {
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
      changes: DEMO_CHANGES.map((c) => ({ ...c })),
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
      extraOrganisations: worldGpPractices(worldDir),
      // the demo's use cases read published months only, as a new use case does
      months: 'published',
    });
    step(
      governance.alreadySeeded
        ? 'governance: already seeded'
        : `governance: ${governance.organisations} organisations, ${governance.agreements} agreements, ` +
            `${governance.useCases.length} use cases, ${governance.invoices.length} invoices raised`,
    );

    // The reference geography (LSOA 2011/2021, IMD, wards, practice PCNs) before any feed, so
    // the KID's first build has its PCNs (docs/geography.md). A world written before there
    // was any has no geography.json: the demo goes on without it.
    const referenceDir = path.join(worldDir, 'reference');
    if (existsSync(path.join(referenceDir, REFERENCE_MANIFEST_FILE))) {
      const releases = await loadReferenceGeography(store, referenceDir, context.actor);
      step(`reference geography: ${releases.map((r) => `${r.kind} ${r.version}`).join(', ')}`);
    }

    const feeds = listWorldFeeds(worldDir);
    const orgs = [...new Set(feeds.map((f) => f.org))];
    await trustWorldSigningKeys(store, keysDir, orgs, context.actor);
    step(`keys: one link key, ${orgs.length} organisations' signing keys trusted`);

    let lastShown = performance.now();
    let refusalsShown = 0;
    const sent = await sendWorldFeeds(store, {
      feeds,
      keysDir,
      outbox,
      tokeniser,
      postcodes,
      actor: context.actor,
      onProgress(done, total) {
        if (performance.now() - lastShown < 5000) return;
        step(`feeds: ${done} of ${total} de-identified and loaded`);
        lastShown = performance.now();
      },
      onRefused(feed, error) {
        // A refused feed is part of the story: the sender gets the reason and the report.
        if (refusalsShown++ < 3)
          io.out(`  refused ${feed.org}/${feed.dataset}/${feed.period}: ${error.message}`);
      },
    });
    step(
      `feeds: ${sent.loaded} loaded, ${sent.duplicate} already loaded (duplicate), ${sent.refused} refused, ` +
        `${sent.nil} nil returns; ${sent.rowsLoaded.toLocaleString('en-GB')} rows in the warehouse, ` +
        `${sent.rowsRejected.toLocaleString('en-GB')} quarantined with reasons`,
    );
    const mappedOrgs = [...new Set(feeds.filter((f) => f.mapping).map((f) => f.org))].sort();
    if (mappedOrgs.length > 0) {
      step(
        `source mappings: ${sent.mapped} maternity feeds of ${mappedOrgs.join(' and ')} mapped from their own layouts ` +
          `before de-identification, ${sent.mappedWithGaps} with something unmapped ` +
          `(${path.join(worldDir, 'mappings')}; kernel mappings check)`,
      );
    }
    const kid = await buildSpine(store, { actor: context.actor });
    step(
      `Kent Integrated Dataset: version ${kid.version}, ${kid.people.toLocaleString('en-GB')} people on the spine, ` +
        `built in ${kid.seconds.toFixed(1)}s (kernel kid status, /catalogue/linkage; ` +
        'the population health dashboard: /kid/population-health, as analyst@kernel.example under UC-001)',
    );

    // The programme office's 2021 plan and RAID log, checked against what was just loaded.
    const programme = await seedDemoProgramme(store, context.actor);
    step(
      programme.alreadySeeded
        ? 'programme: plan already seeded'
        : `programme: ${programme.workstreams} workstreams, ${programme.milestones} milestones, ${programme.raidItems} RAID items; ` +
            'try kernel report monthly --month 2021-07',
    );

    const signOff = await seedDemoSignOff(store, context.actor);
    if (signOff) {
      step(
        `sign-off: ${signOff.feed} for ${signOff.published} signed off and published; ${signOff.waiting} waits for ` +
          'provider.rwf@kernel.example (kernel signoff list, /signoff)' +
          (signOff.late ? `; ${signOff.late} is late (kernel feeds late)` : ''),
      );
    }

    const charts = await seedDemoCharts(store, context.actor);
    if (charts) {
      step(
        `charts: the induction chart rebased at the demo world's change, ${charts.targets} targets set (kernel charts, /dashboards/maternity)`,
      );
    }

    await printSummary(store, context);
    if (!options.serve) return;

    const accounts = await createDemoUsers(store, context.actor);
    const server = await startServer({
      store,
      config,
      ...(options.runCommand ? { runCommand: options.runCommand } : {}),
    });
    keepOpen = true;
    io.out('');
    io.out(`The portal is at ${server.url} — sign in with one of these demo accounts:`);
    io.out(
      formatTable(
        ['email', 'role', 'organisation', 'one-time password'],
        accounts.map((a) => [a.email, a.role, a.org ?? '', a.oneTimePassword]),
      ),
    );
    io.out(
      'Every role but viewer and programme also gives a code from an authenticator app: at first sign-in the portal shows a key to add to one (any TOTP app, or oathtool --totp -b KEY).',
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

async function printSummary(store: Store, context: DemoContext): Promise<void> {
  const byStatus = await store.query<{ status: string; n: number }>(
    'SELECT status, count(*) AS n FROM loads GROUP BY status ORDER BY status',
  );
  context.io.out('');
  context.io.out('What the warehouse holds:');
  context.io.out(
    formatTable(
      ['what', 'count'],
      [
        ['datasets in the catalogue', listDatasets().length],
        ...byStatus.map((row): [string, number] => [`loads ${row.status}`, row.n]),
        ['audit events', await countAudit(store)],
      ],
    ),
  );
}
