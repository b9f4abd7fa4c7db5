/**
 * bench/kid: how long the Kent Integrated Dataset takes to build, and how much memory, on a
 * warehouse loaded by the real pipeline from a large synthetic world (docs/kid.md, "Benchmark").
 *
 *   npx tsx bench/kid/run.ts [--people 100000] [--from 2019-08] [--to 2021-07] [--rounds 3]
 *                            [--dir /tmp/kernel-bench-kid-100000] [--agents 2] [--prepare-only]
 *                            [--replicas 1] [--store duckdb|postgres] [--optout-percent 5]
 *
 * `--store postgres` measures the same on PostgreSQL: a server started as the tests start
 * theirs (test/postgres-server.ts), its data kept in `--dir` with the warehouse, and stopped at
 * the end. Its processes' CPU seconds and memory (bench/postgres-processes.ts) are printed
 * beside the node process's.
 *
 * 1. `generateWorld` writes the world (the feeds the KID does not read are then deleted); the
 *    feeds the KID reads (pmi, gp-events, asc, fire-safety, apc, ecds, op) of every month but
 *    the last go through the agent (in `--agents` parallel processes, bench/kid/agent-worker.ts)
 *    and the load, under the demo's governance: the same calls as `kernel deid` and `kernel
 *    load`. With `--prepare-only` the run stops there and marks the warehouse prepared;
 * 2. with `--replicas F`, the warehouse is copied F times over with re-keyed tokens and loads
 *    (bench/kid/replicate.ts), e.g. 19 copies of 100,000 people for 1.9 million;
 * 3. with `--optout-percent P` (5 unless given; England's list holds about 5% of people),
 *    every (100 / P)-th person of the PMI goes on the national data opt-out list, which each
 *    build counts ahead (bench/kid/optouts.ts);
 * 4. the full build (`buildSpine --full`) runs `rounds` times: median seconds, and the
 *    process's peak resident memory (DuckDB runs in-process, so its memory is counted; a
 *    PostgreSQL server's is the peak of its processes' summed proportional set sizes);
 * 5. the last month is loaded (and copied F times) and the KID rebuilt incrementally, then in
 *    full from the same inputs: the ratio incremental / full (target: no more than 0.2), and
 *    each build's steps.
 * The load average is printed before each run; the machine may be shared.
 * The world and the warehouse are kept in `--dir`; a prepared warehouse is not loaded again.
 * A measuring run loads the last month into it, so to measure again, measure a copy of `--dir`
 * made after `--prepare-only` (on PostgreSQL, copied with the server stopped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  isNilReturn,
  listWorldFeeds,
  sendWorldFeeds,
  trustWorldSigningKeys,
  worldGpPractices,
  type WorldFeed,
} from '../../src/demo/send-world-feeds.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import { buildSpine, type SpineBuild } from '../../src/kid/person-spine.ts';
import { newLinkKey, readLinkKeyFile, writeLinkKeyFile } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { startPostgres, type PostgresServer } from '../../test/postgres-server.ts';
import { serverProcesses, type ServerProcesses } from '../postgres-processes.ts';
import { loadBenchOptOuts, optOutPercentOf } from './optouts.ts';
import { replicateLoads } from './replicate.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/kid/run.ts', {
  options: {
    people: { type: 'string', default: '100000' },
    from: { type: 'string', default: '2019-08' },
    to: { type: 'string', default: '2021-07' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string' },
    agents: { type: 'string', default: '2' },
    replicas: { type: 'string', default: '1' },
    'prepare-only': { type: 'boolean', default: false },
    store: { type: 'string', default: 'duckdb' },
    'optout-percent': { type: 'string', default: '5' },
  },
});
const people = Number(values.people);
const replicas = Number(values.replicas);
const rounds = Number(values.rounds);
const onPostgres = values.store === 'postgres';
if (!onPostgres && values.store !== 'duckdb') {
  console.error(
    `bench/kid: --store ${values.store} is not a store it runs on; give --store duckdb or --store postgres`,
  );
  process.exit(2);
}
const optOut = optOutPercentOf(values['optout-percent'], 'bench/kid');
if (typeof optOut !== 'number') {
  console.error(optOut.refused);
  process.exit(2);
}
const optOutPercent = optOut;
const dir = path.resolve(values.dir ?? `/tmp/kernel-bench-kid-${people}`);
const worldDir = path.join(dir, 'world');
const keysDir = path.join(dir, 'keys');
const ACTOR = 'bench-kid';
const DATASETS = ['pmi', 'gp-events', 'asc', 'fire-safety', 'apc', 'ecds', 'op'];
const TARGETS = { fullSeconds1_9M: 600, memoryBytes: 4 * 1024 ** 3, incrementalShare: 0.2 };

const log = (text: string): void => console.log(text);
const loadAverage = (): string =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

interface Measured<T> {
  result: T;
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
  /** On PostgreSQL, the server's processes over the same time: their CPU seconds and their peak memory. */
  server?: { cpuSeconds: number; peakMemory: number };
}

/**
 * Runs `work`, sampling the resident set every 50 ms: seconds, the peak seen, and the CPU
 * seconds the process spent (user and system, DuckDB's threads included as it runs
 * in-process): on a shared machine the wall clock moves with others' load, the CPU time less.
 * Given a PostgreSQL `server`, its processes' CPU seconds too, and their memory sampled every
 * second: reading each process's memory map costs CPU, so it is read seldom, and the node
 * process's CPU seconds are given without what that reading cost.
 */
async function measured<T>(work: () => Promise<T>, server?: ServerProcesses): Promise<Measured<T>> {
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  let peakServer = server?.memoryBytes() ?? 0;
  let samplingCpu = 0;
  const serverTimer = server
    ? setInterval(() => {
        const before = process.cpuUsage();
        peakServer = Math.max(peakServer, server.memoryBytes());
        const used = process.cpuUsage(before);
        samplingCpu += (used.user + used.system) / 1e6;
      }, 1000)
    : undefined;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const serverCpu = server?.cpuSeconds() ?? 0;
  try {
    const result = await work();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const used = process.cpuUsage(cpu);
    return {
      result,
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6 - samplingCpu,
      peakRss,
      ...(server
        ? {
            server: {
              cpuSeconds: server.cpuSeconds() - serverCpu,
              peakMemory: Math.max(peakServer, server.memoryBytes()),
            },
          }
        : {}),
    };
  } finally {
    clearInterval(timer);
    clearInterval(serverTimer);
  }
}

const mib = (bytes: number): string => (bytes / 1024 ** 2).toFixed(0);

/** CPU seconds: the node process's, and on PostgreSQL the server's beside them. */
const cpuText = (node: number, server?: number): string =>
  server === undefined
    ? `${node.toFixed(1)} CPU s`
    : `${node.toFixed(1)} CPU s node, ${server.toFixed(1)} CPU s server`;

/** What a build cost in CPU: the node process's and, on PostgreSQL, the server's together. */
const totalCpu = (run: Measured<unknown>): number => run.cpuSeconds + (run.server?.cpuSeconds ?? 0);

/** A build's peak memory: the node process's, and on PostgreSQL the server's beside it. */
const memoryText = (peakRss: number, server?: { peakMemory: number }): string =>
  server
    ? `peak RSS ${mib(peakRss)} MiB node, server ${mib(server.peakMemory)} MiB (its processes' summed PSS)`
    : `peak RSS ${mib(peakRss)} MiB`;

/**
 * Starts the PostgreSQL server with its data kept in `--dir` (a prepared warehouse is
 * measured again next run) and answers it with the URL of the warehouse's database on it.
 */
async function startWarehouseServer(): Promise<{ server: PostgresServer; url: string }> {
  const server = await startPostgres({ keepIn: path.join(dir, 'postgres') });
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rowCount } = await client.query(`SELECT 1 FROM pg_database WHERE datname = 'kid'`);
      if (!rowCount) await client.query('CREATE DATABASE kid');
    } finally {
      await client.end();
    }
    return { server, url: server.url.replace(/\/[^/]*$/, '/kid') };
  } catch (error) {
    server.stop();
    throw error;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `n` agent workers (bench/kid/agent-worker.ts) in parallel processes at lower priority:
 * the organisations' agents de-identify their feeds while the warehouse loads those made.
 */
function startAgents(n: number): ChildProcess[] {
  const worker = path.join(import.meta.dirname, 'agent-worker.ts');
  return Array.from({ length: n }, (_, i) =>
    spawn(
      'nice',
      [
        '-n',
        '10',
        process.execPath,
        '--import',
        'tsx',
        worker,
        '--dir',
        dir,
        '--worker',
        String(i),
        '--workers',
        String(n),
        '--datasets',
        DATASETS.join(','),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    ),
  );
}

/** Loads `feeds` in order, each once its agent has made it (or, with no agent left, making it here). */
async function load(
  store: Store,
  feeds: readonly WorldFeed[],
  agents: readonly ChildProcess[],
): Promise<void> {
  const linkKeyFile = path.join(keysDir, 'link.key');
  const started = performance.now();
  const tokeniser = hmacTokeniser(readLinkKeyFile(linkKeyFile));
  const postcodes = await readPostcodeLookup(path.join(worldDir, 'reference', 'postcodes.csv'));
  const total = { loaded: 0, duplicate: 0, refused: 0, rows: 0 };
  for (const [index, feed] of feeds.entries()) {
    const manifest = path.join(dir, 'outbox', feed.org, feed.dataset, `${feed.period}.csv.manifest.json`);
    while (!existsSync(manifest) && agents.some((a) => a.exitCode === null) && !isNilReturn(feed.file))
      await sleep(200);
    const sent = await sendWorldFeeds(store, {
      feeds: [feed],
      keysDir,
      outbox: path.join(dir, 'outbox'),
      tokeniser,
      postcodes,
      actor: ACTOR,
    });
    total.loaded += sent.loaded;
    total.duplicate += sent.duplicate;
    total.refused += sent.refused;
    total.rows += sent.rowsLoaded;
    if (index % 500 === 499)
      log(
        `  ${index + 1} of ${feeds.length} feeds, ${((performance.now() - started) / 1000).toFixed(0)}s (load average ${loadAverage()})`,
      );
  }
  log(
    `  ${feeds.length} feeds: ${total.loaded} loaded, ${total.duplicate} already loaded, ${total.refused} refused; ` +
      `${total.rows.toLocaleString('en-GB')} rows in ${((performance.now() - started) / 1000).toFixed(1)}s`,
  );
}

async function main(): Promise<void> {
  log(
    `bench/kid: ${people.toLocaleString('en-GB')} people, ${values.from} to ${values.to}, ${rounds} rounds, in ${dir}`,
  );
  log(
    `machine: ${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB; load average ${loadAverage()}`,
  );
  if (!existsSync(path.join(worldDir, 'truth'))) {
    const started = performance.now();
    generateWorld({ out: worldDir, people, seed: 13, from: values.from, to: values.to, force: true });
    log(`world generated in ${((performance.now() - started) / 1000).toFixed(1)}s`);
    // The feeds the KID does not read are never sent: dropped at once, to keep the disk free.
    const feedsDir = path.join(worldDir, 'feeds');
    for (const org of readdirSync(feedsDir))
      for (const dataset of readdirSync(path.join(feedsDir, org)))
        if (!DATASETS.includes(dataset))
          rmSync(path.join(feedsDir, org, dataset), { recursive: true, force: true });
  }
  mkdirSync(keysDir, { recursive: true });
  const linkKeyFile = path.join(keysDir, 'link.key');
  if (!existsSync(linkKeyFile)) writeLinkKeyFile(linkKeyFile, newLinkKey());

  const postgres = onPostgres ? await startWarehouseServer() : undefined;
  // Stopped or failed, the run leaves no server behind (its data stays in --dir).
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    postgres?.server.stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  if (postgres) for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stopOnSignal);
  let store: Store;
  try {
    store = await openStore({ store: postgres?.url ?? 'duckdb', dataDir: path.join(dir, 'data') });
  } catch (error) {
    postgres?.server.stop();
    throw error;
  }
  try {
    const server = postgres ? await serverProcesses(postgres.url) : undefined;
    if (postgres) log(`PostgreSQL server with its data in ${path.join(dir, 'postgres')}`);
    await seedDemoGovernance(store, ACTOR, { extraOrganisations: worldGpPractices(worldDir) });
    const feeds = listWorldFeeds(worldDir, DATASETS);
    await trustWorldSigningKeys(store, keysDir, [...new Set(feeds.map((f) => f.org))], ACTOR);
    const lastMonth = values.to;
    // A warehouse prepared before (--prepare-only) holds every month but the last: not sent again.
    const prepared = path.join(dir, onPostgres ? 'prepared-postgres' : 'prepared');
    const agents = existsSync(prepared) ? [] : startAgents(Number(values.agents));
    if (existsSync(prepared)) log(`reusing the warehouse prepared in ${dir}`);
    else {
      log(
        `loading every month but ${lastMonth}, ${agents.length} agents in parallel (load average ${loadAverage()})`,
      );
      await load(
        store,
        feeds.filter((f) => f.period !== lastMonth),
        agents,
      );
    }
    if (values['prepare-only']) {
      for (const agent of agents)
        if (agent.exitCode === null) await new Promise((r) => agent.once('exit', r));
      writeFileSync(prepared, `${lastMonth}\n`);
      log(`prepared; load average ${loadAverage()}`);
      return;
    }

    if (replicas > 1) {
      const [copied] = await store.query<{ n: number }>(
        `SELECT count(*) AS n FROM loads WHERE load_id LIKE '%~%'`,
      );
      if (Number(copied?.n ?? 0) === 0) {
        const started = performance.now();
        const rows = await replicateLoads(store, replicas);
        log(
          `replicated the warehouse ${replicas} times (bench/kid/replicate.ts): ${rows.toLocaleString('en-GB')} rows in ` +
            `${((performance.now() - started) / 1000).toFixed(1)}s (load average ${loadAverage()})`,
        );
      }
      for (const table of [
        'ds_pmi',
        'ds_gp_events',
        'ds_apc',
        'ds_ecds',
        'ds_op',
        'ds_asc',
        'ds_fire_safety',
      ]) {
        const [n] = await store.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
        log(`  ${table}: ${Number(n?.n ?? 0).toLocaleString('en-GB')} rows`);
      }
    }
    const listed = await loadBenchOptOuts(store, {
      percent: optOutPercent,
      name: 'bench list',
      actor: ACTOR,
      replicas,
    });
    log(`national data opt-out list: ${listed.toLocaleString('en-GB')} people`);
    const full: Measured<SpineBuild>[] = [];
    for (let round = 1; round <= rounds; round++) {
      log(`full build, round ${round}: load average ${loadAverage()}`);
      const run = await measured(() => buildSpine(store, { full: true, actor: ACTOR }), server);
      full.push(run);
      log(
        `  ${run.seconds.toFixed(1)}s (${cpuText(run.cpuSeconds, run.server?.cpuSeconds)}), ${memoryText(run.peakRss, run.server)}; ` +
          `${run.result.people.toLocaleString('en-GB')} people, ${run.result.pmiRows.toLocaleString('en-GB')} PMI rows`,
      );
    }

    // One hospital's A&E of the month comes late, after the builds below: its build keeps the
    // model's date (the month's GP events are in), so it computes only its people again.
    const monthFeeds = feeds.filter((f) => f.period === lastMonth);
    const late = monthFeeds.find((f) => f.dataset === 'ecds');
    log(
      `loading ${lastMonth} but for ${late ? `${late.org}'s ${late.dataset}` : 'nothing'} (load average ${loadAverage()})`,
    );
    await load(
      store,
      monthFeeds.filter((f) => f !== late),
      agents,
    );
    // The month's loads, copied as the earlier months' were (bench/kid/replicate.ts).
    const replicateNew = async (): Promise<void> => {
      if (replicas <= 1) return;
      const fresh = await store.query<{ load_id: string }>(
        `SELECT l.load_id FROM loads l WHERE l.period = $1 AND l.status = 'loaded' AND l.load_id NOT LIKE '%~%'
           AND NOT EXISTS (SELECT 1 FROM loads r WHERE r.load_id LIKE l.load_id || '~%')`,
        [lastMonth],
      );
      const rows = await replicateLoads(
        store,
        replicas,
        fresh.map((l) => l.load_id),
      );
      log(
        `  replicated ${fresh.length} loads of ${lastMonth} ${replicas} times: ${rows.toLocaleString('en-GB')} rows`,
      );
    };
    await replicateNew();
    // The full builds above read a warehouse whose last write was checkpointed when it was
    // closed; the load just made sits in DuckDB's write-ahead log until a checkpoint, which
    // would otherwise fall inside the build timed next (on PostgreSQL, the checkpointer's
    // writing of the load's pages).
    await store.exec('CHECKPOINT');
    log(`rebuild after one new month: load average ${loadAverage()}`);
    const after = await measured(() => buildSpine(store, { actor: ACTOR }), server);
    log(`full build of the same inputs: load average ${loadAverage()}`);
    const same = await measured(() => buildSpine(store, { full: true, actor: ACTOR }), server);
    let lateBuild: Measured<SpineBuild> | undefined;
    if (late) {
      log(`loading ${late.org}'s ${late.dataset} of ${lastMonth}, late (load average ${loadAverage()})`);
      await load(store, [late], agents);
      await replicateNew();
      await store.exec('CHECKPOINT');
      log(`rebuild after the late feed: load average ${loadAverage()}`);
      lateBuild = await measured(() => buildSpine(store, { actor: ACTOR }), server);
    }

    const fullSeconds = median(full.map((r) => r.seconds));
    const fullCpuSeconds = median(full.map((r) => r.cpuSeconds));
    const fullServerCpuSeconds = server ? median(full.map((r) => r.server?.cpuSeconds ?? NaN)) : undefined;
    const fullTotalCpu = median(full.map(totalCpu));
    const peak = Math.max(...full.map((r) => r.peakRss));
    const peakServer = server
      ? { peakMemory: Math.max(...full.map((r) => r.server?.peakMemory ?? 0)) }
      : undefined;
    log('');
    log(
      `full build: median ${fullSeconds.toFixed(1)}s, ${cpuText(fullCpuSeconds, fullServerCpuSeconds)}, over ${rounds} rounds; ${memoryText(peak, peakServer)}`,
    );
    log(
      `  target at 1.9M people: <= ${TARGETS.fullSeconds1_9M}s and < 4 GiB; ` +
        `at ${people.toLocaleString('en-GB')} people, a linear share is ${((TARGETS.fullSeconds1_9M * people) / 1_900_000).toFixed(0)}s`,
    );
    log(
      `rebuild after one new month: ${after.seconds.toFixed(1)}s, ${cpuText(after.cpuSeconds, after.server?.cpuSeconds)} (${after.result.mode}` +
        (after.result.mode === 'incremental'
          ? `, ${(after.result.rebuiltPeople ?? 0).toLocaleString('en-GB')} people rebuilt, ` +
            `the linkage of ${(after.result.linkageRecounted ?? 0).toLocaleString('en-GB')} counted again, ` +
            (after.result.model?.computedAllBecause
              ? `the model computed for everyone: ${after.result.model.computedAllBecause}`
              : `the model of ${(after.result.model?.computed ?? 0).toLocaleString('en-GB')} computed and of ${(after.result.model?.copied ?? 0).toLocaleString('en-GB')} kept`)
          : `: ${after.result.fullBecause ?? ''}`) +
        `), ${memoryText(after.peakRss, after.server)}`,
    );
    // On PostgreSQL the CPU ratios are of node's and the server's seconds together.
    log(
      `incremental / full = ${(after.seconds / fullSeconds).toFixed(2)} ` +
        `(${((100 * after.seconds) / fullSeconds).toFixed(0)}% of the full build); target <= ${TARGETS.incrementalShare}; ` +
        `in CPU seconds ${(totalCpu(after) / fullTotalCpu).toFixed(2)}`,
    );
    log(
      `full build of the same inputs after it: ${same.seconds.toFixed(1)}s, ${cpuText(same.cpuSeconds, same.server?.cpuSeconds)} (both carrying the risk fit of the first full build); ` +
        `incremental / that = ${(after.seconds / same.seconds).toFixed(2)}, in CPU seconds ${(totalCpu(after) / totalCpu(same)).toFixed(2)}`,
    );
    const steps = (build: Partial<SpineBuild>): string =>
      Object.entries(build.steps ?? {})
        .map(
          ([name, seconds]) =>
            `${name} ${seconds.toFixed(1)} (${(build.stepsCpu?.[name] ?? NaN).toFixed(1)})`,
        )
        .join(', ');
    // A step's CPU seconds are read by buildSpine in its own process: the server's are not in them.
    const stepsCpu = server ? 'node CPU s' : 'CPU s';
    log(`  steps of the last full build (s, and ${stepsCpu}): ${steps(full[full.length - 1]?.result ?? {})}`);
    log(`  steps of the incremental build (s, and ${stepsCpu}): ${steps(after.result)}`);
    log(`  steps of the full build of the same inputs (s, and ${stepsCpu}): ${steps(same.result)}`);
    if (lateBuild) {
      const model = lateBuild.result.model;
      log(
        `rebuild after a late feed (the model's date stays): ${lateBuild.seconds.toFixed(1)}s, ${cpuText(lateBuild.cpuSeconds, lateBuild.server?.cpuSeconds)} ` +
          `(${lateBuild.result.mode}; ${model?.computedAllBecause ? `the model computed for everyone: ${model.computedAllBecause}` : `the model, eFI and risk scores of ${(model?.computed ?? 0).toLocaleString('en-GB')} people computed, of ${(model?.copied ?? 0).toLocaleString('en-GB')} kept`}); ` +
          `late / full of the same inputs = ${(lateBuild.seconds / same.seconds).toFixed(2)}, in CPU seconds ${(totalCpu(lateBuild) / totalCpu(same)).toFixed(2)}`,
      );
      log(`  steps of the build after the late feed (s, and ${stepsCpu}): ${steps(lateBuild.result)}`);
    }
  } finally {
    try {
      await store.close();
    } finally {
      postgres?.server.stop();
    }
  }
}

await main();
