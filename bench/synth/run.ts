/**
 * bench/synth: how fast the synthetic world is written, and how much memory it takes, for
 * 100,000 and 1,000,000 people (`npx tsx bench/synth/run.ts [from] [to]`, default three
 * months). Each size runs in its own process so peak memory (VmHWM from /proc/self/status,
 * and the largest RSS sampled after each month) is that size's alone. The comparison: peak
 * memory should grow with the people table (about 150 bytes a person with households and
 * addresses), not with rows written.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateWorld } from '../../src/synth/generate-world.ts';

const [mode, ...rest] = process.argv.slice(2);

function vmHwmMb(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

if (mode === '--child') {
  const [people = '100000', from = '2019-04', to = '2019-06'] = rest;
  const out = mkdtempSync(path.join(os.tmpdir(), 'kernel-bench-synth-'));
  let peakRss = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  const summary = generateWorld({
    out,
    people: Number(people),
    seed: 1,
    from,
    to,
    force: true,
    onMonth: () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  rmSync(out, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      people: Number(people),
      months: `${from}..${to}`,
      rows: summary.rows,
      files: summary.files,
      seconds,
      rowsPerSecond: summary.rows / seconds,
      cpuSeconds,
      rowsPerCpuSecond: summary.rows / cpuSeconds,
      peakRssMb: peakRss / 1048576,
      vmHwmMb: vmHwmMb(),
    }),
  );
} else {
  const from = mode ?? '2019-04';
  const to = rest[0] ?? '2019-06';
  const self = fileURLToPath(import.meta.url);
  console.log(`bench/synth: kernel synth for ${from}..${to}, each size in its own process`);
  // CPU seconds as well as wall-clock: on a shared machine the wall clock measures the neighbours too.
  console.log(
    'people      rows        seconds  rows/s    CPU s    rows/CPU s  peak RSS (MB)  VmHWM (MB)  MB per 100k people',
  );
  for (const people of [100_000, 1_000_000]) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', self, '--child', String(people), from, to],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    if (child.status !== 0) {
      console.error(child.stderr);
      process.exit(1);
    }
    const line = child.stdout.trim().split('\n').pop() ?? '{}';
    const r = JSON.parse(line) as {
      people: number;
      rows: number;
      seconds: number;
      rowsPerSecond: number;
      cpuSeconds: number;
      rowsPerCpuSecond: number;
      peakRssMb: number;
      vmHwmMb: number;
    };
    console.log(
      [
        r.people.toLocaleString('en-GB').padEnd(11),
        r.rows.toLocaleString('en-GB').padEnd(11),
        r.seconds.toFixed(1).padEnd(8),
        Math.round(r.rowsPerSecond).toLocaleString('en-GB').padEnd(9),
        r.cpuSeconds.toFixed(1).padEnd(8),
        Math.round(r.rowsPerCpuSecond).toLocaleString('en-GB').padEnd(11),
        r.peakRssMb.toFixed(0).padEnd(14),
        r.vmHwmMb.toFixed(0).padEnd(11),
        ((r.vmHwmMb / r.people) * 100_000).toFixed(0),
      ].join(' '),
    );
  }
}
