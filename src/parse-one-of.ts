import { KernelError } from './errors.ts';

/** What a fixed list's values are called, for the refusal, and how a person may write one. */
export interface OneOfWords {
  /** with its article: `a subscription state`, `an agreement state` */
  noun: string;
  /** the input field it came from */
  field: string;
  /** how what was written becomes a choice; by default, trimmed and in lower case */
  normalise?: (raw: string) => string;
}

const trimmedLowerCase = (raw: string): string => raw.trim().toLowerCase();

/**
 * A value from a fixed list (a record's state, an item's kind), refused the same way
 * everywhere: what was written, what it is not, and the choices.
 */
export function parseOneOf<T extends string>(raw: string, choices: readonly T[], words: OneOfWords): T {
  const value = (words.normalise ?? trimmedLowerCase)(raw);
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new KernelError('usage', `"${raw}" is not ${words.noun}`, {
    where: { field: words.field },
    hint: `Use one of: ${choices.join(', ')}`,
  });
}
