/**
 * A member's feed for a test: RWF's synthetic extract of a dataset, de-identified and signed
 * as its agent would send it. One signing key per folder (`rwf.key`, made on first use), and
 * the folder's postcode lookup.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { postcodeLookupCsv, writeExtract } from '../bench/ingest/extract-writer.ts';
import type { DatasetSpec } from '../src/catalogue/dataset-spec.ts';
import { catalogueSpecs } from '../src/ingest/catalogue-specs.ts';
import { deidentifyFile } from '../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../src/privacy/link-key.ts';
import {
  manifestPathFor,
  readManifest,
  signManifest,
  type ControlTotals,
  type FeedManifest,
} from '../src/privacy/manifest.ts';
import { readPostcodeLookup } from '../src/privacy/postcode-lookup.ts';
import { newSigningKeyPair, readSigningPrivateKey, writeSigningKeyPair } from '../src/privacy/signing-key.ts';
import type { SourceMapping } from '../src/privacy/source-mapping.ts';
import { hmacTokeniser } from '../src/privacy/token-scheme.ts';

export interface SignedFeedRequest {
  spec: DatasetSpec;
  rows: number;
  period: string;
  seed: number;
  /** the sender's own totals, carried in the signed manifest */
  controlTotals?: ControlTotals;
  /** changes the identifiable extract before the agent reads it (a test's faults) */
  spoil?: (extract: string) => void;
  /** the sender's own column names (a source mapping) */
  mapping?: SourceMapping;
}

/** Writes the feed `name` into `dir`; answers the path of the file the agent wrote. */
export async function signedFeed(dir: string, name: string, request: SignedFeedRequest): Promise<string> {
  const extract = path.join(dir, `${name}.extract.csv`);
  const out = path.join(dir, `${name}.csv`);
  const keyFile = path.join(dir, 'rwf.key');
  writeFileSync(path.join(dir, 'postcodes.csv'), postcodeLookupCsv());
  try {
    readFileSync(keyFile);
  } catch {
    writeSigningKeyPair(keyFile, newSigningKeyPair());
  }
  const { spec, rows, period, seed, controlTotals, spoil, mapping } = request;
  await writeExtract({ spec, codeList: catalogueSpecs.codeList, file: extract, rows, period, seed });
  spoil?.(extract);
  await deidentifyFile({
    spec,
    org: 'RWF',
    input: extract,
    output: out,
    tokeniser: hmacTokeniser(newLinkKey()),
    postcodes: await readPostcodeLookup(path.join(dir, 'postcodes.csv')),
    signing: readSigningPrivateKey(keyFile),
    ...(controlTotals ? { controlTotals } : {}),
    ...(mapping ? { mapping } : {}),
  });
  return out;
}

/**
 * Signs the manifest beside `file` again with the folder's key (`rwf.key`), as a sender who
 * edited what the agent wrote would: its SHA-256 taken afresh, and `changes` made to it.
 */
export function signAgain(file: string, changes: Partial<FeedManifest> = {}): void {
  const manifest = readManifest(manifestPathFor(file)) as FeedManifest;
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  const { keyId, privateKey } = readSigningPrivateKey(path.join(path.dirname(file), 'rwf.key'));
  writeFileSync(
    manifestPathFor(file),
    JSON.stringify(signManifest({ ...manifest, sha256, ...changes }, keyId, privateKey)),
  );
}
