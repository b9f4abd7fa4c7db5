import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  hotp,
  matchTotp,
  newTotpSecret,
  otpauthUri,
  totpCode,
  totpStep,
} from './totp.ts';

// RFC 6238 Appendix B: the SHA-1 key is the ASCII "12345678901234567890", 8 digits.
const RFC_KEY = base32Encode(Buffer.from('12345678901234567890', 'ascii'));
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238)', () => {
  it('gives the RFC 6238 appendix B codes for SHA-1', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      expect(totpCode(RFC_KEY, new Date(seconds * 1000), 8), String(seconds)).toBe(code);
    }
  });

  it('gives the RFC 4226 appendix D HOTP values', () => {
    const key = Buffer.from('12345678901234567890', 'ascii');
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583'];
    expect(expected.map((_, counter) => hotp(key, counter))).toEqual(expected);
  });

  it('round-trips base32 and reads it as people type it', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Encode(base32Decode(secret))).toBe(secret);
    expect(base32Decode('gezd gnbv-gy3t qojq==').toString('ascii')).toBe('1234567890');
  });

  it('accepts one step either side, never two, and never a step at or before the last used', () => {
    const secret = newTotpSecret();
    const now = new Date('2026-12-05T12:00:10Z');
    const step = totpStep(now);
    const at = (offset: number) => totpCode(secret, new Date(now.getTime() + offset * 30_000));
    expect(matchTotp(secret, at(0), now, null)).toBe(step);
    expect(matchTotp(secret, at(-1), now, null)).toBe(step - 1);
    expect(matchTotp(secret, at(1), now, null)).toBe(step + 1);
    expect(matchTotp(secret, at(2), now, null)).toBeUndefined();
    expect(matchTotp(secret, at(-2), now, null)).toBeUndefined();
    // Reuse: the step just used, or any before it, is refused.
    expect(matchTotp(secret, at(0), now, step)).toBeUndefined();
    expect(matchTotp(secret, at(-1), now, step)).toBeUndefined();
    expect(matchTotp(secret, at(1), now, step)).toBe(step + 1);
    expect(matchTotp(secret, ` ${at(0).slice(0, 3)} ${at(0).slice(3)} `, now, null)).toBe(step);
    expect(matchTotp(secret, 'abcdef', now, null)).toBeUndefined();
    expect(matchTotp(secret, '12345', now, null)).toBeUndefined();
  });

  it('writes the otpauth URI authenticator apps read', () => {
    expect(otpauthUri('JBSWY3DPEHPK3PXP', 'ana@nhs.net')).toBe(
      'otpauth://totp/Kernel:ana%40nhs.net?secret=JBSWY3DPEHPK3PXP&issuer=Kernel&algorithm=SHA1&digits=6&period=30',
    );
  });
});
