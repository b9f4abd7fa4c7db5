/**
 * Spells, Charlson and HFRS over the APC dataset, read through the governed reader: the
 * caller names a use case, the access policy decides which rows and columns it may see
 * (controllers, published months, opt-outs, use-case pseudonyms for aggregate-only roles)
 * and audits the read (governance/access-policy.ts). Nothing here names the warehouse table.
 *
 * Two forms of one rule (spells.ts): `apcSpellsSql` is the provider-spell view as SQL over
 * the governed subquery, for a query or a workspace; `readApcSpells` builds provider and
 * continuous inpatient spells in code and scores each with Charlson and the HFRS over every
 * diagnosis position. Tests hold the two to the same answer on both engines.
 */
import { getDataset } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { openGovernedRead, type ReadAccess } from '../governance/access-policy.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import { charlsonScore } from './charlson.ts';
import { hfrsScore, type HfrsBand } from './hfrs.ts';
import {
  continuousSpells,
  providerSpells,
  type ApcEpisode,
  type ContinuousSpell,
  type ProviderSpell,
} from './spells.ts';

/** The APC fields the spell rule reads, by their specification names. */
const FIELD = {
  provider: 'Provider_Code',
  person: 'person_token',
  spellNumber: 'Hospital_Provider_Spell_Number',
  episodeNumber: 'Episode_Number',
  admissionDate: 'Admission_Date',
  episodeStart: 'Episode_Start_Date',
  episodeEnd: 'Episode_End_Date',
  dischargeDate: 'Discharge_Date',
  admissionMethod: 'Admission_Method',
  admissionSource: 'Admission_Source',
  dischargeMethod: 'Discharge_Method',
  dischargeDestination: 'Discharge_Destination',
} as const;

/** Every diagnosis position of the APC specification, primary first (the fields coded in ICD-10). */
export function apcDiagnosisFields(): string[] {
  return getDataset('apc')
    .fields.filter((f) => f.codeList === 'icd10')
    .map((f) => f.name);
}

const column = (name: string): string => `e.${quoteIdentifier(name)}`;
const asText = (name: string): string => `CAST(${column(name)} AS TEXT)`;

/**
 * The provider-spell view over a governed APC read (`read.sql`): one row per provider,
 * person and spell number, with admission and discharge dates, length of stay in days and
 * the number of episodes. Both engines subtract DATEs to whole days.
 */
export function apcSpellsSql(governedSubquery: string): string {
  const keys = [FIELD.provider, FIELD.person, FIELD.spellNumber].map(column);
  return [
    `SELECT ${column(FIELD.provider)} AS provider, ${column(FIELD.person)} AS person,`,
    `  ${column(FIELD.spellNumber)} AS spell_number,`,
    `  CAST(MIN(${column(FIELD.admissionDate)}) AS TEXT) AS admission_date,`,
    `  CAST(MAX(${column(FIELD.dischargeDate)}) AS TEXT) AS discharge_date,`,
    `  MAX(${column(FIELD.dischargeDate)}) - MIN(${column(FIELD.admissionDate)}) AS length_of_stay,`,
    `  COUNT(*) AS episodes`,
    `FROM ${governedSubquery} AS e`,
    `GROUP BY ${keys.join(', ')}`,
  ].join('\n');
}

export interface ScoredSpell extends ProviderSpell {
  charlson: number;
  charlsonConditions: string[];
  hfrs: number;
  hfrsBand: HfrsBand;
}

export interface ApcSpellsSummary {
  useCase: string;
  episodes: number;
  providerSpells: number;
  /** provider spells still open (no discharge date yet) */
  openSpells: number;
  continuousSpells: number;
  /** continuous spells that join more than one provider spell */
  transfers: number;
  meanLengthOfStay: number | null;
  /** provider spells by Charlson index: 0, 1–2, 3–4, 5+ */
  charlson: Record<'0' | '1-2' | '3-4' | '5+', number>;
  /** provider spells by HFRS band (Gilbert et al.: scored here at every age) */
  hfrs: Record<HfrsBand, number>;
}

export interface ApcSpells {
  summary: ApcSpellsSummary;
  spells: ScoredSpell[];
  continuous: ContinuousSpell[];
}

/** Scores a spell over every diagnosis position of every episode. */
export function scoreSpell(spell: ProviderSpell): ScoredSpell {
  const charlson = charlsonScore(spell.diagnoses);
  const hfrs = hfrsScore(spell.diagnoses);
  return {
    ...spell,
    charlson: charlson.score,
    charlsonConditions: charlson.conditions,
    hfrs: hfrs.score,
    hfrsBand: hfrs.band,
  };
}

/** Reads APC through the governed reader and builds, joins and scores its spells. */
export async function readApcSpells(q: Queryable, access: ReadAccess): Promise<ApcSpells> {
  const read = await openGovernedRead(q, access, 'apc');
  const needed = [...Object.values(FIELD)];
  const missing = needed.filter((c) => !read.columns.includes(c));
  if (missing.length > 0)
    throw new KernelError('forbidden', `This use case's read of apc does not show ${missing.join(', ')}`, {
      hint: 'Spells need the provider, person token, spell number, dates and admission and discharge codes',
    });
  const diagnoses = apcDiagnosisFields().filter((c) => read.columns.includes(c));
  const select = [
    ...needed.map(
      (c) => `${c.endsWith('_Date') ? asText(c) : `CAST(${column(c)} AS TEXT)`} AS ${quoteIdentifier(c)}`,
    ),
    ...diagnoses.map((c) => `${column(c)} AS ${quoteIdentifier(c)}`),
  ];
  const rows = await q.query<Record<string, string | null>>(
    `SELECT ${select.join(', ')} FROM ${read.sql} AS e`,
  );
  const episodes = rows.map((r): ApcEpisode => ({
    provider: r[FIELD.provider] ?? '',
    person: r[FIELD.person] ?? null,
    spellNumber: r[FIELD.spellNumber] ?? '',
    episodeNumber: Number(r[FIELD.episodeNumber] ?? 0),
    admissionDate: r[FIELD.admissionDate] ?? '',
    episodeStart: r[FIELD.episodeStart] ?? '',
    episodeEnd: r[FIELD.episodeEnd] ?? '',
    dischargeDate: r[FIELD.dischargeDate] ?? null,
    admissionMethod: r[FIELD.admissionMethod] ?? '',
    admissionSource: r[FIELD.admissionSource] ?? '',
    dischargeMethod: r[FIELD.dischargeMethod] ?? '',
    dischargeDestination: r[FIELD.dischargeDestination] ?? '',
    diagnoses: diagnoses.map((c) => r[c] ?? '').filter(Boolean),
  }));
  const spells = providerSpells(episodes).map(scoreSpell);
  const continuous = continuousSpells(spells);
  const closed = spells.filter((s) => s.lengthOfStay !== null);
  const charlson = { '0': 0, '1-2': 0, '3-4': 0, '5+': 0 };
  const hfrs = { low: 0, intermediate: 0, high: 0 };
  for (const s of spells) {
    charlson[s.charlson === 0 ? '0' : s.charlson <= 2 ? '1-2' : s.charlson <= 4 ? '3-4' : '5+']++;
    hfrs[s.hfrsBand]++;
  }
  return {
    summary: {
      useCase: read.useCase.id,
      episodes: episodes.length,
      providerSpells: spells.length,
      openSpells: spells.length - closed.length,
      continuousSpells: continuous.length,
      transfers: continuous.filter((c) => c.spells.length > 1).length,
      meanLengthOfStay:
        closed.length === 0
          ? null
          : Math.round((closed.reduce((sum, s) => sum + (s.lengthOfStay ?? 0), 0) / closed.length) * 100) /
            100,
      charlson,
      hfrs,
    },
    spells,
    continuous,
  };
}
