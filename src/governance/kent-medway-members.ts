import type { Contact, Organisation } from './organisations.ts';

/**
 * The Kent and Medway members, from `shared/reference/nhs-datasets.md` §8. Codes the
 * reference marks unverified stay `codeVerified: false` with the reason; councils are
 * keyed by their ONS GSS codes because their ODS codes are unverified and district
 * councils normally have none. Kent Fire and Rescue Service is not in §8: it carries the
 * synthetic world's clearly-marked local code `KFRS` so its fire-safety feed has an owner.
 *
 * Population and income figures are illustrative round numbers for the demo's funding
 * model, not published figures. Contacts are role mailboxes at example.org (RFC 2606),
 * never real people.
 */

function contacts(code: string): Contact[] {
  const mailbox = (role: string): string => `${role}.${code.toLowerCase()}@example.org`;
  return [
    { role: 'chief-executive', name: 'Chief Executive', email: mailbox('chief-executive') },
    { role: 'ig-lead', name: 'Information Governance Lead', email: mailbox('ig-lead') },
    { role: 'finance', name: 'Director of Finance', email: mailbox('finance') },
  ];
}

type Seed = Omit<Organisation, 'contacts' | 'codeNote' | 'kernelRole'> &
  Partial<Pick<Organisation, 'codeNote' | 'kernelRole'>>;

const SEEDS: Seed[] = [
  {
    code: 'RWF',
    codeSystem: 'ods',
    codeVerified: true,
    name: 'Maidstone and Tunbridge Wells NHS Trust',
    type: 'acute',
    population: 560_000,
    incomePence: 65_000_000_000,
  },
  {
    code: 'RVV',
    codeSystem: 'ods',
    codeVerified: true,
    name: 'East Kent Hospitals University NHS Foundation Trust',
    type: 'acute',
    population: 695_000,
    incomePence: 90_000_000_000,
  },
  {
    code: 'RPA',
    codeSystem: 'ods',
    codeVerified: true,
    name: 'Medway NHS Foundation Trust',
    type: 'acute',
    population: 420_000,
    incomePence: 40_000_000_000,
  },
  {
    code: 'RN7',
    codeSystem: 'ods',
    codeVerified: true,
    name: 'Dartford and Gravesham NHS Trust',
    type: 'acute',
    population: 270_000,
    incomePence: 30_000_000_000,
  },
  {
    code: 'RYY',
    codeSystem: 'ods',
    codeVerified: true,
    name: 'Kent Community Health NHS Foundation Trust',
    type: 'community',
    population: 1_400_000,
    incomePence: 28_000_000_000,
  },
  {
    code: 'RXY',
    codeSystem: 'ods',
    codeVerified: true,
    name: 'Kent and Medway NHS and Social Care Partnership Trust',
    type: 'mental-health',
    population: 1_900_000,
    incomePence: 26_000_000_000,
  },
  {
    code: 'NQV',
    codeSystem: 'ods',
    codeVerified: false,
    codeNote:
      'Unverified and conflicting: one source links NQV to Bromley Healthcare CIC; check ODS (ORD API)',
    name: 'Medway Community Healthcare CIC',
    type: 'community',
    population: 280_000,
    incomePence: 6_000_000_000,
  },
  {
    code: 'IC24',
    codeSystem: 'local',
    codeVerified: false,
    codeNote:
      'No ODS code found; a local placeholder until the ODS code (or per-contract site codes) is confirmed',
    name: 'Integrated Care 24 Ltd (IC24)',
    type: 'out-of-hours',
    population: 1_900_000,
    incomePence: 4_000_000_000,
  },
  {
    code: 'QKS',
    codeSystem: 'ods',
    codeVerified: true,
    name: 'NHS Kent and Medway Integrated Care Board',
    type: 'icb',
    kernelRole: 'lead-controller',
    population: 1_900_000,
    incomePence: 400_000_000_000,
  },
  {
    code: 'E10000016',
    codeSystem: 'gss',
    codeVerified: true,
    codeNote: 'ONS GSS code; ODS code not verified',
    name: 'Kent County Council',
    type: 'local-authority',
    population: 1_580_000,
    incomePence: 250_000_000_000,
  },
  {
    code: 'E06000035',
    codeSystem: 'gss',
    codeVerified: true,
    codeNote: 'ONS GSS code; ODS code not verified',
    name: 'Medway Council',
    type: 'local-authority',
    population: 280_000,
    incomePence: 50_000_000_000,
  },
  {
    code: 'E07000110',
    codeSystem: 'gss',
    codeVerified: true,
    codeNote: 'ONS GSS code (district councils normally have no ODS code)',
    name: 'Maidstone Borough Council',
    type: 'local-authority',
    population: 175_000,
    incomePence: 4_000_000_000,
  },
  {
    code: 'E07000113',
    codeSystem: 'gss',
    codeVerified: true,
    codeNote: 'ONS GSS code (district councils normally have no ODS code)',
    name: 'Swale Borough Council',
    type: 'local-authority',
    population: 150_000,
    incomePence: 3_000_000_000,
  },
  {
    code: 'KFRS',
    codeSystem: 'local',
    codeVerified: false,
    codeNote: 'Synthetic local code used by the demo world; not an ODS code',
    name: 'Kent Fire and Rescue Service',
    type: 'fire-and-rescue',
    population: 1_860_000,
    incomePence: 8_000_000_000,
  },
];

export const KENT_AND_MEDWAY_MEMBERS: readonly Organisation[] = SEEDS.map((seed) => ({
  ...seed,
  codeNote: seed.codeNote ?? null,
  kernelRole: seed.kernelRole ?? 'data-controller',
  contacts: contacts(seed.code),
}));
