/**
 * The page to go to after sign-in: a path on this site, or `/`. The WHATWG URL parser that
 * browsers use drops tabs and line breaks inside a URL and reads `\` as `/`, so `/\t/evil.example`
 * and `/\evil.example` would leave the site (issue 23, M6), and a line break would split the
 * `Location` header (the 500 of issue 23's low findings). Any control character, space or
 * backslash therefore gives `/`, and what is left must stay on this origin when resolved.
 */
export function safeNext(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 2000) return '/';
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(raw)) return '/';
  if (!/^\/(?!\/)/.test(raw)) return '/';
  const base = 'http://kernel.invalid';
  try {
    return new URL(raw, base).origin === base ? raw : '/';
  } catch {
    return '/';
  }
}
