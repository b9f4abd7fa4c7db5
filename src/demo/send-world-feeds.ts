import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getDataset } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import type { ExtraOrganisation } from '../governance/demo-governance.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import type { PostcodeLookup } from '../privacy/postcode-lookup.ts';
import { newSigningKeyPair, readSigningPrivateKey, writeSigningKeyPair } from '../privacy/signing-key.ts';
import { readSourceMapping } from '../privacy/source-mapping.ts';
import type { Tokeniser } from '../privacy/token-scheme.ts';
import { trustSigningKey } from '../ingest/trusted-keys.ts';
import type { Store } from '../store/store.ts';
import { isNilReturn, type WorldFeed } from '../synth/world-feeds.ts';

export { isNilReturn, listWorldFeeds, type WorldFeed } from '../synth/world-feeds.ts';

/**
 * A synthetic world's member organisations sending their feeds: each organisation's agent
 * de-identifies its monthly extracts and signs them, and the warehouse loads them — the
 * same calls `kernel deid` and `kernel load` make. Used by `kernel demo`, bench/portal
 * and the end-to-end tests.
 */

/** The world's synthetic GP practices, which the governance seed does not know. */
export function worldGpPractices(worldDir: string): ExtraOrganisation[] {
  const [header, ...lines] = readFileSync(path.join(worldDir, 'reference', 'organisations.csv'), 'utf8')
    .trim()
    .split('\n');
  const columns = (header ?? '').split(',');
  const at = (name: string): number => columns.indexOf(name);
  return lines
    .map((line) => line.split(','))
    .filter((cells) => cells[at('type')] === 'gp')
    .map((cells) => ({
      code: cells[at('ods_code')] ?? '',
      name: cells[at('name')] ?? '',
      type: 'gp' as const,
    }));
}

/** Each organisation's signing key (made once, kept in `keysDir`), trusted by the warehouse. */
export async function trustWorldSigningKeys(
  store: Store,
  keysDir: string,
  orgs: readonly string[],
  actor: string,
): Promise<void> {
  mkdirSync(keysDir, { recursive: true });
  for (const org of orgs) {
    const file = path.join(keysDir, `${org}.key`);
    if (!existsSync(file)) writeSigningKeyPair(file, newSigningKeyPair());
    await trustSigningKey(store, org, readFileSync(`${file}.pub`, 'utf8'), actor);
  }
}

export interface SendFeedsOptions {
  feeds: readonly WorldFeed[];
  /** where each organisation's signing key is (see trustWorldSigningKeys) */
  keysDir: string;
  /** where the pseudonymised files and manifests are written (reused when present) */
  outbox: string;
  tokeniser: Tokeniser;
  postcodes: PostcodeLookup;
  actor: string;
  onProgress?: (done: number, total: number) => void;
  /** told of each refusal: the sender's side of the story */
  onRefused?: (feed: WorldFeed, error: KernelError) => void;
}

export interface SendFeedsResult {
  loaded: number;
  duplicate: number;
  refused: number;
  nil: number;
  rowsLoaded: number;
  rowsRejected: number;
  /** feeds sent from an organisation's own layout, through its source mapping */
  mapped: number;
  /** of those, the feeds whose mapping left a column, code or date unmapped (made now, not reused) */
  mappedWithGaps: number;
}

/** De-identifies and loads every feed; a refused feed is counted and reported, not fatal. */
export async function sendWorldFeeds(store: Store, options: SendFeedsOptions): Promise<SendFeedsResult> {
  const result: SendFeedsResult = {
    loaded: 0,
    duplicate: 0,
    refused: 0,
    nil: 0,
    rowsLoaded: 0,
    rowsRejected: 0,
    mapped: 0,
    mappedWithGaps: 0,
  };
  for (const [index, feed] of options.feeds.entries()) {
    options.onProgress?.(index, options.feeds.length);
    if (isNilReturn(feed.file)) {
      result.nil++;
      continue;
    }
    try {
      const out = path.join(options.outbox, feed.org, feed.dataset, `${feed.period}.csv`);
      if (feed.mapping) result.mapped++;
      if (!existsSync(`${out}.manifest.json`)) {
        mkdirSync(path.dirname(out), { recursive: true });
        const made = await deidentifyFile({
          spec: getDataset(feed.dataset),
          org: feed.org,
          input: feed.file,
          output: out,
          tokeniser: options.tokeniser,
          postcodes: options.postcodes,
          signing: readSigningPrivateKey(path.join(options.keysDir, `${feed.org}.key`)),
          period: feed.period,
          // Two trusts export maternity data in layouts of their own: their agents map it first.
          ...(feed.mapping ? { mapping: readSourceMapping(feed.mapping) } : {}),
        });
        if (made.mapping && !made.mapping.complete) result.mappedWithGaps++;
      }
      const report = await loadFeed(store, {
        org: feed.org,
        dataset: feed.dataset,
        period: feed.period,
        file: out,
        actor: options.actor,
      });
      if (report.status === 'duplicate') result.duplicate++;
      else result.loaded++;
      result.rowsLoaded += report.rowsLoaded;
      result.rowsRejected += report.rowsRejected;
    } catch (error) {
      if (!(error instanceof KernelError)) throw error;
      result.refused++;
      options.onRefused?.(feed, error);
    }
  }
  options.onProgress?.(options.feeds.length, options.feeds.length);
  return result;
}
