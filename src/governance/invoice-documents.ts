/**
 * Invoices and subscription letters as documents: printable HTML (Nunjucks templates in
 * ./templates, autoescaped), PDF (pdfkit) and CSV (RFC 4180).
 */
import nunjucks from 'nunjucks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pdfDocument } from '../documents/pdf-document.ts';
import type { Queryable } from '../store/store.ts';
import { toCsv } from '../files/spreadsheet-csv.ts';
import { findFundingModel, yearShares } from './funding-model.ts';
import { formatPounds, nowIso, parseFinancialYear } from './governance-values.ts';
import type { Invoice } from './invoices.ts';
import { contactFor, getOrganisation, listOrganisations, type Organisation } from './organisations.ts';
import { findSubscription, listSubscriptions } from './subscriptions.ts';

const TEMPLATES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');
const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES), {
  autoescape: true,
  throwOnUndefined: false,
});

/** The organisation that hosts the programme and issues invoices: the lead controller. */
async function host(q: Queryable): Promise<{ name: string; code: string }> {
  const lead = (await listOrganisations(q)).find((o) => o.kernelRole === 'lead-controller');
  return lead ? { name: lead.name, code: lead.code } : { name: 'the Kernel programme', code: '' };
}

function invoiceVars(
  invoice: Invoice,
  org: Organisation,
  hostOrg: { name: string },
): Record<string, unknown> {
  return {
    invoice,
    org,
    host: hostOrg,
    finance: contactFor(org, 'finance') ?? null,
    startYear: Number(invoice.year.slice(0, 4)),
    amount: formatPounds(invoice.amountPence),
    cost: formatPounds(invoice.basis.costPence),
    otherFunding: formatPounds(invoice.basis.otherFundingPence),
    net: formatPounds(invoice.basis.netPence),
  };
}

/**
 * The invoice as a printable HTML document. `nonce` is the serving response's CSP nonce
 * (CSP Level 3: the document's one inline style block must carry it); files need none.
 */
export async function invoiceHtml(
  q: Queryable,
  invoice: Invoice,
  options: { nonce?: string } = {},
): Promise<string> {
  const org = await getOrganisation(q, invoice.org);
  return env.render('invoice.njk', {
    ...invoiceVars(invoice, org, await host(q)),
    nonce: options.nonce ?? '',
  });
}

/** The invoice as a one-page A4 PDF. */
export async function invoicePdf(q: Queryable, invoice: Invoice): Promise<Buffer> {
  const org = await getOrganisation(q, invoice.org);
  const hostOrg = await host(q);
  const v = invoiceVars(invoice, org, hostOrg);
  const { doc, done } = pdfDocument({ Title: `Invoice ${invoice.number ?? '(draft)'}` }, 56);
  doc
    .font('Helvetica-Bold')
    .fontSize(11)
    .text('Kernel — Kent and Medway shared health and care data warehouse');
  doc.font('Helvetica').text(`Hosted for the programme by ${hostOrg.name}`);
  doc.moveDown();
  doc
    .font('Helvetica-Bold')
    .fontSize(20)
    .text(`Invoice ${invoice.number ?? '(draft — not yet numbered)'}`);
  doc
    .fontSize(11)
    .text(invoice.state.toUpperCase() + (invoice.replaces ? ` — replaces invoice ${invoice.replaces}` : ''));
  doc.moveDown();
  doc.font('Helvetica');
  doc.text(`To: ${org.name} (${org.code})`);
  const finance = contactFor(org, 'finance');
  if (finance) doc.text(`${finance.name}, ${finance.email}`);
  doc.text(
    `Financial year: ${invoice.year} (1 April ${String(v.startYear)} to 31 March ${Number(v.startYear) + 1})`,
  );
  if (invoice.raisedAt) doc.text(`Date raised: ${invoice.raisedAt.slice(0, 10)}`);
  if (invoice.paidAt) doc.text(`Date paid: ${invoice.paidAt}`);
  if (invoice.cancelledAt)
    doc.text(`Cancelled ${invoice.cancelledAt.slice(0, 10)}: ${invoice.cancelReason ?? ''}`);
  doc.moveDown();
  doc.text(
    `Subscription to the Kernel programme, ${invoice.year}: share of the programme cost, ${invoice.basis.rule}.`,
  );
  doc.moveDown(0.5);
  doc
    .font('Helvetica-Bold')
    .fontSize(14)
    .text(`Total due: ${String(v.amount)}`);
  doc.moveDown();
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(
      `Programme cost ${String(v.cost)}, less other funding of ${String(v.otherFunding)}, leaves ${String(v.net)} shared between subscribers. ` +
        `Your organisation's weight is ${invoice.basis.weight} of ${invoice.basis.totalWeight}. Shares are rounded to the penny by the ` +
        `largest-remainder method, so all shares add up exactly to ${String(v.net)}.`,
    );
  doc.moveDown();
  doc.text(`Please quote ${invoice.number ?? 'the invoice number'} with your payment.`);
  doc.end();
  return done;
}

export async function invoicesCsv(q: Queryable, invoices: readonly Invoice[]): Promise<string> {
  const names = new Map((await listOrganisations(q)).map((o) => [o.code, o.name]));
  return toCsv(
    [
      'number',
      'financial_year',
      'org_code',
      'organisation',
      'state',
      'amount_pence',
      'amount',
      'raised_at',
      'paid_at',
      'cancelled_at',
      'replaces',
    ],
    invoices.map((i) => [
      i.number,
      i.year,
      i.org,
      names.get(i.org) ?? '',
      i.state,
      i.amountPence,
      (i.amountPence / 100).toFixed(2),
      i.raisedAt,
      i.paidAt,
      i.cancelledAt,
      i.replaces,
    ]),
  );
}

export interface SubscriptionLetter {
  org: string;
  recipient: string;
  html: string;
}

/**
 * A letter to each organisation's chief executive (or one), from the template: the
 * year's subscription, and its share when a funding model is set.
 */
export async function subscriptionLetters(
  q: Queryable,
  yearRaw: string,
  options: { org?: string; date?: string; nonce?: string } = {},
): Promise<SubscriptionLetter[]> {
  const year = parseFinancialYear(yearRaw);
  const model = await findFundingModel(q, year);
  const shares = model ? await yearShares(q, year) : undefined;
  const subscriptions = await listSubscriptions(q, { year });
  const hostOrg = await host(q);
  const orgs = options.org
    ? [await getOrganisation(q, options.org)]
    : (await listOrganisations(q)).filter((o) => subscriptions.some((s) => s.org === o.code));
  const letters: SubscriptionLetter[] = [];
  for (const org of orgs) {
    const recipient = contactFor(org, 'chief-executive') ?? {
      role: 'chief-executive',
      name: 'Chief Executive',
      email: '',
    };
    const share = shares?.shares.find((s) => s.org === org.code);
    const html = env.render('subscription-letter.njk', {
      org,
      year,
      host: hostOrg,
      recipient,
      date: options.date ?? nowIso().slice(0, 10),
      subscription: (await findSubscription(q, org.code, year)) ?? null,
      share: share ?? null,
      shareAmount: share ? formatPounds(share.sharePence) : '',
      cost: model ? formatPounds(model.costPence) : '',
      otherFunding: shares ? formatPounds(shares.otherFundingPence) : '',
      rule: model?.ruleDescription ?? '',
      subscriberCount: shares?.shares.length ?? subscriptions.length,
      nonce: options.nonce ?? '',
    });
    letters.push({ org: org.code, recipient: recipient.name, html });
  }
  return letters;
}
