/**
 * The link key: the one 256-bit secret every organisation's agent uses so that the same
 * NHS number gives the same `person_token` everywhere (architecture §5). The key custodian
 * makes it once; agents read it; the warehouse never sees it, only its key id.
 *
 * File format (JSON): `{ "keyId": "lk-…", "key": "<base64 of 32 bytes>", "created": ISO }`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { KernelError } from '../errors.ts';
import { readKeyText, writeSecretFile } from './key-file.ts';

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

export function writeLinkKeyFile(file: string, linkKey: LinkKey): void {
  const body = {
    keyId: linkKey.keyId,
    key: linkKey.key.toString('base64'),
    created: new Date().toISOString(),
  };
  writeSecretFile(file, `${JSON.stringify(body, null, 2)}\n`, 'link key');
}

export function readLinkKeyFile(file: string): LinkKey {
  const text = readKeyText(file, 'link key', '--key');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KernelError('config', 'The link key file is not valid JSON', {
      where: { file },
      hint: 'Give the file made by `kernel keys new`',
    });
  }
  const body = parsed as { keyId?: unknown; key?: unknown };
  const key = typeof body.key === 'string' ? Buffer.from(body.key, 'base64') : Buffer.alloc(0);
  if (typeof body.keyId !== 'string' || key.length !== KEY_BYTES || linkKeyId(key) !== body.keyId) {
    throw new KernelError('config', 'The link key file is damaged (its key and key id do not match)', {
      where: { file },
      hint: 'Ask the key custodian for a fresh copy of the file made by `kernel keys new`',
    });
  }
  return { keyId: body.keyId, key };
}
