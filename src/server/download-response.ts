/**
 * A file the browser saves rather than shows (RFC 6266 `attachment`: under this name), and
 * never keeps in a cache: invoices, sign-off packs, released outputs and sealed files all
 * hold what only the person who asked may read.
 */
export function download(
  body: ConstructorParameters<typeof Response>[0],
  file: {
    type: string;
    name: string;
    /** the digest the file was checked or sealed under, for the receiver to compare */
    sha256?: string;
  },
): Response {
  return new Response(body, {
    headers: {
      'Content-Type': file.type,
      'Content-Disposition': `attachment; filename="${file.name}"`,
      'Cache-Control': 'no-store',
      ...(file.sha256 === undefined ? {} : { 'X-Content-SHA256': file.sha256 }),
    },
  });
}
