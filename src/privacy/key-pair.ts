/**
 * An agent's asymmetric key pair, of one kind or another (Ed25519 signing, RFC 8032; X25519
 * encryption, RFC 7748): made, named, written, read and parsed the same way. Private keys are
 * PKCS#8 PEM, mode 0600; public keys SPKI PEM beside them (`FILE.pub`).
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

export interface KeyPairKind {
  type: 'ed25519' | 'x25519';
  /** the key id's prefix: `sk` for signing, `ek` for encryption */
  idPrefix: string;
  /** in messages: 'signing key', 'encryption key' */
  what: string;
  /** in messages: 'an Ed25519 private key' */
  privateKeyName: string;
  /** in messages: 'an Ed25519 public key' */
  publicKeyName: string;
  /** the command that makes one, for hints */
  command: string;
  /** the flag that names the private key file, for hints */
  flag: string;
}

export interface KeyPair {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function newKeyPair(kind: KeyPairKind): KeyPair {
  // The overloads of generateKeyPairSync take the type as a literal, hence the two calls.
  const { privateKey, publicKey } =
    kind.type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519');
  return {
    keyId: keyPairId(kind, publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The prefix and the first 16 hex digits of SHA-256 of the public key's DER: names the pair. */
export function keyPairId(kind: KeyPairKind, publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `${kind.idPrefix}-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** Writes FILE (private, 0600) and FILE.pub (public); refuses to overwrite either. */
export function writeKeyPair(
  file: string,
  kind: KeyPairKind,
  pair: KeyPair,
): { privateFile: string; publicFile: string } {
  const publicFile = `${file}.pub`;
  writeSecretFile(file, pair.privateKeyPem, kind.what);
  writePublicFile(publicFile, pair.publicKeyPem, 'public key');
  return { privateFile: file, publicFile };
}

export function readPrivateKey(
  file: string,
  kind: KeyPairKind,
  flag = kind.flag,
): { keyId: string; privateKey: KeyObject } {
  const text = readKeyText(file, kind.what, flag);
  try {
    const privateKey = createPrivateKey(text);
    if (privateKey.asymmetricKeyType !== kind.type) throw new Error(`not ${kind.type}`);
    return { keyId: keyPairId(kind, createPublicKey(privateKey)), privateKey };
  } catch {
    throw new KernelError('config', `The ${kind.what} file is not ${kind.privateKeyName}`, {
      where: { file },
      hint: `Give the private key made by \`${kind.command}\` (not the .pub file)`,
    });
  }
}

/** Parses a public key PEM of the kind; answers its key id and the normalised PEM. */
export function parsePublicKeyOf(
  kind: KeyPairKind,
  pem: string,
  file?: string,
): { keyId: string; publicKeyPem: string; publicKey: KeyObject } {
  try {
    const publicKey = createPublicKey(pem);
    if (publicKey.asymmetricKeyType !== kind.type) throw new Error(`not ${kind.type}`);
    return {
      keyId: keyPairId(kind, publicKey),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      publicKey,
    };
  } catch {
    throw new KernelError('invalid-input', `That is not ${kind.publicKeyName}`, {
      ...(file ? { where: { file } } : {}),
      hint: `Give the FILE.pub made by \`${kind.command}\``,
    });
  }
}

/** The functions of one kind of key pair, for its module to export under its own names. */
export function keyPairFunctions(kind: KeyPairKind) {
  return {
    newPair: (): KeyPair => newKeyPair(kind),
    keyId: (publicKey: KeyObject): string => keyPairId(kind, publicKey),
    write: (file: string, pair: KeyPair) => writeKeyPair(file, kind, pair),
    readPrivate: (file: string, flag = kind.flag) => readPrivateKey(file, kind, flag),
    parsePublic: (pem: string, file?: string) => parsePublicKeyOf(kind, pem, file),
  };
}
