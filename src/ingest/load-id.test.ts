import { describe, expect, it } from 'vitest';
import { assertSafeDetails } from '../audit/audit-log.ts';
import { newLoadId } from './load-feed.ts';

describe('load ids', () => {
  it('are never shaped like an identifier, so audit details always accept them', () => {
    const ids = Array.from({ length: 20_000 }, newLoadId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^ld-[0-9a-z]{20,}$/);
      expect(() => assertSafeDetails({ supersedes: [id] }, 'load.completed')).not.toThrow();
    }
  });

  it('the old form could be: a short random word can look like a postcode', () => {
    expect(() => assertSafeDetails({ supersedes: ['ld-mww2o6ey-a1c2ab'] }, 'load.completed')).toThrow();
  });
});
