/**
 * Back-off for failed logins, shared by every face (REST, OPC UA, MQTT): after a few free
 * failures from one peer address (or against one user name), further attempts are refused
 * for a time that doubles with each failure, up to a ceiling. A success clears the count.
 * Memory is bounded: the oldest keys are forgotten first. The clock is injectable for tests.
 */
import { capMap } from './cap.ts';

/** Options of a `LoginGuard`. */
export interface LoginGuardOptions {
  /** failures allowed before the first back-off (per key) */
  free?: number;
  /**
   * failures allowed for keys starting with `peer:` (default 4 × free): one address may be a
   * classroom behind one router, so it gets more room than one user name before it backs off
   */
  peerFree?: number;
  /** first back-off [ms]; doubles with each further failure */
  baseMs?: number;
  /** longest back-off [ms] */
  maxMs?: number;
  /** failures are forgotten after this long without one [ms] */
  forgetMs?: number;
  /** keys remembered at most (oldest dropped first) */
  maxKeys?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  last: number;
  until: number;
}

/** See the module comment. */
export class LoginGuard {
  private readonly o: Required<LoginGuardOptions>;
  private readonly keys = new Map<string, Entry>();

  constructor(o: LoginGuardOptions = {}) {
    const free = o.free ?? 5;
    this.o = { free, peerFree: 4 * free, baseMs: 1000, maxMs: 30_000, forgetMs: 15 * 60_000, maxKeys: 10_000, now: Date.now, ...o };
  }

  /** How long [ms] attempts for these keys stay refused; 0 = an attempt may go ahead. */
  blockedFor(...keys: string[]): number {
    const now = this.o.now();
    let wait = 0;
    for (const k of keys) {
      const e = this.keys.get(k);
      if (e !== undefined && e.until > now) wait = Math.max(wait, e.until - now);
    }
    return wait;
  }

  /** Records a failed attempt against each key. */
  failed(...keys: string[]): void {
    const now = this.o.now();
    for (const k of keys) {
      let e = this.keys.get(k);
      if (e === undefined || now - e.last > this.o.forgetMs) e = { failures: 0, last: now, until: 0 };
      else this.keys.delete(k); // re-inserted below: Map order is then least recently failed first
      e.failures++;
      e.last = now;
      const over = e.failures - (k.startsWith('peer:') ? this.o.peerFree : this.o.free);
      if (over > 0) e.until = now + Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.min(over - 1, 30));
      this.keys.set(k, e);
    }
    capMap(this.keys, this.o.maxKeys);
  }

  /** Clears the keys after a successful login. */
  succeeded(...keys: string[]): void {
    for (const k of keys) this.keys.delete(k);
  }

  /** keys remembered now */
  get size(): number {
    return this.keys.size;
  }
}
