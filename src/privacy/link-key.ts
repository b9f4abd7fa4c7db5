/**
 * The link key: the one 256-bit secret every organisation's agent uses so that the same
 * NHS number gives the same `person_token` everywhere (architecture §5). The key custodian
 * makes it once; agents read it; the warehouse never sees it, only its key id.
 *
 * File format (JSON): `{ "keyId": "lk-…", "key": "<base64 of 32 bytes>", "created": ISO }`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readSymmetricKeyFile, writeSymmetricKeyFile, type SymmetricKeyKind } from './key-file.ts';

export interface LinkKey {
  /** a public name for the key: safe to print, log and record in manifests */
  keyId: string;
  key: Buffer;
}

const KEY_BYTES = 32;

/** A fresh random link key. The key id is derived from the key so it can be checked later. */
export function newLinkKey(): LinkKey {
  const key = randomBytes(KEY_BYTES);
  return { keyId: linkKeyId(key), key };
}

/**
 * `lk-` and the first 16 hex digits of SHA-256("kernel link key id" ‖ key). A one-way
 * fingerprint: it names the key without revealing it.
 */
export function linkKeyId(key: Buffer): string {
  return `lk-${createHash('sha256').update('kernel link key id\0').update(key).digest('hex').slice(0, 16)}`;
}

const LINK_KEY: SymmetricKeyKind = {
  what: 'link key',
  command: 'kernel keys new',
  flag: '--key',
  idOf: linkKeyId,
};

export function writeLinkKeyFile(file: string, linkKey: LinkKey): void {
  writeSymmetricKeyFile(file, LINK_KEY, linkKey);
}

export function readLinkKeyFile(file: string): LinkKey {
  return readSymmetricKeyFile(file, LINK_KEY);
}
