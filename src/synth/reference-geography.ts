/**
 * The synthetic world's reference geography, in the layouts of the public files a real
 * warehouse loads (docs/geography.md): ONS's LSOA 2011 → 2021 lookup, MHCLG's IMD 2019 by
 * LSOA, ONS's LSOA 2021 → ward 2023 → local authority 2023 best-fit lookup, and NHS
 * England's ePCN practice-to-PCN relationships with their dates.
 *
 * Everything is derived from the world's own geography and practices with random streams of
 * its own, so adding it changed no other draw of the world. Local authority codes are the
 * real GSS codes; LSOA (`Z01…`), ward (`Z05…`) and PCN (`U99…`) codes are synthetic.
 */
import { Random } from './random.ts';
import { dayOf, formatDay } from './synth-dates.ts';
import type { Geography } from './geography.ts';
import type { PracticeSet } from './organisations.ts';

/** ONS CHGIND: U unchanged, S split, M merged (X, irregular, does not occur here). */
export type LsoaChange = 'U' | 'S' | 'M';

export interface Lsoa2011To2021 {
  lsoa11: string;
  lsoa11Name: string;
  lsoa21: string;
  lsoa21Name: string;
  change: LsoaChange;
  la: number;
}

export interface Lsoa2021 {
  code: string;
  name: string;
  la: number;
  ward: string;
  wardName: string;
}

export interface PcnMembership {
  practice: string;
  practiceName: string;
  pcn: string;
  pcnName: string;
  /** YYYY-MM-DD */
  from: string;
  /** YYYY-MM-DD, or '' while it lasts */
  to: string;
}

export interface ReferenceGeography {
  lsoa11To21: Lsoa2011To2021[];
  lsoas2021: Lsoa2021[];
  /** the 2021 LSOA code of each postcode (same order as geography.postcodes) */
  postcodeLsoa21: string[];
  pcnMemberships: PcnMembership[];
}

/** About 3% of 2011 LSOAs were split and 1% merged in the 2021 revision (ONS, LSOA 2021 boundaries). */
const SPLIT_SHARE = 0.03;
const MERGE_SHARE = 0.01;
/** About five practices and 50,000 patients per PCN (NHS England, Network Contract DES). */
const PRACTICES_PER_PCN = 5;
/** PCNs began on 1 July 2019 (Network Contract DES 2019/20). */
export const PCN_START = '2019-07-01';
const LSOAS_PER_WARD = 4;

export function buildReferenceGeography(
  geography: Geography,
  practices: PracticeSet,
  window: { start: number; end: number },
  seed: number,
): ReferenceGeography {
  const random = new Random(seed, 'reference-geography');
  const lsoa11To21: Lsoa2011To2021[] = [];
  const lsoas2021: Lsoa2021[] = [];
  const lsoa21Of = new Map<number, string[]>();
  let nextCode = geography.lsoas.length + 1;
  const newCode = (): string => `Z01${String(nextCode++).padStart(6, '0')}`;

  const lsoas = geography.lsoas;
  for (let i = 0; i < lsoas.length; i++) {
    const lsoa = lsoas[i];
    if (!lsoa) continue;
    const next = lsoas[i + 1];
    const draw = random.next();
    if (draw < MERGE_SHARE && next && next.la === lsoa.la) {
      // Two neighbouring 2011 LSOAs become one new 2021 LSOA.
      const code = newCode();
      const name = `${lsoa.name.replace(' (synthetic)', '')} and ${next.name.split(' ').at(-2) ?? ''} (synthetic)`;
      for (const old of [lsoa, next]) {
        lsoa11To21.push({
          lsoa11: old.code,
          lsoa11Name: old.name,
          lsoa21: code,
          lsoa21Name: name,
          change: 'M',
          la: old.la,
        });
      }
      lsoa21Of.set(i, [code]);
      lsoa21Of.set(i + 1, [code]);
      lsoas2021.push({ code, name, la: lsoa.la, ward: '', wardName: '' });
      i++;
    } else if (draw < MERGE_SHARE + SPLIT_SHARE) {
      // One 2011 LSOA becomes two new 2021 LSOAs; its postcodes are shared between them.
      const halves = ['E', 'F'].map((letter) => ({
        code: newCode(),
        name: lsoa.name.replace(/([A-D]) \(synthetic\)$/, `${letter} (synthetic)`),
      }));
      for (const half of halves) {
        lsoa11To21.push({
          lsoa11: lsoa.code,
          lsoa11Name: lsoa.name,
          lsoa21: half.code,
          lsoa21Name: half.name,
          change: 'S',
          la: lsoa.la,
        });
        lsoas2021.push({ code: half.code, name: half.name, la: lsoa.la, ward: '', wardName: '' });
      }
      lsoa21Of.set(
        i,
        halves.map((h) => h.code),
      );
    } else {
      lsoa11To21.push({
        lsoa11: lsoa.code,
        lsoa11Name: lsoa.name,
        lsoa21: lsoa.code,
        lsoa21Name: lsoa.name,
        change: 'U',
        la: lsoa.la,
      });
      lsoas2021.push({ code: lsoa.code, name: lsoa.name, la: lsoa.la, ward: '', wardName: '' });
      lsoa21Of.set(i, [lsoa.code]);
    }
  }

  // Wards of about four 2021 LSOAs each, within a local authority (a best fit: every LSOA
  // in exactly one ward).
  let wardCount = 0;
  geography.localAuthorities.forEach((la) => {
    const own = lsoas2021.filter((l) => l.la === la.index);
    own.forEach((l, k) => {
      const n = Math.floor(k / LSOAS_PER_WARD);
      if (k % LSOAS_PER_WARD === 0) wardCount++;
      l.ward = `Z05${String(wardCount).padStart(6, '0')}`;
      l.wardName = `${la.name} Ward ${n + 1} (synthetic)`;
    });
  });

  const postcodeLsoa21 = geography.postcodes.map((postcode, p) => {
    const codes = lsoa21Of.get(postcode.lsoa) ?? [];
    return codes[p % Math.max(1, codes.length)] ?? '';
  });

  return {
    lsoa11To21,
    lsoas2021,
    postcodeLsoa21,
    pcnMemberships: buildPcnMemberships(geography, practices, window, random),
  };
}

/**
 * Practices grouped into PCNs within each local authority, all from PCN_START; then about
 * one practice in ten moves, on the first of a month inside the world's window, to another
 * PCN of its authority (or to a new PCN formed that day where its authority has one), so
 * membership has a history the warehouse must follow by date.
 */
function buildPcnMemberships(
  geography: Geography,
  practiceSet: PracticeSet,
  window: { start: number; end: number },
  random: Random,
): PcnMembership[] {
  const pcns: { code: string; name: string; la: number }[] = [];
  const pcnOf = new Map<string, number>();
  const newPcn = (la: number, name: string): number => {
    pcns.push({
      code: `U99${String(pcns.length + 1).padStart(3, '0')}`,
      name: `${name} PCN (synthetic)`,
      la,
    });
    return pcns.length - 1;
  };
  for (const la of geography.localAuthorities) {
    const own = practiceSet.practices.filter((p) => p.la === la.index);
    const count = Math.max(1, Math.round(own.length / PRACTICES_PER_PCN));
    const first = pcns.length;
    for (let k = 0; k < count; k++) newPcn(la.index, count > 1 ? `${la.name} ${k + 1}` : la.name);
    own.forEach((p, k) => pcnOf.set(p.code, first + (k % count)));
  }
  if (pcns.length > 999) throw new Error('too many synthetic PCNs for the U99 code range');

  const memberships: PcnMembership[] = [];
  const practices = practiceSet.practices;
  const moves = Math.max(1, Math.round(practices.length / 10));
  const moving = new Map<string, { day: number; to: number }>();
  for (let m = 0; m < moves && moving.size < practices.length; m++) {
    const practice = practices[random.int(0, practices.length - 1)];
    if (!practice || moving.has(practice.code)) continue;
    const from = pcnOf.get(practice.code) ?? 0;
    const others = pcns.map((_, k) => k).filter((k) => k !== from && pcns[k]?.la === practice.la);
    const to =
      others.length > 0
        ? random.pick(others)
        : newPcn(practice.la, `${pcns[from]?.name.replace(' PCN (synthetic)', '')} North`);
    // The first of a month strictly after the window's first day, so both sides of the move are seen.
    const [year = 2020, month = 1] = formatDay(window.start).split('-').map(Number);
    const [endYear = 2020, endMonth = 1] = formatDay(window.end).split('-').map(Number);
    const months = Math.max(1, (endYear - year) * 12 + endMonth - month);
    const day = dayOf(year, month + random.int(1, months), 1);
    moving.set(practice.code, { day: Math.min(day, window.end), to });
  }
  for (const practice of practices) {
    const home = pcns[pcnOf.get(practice.code) ?? 0];
    if (!home) continue;
    const move = moving.get(practice.code);
    const row = { practice: practice.code, practiceName: practice.name };
    if (!move) {
      memberships.push({ ...row, pcn: home.code, pcnName: home.name, from: PCN_START, to: '' });
      continue;
    }
    const target = pcns[move.to];
    memberships.push({
      ...row,
      pcn: home.code,
      pcnName: home.name,
      from: PCN_START,
      to: formatDay(move.day - 1),
    });
    if (target)
      memberships.push({ ...row, pcn: target.code, pcnName: target.name, from: formatDay(move.day), to: '' });
  }
  return memberships;
}

/** The PCN a practice belonged to on a day (YYYY-MM-DD), from the memberships: the truth tests compare with. */
export function pcnOn(memberships: readonly PcnMembership[], practice: string, day: string): string | null {
  const row = memberships.find(
    (m) => m.practice === practice && m.from <= day && (m.to === '' || m.to >= day),
  );
  return row?.pcn ?? null;
}
