import { createHash, createHmac, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { encryptionKeyId, newEncryptionKeyPair } from './encryption-key.ts';
import { linkKeyId, newLinkKey, readLinkKeyFile, writeLinkKeyFile } from './link-key.ts';
import { linkageSecretId, newLinkageSecret } from './linkage-secret.ts';
import {
  canonicalJson,
  manifestSignatureValid,
  MANIFEST_FORMAT,
  signManifest,
  type FeedManifest,
} from './manifest.ts';
import {
  newSigningKeyPair,
  parsePublicKey,
  readSigningPrivateKey,
  writeSigningKeyPair,
} from './signing-key.ts';
import { hmacTokeniser, openPseudonymiserDigest } from './token-scheme.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-keys-'));

describe('link keys', () => {
  it('writes a 256-bit key readable by its owner only, reads it back, and refuses to overwrite', () => {
    const key = newLinkKey();
    expect(key.key).toHaveLength(32);
    const file = path.join(dir, 'link.key');
    writeLinkKeyFile(file, key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const back = readLinkKeyFile(file);
    expect(back.keyId).toBe(key.keyId);
    expect(back.key.equals(key.key)).toBe(true);
    expect(() => writeLinkKeyFile(file, newLinkKey())).toThrow(/already exists/);
    expect(readLinkKeyFile(file).key.equals(key.key)).toBe(true);
  });

  it('names each key kind by its own fingerprint, so key files made before stay readable', () => {
    const sha = (...parts: (string | Buffer)[]): string =>
      parts
        .reduce((h, p) => h.update(p), createHash('sha256'))
        .digest('hex')
        .slice(0, 16);
    const link = newLinkKey();
    expect(link.keyId).toBe(`lk-${sha('kernel link key id\0', link.key)}`);
    expect(linkKeyId(link.key)).toBe(link.keyId);
    const secret = newLinkageSecret();
    expect(secret.keyId).toBe(`ls-${sha('kernel linkage secret id\0', secret.key)}`);
    expect(linkageSecretId(secret.key)).toBe(secret.keyId);
    for (const [pair, prefix] of [
      [newSigningKeyPair(), 'sk'],
      [newEncryptionKeyPair(), 'ek'],
    ] as const) {
      const der = createPublicKey(pair.publicKeyPem).export({ type: 'spki', format: 'der' });
      expect(pair.keyId).toBe(`${prefix}-${sha(der)}`);
    }
    expect(encryptionKeyId(createPublicKey(newEncryptionKeyPair().publicKeyPem))).toMatch(/^ek-/);
  });

  it('refuses a damaged key file', () => {
    const key = newLinkKey();
    const file = path.join(dir, 'damaged.key');
    writeLinkKeyFile(file, { keyId: key.keyId, key: newLinkKey().key });
    expect(() => readLinkKeyFile(file)).toThrow(KernelError);
  });

  it('makes person tokens as HMAC-SHA256 of the NHS number (RFC 2104), the same for the same key', () => {
    const key = newLinkKey();
    const tokeniser = hmacTokeniser(key);
    const expected = createHmac('sha256', key.key).update('9990000018').digest('hex');
    expect(tokeniser.token('9990000018')).toBe(expected);
    expect(hmacTokeniser(newLinkKey()).token('9990000018')).not.toBe(expected);
    expect(tokeniser.keyId).toBe(key.keyId);
  });
});

describe('OpenPseudonymiser scheme', () => {
  it('matches the published example: NHS number 123456789 with salt "hello"', () => {
    // Upper-case hex SHA-256 of "123456789hello"; checked independently with
    // `printf '123456789hello' | sha256sum`.
    expect(openPseudonymiserDigest({ NHSNumber: '123456789' }, 'hello')).toBe(
      'A4455E6581B78D69E569895C2B615DFA90A6CD56938E40CA91EDD26E44DEEDFE',
    );
  });

  it('orders fields alphabetically by name and removes white space before the salt', () => {
    const a = openPseudonymiserDigest({ NHSNumber: '123 456 789', DOB: '01.01.1990' }, 'hello');
    const b = openPseudonymiserDigest({ DOB: '01.01.1990', NHSNumber: '123456789' }, 'hello');
    expect(a).toBe(b);
    expect(a).toBe(openPseudonymiserDigest({ X: '01.01.1990123456789' }, 'hello'));
  });
});

describe('signing keys and manifests', () => {
  const manifest: FeedManifest = {
    format: MANIFEST_FORMAT,
    organisation: 'RWF',
    dataset: 'apc',
    specVersion: '1.0.0',
    period: '2025-04',
    file: 'apc.csv',
    rowCount: 10,
    columns: ['source_line', 'person_token'],
    sha256: 'a'.repeat(64),
    tokenScheme: 'hmac-sha256',
    keyId: 'lk-0123456789abcdef',
    nhsNumberProblems: { missing: { count: 1, firstLine: 3 } },
    nhsNumberField: 'NHS_Number',
    toolVersion: 'kernel test',
    createdAt: '2025-05-01T00:00:00.000Z',
    signingKeyId: null,
    signature: null,
  };

  it('writes a key pair (private 0600 and FILE.pub), refuses to overwrite, and reads it back', () => {
    const pair = newSigningKeyPair();
    const file = path.join(dir, 'rwf.signing');
    const { publicFile } = writeSigningKeyPair(file, pair);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readSigningPrivateKey(file).keyId).toBe(pair.keyId);
    expect(parsePublicKey(readFileSync(publicFile, 'utf8')).keyId).toBe(pair.keyId);
    expect(() => writeSigningKeyPair(file, newSigningKeyPair())).toThrow(/already exists/);
  });

  it('signs canonical JSON: survives re-indenting, fails on any change or another key', () => {
    const pair = newSigningKeyPair();
    const file = path.join(dir, 'sign2');
    writeSigningKeyPair(file, pair);
    const { keyId, privateKey } = readSigningPrivateKey(file);
    const signed = signManifest(manifest, keyId, privateKey);
    const publicKey = parsePublicKey(pair.publicKeyPem).publicKey;
    expect(
      manifestSignatureValid(JSON.parse(JSON.stringify(signed, null, 4)) as FeedManifest, publicKey),
    ).toBe(true);
    expect(manifestSignatureValid({ ...signed, rowCount: 11 }, publicKey)).toBe(false);
    expect(manifestSignatureValid({ ...signed, nhsNumberProblems: {} }, publicKey)).toBe(false);
    const other = parsePublicKey(newSigningKeyPair().publicKeyPem).publicKey;
    expect(manifestSignatureValid(signed, other)).toBe(false);
    expect(manifestSignatureValid({ ...signed, signature: null }, publicKey)).toBe(false);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[2,{"e":2,"f":1}]},"b":1}',
    );
  });
});
