/**
 * Per-client limits of the embedded broker and the small counters that enforce them: one
 * client (or one peer address) must never be able to starve the others or the host. Refusals
 * that cost an attacker nothing (a connection, a header) are audited at most once per period
 * and key, with the number left out, so a flood cannot flood the audit trail too.
 */
import { capMap } from '../../host/cap.ts';

/** Limits of the embedded broker; every one has a default (`BROKER_LIMITS`). */
export interface BrokerLimits {
  /**
   * largest MQTT packet a client may send [bytes of remaining length] (default 256 KiB). Checked on
   * the fixed header, before the body is read: a larger packet drops the connection.
   */
  maxPacketSize: number;
  /** most topic filters in one SUBSCRIBE (default 100); more drop the connection before the broker sees it */
  maxFiltersPerSubscribe: number;
  /** most subscriptions a client holds at once (default 1,000); further filters are refused (SUBACK 0x80) */
  maxSubscriptions: number;
  /** most incoming QoS 2 messages of a client awaiting PUBREL (default 100); more drop the connection */
  maxInflightQos2: number;
  /** most open connections from one peer address (default 50); more are closed on accept */
  maxConnectionsPerPeer: number;
  /** shortest time between two Sparkplug rebirths a client may ask for [ms] (default 5,000); more are ignored */
  rebirthIntervalMs: number;
  /** a refusal of one kind from one peer is audited at most once per this period [ms] (default 5,000) */
  auditEveryMs: number;
}

/** The defaults of `BrokerLimits`. */
export const BROKER_LIMITS: Readonly<BrokerLimits> = {
  maxPacketSize: 256 * 1024,
  maxFiltersPerSubscribe: 100,
  maxSubscriptions: 1000,
  maxInflightQos2: 100,
  maxConnectionsPerPeer: 50,
  rebirthIntervalMs: 5000,
  auditEveryMs: 5000,
};

/** keys a counter remembers at most (oldest dropped first): bounded memory under a flood of peers */
const MAX_KEYS = 10_000;

/** Open connections per peer address. */
export class PeerCounter {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts a new connection; false (and not counted) when the peer has `max` open already. */
  enter(peer: string): boolean {
    const n = this.open.get(peer) ?? 0;
    if (n >= this.max) return false;
    this.open.set(peer, n + 1);
    return true;
  }

  /** Counts a connection of `peer` closed. */
  leave(peer: string): void {
    const n = (this.open.get(peer) ?? 1) - 1;
    if (n <= 0) this.open.delete(peer);
    else this.open.set(peer, n);
  }

  /** connections open from `peer` */
  count(peer: string): number {
    return this.open.get(peer) ?? 0;
  }
}

/**
 * At most one event per key per interval (Sparkplug rebirth requests per client): `take`
 * says whether this one may go ahead, and whether a refusal is the first of its interval
 * (to audit it once).
 */
export class RateGate {
  private readonly last = new Map<string, { at: number; refused: boolean }>();

  constructor(private readonly intervalMs: number, private readonly now: () => number = Date.now) {}

  take(key: string): { ok: true } | { ok: false; first: boolean; waitMs: number } {
    const t = this.now();
    const e = this.last.get(key);
    if (e !== undefined && t - e.at < this.intervalMs) {
      const first = !e.refused;
      e.refused = true;
      return { ok: false, first, waitMs: this.intervalMs - (t - e.at) };
    }
    this.last.delete(key);
    this.last.set(key, { at: t, refused: false });
    capMap(this.last, MAX_KEYS);
    return { ok: true };
  }
}
