import { describe, expect, it } from 'vitest';
import { assertSafeDetails } from '../../audit/audit-log.ts';
import { randomId } from './secrets.ts';

describe('record ids', () => {
  it('are never shaped like an identifier, so audit details always accept them', () => {
    const ids = Array.from({ length: 20_000 }, () => randomId('u'));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^u_[0-9a-f]{18}$/);
      expect(() => assertSafeDetails({ user: id }, 'token.created')).not.toThrow();
    }
  });

  it('the old base64url form could be: a hyphen can cut out a postcode', () => {
    expect(() => assertSafeDetails({ user: 'u_Zq3-ME11AB-x' }, 'token.created')).toThrow();
  });
});
