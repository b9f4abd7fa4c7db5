/**
 * The encoding an agent makes of a person who arrives without an NHS number: given and
 * family name, date of birth, sex and postcode as field-level Bloom filters under the
 * linkage secret, names salted with the year of birth, and five keyed blocking keys. The
 * parameters were chosen by measurement (docs/linkage.md): 512 bits and 20 hashes for a
 * name's padded bigrams sets about a fifth of the bits of a six-letter name, enough to
 * keep Dice bands apart; dates and postcodes as positional unigrams so that one wrong
 * character costs one character's bits.
 */
import type { EncodingScheme } from './bloom-encoding.ts';

export const PERSON_FIELDS = ['given_name', 'family_name', 'date_of_birth', 'sex', 'postcode'] as const;

export const PERSON_ENCODING_SCHEME: EncodingScheme = {
  name: 'person-v1',
  fields: [
    { field: 'given_name', bits: 512, hashes: 20, q: 2, salted: true, normalise: 'letters' },
    { field: 'family_name', bits: 512, hashes: 20, q: 2, salted: true, normalise: 'letters' },
    { field: 'date_of_birth', bits: 256, hashes: 16, q: 1, positional: true },
    { field: 'sex', bits: 32, hashes: 4, q: 1, positional: true },
    { field: 'postcode', bits: 256, hashes: 16, q: 1, positional: true },
  ],
  blockingKeys: [
    { name: 'names_yob', fields: ['given_name', 'family_name', 'year(date_of_birth)'], unordered: true },
    { name: 'dob_sex', fields: ['date_of_birth', 'sex'] },
    { name: 'postcode_given', fields: ['postcode', 'given_name'] },
    { name: 'postcode_family', fields: ['postcode', 'family_name'] },
    { name: 'names_dob', fields: ['given_name', 'family_name', 'date_of_birth'], unordered: true },
  ],
  saltField: 'date_of_birth',
};
