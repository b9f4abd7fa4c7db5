/**
 * A synthetic world's feeds sent as members send them: each organisation's agent (its own
 * signing key, trusted by the warehouse; one link key for all) de-identifies each month's
 * extract, through the organisation's source mapping where its layout is its own, and the
 * warehouse loads it. For tests that need the real path from extract to warehouse.
 */
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getDataset } from '../src/catalogue/catalogue.ts';
import type { LoadReport } from '../src/ingest/load-history.ts';
import { loadFeed } from '../src/ingest/load-feed.ts';
import { deidentifyFile } from '../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../src/privacy/postcode-lookup.ts';
import { newSigningKeyPair } from '../src/privacy/signing-key.ts';
import { readSourceMapping } from '../src/privacy/source-mapping.ts';
import { hmacTokeniser } from '../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../src/ingest/trusted-keys.ts';
import type { Store } from '../src/store/store.ts';
import { worldMappingFile } from '../src/synth/world-feeds.ts';

/** Sends and loads every non-empty feed of `datasets` from `orgs`; answers each load's report. */
export async function loadWorldFeeds(
  store: Store,
  options: { worldDir: string; outbox: string; orgs: readonly string[]; datasets: readonly string[] },
): Promise<{ feed: string; report: LoadReport }[]> {
  const { worldDir, outbox } = options;
  const tokeniser = hmacTokeniser(newLinkKey());
  const postcodes = await readPostcodeLookup(path.join(worldDir, 'reference', 'postcodes.csv'));
  const reports: { feed: string; report: LoadReport }[] = [];
  for (const org of options.orgs) {
    const pair = newSigningKeyPair();
    const signing = { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) };
    await trustSigningKey(store, org, pair.publicKeyPem, 'test');
    for (const dataset of options.datasets) {
      // RPA and RN7 export maternity in layouts of their own: the agent maps them first.
      const mappingFile = worldMappingFile(worldDir, org, dataset);
      const mapping = mappingFile ? { mapping: readSourceMapping(mappingFile) } : {};
      for (const name of readdirSync(path.join(worldDir, 'feeds', org, dataset)).sort()) {
        const input = path.join(worldDir, 'feeds', org, dataset, name);
        if (readFileSync(input, 'utf8').trim().split('\n').length < 2) continue;
        const output = path.join(outbox, org, dataset, name);
        mkdirSync(path.dirname(output), { recursive: true });
        const period = name.slice(0, 7);
        await deidentifyFile({
          spec: getDataset(dataset),
          org,
          input,
          output,
          tokeniser,
          postcodes,
          signing,
          period,
          ...mapping,
        });
        const report = await loadFeed(store, { org, dataset, period, file: output, actor: 'test' });
        reports.push({ feed: `${org}/${dataset}/${period}`, report });
      }
    }
  }
  return reports;
}
