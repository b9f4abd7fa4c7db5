import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dice } from '../linkage/string-metrics.ts';
import {
  BloomEncoder,
  filterFromBase64,
  filterToBase64,
  qGrams,
  type EncodingScheme,
} from './bloom-encoding.ts';
import { newLinkKey, writeLinkKeyFile } from './link-key.ts';
import { newLinkageSecret, readLinkageSecretFile, writeLinkageSecretFile } from './linkage-secret.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-bloom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scheme = (salted: boolean, balance = false): EncodingScheme => ({
  name: 'test',
  fields: [
    { field: 'surname', bits: 512, hashes: 20, q: 2, salted, normalise: 'letters' },
    { field: 'date_of_birth', bits: 256, hashes: 16, q: 1, positional: true },
  ],
  blockingKeys: [{ name: 'names', fields: ['given_name', 'surname'], unordered: true }],
  ...(salted ? { saltField: 'date_of_birth' } : {}),
  balance,
});

describe('the linkage secret', () => {
  it('is a key kind of its own: owner-only file, read back, a link key refused in its place', () => {
    const secret = newLinkageSecret();
    const file = path.join(dir, 'linkage.secret');
    writeLinkageSecretFile(file, secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const back = readLinkageSecretFile(file);
    expect(back.keyId).toBe(secret.keyId);
    expect(back.keyId).toMatch(/^ls-[0-9a-f]{16}$/);
    expect(back.key.equals(secret.key)).toBe(true);
    expect(() => writeLinkageSecretFile(file, newLinkageSecret())).toThrow(/already exists/);
    const linkKeyFile = path.join(dir, 'link.key');
    writeLinkKeyFile(linkKeyFile, newLinkKey());
    expect(() => readLinkageSecretFile(linkKeyFile)).toThrow(/not a linkage secret/);
    const damaged = path.join(dir, 'damaged.secret');
    writeFileSync(damaged, JSON.stringify({ kind: 'linkage-secret', keyId: 'ls-0', key: 'AAAA' }));
    expect(() => readLinkageSecretFile(damaged)).toThrow(/damaged/);
  });
});

describe('Bloom-filter encodings', () => {
  const secret = newLinkageSecret();

  it('cuts padded bigrams and positional unigrams', () => {
    expect(qGrams('smith', 2)).toEqual(['_s', 'sm', 'mi', 'it', 'th', 'h_']);
    expect(qGrams('1980', 1, true)).toEqual(['0:1', '1:9', '2:8', '3:0']);
  });

  it('keeps similar names similar and different names apart, under the secret only', () => {
    const encoder = new BloomEncoder(secret, scheme(false));
    const f = (surname: string) => encoder.encode({ surname, date_of_birth: '19800412' }).filters.surname!;
    expect(dice(f('Smith'), f('smith'))).toBe(1);
    expect(dice(f('smith'), f('smyth'))).toBeGreaterThan(0.6);
    // Names with no bigram in common share only the bits their hashes happen to collide on
    // (about 0.23 by chance at 512 bits and 20 hashes): judged over many secrets, since one
    // secret alone lands above 0.3 now and then.
    const unrelated = Array.from({ length: 30 }, () => {
      const e = new BloomEncoder(newLinkageSecret(), scheme(false));
      const h = (surname: string) => e.encode({ surname, date_of_birth: '19800412' }).filters.surname!;
      expect(dice(h('smith'), h('smyth'))).toBeGreaterThan(dice(h('smith'), h('okonkwo')));
      return dice(h('smith'), h('okonkwo'));
    });
    expect(unrelated.reduce((a, b) => a + b, 0) / unrelated.length).toBeLessThan(0.3);
    const other = new BloomEncoder(newLinkageSecret(), scheme(false));
    const g = other.encode({ surname: 'smith', date_of_birth: '19800412' }).filters.surname!;
    expect(dice(f('smith'), g)).toBeLessThan(0.5);
  });

  it('salts names with the year of birth when hardened, and not the date of birth', () => {
    const encoder = new BloomEncoder(secret, scheme(true));
    const a = encoder.encode({ surname: 'smith', date_of_birth: '19800412' });
    const b = encoder.encode({ surname: 'smith', date_of_birth: '19801231' });
    const c = encoder.encode({ surname: 'smith', date_of_birth: '19810412' });
    expect(dice(a.filters.surname!, b.filters.surname!)).toBe(1);
    expect(dice(a.filters.surname!, c.filters.surname!)).toBeLessThan(0.5);
    expect(dice(a.filters.date_of_birth!, c.filters.date_of_birth!)).toBeGreaterThan(0.8);
  });

  it('balances filters to a constant weight when asked', () => {
    const encoder = new BloomEncoder(secret, scheme(false, true));
    const filter = encoder.encode({ surname: 'smith', date_of_birth: null }).filters.surname!;
    expect(filter.length).toBe(32);
    expect(filter.reduce((n, w) => n + w.toString(2).replace(/0/g, '').length, 0)).toBe(512);
  });

  it('makes keyed blocking keys that survive swapped names and hide the values', () => {
    const encoder = new BloomEncoder(secret, scheme(false));
    const a = encoder.encode({ given_name: 'Ann', surname: 'Lee' }).blockingKeys.names!;
    const b = encoder.encode({ given_name: 'lee', surname: 'ann' }).blockingKeys.names!;
    expect(a).toBe(b);
    expect(a).not.toMatch(/ann|lee/i);
    expect(encoder.encode({ given_name: null, surname: 'lee' }).blockingKeys.names).toBeNull();
  });

  it('round-trips a filter through base64 and refuses a damaged one', () => {
    const filter = Uint32Array.of(1, 0xffffffff, 12345);
    expect(filterFromBase64(filterToBase64(filter))).toEqual(filter);
    expect(() => filterFromBase64('AAA')).toThrow(/32-bit words/);
  });

  it('refuses a scheme with bad parameters', () => {
    expect(
      () =>
        new BloomEncoder(secret, {
          name: 'x',
          fields: [{ field: 'a', bits: 100, hashes: 2, q: 2 }],
          blockingKeys: [],
        }),
    ).toThrow(/bad parameters/);
  });
});
