import { createPrivateKey } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { getDataset } from '../src/catalogue/catalogue.ts';
import { listWorldFeeds } from '../src/demo/send-world-feeds.ts';
import { deidentifyFile } from '../src/privacy/deidentify-file.ts';
import type { newLinkageSecret } from '../src/privacy/linkage-secret.ts';
import { newSigningKeyPair } from '../src/privacy/signing-key.ts';
import type { hmacTokeniser } from '../src/privacy/token-scheme.ts';

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
