/**
 * Saved cohorts: a name, the use case it was saved under, its definition as JSON, who saved
 * it and when (migration 092). Never its members: membership is computed on use, through the
 * access policy, on the day asked for (cohort-counts.ts), so a saved cohort holds no person
 * token and follows the opt-out list, new loads and the policy as they change.
 *
 * A cohort belongs to its use case: the users of the use case see it, and only someone whose
 * read the policy would allow for every dataset the definition needs may save one.
 */
import { appendAudit, looksLikeIdentifier } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import {
  decideAccess,
  readableUseCases,
  refuseRead,
  type ReadAccess,
  type ReadUser,
} from '../governance/access-policy.ts';
import {
  inTransaction,
  newId,
  nowIso,
  parseJsonColumn,
  placeholders,
} from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';
import { checkOrganisations } from './cohort-counts.ts';
import {
  datasetsOf,
  describeDefinition,
  parseDefinition,
  type CohortDefinition,
} from './cohort-definition.ts';

export interface SavedCohort {
  id: string;
  useCaseId: string;
  name: string;
  definition: CohortDefinition;
  /** the definition in plain English */
  criteria: string[];
  savedBy: string;
  savedAt: string;
}

type CohortRow = {
  cohort_id: string;
  use_case_id: string;
  name: string;
  definition_json: string;
  saved_by: string;
  saved_at: string;
};

function fromRow(row: CohortRow): SavedCohort {
  const definition = parseDefinition(
    parseJsonColumn<unknown>(row.definition_json, `cohort ${row.cohort_id}`),
  );
  return {
    id: row.cohort_id,
    useCaseId: row.use_case_id,
    name: row.name,
    definition,
    criteria: describeDefinition(definition),
    savedBy: row.saved_by,
    savedAt: row.saved_at,
  };
}

/**
 * Refuses, with an audit record, unless the policy would let this user read every dataset
 * the definition needs under the use case. Nothing is read, so nothing else is audited.
 */
async function checkMayUse(q: Queryable, access: ReadAccess, definition: CohortDefinition): Promise<void> {
  for (const dataset of datasetsOf(definition)) {
    const decision = await decideAccess(q, access, dataset);
    if (decision.allowed) continue;
    await refuseRead(q, access, {
      action: 'cohort.refused',
      target: `usecase:${access.useCaseId}`,
      details: { dataset },
      reason: decision.reason,
      message: `This cohort needs ${dataset}, and ${lowerFirst(decision.reason)}`,
      hint: decision.hint,
    });
  }
}

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

/** Saves a definition under a name, for everyone on the use case; audited (`cohort.saved`). */
export async function saveCohort(
  q: Queryable,
  access: ReadAccess,
  name: string,
  definition: CohortDefinition,
  /** how the cohort shows who saved it: the user's email where there is one */
  savedBy: string = access.user.id,
): Promise<SavedCohort> {
  const checked = parseDefinition(definition);
  const trimmed = name.trim();
  if (!trimmed) throw new KernelError('usage', 'A cohort needs a name', { where: { field: 'name' } });
  await checkMayUse(q, access, checked);
  await checkOrganisations(q, checked);
  const cohort: SavedCohort = {
    id: newCohortId(),
    useCaseId: access.useCaseId,
    name: trimmed,
    definition: checked,
    criteria: describeDefinition(checked),
    savedBy,
    savedAt: nowIso(),
  };
  await inTransaction(q, async (tx) => {
    const [taken] = await tx.query<{ n: number }>(
      'SELECT count(*) AS n FROM cohorts WHERE use_case_id = $1 AND name = $2',
      [cohort.useCaseId, cohort.name],
    );
    if (Number(taken?.n ?? 0) > 0) {
      // A saved cohort may already stand behind a dashboard or a request: never redefine it.
      throw new KernelError(
        'conflict',
        `Use case ${cohort.useCaseId} already has a cohort called “${cohort.name}”`,
        {
          where: { field: 'name' },
          hint: 'Choose another name',
        },
      );
    }
    await tx.run(
      `INSERT INTO cohorts (cohort_id, use_case_id, name, definition_json, saved_by, saved_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [cohort.id, cohort.useCaseId, cohort.name, JSON.stringify(checked), cohort.savedBy, cohort.savedAt],
    );
    await appendAudit(tx, {
      actor: access.actor ?? `user:${access.user.id}`,
      action: 'cohort.saved',
      target: `cohort:${cohort.id}`,
      purpose: cohort.useCaseId,
      details: { datasets: datasetsOf(checked).join(',') },
    });
  });
  return cohort;
}

/** The cohorts saved under the use cases this user may read under now (optionally one of them). */
export async function listCohorts(q: Queryable, user: ReadUser, useCaseId?: string): Promise<SavedCohort[]> {
  const mine = (await readableUseCases(q, user))
    .map((u) => u.id)
    .filter((id) => !useCaseId || id === useCaseId);
  if (mine.length === 0) return [];
  const rows = await q.query<CohortRow>(
    `SELECT * FROM cohorts WHERE use_case_id IN (${placeholders(mine.length)})
     ORDER BY use_case_id, name`,
    mine,
  );
  return rows.map(fromRow);
}

/** One saved cohort, if this user is on its use case; otherwise not found (its name is not told). */
export async function getCohort(q: Queryable, user: ReadUser, id: string): Promise<SavedCohort> {
  const [row] = await q.query<CohortRow>('SELECT * FROM cohorts WHERE cohort_id = $1', [id]);
  const readable = row ? (await readableUseCases(q, user)).some((u) => u.id === row.use_case_id) : false;
  if (!row || !readable) {
    throw new KernelError('not-found', `No cohort ${id} on your use cases`, {
      hint: 'See your cohorts with `kernel cohorts list`',
    });
  }
  return fromRow(row);
}

/**
 * A cohort's id: `COH-` and ten hexadecimal characters. Ten digits alone (about one id in a
 * hundred) would have the shape of an NHS number, which the audit log refuses to hold, so
 * a cohort named in an audit detail could not be refused or audited: draw again.
 */
export function newCohortId(): string {
  for (;;) {
    const id = `COH-${newId().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
    if (!looksLikeIdentifier(id)) return id;
  }
}
