/**
 * Each organisation's agent encryption key pair (X25519, RFC 7748), beside its Ed25519
 * signing key: the warehouse seals the tokens of an approved re-identification to the
 * controller's public key, so only that controller's agent can open them
 * (docs/reidentification.md). Private keys are PKCS#8 PEM, mode 0600; public keys SPKI PEM
 * beside them (`FILE.pub`), registered in the warehouse with `kernel keys trust-encryption`.
 * Key ids are `ek-` and 16 hex digits; how pairs are made, written and read is `key-pair.ts`.
 */
import { keyPairFunctions, type KeyPair } from './key-pair.ts';

export type EncryptionKeyPair = KeyPair;

export const {
  newPair: newEncryptionKeyPair,
  keyId: encryptionKeyId,
  write: writeEncryptionKeyPair,
  readPrivate: readEncryptionPrivateKey,
  parsePublic: parseEncryptionPublicKey,
} = keyPairFunctions({
  type: 'x25519',
  idPrefix: 'ek',
  what: 'encryption key',
  privateKeyName: 'an X25519 private key',
  publicKeyName: 'an X25519 public encryption key',
  command: 'kernel keys new-encryption',
  flag: '--decrypt-key',
});
