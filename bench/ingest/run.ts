/**
 * The ingest benchmark:
 *   `npx tsx bench/ingest/run.ts [--rows 1000000] [--repeat 1] [--clean] [--skip-postgres]
 *     [--postgres-only] [--keep]`.
 *
 * The extract is as a real month's feed is: mostly good, with about one row in 200 wrong
 * (a value missing, a date that does not exist, a code not in its list, an end before its
 * start, a row repeated, an NHS number invalid or missing), so the load's path for bad rows
 * is part of what is timed. `--clean` writes it without them.
 *
 * From one identifiable SUS APC extract it times, each as its own process (so each has its
 * own peak memory, read from /usr/bin/time):
 *   (a) DuckDB's own read_csv of the extract into a table: the floor;
 *   (b) `kernel deid` of the extract;
 *   (c) `kernel load` of deid's output on the DuckDB store;
 *   (d) the same load on PostgreSQL (a throwaway server, started like the tests').
 *   (e) plain COPY of the same file into a logged table of text columns: the floor for (d).
 * and prints each, with the ratios b/a, c/a, d/a and d/COPY (each taken within its round, then
 * the median), the row width (columns, bytes per row) and the largest peak memory. Targets (issue 21): b/a ≤ 1.5,
 * c/a ≤ 1.5, d/COPY ≤ 2.0, peak memory of each under 1.5 GiB. `--repeat N` times each step
 * in N rounds and takes the ratios from their medians (this machine's neighbours are noisy;
 * the load average at the start and the end is printed with them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { newLinkKey, writeLinkKeyFile } from '../../src/privacy/link-key.ts';
import { newSigningKeyPair, writeSigningKeyPair } from '../../src/privacy/signing-key.ts';
import { trustSigningKey } from '../../src/ingest/trusted-keys.ts';
import { openStore } from '../../src/store/open-store.ts';
import { findBinDir, startPostgres } from '../../test/postgres-server.ts';
import { serverProcesses } from '../postgres-processes.ts';
import { postcodeLookupCsv, writeExtract, type ExtractFaults } from './extract-writer.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KERNEL = path.join(ROOT, 'bin', 'kernel.js');

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? (process.argv[at + 1] as string) : fallback;
}

interface Measured {
  seconds: number;
  peakMiB: number;
  /** the process's own CPU, user and system (not a server's it talks to) */
  cpuSeconds: number;
  stdout: string;
}

/** Runs a process under /usr/bin/time: wall seconds and peak resident memory. */
function measure(label: string, args: string[], env: NodeJS.ProcessEnv = {}): Measured {
  // What the step before wrote reaches the disk first, so no step pays for another's writes.
  spawnSync('sync');
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M %U %S', process.execPath, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const match = /BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(result.stderr);
  if (result.status !== 0 || !match) {
    throw new Error(`${label} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  return {
    seconds: Number(match[1]),
    peakMiB: Number(match[2]) / 1024,
    cpuSeconds: Number(match[3]) + Number(match[4]),
    stdout: result.stdout,
  };
}

async function prepareStore(config: { dataDir: string; store: string }, publicKeyPem: string): Promise<void> {
  const store = await openStore(config);
  try {
    await seedOrganisations(store, 'bench');
    await createAgreement(store, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'bench');
    await trustSigningKey(store, 'RWF', publicKeyPem, 'bench');
  } finally {
    await store.close();
  }
}

/** Times `kernel load` of the pseudonymised file on one store, and prints its line. */
function measureLoad(label: string, storeArgs: string[], out: string): Measured {
  const run = measure(label.trim(), [
    KERNEL,
    ...storeArgs,
    'load',
    '--org',
    'RWF',
    '--dataset',
    'apc',
    out,
    '--json',
    ...(process.env.KERNEL_BENCH_DEBUG ? ['--debug'] : []),
  ]);
  const report = JSON.parse(run.stdout) as {
    rowsLoaded: number;
    rowsRejected: number;
    findings: { rule: string; count: number }[];
    seconds: number;
  };
  // rowsRejected counts the rows quarantined and the repeated rows dropped.
  const dropped = report.findings.filter((f) => f.rule === 'duplicate').reduce((n, f) => n + f.count, 0);
  console.log(
    `${label} ${run.seconds.toFixed(2)} s   peak ${run.peakMiB.toFixed(0)} MiB   ` +
      `(${report.rowsLoaded} rows loaded, ${report.rowsRejected - dropped} quarantined, ${dropped} dropped; ${report.seconds} s inside)`,
  );
  return run;
}

interface PostgresRound {
  d: Measured;
  /** wall seconds of plain COPY */
  e: number;
  /** CPU seconds of (d) and (e), client and server processes together */
  dCpu: number;
  eCpu: number;
}

async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return serverUrl.replace(/\/[^/]*$/, `/${name}`);
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`DROP DATABASE ${name}`);
  await client.end();
}

/**
 * (d) and (e): the same load on a throwaway PostgreSQL server, started like the tests', and
 * plain COPY of the same file, in each of `rounds` rounds (a fresh database each), so the
 * ratio d/COPY comes from the same run, round by round.
 */
async function loadOnPostgres(
  publicKeyPem: string,
  dir: string,
  out: string,
  rounds: number,
): Promise<PostgresRound[]> {
  const server = await startPostgres();
  const measured: PostgresRound[] = [];
  try {
    const processes = await serverProcesses(server.url);
    // Read once a step's connections have closed, so its backends' exit is inside it.
    const serverCpu = async (): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return processes.cpuSeconds();
    };
    for (let round = 1; round <= rounds; round++) {
      const url = await createDatabase(server.url, `bench${round}`);
      const pgConfig = { dataDir: path.join(dir, `pg-${round}`), store: url };
      await prepareStore(pgConfig, publicKeyPem);
      if (rounds > 1) console.log(`PostgreSQL round ${round} of ${rounds}`);
      const beforeD = await serverCpu();
      const d = measureLoad(
        '(d) kernel load, PostgreSQL        ',
        ['--data', pgConfig.dataDir, '--store', url],
        out,
      );
      // Each in a database of its own, the other dropped first, so a large run fits the disk.
      const dServer = (await serverCpu()) - beforeD;
      await dropDatabase(server.url, `bench${round}`);
      spawnSync('sync');
      const copyUrl = await createDatabase(server.url, `copy${round}`);
      const beforeE = await serverCpu();
      const { seconds: e, psqlCpu } = await plainCopy(copyUrl, out);
      const eServer = (await serverCpu()) - beforeE;
      await dropDatabase(server.url, `copy${round}`);
      const dCpu = d.cpuSeconds + dServer;
      const eCpu = psqlCpu + eServer;
      console.log(
        `(e) plain COPY, PostgreSQL          ${e.toFixed(2)} s   (the same file into a logged table of text columns; d/COPY ${(d.seconds / e).toFixed(2)})`,
      );
      console.log(
        `    CPU seconds: (d) ${dCpu.toFixed(2)} (kernel ${d.cpuSeconds.toFixed(2)}, server ${dServer.toFixed(2)}), ` +
          `(e) ${eCpu.toFixed(2)} (psql ${psqlCpu.toFixed(2)}, server ${eServer.toFixed(2)}); d/COPY in CPU ${(dCpu / eCpu).toFixed(2)}`,
      );
      measured.push({ d, e, dCpu, eCpu });
    }
  } finally {
    server.stop();
  }
  return measured;
}

/**
 * (e): the floor for (d). The same pseudonymised file sent with `COPY` (psql's `\copy`, so
 * the client streams it as the load does) into a logged table of text columns: no checks, no
 * types, no quarantine, no audit.
 */
async function plainCopy(url: string, file: string): Promise<{ seconds: number; psqlCpu: number }> {
  const header = (await readFirstLine(file)).split(',');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `CREATE TABLE copy_baseline (${header.map((h, i) => `"c${i}_${h.replace(/[^a-z0-9_]/gi, '')}" TEXT`).join(', ')})`,
  );
  await client.end();
  // psql comes with the client package (/usr/bin/psql on Debian), not always beside pg_ctl.
  const beside = path.join(findBinDir() ?? '', 'psql');
  const psql = existsSync(beside) ? beside : 'psql';
  const started = performance.now();
  const run = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'BENCH %U %S',
      psql,
      url,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy copy_baseline FROM '${file}' WITH (FORMAT csv, HEADER true)`,
    ],
    {
      encoding: 'utf8',
    },
  );
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`psql \\copy failed: ${run.error?.message ?? run.stderr}`);
  const cpu = /BENCH ([\d.]+) ([\d.]+)/.exec(run.stderr);
  return { seconds, psqlCpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : 0 };
}

async function readFirstLine(file: string): Promise<string> {
  const handle = await open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').split(/\r?\n/)[0] ?? '';
  } finally {
    await handle.close();
  }
}

/**
 * One row in a thousand for each of five rules, and one in a thousand each for the two NHS
 * number problems: spread through the file, never on the same row twice.
 */
function realisticFaults(rows: number): ExtractFaults {
  const every = (offset: number): number[] => {
    const lines: number[] = [];
    for (let row = offset; row <= rows; row += 1000) lines.push(row);
    return lines;
  };
  return {
    required: every(101),
    type: every(233),
    code: every(367),
    dateOrder: every(499),
    duplicate: every(631),
    nhsCheckDigit: every(787),
    nhsMissing: every(919),
  };
}

/** The row width the figures are for: a file's columns and its mean bytes per row. */
async function rowWidth(what: string, file: string, rows: number): Promise<string> {
  const columns = (await readFirstLine(file)).split(',').length;
  return `row width, ${what}: ${columns} columns, ${Math.round(statSync(file).size / rows)} bytes per row`;
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  const rows = Number(argument('rows', '1000000'));
  const clean = process.argv.includes('--clean');
  const repeat = Math.max(1, Number(argument('repeat', '1')));
  const dir = mkdtempSync(path.join(argument('dir', os.tmpdir()), 'kernel-bench-ingest-'));
  const spec = catalogueSpecs.spec('apc');
  const extract = path.join(dir, 'apc-2025-04.extract.csv');
  console.log(
    `Ingest benchmark: ${rows.toLocaleString('en-GB')} rows of ${spec.id} (${spec.fields.length} columns), ${os.cpus().length} cores`,
  );

  const t = performance.now();
  await writeExtract({
    spec,
    codeList: catalogueSpecs.codeList,
    file: extract,
    rows,
    period: '2025-04',
    seed: 42,
    faults: clean ? {} : realisticFaults(rows),
  });
  const extractMB = statSync(extract).size / 1e6;
  console.log(
    `extract written: ${extractMB.toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed below), ` +
      (clean ? 'clean' : 'with about one row in 200 wrong'),
  );
  console.log(await rowWidth('extract', extract, rows));
  writeFileSync(path.join(dir, 'postcodes.csv'), postcodeLookupCsv());
  writeLinkKeyFile(path.join(dir, 'link.key'), newLinkKey());
  const pair = newSigningKeyPair();
  writeSigningKeyPair(path.join(dir, 'rwf.key'), pair);

  const deidArgs = (output: string): string[] => [
    KERNEL,
    'deid',
    '--key',
    path.join(dir, 'link.key'),
    '--sign',
    path.join(dir, 'rwf.key'),
    '--org',
    'RWF',
    '--dataset',
    'apc',
    '--in',
    extract,
    '--out',
    output,
    '--postcodes',
    path.join(dir, 'postcodes.csv'),
  ];

  // The first command after a source change compiles the CLI (bin/compiled-cli.js): not timed.
  measure('compile', [KERNEL, '--version']);

  // Each round times (a), (b) and (c) afresh, one after another: on a shared machine the
  // median of a few rounds says more than any one run.
  const rounds: { a: Measured; b: Measured; c: Measured }[] = [];
  let out = '';
  // --postgres-only: the agent once, then (d) and (e) alone, the extract removed once
  // pseudonymised (a ten-million-row run then fits a smaller disk).
  const postgresOnly = process.argv.includes('--postgres-only');
  for (let round = 1; round <= (postgresOnly ? 0 : repeat); round++) {
    if (repeat > 1) console.log(`round ${round} of ${repeat}`);
    // (a) the floor: DuckDB reading the same file into a table, in its own process.
    const floorDb = path.join(dir, 'floor.duckdb');
    rmSync(floorDb, { force: true });
    const floorScript =
      `import('@duckdb/node-api').then(async ({ DuckDBInstance }) => {` +
      `const db = await DuckDBInstance.create(${JSON.stringify(floorDb)}); const c = await db.connect();` +
      `await c.run("CREATE TABLE apc AS SELECT * FROM read_csv(${JSON.stringify(extract).replace(/"/g, "'")})"); c.closeSync(); })`;
    const a = measure('read_csv', ['-e', floorScript]);
    console.log(
      `(a) DuckDB read_csv into a table   ${a.seconds.toFixed(2)} s   peak ${a.peakMiB.toFixed(0)} MiB`,
    );

    // (b) the agent.
    if (out) rmSync(out, { force: true });
    out = path.join(dir, `apc-2025-04-${round}.csv`);
    const b = measure('deid', deidArgs(out));
    console.log(
      `(b) kernel deid                    ${b.seconds.toFixed(2)} s   peak ${b.peakMiB.toFixed(0)} MiB   (${(statSync(out).size / 1e6).toFixed(0)} MB out)`,
    );
    if (round === 1) console.log(await rowWidth('pseudonymised file', out, rows));

    // (c) load on DuckDB, into a warehouse of its own.
    const duck = { dataDir: path.join(dir, `warehouse-${round}`), store: 'duckdb' };
    await prepareStore(duck, pair.publicKeyPem);
    const c = measureLoad('(c) kernel load, DuckDB            ', ['--data', duck.dataDir], out);
    rmSync(duck.dataDir, { recursive: true, force: true });
    console.log(
      `    CPU seconds: (a) ${a.cpuSeconds.toFixed(2)}, (c) ${c.cpuSeconds.toFixed(2)}; c/a in CPU ${(c.cpuSeconds / a.cpuSeconds).toFixed(2)}`,
    );
    rounds.push({ a, b, c });
  }

  if (postgresOnly) {
    out = path.join(dir, 'apc-2025-04.csv');
    const b = measure('deid', deidArgs(out));
    console.log(
      `(b) kernel deid                    ${b.seconds.toFixed(2)} s   peak ${b.peakMiB.toFixed(0)} MiB`,
    );
    console.log(await rowWidth('pseudonymised file', out, rows));
    rmSync(extract, { force: true });
  }
  // (d) and (e) on PostgreSQL, as many rounds (left out with --skip-postgres, for a quick look at DuckDB alone).
  const pgRounds = process.argv.includes('--skip-postgres')
    ? []
    : await loadOnPostgres(pair.publicKeyPem, dir, out, repeat);
  const middle = (values: number[]): number =>
    [...values].sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)] as number;
  const median = (step: 'a' | 'b' | 'c'): number => middle(rounds.map((r) => r[step].seconds));
  const [a, b, c] = rounds.length > 0 ? [median('a'), median('b'), median('c')] : [NaN, NaN, NaN];
  // Each ratio is taken within its round (the same minute of a shared machine), then the median.
  const ratio = (step: 'b' | 'c'): number => middle(rounds.map((r) => r[step].seconds / r.a.seconds));
  console.log('');
  if (rounds.length > 1) {
    console.log(
      `medians of ${repeat} rounds: (a) ${a.toFixed(2)} s, (b) ${b.toFixed(2)} s, (c) ${c.toFixed(2)} s; ` +
        `c/a by round: ${rounds.map((r) => (r.c.seconds / r.a.seconds).toFixed(2)).join(', ')}`,
    );
  }
  if (rounds.length > 0) {
    console.log(`b/a = ${ratio('b').toFixed(2)}   (median of the rounds' ratios; target ≤ 1.5)`);
    console.log(`c/a = ${ratio('c').toFixed(2)}   (median of the rounds' ratios; target ≤ 1.5)`);
    console.log(
      `c/a in CPU seconds = ${middle(rounds.map((r) => r.c.cpuSeconds / r.a.cpuSeconds)).toFixed(2)}   (median of the rounds)`,
    );
  }
  if (pgRounds.length > 0) {
    const d = middle(pgRounds.map((r) => r.d.seconds));
    const e = middle(pgRounds.map((r) => r.e));
    if (rounds.length > 0) console.log(`d/a = ${(d / a).toFixed(2)}`);
    if (repeat > 1) {
      console.log(
        `medians of ${repeat} rounds: (d) ${d.toFixed(2)} s, (e) ${e.toFixed(2)} s; ` +
          `d/COPY by round: ${pgRounds.map((r) => (r.d.seconds / r.e).toFixed(2)).join(', ')}`,
      );
    }
    console.log(
      `d/COPY = ${middle(pgRounds.map((r) => r.d.seconds / r.e)).toFixed(2)}   (median of the rounds' ratios; target ≤ 2.0)`,
    );
    console.log(
      `d/COPY in CPU seconds = ${middle(pgRounds.map((r) => r.dCpu / r.eCpu)).toFixed(2)}   ` +
        `(kernel and server processes, median of the rounds; a busy machine's neighbours do not change it)`,
    );
  }
  const peak = Math.max(
    ...rounds.flatMap((r) => [r.a.peakMiB, r.b.peakMiB, r.c.peakMiB]),
    ...pgRounds.map((r) => r.d.peakMiB),
  );
  console.log(`load average: ${loadAtStart} at the start, ${loadAverage()} at the end (1, 5, 15 minutes)`);
  console.log(`peak memory, largest of the four: ${peak.toFixed(0)} MiB   (target < 1536 MiB)`);
  if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}

await main();
