import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postcodeLookupCsv, writeExtract } from '../bench/ingest/extract-writer.ts';
import { createAgreement } from '../src/governance/agreements.ts';
import { seedOrganisations } from '../src/governance/organisations.ts';
import { catalogueSpecs } from '../src/ingest/catalogue-specs.ts';
import { loadFeed } from '../src/ingest/load-feed.ts';
import { deidentifyFile } from '../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../src/privacy/link-key.ts';
import { readPostcodeLookup, type PostcodeLookup } from '../src/privacy/postcode-lookup.ts';
import { newSigningKeyPair, readSigningPrivateKey, writeSigningKeyPair } from '../src/privacy/signing-key.ts';
import { hmacTokeniser, type Tokeniser } from '../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../src/ingest/trusted-keys.ts';
import type { Store } from '../src/store/store.ts';

/**
 * A small real world for the programme office's tests: the Kent and Medway members, and
 * members' feeds sent as `kernel deid` and `kernel load` send them (synthetic extracts,
 * de-identified and signed by the organisation's agent, loaded by the warehouse).
 */
export interface FeedWorld {
  dir: string;
  /** sends `org`'s extracts of `datasets` for `period` (6 rows each); answers the load ids */
  send(org: string, datasets: readonly string[], period: string): Promise<string[]>;
}

export async function feedWorld(
  store: Store,
  agreements: { org: string; datasets: string[] }[],
): Promise<FeedWorld> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-programme-'));
  await seedOrganisations(store, 'test');
  writeFileSync(path.join(dir, 'postcodes.csv'), postcodeLookupCsv());
  const postcodes: PostcodeLookup = await readPostcodeLookup(path.join(dir, 'postcodes.csv'));
  const tokeniser: Tokeniser = hmacTokeniser(newLinkKey());
  const trusted = new Set<string>();
  for (const a of agreements) {
    await createAgreement(
      store,
      { org: a.org, datasets: a.datasets, from: '2020-01', to: '2030-12' },
      'test',
    );
  }
  let seed = 1;
  return {
    dir,
    async send(org, datasets, period) {
      const keyFile = path.join(dir, `${org}.key`);
      if (!trusted.has(org)) {
        writeSigningKeyPair(keyFile, newSigningKeyPair());
        await trustSigningKey(store, org, readFileSync(`${keyFile}.pub`, 'utf8'), 'test');
        trusted.add(org);
      }
      const ids: string[] = [];
      for (const dataset of datasets) {
        const spec = catalogueSpecs.spec(dataset);
        const extract = path.join(dir, `${org}-${dataset}-${period}.extract.csv`);
        await writeExtract({
          spec,
          codeList: catalogueSpecs.codeList,
          file: extract,
          rows: 6,
          period,
          seed: seed++,
        });
        const file = path.join(dir, `${org}-${dataset}-${period}.csv`);
        await deidentifyFile({
          spec,
          org,
          input: extract,
          output: file,
          tokeniser,
          postcodes,
          signing: readSigningPrivateKey(keyFile),
        });
        const report = await loadFeed(store, { org, dataset, period, file, actor: 'test' });
        if (report.status !== 'loaded' || !report.loadId)
          throw new Error(`${org} ${dataset} ${period}: ${report.status}`);
        ids.push(report.loadId);
      }
      return ids;
    },
  };
}
