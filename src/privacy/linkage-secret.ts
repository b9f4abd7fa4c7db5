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
import { KernelError } from '../errors.ts';
import { readKeyText, writeSecretFile } from './key-file.ts';

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

export function writeLinkageSecretFile(file: string, secret: LinkageSecret): void {
  const body = {
    kind: 'linkage-secret',
    keyId: secret.keyId,
    key: secret.key.toString('base64'),
    created: new Date().toISOString(),
  };
  writeSecretFile(file, `${JSON.stringify(body, null, 2)}\n`, 'linkage secret');
}

export function readLinkageSecretFile(file: string): LinkageSecret {
  const text = readKeyText(file, 'linkage secret', '--linkage-secret');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KernelError('config', 'The linkage secret file is not valid JSON', {
      where: { file },
      hint: 'Give the file made by `kernel keys new-linkage`',
    });
  }
  const body = parsed as { kind?: unknown; keyId?: unknown; key?: unknown };
  if (body.kind !== 'linkage-secret') {
    throw new KernelError('config', 'This file is not a linkage secret (a link key is a different kind)', {
      where: { file },
      hint: 'Give the file made by `kernel keys new-linkage`',
    });
  }
  const key = typeof body.key === 'string' ? Buffer.from(body.key, 'base64') : Buffer.alloc(0);
  if (typeof body.keyId !== 'string' || key.length !== KEY_BYTES || linkageSecretId(key) !== body.keyId) {
    throw new KernelError('config', 'The linkage secret file is damaged (its key and key id do not match)', {
      where: { file },
      hint: 'Ask the key custodian for a fresh copy of the file made by `kernel keys new-linkage`',
    });
  }
  return { keyId: body.keyId, key };
}
