/**
 * The onboarding checklist, as a state machine: an organisation's steps are done in
 * order, each recording who and when. Its state is the number of steps done; the next
 * step is the only one that can be done now. The first step needs evidence in Kernel:
 * a data sharing agreement in force for the organisation.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { Queryable } from '../store/store.ts';
import { listAgreements } from './agreements.ts';
import { inTransaction, nowIso, parseOrgCode } from './governance-values.ts';
import { getOrganisation, listOrganisations } from './organisations.ts';

export const ONBOARDING_STEPS = [
  {
    id: 'agreement-signed',
    title: 'Data sharing agreement signed',
    help: 'The controller has signed the data sharing agreement and it is recorded in Kernel (`kernel agreements add`).',
  },
  {
    id: 'dpia-reviewed',
    title: 'DPIA reviewed',
    help: "The controller's DPO has reviewed the programme's data protection impact assessment.",
  },
  {
    id: 'signing-key-trusted',
    title: 'Signing key trusted',
    help: "The organisation's agent signing key is registered with the warehouse (`kernel keys trust`).",
  },
  {
    id: 'test-feed-loaded',
    title: 'Test feed loaded',
    help: 'A test feed has gone through `kernel deid` and `kernel load`.',
  },
  {
    id: 'data-quality-reviewed',
    title: 'Data quality reviewed',
    help: "The sender's BI team has read the data quality and reconciliation report with the programme.",
  },
  {
    id: 'dataset-signed-off',
    title: 'Dataset signed off',
    help: 'The controller has signed the dataset off as fit for use.',
  },
  {
    id: 'regular-feed-agreed',
    title: 'Regular feed agreed',
    help: 'The schedule of the regular feed is agreed.',
  },
] as const;

export type OnboardingStepId = (typeof ONBOARDING_STEPS)[number]['id'];

export interface StepStatus {
  id: OnboardingStepId;
  title: string;
  help: string;
  done: boolean;
  by: string | null;
  at: string | null;
  note: string | null;
}

export interface OnboardingStatus {
  org: string;
  name: string;
  steps: StepStatus[];
  done: number;
  total: number;
  /** the only step that can be done now, or null when onboarding is complete */
  next: StepStatus | null;
  complete: boolean;
}

export function parseStep(raw: string): OnboardingStepId {
  const step = ONBOARDING_STEPS.find((s) => s.id === raw.trim());
  if (!step) {
    throw new KernelError('usage', `"${raw}" is not an onboarding step`, {
      where: { field: 'step' },
      hint: `The steps, in order: ${ONBOARDING_STEPS.map((s) => s.id).join(', ')}`,
    });
  }
  return step.id;
}

function statusFrom(
  org: { code: string; name: string },
  rows: { step: string; done_by: string; done_at: string; note: string | null }[],
): OnboardingStatus {
  const steps = ONBOARDING_STEPS.map((s): StepStatus => {
    const row = rows.find((r) => r.step === s.id);
    return {
      id: s.id,
      title: s.title,
      help: s.help,
      done: Boolean(row),
      by: row?.done_by ?? null,
      at: row?.done_at ?? null,
      note: row?.note ?? null,
    };
  });
  const done = steps.filter((s) => s.done).length;
  const next = steps.find((s) => !s.done) ?? null;
  return { org: org.code, name: org.name, steps, done, total: steps.length, next, complete: next === null };
}

export async function onboardingStatus(q: Queryable, orgCode: string): Promise<OnboardingStatus> {
  const org = await getOrganisation(q, parseOrgCode(orgCode));
  const rows = await q.query<{ step: string; done_by: string; done_at: string; note: string | null }>(
    'SELECT step, done_by, done_at, note FROM onboarding_steps WHERE org_code = $1',
    [org.code],
  );
  return statusFrom(org, rows);
}

/** Every member's progress, for the portal's at-a-glance view. */
export async function onboardingOverview(q: Queryable): Promise<OnboardingStatus[]> {
  const rows = await q.query<{
    org_code: string;
    step: string;
    done_by: string;
    done_at: string;
    note: string | null;
  }>('SELECT org_code, step, done_by, done_at, note FROM onboarding_steps');
  return (await listOrganisations(q)).map((org) =>
    statusFrom(
      org,
      rows.filter((r) => r.org_code === org.code),
    ),
  );
}

/**
 * Marks `step` done for `org`. Only the next step can be done; the agreement step needs
 * an agreement in force. Audited `onboarding.step-done`.
 */
export async function completeStep(
  q: Queryable,
  orgCode: string,
  stepRaw: string,
  actor: string,
  note?: string,
): Promise<OnboardingStatus> {
  const step = parseStep(stepRaw);
  return inTransaction(q, async (tx) => {
    const status = await onboardingStatus(tx, orgCode);
    const target = status.steps.find((s) => s.id === step);
    if (target?.done) {
      throw new KernelError(
        'conflict',
        `"${target.title}" is already done for ${status.org} (by ${target.by} on ${target.at?.slice(0, 10)})`,
      );
    }
    if (status.next?.id !== step) {
      throw new KernelError(
        'conflict',
        `"${target?.title}" cannot be done before "${status.next?.title}" for ${status.org}`,
        {
          hint: 'The checklist runs in order; see `kernel orgs onboard ' + status.org + '`',
        },
      );
    }
    if (step === 'agreement-signed') {
      const inForce = (await listAgreements(tx, { org: status.org })).filter((a) => a.state === 'in-force');
      if (inForce.length === 0) {
        throw new KernelError(
          'refused',
          `${status.org} has no data sharing agreement in force recorded in Kernel`,
          {
            hint: `Record it first: kernel agreements add --org ${status.org} --dataset ID --from YYYY-MM --to YYYY-MM`,
          },
        );
      }
    }
    await tx.run(
      'INSERT INTO onboarding_steps (org_code, step, done_by, done_at, note) VALUES ($1, $2, $3, $4, $5)',
      [status.org, step, actor, nowIso(), note?.trim() || null],
    );
    await appendAudit(tx, {
      actor,
      action: 'onboarding.step-done',
      target: `org:${status.org}`,
      details: { step, done: status.done + 1, of: status.total },
    });
    return onboardingStatus(tx, status.org);
  });
}
