/**
 * The monthly update as documents: a printable HTML page (Nunjucks, autoescaped, the plan
 * as inline SVG) and an A4 PDF (PDFKit: the sections on portrait pages, the plan drawn on a
 * landscape page from the same shapes as the SVG). Every generated line links to its
 * evidence in the portal; links are made absolute with `baseUrl` where one is given.
 */
import nunjucks from 'nunjucks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pdfDocument } from '../documents/pdf-document.ts';
import type { MonthlyUpdate, UpdateGroup, UpdateLine } from './monthly-update.ts';
import { chartLayout, planChartSvg, type Shape } from './plan-chart.ts';

const TEMPLATES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');
const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES), {
  autoescape: true,
  throwOnUndefined: false,
});

export interface DocumentOptions {
  /** the portal's address, e.g. https://kernel.example.nhs.uk, for absolute links */
  baseUrl?: string;
  /** the serving response's CSP nonce, for the document's one inline style block */
  nonce?: string;
}

/** A line's link: portal paths made absolute when the portal's address is known. */
export function lineUrl(href: string | null, baseUrl?: string): string | null {
  if (!href) return null;
  if (href.startsWith('/')) return baseUrl ? `${baseUrl.replace(/\/+$/, '')}${href}` : href;
  return href;
}

type Linked<T> = T & { url: string | null };
const linked = (lines: UpdateLine[], baseUrl?: string): Linked<UpdateLine>[] =>
  lines.map((l) => ({ ...l, url: lineUrl(l.href, baseUrl) }));

export function monthlyUpdateHtml(update: MonthlyUpdate, options: DocumentOptions = {}): string {
  const base = options.baseUrl;
  return env.render('monthly-update.njk', {
    update: {
      ...update,
      completed: update.completed.map((g: UpdateGroup) => ({ ...g, lines: linked(g.lines, base) })),
      keyIssues: linked(update.keyIssues, base),
      outstanding: linked(update.outstanding, base),
      events: linked(update.events, base),
      keyRisks: linked(update.keyRisks, base),
    },
    chartSvg: planChartSvg(update.plan),
    nonce: options.nonce ?? '',
  });
}

const BLUE = '#005eb8';
const TEXT = '#212b32';
const GREY = '#4c6272';

/** The update as an A4 PDF. */
export async function monthlyUpdatePdf(
  update: MonthlyUpdate,
  options: DocumentOptions = {},
): Promise<Buffer> {
  const { doc, done } = pdfDocument(
    { Title: `${update.title}: ${update.monthName}`, Subject: `Programme update, ${update.month}` },
    50,
  );

  doc
    .font('Helvetica-Bold')
    .fontSize(10)
    .fillColor(TEXT)
    .text('Kernel — Kent and Medway shared health and care data warehouse');
  doc.moveDown(0.5);
  doc.fontSize(20).text(`${update.title}: ${update.monthName}`);
  doc.moveDown(0.3);
  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor(GREY)
    .text(
      update.state === 'issued'
        ? `ISSUED ${(update.issuedAt ?? '').slice(0, 10)} by ${update.issuedBy ?? ''}. Content SHA-256 ${update.issuedSha256 ?? ''}.`
        : `DRAFT, from Kernel's records as at ${update.asAt}; it changes as the records do until it is issued.`,
    );
  if (update.summary) {
    doc.moveDown(0.5);
    doc.fillColor(TEXT).fontSize(11).text(update.summary);
  }

  const heading = (text: string): void => {
    doc.moveDown(0.8);
    doc.font('Helvetica-Bold').fontSize(14).fillColor(BLUE).text(text);
    doc.moveDown(0.2);
  };
  const subheading = (text: string): void => {
    doc.moveDown(0.3);
    doc.font('Helvetica-Bold').fontSize(11).fillColor(TEXT).text(text);
  };
  const bullets = (lines: UpdateLine[], empty: string): void => {
    doc.font('Helvetica').fontSize(10);
    if (lines.length === 0) {
      doc.fillColor(GREY).text(empty);
      return;
    }
    const left = doc.page.margins.left;
    const width = doc.page.width - left - doc.page.margins.right;
    for (const line of lines) {
      const url = lineUrl(line.href, options.baseUrl);
      const absolute = url !== null && /^https?:\/\//.test(url);
      // A hanging indent: the bullet in the margin, every line of the text aligned after it.
      const top = doc.y;
      doc.fillColor(TEXT).text('•', left, top, { lineBreak: false });
      doc.fillColor(absolute ? BLUE : TEXT).text(line.text, left + 12, top, {
        width: width - 12,
        ...(absolute ? { link: url, underline: true } : {}),
      });
      doc.x = left;
      doc.moveDown(0.15);
    }
  };

  heading('1. Completed activities and milestones achieved');
  if (update.completed.length === 0) bullets([], `Nothing recorded in ${update.monthName}.`);
  for (const group of update.completed) {
    subheading(group.heading);
    bullets(group.lines, '');
    if (group.note) doc.font('Helvetica').fontSize(9).fillColor(GREY).text(group.note);
  }
  heading('2. Key issues');
  bullets(update.keyIssues, 'No open issues at the end of the month.');
  heading('3. Outstanding activities and scheduled events');
  subheading('Outstanding activities');
  bullets(update.outstanding, 'No milestones outstanding.');
  subheading('Scheduled events');
  bullets(update.events, 'None scheduled.');
  heading('4. Key risks');
  bullets(update.keyRisks, 'No open risks at the end of the month.');

  doc.addPage({ size: 'A4', layout: 'landscape', margin: 40 });
  doc.font('Helvetica-Bold').fontSize(14).fillColor(BLUE).text(`5. High-level plan as at ${update.asAt}`);
  drawChart(doc, chartLayout(update.plan), 40, doc.y + 10, doc.page.width - 80);
  doc.end();
  return done;
}

/** Draws the chart's shapes at (left, top), scaled to fit `width`. SVG text sits on its baseline; PDF text hangs from its top. */
function drawChart(
  doc: PDFKit.PDFDocument,
  layout: ReturnType<typeof chartLayout>,
  left: number,
  top: number,
  width: number,
): void {
  const scale = Math.min(1, width / layout.width);
  doc.save();
  doc.translate(left, top).scale(scale);
  const text = (s: Extract<Shape, { kind: 'text' }>): void => {
    doc
      .font(s.bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(s.size)
      .fillColor(s.fill ?? TEXT);
    const y = s.y - s.size * 0.8;
    if (s.anchor === 'middle')
      doc.text(s.text, s.x - 60, y, { width: 120, align: 'center', lineBreak: false });
    else doc.text(s.text, s.x, y, { lineBreak: false });
  };
  for (const s of layout.shapes) {
    switch (s.kind) {
      case 'rect':
        doc.rect(s.x, s.y, s.w, s.h);
        if (s.stroke) doc.lineWidth(1).fillAndStroke(s.fill, s.stroke);
        else doc.fill(s.fill);
        break;
      case 'line':
        doc.moveTo(s.x1, s.y1).lineTo(s.x2, s.y2).lineWidth(s.width);
        if (s.dash) doc.dash(5, { space: 4 });
        doc.stroke(s.stroke);
        doc.undash();
        break;
      case 'diamond':
        doc
          .polygon([s.cx, s.cy - s.r], [s.cx + s.r, s.cy], [s.cx, s.cy + s.r], [s.cx - s.r, s.cy])
          .fill(s.fill);
        doc
          .font('Helvetica-Bold')
          .fontSize(s.r)
          .fillColor('#ffffff')
          .text(s.label, s.cx - s.r, s.cy - s.r * 0.4, { width: s.r * 2, align: 'center', lineBreak: false });
        break;
      case 'text':
        text(s);
        break;
    }
  }
  doc.restore();
}
