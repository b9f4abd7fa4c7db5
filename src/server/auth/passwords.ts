import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { KernelError } from '../../errors.ts';

/**
 * Password hashing with Argon2id (RFC 9106), @node-rs/argon2's default algorithm, at
 * its defaults of 19 MiB, 2 passes, 1 lane: the OWASP Password Storage Cheat Sheet's
 * first recommended configuration. The PHC string carries its own salt and parameters.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

/** NCSC password guidance: length beats complexity rules; 12 characters at least. */
export const MIN_PASSWORD_LENGTH = 12;

export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new KernelError(
      'invalid-input',
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters long`,
      {
        where: { field: 'password' },
        hint: 'Use three random words, or a password manager',
      },
    );
  }
}

// No 0/O, 1/l/I: a one-time password is read off a screen and typed by hand.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** A random 20-character one-time password (about 115 bits). */
export function generateOneTimePassword(): string {
  const bytes = randomBytes(20);
  let out = '';
  // 256 is not a multiple of 54, so the first characters are very slightly likelier; at 20
  // characters the loss is well under a bit.
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}
