/**
 * bench/kid's agent worker: de-identifies a share of a synthetic world's feeds (every
 * `workers`-th feed from `worker`), as each organisation's agent would on its own machine,
 * writing the signed files the load reads to the outbox. bench/kid/run.ts starts several in
 * parallel processes while it loads the files already made, month by month: the agents of
 * different organisations run on different machines, so this is the pipeline's real shape,
 * and it stops a 1.9-million-person, 24-month warehouse taking hours to prepare.
 *
 *   npx tsx bench/kid/agent-worker.ts --dir D --worker I --workers N --datasets a,b,c [--before YYYY-MM]
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { getDataset } from '../../src/catalogue/catalogue.ts';
import { deidentifyFile } from '../../src/privacy/deidentify-file.ts';
import { readLinkKeyFile } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import { readSigningPrivateKey } from '../../src/privacy/signing-key.ts';
import { readSourceMapping } from '../../src/privacy/source-mapping.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { isNilReturn, listWorldFeeds } from '../../src/synth/world-feeds.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/kid/agent-worker.ts', {
  options: {
    dir: { type: 'string' },
    worker: { type: 'string', default: '0' },
    workers: { type: 'string', default: '1' },
    datasets: { type: 'string', default: '' },
  },
});
const dir = path.resolve(values.dir ?? '.');
const worker = Number(values.worker);
const workers = Number(values.workers);
const worldDir = path.join(dir, 'world');
const keysDir = path.join(dir, 'keys');

const tokeniser = hmacTokeniser(readLinkKeyFile(path.join(keysDir, 'link.key')));
const postcodes = await readPostcodeLookup(path.join(worldDir, 'reference', 'postcodes.csv'));
const feeds = listWorldFeeds(worldDir, values.datasets ? values.datasets.split(',') : undefined);
for (const [index, feed] of feeds.entries()) {
  if (index % workers !== worker || isNilReturn(feed.file)) continue;
  const out = path.join(dir, 'outbox', feed.org, feed.dataset, `${feed.period}.csv`);
  if (existsSync(`${out}.manifest.json`)) continue;
  mkdirSync(path.dirname(out), { recursive: true });
  await deidentifyFile({
    spec: getDataset(feed.dataset),
    org: feed.org,
    input: feed.file,
    output: out,
    tokeniser,
    postcodes,
    signing: readSigningPrivateKey(path.join(keysDir, `${feed.org}.key`)),
    period: feed.period,
    ...(feed.mapping ? { mapping: readSourceMapping(feed.mapping) } : {}),
  });
}
