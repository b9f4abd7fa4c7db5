/**
 * bench/kid-dashboard: how fast the population health dashboard answers a practice view,
 * uncached, with 20 clients at once, on a warehouse loaded by the real pipeline.
 *
 *   npx tsx bench/kid-dashboard/run.ts [--people 100000] [--from 2020-08] [--to 2021-07]
 *                                      [--clients 20] [--seconds 30] [--dir /tmp/kernel-bench-kid-dashboard-100000]
 *   npx tsx bench/kid-dashboard/run.ts --reuse /tmp/dash-100k [--clients 20] [--seconds 30]
 *
 * 1. `generateWorld` writes the world; every feed the dashboard's panels derive from (pmi,
 *    gp-events, asc, apc, ecds, op, fire-safety, msds-booking, msds-delivery) goes through
 *    the agent and the load under the demo's governance, and the KID is built (`buildSpine`);
 * 2. a planning use case covering those datasets, and an analyst with an API token and a
 *    session, are made; `kernel serve` runs in a child process on 127.0.0.1;
 * 3. `clients` concurrent loops, each a bounded `while` over plain `fetch`, call for
 *    `seconds`: the API for a practice (`scope=practice:…`, the practice with the most
 *    people; every request counts afresh: the dashboard keeps no cache), the page for the
 *    same practice, and `GET /api/v1/me` (authentication alone, the server's floor). It
 *    prints requests per second, p50, p95 and p99 and errors, against the target
 *    p95 <= 300 ms (issue 13), with the load average before each (the machine is shared),
 *    and under each the server's CPU milliseconds per request (every thread of the `kernel
 *    serve` process, from /proc: far steadier than latency on a shared machine) and the bytes
 *    of one answer, so the page's cost beyond the API's can be read apart from the queueing.
 *
 * `--only api,page` measures only those of single, api, page, page-token (the page with the API
 * token in place of the session cookie: what the session's check costs) and me; `--cpu-prof DIR` has the
 * server write a V8 CPU profile of its JavaScript thread to DIR when it stops. What drawing the
 * page costs alone is measured by `render.ts` beside this file.
 *
 * The world and the warehouse are kept in `--dir` (it is never deleted), so a second run only
 * re-sends the feeds (each refused as already loaded) and finds the KID unchanged. `--reuse DIR`
 * skips even that: it takes the warehouse prepared in DIR by an earlier run as it is (only the
 * analyst's token and session are made afresh), to measure again on a quieter machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  listWorldFeeds,
  sendWorldFeeds,
  trustWorldSigningKeys,
  worldGpPractices,
} from '../../src/demo/send-world-feeds.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import {
  activateUseCase,
  approveUseCase,
  listUseCases,
  proposeUseCase,
} from '../../src/governance/use-cases.ts';
import { buildSpine } from '../../src/kid/person-spine.ts';
import { DASHBOARD_DATASETS } from '../../src/kid/population-health.ts';
import { newLinkKey, readLinkKeyFile, writeLinkKeyFile } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { createApiToken } from '../../src/server/auth/api-tokens.ts';
import { createSession } from '../../src/server/auth/sessions.ts';
import { addUser, changePassword, findUserByEmail } from '../../src/server/auth/user-accounts.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { loadBenchOptOuts, optOutPercentOf } from '../kid/optouts.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/kid-dashboard/run.ts', {
  options: {
    people: { type: 'string', default: '100000' },
    from: { type: 'string', default: '2020-08' },
    to: { type: 'string', default: '2021-07' },
    clients: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '30' },
    dir: { type: 'string' },
    reuse: { type: 'string' },
    port: { type: 'string', default: '18093' },
    'optout-percent': { type: 'string', default: '5' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const people = Number(values.people);
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const port = Number(values.port);
/** Of the people on the spine, the share on the national data opt-out list (England: about 5%). */
const optOut = optOutPercentOf(values['optout-percent'], 'bench/kid-dashboard');
if (typeof optOut !== 'number') {
  console.error(optOut.refused);
  process.exit(2);
}
const optOutPercent = optOut;
const dir = path.resolve(values.reuse ?? values.dir ?? `/tmp/kernel-bench-kid-dashboard-${people}`);
const worldDir = path.join(dir, 'world');
const dataDir = path.join(dir, 'data');
const keysDir = path.join(dir, 'keys');
const ACTOR = 'bench:kid-dashboard';
const DATASETS = [...DASHBOARD_DATASETS];
const TARGET_P95_MS = 300;
/** The requests to measure: every one unless `--only` names some. */
const REQUESTS = ['single', 'api', 'page', 'page-token', 'me'] as const;
const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...REQUESTS];
for (const name of only)
  if (!(REQUESTS as readonly string[]).includes(name))
    throw new Error(`--only ${values.only}: "${name}" is not one of ${REQUESTS.join(', ')}`);
/** `--cpu-prof DIR`: the server writes a V8 CPU profile of its JavaScript thread there when it stops. */
const cpuProfDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const started = performance.now();
const log = (text: string): void =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${text}`);
const loadAverage = (): string =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

interface Prepared {
  token: string;
  cookie: string;
  useCase: string;
  practice: string;
  practicePeople: number;
}

/** A warehouse an earlier run prepared in `dir`, as it is: only the analyst's token and session are new. */
async function reusePrepared(): Promise<Prepared> {
  if (!existsSync(path.join(dataDir, 'kernel.duckdb')))
    throw new Error(
      `--reuse ${dir}: no warehouse there (${dataDir}/kernel.duckdb); prepare one with --dir ${dir}`,
    );
  const store = await openStore({ store: 'duckdb', dataDir });
  try {
    const [summary] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM kid_area_summary_current WHERE panel = 'built'`,
    );
    if (Number(summary?.n ?? 0) === 0)
      throw new Error(`--reuse ${dir}: the KID there has no dashboard summary; run once with --dir ${dir}`);
    log(`reusing the warehouse prepared in ${dir}`);
    return { ...(await useCaseAndAccounts(store)), ...(await largestPractice(store)) };
  } finally {
    await store.close();
  }
}

async function prepare(): Promise<Prepared> {
  if (values.reuse) return reusePrepared();
  if (!existsSync(path.join(worldDir, 'truth'))) {
    const t = performance.now();
    generateWorld({ out: worldDir, people, seed: 13, from: values.from, to: values.to, force: true });
    log(
      `world of ${people.toLocaleString('en-GB')} people generated in ${((performance.now() - t) / 1000).toFixed(1)}s`,
    );
  }
  mkdirSync(keysDir, { recursive: true });
  const linkKeyFile = path.join(keysDir, 'link.key');
  if (!existsSync(linkKeyFile)) writeLinkKeyFile(linkKeyFile, newLinkKey());
  const store = await openStore({ store: 'duckdb', dataDir });
  try {
    await seedDemoGovernance(store, ACTOR, { extraOrganisations: worldGpPractices(worldDir) });
    const feeds = listWorldFeeds(worldDir, DATASETS);
    await trustWorldSigningKeys(store, keysDir, [...new Set(feeds.map((f) => f.org))], ACTOR);
    const t = performance.now();
    const sent = await sendWorldFeeds(store, {
      feeds,
      keysDir,
      outbox: path.join(dir, 'outbox'),
      tokeniser: hmacTokeniser(readLinkKeyFile(linkKeyFile)),
      postcodes: await readPostcodeLookup(path.join(worldDir, 'reference', 'postcodes.csv')),
      actor: ACTOR,
    });
    log(
      `${feeds.length} feeds: ${sent.loaded} loaded, ${sent.duplicate} already loaded, ${sent.refused} refused; ` +
        `${sent.rowsLoaded.toLocaleString('en-GB')} rows in ${((performance.now() - t) / 1000).toFixed(1)}s`,
    );
    // The national data opt-out, before the build so the build counts its people ahead.
    const listed = await loadBenchOptOuts(store, {
      percent: optOutPercent,
      name: 'bench list 1',
      actor: ACTOR,
    });
    log(`opt-out list: ${listed.toLocaleString('en-GB')} people`);
    // A warehouse kept from a run before the dashboard's summary existed builds afresh once.
    const [summary] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM kid_area_summary_current WHERE panel = 'built'`,
    );
    const build = await buildSpine(store, { actor: ACTOR, full: Number(summary?.n ?? 0) === 0 });
    log(
      `KID version ${build.version} (${build.mode}): ${build.people.toLocaleString('en-GB')} people, ${build.seconds.toFixed(1)}s`,
    );
    return { ...(await useCaseAndAccounts(store)), ...(await largestPractice(store)) };
  } finally {
    await store.close();
  }
}

/** A planning use case over every dataset the dashboard reads, and an analyst on it. */
async function useCaseAndAccounts(store: Store): Promise<{ token: string; cookie: string; useCase: string }> {
  const title = 'Population health dashboard bench';
  let useCase = (await listUseCases(store, { state: ['active'] })).find((u) => u.title === title)?.id;
  if (!useCase) {
    // Every organisation that sent a feed: the demo's agreements cover what each supplies.
    const orgs = (
      await store.query<{ org_code: string }>(`SELECT DISTINCT org_code FROM loads WHERE status = 'loaded'`)
    ).map((r) => r.org_code);
    const proposed = await proposeUseCase(
      store,
      {
        title,
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
        datasets: DATASETS,
        controllers: orgs,
        users: ['role:analyst'],
        start: '2021-04-01',
        end: '2099-03-31',
      },
      ACTOR,
    );
    for (const org of orgs) await approveUseCase(store, proposed.id, org, ACTOR);
    await activateUseCase(store, proposed.id, ACTOR);
    useCase = proposed.id;
  }
  const email = 'analyst@bench-dashboard.test';
  const password = 'bench dashboard passphrase';
  let userId = (await findUserByEmail(store, email))?.id;
  if (!userId) {
    const { user } = await addUser(store, { email, role: 'analyst', password: `${password} 0` }, ACTOR);
    await changePassword(store, user.id, `${password} 0`, password, ACTOR);
    userId = user.id;
  }
  const { token } = await createApiToken(store, email, ACTOR);
  const { sessionId } = await createSession(store, userId);
  return { token, cookie: `kernel_session=${sessionId}`, useCase };
}

async function largestPractice(store: Store): Promise<{ practice: string; practicePeople: number }> {
  const [row] = await store.query<{ practice_code: string; n: number }>(
    `SELECT practice_code, count(*) AS n FROM kid_person_model GROUP BY practice_code ORDER BY n DESC LIMIT 1`,
  );
  return { practice: String(row?.practice_code), practicePeople: Number(row?.n ?? 0) };
}

function startServe(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []),
      path.join(ROOT, 'bin', 'kernel.js'),
      'serve',
      '--data',
      dataDir,
      '--port',
      String(port),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async (): Promise<void> => {
      while (Date.now() < deadline) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/api/v1/health`)).ok) return resolve(child);
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
  load: string;
  requests: number;
  errors: number;
  firstStatus: string;
  latencies: number[];
  seconds: number;
  /** the server process's CPU time (every thread: JavaScript and DuckDB's) over the run, ms */
  serverCpuMs: number | undefined;
  /** the size of one answer's body */
  bytes: number;
}

/**
 * The CPU milliseconds (user and system, all threads) process `pid` has used so far, from
 * Linux's /proc; undefined elsewhere. On a shared machine a request's CPU cost moves far less
 * with the other sessions' work than its latency does.
 */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
/** Linux's USER_HZ, the unit of /proc's CPU times (100 on every architecture Node runs on). */
const CLOCK_TICKS_PER_SECOND = 100;
let serverPid: number | undefined;

async function hammer(
  name: string,
  url: string,
  headers: Record<string, string>,
  concurrency = clients,
  duration = seconds,
): Promise<Result> {
  const load = loadAverage();
  const sample = await fetch(url, { headers, redirect: 'manual' });
  const bytes = (await sample.arrayBuffer()).byteLength;
  const cpuBefore = processCpuMs(serverPid);
  const latencies: number[] = [];
  let errors = 0;
  let firstStatus = '';
  const until = performance.now() + duration * 1000;
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
  await Promise.all(Array.from({ length: concurrency }, client));
  const cpuAfter = processCpuMs(serverPid);
  return {
    name,
    load,
    requests: latencies.length,
    errors,
    firstStatus,
    latencies,
    seconds: (performance.now() - began) / 1000,
    serverCpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    bytes,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  log(
    `bench/kid-dashboard: ${people.toLocaleString('en-GB')} people, ${values.from} to ${values.to}, ${clients} clients, ` +
      `${seconds}s each, in ${dir}; ${os.cpus().length} cores, load average ${loadAverage()}`,
  );
  mkdirSync(dir, { recursive: true });
  const prepared = await prepare();
  log(
    `practice view: ${prepared.practice} (${prepared.practicePeople.toLocaleString('en-GB')} people in the model)`,
  );
  const server = await startServe();
  serverPid = server.pid;
  try {
    const base = `http://127.0.0.1:${port}`;
    const query = `scope=practice:${prepared.practice}&useCase=${prepared.useCase}`;
    const api = `${base}/api/v1/kid/population-health?${query}`;
    const page = `${base}/kid/population-health?${query}`;
    const auth = { Authorization: `Bearer ${prepared.token}` };
    const first = await fetch(api, { headers: auth });
    const body = (await first.json()) as { people?: unknown; leftOut?: { panel: string }[] };
    log(
      `first API answer: ${first.status}, ${String(body.people)} people, panels left out: ` +
        `${(body.leftOut ?? []).map((l) => l.panel).join(', ') || 'none'}`,
    );
    // The page once before it is measured, as the API was: the server compiles its templates
    // on first use, and twenty first requests at once would each compile them.
    await (await fetch(page, { headers: { Cookie: prepared.cookie } })).arrayBuffer();
    const results: Result[] = [];
    // One client alone first: the answer's own time, without queueing behind others.
    if (only.includes('single'))
      results.push(
        await hammer(
          `GET /api/v1/kid/population-health (practice ${prepared.practice}), ONE client`,
          api,
          auth,
          1,
          10,
        ),
      );
    if (only.includes('api'))
      results.push(
        await hammer(`GET /api/v1/kid/population-health (practice ${prepared.practice})`, api, auth),
      );
    if (only.includes('page'))
      results.push(
        await hammer(`GET /kid/population-health (page, practice ${prepared.practice})`, page, {
          Cookie: prepared.cookie,
        }),
      );
    if (only.includes('page-token'))
      results.push(
        await hammer(
          `GET /kid/population-health (page with the API token, practice ${prepared.practice})`,
          page,
          auth,
        ),
      );
    if (only.includes('me'))
      results.push(await hammer('GET /api/v1/me (baseline: authentication only)', `${base}/api/v1/me`, auth));
    console.log('');
    console.log(
      `bench/kid-dashboard: ${people.toLocaleString('en-GB')} people, ${clients} concurrent clients, ${seconds} s each, kernel serve on DuckDB, ${os.cpus().length} cores`,
    );
    // The machine is shared: each p95 is also given as a multiple of the floor's (auth alone).
    const floor = only.includes('me') ? (results[results.length - 1] as Result) : undefined;
    const floorP95 = floor
      ? percentile(
          [...floor.latencies].sort((a, b) => a - b),
          95,
        )
      : NaN;
    for (const r of results) {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      const p95 = percentile(sorted, 95);
      console.log(
        `${r.name}\n  load average before ${r.load}; ${(r.requests / r.seconds).toFixed(1)} requests/s (${r.requests} in ${r.seconds.toFixed(1)} s); ` +
          `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms; ` +
          `${r.errors} errors${r.firstStatus ? ` (first: ${r.firstStatus})` : ''} — target p95 <= ${TARGET_P95_MS} ms: ${p95 <= TARGET_P95_MS && r.errors === 0 ? 'met' : 'NOT met'}; ` +
          (floor ? `p95 ${(p95 / floorP95).toFixed(2)} × the floor's` : 'no floor measured (--only)') +
          `\n  server CPU ${r.serverCpuMs === undefined ? 'not measured (no /proc)' : `${(r.serverCpuMs / Math.max(1, r.requests)).toFixed(1)} ms per request`}; ` +
          `${r.bytes.toLocaleString('en-GB')} bytes per answer`,
      );
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

await main();
