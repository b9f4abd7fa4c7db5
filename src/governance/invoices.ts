/**
 * Invoices: one per confirmed subscriber per financial year, for its share under the
 * funding model. Life: draft → raised → paid, or raised → cancelled (and replaced).
 *
 * - A draft has no number and follows the model (funding-model.ts refreshes it).
 * - Raising takes the next number of the year's series (`KER-2122-0001`…) from
 *   `invoice_series` in the same transaction, so numbers have no gaps: a rollback returns
 *   the number, and a cancelled invoice keeps its number.
 * - A raised invoice is never edited. A mistake is put right by cancelling it (with a
 *   reason) and raising a replacement, which records the number it replaces.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { Queryable, Row } from '../store/store.ts';
import { financialYearFilter, type FinancialYearFilter } from './financial-year-filter.ts';
import { basisJson, yearShares } from './funding-model.ts';
import {
  inTransaction,
  newId,
  nowIso,
  parseDate,
  parseFinancialYear,
  parseJsonColumn,
  parseOrgCode,
} from './governance-values.ts';

export const INVOICE_STATES = ['draft', 'raised', 'paid', 'cancelled'] as const;
export type InvoiceState = (typeof INVOICE_STATES)[number];

export interface InvoiceBasis {
  rule: string;
  costPence: number;
  otherFundingPence: number;
  netPence: number;
  weight: number;
  totalWeight: number;
}

export interface Invoice {
  id: string;
  number: string | null;
  year: string;
  org: string;
  state: InvoiceState;
  amountPence: number;
  basis: InvoiceBasis;
  replaces: string | null;
  createdAt: string;
  raisedAt: string | null;
  paidAt: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
}

interface InvoiceRow extends Row {
  invoice_id: string;
  financial_year: string;
  org_code: string;
  state: string;
  amount_pence: number;
  basis: string;
  seq: number | null;
  number: string | null;
  replaces: string | null;
  created_at: string;
  raised_at: string | null;
  paid_at: string | null;
  cancelled_at: string | null;
  cancel_reason: string | null;
}

const fromRow = (r: InvoiceRow): Invoice => ({
  id: r.invoice_id,
  number: r.number,
  year: r.financial_year,
  org: r.org_code,
  state: r.state as InvoiceState,
  amountPence: Number(r.amount_pence),
  basis: parseJsonColumn<InvoiceBasis>(r.basis, 'invoice basis'),
  replaces: r.replaces,
  createdAt: r.created_at,
  raisedAt: r.raised_at,
  paidAt: r.paid_at,
  cancelledAt: r.cancelled_at,
  cancelReason: r.cancel_reason,
});

/** `2021/22` → `KER-2122-0007` */
export function invoiceNumber(year: string, seq: number): string {
  return `KER-${year.slice(2, 4)}${year.slice(5, 7)}-${String(seq).padStart(4, '0')}`;
}

/**
 * Makes (or brings up to date) a draft for every confirmed subscriber that has no live
 * invoice for the year; answers the drafts.
 */
export async function draftInvoices(q: Queryable, yearRaw: string, actor: string): Promise<Invoice[]> {
  const year = parseFinancialYear(yearRaw);
  return inTransaction(q, async (tx) => {
    const shares = await yearShares(tx, year);
    const existing = await listInvoices(tx, { year });
    const live = new Set(
      existing.filter((i) => i.state === 'raised' || i.state === 'paid').map((i) => i.org),
    );
    let created = 0;
    for (const share of shares.shares) {
      if (live.has(share.org)) continue;
      const draft = existing.find((i) => i.org === share.org && i.state === 'draft');
      const basis = basisJson(shares, share.weight);
      if (draft) {
        await tx.run('UPDATE invoices SET amount_pence = $2, basis = $3 WHERE invoice_id = $1', [
          draft.id,
          share.sharePence,
          basis,
        ]);
      } else {
        await tx.run(
          `INSERT INTO invoices (invoice_id, financial_year, org_code, state, amount_pence, basis, created_at)
           VALUES ($1, $2, $3, 'draft', $4, $5, $6)`,
          [newId(), year, share.org, share.sharePence, basis, nowIso()],
        );
        created++;
      }
    }
    const drafts = await listInvoices(tx, { year, state: 'draft' });
    await appendAudit(tx, {
      actor,
      action: 'invoice.drafted',
      target: `year:${year}`,
      details: { drafts: drafts.length, created },
    });
    return drafts;
  });
}

async function nextNumber(tx: Queryable, year: string): Promise<{ seq: number; number: string }> {
  // Take the audit chain's lock first, as appendAudit will: every numbering transaction then
  // locks in the same order (audit chain, then series row), so two can never deadlock.
  if (tx.dialect.lockAuditChain) await tx.exec(tx.dialect.lockAuditChain);
  await tx.run(
    'INSERT INTO invoice_series (financial_year, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING',
    [year],
  );
  // The UPDATE takes the series row's lock (PostgreSQL) until commit, so two raisers queue.
  const [row] = await tx.query<{ last_seq: number }>(
    'UPDATE invoice_series SET last_seq = last_seq + 1 WHERE financial_year = $1 RETURNING last_seq',
    [year],
  );
  if (!row) throw new KernelError('internal', `The invoice series for ${year} is missing`);
  const seq = Number(row.last_seq);
  return { seq, number: invoiceNumber(year, seq) };
}

/** Raises the year's drafts (or one organisation's), numbering them in order of organisation code. */
export async function raiseInvoices(
  q: Queryable,
  yearRaw: string,
  actor: string,
  options: { org?: string } = {},
): Promise<Invoice[]> {
  const year = parseFinancialYear(yearRaw);
  const org = options.org === undefined ? undefined : parseOrgCode(options.org);
  return inTransaction(q, async (tx) => {
    const drafts = (await listInvoices(tx, { year, state: 'draft', ...(org ? { org } : {}) })).sort((a, b) =>
      a.org < b.org ? -1 : 1,
    );
    if (drafts.length === 0) {
      throw new KernelError(
        'conflict',
        `There are no draft invoices for ${year}${org ? ` for ${org}` : ''} to raise`,
        {
          hint: `Draft them first: kernel invoices draft --year ${year}`,
        },
      );
    }
    const raised: Invoice[] = [];
    for (const draft of drafts) {
      raised.push(await raiseOne(tx, draft, actor));
    }
    return raised;
  });
}

async function raiseOne(tx: Queryable, draft: Invoice, actor: string): Promise<Invoice> {
  const { seq, number } = await nextNumber(tx, draft.year);
  const at = nowIso();
  await tx.run(
    "UPDATE invoices SET state = 'raised', seq = $2, number = $3, raised_at = $4 WHERE invoice_id = $1",
    [draft.id, seq, number, at],
  );
  await appendAudit(tx, {
    actor,
    action: 'invoice.raised',
    target: `invoice:${number}`,
    details: { org: draft.org, year: draft.year, amountPence: draft.amountPence, replaces: draft.replaces },
  });
  return { ...draft, state: 'raised', number, raisedAt: at };
}

/**
 * The invoice to pay or cancel, which must be raised: a draft still follows the funding model,
 * and a paid or cancelled one is final.
 */
async function raisedInvoice(tx: Queryable, number: string, toBe: 'paid' | 'cancelled'): Promise<Invoice> {
  const invoice = await getInvoice(tx, number);
  if (invoice.state !== 'raised') {
    throw new KernelError(
      'conflict',
      `Invoice ${number} is ${invoice.state}; only a raised invoice can be ${toBe}`,
      {
        hint:
          invoice.state === 'draft'
            ? 'A draft has no number yet: it simply follows the funding model'
            : undefined,
      },
    );
  }
  return invoice;
}

export async function payInvoice(
  q: Queryable,
  number: string,
  actor: string,
  paidOn?: string,
): Promise<Invoice> {
  const date = paidOn === undefined ? nowIso().slice(0, 10) : parseDate(paidOn, 'on');
  return inTransaction(q, async (tx) => {
    const invoice = await raisedInvoice(tx, number, 'paid');
    await tx.run("UPDATE invoices SET state = 'paid', paid_at = $2 WHERE invoice_id = $1", [
      invoice.id,
      date,
    ]);
    await appendAudit(tx, {
      actor,
      action: 'invoice.paid',
      target: `invoice:${number}`,
      details: { org: invoice.org, amountPence: invoice.amountPence, paidOn: date },
    });
    return { ...invoice, state: 'paid', paidAt: date };
  });
}

/**
 * Cancels a raised invoice (never a paid one: that needs a credit note outside Kernel).
 * With `replace`, raises a replacement for the organisation's current share in the same
 * transaction, recording which number it replaces.
 */
export async function cancelInvoice(
  q: Queryable,
  number: string,
  reason: string,
  actor: string,
  options: { replace?: boolean } = {},
): Promise<{ cancelled: Invoice; replacement: Invoice | null }> {
  if (!reason.trim()) {
    throw new KernelError('usage', 'Say why the invoice is cancelled', {
      where: { field: 'reason' },
      hint: 'Give --reason "…"',
    });
  }
  return inTransaction(q, async (tx) => {
    const invoice = await raisedInvoice(tx, number, 'cancelled');
    const at = nowIso();
    await tx.run(
      "UPDATE invoices SET state = 'cancelled', cancelled_at = $2, cancel_reason = $3 WHERE invoice_id = $1",
      [invoice.id, at, reason.trim()],
    );
    await appendAudit(tx, {
      actor,
      action: 'invoice.cancelled',
      target: `invoice:${number}`,
      details: { org: invoice.org, amountPence: invoice.amountPence },
    });
    const cancelled: Invoice = {
      ...invoice,
      state: 'cancelled',
      cancelledAt: at,
      cancelReason: reason.trim(),
    };
    if (!options.replace) return { cancelled, replacement: null };
    const shares = await yearShares(tx, invoice.year);
    const share = shares.shares.find((s) => s.org === invoice.org);
    if (!share) {
      throw new KernelError(
        'conflict',
        `${invoice.org} is not a confirmed subscriber for ${invoice.year}, so there is nothing to replace the invoice with`,
        {
          hint: 'Cancel without --replace',
        },
      );
    }
    const id = newId();
    await tx.run(
      `INSERT INTO invoices (invoice_id, financial_year, org_code, state, amount_pence, basis, replaces, created_at)
       VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7)`,
      [id, invoice.year, invoice.org, share.sharePence, basisJson(shares, share.weight), number, at],
    );
    const [draft] = await tx.query<InvoiceRow>('SELECT * FROM invoices WHERE invoice_id = $1', [id]);
    const replacement = await raiseOne(tx, fromRow(draft as InvoiceRow), actor);
    return { cancelled, replacement };
  });
}

export async function listInvoices(
  q: Queryable,
  filter: FinancialYearFilter<InvoiceState> = {},
): Promise<Invoice[]> {
  const sql = financialYearFilter(filter);
  const rows = await q.query<InvoiceRow>(
    `SELECT * FROM invoices ${sql.where()}
     ORDER BY financial_year, CASE WHEN seq IS NULL THEN 1 ELSE 0 END, seq, org_code`,
    sql.params,
  );
  return rows.map(fromRow);
}

/** By number (`KER-2122-0001`) or, for a draft, by id. */
export async function getInvoice(q: Queryable, numberOrId: string): Promise<Invoice> {
  const [row] = await q.query<InvoiceRow>('SELECT * FROM invoices WHERE number = $1 OR invoice_id = $1', [
    numberOrId.trim(),
  ]);
  if (!row)
    throw new KernelError('not-found', `No invoice ${numberOrId}`, { hint: 'See `kernel invoices list`' });
  return fromRow(row);
}
