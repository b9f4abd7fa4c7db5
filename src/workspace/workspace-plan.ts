/**
 * What a workspace holds: for one user and one of their use cases, each dataset the use case
 * covers as a view named as the catalogue names it, whose SQL is exactly the governed read's
 * (`openGovernedRead`), and the KID's person-level views whose lineage the use case covers
 * (kid-views.ts, decided and audited by `openKidRead`). The policy alone decides controllers,
 * columns, opt-outs and months, so a workspace view can never hold more than a governed read would give the same user.
 */
import { KernelError } from '../errors.ts';
import {
  decideAccess,
  openGovernedRead,
  refuseRead,
  ROLE_TIERS,
  type AccessDenial,
  type ReadAccess,
} from '../governance/access-policy.ts';
import { findUseCase } from '../governance/use-cases.ts';
import type { Queryable } from '../store/store.ts';
import { planKidViews } from './kid-views.ts';

export interface WorkspaceView {
  /** the view's name: the dataset id as an SQL identifier (msds-booking → msds_booking), or a KID view's (person…) */
  name: string;
  /** a dataset's view, or one of the KID's person-level views (kid-views.ts) */
  kind: 'dataset' | 'kid';
  /** the dataset id; `kid` for a KID view */
  datasetId: string;
  /** the governed subquery exactly as `openGovernedRead` answered it, or the KID view's (kid-views.ts) */
  sql: string;
  /** the warehouse table the governed subquery reads, or the KID view it reads */
  table: string;
  /** every table the governed subquery reads (PostgreSQL grants them to the view owner) */
  tables: string[];
  columns: string[];
  controllers: string[];
  /** a KID view's: what it holds, the datasets it derives from, and its columns' descriptions */
  kid?: { description: string; lineage: string[]; columns: Record<string, string> };
}

export interface UnavailableDataset {
  /** the dataset id, or `kid:<view>` for a KID view whose lineage the use case does not cover */
  datasetId: string;
  /** the policy's own reason, e.g. nothing loaded yet, or no agreement in force */
  reason: string;
}

export interface WorkspacePlan {
  useCase: { id: string; title: string; purpose: string };
  views: WorkspaceView[];
  unavailable: UnavailableDataset[];
}

/** The dataset id as an identifier an analyst can type unquoted: `msds-booking` → `msds_booking`. */
export function viewName(datasetId: string): string {
  const name = datasetId.replace(/-/g, '_');
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new KernelError('internal', `"${datasetId}" is not a dataset id`);
  return name;
}

/**
 * A workspace answers row-level SQL, and nothing checks its results for disclosure, so only
 * the roles the policy lets see record-level rows get one. Aggregate-only roles (viewers, IG
 * leads, admins) read dashboards, and later outputs that have passed disclosure checks.
 */
function refusesTier(access: ReadAccess): AccessDenial | undefined {
  if (ROLE_TIERS[access.user.role] !== 'aggregate-only') return undefined;
  return {
    allowed: false,
    reason: `A workspace gives record-level SQL, and the role "${access.user.role}" sees aggregates only`,
    hint: 'Use the dashboards, or ask for an analyst account on the use case',
  };
}

function refuse(q: Queryable, access: ReadAccess, denial: AccessDenial): Promise<never> {
  return refuseRead(q, access, {
    action: 'workspace.refused',
    target: `usecase:${access.useCaseId}`,
    reason: denial.reason,
    hint: denial.hint,
  });
}

/**
 * Decides every dataset of the use case, then opens a governed read (checked and audited by
 * the policy) for each one allowed. Datasets the policy refuses for a reason of their own
 * (nothing loaded, no agreement for this purpose) are listed as unavailable; when it refuses
 * all of them, the policy's own refusal, with its audit record, is what the caller gets.
 */
export async function planWorkspace(q: Queryable, access: ReadAccess): Promise<WorkspacePlan> {
  const tierDenial = refusesTier(access);
  if (tierDenial) return refuse(q, access, tierDenial);
  const useCase = await findUseCase(q, access.useCaseId);
  if (!useCase) {
    return refuse(q, access, {
      allowed: false,
      reason: `There is no use case ${access.useCaseId}`,
      hint: 'Pick one of your active use cases',
    });
  }
  const allowed: string[] = [];
  const unavailable: UnavailableDataset[] = [];
  for (const datasetId of useCase.datasets) {
    const decision = await decideAccess(q, access, datasetId);
    if (decision.allowed) allowed.push(datasetId);
    else unavailable.push({ datasetId, reason: decision.reason });
  }
  if (allowed.length === 0) {
    // Throws the policy's refusal for the first dataset, audited as a denied read.
    await openGovernedRead(q, access, useCase.datasets[0] as string);
    throw new KernelError('internal', 'The access policy allowed a read it had just refused');
  }
  const views: WorkspaceView[] = [];
  for (const datasetId of allowed) {
    const read = await openGovernedRead(q, access, datasetId);
    views.push({
      name: viewName(datasetId),
      kind: 'dataset',
      datasetId,
      sql: read.sql,
      table: read.table,
      tables: read.tables,
      columns: read.columns,
      controllers: read.controllers,
    });
  }
  // The KID's person-level views whose lineage the use case covers (decided and audited by openKidRead).
  const kid = await planKidViews(q, access);
  for (const view of kid.views) {
    views.push({
      name: view.name,
      kind: 'kid',
      datasetId: 'kid',
      sql: view.sql,
      table: view.source,
      tables: view.tables,
      columns: view.columns,
      controllers: view.controllers,
      kid: { description: view.description, lineage: view.lineage, columns: view.columnDescriptions },
    });
  }
  for (const { name, reason } of kid.unavailable) unavailable.push({ datasetId: `kid:${name}`, reason });
  return { useCase: { id: useCase.id, title: useCase.title, purpose: useCase.purpose }, views, unavailable };
}
