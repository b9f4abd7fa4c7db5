import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../privacy/nhs-number.ts';
import { buildGeography, pcd7 } from './geography.ts';
import { NhsStems, nhsNumberOfStem, NO_DAY } from './population.ts';
import { Random } from './random.ts';
import { buildWorld } from './world.ts';

describe('the synthetic population', () => {
  const world = buildWorld({
    people: 4000,
    seed: 3,
    from: { year: 2019, month: 4 },
    to: { year: 2020, month: 3 },
  });
  const population = world.population;

  it('gives everyone a distinct, valid NHS number in the 999 test range', () => {
    const numbers = new Set<string>();
    for (let p = 0; p < population.count; p++) {
      const nhs = population.nhsNumber(p);
      expect(nhs.startsWith('999')).toBe(true);
      expect(isValidNhsNumber(nhs)).toBe(true);
      numbers.add(nhs);
    }
    expect(numbers.size).toBe(population.count);
  });

  it('continues past the 999 range in 998 when a population needs more numbers', () => {
    const stems = new NhsStems(1);
    let last = 0;
    for (let i = 0; i < 920_000; i++) last = stems.next();
    expect(String(last).startsWith('998')).toBe(true);
    expect(isValidNhsNumber(nhsNumberOfStem(last))).toBe(true);
  });

  it('puts people in households of one to six at the start, with a Kent postcode and a practice', () => {
    const sizes = new Map<number, number>();
    for (let p = 0; p < population.count; p++) {
      if ((population.birth[p] ?? 0) >= world.window.start) continue;
      const h = population.household[p] ?? 0;
      sizes.set(h, (sizes.get(h) ?? 0) + 1);
      const address = population.addressAt(p, world.window.start);
      expect(world.geography.postcodes[population.addressPostcode[address] ?? 0]?.pcds).toMatch(
        /^(ME|CT|TN|DA)\d/,
      );
      expect(world.practices.practices[population.addressPractice[address] ?? 0]?.code).toMatch(/^Y99\d{3}$/);
    }
    for (const size of sizes.values()) {
      expect(size).toBeGreaterThanOrEqual(1);
      expect(size).toBeLessThanOrEqual(6);
    }
    const alone = [...sizes.values()].filter((s) => s === 1).length / sizes.size;
    expect(alone).toBeGreaterThan(0.2);
    expect(alone).toBeLessThan(0.5);
  });

  it('has births to mothers aged 15 to 49, babies joining their household, and no one dying before birth', () => {
    expect(population.pregnancies.length).toBeGreaterThan(20);
    for (const pregnancy of population.pregnancies) {
      const age = (pregnancy.delivery - (population.birth[pregnancy.mother] ?? 0)) / 365.25;
      expect(age).toBeGreaterThanOrEqual(14.5);
      expect(age).toBeLessThan(51);
      if (pregnancy.firstBaby >= 0) {
        expect(population.household[pregnancy.firstBaby]).toBe(population.household[pregnancy.mother]);
        expect(population.mother[pregnancy.firstBaby]).toBe(pregnancy.mother);
      }
    }
    for (let p = 0; p < population.count; p++) {
      const death = population.death[p] ?? NO_DAY;
      if (death !== NO_DAY) expect(death).toBeGreaterThanOrEqual(population.birth[p] ?? 0);
    }
  });

  it('builds the same geography from the same seed, with ONSPD pcd7 postcodes', () => {
    const a = buildGeography(5);
    const b = buildGeography(5);
    expect(a.postcodes.slice(0, 50)).toEqual(b.postcodes.slice(0, 50));
    expect(pcd7('ME1 1AA')).toBe('ME1 1AA');
    expect(pcd7('ME16 9QQ')).toBe('ME169QQ');
    expect(pcd7('N1 1AA')).toBe('N1  1AA');
  });

  it('draws the same random stream for the same key and a different one for another', () => {
    const first = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Random(1, 'person-month', 42, 3)),
    );
    const again = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Random(1, 'person-month', 42, 3)),
    );
    const other = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Random(1, 'person-month', 42, 4)),
    );
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });
});
