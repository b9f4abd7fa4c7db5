/**
 * Each organisation's agent encryption key pair (X25519, RFC 7748), beside its Ed25519
 * signing key: the warehouse seals the tokens of an approved re-identification to the
 * controller's public key, so only that controller's agent can open them
 * (docs/reidentification.md). Private keys are PKCS#8 PEM, mode 0600; public keys SPKI PEM
 * beside them (`FILE.pub`), registered in the warehouse with `kernel keys trust-encryption`.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { KernelError } from '../errors.ts';
import { readKeyText, writePublicFile, writeSecretFile } from './key-file.ts';

export interface EncryptionKeyPair {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function newEncryptionKeyPair(): EncryptionKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    keyId: encryptionKeyId(publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** `ek-` and the first 16 hex digits of SHA-256 of the public key's DER: names the pair. */
export function encryptionKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ek-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** Writes FILE (private, 0600) and FILE.pub (public); refuses to overwrite either. */
export function writeEncryptionKeyPair(
  file: string,
  pair: EncryptionKeyPair,
): { privateFile: string; publicFile: string } {
  const publicFile = `${file}.pub`;
  writeSecretFile(file, pair.privateKeyPem, 'encryption key');
  writePublicFile(publicFile, pair.publicKeyPem, 'public key');
  return { privateFile: file, publicFile };
}

export function readEncryptionPrivateKey(
  file: string,
  flag = '--decrypt-key',
): { keyId: string; privateKey: KeyObject } {
  const text = readKeyText(file, 'encryption key', flag);
  try {
    const privateKey = createPrivateKey(text);
    if (privateKey.asymmetricKeyType !== 'x25519') throw new Error('not x25519');
    return { keyId: encryptionKeyId(createPublicKey(privateKey)), privateKey };
  } catch {
    throw new KernelError('config', 'The encryption key file is not an X25519 private key', {
      where: { file },
      hint: 'Give the private key made by `kernel keys new-encryption` (not the .pub file)',
    });
  }
}

/** Parses an X25519 public key PEM; answers its key id and the normalised PEM. */
export function parseEncryptionPublicKey(
  pem: string,
  file?: string,
): { keyId: string; publicKeyPem: string; publicKey: KeyObject } {
  try {
    const publicKey = createPublicKey(pem);
    if (publicKey.asymmetricKeyType !== 'x25519') throw new Error('not x25519');
    return {
      keyId: encryptionKeyId(publicKey),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      publicKey,
    };
  } catch {
    throw new KernelError('invalid-input', 'That is not an X25519 public encryption key', {
      ...(file ? { where: { file } } : {}),
      hint: 'Give the FILE.pub made by `kernel keys new-encryption`',
    });
  }
}
