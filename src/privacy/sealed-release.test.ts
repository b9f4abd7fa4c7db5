import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newEncryptionKeyPair } from './encryption-key.ts';
import { canonicalJson } from './manifest.ts';
import { openRelease, parseSealedRelease, sealRelease, type SealedRelease } from './sealed-release.ts';
import { signBytes } from './signing-key.ts';

const header = {
  requestId: 'REID-BCDFGHJKLM',
  controller: 'RWF',
  useCaseId: 'UC-003',
  fields: ['given_name'],
  releasedAt: '2026-01-01T00:00:00Z',
};
const tokens = ['a'.repeat(64), 'b'.repeat(64)];

describe('a sealed re-identification release', () => {
  const kernel = generateKeyPairSync('ed25519');
  const rwf = newEncryptionKeyPair();
  const rwfPrivate = () => createPrivateKey(rwf.privateKeyPem);
  const sealed = sealRelease(header, tokens, createPublicKey(rwf.publicKeyPem), kernel.privateKey);

  it('holds no token in the clear, and opens with the controller’s key after Kernel’s signature', () => {
    const text = JSON.stringify(sealed);
    for (const t of tokens) expect(text).not.toContain(t);
    expect(openRelease(parseSealedRelease(text), kernel.publicKey, rwfPrivate()).tokens).toEqual(tokens);
  });

  it('refuses a changed ciphertext or header, even re-signed: GCM binds them', () => {
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const changed: SealedRelease = { ...sealed, ciphertext: bytes.toString('base64') };
    expect(() => openRelease(changed, kernel.publicKey, rwfPrivate())).toThrow(/does not verify/);
    // Signed again by Kernel's key (as if the signer were fooled): GCM still refuses it.
    const resigned: SealedRelease = {
      ...changed,
      signature: signBytes(
        Buffer.from(canonicalJson({ ...changed, signature: undefined })),
        kernel.privateKey,
      ),
    };
    expect(() => openRelease(resigned, kernel.publicKey, rwfPrivate())).toThrow(/does not decrypt/);
    // So is a header changed and re-signed: it is GCM's additional data.
    const relabelled: SealedRelease = { ...sealed, useCaseId: 'UC-999', signature: null };
    relabelled.signature = signBytes(
      Buffer.from(canonicalJson({ ...relabelled, signature: undefined })),
      kernel.privateKey,
    );
    expect(() => openRelease(relabelled, kernel.publicKey, rwfPrivate())).toThrow(/does not decrypt/);
  });

  it('uses a fresh ephemeral key for each release', () => {
    const again = sealRelease(header, tokens, createPublicKey(rwf.publicKeyPem), kernel.privateKey);
    expect(again.encryption.ephemeralPublicKey).not.toBe(sealed.encryption.ephemeralPublicKey);
    expect(again.ciphertext).not.toBe(sealed.ciphertext);
  });

  it('refuses what is not a sealed release', () => {
    expect(() => parseSealedRelease('{"format":"other"}')).toThrow(/not a Kernel re-identification file/);
    expect(() => parseSealedRelease('not json')).toThrow(/not valid JSON/);
  });
});
