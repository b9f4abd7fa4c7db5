import { describe, expect, it } from 'vitest';
import { looksLikeIdentifier } from '../audit/audit-log.ts';
import { newCohortId } from './saved-cohorts.ts';

describe('a cohort id', () => {
  it('is COH- and ten hexadecimal characters, never shaped like an NHS number', () => {
    // The hazard: ten digits after the prefix is an NHS number's shape to the audit log.
    expect(looksLikeIdentifier('COH-1234567890')).toBe(true);
    const ids = Array.from({ length: 20_000 }, () => newCohortId());
    for (const id of ids) expect(id).toMatch(/^COH-[0-9A-F]{10}$/);
    expect(ids.filter(looksLikeIdentifier)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
