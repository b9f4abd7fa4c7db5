import { enrolAuthenticator } from '../../src/server/auth/second-factor.ts';
import { newTotpSecret, totpCode } from '../../src/server/auth/totp.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * Enrols an authenticator for a test account, as the enrolment page would after its first
 * code; answers the secret, from which a test makes codes as the person's phone would.
 */
export async function enrolTestAuthenticator(store: Store, userId: string): Promise<string> {
  const secret = newTotpSecret();
  const now = new Date();
  const codes = await enrolAuthenticator(store, userId, secret, totpCode(secret, now), 'test', now);
  if (!codes) throw new Error('the enrolment code was refused');
  return secret;
}

/**
 * A code not yet used: the next time step's (accepted, RFC 6238 §5.2 allowing one step of
 * drift), so a sign-in straight after enrolment is not refused as a reused code.
 */
export function nextTotpCode(secret: string, now: Date = new Date()): string {
  return totpCode(secret, new Date(now.getTime() + 30_000));
}
