/**
 * Blocking: which pairs are compared at all. A blocking rule gives each record a key (or
 * none); two records are a candidate pair when some rule gives them the same key. The
 * union of rules is made without a set of seen pairs: a pair from rule k is kept only if
 * no earlier rule also pairs it (Splink's way), so memory grows with the pairs kept.
 */
import { KernelError } from '../errors.ts';
import type { LinkRecord } from './comparison.ts';
import { fieldTexts, recordAt, type LinkSide } from './record-columns.ts';

export interface BlockingRule {
  name: string;
  /** the fields the key reads: EM fixes the m of comparisons on these fields */
  fields: readonly string[];
  /** each record's key on a side, null where the rule does not apply */
  keys(side: LinkSide): (string | null)[];
}

/** A rule pairing records whose listed fields are all present and all equal. */
export function blockOn(fields: readonly string[], name = fields.join(' + ')): BlockingRule {
  return {
    name,
    fields,
    keys(side) {
      const columns = fields.map((f) => fieldTexts(side, f));
      return columns[0]!.map((_, i) => {
        let key = '';
        for (const column of columns) {
          const value = column[i];
          if (value === null || value === undefined) return null;
          key += `${value}\u0000`;
        }
        return key;
      });
    },
  };
}

/** A rule on a key computed from the record's `fields` (a prefix, names in either order). */
export function blockBy(
  name: string,
  fields: readonly string[],
  key: (record: LinkRecord) => string | null,
): BlockingRule {
  return {
    name,
    fields,
    keys: (side) => Array.from({ length: side.length }, (_, i) => key(recordAt(side, i, fields))),
  };
}

/**
 * A rule on a key already in the records (`keyField`): a keyed blocking key made at source
 * by the agent. `fields` names the plain fields it was made from, for EM.
 */
export function blockOnKey(name: string, keyField: string, fields: readonly string[]): BlockingRule {
  return { name, fields, keys: (side) => fieldTexts(side, keyField) };
}

/** Candidate pairs: parallel arrays of left and right record indexes. */
export interface CandidatePairs {
  left: Int32Array;
  right: Int32Array;
  length: number;
}

export interface RuleReport {
  name: string;
  /** pairs the rule makes on its own */
  pairs: number;
  /** pairs it adds to those of the rules before it */
  newPairs: number;
  /** true pairs among `pairs`, when labels were given */
  truePairs?: number;
}

export interface BlockingResult {
  pairs: CandidatePairs;
  rules: RuleReport[];
}

class PairBuffer {
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  length = 0;
  constructor(private readonly limit: number) {}
  push(i: number, j: number): void {
    if (this.length === this.left.length) {
      if (this.length >= this.limit) {
        throw new KernelError('refused', `Blocking made more than ${this.limit} candidate pairs`, {
          hint: 'Tighten the blocking rules (add a field to the broadest rule) or raise the limit',
        });
      }
      const grow = (old: Int32Array) => {
        const next = new Int32Array(old.length * 2);
        next.set(old);
        return next;
      };
      this.left = grow(this.left);
      this.right = grow(this.right);
    }
    this.left[this.length] = i;
    this.right[this.length] = j;
    this.length++;
  }
  done(): CandidatePairs {
    return {
      left: this.left.subarray(0, this.length),
      right: this.right.subarray(0, this.length),
      length: this.length,
    };
  }
}

/**
 * The union of the rules' pairs between `left` and `right`, or within `left` when `right`
 * is null (deduplication: each pair once, i < j).
 */
export function blockPairs(
  left: LinkSide,
  right: LinkSide | null,
  rules: readonly BlockingRule[],
  options: { isMatch?: (i: number, j: number) => boolean; maxPairs?: number } = {},
): BlockingResult {
  if (rules.length === 0) {
    throw new KernelError('usage', 'Blocking needs at least one rule', {
      hint: 'Give one or more blocking rules',
    });
  }
  const dedupe = right === null;
  const other = right ?? left;
  const leftKeys = rules.map((rule) => rule.keys(left));
  const rightKeys = dedupe ? leftKeys : rules.map((rule) => rule.keys(other));
  const buffer = new PairBuffer(options.maxPairs ?? 200_000_000);
  const reports: RuleReport[] = [];
  for (let k = 0; k < rules.length; k++) {
    const groups = new Map<string, number[]>();
    const keysR = rightKeys[k]!;
    for (let j = 0; j < keysR.length; j++) {
      const key = keysR[j];
      if (key === null || key === undefined) continue;
      const group = groups.get(key);
      if (group) group.push(j);
      else groups.set(key, [j]);
    }
    const keysL = leftKeys[k]!;
    let own = 0;
    let added = 0;
    let truePairs = 0;
    for (let i = 0; i < keysL.length; i++) {
      const key = keysL[i];
      if (key === null || key === undefined) continue;
      const group = groups.get(key);
      if (!group) continue;
      for (const j of group) {
        if (dedupe && j <= i) continue;
        own++;
        if (options.isMatch?.(i, j)) truePairs++;
        let seen = false;
        for (let e = 0; e < k && !seen; e++) {
          const earlier = leftKeys[e]![i];
          seen = earlier !== null && earlier !== undefined && earlier === rightKeys[e]![j];
        }
        if (seen) continue;
        buffer.push(i, j);
        added++;
      }
    }
    reports.push({
      name: rules[k]!.name,
      pairs: own,
      newPairs: added,
      ...(options.isMatch ? { truePairs } : {}),
    });
  }
  return { pairs: buffer.done(), rules: reports };
}
