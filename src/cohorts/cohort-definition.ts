/**
 * A cohort's definition: the criteria a person who does not write SQL chooses in the cohort
 * builder (issue 15, "Cohorts without SQL"; docs/cohorts.md). The definition is what a saved
 * cohort stores — never its members — and what every count, view or re-identification request
 * computes membership from, on the day asked for.
 *
 * Every criterion reads a part of the Kent Integrated Dataset or a dataset, so the datasets a
 * definition needs (its lineage) decide which use cases may count it.
 *
 * Not criteria yet: the KID's electronic Frailty Index category and Bridges to Health segment
 * (docs/cohorts.md), which the KID now holds but the builder does not offer.
 *
 * A primary care network is the practices the practice-to-PCN reference places in it on the
 * day (ref_practice_pcn_current, docs/geography.md).
 */
import { z } from 'zod';
import { getCodeList } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { AGE_BANDS, conditionLists } from '../kid/conditions.ts';
import { KID_LINEAGE, type KidFieldGroup } from '../kid/kid-read.ts';

/** Sex as the builder offers it; the spine holds PERSON STATED GENDER CODE (1, 2, 9, X). */
export const COHORT_SEXES = ['female', 'male', 'other'] as const;
export type CohortSex = (typeof COHORT_SEXES)[number];

export const SEX_LABELS: Record<CohortSex, string> = {
  female: 'Female',
  male: 'Male',
  other: 'Indeterminate or not known',
};

/** The segments of the counts until population segments exist: the KID's age bands × sex. */
export const SEGMENT_BANDS = [...AGE_BANDS.map((b) => b.band), '85+', 'unknown'] as const;

/** Codes of one kind of organisation, any case (kept upper case), none by default. */
function organisationCodes(kind: string, example: string) {
  return z
    .array(
      z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9]{3,9}$/, `must be a ${kind} code, e.g. ${example}`)
        .transform((s) => s.toUpperCase()),
    )
    .default([]);
}

/** The criteria, flat so that the API's query string and the CLI's flags can carry them. */
export const cohortCriteriaShape = {
  conditions: z
    .array(z.string().trim().min(1))
    .default([])
    .describe('long-term conditions of the KID’s register, by id, e.g. diabetes,copd'),
  conditionsMatch: z
    .enum(['all', 'any'])
    .default('all')
    .describe('all: every condition listed; any: at least one of them'),
  minConditions: z.coerce
    .number()
    .int()
    .min(1)
    .max(17)
    .optional()
    .describe('at least this many of the register’s conditions (2: multimorbidity, 4: complex)'),
  ageFrom: z.coerce.number().int().min(0).max(120).optional().describe('aged at least this, in years'),
  ageTo: z.coerce.number().int().min(0).max(120).optional().describe('aged at most this, in years'),
  sexes: z.array(z.enum(COHORT_SEXES)).default([]).describe('female, male, other (any when empty)'),
  imdDeciles: z
    .array(z.coerce.number().int().min(1).max(10))
    .default([])
    .describe('IMD deciles of residence on the day, 1 = most deprived (any when empty)'),
  practices: organisationCodes('practice', 'G82001').describe('GP practices registered with on the day'),
  pcns: organisationCodes('primary care network', 'U12345').describe(
    'primary care networks: registered on the day with a practice in one of them then',
  ),
  emergencyAdmissions: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .optional()
    .describe('at least this many emergency admissions (APC spells) in the months up to the day'),
  admissionMonths: z.coerce
    .number()
    .int()
    .min(1)
    .max(36)
    .default(12)
    .describe('the months the emergency admissions are counted over (default 12)'),
};

export const cohortDefinitionSchema = z.object(cohortCriteriaShape).strict();
export type CohortDefinition = z.output<typeof cohortDefinitionSchema>;

/** Checks what the schema cannot: condition ids against the register, and the age band's order. */
export function checkDefinition(definition: CohortDefinition): CohortDefinition {
  const known = new Set(conditionLists().map((c) => c.id));
  const unknown = definition.conditions.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw new KernelError('usage', `The KID has no condition "${unknown[0]}"`, {
      where: { field: 'conditions' },
      hint: `Choose from: ${[...known].join(', ')}`,
    });
  }
  if (
    definition.ageFrom !== undefined &&
    definition.ageTo !== undefined &&
    definition.ageTo < definition.ageFrom
  ) {
    throw new KernelError(
      'usage',
      `The age band ends (${definition.ageTo}) before it starts (${definition.ageFrom})`,
      {
        where: { field: 'ageTo' },
      },
    );
  }
  return {
    ...definition,
    conditions: [...new Set(definition.conditions)].sort(),
    sexes: [...new Set(definition.sexes)].sort(),
    imdDeciles: [...new Set(definition.imdDeciles)].sort((a, b) => a - b),
    practices: [...new Set(definition.practices)].sort(),
    pcns: [...new Set(definition.pcns)].sort(),
  };
}

/** Parses and checks a definition from JSON (a saved cohort, or a caller's body). */
export function parseDefinition(raw: unknown): CohortDefinition {
  const parsed = cohortDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KernelError('usage', `The cohort definition is not valid: ${issue?.message ?? 'unknown'}`, {
      where: { field: issue?.path.map(String).join('.') ?? '' },
    });
  }
  return checkDefinition(parsed.data);
}

export const usesConditions = (d: CohortDefinition): boolean =>
  d.conditions.length > 0 || d.minConditions !== undefined;
export const usesResidence = (d: CohortDefinition): boolean => d.imdDeciles.length > 0;
export const usesAdmissions = (d: CohortDefinition): boolean => d.emergencyAdmissions !== undefined;

/** The KID's field groups a definition reads (its lineage, src/kid/kid-read.ts). */
export function kidFieldsOf(definition: CohortDefinition): KidFieldGroup[] {
  return [
    'population',
    'demographics',
    ...(usesResidence(definition) ? (['residence'] as const) : []),
    ...(usesConditions(definition) ? (['conditions'] as const) : []),
  ];
}

/** Every dataset a definition needs the use case to cover. */
export function datasetsOf(definition: CohortDefinition): string[] {
  const fromKid = kidFieldsOf(definition).flatMap((f) => KID_LINEAGE[f]);
  return [...new Set([...fromKid, ...(usesAdmissions(definition) ? ['apc'] : [])])].sort();
}

/**
 * Emergency admission methods: ADMISSION METHOD CODE (HOSPITAL PROVIDER SPELL) 21–25, 2A–2D
 * and the legacy 28 (NHS Data Dictionary), read from the catalogue's code list, whose
 * meanings say "Emergency".
 */
export function emergencyAdmissionMethods(): string[] {
  return getCodeList('admission-method')
    .codes.filter((c) => /^Emergency\b/.test(c.meaning))
    .map((c) => c.code);
}

/** The definition in plain English, one line a criterion, for the page and the API. */
export function describeDefinition(definition: CohortDefinition): string[] {
  const titles = new Map(conditionLists().map((c) => [c.id, c.title]));
  const lines: string[] = [];
  if (definition.conditions.length > 0) {
    const names = definition.conditions.map((c) => titles.get(c) ?? c);
    lines.push(
      definition.conditions.length === 1
        ? `Has ${names[0]}`
        : `Has ${definition.conditionsMatch === 'all' ? 'all' : 'any'} of: ${names.join(', ')}`,
    );
  }
  if (definition.minConditions !== undefined)
    lines.push(`Has at least ${definition.minConditions} of the KID’s long-term conditions`);
  const { ageFrom, ageTo } = definition;
  if (ageFrom !== undefined && ageTo !== undefined) lines.push(`Aged ${ageFrom} to ${ageTo}`);
  else if (ageFrom !== undefined) lines.push(`Aged ${ageFrom} or over`);
  else if (ageTo !== undefined) lines.push(`Aged ${ageTo} or under`);
  if (definition.sexes.length > 0)
    lines.push(`Sex: ${definition.sexes.map((s) => SEX_LABELS[s]).join(', ')}`);
  if (definition.imdDeciles.length > 0) lines.push(`IMD decile: ${definition.imdDeciles.join(', ')}`);
  if (definition.practices.length > 0) lines.push(`Registered with: ${definition.practices.join(', ')}`);
  if (definition.pcns.length > 0)
    lines.push(`Registered in primary care network: ${definition.pcns.join(', ')}`);
  if (definition.emergencyAdmissions !== undefined)
    lines.push(
      `${definition.emergencyAdmissions} or more emergency admissions in the ${definition.admissionMonths} months to the day`,
    );
  return lines.length > 0 ? lines : ['Everyone in the population on the day'];
}

/**
 * The first day after which admissions count: `months` before `day`, the same day of the
 * month, or the month's last day where it is shorter (31 March less one month is 28 or 29
 * February). Admissions count from the day after it up to and including `day`.
 */
export function windowStart(day: string, months: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const first = new Date(Date.UTC(y, m - 1 - months, 1));
  const lastDay = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, lastDay));
  return first.toISOString().slice(0, 10);
}
