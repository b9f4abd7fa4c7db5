import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random secret for a cookie, a CSRF token or an API token: 256 bits, base64url. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A short random id for a record (not a secret). Lower-case hex after the prefix, never
 * base64url: its '-' can cut out a word such as `ME11AB` that looks like a postcode, and ids
 * go into audit details, which refuse anything shaped like an identifier.
 */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('hex')}`;
}

/**
 * SHA-256 of a high-entropy secret (session id, API token). A fast hash is enough for a
 * 256-bit random value (no dictionary to search), and lets us look the row up by it.
 */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares two secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
