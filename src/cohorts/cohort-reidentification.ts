/**
 * A saved cohort in a direct care re-identification request (issue 19; docs/cohorts.md,
 * "Using a saved cohort"): its members on a day, computed through the governed reads
 * (`openCohortView`, audited), become the request's tokens, so a clinician's team never
 * handles a token list. Every rule of a request — direct-care purpose, size limit, the
 * controller's own patients, two approvals — is the re-identification module's own
 * (`requestReidentification`, src/reid/reid-requests.ts), applied unchanged.
 */
import { readUserOf } from '../governance/access-policy.ts';
import type { Principal } from '../operations/principal.ts';
import { requestReidentification, type ReidRequest } from '../reid/reid-requests.ts';
import type { Queryable } from '../store/store.ts';
import { openCohortView } from './cohort-views.ts';
import { getCohort } from './saved-cohorts.ts';

export interface CohortReidentification {
  cohortId: string;
  /** membership on this day */
  day: string;
  /** the controller whose patients they are: narrow the cohort to its practice to match */
  controller: string;
  reason: string;
  fields: readonly string[];
}

/** Asks for the members of a saved cohort on a day to be re-identified by one controller. */
export async function requestCohortReidentification(
  q: Queryable,
  principal: Principal,
  input: CohortReidentification,
  actor: string,
): Promise<ReidRequest> {
  const user = readUserOf(principal);
  const cohort = await getCohort(q, user, input.cohortId);
  const view = await openCohortView(q, { user, useCaseId: cohort.useCaseId, actor }, cohort.id, input.day);
  const members = await q.query<{ person_token: string }>(
    `SELECT DISTINCT person_token FROM ${view.sql} AS members ORDER BY person_token`,
  );
  return requestReidentification(
    q,
    principal,
    {
      useCaseId: cohort.useCaseId,
      controller: input.controller,
      reason: input.reason,
      fields: input.fields,
      tokens: members.map((m) => m.person_token),
    },
    actor,
  );
}
