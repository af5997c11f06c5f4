/**
 * Slows down password guessing through the web sign-in: after
 * FREE_FAILURES failed attempts for one user name from one address within
 * WINDOW_MS, further attempts are refused until a delay (doubling per
 * failure, at most MAX_DELAY_MS) has passed since the last failure. A
 * success clears the record. Per process and in memory: good enough to
 * make online guessing slow, not a distributed lockout.
 */
export const FREE_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;
const BASE_DELAY_MS = 2_000;
const MAX_DELAY_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Failures {
  count: number;
  firstMs: number;
  lastMs: number;
}

export class SignInThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds to wait before `username` may try again from `ip`; 0 when it may try now. */
  waitMs(username: string, ip: string): number {
    const f = this.current(key(username, ip));
    if (!f || f.count < FREE_FAILURES) return 0;
    const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (f.count - FREE_FAILURES));
    return Math.max(0, f.lastMs + delay - this.now());
  }

  failed(username: string, ip: string): void {
    const k = key(username, ip);
    const now = this.now();
    const f = this.current(k);
    if (f) {
      f.count += 1;
      f.lastMs = now;
      return;
    }
    if (this.failures.size >= MAX_ENTRIES) this.prune();
    this.failures.set(k, { count: 1, firstMs: now, lastMs: now });
  }

  succeeded(username: string, ip: string): void {
    this.failures.delete(key(username, ip));
  }

  private current(k: string): Failures | undefined {
    const f = this.failures.get(k);
    if (f && this.now() - f.firstMs > WINDOW_MS) {
      this.failures.delete(k);
      return undefined;
    }
    return f;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, f] of this.failures) if (now - f.firstMs > WINDOW_MS) this.failures.delete(k);
    // Still full (an attack from many addresses): forget the oldest half rather than grow without bound.
    if (this.failures.size >= MAX_ENTRIES) {
      let drop = this.failures.size / 2;
      for (const k of this.failures.keys()) {
        if (drop-- <= 0) break;
        this.failures.delete(k);
      }
    }
  }
}

function key(username: string, ip: string): string {
  return `${username.toLowerCase()}\u0000${ip}`;
}
