/**
 * Store-and-forward: every message of an encoding goes through one ordered, bounded queue.
 * While the broker is reachable the queue drains through a window of in-flight publishes;
 * while it is away messages wait, in order, up to a bound of messages and bytes. Only above
 * the bound is anything dropped (oldest first), counted and warned about loudly.
 */

/** How a queued item is published; `done` gets an error if it did not leave. */
export type Deliver<T> = (item: T, done: (err?: Error) => void) => void;

/** Options of an `Outbox`. */
export interface OutboxOptions<T> {
  /** messages kept at most while the broker is away */
  maxMessages: number;
  /** bytes kept at most (sum of `size(item)`) [bytes] */
  maxBytes: number;
  /** publishes in flight at most (QoS 1 waits for PUBACK) */
  window: number;
  size(item: T): number;
  deliver: Deliver<T>;
  /** items whose delivery failed go back to the front; false when the client resends by itself (QoS 1 store) */
  requeueFailed: boolean;
  warn(line: string): void;
}

/** Counters of an outbox. */
export interface OutboxStats {
  /** waiting now */
  queued: number;
  /** bytes waiting now [bytes] */
  queuedBytes: number;
  /** handed to the client and confirmed (QoS 1: acknowledged) */
  sent: number;
  /** dropped because the bound was exceeded */
  dropped: number;
  /** most messages ever waiting at once */
  peak: number;
}

/** An ordered, bounded store-and-forward queue. */
export class Outbox<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  /** handed to the client, not yet confirmed, in sending order; settled ones become holes */
  private inflight: (T | undefined)[] = [];
  private inHead = 0;
  private inCount = 0;
  private pumpQueued = false;
  private online = false;
  private warnedThisOutage = false;
  readonly stats: OutboxStats = { queued: 0, queuedBytes: 0, sent: 0, dropped: 0, peak: 0 };

  constructor(private readonly o: OutboxOptions<T>) {}

  /** Queues `item` behind everything already waiting and sends what the window allows. */
  push(item: T): void {
    this.items.push(item);
    this.bytes += this.o.size(item);
    this.trim();
    this.pump();
  }

  /** The broker is reachable: send what waits, in order. */
  up(): void {
    this.online = true;
    this.warnedThisOutage = false;
    this.pump();
  }

  /** The broker went away: hold everything from now on. */
  down(): void {
    this.online = false;
    if (this.o.requeueFailed && this.inCount > 0) {
      // unconfirmed QoS 0 publishes may have died with the socket: send them again, first
      const back = this.inflight.slice(this.inHead).filter((x): x is T => x !== undefined);
      this.inflight = [];
      this.inHead = 0;
      this.inCount = 0;
      this.compact();
      this.items = [...back, ...this.items];
      for (const b of back) this.bytes += this.o.size(b);
      this.trim();
    }
  }

  /** Removes everything waiting (e.g. data superseded by a rebirth); returns it in order. */
  takeAll(): T[] {
    this.compact();
    const out = this.items as T[];
    this.items = [];
    this.bytes = 0;
    this.update();
    return out;
  }

  /** Nothing waits and nothing is in flight. */
  get idle(): boolean {
    return this.length === 0 && this.inCount === 0;
  }

  private get length(): number {
    return this.items.length - this.head;
  }

  private trim(): void {
    let dropped = 0;
    while (this.length > 0 && (this.length > this.o.maxMessages || this.bytes > this.o.maxBytes)) {
      const it = this.items[this.head] as T;
      this.items[this.head++] = undefined;
      this.bytes -= this.o.size(it);
      dropped++;
    }
    if (dropped > 0) {
      this.stats.dropped += dropped;
      if (!this.warnedThisOutage) {
        this.warnedThisOutage = true;
        this.o.warn(`WARNING: MQTT store-and-forward is full (${this.o.maxMessages} messages / ${this.o.maxBytes} bytes): dropping the oldest messages (${this.stats.dropped} dropped so far)`);
      }
    }
    if (this.head > 4096 && this.head * 2 > this.items.length) this.compact();
    this.update();
  }

  private compact(): void {
    if (this.head > 0) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private update(): void {
    this.stats.queued = this.length;
    this.stats.queuedBytes = this.bytes;
    if (this.length > this.stats.peak) this.stats.peak = this.length;
  }

  private pump(): void {
    while (this.online && this.length > 0 && this.inCount < this.o.window) {
      const it = this.items[this.head] as T;
      this.items[this.head++] = undefined;
      this.bytes -= this.o.size(it);
      this.inflight.push(it);
      this.inCount++;
      this.o.deliver(it, (err) => this.settle(it, err));
    }
    if (this.head > 4096 && this.head * 2 > this.items.length) this.compact();
    this.update();
  }

  private settle(it: T, err: Error | undefined): void {
    // confirmations come in sending order almost always: the head is checked first, so a
    // large window costs O(1) per message, not a search
    const k = this.inflight[this.inHead] === it ? this.inHead : this.inflight.indexOf(it, this.inHead);
    if (k < 0) return; // already put back by down()
    if (err !== undefined && this.o.requeueFailed) return; // down() puts it back in order
    this.inflight[k] = undefined;
    this.inCount--;
    while (this.inHead < this.inflight.length && this.inflight[this.inHead] === undefined) this.inHead++;
    if (this.inHead > 4096 && this.inHead * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inHead);
      this.inHead = 0;
    }
    if (err === undefined) this.stats.sent++;
    // acknowledgements come in bursts (one socket read): refill the window once per burst, so
    // the client writes the new publishes together instead of one write per acknowledgement
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(() => {
        this.pumpQueued = false;
        this.pump();
      });
    }
  }
}
