import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * A SCRAM-SHA-256 verifier for a password, in the form PostgreSQL stores and accepts in
 * `CREATE ROLE … PASSWORD` (RFC 5802 §3 and RFC 7677; PostgreSQL docs, "Password
 * Authentication"): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64.
 * Sending the verifier instead of the password keeps the password out of the server's
 * statement log, its error messages and any copy of the SQL: it is shown to its user once
 * and never exists anywhere else. The passwords Kernel makes are ASCII, so SASLprep leaves
 * them as they are.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A new login password: 192 random bits, URL-safe, so it pastes into a connection string as it is. */
export function newLoginPassword(): string {
  return randomBytes(24).toString('base64url');
}
