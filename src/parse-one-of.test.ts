import { describe, expect, it } from 'vitest';
import { kernelErrorOf } from '../test/kernel-error-of.ts';
import { parseOneOf } from './parse-one-of.ts';

const STATES = ['open', 'closed'] as const;
const words = { noun: 'a RAID state', field: 'state' };

describe('parseOneOf', () => {
  it('accepts a choice written with spaces and in any case', () => {
    expect(parseOneOf(' Closed ', STATES, words)).toBe('closed');
  });

  it('refuses anything else as a usage error naming the field, what was written and the choices', () => {
    const refusal = kernelErrorOf(() => parseOneOf('shut', STATES, words), 'expected a refusal');
    expect(refusal.code).toBe('usage');
    expect(refusal.message).toBe('"shut" is not a RAID state');
    expect(refusal.where?.field).toBe('state');
    expect(refusal.hint).toBe('Use one of: open, closed');
  });

  it('reads what was written through its own normalisation when given one', () => {
    const purposes = ['direct-care', 'planning'] as const;
    const normalise = (raw: string) => raw.trim().toLowerCase().replace(/[_ ]/g, '-');
    expect(parseOneOf('Direct care', purposes, { noun: 'a purpose', field: 'purpose', normalise })).toBe(
      'direct-care',
    );
    expect(() => parseOneOf('Direct care', purposes, { noun: 'a purpose', field: 'purpose' })).toThrow(
      '"Direct care" is not a purpose',
    );
  });
});
