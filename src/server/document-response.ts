/**
 * A printable HTML document the browser shows as it is, outside the portal's page layout
 * (an invoice, a subscription letter, a monthly update), and never keeps in a cache: each
 * holds what only the person who asked may read.
 */
export function htmlDocument(body: string): Response {
  return new Response(body, {
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}
