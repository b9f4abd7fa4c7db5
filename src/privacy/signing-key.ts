/**
 * Ed25519 signing keys (RFC 8032): each organisation's agent signs its manifests; the
 * warehouse checks the signature with the public key registered by `kernel keys trust`.
 * Private keys are PKCS#8 PEM, mode 0600; public keys SPKI PEM beside them (`FILE.pub`).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { KernelError } from '../errors.ts';
import { readKeyText, writePublicFile, writeSecretFile } from './key-file.ts';

export interface SigningKeyPair {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function newSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    keyId: signingKeyId(publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem,
  };
}

/** `sk-` and the first 16 hex digits of SHA-256 of the public key's DER: names the pair. */
export function signingKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `sk-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** Writes FILE (private, 0600) and FILE.pub (public); refuses to overwrite either. */
export function writeSigningKeyPair(
  file: string,
  pair: SigningKeyPair,
): { privateFile: string; publicFile: string } {
  const publicFile = `${file}.pub`;
  writeSecretFile(file, pair.privateKeyPem, 'signing key');
  writePublicFile(publicFile, pair.publicKeyPem, 'public key');
  return { privateFile: file, publicFile };
}

export function readSigningPrivateKey(file: string): { keyId: string; privateKey: KeyObject } {
  const text = readKeyText(file, 'signing key', '--sign');
  try {
    const privateKey = createPrivateKey(text);
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return { keyId: signingKeyId(createPublicKey(privateKey)), privateKey };
  } catch {
    throw new KernelError('config', 'The signing key file is not an Ed25519 private key', {
      where: { file },
      hint: 'Give the private key made by `kernel keys new-signing` (not the .pub file)',
    });
  }
}

/** Parses a public key PEM; answers its key id and the normalised PEM. */
export function parsePublicKey(
  pem: string,
  file?: string,
): { keyId: string; publicKeyPem: string; publicKey: KeyObject } {
  try {
    const publicKey = createPublicKey(pem);
    if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return {
      keyId: signingKeyId(publicKey),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      publicKey,
    };
  } catch {
    throw new KernelError('invalid-input', 'That is not an Ed25519 public key', {
      ...(file ? { where: { file } } : {}),
      hint: 'Give the FILE.pub made by `kernel keys new-signing`',
    });
  }
}

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
