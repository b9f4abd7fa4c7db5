/**
 * Two published attacks on Bloom-filter encodings, run by the tests against Kernel's own
 * encodings so that a weakening of the hardening fails the build. The attacker has the
 * encoded field of every record and a public table of name frequencies, not the secret.
 *
 * - Frequency attack (Kuzu et al. 2011; Christen et al. 2018): identical values give
 *   identical filters, so filters ranked by how often they occur are matched to names
 *   ranked by public frequency.
 * - Pattern-mining attack (after Christen et al., PAKDD 2018): a filter's bits are the
 *   union of its q-grams' bit patterns. The attacker aligns the commonest filters to the
 *   commonest names, learns each q-gram's bits as the bits common to all (at least two)
 *   aligned filters of names holding it, reads which learned q-grams every other filter
 *   holds (most of their bits set), and names it after the public name that agrees best,
 *   when it has positive evidence (two or more q-grams found) and one clear best.
 * A record counts as re-identified when the attack names it correctly.
 */
import { popcount32 } from './string-metrics.ts';
import { qGrams } from '../privacy/bloom-encoding.ts';

export interface AttackResult {
  records: number;
  reidentified: number;
  share: number;
  guessed: number;
}

function groupFilters(filters: readonly Uint32Array[]): { filter: Uint32Array; members: number[] }[] {
  const groups = new Map<string, { filter: Uint32Array; members: number[] }>();
  filters.forEach((filter, i) => {
    const key = Buffer.from(filter.buffer, filter.byteOffset, filter.byteLength).toString('base64');
    const group = groups.get(key);
    if (group) group.members.push(i);
    else groups.set(key, { filter, members: [i] });
  });
  // Ties broken by first appearance: the attacker has no better order.
  return [...groups.values()].sort(
    (a, b) => b.members.length - a.members.length || a.members[0]! - b.members[0]!,
  );
}

function result(records: number, guesses: Map<number, string>, truth: readonly string[]): AttackResult {
  let reidentified = 0;
  for (const [i, name] of guesses) if (truth[i] === name) reidentified++;
  return { records, reidentified, share: reidentified / records, guessed: guesses.size };
}

/** `publicNames`: names, commonest first. `truth`: each record's real value, to score the attack. */
export function frequencyAttack(
  filters: readonly Uint32Array[],
  publicNames: readonly string[],
  truth: readonly string[],
): AttackResult {
  const guesses = new Map<number, string>();
  groupFilters(filters).forEach((group, rank) => {
    const name = publicNames[rank];
    if (name !== undefined) for (const i of group.members) guesses.set(i, name);
  });
  return result(filters.length, guesses, truth);
}

/** The share of `bits` that `filter` also sets. */
const covered = (bits: Uint32Array, filter: Uint32Array) => {
  let inBits = 0;
  let both = 0;
  for (let w = 0; w < bits.length; w++) {
    inBits += popcount32(bits[w]!);
    both += popcount32(bits[w]! & filter[w]!);
  }
  return inBits === 0 ? 0 : both / inBits;
};

export function patternMiningAttack(
  filters: readonly Uint32Array[],
  publicNames: readonly string[],
  truth: readonly string[],
  options: { q?: number; aligned?: number; minimumSupport?: number; presence?: number } = {},
): AttackResult {
  const q = options.q ?? 2;
  const groups = groupFilters(filters);
  const aligned = Math.min(options.aligned ?? 30, groups.length, publicNames.length);
  const gramsOf = (name: string) => new Set(qGrams(name.toLowerCase().replace(/[^a-z]/g, ''), q));
  // Learn each q-gram's bits from the aligned filters of names that hold it.
  const learned = new Map<string, Uint32Array>();
  const seen = new Map<string, number>();
  for (let rank = 0; rank < aligned; rank++) {
    for (const gram of gramsOf(publicNames[rank]!)) {
      seen.set(gram, (seen.get(gram) ?? 0) + 1);
      const bits = learned.get(gram);
      if (bits) for (let w = 0; w < bits.length; w++) bits[w]! &= groups[rank]!.filter[w]!;
      else learned.set(gram, Uint32Array.from(groups[rank]!.filter));
    }
  }
  // A q-gram seen in one aligned filter has learned that whole filter: too wide to use.
  const grams = [...learned.keys()].filter((g) => (seen.get(g) ?? 0) >= (options.minimumSupport ?? 2));
  const nameVectors = publicNames.map((name) => {
    const held = gramsOf(name);
    return Uint8Array.from(grams, (g) => (held.has(g) ? 1 : 0));
  });
  const guesses = new Map<number, string>();
  for (const group of groups) {
    // Learned bits hold a q-gram's own bits and a few the aligned filters share by chance, so
    // a q-gram counts as present when most, not all, of them are set.
    const found = Uint8Array.from(grams, (g) =>
      covered(learned.get(g)!, group.filter) >= (options.presence ?? 0.8) ? 1 : 0,
    );
    let best = -1;
    let bestScore = -Infinity;
    let tie = false;
    nameVectors.forEach((vector, n) => {
      let agree = 0;
      let positive = 0;
      for (let g = 0; g < vector.length; g++) {
        if (vector[g] === found[g]) agree++;
        if (vector[g] === 1 && found[g] === 1) positive++;
      }
      const score = positive >= 2 ? agree : -Infinity;
      if (score > bestScore) {
        bestScore = score;
        best = n;
        tie = false;
      } else if (score === bestScore) tie = true;
    });
    if (best >= 0 && bestScore > -Infinity && !tie) {
      for (const i of group.members) guesses.set(i, publicNames[best]!);
    }
  }
  return result(filters.length, guesses, truth);
}
