import { describe, expect, it } from 'vitest';
import { openWithMembersForSuite } from '../../../test/members-store.ts';
import { testStores } from '../../../test/stores.ts';
import type { Store } from '../../store/store.ts';
import {
  checkSecondFactor,
  enrolAuthenticator,
  needsSecondFactor,
  recoveryCodesLeft,
  renewRecoveryCodes,
} from './second-factor.ts';
import { newTotpSecret, totpCode } from './totp.ts';
import { addUser } from './user-accounts.ts';

describe.each(testStores())('authenticators and recovery codes on $engine (issue 19)', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));

  async function enrolled(email: string, role = 'analyst') {
    const { user } = await addUser(store, { email, role, password: 'a long test passphrase' }, 'test');
    const secret = newTotpSecret();
    const now = new Date('2026-12-05T12:00:00Z');
    expect(await enrolAuthenticator(store, user.id, secret, '123456', 'test', now)).toBeUndefined();
    const codes = await enrolAuthenticator(store, user.id, secret, totpCode(secret, now), 'test', now);
    expect(codes).toHaveLength(10);
    return { user, secret, now, codes: codes as string[] };
  }

  it('keeps the secret and only hashes of the recovery codes; enrols once', async () => {
    const { user, secret, now, codes } = await enrolled('keep@mfa.test');
    const [row] = await store.query<{ secret: string }>('SELECT secret FROM user_totp WHERE user_id = $1', [
      user.id,
    ]);
    expect(row?.secret).toBe(secret);
    const stored = JSON.stringify(await store.query('SELECT * FROM recovery_codes'));
    for (const code of codes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace(/-/g, ''));
    }
    const later = new Date(now.getTime() + 30_000);
    await expect(
      enrolAuthenticator(store, user.id, secret, totpCode(secret, later), 'test', later),
    ).rejects.toThrow('has an authenticator already');
  });

  it('accepts one code once even when two requests race with it', async () => {
    const { user, secret, now } = await enrolled('race@mfa.test');
    const next = new Date(now.getTime() + 30_000);
    const code = totpCode(secret, next);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => checkSecondFactor(store, user.id, code, next)),
    );
    expect(results.filter((r) => r === 'totp')).toHaveLength(1);
  });

  it('uses a recovery code once, even when raced, and renews them all', async () => {
    const { user, codes } = await enrolled('recover@mfa.test');
    const results = await Promise.all(
      Array.from({ length: 3 }, () => checkSecondFactor(store, user.id, codes[0] as string)),
    );
    expect(results.filter((r) => r === 'recovery-code')).toHaveLength(1);
    expect(await recoveryCodesLeft(store, user.id)).toBe(9);
    // A code of another account, or digits, is no recovery code.
    expect(await checkSecondFactor(store, user.id, '1234567890123456')).toBeUndefined();
    const renewed = await renewRecoveryCodes(store, user.id, 'test');
    expect(await recoveryCodesLeft(store, user.id)).toBe(10);
    expect(await checkSecondFactor(store, user.id, codes[1] as string)).toBeUndefined();
    expect(await checkSecondFactor(store, user.id, renewed[1] as string)).toBe('recovery-code');
  });

  it('asks a second factor of the roles that read records or approve, and of anyone enrolled', async () => {
    const roles = ['admin', 'provider', 'analyst', 'ig-lead', 'output-checker', 'viewer', 'programme'];
    const asked: string[] = [];
    for (const role of roles) {
      const { user } = await addUser(
        store,
        {
          email: `${role}@needs.test`,
          role,
          org: role === 'provider' || role === 'ig-lead' ? 'RWF' : undefined,
          password: 'a long test passphrase',
        },
        'test',
      );
      if (await needsSecondFactor(store, user)) asked.push(role);
    }
    expect(asked).toEqual(['admin', 'provider', 'analyst', 'ig-lead', 'output-checker']);
    const { user } = await enrolled('keen@mfa.test', 'viewer');
    expect(await needsSecondFactor(store, user)).toBe(true);
  });
});
