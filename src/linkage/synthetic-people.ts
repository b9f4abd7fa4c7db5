/**
 * Synthetic people for the scale run and the attack suite: names drawn by the public frequencies of the
 * synthetic world's name list (`src/synth/data/names.json`, read only), dates of birth
 * 1925–2020, sex, and UK-shaped postcodes from a pool of about one per three people. File B
 * holds the same people in another order, with the errors council records carry: a typing
 * error in a name (15%), day and month swapped or a digit wrong in the date of birth (5%),
 * a moved address (15%) and a missing postcode (3%).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from './fellegi-sunter.ts';
import type { PlainValues } from '../privacy/bloom-encoding.ts';

type NameList = [string, number][];
const namesFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../synth/data/names.json');

export interface NameTables {
  female: NameList;
  male: NameList;
  family: NameList;
}

export function publicNameTables(): NameTables {
  const names = JSON.parse(readFileSync(namesFile, 'utf8')) as Record<string, NameList>;
  const merge = (...lists: NameList[]): NameList => {
    const sums = new Map<string, number>();
    for (const list of lists) for (const [n, w] of list) sums.set(n, (sums.get(n) ?? 0) + w);
    return [...sums].sort((a, b) => b[1] - a[1]);
  };
  return {
    female: merge(names['female-older']!, names['female-younger']!),
    male: merge(names['male-older']!, names['male-younger']!),
    family: merge(names.family!),
  };
}

export function weightedPicker(list: NameList, random: () => number): () => string {
  const cumulative = new Float64Array(list.length);
  let total = 0;
  list.forEach(([, w], i) => (cumulative[i] = total += w));
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return list[lo]![0].toLowerCase();
  };
}

const LETTERS = 'ABCDEFGHJKLMNPRSTUWXYZ';

function typo(text: string, random: () => number): string {
  const at = Math.floor(random() * text.length);
  const kind = random();
  if (kind < 0.33 && text.length > 3) return text.slice(0, at) + text.slice(at + 1);
  if (kind < 0.66 && at < text.length - 1)
    return text.slice(0, at) + text[at + 1]! + text[at]! + text.slice(at + 2);
  return text.slice(0, at) + 'abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 26)]! + text.slice(at + 1);
}

export function scalePeople(
  count: number,
  seed: number,
): { a: PlainValues[]; b: PlainValues[]; truthB: Int32Array } {
  const random = seededRandom(seed);
  const tables = publicNameTables();
  const female = weightedPicker(tables.female, random);
  const male = weightedPicker(tables.male, random);
  const family = weightedPicker(tables.family, random);
  const pick = (s: string) => s[Math.floor(random() * s.length)]!;
  const postcode = () =>
    `ME${1 + Math.floor(random() * 20)} ${Math.floor(random() * 10)}${pick(LETTERS)}${pick(LETTERS)}`;
  const pool = Array.from({ length: Math.max(1, Math.floor(count / 3)) }, postcode);
  const a: PlainValues[] = [];
  for (let i = 0; i < count; i++) {
    const sex = random() < 0.5 ? 'F' : 'M';
    const days = Math.floor(random() * 35_000) - 16_000; // 1926 to 2020
    const dob = new Date(days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    a.push({
      given_name: sex === 'F' ? female() : male(),
      family_name: family(),
      sex,
      date_of_birth: dob,
      postcode: pool[Math.floor(random() * pool.length)]!,
    });
  }
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const b = Array.from(order, (i) => {
    const person = { ...a[i]! } as Record<string, string | null>;
    if (random() < 0.15) {
      const field = random() < 0.5 ? 'given_name' : 'family_name';
      person[field] = typo(person[field]!, random);
    }
    if (random() < 0.05) {
      const dob = person.date_of_birth!;
      const day = dob.slice(6, 8);
      person.date_of_birth =
        Number(day) <= 12 && day !== dob.slice(4, 6)
          ? dob.slice(0, 4) + day + dob.slice(4, 6)
          : typo(dob, random).replace(/[a-z]/g, '0');
    }
    if (random() < 0.15) person.postcode = pool[Math.floor(random() * pool.length)]!;
    if (random() < 0.03) person.postcode = null;
    return person;
  });
  return { a, b, truthB: order };
}
