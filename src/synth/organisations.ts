/**
 * The organisations of the synthetic world: the Kent and Medway members listed in the
 * reference digest §8, and synthetic GP practices.
 *
 * Practice codes are `Y99` + three digits: shaped like a practice code (a letter and five
 * digits, as the catalogue's pattern requires) but in a block Kent and Medway practices
 * (`G82…`) never use; check against the ODS epraccur file before mixing with real data.
 */
import type { Geography } from './geography.ts';
import { Random, WeightedTable } from './random.ts';

export type OrganisationType =
  'acute' | 'community' | 'mental-health' | 'icb' | 'gp' | 'local-authority' | 'fire-and-rescue';

export interface Organisation {
  code: string;
  name: string;
  type: OrganisationType;
  /** verified | unverified | gss-code (ODS code unverified; GSS code used instead) | synthetic */
  codeStatus: 'verified' | 'unverified' | 'gss-code' | 'synthetic';
}

/** Reference digest §8: the codes marked verified there are verified here, and no others. */
export const MEMBER_ORGANISATIONS: readonly Organisation[] = [
  { code: 'RWF', name: 'Maidstone and Tunbridge Wells NHS Trust', type: 'acute', codeStatus: 'verified' },
  {
    code: 'RVV',
    name: 'East Kent Hospitals University NHS Foundation Trust',
    type: 'acute',
    codeStatus: 'verified',
  },
  { code: 'RPA', name: 'Medway NHS Foundation Trust', type: 'acute', codeStatus: 'verified' },
  { code: 'RN7', name: 'Dartford and Gravesham NHS Trust', type: 'acute', codeStatus: 'verified' },
  {
    code: 'RYY',
    name: 'Kent Community Health NHS Foundation Trust',
    type: 'community',
    codeStatus: 'verified',
  },
  {
    code: 'RXY',
    name: 'Kent and Medway NHS and Social Care Partnership Trust',
    type: 'mental-health',
    codeStatus: 'verified',
  },
  { code: 'QKS', name: 'NHS Kent and Medway Integrated Care Board', type: 'icb', codeStatus: 'verified' },
  { code: 'E10000016', name: 'Kent County Council', type: 'local-authority', codeStatus: 'gss-code' },
  { code: 'E06000035', name: 'Medway Council', type: 'local-authority', codeStatus: 'gss-code' },
  {
    code: 'KFRS',
    name: 'Kent Fire and Rescue Service (synthetic code)',
    type: 'fire-and-rescue',
    codeStatus: 'synthetic',
  },
];

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
