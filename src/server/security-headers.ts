import { randomBytes } from 'node:crypto';

/** A fresh nonce per response (CSP Level 3 §7.4: unguessable, never reused). */
export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

/**
 * The headers every response carries. The Content Security Policy allows only our own
 * origin and scripts bearing this response's nonce (no 'unsafe-inline'), and forbids
 * framing twice over: `frame-ancestors 'none'` (CSP) and `X-Frame-Options: DENY` (RFC 7034)
 * for browsers without CSP 2.
 */
export function securityHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'self'",
      `script-src 'self' 'nonce-${nonce}'`,
      // A document that must carry its own <style> (a printable letter) marks it with the nonce.
      `style-src 'self' 'nonce-${nonce}'`,
      "img-src 'self' data:",
      "font-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}
