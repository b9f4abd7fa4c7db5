/**
 * An A4 PDF being written (pdfkit), and the promise of its bytes: every document Kernel
 * prints (invoices, the monthly update, sign-off packs) starts here, so each says only what
 * it draws.
 */
import PDFDocument from 'pdfkit';

export interface PdfInfo {
  Title: string;
  Subject?: string;
}

export function pdfDocument(
  info: PdfInfo,
  margin: number,
): { doc: PDFKit.PDFDocument; done: Promise<Buffer> } {
  const doc = new PDFDocument({ size: 'A4', margin, info: { ...info, Author: 'Kernel' } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  return { doc, done };
}
