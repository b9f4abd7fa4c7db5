/**
 * The people of the synthetic world, held column-wise in typed arrays so that Kent and
 * Medway's 1.9 million registered patients fit in a few hundred megabytes: the people
 * table is the one thing the generator keeps in memory; activity is drawn month by month.
 */
import { readFileSync } from 'node:fs';
import { nhsCheckDigit } from '../privacy/nhs-number.ts';
import type { Geography } from './geography.ts';
import type { PracticeSet } from './organisations.ts';
import { Random, WeightedTable } from './random.ts';
import { approximateAge } from './synth-dates.ts';
import {
  AGE_PYRAMID,
  CONDITIONS,
  CONDITION_DEPRIVATION_SLOPE,
  CONDITION_INCIDENCE,
  CONDITION_PREVALENCE,
  CONDITION_SEX_FACTOR,
  COUPLE_SHARE,
  DEATH_RATE_BY_BAND,
  DEPRIVATION_SLOPE,
  ETHNICITY_SHARES,
  FERTILITY_BY_AGE,
  HOUSEHOLD_CHILDREN_PER_FAMILY,
  MOVE_RATE_BY_BAND,
  MOVE_WITHIN_LA,
  PRIOR_ADDRESS_SHARE,
  STILLBIRTH_SHARE,
  TWIN_SHARE,
  TWO_PARENT_SHARE,
  ageBand,
  deprivationMultiplier,
} from './synth-rates.ts';

export const NO_DAY = 2147483647;
export const MALE = 1;
export const FEMALE = 2;

interface NamesData {
  'female-older': [string, number][];
  'female-younger': [string, number][];
  'male-older': [string, number][];
  'male-younger': [string, number][];
  family: [string, number][];
}

const NAMES = JSON.parse(readFileSync(new URL('./data/names.json', import.meta.url), 'utf8')) as NamesData;

/** Name tables: one list of given names (all eras and sexes) and one of family names. */
export class NameBook {
  readonly given: string[] = [];
  readonly family: string[];
  private readonly tables: Record<string, WeightedTable<number>> = {};
  private readonly familyTable: WeightedTable<number>;

  constructor() {
    for (const list of ['female-older', 'female-younger', 'male-older', 'male-younger'] as const) {
      const entries = NAMES[list].map(([name, weight]) => {
        let index = this.given.indexOf(name);
        if (index < 0) index = this.given.push(name) - 1;
        return [index, weight] as const;
      });
      this.tables[list] = new WeightedTable(entries);
    }
    this.family = NAMES.family.map(([name]) => name);
    this.familyTable = new WeightedTable(NAMES.family.map(([, weight], index) => [index, weight] as const));
  }

  /** Given names follow the fashion of the birth year: before about 1975, the older list. */
  drawGiven(random: Random, sex: number, birthYear: number): number {
    const list = `${sex === MALE ? 'male' : 'female'}-${birthYear < 1975 ? 'older' : 'younger'}`;
    return (this.tables[list] as WeightedTable<number>).draw(random);
  }

  drawFamily(random: Random): number {
    return this.familyTable.draw(random);
  }
}

function grow<T extends Int32Array | Uint8Array | Uint16Array>(array: T, size: number): T {
  if (array.length >= size) return array;
  const bigger = new (array.constructor as new (length: number) => T)(
    Math.max(size, Math.ceil(array.length * 1.5)),
  );
  bigger.set(array);
  return bigger;
}

/** The 9-digit NHS number stems of synthetic people, from the test range. */
export class NhsStems {
  private k = 0;
  private readonly offset: number;

  constructor(seed: number) {
    this.offset = new Random(seed, 'nhs-stems').int(0, 999_999);
  }

  /**
   * The next stem: 999 + six digits in a scrambled order, so household members' numbers are
   * not consecutive. A population beyond the ~909,000 valid 999 numbers continues in 998,
   * 997… (still the 9-prefixed test ranges of reference digest §1.1).
   */
  next(): number {
    for (;;) {
      const k = this.k++;
      const block = Math.floor(k / 1_000_000);
      // 7919 is prime and coprime to 10^6, so this walks every six-digit serial once.
      const serial = (((k % 1_000_000) * 7919 + this.offset) % 1_000_000) as number;
      const stem = (999 - block) * 1_000_000 + serial;
      if (block > 8) throw new Error('the synthetic NHS number ranges are exhausted');
      if (stem === 999_999_999) continue;
      if (nhsCheckDigit(String(stem)) !== undefined) return stem;
    }
  }
}

export function nhsNumberOfStem(stem: number): string {
  const text = String(stem);
  return `${text}${nhsCheckDigit(text) ?? 0}`;
}

export interface Window {
  start: number;
  end: number;
  years: number;
}

export interface Pregnancy {
  mother: number;
  delivery: number;
  /** gestation at birth, days */
  gestation: number;
  /** gestation at booking, days */
  bookingGestation: number;
  /** first baby's person index, or -1 when delivery falls after the window */
  firstBaby: number;
  babies: number;
}

/** The world's people, households, addresses and pregnancies. */
export class Population {
  count = 0;
  stem = new Int32Array(0);
  sex = new Uint8Array(0);
  birth = new Int32Array(0);
  death = new Int32Array(0);
  given = new Uint16Array(0);
  family = new Uint16Array(0);
  household = new Int32Array(0);
  ethnicity = new Uint8Array(0);
  /** bitmask of CONDITIONS present at the window's start */
  conditions = new Uint8Array(0);
  /** index + 1 of a condition first diagnosed in the window, 0 for none */
  incident = new Uint8Array(0);
  incidentDay = new Int32Array(0);
  mother = new Int32Array(0);

  householdCount = 0;
  householdFirstAddress = new Int32Array(0);
  householdAddressCount = new Uint8Array(0);
  householdSize = new Uint8Array(0);

  addressCount = 0;
  addressPostcode = new Int32Array(0);
  addressNumber = new Uint16Array(0);
  addressPractice = new Uint16Array(0);
  addressFrom = new Int32Array(0);

  pregnancies: Pregnancy[] = [];

  addPerson(
    stem: number,
    sex: number,
    birth: number,
    given: number,
    family: number,
    household: number,
    ethnicity: number,
  ): number {
    const i = this.count++;
    if (i >= this.stem.length) {
      const size = i + 1;
      this.stem = grow(this.stem, size);
      this.sex = grow(this.sex, size);
      this.birth = grow(this.birth, size);
      this.death = grow(this.death, size);
      this.given = grow(this.given, size);
      this.family = grow(this.family, size);
      this.household = grow(this.household, size);
      this.ethnicity = grow(this.ethnicity, size);
      this.conditions = grow(this.conditions, size);
      this.incident = grow(this.incident, size);
      this.incidentDay = grow(this.incidentDay, size);
      this.mother = grow(this.mother, size);
    }
    this.stem[i] = stem;
    this.sex[i] = sex;
    this.birth[i] = birth;
    this.death[i] = NO_DAY;
    this.given[i] = given;
    this.family[i] = family;
    this.household[i] = household;
    this.ethnicity[i] = ethnicity;
    this.conditions[i] = 0;
    this.incident[i] = 0;
    this.incidentDay[i] = NO_DAY;
    this.mother[i] = -1;
    return i;
  }

  addHousehold(): number {
    const h = this.householdCount++;
    const size = h + 1;
    this.householdFirstAddress = grow(this.householdFirstAddress, size);
    this.householdAddressCount = grow(this.householdAddressCount, size);
    this.householdSize = grow(this.householdSize, size);
    this.householdFirstAddress[h] = -1;
    this.householdAddressCount[h] = 0;
    this.householdSize[h] = 0;
    return h;
  }

  /** Addresses of one household are added consecutively, oldest first. */
  addAddress(household: number, postcode: number, number: number, practice: number, from: number): number {
    const a = this.addressCount++;
    const size = a + 1;
    this.addressPostcode = grow(this.addressPostcode, size);
    this.addressNumber = grow(this.addressNumber, size);
    this.addressPractice = grow(this.addressPractice, size);
    this.addressFrom = grow(this.addressFrom, size);
    this.addressPostcode[a] = postcode;
    this.addressNumber[a] = number;
    this.addressPractice[a] = practice;
    this.addressFrom[a] = from;
    if ((this.householdFirstAddress[household] ?? -1) < 0) this.householdFirstAddress[household] = a;
    this.householdAddressCount[household] = (this.householdAddressCount[household] ?? 0) + 1;
    return a;
  }

  /** The address a person lived at on `day` (their household's). */
  addressAt(person: number, day: number): number {
    return this.householdAddressAt(this.household[person] ?? 0, day);
  }

  householdAddressAt(household: number, day: number): number {
    const first = this.householdFirstAddress[household] ?? 0;
    const count = this.householdAddressCount[household] ?? 1;
    let address = first;
    for (let a = first + 1; a < first + count; a++) if ((this.addressFrom[a] ?? NO_DAY) <= day) address = a;
    return address;
  }

  /** The address before the one lived at on `day`, or -1 when the world knows none. */
  previousAddress(person: number, day: number): number {
    const household = this.household[person] ?? 0;
    const current = this.householdAddressAt(household, day);
    return current > (this.householdFirstAddress[household] ?? 0) ? current - 1 : -1;
  }

  alive(person: number, day: number): boolean {
    return (this.birth[person] ?? NO_DAY) <= day && (this.death[person] ?? NO_DAY) > day;
  }

  hasCondition(person: number, condition: number, day: number): boolean {
    if (((this.conditions[person] ?? 0) >> condition) & 1) return true;
    return this.incident[person] === condition + 1 && (this.incidentDay[person] ?? NO_DAY) <= day;
  }

  nhsNumber(person: number): string {
    return nhsNumberOfStem(this.stem[person] ?? 0);
  }

  /** The UPRN of an address: 12 digits starting 99, which no addressing authority has issued in Kent. */
  uprn(address: number): string {
    return `99${String(address + 1).padStart(10, '0')}`;
  }
}

interface BuildContext {
  random: Random;
  geography: Geography;
  practices: PracticeSet;
  names: NameBook;
  stems: NhsStems;
  window: Window;
  population: Population;
  nextHouseNumber: Uint16Array;
  ethnicityTable: WeightedTable<number>;
}

function placeHousehold(ctx: BuildContext, household: number, headAge: number): void {
  const { random, geography, practices, window } = ctx;
  let la = geography.laTable.draw(random);
  let practice = practices.byLa[la]?.draw(random) ?? 0;
  let from = window.start - random.int(1, Math.max(2, Math.min(30, headAge - 17)) * 365);
  if (random.chance(PRIOR_ADDRESS_SHARE)) {
    const priorFrom = from - random.int(365, 3650);
    addAddress(ctx, household, la, practice, priorFrom);
    from = window.start - random.int(30, 5 * 365);
    if (!random.chance(MOVE_WITHIN_LA)) la = geography.laTable.draw(random);
    if (!random.chance(0.85)) practice = practices.byLa[la]?.draw(random) ?? 0;
  }
  addAddress(ctx, household, la, practice, from);
  // Moves inside the window: at most two, in date order.
  const band = ageBand(headAge);
  const moves = Math.min(2, random.poisson((MOVE_RATE_BY_BAND[band] ?? 0.08) * window.years));
  const days = Array.from({ length: moves }, () => random.int(window.start + 1, window.end)).sort(
    (a, b) => a - b,
  );
  let last = from;
  for (const day of days) {
    if (day <= last + 30) continue;
    const sameLa = random.chance(MOVE_WITHIN_LA);
    if (!sameLa) la = geography.laTable.draw(random);
    if (!sameLa || !random.chance(0.85)) practice = practices.byLa[la]?.draw(random) ?? 0;
    addAddress(ctx, household, la, practice, day);
    last = day;
  }
}

function addAddress(ctx: BuildContext, household: number, la: number, practice: number, from: number): void {
  const postcodes = ctx.geography.livePostcodesByLa[la] as Int32Array;
  const postcode = postcodes[Math.floor(ctx.random.next() * postcodes.length)] ?? 0;
  // Numbering starts somewhere along the street, so small worlds do not all live at number 1.
  const number = (ctx.nextHouseNumber[postcode] || 1 + (postcode % 37)) + 1;
  ctx.nextHouseNumber[postcode] = number;
  ctx.population.addAddress(household, postcode, number, practice, from);
}

function drawAge(random: Random, pyramid: WeightedTable<number>): number {
  const group = pyramid.draw(random);
  if (group === AGE_PYRAMID.length - 1)
    return Math.min(105, 90 + Math.floor(-Math.log(1 - random.next()) * 4));
  return group * 5 + random.int(0, 4);
}

function interpolate(table: readonly (readonly [number, number])[], age: number): number {
  let value = 0;
  for (const [minimum, prevalence] of table) if (age >= minimum) value = prevalence;
  return value;
}

/**
 * Builds the people of the world: `people` alive at the window's start, in households of
 * one to six at Kent and Medway addresses, registered with a practice, with long-term
 * conditions, deaths, moves, and the babies born in the window.
 */
export function buildPopulation(options: {
  people: number;
  seed: number;
  window: Window;
  geography: Geography;
  practices: PracticeSet;
}): { population: Population; names: NameBook } {
  const { people, seed, window, geography, practices } = options;
  const random = new Random(seed, 'population');
  const population = new Population();
  const names = new NameBook();
  const ctx: BuildContext = {
    random,
    geography,
    practices,
    names,
    stems: new NhsStems(seed),
    window,
    population,
    nextHouseNumber: new Uint16Array(geography.postcodes.length),
    ethnicityTable: new WeightedTable(ETHNICITY_SHARES.map(([, share], i) => [i, share] as const)),
  };
  const pyramid = new WeightedTable(AGE_PYRAMID.map((share, i) => [i, share] as const));

  // 1. Ages and sexes, in buckets by single year of age.
  const MAX_AGE = 106;
  const womenByAge: number[][] = Array.from({ length: MAX_AGE }, () => []);
  const menByAge: number[][] = Array.from({ length: MAX_AGE }, () => []);
  const children: number[] = [];
  const ages = new Uint8Array(people);
  const sexes = new Uint8Array(people);
  for (let i = 0; i < people; i++) {
    const age = drawAge(random, pyramid);
    // Slightly more boys are born; women outlive men, so older groups are mostly women.
    const maleShare = age < 60 ? 0.51 : age < 80 ? 0.48 : 0.38;
    const sex = random.chance(maleShare) ? MALE : FEMALE;
    ages[i] = age;
    sexes[i] = sex;
    if (age < 18) children.push(i);
    else (sex === MALE ? menByAge : womenByAge)[age]?.push(i);
  }

  // Each candidate becomes a person in a household; `members` collects them per household.
  const memberLists: number[][] = [];
  const headAges: number[] = [];
  const familiesByMotherAge: number[][] = Array.from({ length: MAX_AGE }, () => []);
  const openFamily: { household: number; room: number }[] = [];
  const takeFrom = (buckets: number[][], age: number, spread: number, low = 18): number | undefined => {
    for (let d = 0; d <= spread; d++) {
      for (const a of d === 0 ? [age] : [age - d, age + d]) {
        if (a < low || a >= MAX_AGE) continue;
        const bucket = buckets[a];
        if (bucket && bucket.length > 0) return bucket.pop();
      }
    }
    return undefined;
  };
  const newHousehold = (members: number[], headAge: number): number => {
    memberLists.push(members);
    headAges.push(headAge);
    return memberLists.length - 1;
  };
  const childrenTable = new WeightedTable(HOUSEHOLD_CHILDREN_PER_FAMILY);

  // 2. Families: each child finds a mother of a plausible age (and often a father).
  for (const child of children) {
    const childAge = ages[child] ?? 0;
    const motherAge = childAge + Math.min(45, Math.max(17, Math.round(random.normal(30, 5.5))));
    const open = openFamily[motherAge];
    if (open && open.room > 0) {
      memberLists[open.household]?.push(child);
      open.room--;
      continue;
    }
    const mother = takeFrom(womenByAge, motherAge, 6, childAge + 16);
    if (mother === undefined) {
      // No woman of a plausible age is left: the child joins any family with room.
      const fallback = openFamily.find((f) => f && f.room > 0);
      if (fallback) {
        memberLists[fallback.household]?.push(child);
        fallback.room--;
      } else {
        const guardian = takeFrom(womenByAge, 45, 40) ?? takeFrom(menByAge, 45, 40);
        newHousehold(
          guardian === undefined ? [child] : [guardian, child],
          guardian === undefined ? childAge : (ages[guardian] ?? 40),
        );
      }
      continue;
    }
    const members = [mother];
    const actualMotherAge = ages[mother] ?? motherAge;
    if (random.chance(TWO_PARENT_SHARE)) {
      const father = takeFrom(menByAge, actualMotherAge + Math.round(random.normal(2, 3)), 5);
      if (father !== undefined) members.push(father);
    }
    members.push(child);
    const household = newHousehold(members, actualMotherAge);
    familiesByMotherAge[actualMotherAge]?.push(household);
    openFamily[motherAge] = { household, room: childrenTable.draw(random) - 1 };
  }

  // 3. Young adults: about half still live with their parents.
  for (let age = 18; age < 25; age++) {
    for (const bucket of [womenByAge, menByAge]) {
      const stay: number[] = [];
      for (const person of bucket[age] ?? []) {
        let placed = false;
        if (random.chance(0.45)) {
          for (let attempt = 0; attempt < 4 && !placed; attempt++) {
            const families = familiesByMotherAge[age + random.int(20, 38)] ?? [];
            const household = families.length > 0 ? families[random.int(0, families.length - 1)] : undefined;
            const members = household === undefined ? undefined : memberLists[household];
            if (members && members.length < 6) {
              members.push(person);
              placed = true;
            }
          }
        }
        if (!placed) stay.push(person);
      }
      bucket[age] = stay;
    }
  }

  // 4. Everyone else: couples of similar age, or living alone.
  for (let age = 18; age < MAX_AGE; age++) {
    for (const woman of womenByAge[age] ?? []) {
      if (random.chance(COUPLE_SHARE)) {
        const man = takeFrom(menByAge, age + Math.round(random.normal(2, 3)), 4);
        if (man !== undefined) {
          newHousehold([woman, man], age);
          continue;
        }
      }
      newHousehold([woman], age);
    }
    womenByAge[age] = [];
  }
  for (let age = 18; age < MAX_AGE; age++) for (const man of menByAge[age] ?? []) newHousehold([man], age);

  // 5. People become rows, household by household; households get addresses and practices.
  for (let h = 0; h < memberLists.length; h++) {
    const members = memberLists[h] ?? [];
    const household = population.addHousehold();
    placeHousehold(ctx, household, headAges[h] ?? 40);
    const familyName = names.drawFamily(random);
    const ethnicity = ctx.ethnicityTable.draw(random);
    for (const candidate of members) {
      const age = ages[candidate] ?? 40;
      const sex = sexes[candidate] ?? FEMALE;
      const birth = window.start - age * 365 - Math.floor(age / 4) - random.int(1, 365);
      const birthYear = 1970 + Math.floor(birth / 365.25);
      population.addPerson(
        ctx.stems.next(),
        sex,
        birth,
        names.drawGiven(random, sex, birthYear),
        random.chance(0.88) ? familyName : names.drawFamily(random),
        household,
        random.chance(0.92) ? ethnicity : ctx.ethnicityTable.draw(random),
      );
      population.householdSize[household] = (population.householdSize[household] ?? 0) + 1;
    }
  }

  // 6. Conditions and deaths for the people alive at the start.
  const initial = population.count;
  for (let p = 0; p < initial; p++)
    assignHealth(population, geography, p, window, new Random(seed, 'health', p));

  // 7. Pregnancies and the babies born in the window.
  const span = { start: window.start, end: window.end + 200 };
  const spanYears = (span.end - span.start) / 365.25;
  for (let p = 0; p < initial; p++) {
    if (population.sex[p] !== FEMALE) continue;
    const age = approximateAge(population.birth[p] ?? 0, (window.start + window.end) >> 1);
    if (age < 15 || age > 49) continue;
    const household = population.household[p] ?? 0;
    if ((population.householdSize[household] ?? 0) >= 6) continue;
    let fertility = 0;
    for (const [minimum, rate] of FERTILITY_BY_AGE) if (age >= minimum) fertility = rate;
    const r = new Random(seed, 'fertility', p);
    const decile =
      geography.lsoas[
        geography.postcodes[population.addressPostcode[population.addressAt(p, window.start)] ?? 0]?.lsoa ?? 0
      ]?.imdDecile ?? 5;
    const expected = fertility * deprivationMultiplier(decile, DEPRIVATION_SLOPE.fertility) * spanYears;
    const count = Math.min(2, r.poisson(expected));
    let earliest = span.start;
    for (let k = 0; k < count; k++) {
      const delivery = r.int(earliest, span.end);
      if (delivery > span.end || delivery >= (population.death[p] ?? NO_DAY)) break;
      addPregnancy(ctx, r, p, delivery, seed);
      earliest = delivery + 300;
      if (earliest > span.end) break;
    }
  }
  population.pregnancies.sort((a, b) => a.delivery - b.delivery || a.mother - b.mother);
  // Babies get their person rows in delivery order, so numbering does not depend on mothers' order.
  for (let i = 0; i < population.pregnancies.length; i++) {
    const pregnancy = population.pregnancies[i] as Pregnancy;
    if (pregnancy.delivery > window.end) continue;
    const r = new Random(seed, 'babies', pregnancy.mother, pregnancy.delivery);
    const mother = pregnancy.mother;
    for (let b = 0; b < pregnancy.babies; b++) {
      const sex = r.chance(0.512) ? MALE : FEMALE;
      const baby = population.addPerson(
        ctx.stems.next(),
        sex,
        pregnancy.delivery,
        names.drawGiven(r, sex, 2020),
        population.family[mother] ?? 0,
        population.household[mother] ?? 0,
        population.ethnicity[mother] ?? 0,
      );
      population.mother[baby] = mother;
      const household = population.household[mother] ?? 0;
      population.householdSize[household] = (population.householdSize[household] ?? 0) + 1;
      if (b === 0) pregnancy.firstBaby = baby;
      if (r.chance(STILLBIRTH_SHARE)) population.death[baby] = pregnancy.delivery;
      else if (r.chance(0.004 * window.years))
        population.death[baby] = Math.min(window.end, pregnancy.delivery + r.int(1, 365));
      if (population.death[baby] !== NO_DAY && (population.death[baby] ?? 0) > window.end)
        population.death[baby] = NO_DAY;
    }
  }
  return { population, names };
}

function addPregnancy(ctx: BuildContext, r: Random, mother: number, delivery: number, _seed: number): void {
  const preterm = r.chance(0.075);
  const gestation = preterm
    ? Math.round(259 - Math.abs(r.normal(0, 18)))
    : Math.round(Math.min(300, Math.max(259, r.normal(280, 8))));
  let bookingGestation = Math.round(Math.max(42, r.normal(66, 14)));
  if (r.chance(0.1)) bookingGestation = r.int(91, 180);
  bookingGestation = Math.min(bookingGestation, gestation - 14);
  ctx.population.pregnancies.push({
    mother,
    delivery,
    gestation: Math.max(154, gestation),
    bookingGestation,
    firstBaby: -1,
    babies: r.chance(TWIN_SHARE) ? 2 : 1,
  });
}

function assignHealth(
  population: Population,
  geography: Geography,
  p: number,
  window: Window,
  r: Random,
): void {
  const age = approximateAge(population.birth[p] ?? 0, window.start);
  const sex = population.sex[p] ?? FEMALE;
  const address = population.addressAt(p, window.start);
  const decile =
    geography.lsoas[geography.postcodes[population.addressPostcode[address] ?? 0]?.lsoa ?? 0]?.imdDecile ?? 5;
  let mask = 0;
  let incident = 0;
  let incidentDay = NO_DAY;
  CONDITIONS.forEach((condition, index) => {
    const prevalence =
      interpolate(CONDITION_PREVALENCE[condition], age) *
      CONDITION_SEX_FACTOR[condition][sex === MALE ? 0 : 1] *
      deprivationMultiplier(decile, CONDITION_DEPRIVATION_SLOPE[condition]);
    if (r.chance(prevalence)) {
      mask |= 1 << index;
      return;
    }
    const [minimumAge, annual] = CONDITION_INCIDENCE[condition];
    if (incident === 0 && age >= minimumAge && r.chance(1 - Math.pow(1 - annual, window.years))) {
      incident = index + 1;
      incidentDay = r.int(window.start, window.end);
    }
  });
  population.conditions[p] = mask;
  population.incident[p] = incident;
  population.incidentDay[p] = incidentDay;

  let q =
    (DEATH_RATE_BY_BAND[ageBand(age)] ?? 0.01) *
    (sex === MALE ? 1.1 : 0.92) *
    deprivationMultiplier(decile, DEPRIVATION_SLOPE.death);
  if (mask & (1 << CONDITIONS.indexOf('frailty'))) q *= 1.8;
  if (mask & (1 << CONDITIONS.indexOf('dementia'))) q *= 1.8;
  if (r.chance(1 - Math.pow(1 - Math.min(0.9, q), window.years))) {
    const day = r.int(window.start, window.end);
    population.death[p] = day;
    if (incidentDay !== NO_DAY && incidentDay >= day) {
      population.incident[p] = 0;
      population.incidentDay[p] = NO_DAY;
    }
  }
}
