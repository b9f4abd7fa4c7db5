/**
 * How identifiers become tokens.
 *
 * - Kernel's own scheme: `HMAC-SHA256(link key, normalised value)` (RFC 2104), lower-case
 *   hex. Without the key a token cannot be reversed by trying every NHS number, which a
 *   plain hash of a ten-digit number could be.
 * - The OpenPseudonymiser scheme, so Kernel can join data already pseudonymised that way:
 *   the upper-case hex SHA-256 of the chosen fields' values concatenated in alphabetical
 *   order of field name with all white space removed, then the salt.
 */
import { createHash, createHmac } from 'node:crypto';
import type { LinkKey } from './link-key.ts';

export type TokenSchemeName = 'hmac-sha256' | 'openpseudonymiser';

/** Turns one normalised identifier into its token. */
export interface Tokeniser {
  readonly scheme: TokenSchemeName;
  /** what the manifest records instead of the key: a key id or a salt fingerprint */
  readonly keyId: string;
  token(value: string): string;
}

export function hmacTokeniser(linkKey: LinkKey): Tokeniser {
  const key = linkKey.key;
  return {
    scheme: 'hmac-sha256',
    keyId: linkKey.keyId,
    token: (value) => createHmac('sha256', key).update(value).digest('hex'),
  };
}

/**
 * The OpenPseudonymiser digest of `fields` (name → value) with `salt`, per its published
 * description: values in alphabetical order of field name, white space removed, salt last.
 */
export function openPseudonymiserDigest(fields: Record<string, string>, salt: string): string {
  const names = Object.keys(fields).sort();
  const joined = names.map((name) => (fields[name] ?? '').replace(/\s+/g, '')).join('');
  return createHash('sha256')
    .update(joined + salt, 'utf8')
    .digest('hex')
    .toUpperCase();
}

/** A tokeniser for one field (the NHS number) under the OpenPseudonymiser scheme. */
export function openPseudonymiserTokeniser(fieldName: string, salt: string): Tokeniser {
  return {
    scheme: 'openpseudonymiser',
    // The salt is secret like a key: record only a fingerprint of it.
    keyId: `op-${createHash('sha256').update('kernel salt id\0').update(salt).digest('hex').slice(0, 16)}`,
    token: (value) => openPseudonymiserDigest({ [fieldName]: value }, salt),
  };
}
