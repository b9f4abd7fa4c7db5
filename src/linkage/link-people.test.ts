import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStores } from '../../test/stores.ts';
import { listAudit } from '../audit/audit-log.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { listWorldFeeds, worldGpPractices } from '../demo/send-world-feeds.ts';
import { seedDemoGovernance } from '../governance/demo-governance.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import { newLinkKey } from '../privacy/link-key.ts';
import { newLinkageSecret } from '../privacy/linkage-secret.ts';
import { newSigningKeyPair, parsePublicKey } from '../privacy/signing-key.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import { trustSigningKey } from '../ingest/trusted-keys.ts';
import type { Store } from '../store/store.ts';
import { generateWorld } from '../synth/generate-world.ts';
import { buildSpine } from '../kid/person-spine.ts';
import { linkageReport } from '../kid/linkage-report.ts';
import { linkPeople } from './link-people.ts';
import { loadLinkageFile } from './linkage-store.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-link-people-'));
const world = path.join(dir, 'world');
const tokeniser = hmacTokeniser(newLinkKey());
const secret = newLinkageSecret();
const signingKeys = new Map<string, ReturnType<typeof newSigningKeyPair>>();
const sent: { org: string; dataset: string; period: string; file: string; linkage: string }[] = [];
/** `org:period:line` of each council row sent without an NHS number → its person's token */
const truth = new Map<string, string>();

beforeAll(async () => {
  generateWorld({ out: world, people: 20_000, seed: 5, from: '2020-04', to: '2020-06' });
  for (const feed of listWorldFeeds(world, ['pmi', 'asc'])) {
    if (!signingKeys.has(feed.org)) signingKeys.set(feed.org, newSigningKeyPair());
    const pair = signingKeys.get(feed.org)!;
    const output = path.join(dir, 'outbox', feed.org, feed.dataset, `${feed.period}.csv`);
    mkdirSync(path.dirname(output), { recursive: true });
    try {
      const result = await deidentifyFile({
        spec: getDataset(feed.dataset),
        org: feed.org,
        input: feed.file,
        output,
        tokeniser,
        signing: { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) },
        period: feed.period,
        linkageSecret: secret,
      });
      sent.push({ ...feed, file: output, linkage: result.linkage!.file });
    } catch {
      // a header-only (nil) return: nothing to send
    }
  }
  const nhsOf = new Map<string, string>();
  let at: number[] = [];
  await readCsv(path.join(world, 'truth', 'people.csv'), {
    onHeader: (c) => void (at = [c.indexOf('person_id'), c.indexOf('nhs_number')]),
    onRecord: (r) => void nhsOf.set(fieldText(r, at[0]!), fieldText(r, at[1]!)),
  });
  await readCsv(path.join(world, 'truth', 'records.csv'), {
    onHeader: (c) =>
      void (at = ['file', 'line', 'subject_id', 'nhs_number_recorded'].map((n) => c.indexOf(n))),
    onRecord(r) {
      const [file, line, person, recorded] = at.map((i) => fieldText(r, i));
      const match = /^feeds\/([^/]+)\/asc\/(\d{4}-\d{2})\.csv$/.exec(file!);
      if (match && recorded === 'N')
        truth.set(`${match[1]}:${match[2]}:${line}`, tokeniser.token(nhsOf.get(person!)!));
    },
  });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(testStores())('kernel link on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await seedDemoGovernance(store, 'test', { extraOrganisations: worldGpPractices(world) });
    for (const [org, pair] of signingKeys) {
      await trustSigningKey(store, org, parsePublicKey(pair.publicKeyPem).publicKeyPem, 'test');
    }
    for (const feed of sent) {
      const report = await loadFeed(store, { ...feed, actor: 'test' });
      expect(report.status).toBe('loaded');
      await loadLinkageFile(store, { ...feed, file: feed.linkage, actor: 'test' });
    }
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  /** The links of a run: `org:period:line` → token, for council rows. */
  async function linksOf(runId: string): Promise<Map<string, string>> {
    const rows = await store.query<{
      org_code: string;
      period: string;
      source_line: number;
      person_token: string;
    }>(
      `SELECT l.org_code, l.period, p.source_line, p.person_token
       FROM person_links p JOIN loads l ON l.load_id = p.load_id WHERE p.run_id = $1`,
      [runId],
    );
    return new Map(rows.map((r) => [`${r.org_code}:${r.period}:${Number(r.source_line)}`, r.person_token]));
  }

  it('gives council records without an NHS number the token of the person they are, stably', async () => {
    const first = await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
    expect(first.records).toBe(truth.size);
    expect(first.linked).toBeGreaterThan(0);
    const links = await linksOf(first.runId);
    const right = [...links].filter(([key, token]) => truth.get(key) === token).length;
    expect(right / links.size).toBeGreaterThanOrEqual(0.9); // precision against the truth
    console.log(
      `${engine.engine}: ${first.records} council records without an NHS number; ${links.size} linked, ${right} right; ` +
        `model's estimate: precision ${first.estimatedPrecision?.toFixed(4)}, recall ${first.estimatedRecall?.toFixed(4)}`,
    );
    expect(first.estimatedPrecision).toBeGreaterThan(0.9);
    const again = await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
    expect(again.runId).not.toBe(first.runId);
    expect(await linksOf(again.runId)).toEqual(links);
    const events = (await listAudit(store)).filter((e) => e.action === 'linkage.people-linked');
    expect(events).toHaveLength(2);

    // The KID linkage report counts the latest run's links to people on the spine.
    await buildSpine(store, { actor: 'cli:test' });
    const spine = new Set(
      (await store.query<{ person_token: string }>('SELECT person_token FROM kid_spine_person')).map(
        (r) => r.person_token,
      ),
    );
    const onSpine = [...(await linksOf(again.runId)).values()].filter((t) => spine.has(t)).length;
    expect(onSpine).toBeGreaterThan(0);
    const asc = (await linkageReport(store)).filter((r) => r.dataset === 'asc');
    expect(asc.reduce((n, r) => n + r.linkedProbabilistically, 0)).toBe(onSpine);
    for (const row of asc) expect(row.linkedProbabilistically).toBeLessThanOrEqual(row.unmatched.noToken);
  });

  it('refuses a dataset that is not linked by encodings', async () => {
    await expect(linkPeople(store, { dataset: 'apc', actor: 'cli:test' })).rejects.toThrow(
      /not one whose records/,
    );
    await expect(linkPeople(store, { dataset: 'pmi', actor: 'cli:test' })).rejects.toThrow(
      /not one whose records/,
    );
  });
});
