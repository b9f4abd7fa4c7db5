/**
 * bench/demo: how large the demo's population must be for the maternity dashboard to show
 * real charts, and how long `npm start` then takes (issue 22, item 1).
 *
 *   npx tsx bench/demo/run.ts [--people 5000,50000,100000] [--rounds 1]
 *
 * For each size it runs `kernel demo --no-serve --people N` (what `npm start` runs, without
 * serving) as a child process on a fresh data folder, timing it and reading its peak memory,
 * then opens the warehouse and draws the maternity dashboard for the whole system as an
 * analyst sees it (HES 2018 disclosure control). It prints, per size, the median wall time
 * over the rounds and the share of whole-system monthly values that clear disclosure control
 * (a number rather than `*`), per measure and in all. The load average is printed before
 * each run: a busy machine slows the demo, not the share.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { maternityDashboard } from '../../src/analytics/maternity-dashboard.ts';
import { DEMO_WINDOW } from '../../src/demo/demo-window.ts';
import { openStore } from '../../src/store/open-store.ts';
import { benchArgs } from '../bench-args.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const values = benchArgs('bench/demo/run.ts', {
  options: {
    people: { type: 'string', default: '5000,50000,100000' },
    rounds: { type: 'string', default: '1' },
  },
});
const sizes = String(values.people).split(',').map(Number);
const rounds = Number(values.rounds);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs the demo in a child process; answers seconds taken and peak resident memory (MiB). */
function runDemo(dataDir: string, people: number): Promise<{ seconds: number; peakMiB: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      '/usr/bin/time',
      [
        '-f',
        '%M',
        process.execPath,
        path.join(ROOT, 'bin', 'kernel.js'),
        '--data',
        dataDir,
        'demo',
        '--no-serve',
        '--people',
        String(people),
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`demo exited ${code}: ${stderr.slice(-500)}`));
      const kib = Number(stderr.trim().split('\n').at(-1));
      resolve({ seconds: (performance.now() - started) / 1000, peakMiB: Math.round(kib / 1024) });
    });
  });
}

console.log(
  `bench/demo: sizes ${sizes.join(', ')}, ${rounds} round(s) each, window ${DEMO_WINDOW.from}..${DEMO_WINDOW.to}, ${os.cpus().length} cores`,
);
for (const people of sizes) {
  const times: number[] = [];
  let peak = 0;
  let dataDir = '';
  for (let round = 0; round < rounds; round += 1) {
    if (dataDir) rmSync(path.dirname(dataDir), { recursive: true, force: true });
    dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-bench-demo-')), 'data');
    console.log(
      `  load average before ${people} people, round ${round + 1}: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const run = await runDemo(dataDir, people);
    times.push(run.seconds);
    peak = Math.max(peak, run.peakMiB);
  }
  const store = await openStore({ dataDir, store: 'duckdb' });
  try {
    const dashboard = await maternityDashboard(
      store,
      { user: { id: 'bench-analyst', role: 'analyst', org: null } },
      { from: DEMO_WINDOW.from, to: DEMO_WINDOW.to },
    );
    let shown = 0;
    let submitted = 0;
    const perMeasure: string[] = [];
    for (const measure of dashboard.measures) {
      const points = measure.series.points.filter((p) => p.value !== null);
      const clear = points.filter((p) => p.value !== '*').length;
      shown += clear;
      submitted += points.length;
      perMeasure.push(`${measure.id} ${clear}/${points.length}`);
    }
    const share = submitted === 0 ? 0 : shown / submitted;
    console.log(
      `${people.toLocaleString('en-GB')} people: npm start's build ${median(times).toFixed(1)} s (median of ${rounds}), peak ${peak} MiB; ` +
        `whole-system monthly values clearing disclosure control ${shown}/${submitted} = ${(share * 100).toFixed(0)}%`,
    );
    console.log(`    ${perMeasure.join(', ')}`);
  } finally {
    await store.close();
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
  }
}
