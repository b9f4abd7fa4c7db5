/**
 * Reading the Kent Integrated Dataset through the access policy. Every field of the model
 * is derived from source datasets (its lineage, below); a read of a field is allowed only
 * when the use case covers every dataset it derives from — each checked by the policy's
 * own `decideAccess` (role, active use case, membership, datasets, controllers with an
 * agreement) — and for planning and research the national data opt-out removes the people
 * on it from every figure. The read is audited (`data.read` on `kid:<fields>`), a denial too.
 */
import { appendAudit } from '../audit/audit-log.ts';
import {
  decideAccess,
  loadedDatasets,
  refuseRead,
  type AccessDenial,
  type AccessGrant,
  type ReadAccess,
} from '../governance/access-policy.ts';
import { inTransaction } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';

/** Each field group of the model and the source datasets it is derived from (its lineage). */
export const KID_LINEAGE = {
  population: ['pmi'],
  demographics: ['pmi'],
  residence: ['pmi', 'asc'],
  households: ['pmi', 'asc'],
  'fire-visits': ['pmi', 'fire-safety'],
  conditions: ['pmi', 'gp-events'],
  frailty: ['pmi', 'gp-events'],
  // The person-level model (src/kid/person-model.ts): activity and cost in the 12 months
  // (admissions, A&E, outpatients, community and mental health contacts, social care, fire
  // visits), and the Bridges to Health segment, whose rules read conditions, deaths,
  // admissions, maternity and social care.
  activity: ['pmi', 'apc', 'ecds', 'op', 'csds-care-contact', 'mhsds-care-contact', 'asc', 'fire-safety'],
  segments: ['pmi', 'gp-events', 'apc', 'asc', 'msds-booking', 'msds-delivery'],
  // Age, sex, IMD of residence, conditions, emergency admissions and A&E attendances (src/kid/risk.ts).
  risk: ['pmi', 'asc', 'gp-events', 'apc', 'ecds'],
} as const satisfies Record<string, readonly string[]>;
export type KidFieldGroup = keyof typeof KID_LINEAGE;

export interface KidRead {
  useCase: AccessGrant['useCase'];
  fields: KidFieldGroup[];
  datasets: string[];
  /** true for planning and research: people on the national data opt-out are left out */
  optOutApplies: boolean;
  tier: AccessGrant['tier'];
}

/** The policy's decision on a read of the model's fields: every source's grant, or the first refused. */
export type KidReadDecision =
  | { allowed: true; datasets: string[]; grants: AccessGrant[] }
  | { allowed: false; datasets: string[]; dataset: string; field: KidFieldGroup; denial: AccessDenial };

/**
 * Decides a read of the model's `fields` (each source dataset by the policy's `decideAccess`)
 * without reading or auditing anything: for a page that asks whether it may be opened.
 * `openKidRead` is this decision, audited.
 */
export async function decideKidRead(
  q: Queryable,
  access: ReadAccess,
  fields: readonly KidFieldGroup[],
): Promise<KidReadDecision> {
  const lineage = [...new Set(fields.flatMap((f) => KID_LINEAGE[f]))].sort();
  // A source with nothing loaded gives the model nothing (its counts are empty), so a read
  // needs no cover for it: a warehouse without community data still reads the activity it
  // has. Once it is loaded, the read needs it like any other. (With no source loaded at all,
  // the policy's own refusal says so.)
  const loaded = await loadedDatasets(q, lineage);
  const datasets = loaded.length > 0 ? loaded : lineage;
  const grants: AccessGrant[] = [];
  for (const dataset of datasets) {
    const decision = await decideAccess(q, access, dataset);
    if (!decision.allowed) {
      const field = fields.find((f) => (KID_LINEAGE[f] as readonly string[]).includes(dataset)) ?? fields[0];
      return { allowed: false, datasets, dataset, field: field as KidFieldGroup, denial: decision };
    }
    grants.push(decision);
  }
  return { allowed: true, datasets, grants };
}

/** Decides and audits a read of the model's `fields`; throws `forbidden` when any source is not covered. */
export async function openKidRead(
  q: Queryable,
  access: ReadAccess,
  fields: readonly KidFieldGroup[],
): Promise<KidRead> {
  const actor = access.actor ?? `user:${access.user.id}`;
  const decision = await decideKidRead(q, access, fields);
  if (!decision.allowed) {
    const { dataset, field, denial } = decision;
    return refuseRead(q, access, {
      action: 'data.read-denied',
      target: `kid:${fields.join('+')}`,
      reason: denial.reason,
      hint: denial.hint,
      details: { dataset },
      message: `The model's ${field} fields derive from ${dataset}, and this read may not use it: ${denial.reason}`,
    });
  }
  const { datasets, grants } = decision;
  const first = grants[0] as AccessGrant;
  const read: KidRead = {
    useCase: first.useCase,
    fields: [...fields],
    datasets,
    optOutApplies: grants.some((g) => g.optOutApplies),
    tier: first.tier,
  };
  await inTransaction(q, (tx) =>
    appendAudit(tx, {
      actor,
      action: 'data.read',
      target: `kid:${fields.join('+')}`,
      purpose: read.useCase.id,
      details: {
        role: access.user.role,
        purpose: read.useCase.purpose,
        datasets: datasets.join(','),
        optOutApplied: read.optOutApplies,
      },
    }),
  );
  return read;
}
