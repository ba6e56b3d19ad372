/**
 * The host's alerts: appended to `alerts.ndjson` in the run's folder as they are raised (with
 * synchronous writes, like the rest of the run's record) and kept in a ring for
 * `GET /api/alerts`. Both are bounded: the ring holds `ringSize` alerts, the file takes at most
 * `maxFileAlerts` lines and then one line saying how many more were raised (they are counted,
 * and still served from the ring).
 *
 * An alert in the ring can be acknowledged once (`POST /api/alerts/ack`): who and when. Each
 * acknowledgement has a sequence number, so a page that polls the alerts incrementally also
 * learns of acknowledgements made by others (`acks` newer than the one it passes); they leave
 * with their alert when it leaves the ring.
 */
import { CappedLog } from '../../sim/host/run-log.ts';
import { join } from 'node:path';
import type { Alert } from './engine.ts';

/** Who acknowledged an alert, and when. */
export interface AlertAck {
  id: number;
  /** the principal that acknowledged it (`user@peer`) */
  by: string;
  /** [ms since the epoch] */
  ms: number;
  /** 1, 2, … in the order of acknowledgement */
  seq: number;
}

/** An alert as served: with its acknowledgement, or null. */
export type ServedAlert = Alert & { ack: AlertAck | null };

/** One page of `GET /api/alerts`. */
export interface AlertPage {
  /** alerts with id > since, oldest first */
  alerts: ServedAlert[];
  /** pass as `since` for the next page */
  next: number;
  /** alerts raised since the host started */
  raised: number;
  /** alerts no longer in the ring (they are in the file, up to its cap) */
  dropped: number;
  /** the detector families that run ([] when detectors are off) */
  detectors: string[];
  file: string | null;
  /** acknowledgements with seq > the `acks` asked for, oldest first (of alerts still in the ring) */
  acks: AlertAck[];
  /** pass as `acks` for the next page */
  ackNext: number;
}

/** See the module comment. */
export class AlertLog {
  private readonly ring: Alert[] = [];
  private readonly acks = new Map<number, AlertAck>();
  private ackSeq = 0;
  private readonly log: CappedLog;
  raised = 0;
  readonly file: string;

  constructor(dir: string, readonly detectors: string[], private readonly ringSize = 1000, maxFileAlerts = 100_000) {
    this.file = join(dir, 'alerts.ndjson');
    this.log = new CappedLog(this.file, maxFileAlerts, 'moreAlerts');
  }

  /**
   * Records alerts (to disk first, then to the ring); raised while the range's attack `run` was
   * going on, they are marked with it and their time from its start.
   */
  add(raised: readonly Alert[], run: { run: number; attack: string; startedAtMs: number } | null = null): void {
    if (raised.length === 0) return;
    const alerts = run === null ? raised : raised.map((a) => ({ ...a, during: { ...run, ttdMs: Math.max(0, a.alertMs - run.startedAtMs) } }));
    this.log.writeAll(alerts);
    this.raised += alerts.length;
    this.ring.push(...alerts);
    if (this.ring.length > this.ringSize) {
      for (const gone of this.ring.splice(0, this.ring.length - this.ringSize)) this.acks.delete(gone.id);
    }
  }

  /**
   * Alerts with id > since (at most `limit`) and whose alert time is ≥ `fromMs`, and the
   * acknowledgements with seq > `ackSince` (at most `limit`).
   */
  page(since: number, limit: number, fromMs = 0, ackSince = 0): AlertPage {
    const alerts = this.ring.filter((a) => a.id > since && a.alertMs >= fromMs).slice(0, limit).map((a) => ({ ...a, ack: this.acks.get(a.id) ?? null }));
    // the map holds them in the order they were made
    const acks: AlertAck[] = [];
    for (const a of this.acks.values()) {
      if (a.seq > ackSince) acks.push(a);
      if (acks.length >= limit) break;
    }
    return {
      alerts, next: alerts[alerts.length - 1]?.id ?? since, raised: this.raised,
      dropped: this.raised - this.ring.length, detectors: this.detectors, file: this.file,
      acks, ackNext: acks[acks.length - 1]?.seq ?? ackSince,
    };
  }

  /**
   * Acknowledges alert `id` for `by` at `ms`: its acknowledgement (the first one, if it was
   * acknowledged before), or null when the ring does not hold it.
   */
  ack(id: number, by: string, ms: number): { ack: AlertAck; first: boolean } | null {
    const had = this.acks.get(id);
    if (had !== undefined) return { ack: had, first: false };
    if (!this.ring.some((a) => a.id === id)) return null;
    const ack: AlertAck = { id, by, ms, seq: ++this.ackSeq };
    this.acks.set(id, ack);
    return { ack, first: true };
  }

  close(): void {
    this.log.close();
  }
}
