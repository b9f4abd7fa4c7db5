/**
 * The checks before a load (verify-feed.ts), on both engines: a manifest for another
 * organisation, dataset or month; a manifest unsigned, signed with a key not trusted, or
 * altered after signing; a file with no manifest; a file already loaded, and a manifest sent
 * again beside another file; a scan that does not find the file the manifest describes. Each
 * is refused with its message, the file it names and a hint.
 */
import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../errors.ts';
import { seedOrganisations } from '../../governance/organisations.ts';
import { catalogueSpecs } from '../catalogue-specs.ts';
import { deidPlan } from '../../privacy/deid-plan.ts';
import { MANIFEST_FORMAT, signManifest, type FeedManifest } from '../../privacy/manifest.ts';
import { newSigningKeyPair } from '../../privacy/signing-key.ts';
import type { Store } from '../../store/store.ts';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stagePlan, stageSpec } from '../../../test/load-stage.ts';
import { trustSigningKey } from '../trusted-keys.ts';
import {
  earlierLoadOf,
  scanAgainstManifest,
  sha256File,
  unsignedFile,
  verifyManifest,
} from './verify-feed.ts';

const trusted = newSigningKeyPair();
const stranger = newSigningKeyPair();

/** A manifest for `file`, April 2025, from RWF and signed with its trusted key unless said otherwise. */
async function manifestFor(
  file: string,
  rowCount: number,
  { key = trusted, org = 'RWF' } = {},
): Promise<FeedManifest> {
  const unsigned: FeedManifest = {
    format: MANIFEST_FORMAT,
    organisation: org,
    dataset: stageSpec.id,
    specVersion: '1',
    period: '2025-04',
    file: 'stage-test.csv',
    rowCount,
    columns: stagePlan.accepted,
    sha256: await sha256File(file),
    tokenScheme: 'hmac-sha256',
    keyId: 'lk-test',
    nhsNumberProblems: {},
    nhsNumberField: null,
    toolVersion: 'test',
    createdAt: '2025-05-01T09:00:00Z',
    signingKeyId: null,
    signature: null,
  };
  return signManifest(unsigned, key.keyId, createPrivateKey(key.privateKeyPem));
}

/** The refusal `work` throws: its code, message, file and hint. */
async function refusal(work: Promise<unknown>): Promise<KernelError> {
  try {
    await work;
  } catch (error) {
    expect(error).toBeInstanceOf(KernelError);
    return error as KernelError;
  }
  throw new Error('expected a refusal');
}

describe.each(testStores())('the checks before a load on $engine', (engine) => {
  let store: Store;
  openForSuite(
    engine,
    (s) => (store = s),
    async (s) => {
      await seedOrganisations(s, 'test');
      await trustSigningKey(s, 'RWF', trusted.publicKeyPem, 'test');
    },
  );
  const request = { org: 'RWF', spec: stageSpec, period: undefined, displayName: 'sent.csv' };

  it('trusts a key only for a registered organisation, and one organisation’s key for no other', async () => {
    const before = await store.query('SELECT org_code, key_id FROM trusted_keys ORDER BY org_code');
    await expect(trustSigningKey(store, 'ZZZ96', stranger.publicKeyPem, 'test')).rejects.toMatchObject({
      code: 'not-found',
      message: 'No organisation ZZZ96 is registered',
      where: { field: 'org' },
    });
    await expect(trustSigningKey(store, 'RPA', trusted.publicKeyPem, 'test')).rejects.toMatchObject({
      code: 'conflict',
      message: 'This key is already trusted for RWF, not RPA',
      where: { field: 'org' },
    });
    expect(await store.query('SELECT org_code, key_id FROM trusted_keys ORDER BY org_code')).toEqual(before);
  });

  it('refuses a manifest for another organisation, dataset or month', async () => {
    const manifest = await manifestFor(stageFeed(['A1,3,2025-04-01']).file, 1);
    await expect(verifyManifest(store, manifest, request)).resolves.toBeUndefined();

    const other = await refusal(verifyManifest(store, manifest, { ...request, org: 'RXX' }));
    expect(other).toMatchObject({
      code: 'refused',
      message: 'The manifest is for organisation RWF, not RXX',
      where: { file: 'sent.csv' },
      hint: 'Check --org and the file',
    });
    const dataset = await refusal(
      verifyManifest(store, manifest, { ...request, spec: catalogueSpecs.spec('apc') }),
    );
    expect(dataset.message).toBe('The manifest is for dataset stage-test, not apc');
    const month = await refusal(verifyManifest(store, manifest, { ...request, period: '2025-05' }));
    expect(month).toMatchObject({
      message: 'The manifest is for period 2025-04, not 2025-05',
      hint: 'Check --period and the file',
    });
  });

  it('refuses a manifest unsigned, signed with a key not trusted, or altered after signing', async () => {
    const file = stageFeed(['A1,3,2025-04-01']).file;
    const manifest = await manifestFor(file, 1);

    const unsigned = await refusal(verifyManifest(store, { ...manifest, signature: null }, request));
    expect(unsigned).toMatchObject({ code: 'refused', message: 'The manifest is not signed' });

    const untrusted = await refusal(
      verifyManifest(store, await manifestFor(file, 1, { key: stranger }), request),
    );
    expect(untrusted).toMatchObject({
      code: 'refused',
      message: `The manifest is signed with key ${stranger.keyId}, which is not trusted for RWF`,
    });

    const altered = await refusal(verifyManifest(store, { ...manifest, rowCount: 2 }, request));
    expect(altered).toMatchObject({
      code: 'refused',
      message: 'The manifest\u2019s signature does not match its contents: it was altered after signing',
      where: { file: 'sent.csv' },
      hint: 'Send the manifest exactly as `kernel deid` wrote it',
    });

    const fromRxx = await manifestFor(file, 1, { org: 'RXX' });
    const noKey = await refusal(verifyManifest(store, fromRxx, { ...request, org: 'RXX' }));
    expect(noKey).toMatchObject({
      code: 'refused',
      message: 'No signing key is trusted for RXX',
      hint: 'Register the agent\u2019s public key: kernel keys trust --org RXX FILE.pub',
    });
  });

  it('refuses a file with no manifest, saying so if its header names identifiers', () => {
    const file = stageFeed([]).file;
    expect(unsignedFile(stagePlan, file, 'sent.csv')).toMatchObject({
      code: 'refused',
      message: 'The file has no manifest, so it is unsigned',
      where: { file: 'sent.csv' },
    });
    const apcPlan = deidPlan(catalogueSpecs.spec('apc'));
    writeFileSync(file, `\uFEFF${apcPlan.identifierFields.slice(0, 2).join(',')},other\r\n1,2,3\r\n`);
    expect(unsignedFile(apcPlan, file, 'sent.csv').message).toBe(
      `The file has no manifest and still carries identifiers (${apcPlan.identifierFields.slice(0, 2).join(', ')})`,
    );
  });

  it('finds the load of a file already loaded, and refuses its manifest sent beside another file', async () => {
    const sent = stageFeed(['A1,3,2025-04-01']).file;
    const sha256 = await sha256File(sent);
    const report = { org: 'RWF', dataset: stageSpec.id, sha256, file: 'sent.csv' };
    expect(await earlierLoadOf(store, report, sent)).toBeNull();
    await store.run(
      `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, sha256, status, started_at, actor, host, pid)
       VALUES ('ld-earlier', 'RWF', $1, '2025-04', 'sent.csv', $2, 'loaded', '2025-05-01T09:00:00Z', 'test', 'here', 1)`,
      [stageSpec.id, sha256],
    );
    expect(await earlierLoadOf(store, report, sent)).toBe('ld-earlier');
    expect(await earlierLoadOf(store, { ...report, org: 'RXX' }, sent)).toBeNull();

    const another = stageFeed(['B2,4,2025-04-02']).file;
    const refused = await refusal(earlierLoadOf(store, report, another));
    expect(refused).toMatchObject({
      code: 'refused',
      message:
        'The manifest is for another file: the file\u2019s SHA-256 is not the one the manifest records',
      where: { file: 'sent.csv' },
      hint: 'Send the file and the manifest `kernel deid` wrote together, unchanged',
    });
  });

  it('refuses a scan that does not find the file the manifest describes', async () => {
    const file = stageFeed(['A1,3,2025-04-01', 'B2,4,2025-04-02']).file;
    const scanOf = (manifest: FeedManifest) =>
      scanAgainstManifest(file, stagePlan, {
        manifest,
        displayName: 'sent.csv',
        onProgress: () => undefined,
      });

    const agrees = scanOf(await manifestFor(file, 2));
    expect((await agrees()).rows).toBe(2);
    expect(agrees()).toBe(agrees()); // one scan, however often it is asked

    const rows = await refusal(scanOf(await manifestFor(file, 3))());
    expect(rows).toMatchObject({
      code: 'refused',
      message: 'The file has 2 rows but the manifest says 3',
      where: { file: 'sent.csv' },
    });
    const another = await manifestFor(stageFeed(['C3,5,2025-04-03', 'D4,6,2025-04-04']).file, 2);
    expect((await refusal(scanOf(another)())).message).toBe(
      'The manifest is for another file: the file\u2019s SHA-256 is not the one the manifest records',
    );
  });
});
