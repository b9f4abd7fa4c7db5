/**
 * Rate limit on sign-in attempts per client address (OWASP Authentication Cheat Sheet:
 * throttle guessing, alongside the per-account lock-out in user-accounts.ts). In memory:
 * one server process serves one warehouse, and a restart forgetting counts is harmless
 * next to the lock-out, which is kept in the store.
 */
export class SignInLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    readonly maxAttempts = 10,
    readonly windowMs = 5 * 60_000,
  ) {}

  /** Records an attempt; answers how many seconds to wait, or 0 when it may go ahead. */
  attempt(client: string, now: number = Date.now()): number {
    const recent = (this.attempts.get(client) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.maxAttempts) {
      this.attempts.set(client, recent);
      return Math.ceil(((recent[0] as number) + this.windowMs - now) / 1000);
    }
    recent.push(now);
    this.attempts.set(client, recent);
    if (this.attempts.size > 10_000) this.prune(now);
    return 0;
  }

  private prune(now: number): void {
    for (const [client, times] of this.attempts) {
      if (times.every((t) => now - t >= this.windowMs)) this.attempts.delete(client);
    }
  }
}
