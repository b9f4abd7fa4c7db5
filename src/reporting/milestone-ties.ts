/**
 * A milestone may be tied to a Kernel fact that completes it, so the plan follows the
 * records instead of someone remembering to tick it. A tie is written as one short text,
 * the same in the CLI, the API and the store:
 *
 *   loads:RWF:apc+op+ecds            RWF's apc, op and ecds all loaded for one month of data
 *   loads:RWF:apc+op+ecds:2021-05    … for that month
 *   subscription:RWF:2021/22         RWF confirmed its 2021/22 subscription
 *   agreement:RWF[:apc]              a data sharing agreement signed by RWF (covering apc)
 *   usecase:UC-001                   the use case approved by every controller
 *   onboarded:RWF                    RWF completed the onboarding checklist
 *
 * Loads stand for "loaded and signed off" until sign-off records exist (issue 16): a
 * completed load is then the nearest record Kernel holds.
 */
import { KernelError } from '../errors.ts';
import { checkDatasetIds } from '../governance/datasets.ts';
import { parseFinancialYear, parseOrgCode } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';
import { COMPLETED_LOAD, onboardedOn, useCasesApproved } from './kernel-facts.ts';
import { parseMonth } from './programme-values.ts';

export type MilestoneTie =
  | { kind: 'loads'; org: string; datasets: string[]; period: string | null }
  | { kind: 'subscription'; org: string; year: string }
  | { kind: 'agreement'; org: string; dataset: string | null }
  | { kind: 'usecase'; useCase: string }
  | { kind: 'onboarded'; org: string };

/** What completed a tied milestone: the day, and the evidence. */
export interface TieFact {
  on: string;
  evidence: string;
  href: string;
}

const FORMS =
  'loads:ORG:DATASET+DATASET[:YYYY-MM], subscription:ORG:YEAR, agreement:ORG[:DATASET], usecase:UC-001, onboarded:ORG';

function bad(raw: string, why: string): KernelError {
  return new KernelError('usage', `"${raw}" is not a milestone tie: ${why}`, {
    where: { field: 'tie' },
    hint: `Write one of: ${FORMS}`,
  });
}

export function parseTie(raw: string): MilestoneTie {
  const parts = raw.trim().split(':');
  const [kind, a, b, c] = parts;
  switch (kind) {
    case 'loads': {
      if (!a || !b || parts.length > 4) throw bad(raw, 'name the organisation and the datasets');
      const datasets = [...new Set(b.split('+').map((d) => d.trim()))].filter(Boolean).sort();
      checkDatasetIds(datasets);
      return { kind, org: parseOrgCode(a), datasets, period: c ? parseMonth(c, 'tie') : null };
    }
    case 'subscription':
      if (!a || !b || parts.length > 3) throw bad(raw, 'name the organisation and the financial year');
      return { kind, org: parseOrgCode(a), year: parseFinancialYear(b) };
    case 'agreement':
      if (!a || parts.length > 3) throw bad(raw, 'name the organisation');
      if (b) checkDatasetIds([b]);
      return { kind, org: parseOrgCode(a), dataset: b ?? null };
    case 'usecase':
      if (!a || !/^UC-\d{3,}$/.test(a) || parts.length > 2) throw bad(raw, 'name the use case, e.g. UC-001');
      return { kind, useCase: a };
    case 'onboarded':
      if (!a || parts.length > 2) throw bad(raw, 'name the organisation');
      return { kind, org: parseOrgCode(a) };
    default:
      throw bad(raw, `"${kind ?? ''}" is not a kind of fact`);
  }
}

/**
 * Refuses a tie Kernel's records could never meet: one to an organisation that is not
 * registered, or to a use case that was never proposed. Its milestone would only slip.
 */
export async function checkTie(q: Queryable, tie: MilestoneTie): Promise<void> {
  if (tie.kind === 'usecase') {
    const [row] = await q.query('SELECT use_case_id FROM use_cases WHERE use_case_id = $1', [tie.useCase]);
    if (row) return;
    throw new KernelError('not-found', `There is no use case ${tie.useCase} to tie the milestone to`, {
      where: { field: 'tie' },
      hint: 'Tie it to a use case that has been proposed (kernel usecases list)',
    });
  }
  const [row] = await q.query('SELECT org_code FROM organisations WHERE org_code = $1', [tie.org]);
  if (row) return;
  throw new KernelError('not-found', `No organisation ${tie.org} is registered to tie the milestone to`, {
    where: { field: 'tie' },
    hint: 'Register it first (kernel orgs add), or tie the milestone to a registered member',
  });
}

export function formatTie(tie: MilestoneTie): string {
  switch (tie.kind) {
    case 'loads':
      return `loads:${tie.org}:${tie.datasets.join('+')}${tie.period ? `:${tie.period}` : ''}`;
    case 'subscription':
      return `subscription:${tie.org}:${tie.year}`;
    case 'agreement':
      return `agreement:${tie.org}${tie.dataset ? `:${tie.dataset}` : ''}`;
    case 'usecase':
      return `usecase:${tie.useCase}`;
    case 'onboarded':
      return `onboarded:${tie.org}`;
  }
}

/** The tie in plain English, for pages and reports. */
export function describeTie(tie: MilestoneTie): string {
  switch (tie.kind) {
    case 'loads':
      return `${tie.org}'s ${tie.datasets.join(', ')} loaded for ${tie.period ?? 'one month'}`;
    case 'subscription':
      return `${tie.org} confirms its ${tie.year} subscription`;
    case 'agreement':
      return `${tie.org} signs a data sharing agreement${tie.dataset ? ` covering ${tie.dataset}` : ''}`;
    case 'usecase':
      return `${tie.useCase} approved by every controller`;
    case 'onboarded':
      return `${tie.org} completes onboarding`;
  }
}

/** The fact that completes `tie`, if Kernel's records hold it; the earliest such fact. */
export async function findTieFact(q: Queryable, tie: MilestoneTie): Promise<TieFact | null> {
  switch (tie.kind) {
    case 'loads': {
      const rows = await q.query<{ dataset_id: string; period: string; first_done: string }>(
        `SELECT dataset_id, period, min(finished_at) AS first_done FROM loads
         WHERE org_code = $1 AND ${COMPLETED_LOAD} AND period IS NOT NULL
         GROUP BY dataset_id, period`,
        [tie.org],
      );
      // A month is complete once its last dataset is loaded; the tie is met by the first.
      let best: { period: string; at: string } | null = null;
      const periods = new Set(rows.map((r) => r.period));
      for (const period of periods) {
        if (tie.period && period !== tie.period) continue;
        const times = tie.datasets.map(
          (d) => rows.find((r) => r.period === period && r.dataset_id === d)?.first_done,
        );
        if (times.some((t) => t === undefined)) continue;
        const at = (times as string[]).sort().at(-1) as string;
        if (!best || at < best.at) best = { period, at };
      }
      if (!best) return null;
      return {
        on: best.at.slice(0, 10),
        evidence: `${tie.org}'s ${tie.datasets.join(', ')} loaded for ${best.period}`,
        href: `/loads?org=${tie.org}&period=${best.period}`,
      };
    }
    case 'subscription': {
      const rows = await q.query<{ occurred_at: string; details: string }>(
        `SELECT occurred_at, details FROM audit_events
         WHERE action = 'subscription.confirmed' AND target = $1 ORDER BY seq`,
        [`org:${tie.org}`],
      );
      const first = rows.find((r) => (JSON.parse(r.details) as { year?: string }).year === tie.year);
      if (!first) return null;
      return {
        on: first.occurred_at.slice(0, 10),
        evidence: `${tie.org} confirmed its ${tie.year} subscription`,
        href: `/funding?year=${encodeURIComponent(tie.year)}`,
      };
    }
    case 'agreement': {
      const rows = await q.query<{ agreement_id: string; signed_at: string | null; created_at: string }>(
        `SELECT a.agreement_id, a.signed_at, a.created_at FROM agreements a
         WHERE a.org_code = $1 ${tie.dataset ? 'AND EXISTS (SELECT 1 FROM agreement_datasets d WHERE d.agreement_id = a.agreement_id AND d.dataset_id = $2)' : ''}`,
        tie.dataset ? [tie.org, tie.dataset] : [tie.org],
      );
      const first = rows
        .map((r) => ({ id: r.agreement_id, on: (r.signed_at ?? r.created_at).slice(0, 10) }))
        .sort((x, y) => x.on.localeCompare(y.on))[0];
      if (!first) return null;
      return {
        on: first.on,
        evidence: `Data sharing agreement ${first.id} signed by ${tie.org}`,
        href: `/organisations/${tie.org}`,
      };
    }
    case 'usecase': {
      const [approved] = await useCasesApproved(q, { id: tie.useCase });
      if (!approved) return null;
      return {
        on: approved.on,
        evidence: `${approved.id} approved by every controller`,
        href: `/use-cases/${approved.id}`,
      };
    }
    case 'onboarded': {
      const on = await onboardedOn(q, tie.org);
      if (!on) return null;
      return { on, evidence: `${tie.org} completed onboarding`, href: `/organisations/${tie.org}` };
    }
  }
}
