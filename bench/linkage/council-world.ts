/**
 * Council links against a synthetic world's truth, by the identity error each council record
 * carries (issue 14): the rates the world injected into council feeds, and the precision and
 * recall of the links overall and per error.
 *
 *   npx tsx bench/linkage/council-world.ts [--people 100000] [--seed 5] [--datasets asc,council-housing]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluateCouncilLinkage } from '../../src/linkage/council-evaluation.ts';
import { newLinkageSecret } from '../../src/privacy/linkage-secret.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';

const option = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const people = Number(option('--people', '100000'));
const seed = Number(option('--seed', '5'));
const datasets = option('--datasets', 'asc').split(',');
const fmt = (x: number): string => x.toFixed(4);

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-bench-council-'));
try {
  const world = path.join(dir, 'world');
  generateWorld({ out: world, people, seed, from: '2020-04', to: '2021-03' });
  console.log(
    `synthetic world: ${people} people, seed ${seed}, 2020-04..2021-03; council datasets ${datasets.join(', ')}`,
  );
  const secret = newLinkageSecret();
  for (const index of ['whole-population', 'pmi-feeds'] as const) {
    const f = await evaluateCouncilLinkage({ world, work: path.join(dir, index), secret, index, datasets });
    console.log(
      `\n${index}: index ${f.masterIndexRecords}, council ${f.councilRecords} (linkable ${f.linkable}, ` +
        `without NHS number ${f.withoutNhsNumber}): P ${fmt(f.all.precision)} R ${fmt(f.all.recall)}; ` +
        `without NHS number P ${fmt(f.noNhsNumber.precision)} R ${fmt(f.noNhsNumber.recall)}`,
    );
    console.log('  error on the council record   records  share    P       R');
    for (const [kind, e] of Object.entries(f.byError)) {
      console.log(
        `  ${kind.padEnd(28)} ${String(e.records).padStart(7)}  ${fmt(e.records / f.councilRecords)}  ` +
          `${fmt(e.quality.precision)}  ${fmt(e.quality.recall)}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
