/**
 * Deterministic pseudo-random numbers for the synthetic world.
 *
 * Every stream is keyed by the run's seed and a list of labels (a person's serial, a month,
 * a purpose), so a person's activity in a month does not depend on the order anything else
 * was generated in: the same arguments give byte-identical output, and a month can be
 * generated without holding earlier months in memory.
 */

/** A 32-bit hash of integers and strings (murmur3 finaliser mixing); stable across runs. */
export function hashKey(...parts: (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    if (typeof part === 'number') {
      h = mix(h ^ (part | 0));
      // Keep the high bits of values beyond 32 bits (serials never are, days never are).
      h = mix(h ^ Math.floor(part / 4294967296));
    } else {
      for (let i = 0; i < part.length; i++) h = mix(h ^ part.charCodeAt(i));
      h = mix(h ^ part.length);
    }
  }
  return h >>> 0;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A uniform number in [0, 1) from one hash: the cheapest draw, for "does anything happen?". */
export function hashUniform(...parts: (number | string)[]): number {
  return hashKey(...parts) / 4294967296;
}

/**
 * Small Fast Counter (sfc32, from PractRand): 128 bits of state, passes BigCrush, and is
 * cheap to seed, which matters because the generator seeds one per person-month with activity.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...key: (number | string)[]) {
    const h = hashKey(...key);
    this.a = h;
    this.b = mix(h ^ 0x6a09e667);
    this.c = mix(h ^ 0xbb67ae85);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform number in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** A standard normal deviate (Box–Muller). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A Poisson count by inversion; fine for the small means activity models use. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(this.normal(mean, Math.sqrt(mean))));
    let p = Math.exp(-mean);
    let cumulative = p;
    const u = this.next();
    let k = 0;
    while (u > cumulative && k < 200) {
      k++;
      p *= mean / k;
      cumulative += p;
    }
    return k;
  }

  /** A geometric-like positive length: 1 + Poisson(mean − 1). */
  length(mean: number): number {
    return 1 + this.poisson(Math.max(0, mean - 1));
  }
}

/**
 * Draws an index with probability proportional to its weight, in O(log n), from a
 * cumulative table built once.
 */
export class WeightedTable<T> {
  readonly items: readonly T[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new Error('a weighted table needs at least one entry');
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let total = 0;
    entries.forEach(([, weight], i) => {
      total += Math.max(0, weight);
      this.cumulative[i] = total;
    });
    this.total = total;
  }

  index(u: number): number {
    const target = u * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 0) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  draw(random: Random): T {
    return this.items[this.index(random.next())] as T;
  }
}
