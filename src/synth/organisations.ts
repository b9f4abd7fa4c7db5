/**
 * The organisations of the synthetic world: the Kent and Medway members listed in the
 * reference digest §8, and synthetic GP practices.
 *
 * Practice codes are `Y99` + three digits: shaped like a practice code (a letter and five
 * digits, as the catalogue's pattern requires) but in a block Kent and Medway practices
 * (`G82…`) never use; check against the ODS epraccur file before mixing with real data.
 */
import { findMember, GP_PRACTICE_SUPPLIES, MEMBERS } from '../catalogue/members.ts';
import type { Geography } from './geography.ts';
import { Random, WeightedTable } from './random.ts';

export type OrganisationType =
  | 'acute'
  | 'community'
  | 'mental-health'
  | 'icb'
  | 'gp'
  | 'local-authority'
  | 'fire-and-rescue'
  | 'out-of-hours';

export interface Organisation {
  code: string;
  name: string;
  type: OrganisationType;
  /** verified | unverified | gss-code (ODS code unverified; GSS code used instead) | synthetic */
  codeStatus: 'verified' | 'unverified' | 'gss-code' | 'synthetic';
}

/**
 * The members the synthetic world makes, from the one list of members
 * (src/catalogue/members.json, reference digest §8): the codes marked verified there are
 * verified here, and no others.
 */
export const MEMBER_ORGANISATIONS: readonly Organisation[] = MEMBERS.filter((m) => m.syntheticWorld).map(
  (m) => ({
    code: m.code,
    name: m.name,
    type: m.type as OrganisationType,
    codeStatus:
      m.codeSystem === 'gss'
        ? 'gss-code'
        : m.codeSystem === 'local'
          ? 'synthetic'
          : m.codeVerified
            ? 'verified'
            : 'unverified',
  }),
);

/** What each organisation of the world sends: a member's own list, a practice's the practices'. */
export function suppliesOf(org: Organisation): readonly string[] {
  return org.type === 'gp' ? GP_PRACTICE_SUPPLIES : (findMember(org.code)?.supplies ?? []);
}

export const ACUTE_TRUSTS = ['RWF', 'RVV', 'RPA', 'RN7'] as const;
export const COMMUNITY_TRUST = 'RYY';
export const MENTAL_HEALTH_TRUST = 'RXY';
export const FIRE_SERVICE = 'KFRS';

export interface Practice extends Organisation {
  la: number;
}

/** About one practice per 9,000 registered patients (NHS Digital, Patients Registered at a GP Practice), at least one per local authority. */
const PATIENTS_PER_PRACTICE = 9000;

export interface PracticeSet {
  practices: Practice[];
  /** for each local authority, a weighted table of its practices' indexes */
  byLa: WeightedTable<number>[];
}

export function buildPractices(geography: Geography, people: number, seed: number): PracticeSet {
  const random = new Random(seed, 'practices');
  const totalPopulation = geography.localAuthorities.reduce((sum, la) => sum + la.population, 0);
  const practices: Practice[] = [];
  const byLa: WeightedTable<number>[] = [];
  for (const la of geography.localAuthorities) {
    const count = Math.max(1, Math.round((people * la.population) / totalPopulation / PATIENTS_PER_PRACTICE));
    const entries: [number, number][] = [];
    for (let i = 0; i < count; i++) {
      const index = practices.length;
      const town = geography.postcodes[geography.livePostcodesByLa[la.index]?.[0] ?? 0]?.town ?? la.name;
      const style = random.pick(['Surgery', 'Medical Centre', 'Health Centre', 'Medical Practice']);
      practices.push({
        code: `Y99${String(index + 1).padStart(3, '0')}`,
        name: `${random.pick([town, la.name, 'The Old Forge', 'Riverside', 'Oaks', 'Orchard', 'Castle', 'Harbour'])} ${style} ${index + 1} (synthetic)`,
        type: 'gp',
        codeStatus: 'synthetic',
        la: la.index,
      });
      // List sizes vary about fourfold between practices.
      entries.push([index, 0.5 + random.next() * 1.5]);
    }
    byLa.push(new WeightedTable(entries));
  }
  if (practices.length > 999) throw new Error('too many synthetic practices for the Y99 code range');
  return { practices, byLa };
}
