/**
 * The linkage models for the FEBRL benchmark, fixed before any label is looked at: the
 * comparisons, blocking rules, deterministic rules and EM rules of Splink's FEBRL examples,
 * in plain text and on Bloom-filter encodings made by `src/privacy/bloom-encoding.ts`.
 */
import type { BlockingKeySpec, EncodingScheme } from '../privacy/bloom-encoding.ts';
import { blockBy, blockOn, blockOnKey, type BlockingRule } from './blocking.ts';
import {
  dateComparison,
  diceComparison,
  editDistanceComparison,
  exactComparison,
  nameComparison,
  postcodeComparison,
  textOf,
  type Comparison,
} from './comparison.ts';
import type { TrainingOptions } from './fellegi-sunter.ts';

export interface LinkageSetup {
  name: string;
  comparisons: Comparison[];
  blocking: BlockingRule[];
  training: Omit<TrainingOptions, 'comparisons'>;
}

/** Given and family name in either order: one key catches both orders (Splink blocks on each). */
const namesEitherOrder = blockBy('given + surname, either order', ['given_name', 'surname'], (r) => {
  const a = textOf(r, 'given_name');
  const b = textOf(r, 'surname');
  return a === null || b === null ? null : [a, b].sort().join('\u0000');
});

export function plainSetup(options: { socSecId: boolean }): LinkageSetup {
  const comparisons: Comparison[] = [
    nameComparison('given_name', { termFrequency: true }),
    nameComparison('surname', { termFrequency: true }),
    dateComparison('date_of_birth'),
    ...(options.socSecId ? [editDistanceComparison('soc_sec_id', { distances: [1, 2] })] : []),
    editDistanceComparison('street_number', { distances: [1] }),
    nameComparison('address_1', { termFrequency: true, bands: [0.9, 0.7] }),
    nameComparison('suburb', { termFrequency: true, bands: [0.9, 0.7] }),
    postcodeComparison('postcode'),
    exactComparison('state', { termFrequency: true }),
  ];
  const blocking = [
    namesEitherOrder,
    blockOn(['date_of_birth']),
    ...(options.socSecId ? [blockOn(['soc_sec_id'])] : []),
    blockOn(['state', 'address_1']),
    blockOn(['street_number', 'address_1']),
    blockOn(['postcode']),
    blockOn(['surname', 'suburb']),
    blockOn(['given_name', 'suburb']),
    blockOn(['given_name', 'street_number']),
    blockOn(['surname', 'street_number']),
  ];
  return {
    name: options.socSecId ? 'plain, all fields' : 'plain, without soc_sec_id',
    comparisons,
    blocking,
    training: {
      deterministicRules: [
        blockOn(['given_name', 'surname', 'date_of_birth']),
        ...(options.socSecId ? [blockOn(['soc_sec_id', 'date_of_birth'])] : []),
        blockOn(['given_name', 'surname', 'postcode']),
      ],
      deterministicRecall: 0.8,
      randomPairs: 1_000_000,
      emRules: [blockOn(['given_name', 'surname']), blockOn(['date_of_birth'])],
      seed: 42,
    },
  };
}

const BLOCKING_KEYS: BlockingKeySpec[] = [
  { name: 'names', fields: ['given_name', 'surname'], unordered: true },
  { name: 'dob', fields: ['date_of_birth'] },
  { name: 'state_street', fields: ['state', 'address_1'] },
  { name: 'number_street', fields: ['street_number', 'address_1'] },
  { name: 'postcode', fields: ['postcode'] },
  { name: 'surname_suburb', fields: ['surname', 'suburb'] },
  { name: 'given_suburb', fields: ['given_name', 'suburb'] },
  { name: 'given_number', fields: ['given_name', 'street_number'] },
  { name: 'surname_number', fields: ['surname', 'street_number'] },
  { name: 'names_dob', fields: ['given_name', 'surname', 'date_of_birth'] },
  { name: 'names_postcode', fields: ['given_name', 'surname', 'postcode'] },
];

/**
 * The FEBRL encoding: field-level filters. Names as padded bigrams in 512 bits with 20
 * hashes (about a fifth of the bits set for a six-letter name); date of birth as
 * positional unigrams; address fields as bigrams. `hardened` salts the names with the year
 * of birth. soc_sec_id is left out, as an NHS number would be: these records have none.
 */
export function febrlEncodingScheme(hardened: boolean): EncodingScheme {
  return {
    name: hardened ? 'febrl-hardened' : 'febrl-unhardened',
    fields: [
      { field: 'given_name', bits: 512, hashes: 20, q: 2, salted: hardened, normalise: 'letters' },
      { field: 'surname', bits: 512, hashes: 20, q: 2, salted: hardened, normalise: 'letters' },
      { field: 'date_of_birth', bits: 256, hashes: 16, q: 1, positional: true },
      { field: 'street_number', bits: 128, hashes: 16, q: 1, positional: true },
      { field: 'address_1', bits: 512, hashes: 12, q: 2, normalise: 'alphanumeric' },
      { field: 'suburb', bits: 512, hashes: 12, q: 2, normalise: 'alphanumeric' },
      { field: 'postcode', bits: 128, hashes: 16, q: 1, positional: true },
      { field: 'state', bits: 128, hashes: 16, q: 2, normalise: 'letters' },
    ],
    blockingKeys: BLOCKING_KEYS,
    ...(hardened ? { saltField: 'date_of_birth' } : {}),
  };
}

const keyRule = (name: string, fields: readonly string[]) => blockOnKey(name, `block:${name}`, fields);

/** The same model on encodings: Dice bands per field, blocking on the keyed keys made at source. */
export function encodedSetup(hardened: boolean): LinkageSetup {
  const dice = (field: string, bands = [0.9, 0.8, 0.7]) => diceComparison(field, { bands });
  return {
    name: hardened ? 'encoded, hardened' : 'encoded, unhardened',
    comparisons: [
      dice('given_name'),
      dice('surname'),
      dice('date_of_birth', [0.85, 0.7]),
      dice('street_number', [0.8]),
      dice('address_1', [0.9, 0.7]),
      dice('suburb', [0.9, 0.7]),
      dice('postcode', [0.7, 0.45]),
      dice('state', [0.7]),
    ],
    blocking: [
      keyRule('names', ['given_name', 'surname']),
      keyRule('dob', ['date_of_birth']),
      keyRule('state_street', ['state', 'address_1']),
      keyRule('number_street', ['street_number', 'address_1']),
      keyRule('postcode', ['postcode']),
      keyRule('surname_suburb', ['surname', 'suburb']),
      keyRule('given_suburb', ['given_name', 'suburb']),
      keyRule('given_number', ['given_name', 'street_number']),
      keyRule('surname_number', ['surname', 'street_number']),
    ],
    training: {
      deterministicRules: [
        keyRule('names_dob', ['given_name', 'surname', 'date_of_birth']),
        keyRule('names_postcode', ['given_name', 'surname', 'postcode']),
      ],
      deterministicRecall: 0.8,
      randomPairs: 1_000_000,
      emRules: [keyRule('names', ['given_name', 'surname']), keyRule('dob', ['date_of_birth'])],
      seed: 42,
    },
  };
}

/** An encoded record as the engine reads it: filters by field, keyed blocking keys as `block:NAME`. */
export function encodedLinkRecord(encoded: {
  filters: Record<string, Uint32Array | null>;
  blockingKeys: Record<string, string | null>;
}): Record<string, Uint32Array | string | null> {
  const record: Record<string, Uint32Array | string | null> = { ...encoded.filters };
  for (const [name, key] of Object.entries(encoded.blockingKeys)) record[`block:${name}`] = key;
  return record;
}
