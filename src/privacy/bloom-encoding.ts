/**
 * Encodings at source for privacy-preserving record linkage: field-level Bloom filters
 * (Schnell, Bachteler & Reiher 2009) of names, date of birth, sex and postcode, and keyed
 * blocking keys, all made by the member's agent with the linkage secret, so the warehouse
 * compares encodings and never sees the values.
 *
 * A field's value is normalised, cut into q-grams (padded at both ends; dates and numbers
 * as positional q-grams), and each q-gram sets `hashes` bits chosen by double hashing
 * (Kirsch & Mitzenmacher 2006) from one HMAC-SHA256 (RFC 2104) under the secret. Without
 * the secret nobody can encode a guessed name to compare with a filter.
 *
 * Hardening (Christen et al., IJPDS 2018; Vidanage et al., ICISSP 2022): a record-level
 * salt (the year of birth) enters the hashing of the name fields, so the same name gives
 * different filters in different birth years; frequency and pattern-mining attacks, which
 * need many records to share a filter or a bit pattern, lose their footing. Optional
 * balancing (append the complement and permute with a keyed permutation) gives every
 * filter the same number of set bits. The parameters are chosen by measurement
 * (docs/linkage.md). This module is the agent's: it imports nothing from ingest or the store.
 */
import { createHmac } from 'node:crypto';
import { KernelError } from '../errors.ts';
import type { LinkageSecret } from './linkage-secret.ts';

export interface BloomFieldSpec {
  /** the input column and the encoded column's name */
  field: string;
  bits: number;
  hashes: number;
  q: number;
  /** positional q-grams (each tagged with where it starts): for dates and numbers */
  positional?: boolean;
  /** mix the record-level salt into this field's hashing (names) */
  salted?: boolean;
  /** letters only (names), or letters and digits (addresses, dates, postcodes) */
  normalise?: 'letters' | 'alphanumeric';
}

export interface BlockingKeySpec {
  name: string;
  /** input fields; `year(F)` is the first four characters of F (the year of a YYYYMMDD date) */
  fields: readonly string[];
  /** the fields' values sorted first, so a key survives given and family names swapped */
  unordered?: boolean;
}

export interface EncodingScheme {
  name: string;
  fields: readonly BloomFieldSpec[];
  blockingKeys: readonly BlockingKeySpec[];
  /** the field whose first four characters (the year of a YYYYMMDD date) salt `salted` fields */
  saltField?: string;
  /** append each filter's complement and permute: every filter then has `bits` bits set */
  balance?: boolean;
}

export type PlainValues = Readonly<Record<string, string | null | undefined>>;

export interface EncodedRecord {
  filters: Record<string, Uint32Array | null>;
  blockingKeys: Record<string, string | null>;
}

function normalised(value: string, how: BloomFieldSpec['normalise']): string {
  const lower = value.toLowerCase();
  return how === 'letters' ? lower.replace(/[^a-z]/g, '') : lower.replace(/[^a-z0-9]/g, '');
}

/** The q-grams of a normalised value: padded with `_` for names, positional for dates. */
export function qGrams(text: string, q: number, positional = false): string[] {
  if (positional) {
    const grams: string[] = [];
    for (let i = 0; i + q <= text.length; i++) grams.push(`${i}:${text.slice(i, i + q)}`);
    return grams;
  }
  const padded = `${'_'.repeat(q - 1)}${text}${'_'.repeat(q - 1)}`;
  const grams: string[] = [];
  for (let i = 0; i + q <= padded.length; i++) grams.push(padded.slice(i, i + q));
  return grams;
}

/** Validate a scheme once, so a bad catalogue spec fails before any record is read. */
function checkScheme(scheme: EncodingScheme): void {
  for (const spec of scheme.fields) {
    if (spec.bits <= 0 || spec.bits % 32 !== 0 || spec.hashes < 1 || spec.q < 1) {
      throw new KernelError('config', `The encoding of ${spec.field} in ${scheme.name} has bad parameters`, {
        where: { field: spec.field },
        hint: 'bits must be a positive multiple of 32; hashes and q at least 1',
      });
    }
    if (spec.salted && !scheme.saltField) {
      throw new KernelError('config', `${spec.field} is salted but ${scheme.name} names no saltField`, {
        where: { field: spec.field },
        hint: 'Name the field whose year salts the names (usually date_of_birth)',
      });
    }
  }
}

/**
 * An encoder bound to a secret and a scheme. It remembers the bit positions of each
 * (field, salt, q-gram) it has hashed, so the HMAC runs once per distinct q-gram, not once
 * per occurrence: that is what makes encoding fast (docs/linkage.md gives the rate).
 */
export class BloomEncoder {
  /** bit positions by field, then salt, then q-gram: short keys, so lookups stay cheap */
  private readonly positions = new Map<string, Map<string, Map<string, Uint32Array>>>();
  private remembered = 0;
  private readonly permutations = new Map<string, Uint32Array>();

  constructor(
    private readonly secret: LinkageSecret,
    readonly scheme: EncodingScheme,
  ) {
    checkScheme(scheme);
  }

  get secretId(): string {
    return this.secret.keyId;
  }

  private bitPositions(spec: BloomFieldSpec, salt: string, gram: string): Uint32Array {
    let bySalt = this.positions.get(spec.field);
    if (!bySalt) this.positions.set(spec.field, (bySalt = new Map()));
    let byGram = bySalt.get(salt);
    if (!byGram) bySalt.set(salt, (byGram = new Map()));
    let found = byGram.get(gram);
    if (found) return found;
    const digest = createHmac('sha256', this.secret.key)
      .update(`bloom\u0000${spec.field}\u0000${salt}\u0000${gram}`)
      .digest();
    const h1 = digest.readUInt32BE(0);
    const h2 = digest.readUInt32BE(4) | 1;
    found = new Uint32Array(spec.hashes);
    for (let k = 0; k < spec.hashes; k++) found[k] = ((h1 + Math.imul(k, h2)) >>> 0) % spec.bits;
    if (++this.remembered > 2_000_000) {
      this.positions.clear();
      this.remembered = 0;
    }
    byGram.set(gram, found);
    return found;
  }

  /** A keyed permutation of 2·bits positions (Fisher–Yates driven by HMAC output). */
  private permutation(spec: BloomFieldSpec): Uint32Array {
    let found = this.permutations.get(spec.field);
    if (found) return found;
    const size = spec.bits * 2;
    found = Uint32Array.from({ length: size }, (_, i) => i);
    let pool = Buffer.alloc(0);
    let counter = 0;
    let offset = 0;
    for (let i = size - 1; i > 0; i--) {
      if (offset + 4 > pool.length) {
        pool = createHmac('sha256', this.secret.key)
          .update(`balance\u0000${spec.field}\u0000${counter++}`)
          .digest();
        offset = 0;
      }
      const j = pool.readUInt32BE(offset) % (i + 1);
      offset += 4;
      const t = found[i]!;
      found[i] = found[j]!;
      found[j] = t;
    }
    this.permutations.set(spec.field, found);
    return found;
  }

  private filter(spec: BloomFieldSpec, value: string, salt: string): Uint32Array | null {
    const text = normalised(value, spec.normalise ?? (spec.positional ? 'alphanumeric' : 'letters'));
    if (text.length === 0) return null;
    const bits = new Uint32Array(spec.bits / 32);
    for (const gram of qGrams(text, spec.q, spec.positional)) {
      for (const position of this.bitPositions(spec, spec.salted ? salt : '', gram)) {
        bits[position >>> 5]! |= 1 << (position & 31);
      }
    }
    if (!this.scheme.balance) return bits;
    const order = this.permutation(spec);
    const balanced = new Uint32Array((spec.bits * 2) / 32);
    for (let p = 0; p < spec.bits * 2; p++) {
      const source = p < spec.bits ? p : p - spec.bits;
      const set = ((bits[source >>> 5]! >>> (source & 31)) & 1) === (p < spec.bits ? 1 : 0);
      if (set) {
        const target = order[p]!;
        balanced[target >>> 5]! |= 1 << (target & 31);
      }
    }
    return balanced;
  }

  /** A keyed blocking key: HMAC of the normalised values, or null if any is missing. */
  blockingKey(spec: BlockingKeySpec, values: PlainValues): string | null {
    const parts: string[] = [];
    for (const field of spec.fields) {
      const year = /^year\((.+)\)$/.exec(field);
      const raw = values[year ? year[1]! : field];
      const whole = raw === null || raw === undefined ? '' : normalised(raw, 'alphanumeric');
      const text = year ? whole.slice(0, 4) : whole;
      if (text.length === 0) return null;
      parts.push(text);
    }
    if (spec.unordered) parts.sort();
    return createHmac('sha256', this.secret.key)
      .update(`block\u0000${spec.name}\u0000${parts.join('\u0000')}`)
      .digest('base64url')
      .slice(0, 22);
  }

  encode(values: PlainValues): EncodedRecord {
    const saltSource = this.scheme.saltField ? values[this.scheme.saltField] : undefined;
    const salt = saltSource ? normalised(saltSource, 'alphanumeric').slice(0, 4) : '';
    const filters: Record<string, Uint32Array | null> = {};
    for (const spec of this.scheme.fields) {
      const value = values[spec.field];
      filters[spec.field] = value === null || value === undefined ? null : this.filter(spec, value, salt);
    }
    const blockingKeys: Record<string, string | null> = {};
    for (const spec of this.scheme.blockingKeys) blockingKeys[spec.name] = this.blockingKey(spec, values);
    return { filters, blockingKeys };
  }
}

/** A filter as text for a store column or a file: base64 of its little-endian words. */
export function filterToBase64(bits: Uint32Array): string {
  return Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).toString('base64');
}

export function filterFromBase64(text: string): Uint32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new KernelError('invalid-input', 'A Bloom-filter encoding is not a whole number of 32-bit words', {
      hint: 'The encoded column was damaged; ask the agent to send the feed again',
    });
  }
  const words = new Uint32Array(bytes.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt32LE(i * 4);
  return words;
}
