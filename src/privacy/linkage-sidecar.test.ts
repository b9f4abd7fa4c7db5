import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../catalogue/catalogue.ts';
import { listWorldFeeds } from '../demo/send-world-feeds.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { linkEncodedFiles } from '../linkage/linkage-files.ts';
import { generateWorld } from '../synth/generate-world.ts';
import { deidentifyFile } from './deidentify-file.ts';
import { newLinkKey } from './link-key.ts';
import { newLinkageSecret } from './linkage-secret.ts';
import { manifestSignatureValid, readManifest } from './manifest.ts';
import { newSigningKeyPair } from './signing-key.ts';
import { hmacTokeniser } from './token-scheme.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-linkage-file-'));
const world = path.join(dir, 'world');
const linkKey = newLinkKey();
const secret = newLinkageSecret();
const pair = newSigningKeyPair();
const signing = { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) };

/** Each extract row's line → the named columns' values. */
async function readExtract(file: string, columns: string[]): Promise<Map<number, Record<string, string>>> {
  const rows = new Map<number, Record<string, string>>();
  let at: number[] = [];
  await readCsv(file, {
    onHeader(header) {
      at = columns.map((c) => header.indexOf(c));
    },
    onRecord(record) {
      rows.set(record.line, Object.fromEntries(columns.map((c, k) => [c, fieldText(record, at[k]!)])));
    },
  });
  return rows;
}

async function deid(dataset: string, linkage: boolean) {
  // The biggest feed of the dataset (some organisations send a header only).
  const feed = listWorldFeeds(world, [dataset]).sort(
    (a, b) => statSync(b.file).size - statSync(a.file).size,
  )[0]!;
  const output = path.join(dir, `${dataset}-${linkage ? 'with' : 'without'}.csv`);
  const result = await deidentifyFile({
    spec: getDataset(dataset),
    org: feed.org,
    input: feed.file,
    output,
    tokeniser: hmacTokeniser(linkKey),
    signing,
    period: feed.period,
    ...(linkage ? { linkageSecret: secret } : {}),
  });
  return { feed, result };
}

beforeAll(() => {
  generateWorld({ out: world, people: 3000, seed: 5, from: '2020-04', to: '2020-05' });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kernel deid --linkage-secret', () => {
  it('writes encodings beside the accepted file, changes nothing in it, and writes no identifier', async () => {
    const plain = await deid('asc', false);
    const encoded = await deid('asc', true);
    expect(plain.result.linkage).toBeUndefined();
    expect(readFileSync(encoded.result.output)).toEqual(readFileSync(plain.result.output));
    const linkage = encoded.result.linkage!;
    expect(linkage.rows).toBe(encoded.result.rows);
    expect(linkage.secretId).toBe(secret.keyId);
    const text = readFileSync(linkage.file, 'utf8');
    expect(text.split('\n')[0]).toMatch(/^source_line,secret_id,scheme,bf_given_name,/);
    const columns = [
      'Person_Given_Name',
      'Person_Family_Name',
      'Date_Of_Birth',
      'Postcode',
      'Address_Line_1',
    ];
    const extract = await readExtract(encoded.feed.file, columns);
    const values = new Set(
      [...extract.values()].flatMap((row) => Object.values(row)).filter((v) => v.length >= 3),
    );
    const cells = new Set(text.split(/[,\n]/));
    expect([...values].filter((v) => cells.has(v))).toEqual([]);
  });

  it('names the linkage file and its SHA-256 in the signed manifest', async () => {
    const encoded = await deid('asc', true);
    const linkage = encoded.result.linkage!;
    const manifest = readManifest(encoded.result.manifestFile)!;
    expect(manifest.linkage).toEqual({
      file: path.basename(linkage.file),
      sha256: createHash('sha256').update(readFileSync(linkage.file)).digest('hex'),
      rows: linkage.rows,
      secretId: secret.keyId,
      scheme: linkage.scheme,
    });
    const publicKey = createPublicKey(pair.publicKeyPem);
    expect(manifestSignatureValid(manifest, publicKey)).toBe(true);
    const altered = { ...manifest, linkage: { ...manifest.linkage!, sha256: '0'.repeat(64) } };
    expect(manifestSignatureValid(altered, publicKey)).toBe(false);
    expect((await deid('asc', false)).result.manifest.linkage).toBeUndefined();
  });

  it('fails whole with the extract: no linkage file is left behind', async () => {
    await expect(
      deidentifyFile({
        spec: getDataset('asc'),
        org: 'X',
        input: path.join(dir, 'missing.csv'),
        output: path.join(dir, 'never.csv'),
        tokeniser: hmacTokeniser(linkKey),
        signing,
        linkageSecret: secret,
      }),
    ).rejects.toThrow(/does not exist/);
    expect(() => readFileSync(path.join(dir, 'never.linkage.csv'))).toThrow();
  });

  it('is read by the linkage engine: a council file linked with itself pairs every line with itself', async () => {
    const asc = await deid('asc', true);
    const file = asc.result.linkage!.file;
    const linked = await linkEncodedFiles({ left: file, right: file });
    expect(linked.links.length).toBe(asc.result.rows);
    for (const link of linked.links) expect(link.left).toBe(link.right);
  });
});
