import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scalePeople } from '../../src/linkage/synthetic-people.ts';
import { runCli, spawnCli } from '../cli.ts';
import { testStores } from '../stores.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-linkage-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);
/** `kernel linkage VERB` on the two encoded files of the first test, with more flags. */
const onBoth = (verb: string, ...flags: string[]) =>
  runCli(['linkage', verb, '--left', file('a.encoded.csv'), '--right', file('b.encoded.csv'), ...flags]);

/** Two files of the same 2,000 synthetic people, B with council-style errors and its own ids. */
function writePeople(): Map<string, string> {
  const { a, b, truthB } = scalePeople(2_000, 11);
  const header = 'record_id,given_name,family_name,date_of_birth,sex,postcode';
  const row = (id: string, p: Record<string, string | null | undefined>) =>
    [id, p.given_name, p.family_name, p.date_of_birth, p.sex, p.postcode].map((v) => v ?? '').join(',');
  writeFileSync(file('a.csv'), [header, ...a.map((p, i) => row(`A${i}`, p))].join('\n') + '\n');
  writeFileSync(file('b.csv'), [header, ...b.map((p, j) => row(`B${j}`, p))].join('\n') + '\n');
  return new Map(Array.from(truthB, (i, j) => [`B${j}`, `A${i}`]));
}

describe('kernel linkage', () => {
  it('encodes at source, links one to one, and explains a pair; no name reaches the encoded files', async () => {
    const truth = writePeople();
    expect((await runCli(['keys', 'new-linkage', '--out', file('linkage.secret')])).code).toBe(0);
    for (const side of ['a', 'b']) {
      const encoded = await runCli([
        'linkage',
        'encode',
        '--secret',
        file('linkage.secret'),
        '--in',
        file(`${side}.csv`),
        '--out',
        file(`${side}.encoded.csv`),
        '--json',
      ]);
      expect(encoded.code).toBe(0);
      expect(JSON.parse(encoded.stdout)).toMatchObject({ records: 2000, scheme: 'person-v1' });
    }
    // The encoded files carry no plain name, date of birth or postcode of anyone.
    const plain = readFileSync(file('a.csv'), 'utf8')
      .split('\n')
      .slice(1, 200)
      .flatMap((l) => l.split(',').slice(1));
    const encodedText = readFileSync(file('a.encoded.csv'), 'utf8');
    const leaked = plain.filter(
      (v) => v.length >= 4 && encodedText.toLowerCase().includes(`,${v.toLowerCase()},`),
    );
    expect(leaked).toEqual([]);
    expect(encodedText).not.toMatch(/,(19|20)\d{6},/);

    const linked = await onBoth('link', '--out', file('links.csv'), '--json');
    expect(linked.code).toBe(0);
    const links = readFileSync(file('links.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const correct = links.filter(([left, right]) => truth.get(right!) === left).length;
    expect(correct / links.length).toBeGreaterThan(0.995); // precision
    expect(correct / truth.size).toBeGreaterThan(0.95); // recall, with 15% of names mistyped
    expect(new Set(links.map(([left]) => left)).size).toBe(links.length); // one to one

    const [left, right] = links[0]!;
    const explained = await onBoth('explain', '--pair', `${left},${right}`);
    expect(explained.code).toBe(0);
    for (const step of ['prior', 'given_name', 'family_name', 'date_of_birth', 'sex', 'postcode']) {
      expect(explained.stdout).toContain(step);
    }
    expect(explained.stdout).toMatch(/match weight -?\d+\.\d\d, probability \d\.\d{4}/);
  }, 120_000);

  it('queues the uncertain pairs for clerical review and honours the decisions on a rerun', async () => {
    const trueLeft = new Map<string, string>();
    const { truthB } = scalePeople(2_000, 11);
    truthB.forEach((i, j) => trueLeft.set(`B${j}`, `A${i}`));
    const first = await onBoth(
      'link',
      '--review-out',
      file('review.csv'),
      '--review-band',
      '0.01,0.99',
      '--out',
      file('links-before.csv'),
    );
    expect(first.code).toBe(0);
    const queue = readFileSync(file('review.csv'), 'utf8').trim().split('\n');
    expect(queue[0]).toBe('left,right,weight,probability,decision');
    const rows = queue.slice(1).map((l) => l.split(','));
    expect(rows.length).toBeGreaterThan(0);
    // The reviewer fills in the decision column from what they know (here, the truth).
    const decided = rows.map(([l, r, w, p]) => [l, r, w, p, trueLeft.get(r!) === l ? 'match' : 'non-match']);
    writeFileSync(file('decisions.csv'), [queue[0], ...decided.map((r) => r.join(','))].join('\n') + '\n');
    const again = await onBoth(
      'link',
      '--decisions',
      file('decisions.csv'),
      '--review-band',
      '0.01,0.99',
      '--out',
      file('links-after.csv'),
      '--json',
    );
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout) as {
      review: number;
      reviewed: { pairs: number; decidedMatches: number };
    };
    expect(summary.reviewed.pairs).toBe(decided.length);
    expect(summary.review).toBe(0); // every uncertain pair has its decision
    const after = new Set(
      readFileSync(file('links-after.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').slice(0, 2).join(',')),
    );
    for (const [l, r, , , decision] of decided) expect(after.has(`${l},${r}`)).toBe(decision === 'match');
    const bad = await onBoth('link', '--decisions', file('a.csv'));
    expect(bad.code).toBe(65);
    expect(bad.stderr).toMatch(/left, right and decision/);
  }, 120_000);

  it('refuses files under different secrets, bad thresholds and unknown ids, with no stack trace', async () => {
    writeFileSync(file('c.csv'), 'record_id,given_name,family_name,date_of_birth\nC1,ann,lee,19800101\n');
    await runCli(['keys', 'new-linkage', '--out', file('other.secret')]);
    await runCli([
      'linkage',
      'encode',
      '--secret',
      file('other.secret'),
      '--in',
      file('c.csv'),
      '--out',
      file('c.encoded.csv'),
    ]);
    const mixed = await spawnCli([
      'linkage',
      'link',
      '--left',
      file('a.encoded.csv'),
      '--right',
      file('c.encoded.csv'),
    ]);
    expect(mixed.code).toBe(67);
    expect(mixed.stderr).toMatch(/different linkage secrets/);
    expect(mixed.stderr).not.toMatch(/ at .*\.ts:\d+/);
    const threshold = await onBoth('link', '--threshold', '2');
    expect(threshold.code).toBe(64);
    const unknown = await onBoth('explain', '--pair', 'A1,nobody');
    expect(unknown.code).toBe(66);
    const noColumns = await runCli([
      'linkage',
      'encode',
      '--secret',
      file('other.secret'),
      '--in',
      file('links.csv'),
      '--out',
      file('x.csv'),
    ]);
    expect(noColumns.code).toBe(65);
    expect(noColumns.stderr).toMatch(/none of the columns/);
    const notAsked = await runCli([
      'deid',
      '--org',
      'RWF',
      '--dataset',
      'apc',
      '--in',
      file('c.csv'),
      '--out',
      file('z.csv'),
      '--linkage-secret',
      file('other.secret'),
    ]);
    expect(notAsked.code).toBe(64);
    expect(notAsked.stderr).toMatch(/does not ask for linkage encodings/);
    const linkKeyInstead = await runCli([
      'linkage',
      'encode',
      '--secret',
      file('a.csv'),
      '--in',
      file('c.csv'),
      '--out',
      file('y.csv'),
    ]);
    expect(linkKeyInstead.code).toBe(78);
  }, 120_000);
});

describe.each(testStores())('kernel linkage load on $engine', (engine) => {
  it('holds a deid linkage file in the store and refuses one for a dataset without encodings', async () => {
    const target = await engine.fresh();
    const flags = ['--data', target.dataDir, '--store', target.store];
    const line = (n: number) =>
      `${n},ls-0123456789abcdef,person-v1,${Buffer.alloc(64, n).toString('base64')},,,,,k${n},,,,`;
    const header =
      'source_line,secret_id,scheme,bf_given_name,bf_family_name,bf_date_of_birth,bf_sex,bf_postcode,block_names_yob,block_dob_sex,block_postcode_given,block_postcode_family,block_names_dob';
    writeFileSync(file('held.linkage.csv'), [header, line(2), line(3)].join('\n') + '\n');
    const held = await runCli([
      ...flags,
      'linkage',
      'load',
      '--org',
      'e10000016',
      '--dataset',
      'asc',
      '--period',
      '2020-05',
      file('held.linkage.csv'),
      '--json',
    ]);
    expect(held.code).toBe(0);
    expect(JSON.parse(held.stdout)).toMatchObject({ org: 'E10000016', rows: 2, replaced: 0 });
    const refused = await runCli([
      ...flags,
      'linkage',
      'load',
      '--org',
      'RWF',
      '--dataset',
      'apc',
      '--period',
      '2020-05',
      file('held.linkage.csv'),
    ]);
    expect(refused.code).toBe(67);
    // kernel link needs the master index's encodings and a dataset linked by encodings.
    const noIndex = await runCli([...flags, 'link', '--dataset', 'asc']);
    expect(noIndex.code).toBe(66);
    expect(noIndex.stderr).toMatch(/no master-index encodings/);
    expect((await runCli([...flags, 'link', '--dataset', 'apc'])).code).toBe(64);
    // The clerical review queue: empty before any run; a pair must be named properly.
    const queue = await runCli([...flags, 'linkage', 'review', '--dataset', 'asc']);
    expect(queue.code).toBe(0);
    expect(queue.stdout).toMatch(/No kernel link run of asc yet/);
    const badPair = await runCli([...flags, 'linkage', 'review', '--pair', 'A17', '--decision', 'match']);
    expect(badPair.code).toBe(64);
    expect(badPair.stderr).toMatch(/not a pair id/);
    const unknown = await runCli([...flags, 'linkage', 'review', '--pair', `pr-${'0'.repeat(20)}`]);
    expect(unknown.code).toBe(66);
    expect(unknown.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const badDecision = await runCli([
      ...flags,
      'linkage',
      'review',
      '--pair',
      `pr-${'0'.repeat(20)}`,
      '--decision',
      'maybe',
    ]);
    expect(badDecision.code).toBe(64);
  }, 120_000);
});
