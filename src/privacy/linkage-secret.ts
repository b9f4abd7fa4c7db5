/**
 * The linkage secret: the 256-bit key every member's agent uses to make Bloom-filter
 * encodings and blocking keys of names, dates of birth and addresses for records that
 * arrive without an NHS number (docs/linkage.md). A second key kind beside the link key,
 * so that a leak of one does not open the other. Agents hold it; the warehouse never does,
 * and sees only its key id.
 *
 * File format (JSON): `{ "kind": "linkage-secret", "keyId": "ls-…", "key": "<base64>", "created": ISO }`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readSymmetricKeyFile, writeSymmetricKeyFile, type SymmetricKeyKind } from './key-file.ts';

export interface LinkageSecret {
  /** a public name for the secret: safe to print, log and record in manifests */
  keyId: string;
  key: Buffer;
}

const KEY_BYTES = 32;

export function newLinkageSecret(): LinkageSecret {
  const key = randomBytes(KEY_BYTES);
  return { keyId: linkageSecretId(key), key };
}

/** `ls-` and 16 hex digits of SHA-256("kernel linkage secret id" ‖ key): names it, reveals nothing. */
export function linkageSecretId(key: Buffer): string {
  return `ls-${createHash('sha256').update('kernel linkage secret id\0').update(key).digest('hex').slice(0, 16)}`;
}

const LINKAGE_SECRET: SymmetricKeyKind = {
  what: 'linkage secret',
  command: 'kernel keys new-linkage',
  flag: '--linkage-secret',
  kind: 'linkage-secret',
  idOf: linkageSecretId,
};

export function writeLinkageSecretFile(file: string, secret: LinkageSecret): void {
  writeSymmetricKeyFile(file, LINKAGE_SECRET, secret);
}

export function readLinkageSecretFile(file: string): LinkageSecret {
  return readSymmetricKeyFile(file, LINKAGE_SECRET);
}
