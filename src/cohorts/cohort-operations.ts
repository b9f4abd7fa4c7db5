/**
 * The cohort builder as operations (issue 15, "Cohorts without SQL"; docs/cohorts.md): count a
 * cohort on a day (by criteria, or a saved one), save a definition, list and show saved
 * cohorts. The API (`/api/v1/cohorts…`), the CLI (`kernel cohorts …`) and the portal's
 * `/cohorts` page are generated from, or call, these; every read goes through the access
 * policy under the use case given, and every count is disclosure-controlled.
 */
import { z } from 'zod';
import { controlledCountSchema } from '../analytics/disclosure-schemas.ts';
import { formatTable } from '../console/console.ts';
import { listedAsTable } from '../operations/list-table.ts';
import { KernelError } from '../errors.ts';
import { readAccessOf, readUserOf } from '../governance/access-policy.ts';
import { isoDate, optionalText, orgCode, requiredText, textList, useCaseId } from '../operations/fields.ts';
import { operationsOf, type AnyOperation, type OperationContext } from '../operations/operation.ts';
import type { ReleasedTable } from '../outputs/aggregate-disclosure-control.ts';
import { reidRequestSchema } from '../reid/reid-operations.ts';
import { REQUESTER_ROLES } from '../reid/reid-requests.ts';
import {
  checkDefinition,
  cohortCriteriaShape,
  cohortDefinitionSchema,
  COHORT_SEXES,
  SEGMENT_BANDS,
  type CohortDefinition,
} from './cohort-definition.ts';
import { countCohort, type CohortCounts } from './cohort-counts.ts';
import { requestCohortReidentification } from './cohort-reidentification.ts';
import { getCohort, listCohorts, saveCohort, type SavedCohort } from './saved-cohorts.ts';

/** The roles the access policy lets read (ROLE_TIERS); it then decides per use case. */
export const COHORT_ROLES = ['admin', 'analyst', 'provider', 'ig-lead', 'viewer'] as const;
/** Cohort operations are for whoever may read under a use case, unless one says otherwise. */
const cohortOperation = operationsOf({ tag: 'cohorts', access: COHORT_ROLES });

const userOf = ({ principal }: OperationContext) => readUserOf(principal);
const accessOf = ({ principal, actor }: OperationContext, useCase: string) =>
  readAccessOf(principal, useCase, actor);

// ---------------------------------------------------------------- schemas

const releasedTableSchema: z.ZodType<ReleasedTable> = z.object({
  name: z.string(),
  rowDimension: z.string(),
  columnDimension: z.string(),
  rowKeys: z.array(z.string()),
  columnKeys: z.array(z.string()),
  cells: z.array(z.array(controlledCountSchema)),
  rowTotals: z.array(controlledCountSchema),
  columnTotals: z.array(controlledCountSchema),
  grandTotal: controlledCountSchema,
});

const definitionOutput: z.ZodType<CohortDefinition> = cohortDefinitionSchema;

export const cohortCountsSchema: z.ZodType<CohortCounts> = z.object({
  useCase: z.object({ id: z.string(), title: z.string(), purpose: z.string() }),
  day: z.string().describe('YYYY-MM-DD: membership on this day'),
  definition: definitionOutput,
  criteria: z.array(z.string()).describe('the definition in plain English'),
  datasets: z.array(z.string()).describe('the datasets the reads covered'),
  optOutApplied: z
    .boolean()
    .describe('people on the national data opt-out are left out (planning, research)'),
  population: controlledCountSchema.describe('people in the population on the day'),
  people: controlledCountSchema.describe('people in the cohort'),
  byPractice: releasedTableSchema.describe(`practice × sex (${COHORT_SEXES.join(', ')})`),
  bySegment: releasedTableSchema.describe(`age band (${SEGMENT_BANDS.join(', ')}) × sex`),
  secondarySuppressions: z.number().int().describe('figures shown as * to protect a small count'),
  note: z.string().describe('the disclosure rule'),
});

export const savedCohortSchema: z.ZodType<SavedCohort> = z.object({
  id: z.string().describe('e.g. COH-1A2B3C4D5E'),
  useCaseId: z.string(),
  name: z.string(),
  definition: definitionOutput,
  criteria: z.array(z.string()),
  savedBy: z.string().describe('who saved it: their email, or their user id'),
  savedAt: z.string(),
});

const CRITERIA = Object.keys(cohortCriteriaShape) as (keyof typeof cohortCriteriaShape)[];

/** The criteria fields of an operation's input, as a checked definition. */
function definitionFrom(input: Record<string, unknown>): CohortDefinition {
  const picked = Object.fromEntries(CRITERIA.map((k) => [k, input[k]]));
  return checkDefinition(cohortDefinitionSchema.parse(picked));
}

/** True when any criterion differs from the definition that takes everyone. */
function hasCriteria(input: Record<string, unknown>): boolean {
  const everyone = cohortDefinitionSchema.parse({});
  return CRITERIA.some((k) => JSON.stringify(input[k]) !== JSON.stringify(everyone[k]));
}

function countLines(c: CohortCounts): string {
  const table = (t: ReleasedTable) =>
    formatTable(
      [t.rowDimension, ...t.columnKeys, 'total'],
      [
        ...t.rowKeys.map((key, r) => [key, ...(t.cells[r] ?? []), t.rowTotals[r]]),
        ['total', ...t.columnTotals, t.grandTotal],
      ],
    );
  return [
    `Use case ${c.useCase.id}, ${c.day}: ${c.criteria.join('; ')}`,
    `People: ${c.people} of ${c.population} in the population${c.optOutApplied ? ' (national data opt-out applied)' : ''}`,
    '',
    table(c.byPractice),
    '',
    table(c.bySegment),
    '',
    c.note,
  ].join('\n');
}

// ---------------------------------------------------------------- operations

export const countCohortOperation = cohortOperation({
  name: 'cohorts.count',
  summary: 'Count a cohort on a day by practice and by age band × sex, disclosure-controlled',
  input: z
    .object({
      useCase: useCaseId,
      date: isoDate('membership on this day, YYYY-MM-DD'),
      cohort: optionalText('a saved cohort’s id, instead of the criteria'),
      ...cohortCriteriaShape,
    })
    // A criterion the builder does not have (`frailty`, a misspelt `age_from`) is refused by
    // name: ignored, it would count (and save) everyone.
    .strict(),
  output: cohortCountsSchema,
  http: { method: 'GET', path: '/api/v1/cohorts/counts' },
  cli: {
    command: ['cohorts', 'count'],
    flags: { useCase: 'usecase' },
    print: countLines,
  },
  run: async (context, input) => {
    let definition: CohortDefinition;
    if (input.cohort) {
      if (hasCriteria(input)) {
        throw new KernelError('usage', 'Give a saved cohort or criteria, not both', {
          where: { field: 'cohort' },
        });
      }
      const saved = await getCohort(context.store, userOf(context), input.cohort);
      if (saved.useCaseId !== input.useCase) {
        throw new KernelError(
          'usage',
          `Cohort ${saved.id} was saved under ${saved.useCaseId}, not ${input.useCase}`,
          {
            where: { field: 'useCase' },
            hint: `Count it under ${saved.useCaseId}`,
          },
        );
      }
      definition = saved.definition;
    } else definition = definitionFrom(input);
    return countCohort(context.store, accessOf(context, input.useCase), definition, input.date);
  },
});

export const saveCohortOperation = cohortOperation({
  name: 'cohorts.save',
  summary: 'Save a cohort’s definition (never its members) for everyone on the use case',
  input: z
    .object({
      useCase: useCaseId,
      name: requiredText('a name others on the use case will recognise'),
      ...cohortCriteriaShape,
    })
    .strict(),
  output: savedCohortSchema,
  http: { method: 'POST', path: '/api/v1/cohorts', status: 201 },
  cli: {
    command: ['cohorts', 'save'],
    flags: { useCase: 'usecase' },
    print: (c) => `Saved ${c.id} “${c.name}” under ${c.useCaseId}: ${c.criteria.join('; ')}`,
  },
  run: (context, input) =>
    saveCohort(
      context.store,
      accessOf(context, input.useCase),
      input.name,
      definitionFrom(input),
      context.principal.email || context.principal.userId,
    ),
});

export const listCohortsOperation = cohortOperation({
  name: 'cohorts.list',
  summary: 'The cohorts saved under your use cases',
  input: z.object({ useCase: useCaseId.optional() }),
  output: z.object({ cohorts: z.array(savedCohortSchema) }),
  http: { method: 'GET', path: '/api/v1/cohorts' },
  cli: {
    command: ['cohorts', 'list'],
    flags: { useCase: 'usecase' },
    ...listedAsTable('cohorts', ['id', 'use case', 'name', 'criteria', 'saved'], (c: SavedCohort) => [
      c.id,
      c.useCaseId,
      c.name,
      c.criteria.join('; '),
      c.savedAt.slice(0, 10),
    ]),
  },
  run: async (context, { useCase }) => ({
    cohorts: await listCohorts(context.store, userOf(context), useCase),
  }),
});

export const showCohortOperation = cohortOperation({
  name: 'cohorts.show',
  summary: 'One saved cohort: its use case, definition, who saved it and when',
  input: z.object({ id: requiredText('cohort id') }),
  output: savedCohortSchema,
  http: { method: 'GET', path: '/api/v1/cohorts/:id', example: { id: 'COH-0000000000' } },
  cli: {
    command: ['cohorts', 'show'],
    args: ['id'],
    print: (c) =>
      formatTable(
        ['field', 'value'],
        [
          ['id', c.id],
          ['name', c.name],
          ['use case', c.useCaseId],
          ['saved by', c.savedBy],
          ['saved at', c.savedAt],
          ...c.criteria.map((line) => ['criterion', line]),
          ['definition', JSON.stringify(c.definition)],
        ],
      ),
  },
  run: (context, { id }) => getCohort(context.store, userOf(context), id),
});

export const reidentifyCohortOperation = cohortOperation({
  name: 'cohorts.reidentify',
  summary: 'Ask for a saved direct-care cohort’s members on a day to be re-identified by one controller',
  access: REQUESTER_ROLES,
  input: z.object({
    id: requiredText('cohort id'),
    date: isoDate('membership on this day, YYYY-MM-DD'),
    controller: orgCode(
      'the controller whose patients they are, e.g. the GP practice the cohort is narrowed to',
    ),
    reason: requiredText('why the clinician needs these people'),
    fields: textList('the fields the clinician needs, named as in the controller’s extract').min(1),
  }),
  output: reidRequestSchema,
  http: {
    method: 'POST',
    path: '/api/v1/cohorts/:id/reidentification',
    status: 201,
    example: { id: 'COH-0000000000' },
  },
  cli: {
    command: ['cohorts', 'reidentify'],
    args: ['id'],
    flags: { fields: 'field' },
    print: (r) => `Requested ${r.id}: ${r.cohortSize} people from ${r.controller}; it needs two approvals.`,
  },
  run: ({ store, principal, actor }, { id, date, controller, reason, fields }) =>
    requestCohortReidentification(
      store,
      principal,
      { cohortId: id, day: date, controller, reason, fields },
      actor,
    ),
});

export const COHORT_OPERATIONS: readonly AnyOperation[] = [
  countCohortOperation,
  saveCohortOperation,
  listCohortsOperation,
  showCohortOperation,
  reidentifyCohortOperation,
];
