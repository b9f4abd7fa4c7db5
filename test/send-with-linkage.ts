import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { getDataset } from '../src/catalogue/catalogue.ts';
import { listWorldFeeds, worldGpPractices } from '../src/demo/send-world-feeds.ts';
import { seedDemoGovernance } from '../src/governance/demo-governance.ts';
import { loadFeed } from '../src/ingest/load-feed.ts';
import type { LoadReport } from '../src/ingest/load-history.ts';
import { trustSigningKey } from '../src/ingest/trusted-keys.ts';
import { buildSpine } from '../src/kid/person-spine.ts';
import { loadLinkageFile } from '../src/linkage/linkage-store.ts';
import { deidentifyFile } from '../src/privacy/deidentify-file.ts';
import { fieldText, readCsv } from '../src/files/csv-reader.ts';
import { newLinkKey } from '../src/privacy/link-key.ts';
import { newLinkageSecret } from '../src/privacy/linkage-secret.ts';
import { newSigningKeyPair, parsePublicKey } from '../src/privacy/signing-key.ts';
import { hmacTokeniser } from '../src/privacy/token-scheme.ts';
import type { Store } from '../src/store/store.ts';
import { generateWorld } from '../src/synth/generate-world.ts';

export interface SentWithLinkage {
  org: string;
  dataset: string;
  period: string;
  /** the pseudonymised feed */
  file: string;
  /** its linkage encodings file */
  linkage: string;
}

/**
 * Plays each member's agent over a synthetic world's feeds of `datasets`, with the linkage
 * secret, as the linkage tests need: each organisation gets (or keeps) a signing key pair in
 * `signingKeys`; header-only (nil) returns are not sent. Answers what was sent and, for each
 * pseudonymised file, the identifiable extract it came from.
 */
export async function sendWithLinkage(options: {
  world: string;
  datasets: readonly string[];
  outbox: string;
  tokeniser: ReturnType<typeof hmacTokeniser>;
  secret: ReturnType<typeof newLinkageSecret>;
  signingKeys: Map<string, ReturnType<typeof newSigningKeyPair>>;
}): Promise<{ sent: SentWithLinkage[]; extractOf: Map<string, string> }> {
  const sent: SentWithLinkage[] = [];
  const extractOf = new Map<string, string>();
  for (const feed of listWorldFeeds(options.world, [...options.datasets])) {
    if (!options.signingKeys.has(feed.org)) options.signingKeys.set(feed.org, newSigningKeyPair());
    const pair = options.signingKeys.get(feed.org)!;
    const output = path.join(options.outbox, feed.org, feed.dataset, `${feed.period}.csv`);
    mkdirSync(path.dirname(output), { recursive: true });
    try {
      const result = await deidentifyFile({
        spec: getDataset(feed.dataset),
        org: feed.org,
        input: feed.file,
        output,
        tokeniser: options.tokeniser,
        signing: { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) },
        period: feed.period,
        linkageSecret: options.secret,
      });
      sent.push({ ...feed, file: output, linkage: result.linkage!.file });
      extractOf.set(output, feed.file);
    } catch {
      // a header-only (nil) return: nothing to send
    }
  }
  return { sent, extractOf };
}

/**
 * Loads what a linkage world's agents sent into `store` as the warehouse would: the demo
 * governance (with the world's GP practices), each agent's public key trusted, each feed and
 * then its encodings; then builds the person spine kernel link links into. `loaded` sees each
 * feed's load report before its encodings go in.
 */
export async function loadSentWithLinkage(
  store: Store,
  linkage: Pick<LinkageWorld, 'world' | 'sent' | 'signingKeys'>,
  loaded: (feed: SentWithLinkage, report: LoadReport) => void,
): Promise<void> {
  await seedDemoGovernance(store, 'test', { extraOrganisations: worldGpPractices(linkage.world) });
  for (const [org, pair] of linkage.signingKeys)
    await trustSigningKey(store, org, parsePublicKey(pair.publicKeyPem).publicKeyPem, 'test');
  for (const feed of linkage.sent) {
    loaded(feed, await loadFeed(store, { ...feed, actor: 'test' }));
    await loadLinkageFile(store, { ...feed, file: feed.linkage, actor: 'test' });
  }
  await buildSpine(store, { actor: 'test' });
}

/**
 * The world truth's answer for linkage: for each line of a `datasets` feed sent without an
 * NHS number, the token of the person it is. Keyed `dataset:org:period:line`.
 */
export async function tokensOfRecordsWithoutNhsNumber(
  world: string,
  datasets: readonly string[],
  tokeniser: ReturnType<typeof hmacTokeniser>,
): Promise<Map<string, string>> {
  const nhsOf = new Map<string, string>();
  let at: number[] = [];
  await readCsv(path.join(world, 'truth', 'people.csv'), {
    onHeader: (c) => void (at = [c.indexOf('person_id'), c.indexOf('nhs_number')]),
    onRecord: (r) => void nhsOf.set(fieldText(r, at[0]!), fieldText(r, at[1]!)),
  });
  const truth = new Map<string, string>();
  await readCsv(path.join(world, 'truth', 'records.csv'), {
    onHeader: (c) =>
      void (at = ['file', 'line', 'subject_id', 'nhs_number_recorded'].map((n) => c.indexOf(n))),
    onRecord(r) {
      const [file, line, person, recorded] = at.map((i) => fieldText(r, i));
      // feeds/ORG/DATASET/YYYY-MM.csv
      const [, org, dataset, month] = /^feeds\/([^/]+)\/([^/]+)\/(\d{4}-\d{2})\.csv$/.exec(file!) ?? [];
      if (dataset && datasets.includes(dataset) && recorded === 'N')
        truth.set(`${dataset}:${org}:${month}:${line}`, tokeniser.token(nhsOf.get(person!)!));
    },
  });
  return truth;
}

/** A linkage test file's world: its folder, keys, what its agents sent, and the truth to judge links by. */
export interface LinkageWorld {
  dir: string;
  /** the synthetic world's folder */
  world: string;
  tokeniser: ReturnType<typeof hmacTokeniser>;
  secret: ReturnType<typeof newLinkageSecret>;
  signingKeys: Map<string, ReturnType<typeof newSigningKeyPair>>;
  sent: SentWithLinkage[];
  /** `dataset:org:period:line` of each council row sent without an NHS number → its person's token */
  truth: Map<string, string>;
  /** the extract each feed was made from, by its pseudonymised file */
  extractOf: Map<string, string>;
}

/**
 * For a linkage test file: a synthetic world of three months, sent by its agents with a new
 * link key and linkage secret before the file's tests, its truth read for `councilDatasets`,
 * and its folder removed after them. The fields are filled when the tests run.
 */
export function linkageWorldForFile(options: {
  name: string;
  people: number;
  datasets: readonly string[];
  councilDatasets: readonly string[];
  timeout: number;
}): LinkageWorld {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kernel-${options.name}-`));
  const linkage: LinkageWorld = {
    dir,
    world: path.join(dir, 'world'),
    tokeniser: hmacTokeniser(newLinkKey()),
    secret: newLinkageSecret(),
    signingKeys: new Map(),
    sent: [],
    truth: new Map(),
    extractOf: new Map(),
  };
  beforeAll(async () => {
    generateWorld({ out: linkage.world, people: options.people, seed: 5, from: '2020-04', to: '2020-06' });
    const sending = await sendWithLinkage({
      world: linkage.world,
      datasets: options.datasets,
      outbox: path.join(dir, 'outbox'),
      tokeniser: linkage.tokeniser,
      secret: linkage.secret,
      signingKeys: linkage.signingKeys,
    });
    linkage.sent.push(...sending.sent);
    for (const [file, extract] of sending.extractOf) linkage.extractOf.set(file, extract);
    const truth = await tokensOfRecordsWithoutNhsNumber(
      linkage.world,
      options.councilDatasets,
      linkage.tokeniser,
    );
    for (const [key, token] of truth) linkage.truth.set(key, token);
  }, options.timeout);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return linkage;
}

/** The links a kernel link run made: each linked row's organisation, month and line, and the person token it was given. */
export function linksOfRun(
  store: Store,
  runId: string,
): Promise<{ org_code: string; period: string; source_line: number; person_token: string }[]> {
  return store.query(
    `SELECT l.org_code, l.period, p.source_line, p.person_token
     FROM person_links p JOIN loads l ON l.load_id = p.load_id WHERE p.run_id = $1`,
    [runId],
  );
}
