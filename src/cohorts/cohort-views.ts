/**
 * A saved cohort as a view of its members, for the analyst workspace and, later, a direct care
 * re-identification request (docs/cohorts.md, "Using a saved cohort"). Membership is computed
 * here, on the day asked for, through the same governed reads as its counts (each checked and
 * audited); the answer is a parenthesised subquery without parameters, shaped like a workspace
 * view's (`WorkspaceView.sql`), so the workspace can offer it beside the datasets' views.
 *
 * Members are person tokens, so only the roles the policy lets see record-level rows get one;
 * aggregate-only roles count cohorts instead.
 */
import { refuseRead, ROLE_TIERS, type ReadAccess } from '../governance/access-policy.ts';
import type { Queryable } from '../store/store.ts';
import { openCohort } from './cohort-counts.ts';
import { getCohort, type SavedCohort } from './saved-cohorts.ts';

export interface CohortView {
  /** what to write in SQL: `cohort_` and the name in lower case, e.g. cohort_frail_over_75s */
  name: string;
  cohortId: string;
  /** membership on this day */
  day: string;
  /** a parenthesised subquery without parameters: one row a member */
  sql: string;
  columns: string[];
  /** the datasets its reads covered */
  datasets: string[];
}

export const COHORT_VIEW_COLUMNS = ['person_token', 'practice_code', 'sex_key', 'band'] as const;

/** The cohort's name as an SQL identifier an analyst can type unquoted. */
export function cohortViewName(cohort: Pick<SavedCohort, 'name'>): string {
  const slug = cohort.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 50);
  return `cohort_${slug || 'unnamed'}`;
}

/**
 * Opens the members of saved cohort `cohortId` on `day` under the access's use case, which
 * must be the one it was saved under. Refuses aggregate-only roles (audited).
 */
export async function openCohortView(
  q: Queryable,
  access: ReadAccess,
  cohortId: string,
  day: string,
): Promise<CohortView> {
  const cohort = await getCohort(q, access.user, cohortId);
  if (ROLE_TIERS[access.user.role] !== 'record-level' || cohort.useCaseId !== access.useCaseId) {
    const reason =
      cohort.useCaseId !== access.useCaseId
        ? `Cohort ${cohort.id} was saved under ${cohort.useCaseId}, not ${access.useCaseId}`
        : `A cohort's members are record-level, and the role "${access.user.role}" sees aggregates only`;
    return refuseRead(q, access, {
      action: 'cohort.refused',
      target: `cohort:${cohort.id}`,
      reason,
      hint: 'Count the cohort instead, or use it under its own use case',
    });
  }
  const opened = await openCohort(q, access, cohort.definition, day, { inline: true });
  return {
    name: cohortViewName(cohort),
    cohortId: cohort.id,
    day,
    sql: `(${opened.membersSql})`,
    columns: [...COHORT_VIEW_COLUMNS],
    datasets: opened.datasets,
  };
}
