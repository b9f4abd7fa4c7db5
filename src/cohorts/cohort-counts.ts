/**
 * Who is in a cohort on a day, and how many, through the access policy. `openCohort` opens
 * the reads a definition needs — the KID's governed read (`openKidRead`) for the population,
 * demographics, residence and conditions, and `openGovernedRead` for APC when activity is a
 * criterion — each checked and audited under the user's use case, and answers SQL for the
 * members. `countCohort` counts them by practice and by segment (age band × sex, until
 * population segments exist) and publishes the counts under the NHS Digital (HES) 2018
 * disclosure control with secondary suppression across the two tables
 * (`controlAggregateTables`, src/outputs/aggregate-disclosure-control.ts).
 */
import {
  controlCount,
  HES_2018,
  type ControlledCount,
  type DisclosurePolicy,
} from '../analytics/disclosure-control.ts';
import { openGovernedRead, type ReadAccess } from '../governance/access-policy.ts';
import { useCaseSalt } from '../governance/use-cases.ts';
import { openKidRead, type KidRead } from '../kid/kid-read.ts';
import { KernelError } from '../errors.ts';
import { checkDayInData, unknownPractices } from '../kid/person-spine.ts';
import { controlAggregateTables, type ReleasedTable } from '../outputs/aggregate-disclosure-control.ts';
import type { AggregateTable } from '../outputs/aggregate-table.ts';
import { quoteLiteral } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import {
  COHORT_SEXES,
  describeDefinition,
  emergencyAdmissionMethods,
  kidFieldsOf,
  SEGMENT_BANDS,
  usesAdmissions,
  usesConditions,
  usesResidence,
  windowStart,
  type CohortDefinition,
} from './cohort-definition.ts';
import { conditionsJoinSql, personFrameSql } from './person-frame.ts';

export interface OpenedCohort {
  useCase: KidRead['useCase'];
  tier: KidRead['tier'];
  optOutApplied: boolean;
  /** the population on the day, as the read may see it (columns: person_token, practice_code, sex_key, band) */
  populationSql: string;
  /** the members: the same columns, one row a person */
  membersSql: string;
  /** the parameters both take ($1 the day; $2 the admissions window's start, when used); none when inlined */
  params: string[];
  /** the datasets the reads covered */
  datasets: string[];
}

/**
 * Opens every read the definition needs (each decided and audited by the policy; a refusal
 * throws `forbidden` after its audit) and answers the SQL of the population and the members.
 */
export async function openCohort(
  q: Queryable,
  access: ReadAccess,
  definition: CohortDefinition,
  day: string,
  options: { inline?: boolean } = {},
): Promise<OpenedCohort> {
  await checkDayInData(q, day);
  await checkOrganisations(q, definition);
  const kid = await openKidRead(q, access, kidFieldsOf(definition));
  // Inlined, the SQL takes no parameters and can stand in a view; the day is checked above.
  const from = windowStart(day, definition.admissionMonths);
  const [dayRef, fromRef] = options.inline ? [quoteLiteral(day), quoteLiteral(from)] : ['$1', '$2'];
  const params = options.inline ? [] : [day];
  const frame = personFrameSql(dayRef, { optOut: kid.optOutApplies, residence: usesResidence(definition) });
  const where: string[] = [];
  if (definition.ageFrom !== undefined) where.push(`f.age_months >= ${definition.ageFrom * 12}`);
  if (definition.ageTo !== undefined) where.push(`f.age_months < ${(definition.ageTo + 1) * 12}`);
  if (definition.sexes.length > 0)
    where.push(`f.sex_key IN (${definition.sexes.map(quoteLiteral).join(', ')})`);
  if (definition.imdDeciles.length > 0)
    where.push(`f.imd_decile IN (${definition.imdDeciles.map((d) => String(Math.trunc(d))).join(', ')})`);
  if (definition.practices.length > 0)
    where.push(`f.practice_code IN (${definition.practices.map(quoteLiteral).join(', ')})`);
  // A PCN is its practices on the day, as the current practice-to-PCN release has them.
  if (definition.pcns.length > 0)
    where.push(
      `f.practice_code IN (SELECT practice_code FROM ref_practice_pcn_current
        WHERE pcn_code IN (${definition.pcns.map(quoteLiteral).join(', ')})
          AND valid_from <= CAST(${dayRef} AS DATE) AND (valid_to IS NULL OR valid_to >= CAST(${dayRef} AS DATE)))`,
    );
  const { conditions, conditionsMatch, minConditions } = definition;
  const conditionJoin = usesConditions(definition) ? conditionsJoinSql(dayRef, conditions) : '';
  if (conditions.length > 0) {
    const has = conditions.map((_, i) => `c.has_${i} = 1`);
    where.push(conditionsMatch === 'all' ? has.join(' AND ') : `(${has.join(' OR ')})`);
  }
  if (minConditions !== undefined) where.push(`COALESCE(c.conditions, 0) >= ${Math.trunc(minConditions)}`);

  let admissions = '';
  const datasets = new Set(kid.datasets);
  if (usesAdmissions(definition)) {
    const apc = await openGovernedRead(q, access, 'apc');
    datasets.add('apc');
    if (!options.inline) params.push(from);
    // Aggregate-only roles see the use case's pseudonym of a token, not the token (the access
    // policy, rule 6): the frame's token is pseudonymised the same way to join within the use case.
    const token = apc.pseudonymised.includes('person_token')
      ? q.dialect.hmacSha256Hex(await useCaseSalt(q, apc.useCase.id), 'CAST(f.person_token AS TEXT)')
      : 'f.person_token';
    const methods = emergencyAdmissionMethods().map(quoteLiteral).join(', ');
    // One admission is one hospital provider spell (its episodes share the spell number).
    admissions = `JOIN (
        SELECT a.person_token AS token,
               count(DISTINCT a.org_code || '|' || COALESCE(CAST(a."Hospital_Provider_Spell_Number" AS TEXT),
                                                             CAST(a."Admission_Date" AS TEXT))) AS admissions
        FROM ${apc.sql} AS a
        WHERE a.person_token IS NOT NULL AND a."Admission_Method" IN (${methods})
          AND a."Admission_Date" > CAST(${fromRef} AS DATE) AND a."Admission_Date" <= CAST(${dayRef} AS DATE)
        GROUP BY a.person_token) e
      ON e.token = ${token} AND e.admissions >= ${Math.trunc(definition.emergencyAdmissions ?? 1)}`;
  }
  const columns = 'f.person_token, f.practice_code, f.sex_key, f.band';
  return {
    useCase: kid.useCase,
    tier: kid.tier,
    optOutApplied: kid.optOutApplies,
    populationSql: `SELECT ${columns} FROM (${frame}) f`,
    membersSql: `SELECT ${columns} FROM (${frame}) f ${conditionJoin} ${admissions}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
    params,
    datasets: [...datasets].sort(),
  };
}

/**
 * Refuses a practice no one in the KID was ever registered with, and a PCN the practice-to-PCN
 * reference has never placed a practice in: either would be a cohort of no one, answered
 * "People: 0" (and, saved, kept for good) rather than pointed out as the mistake it is.
 */
export async function checkOrganisations(q: Queryable, definition: CohortDefinition): Promise<void> {
  const [practice] = await unknownPractices(q, definition.practices);
  if (practice !== undefined)
    throw new KernelError(
      'usage',
      `No one in the Kent Integrated Dataset was registered with practice ${practice}`,
      {
        where: { field: 'practices' },
        hint: 'Give a GP practice’s ODS code, e.g. G82001 (the cohort page lists the practices)',
      },
    );
  if (definition.pcns.length === 0) return;
  const known = await q.query<{ code: string }>(
    `SELECT DISTINCT pcn_code AS code FROM ref_practice_pcn_current
     WHERE pcn_code IN (${definition.pcns.map((_, i) => `$${i + 1}`).join(', ')})`,
    definition.pcns,
  );
  const found = new Set(known.map((r) => String(r.code)));
  const pcn = definition.pcns.find((c) => !found.has(c));
  if (pcn !== undefined)
    throw new KernelError('usage', `The practice-to-PCN reference places no practice in ${pcn}`, {
      where: { field: 'pcns' },
      hint: 'Give a primary care network’s code, e.g. U12345, from the reference (kernel reference list)',
    });
}

/** A cohort's counts as published. */
export interface CohortCounts {
  useCase: { id: string; title: string; purpose: string };
  day: string;
  definition: CohortDefinition;
  /** the definition in plain English */
  criteria: string[];
  datasets: string[];
  optOutApplied: boolean;
  /** people in the population on the day the read may count */
  population: ControlledCount;
  /** people in the cohort: the tables' grand total */
  people: ControlledCount;
  byPractice: ReleasedTable;
  bySegment: ReleasedTable;
  /** figures suppressed to protect a small count (secondary suppression) */
  secondarySuppressions: number;
  /** the disclosure rule, in plain English */
  note: string;
}

/** The true counts by practice × sex and by age band × sex: not for anyone's eyes unpublished. */
export interface CohortTables {
  population: number;
  byPractice: AggregateTable;
  bySegment: AggregateTable;
}

/** Counts members by practice and by segment; the tables share the sex totals and the grand total. */
export async function cohortTables(q: Queryable, cohort: OpenedCohort): Promise<CohortTables> {
  const [population] = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM (${cohort.populationSql}) pop`,
    cohort.params.slice(0, 1),
  );
  const rows = await q.query<{ practice_code: string; sex_key: string; band: string; people: number }>(
    `SELECT practice_code, sex_key, band, count(*) AS people FROM (${cohort.membersSql}) m
     GROUP BY practice_code, sex_key, band`,
    cohort.params,
  );
  const sexes = [...COHORT_SEXES];
  const table = (
    name: string,
    rowDimension: string,
    rowKeys: string[],
    keyOf: (r: (typeof rows)[number]) => string,
  ) => {
    const counts = rowKeys.map(() => sexes.map(() => 0));
    for (const r of rows) {
      const row = counts[rowKeys.indexOf(keyOf(r))];
      const column = sexes.indexOf(r.sex_key as (typeof sexes)[number]);
      if (row && column >= 0) row[column] = (row[column] ?? 0) + Number(r.people);
    }
    return { name, rowDimension, columnDimension: 'sex', rowKeys, columnKeys: sexes, counts };
  };
  const practices = [...new Set(rows.map((r) => r.practice_code))].sort();
  return {
    population: Number(population?.n ?? 0),
    byPractice: table('by-practice', 'practice', practices, (r) => r.practice_code),
    bySegment: table('by-segment', 'age band', [...SEGMENT_BANDS], (r) => r.band),
  };
}

/**
 * Publishes the tables: the HES 2018 rule on every figure, and secondary suppression so that
 * no small count can be recovered from the totals or from the other table.
 */
export function controlCohortTables(
  tables: CohortTables,
  policy: DisclosurePolicy = HES_2018,
): Pick<
  CohortCounts,
  'population' | 'people' | 'byPractice' | 'bySegment' | 'secondarySuppressions' | 'note'
> {
  const empty = tables.byPractice.rowKeys.length === 0;
  // An empty cohort has nothing to protect (and no practice rows to link): all zeros.
  const release = empty
    ? controlAggregateTables([tables.bySegment], policy)
    : controlAggregateTables([tables.byPractice, tables.bySegment], policy);
  const bySegment = release.tables.find((t) => t.name === 'by-segment') as ReleasedTable;
  const byPractice =
    release.tables.find((t) => t.name === 'by-practice') ??
    ({
      ...tables.byPractice,
      cells: [],
      rowTotals: [],
      columnTotals: tables.byPractice.columnKeys.map(() => 0),
      grandTotal: 0,
    } satisfies ReleasedTable);
  return {
    population: controlCount(tables.population, policy),
    people: bySegment.grandTotal,
    byPractice,
    bySegment,
    secondarySuppressions: release.suppressions.filter((s) => s.reason === 'protects a small count').length,
    note: release.note,
  };
}

/** Counts a cohort on a day under the user's use case, disclosure-controlled. */
export async function countCohort(
  q: Queryable,
  access: ReadAccess,
  definition: CohortDefinition,
  day: string,
): Promise<CohortCounts> {
  const cohort = await openCohort(q, access, definition, day);
  const controlled = controlCohortTables(await cohortTables(q, cohort));
  return {
    useCase: { id: cohort.useCase.id, title: cohort.useCase.title, purpose: cohort.useCase.purpose },
    day,
    definition,
    criteria: describeDefinition(definition),
    datasets: cohort.datasets,
    optOutApplied: cohort.optOutApplied,
    ...controlled,
  };
}
