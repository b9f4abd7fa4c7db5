/**
 * bench/portal: how fast the portal answers under load, on a warehouse built by the real
 * pipeline from a large synthetic world.
 *
 *   npx tsx bench/portal/run.ts [--people 1000000] [--from 2019-08] [--to 2021-07]
 *                               [--clients 20] [--seconds 30] [--dir /tmp/kernel-bench-portal]
 *
 * 1. `generateWorld` (what `kernel synth` runs) writes the world's identifiable feeds;
 * 2. every maternity feed (msds-booking, msds-delivery, msds-baby; each acute trust, each
 *    month) goes through the agent (`deidentifyFile`) and the load (`loadFeed`), under the
 *    demo's governance (`seedDemoGovernance`): the same calls as `kernel deid` and `kernel load`.
 *    The other datasets are left out: the dashboard never reads them, and the coverage
 *    grid reads only the `loads` table;
 * 3. `kernel serve` runs in a child process on 127.0.0.1; an analyst's API token and a
 *    viewer's session are created first;
 * 4. `clients` concurrent loops, each a bounded `while` over plain `fetch`, call for
 *    `seconds` each: `GET /api/v1/dashboards/maternity` (every provider, 24 months) and
 *    the catalogue's coverage grid page. It prints requests per second, p50, p95 and p99
 *    latency and errors for each, against the target p95 < 150 ms with no errors; and the
 *    same for `GET /api/v1/me` (authentication alone) as the server's floor on this machine.
 *
 * The world and the warehouse are kept in `--dir`, so a second run only serves and measures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listWorldFeeds, sendWorldFeeds, trustWorldSigningKeys } from '../../src/demo/send-world-feeds.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import { newLinkKey, readLinkKeyFile, writeLinkKeyFile } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { createApiToken } from '../../src/server/auth/api-tokens.ts';
import { createSession } from '../../src/server/auth/sessions.ts';
import { addUser, changePassword, findUserByEmail } from '../../src/server/auth/user-accounts.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/portal/run.ts', {
  options: {
    people: { type: 'string', default: '1000000' },
    from: { type: 'string', default: '2019-08' },
    to: { type: 'string', default: '2021-07' },
    clients: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    dir: { type: 'string', default: '/tmp/kernel-bench-portal' },
    port: { type: 'string', default: '18080' },
  },
});
const people = Number(values.people);
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const port = Number(values.port);
const dir = path.resolve(values.dir);
const worldDir = path.join(dir, 'world');
const dataDir = path.join(dir, 'data');
const keysDir = path.join(dir, 'keys');
const outbox = path.join(dir, 'outbox');
const MSDS = ['msds-booking', 'msds-delivery', 'msds-baby'];
const ACTOR = 'bench:portal';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const started = performance.now();
const log = (text: string): void =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${text}`);

async function buildWarehouse(): Promise<{ token: string; cookie: string }> {
  if (!existsSync(path.join(worldDir, 'feeds'))) {
    log(`generating a world of ${people.toLocaleString('en-GB')} people, ${values.from} to ${values.to}…`);
    const world = generateWorld({
      out: worldDir,
      people,
      seed: 1,
      from: values.from,
      to: values.to,
      onMonth: (month, rows) => log(`  synth ${month}: ${rows.toLocaleString('en-GB')} rows`),
    });
    log(
      `world: ${world.files} files, ${world.rows.toLocaleString('en-GB')} rows in ${world.seconds.toFixed(1)}s`,
    );
    for (const d of MSDS) log(`  ${d}: ${(world.rowsByDataset[d] ?? 0).toLocaleString('en-GB')} rows`);
  } else {
    log(`reusing the world in ${worldDir}`);
  }
  mkdirSync(keysDir, { recursive: true });
  const linkKeyFile = path.join(keysDir, 'link.key');
  if (!existsSync(linkKeyFile)) writeLinkKeyFile(linkKeyFile, newLinkKey());
  const tokeniser = hmacTokeniser(readLinkKeyFile(linkKeyFile));
  const postcodes = await readPostcodeLookup(path.join(worldDir, 'reference', 'postcodes.csv'));

  const store = await openStore({ store: 'duckdb', dataDir });
  try {
    const governance = await seedDemoGovernance(store, ACTOR);
    log(
      governance.alreadySeeded
        ? 'governance: already seeded'
        : `governance: ${governance.useCases.length} use cases`,
    );
    const feeds = listWorldFeeds(worldDir, MSDS);
    await trustWorldSigningKeys(store, keysDir, [...new Set(feeds.map((f) => f.org))], ACTOR);
    const loadStarted = performance.now();
    let refusalsShown = 0;
    const sent = await sendWorldFeeds(store, {
      feeds,
      keysDir,
      outbox,
      tokeniser,
      postcodes,
      actor: ACTOR,
      onRefused: (feed, error) => {
        if (refusalsShown++ < 3)
          log(`  refused ${feed.org}/${feed.dataset}/${feed.period}: ${error.message}`);
      },
    });
    const { loaded, refused, rowsLoaded: rows } = sent;
    log(
      `maternity feeds: ${feeds.length} files, ${loaded} newly loaded, ${refused} refused, ` +
        `${rows.toLocaleString('en-GB')} rows in ${((performance.now() - loadStarted) / 1000).toFixed(1)}s`,
    );
    for (const d of MSDS) {
      const [row] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ds_${d.replace(/-/g, '_')}`);
      log(`  ds_${d.replace(/-/g, '_')}: ${Number(row?.n ?? 0).toLocaleString('en-GB')} rows`);
    }
    return await accounts(store);
  } finally {
    await store.close();
  }
}

/** An analyst with an API token, and a viewer with a session, both ready to use. */
async function accounts(store: Store): Promise<{ token: string; cookie: string }> {
  const password = 'bench portal passphrase';
  const ready = async (email: string, role: string): Promise<string> => {
    const existing = await findUserByEmail(store, email);
    if (existing) return existing.id;
    const { user } = await addUser(store, { email, role, password: `${password} 0` }, ACTOR);
    await changePassword(store, user.id, `${password} 0`, password, ACTOR);
    return user.id;
  };
  await ready('analyst@bench.test', 'analyst');
  const viewerId = await ready('viewer@bench.test', 'viewer');
  const { token } = await createApiToken(store, 'analyst@bench.test', ACTOR);
  const { sessionId } = await createSession(store, viewerId);
  return { token, cookie: `kernel_session=${sessionId}` };
}

function startServe(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'kernel.js'), 'serve', '--data', dataDir, '--port', String(port)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'], // the request log goes to stderr: not measured here
    },
  );
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async (): Promise<void> => {
      for (let i = 0; Date.now() < deadline; i++) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
          if (response.ok) return resolve(child);
        } catch {
          // not listening yet
        }
        if (child.exitCode !== null) return reject(new Error(`kernel serve exited with ${child.exitCode}`));
        await new Promise((r) => setTimeout(r, 250));
      }
      reject(new Error('kernel serve did not answer within 60 s'));
    };
    void poll();
  });
}

interface Result {
  name: string;
  requests: number;
  errors: number;
  firstStatus: string;
  latencies: number[];
  seconds: number;
}

async function hammer(name: string, url: string, headers: Record<string, string>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let firstStatus = '';
  const until = performance.now() + seconds * 1000;
  const began = performance.now();
  const client = async (): Promise<void> => {
    // Bounded: each loop stops at the deadline.
    while (performance.now() < until) {
      const t = performance.now();
      try {
        const response = await fetch(url, { headers, redirect: 'manual' });
        await response.arrayBuffer();
        if (response.status !== 200) {
          errors++;
          firstStatus ||= String(response.status);
        }
      } catch (error) {
        errors++;
        firstStatus ||= (error as Error).message;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return {
    name,
    requests: latencies.length,
    errors,
    firstStatus,
    latencies,
    seconds: (performance.now() - began) / 1000,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { token, cookie } = await buildWarehouse();
  const server = await startServe();
  try {
    const base = `http://127.0.0.1:${port}`;
    const api = `${base}/api/v1/dashboards/maternity?from=${values.from}&to=${values.to}`;
    const grid = `${base}/catalogue/coverage`;
    const auth = { Authorization: `Bearer ${token}` };
    // The first request computes every measure from the warehouse; the rest hit the cache.
    for (const [label, url, headers] of [
      ['maternity API', api, auth],
      ['coverage grid', grid, { Cookie: cookie }],
    ] as const) {
      const t = performance.now();
      const response = await fetch(url, { headers, redirect: 'manual' });
      const body = await response.text();
      log(
        `first ${label} request: ${response.status} in ${(performance.now() - t).toFixed(0)} ms (${(body.length / 1024).toFixed(0)} KiB)`,
      );
      if (label === 'maternity API' && response.ok) {
        const parsed = JSON.parse(body) as {
          controllers: string[];
          measures: { id: string }[];
          months: string[];
        };
        log(
          `  ${parsed.measures.length} measures × ${parsed.months.length} months × (system + ${parsed.controllers.length} providers)`,
        );
      }
    }
    const results = [
      await hammer('GET /api/v1/dashboards/maternity (all providers, 24 months)', api, auth),
      await hammer('GET /catalogue/coverage (page)', grid, { Cookie: cookie }),
      // The floor: an authenticated API call that does nothing else, on the same server.
      await hammer('GET /api/v1/me (baseline: authentication only)', `${base}/api/v1/me`, auth),
    ];
    console.log('');
    console.log(
      `bench/portal: ${people.toLocaleString('en-GB')} people, ${clients} concurrent clients, ${seconds} s each, ` +
        `kernel serve on DuckDB; load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} on ${os.cpus().length} cores`,
    );
    const lines: string[] = [];
    for (const r of results) {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      const p95 = percentile(sorted, 95);
      const line =
        `${r.name}\n  ${(r.requests / r.seconds).toFixed(1)} requests/s (${r.requests} in ${r.seconds.toFixed(1)} s); ` +
        `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms; ` +
        `${r.errors} errors${r.firstStatus ? ` (first: ${r.firstStatus})` : ''} — target p95 < 150 ms, no errors: ${p95 < 150 && r.errors === 0 ? 'met' : 'NOT met'}`;
      console.log(line);
      lines.push(line);
    }
    writeFileSync(path.join(dir, 'last-result.txt'), `${lines.join('\n')}\n`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

await main();
