/**
 * The model for linking people on the agent's person encoding
 * (`src/privacy/person-encoding.ts`): Dice bands per field, blocking on the keyed keys made
 * at source, λ from names and date of birth agreeing exactly, m by EM on two rules that
 * between them leave every comparison free once.
 */
import { PERSON_ENCODING_SCHEME } from '../privacy/person-encoding.ts';
import { blockOnKey, type BlockingRule } from './blocking.ts';
import { diceComparison } from './comparison.ts';
import type { LinkageSetup } from './febrl-models.ts';

const fieldsOf = (name: string): string[] =>
  (PERSON_ENCODING_SCHEME.blockingKeys.find((k) => k.name === name)?.fields ?? []).map((f) =>
    f.replace(/^year\((.+)\)$/, '$1'),
  );
const rule = (name: string): BlockingRule => blockOnKey(name, `block:${name}`, fieldsOf(name));

export function personLinkageSetup(): LinkageSetup {
  const blocking = [rule('names_yob'), rule('dob_sex'), rule('postcode_given'), rule('postcode_family')];
  return {
    name: 'person encodings',
    comparisons: [
      diceComparison('given_name'),
      diceComparison('family_name'),
      diceComparison('date_of_birth', { bands: [0.85, 0.7] }),
      diceComparison('sex', { bands: [] }),
      diceComparison('postcode', { bands: [0.8, 0.6] }),
    ],
    blocking,
    training: {
      deterministicRules: [rule('names_dob')],
      deterministicRecall: 0.8,
      randomPairs: 1_000_000,
      emRules: [rule('dob_sex'), rule('postcode_given')],
      seed: 42,
    },
  };
}
