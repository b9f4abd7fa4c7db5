/**
 * The funding model as stored: per financial year, the programme's cost, the rule (see
 * funding.ts) and other funding sources. Shares are never stored: `yearShares` works
 * them out afresh from the rule and the confirmed subscriptions, so changing the rule,
 * the cost, a source or a subscription recomputes every share — and every draft
 * invoice with it. Raised invoices keep the amount they were raised with.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { Queryable } from '../store/store.ts';
import {
  computeShares,
  describeRule,
  parseFundingRule,
  type FundingResult,
  type FundingRule,
  type FundingSource,
} from './funding.ts';
import { inTransaction, newId, nowIso, parseFinancialYear, parseJsonColumn } from './governance-values.ts';
import { listOrganisations } from './organisations.ts';
import { listSubscriptions } from './subscriptions.ts';

export interface FundingModel {
  year: string;
  costPence: number;
  rule: FundingRule;
  ruleDescription: string;
  sources: (FundingSource & { id: string })[];
}

export async function findFundingModel(q: Queryable, yearRaw: string): Promise<FundingModel | undefined> {
  const year = parseFinancialYear(yearRaw);
  const [row] = await q.query<{ cost_pence: number; rule: string }>(
    'SELECT cost_pence, rule FROM funding_models WHERE financial_year = $1',
    [year],
  );
  if (!row) return undefined;
  const rule = parseFundingRule(parseJsonColumn(row.rule, `funding rule for ${year}`));
  const sources = await q.query<{ source_id: string; name: string; amount_pence: number }>(
    'SELECT source_id, name, amount_pence FROM funding_sources WHERE financial_year = $1 ORDER BY created_at, name',
    [year],
  );
  return {
    year,
    costPence: Number(row.cost_pence),
    rule,
    ruleDescription: describeRule(rule),
    sources: sources.map((s) => ({ id: s.source_id, name: s.name, amountPence: Number(s.amount_pence) })),
  };
}

export async function getFundingModel(q: Queryable, year: string): Promise<FundingModel> {
  const model = await findFundingModel(q, year);
  if (!model) {
    throw new KernelError('not-found', `No funding model is set for ${parseFinancialYear(year)}`, {
      hint: `Set one: kernel subscriptions funding --year ${parseFinancialYear(year)} --cost POUNDS --rule '{"kind":"population"}'`,
    });
  }
  return model;
}

/** Sets the year's cost and/or rule; draft invoices follow at once. */
export async function setFundingModel(
  q: Queryable,
  input: { year: string; costPence?: number; rule?: unknown },
  actor: string,
): Promise<FundingModel> {
  const year = parseFinancialYear(input.year);
  const rule = input.rule === undefined ? undefined : parseFundingRule(input.rule);
  if (input.costPence !== undefined && (!Number.isSafeInteger(input.costPence) || input.costPence < 0)) {
    throw new KernelError('usage', 'The programme cost must be a whole number of pence, 0 or more', {
      where: { field: 'cost' },
    });
  }
  return inTransaction(q, async (tx) => {
    const current = await findFundingModel(tx, year);
    const costPence = input.costPence ?? current?.costPence;
    const nextRule = rule ?? current?.rule;
    if (costPence === undefined || nextRule === undefined) {
      throw new KernelError('usage', `The first funding model for ${year} needs both a cost and a rule`, {
        hint: 'Give --cost and --rule',
      });
    }
    const at = nowIso();
    if (current) {
      await tx.run(
        'UPDATE funding_models SET cost_pence = $2, rule = $3, updated_at = $4, updated_by = $5 WHERE financial_year = $1',
        [year, costPence, JSON.stringify(nextRule), at, actor],
      );
    } else {
      await tx.run(
        'INSERT INTO funding_models (financial_year, cost_pence, rule, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)',
        [year, costPence, JSON.stringify(nextRule), at, actor],
      );
    }
    await appendAudit(tx, {
      actor,
      action: 'funding.model-set',
      target: `year:${year}`,
      details: { costPence, rule: nextRule.kind, previousCostPence: current?.costPence ?? null },
    });
    await refreshDraftInvoices(tx, year);
    return getFundingModel(tx, year);
  });
}

/** Adds money from elsewhere (e.g. a one-off allocation) that reduces members' shares. */
export async function addFundingSource(
  q: Queryable,
  input: { year: string; name: string; amountPence: number },
  actor: string,
): Promise<FundingModel> {
  const year = parseFinancialYear(input.year);
  const name = input.name.trim();
  if (!name) throw new KernelError('usage', 'A funding source needs a name', { where: { field: 'name' } });
  if (!Number.isSafeInteger(input.amountPence) || input.amountPence <= 0) {
    throw new KernelError('usage', 'A funding source must bring a positive amount', {
      where: { field: 'amount' },
    });
  }
  return inTransaction(q, async (tx) => {
    await getFundingModel(tx, year);
    const id = newId();
    await tx.run(
      'INSERT INTO funding_sources (source_id, financial_year, name, amount_pence, created_at) VALUES ($1, $2, $3, $4, $5)',
      [id, year, name, input.amountPence, nowIso()],
    );
    await appendAudit(tx, {
      actor,
      action: 'funding.source-added',
      target: `year:${year}`,
      details: { source: name, amountPence: input.amountPence },
    });
    await refreshDraftInvoices(tx, year);
    return getFundingModel(tx, year);
  });
}

/** Each confirmed subscriber's share for the year under the current model. */
export async function yearShares(
  q: Queryable,
  yearRaw: string,
): Promise<FundingResult & { year: string; ruleDescription: string }> {
  const year = parseFinancialYear(yearRaw);
  const model = await getFundingModel(q, year);
  const confirmed = await listSubscriptions(q, { year, state: 'confirmed' });
  const orgs = new Map((await listOrganisations(q)).map((o) => [o.code, o]));
  const result = computeShares({
    costPence: model.costPence,
    sources: model.sources,
    rule: model.rule,
    subscribers: confirmed.map((s) => ({
      org: s.org,
      tier: s.tier,
      population: orgs.get(s.org)?.population ?? null,
      incomePence: orgs.get(s.org)?.incomePence ?? null,
    })),
  });
  return { ...result, year, ruleDescription: model.ruleDescription };
}

/**
 * Brings the year's draft invoices into line with the current shares. Raised, paid and
 * cancelled invoices are never touched. A model that cannot be applied to the drafts'
 * subscribers (e.g. one has no population) is refused, so drafts never go stale.
 */
export async function refreshDraftInvoices(tx: Queryable, year: string): Promise<number> {
  const drafts = await tx.query<{ invoice_id: string; org_code: string }>(
    "SELECT invoice_id, org_code FROM invoices WHERE financial_year = $1 AND state = 'draft'",
    [year],
  );
  if (drafts.length === 0) return 0;
  const shares = await yearShares(tx, year);
  let changed = 0;
  for (const draft of drafts) {
    const share = shares.shares.find((s) => s.org === draft.org_code);
    if (!share) {
      await tx.run('DELETE FROM invoices WHERE invoice_id = $1', [draft.invoice_id]);
    } else {
      await tx.run('UPDATE invoices SET amount_pence = $2, basis = $3 WHERE invoice_id = $1', [
        draft.invoice_id,
        share.sharePence,
        basisJson(shares, share.weight),
      ]);
    }
    changed++;
  }
  return changed;
}

/** What an invoice records about how its amount was worked out. */
export function basisJson(shares: FundingResult & { ruleDescription: string }, weight: number): string {
  return JSON.stringify({
    rule: shares.ruleDescription,
    costPence: shares.costPence,
    otherFundingPence: shares.otherFundingPence,
    netPence: shares.netPence,
    weight,
    totalWeight: shares.totalWeight,
  });
}
