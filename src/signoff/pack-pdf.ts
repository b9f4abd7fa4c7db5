/**
 * The sign-off pack as an A4 PDF (issue 16), for a BI lead to file or take to a meeting: where
 * the month stands, every check failing first (the pack's own and the catalogue's failures and
 * warnings), the catalogue's counts, and the month's volume against the feed's history. No
 * row leaves in it: the sample of rows stays on the portal page.
 */
import { pdfDocument } from '../documents/pdf-document.ts';
import type { SignOffPack } from './sign-off-pack.ts';

const WORDS = { fail: 'FAILS', warn: 'LOOK', pass: 'passes', 'not-applicable': 'n/a' } as const;

export async function packPdf(pack: SignOffPack): Promise<Buffer> {
  const m = pack.month;
  const { doc, done } = pdfDocument({ Title: `Sign-off pack: ${m.dataset} from ${m.org}, ${m.period}` }, 48);
  doc
    .font('Helvetica-Bold')
    .fontSize(11)
    .text('Kernel — Kent and Medway shared health and care data warehouse');
  doc.moveDown();
  doc.fontSize(18).text(`Sign-off pack: ${m.dataset} from ${m.org}, ${m.period}`);
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(
      `State: ${m.state}${m.changedBy ? ` (by ${m.changedBy}${m.changedAt ? `, ${m.changedAt.slice(0, 16)}` : ''})` : ''}. Load ${m.loadId}.`,
    );
  if (m.note) doc.text(`Note: ${m.note}`);
  const c = pack.catalogue.counts;
  doc.text(
    `The check catalogue: ${pack.catalogue.results.length} checks, ${c.fail} failing, ${c.warn} to look at, ${c.pass} passing, ${c['not-applicable']} not applicable; compared with ${pack.catalogue.compared.previous ?? 'no earlier month'}${pack.catalogue.compared.sameMonthLastYear ? ` and ${pack.catalogue.compared.sameMonthLastYear}` : ''}.`,
  );
  doc.moveDown();
  doc.font('Helvetica-Bold').fontSize(13).text('Checks, failing first');
  doc.font('Helvetica').fontSize(9);
  for (const check of pack.checks) {
    doc.font('Helvetica-Bold').text(`${WORDS[check.status]}  `, { continued: true });
    doc.font('Helvetica').text(`${check.title}: ${check.detail}`);
  }
  doc.moveDown();
  doc.font('Helvetica-Bold').fontSize(13).text('Rows loaded each month');
  doc.font('Helvetica').fontSize(9);
  pack.volume.months.forEach((month, i) => {
    const v = pack.volume.values[i];
    doc.text(`${month}: ${v === null || v === undefined ? 'not loaded' : v.toLocaleString('en-GB')}`);
  });
  doc.moveDown();
  doc.text('The sample of rows is shown on the portal page only: no row leaves in this document.');
  doc.end();
  return done;
}
