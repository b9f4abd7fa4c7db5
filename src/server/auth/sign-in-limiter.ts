/**
 * Throttling of sign-in guesses (OWASP Authentication Cheat Sheet; issue 23, M7). Only
 * failures count, so people signing in behind one proxy never crowd each other out:
 *
 * - **per address**: `maxAddressFailures` failed sign-ins from one client address in the
 *   window, and that address waits (HTTP 429 with `Retry-After`). It says nothing of any
 *   account, so it tells an attacker nothing about which exist.
 * - **per account and address**: `maxPairFailures` failures for one email from one address,
 *   and that address may not try that email again for the window. It is answered exactly as
 *   a wrong password is (same words, same status, a password hash checked all the same), and
 *   counted the same for an email no account has, so it cannot reveal whether one exists;
 *   and it shuts out only the address that failed, so a stranger cannot lock a person out
 *   from their own address.
 *
 * The account-wide lock kept in the store (`user-accounts.ts`) stays as the backstop against
 * guessing spread over many addresses. In memory: one server process serves one warehouse,
 * and a restart forgetting counts is harmless next to that lock. Every map is bounded.
 */
export class SignInLimiter {
  private readonly byAddress = new Map<string, number[]>();
  private readonly byPair = new Map<string, number[]>();

  constructor(
    readonly maxAddressFailures = 20,
    readonly maxPairFailures = 5,
    readonly windowMs = 15 * 60_000,
    /** addresses and account-address pairs remembered at most; the oldest are forgotten first */
    readonly maxKeys = 50_000,
  ) {}

  /** Seconds this address must wait before any sign-in, or 0. */
  addressWait(address: string, now: number = Date.now()): number {
    return this.wait(this.byAddress, address, this.maxAddressFailures, now);
  }

  /** Whether this address has used up its tries at this email for now. */
  pairBlocked(email: string, address: string, now: number = Date.now()): boolean {
    return this.wait(this.byPair, pairKey(email, address), this.maxPairFailures, now) > 0;
  }

  /** Records a failed sign-in. */
  failed(email: string, address: string, now: number = Date.now()): void {
    this.record(this.byAddress, address, now);
    this.record(this.byPair, pairKey(email, address), now);
  }

  /** A successful sign-in clears that address's failures at that email. */
  succeeded(email: string, address: string): void {
    this.byPair.delete(pairKey(email, address));
  }

  private wait(map: Map<string, number[]>, key: string, max: number, now: number): number {
    const recent = (map.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length === 0) {
      map.delete(key);
      return 0;
    }
    map.set(key, recent);
    return recent.length >= max ? Math.ceil(((recent[0] as number) + this.windowMs - now) / 1000) : 0;
  }

  private record(map: Map<string, number[]>, key: string, now: number): void {
    const recent = (map.get(key) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    map.delete(key); // re-inserted last: Map order is then oldest activity first
    map.set(key, recent);
    while (map.size > this.maxKeys) map.delete(map.keys().next().value as string);
  }
}

function pairKey(email: string, address: string): string {
  return `${email.trim().toLowerCase()}\n${address}`;
}
