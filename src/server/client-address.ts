import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** The TCP peer's address; 'local' when the app is called in-process (tests). */
export function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
}

/**
 * The client's address: the TCP peer, unless the peer is one of `trustedProxies` (the
 * `trustedProxies` setting), when it is the last address in `X-Forwarded-For` that is not
 * itself a trusted proxy (RFC 7239 §5.2: each proxy appends the address it heard from, so
 * only the entries our own proxies added can be believed; the rest a client could write).
 */
export function clientAddress(c: Context, trustedProxies: readonly string[] = []): string {
  const peer = peerAddress(c);
  if (trustedProxies.length === 0 || !trustedProxies.includes(unmapped(peer))) return peer;
  const forwarded = (c.req.header('X-Forwarded-For') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i -= 1) {
    const address = forwarded[i] as string;
    if (!trustedProxies.includes(unmapped(address))) return address;
  }
  return peer;
}

/** An IPv4 address as IPv4, whether or not the socket reported it IPv6-mapped. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** Whether the peer is this machine (RFC 1122 §3.2.1.3 127/8; RFC 4291 ::1). */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
