/**
 * Ed25519 signing keys (RFC 8032): each organisation's agent signs its manifests; the
 * warehouse checks the signature with the public key registered by `kernel keys trust`.
 * Private keys are PKCS#8 PEM, mode 0600; public keys SPKI PEM beside them (`FILE.pub`).
 * Key ids are `sk-` and 16 hex digits; how pairs are made, written and read is `key-pair.ts`.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { keyPairFunctions, type KeyPair } from './key-pair.ts';

export type SigningKeyPair = KeyPair;

export const {
  newPair: newSigningKeyPair,
  keyId: signingKeyId,
  write: writeSigningKeyPair,
  readPrivate: readSigningPrivateKey,
  parsePublic: parsePublicKey,
} = keyPairFunctions({
  type: 'ed25519',
  idPrefix: 'sk',
  what: 'signing key',
  privateKeyName: 'an Ed25519 private key',
  publicKeyName: 'an Ed25519 public key',
  command: 'kernel keys new-signing',
  flag: '--sign',
});

export function signBytes(data: Buffer, privateKey: KeyObject): string {
  // Ed25519 hashes internally, so the algorithm argument is null (Node.js crypto.sign docs).
  return sign(null, data, privateKey).toString('base64');
}

export function verifyBytes(data: Buffer, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, data, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
