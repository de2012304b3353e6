// Slows down token guessing: a client address that presents too many wrong credentials (API tokens,
// source tokens, PagerDuty routing keys) within a window is answered 429 for a while, whatever it
// sends, so a correct guess cannot show itself. Other addresses are not affected.
//
// Memory is bounded: entries expire, and past `maxEntries` the least recently touched one goes, so
// an attacker cycling through addresses cannot grow the map without limit.
import type { Clock } from '../shared/clock.js';

export interface AuthLimiterOptions {
  /** Failures within `windowMs` that block an address. */
  maxFailures: number;
  windowMs: number;
  /** How long a blocked address is answered 429. */
  blockMs: number;
  /** Most addresses tracked at once. */
  maxEntries: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimiterOptions = {
  maxFailures: 10,
  windowMs: 60_000,
  blockMs: 5 * 60_000,
  maxEntries: 10_000,
};

interface Entry {
  /** Start of the current counting window. */
  windowStart: number;
  failures: number;
  /** 0: not blocked. */
  blockedUntil: number;
}

export type LimitCheck = { blocked: false } | { blocked: true; retryAfterS: number };

export class AuthFailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: AuthLimiterOptions;

  constructor(
    private readonly clock: Clock,
    opts: Partial<AuthLimiterOptions> = {},
  ) {
    this.opts = { ...DEFAULT_AUTH_LIMITS, ...opts };
  }

  /** Whether `address` is blocked now; asked before any credential is compared. */
  check(address: string): LimitCheck {
    const e = this.entries.get(address);
    if (e === undefined) return { blocked: false };
    const now = this.clock.now();
    if (e.blockedUntil > now) return { blocked: true, retryAfterS: Math.ceil((e.blockedUntil - now) / 1000) };
    if (e.blockedUntil !== 0 || now - e.windowStart >= this.opts.windowMs) this.entries.delete(address);
    return { blocked: false };
  }

  /** Records a wrong credential from `address`; returns whether the address is now blocked. */
  fail(address: string): boolean {
    const now = this.clock.now();
    let e = this.entries.get(address);
    if (e !== undefined) this.entries.delete(address);
    if (e === undefined || now - e.windowStart >= this.opts.windowMs || (e.blockedUntil !== 0 && e.blockedUntil <= now)) {
      e = { windowStart: now, failures: 0, blockedUntil: 0 };
    }
    e.failures++;
    if (e.failures >= this.opts.maxFailures && e.blockedUntil === 0) e.blockedUntil = now + this.opts.blockMs;
    // Re-inserted last: the Map's order is the order of last touch, oldest first.
    this.entries.set(address, e);
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return e.blockedUntil > now;
  }

  /** Addresses tracked (for tests and metrics). */
  size(): number {
    return this.entries.size;
  }
}
