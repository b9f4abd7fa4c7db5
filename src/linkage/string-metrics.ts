/**
 * String and bit-set similarities for record linkage, hand-written: each is a few lines,
 * and a dependency (talisman, fastest-levenshtein) would cost more than it gives here. All
 * work on UTF-16 code units, which is exact for the ASCII names the agents normalise to.
 */

/**
 * Jaro–Winkler similarity (Winkler 1990): Jaro's matching characters within half the longer
 * length, transpositions halved, then a bonus of 0.1 per common prefix character (up to 4).
 * Agrees with DuckDB's `jaro_winkler_similarity` on the values tested.
 */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return a.length === 0 ? 0 : 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const window = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  const matchedB = new Uint8Array(lb);
  const matchedA = new Uint8Array(la);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lb - 1, i + window);
    const ca = a.charCodeAt(i);
    for (let j = from; j <= to; j++) {
      if (matchedB[j] === 0 && b.charCodeAt(j) === ca) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (matchedA[i] === 0) continue;
    while (matchedB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) transpositions++;
    k++;
  }
  const m = matches;
  const jaro = (m / la + m / lb + (m - transpositions / 2) / m) / 3;
  let prefix = 0;
  const maxPrefix = Math.min(4, la, lb);
  while (prefix < maxPrefix && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

/**
 * Damerau–Levenshtein distance in its optimal-string-alignment form (adjacent transpositions
 * count one edit, no substring edited twice): the form DuckDB's `damerau_levenshtein` and
 * Splink's date level "one character different" use. Three rolling rows, O(|a|·|b|).
 */
export function damerauLevenshtein(a: string, b: string): number {
  if (a === b) return 0;
  const la = a.length;
  const lb = b.length;
  if (la === 0) return lb;
  if (lb === 0) return la;
  let before = new Int32Array(lb + 1);
  let previous = new Int32Array(lb + 1);
  let current = new Int32Array(lb + 1);
  for (let j = 0; j <= lb; j++) previous[j] = j;
  for (let i = 1; i <= la; i++) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      const cost = ca === cb ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        best = Math.min(best, before[j - 2]! + 1);
      }
      current[j] = best;
    }
    const spare = before;
    before = previous;
    previous = current;
    current = spare;
  }
  return previous[lb]!;
}

/** Set bits in a 32-bit word (the SWAR popcount; V8 has no popcount intrinsic). */
export function popcount32(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function popcount(bits: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < bits.length; i++) count += popcount32(bits[i]!);
  return count;
}

/**
 * The Dice coefficient 2|A∩B| / (|A| + |B|) of two equal-length bit sets (Schnell et al.
 * 2009), with the two counts passed in when the caller has them cached.
 */
export function dice(a: Uint32Array, b: Uint32Array, countA = popcount(a), countB = popcount(b)): number {
  const total = countA + countB;
  if (total === 0) return 0;
  let common = 0;
  for (let i = 0; i < a.length; i++) common += popcount32(a[i]! & b[i]!);
  return (2 * common) / total;
}
