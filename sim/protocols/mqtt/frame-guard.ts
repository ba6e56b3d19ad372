/**
 * A framing guard in front of the broker: it reads each MQTT packet's fixed header (type and
 * remaining length) as the bytes arrive and drops the connection when a packet is larger than
 * allowed, before its body is read, or when a SUBSCRIBE names more topic filters than allowed,
 * before the broker sees any of them (a 10,000-filter SUBSCRIBE once froze the whole host).
 * Everything else passes through unchanged; the broker's parser does the rest.
 */
import { Duplex } from 'node:stream';

/** Why the guard dropped a connection. */
export interface FrameViolation {
  kind: 'packet-size' | 'filters' | 'malformed';
  /** for the audit trail */
  reason: string;
}

/** What the guard enforces. */
export interface FrameLimits {
  /** largest remaining length of a packet [bytes] */
  maxPacketSize: number;
  /** most topic filters in one SUBSCRIBE */
  maxFiltersPerSubscribe: number;
}

const CONNECT = 1;
const SUBSCRIBE = 8;

/**
 * The guard's byte-level state machine, without streams (so it can be fuzzed): `push` hands
 * on what may pass and returns a violation, after which nothing more passes.
 */
export class FrameScanner {
  private state: 'header' | 'body' | 'hold' = 'header';
  private first = 0;
  private headerLen = 0;
  private length = 0;
  private multiplier = 1;
  private need = 0;
  private held: Buffer[] = [];
  private heldLen = 0;
  /** MQTT protocol level from CONNECT (4: 3.1.1, 5: 5.0); SUBSCRIBE is read accordingly */
  private version = 4;
  private broken: FrameViolation | null = null;

  constructor(private readonly limits: FrameLimits) {}

  /** Scans `chunk`; calls `pass` with the bytes that may go on (possibly none). */
  push(chunk: Buffer, pass: (b: Buffer) => void): FrameViolation | null {
    if (this.broken !== null) return this.broken;
    let from = 0; // start of the bytes of this chunk not handed on yet
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'header') {
        const b = chunk[i++]!;
        if (this.headerLen === 0) {
          this.first = b;
          this.headerLen = 1;
          this.length = 0;
          this.multiplier = 1;
          continue;
        }
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.headerLen++;
        if ((b & 0x80) !== 0) {
          if (this.headerLen === 5) return this.fail('malformed', 'remaining length longer than 4 bytes');
          continue;
        }
        this.headerLen = 0;
        if (this.length > this.limits.maxPacketSize) {
          return this.fail('packet-size', `packet of ${this.length} bytes announced; at most ${this.limits.maxPacketSize}`);
        }
        const type = this.first >> 4;
        if ((type === SUBSCRIBE || type === CONNECT) && this.length > 0) {
          // hold the body (at most maxPacketSize) until it can be read whole
          if (i > from) pass(chunk.subarray(from, i));
          from = i;
          this.state = 'hold';
          this.need = this.length;
          this.held = [];
          this.heldLen = 0;
        } else {
          this.state = this.length > 0 ? 'body' : 'header';
          this.need = this.length;
        }
      } else {
        const take = Math.min(this.need, chunk.length - i);
        if (this.state === 'hold') {
          this.held.push(chunk.subarray(i, i + take));
          this.heldLen += take;
        }
        i += take;
        this.need -= take;
        if (this.need > 0) continue;
        if (this.state === 'hold') {
          const body = Buffer.concat(this.held, this.heldLen);
          this.held = [];
          const bad = this.check(body);
          if (bad !== null) return this.fail(bad.kind, bad.reason);
          pass(body);
          from = i;
        }
        this.state = 'header';
      }
    }
    // bytes of a packet being held are in `held`, not passed yet
    if (this.state !== 'hold' && i > from) pass(chunk.subarray(from, i));
    return null;
  }

  private fail(kind: FrameViolation['kind'], reason: string): FrameViolation {
    this.broken = { kind, reason };
    this.held = [];
    return this.broken;
  }

  /** Reads what the guard needs from a whole CONNECT or SUBSCRIBE body. */
  private check(body: Buffer): FrameViolation | null {
    const type = this.first >> 4;
    if (type === CONNECT) {
      // protocol name (length-prefixed), then the protocol level
      const nameLen = body.length >= 2 ? body.readUInt16BE(0) : 0;
      const level = body[2 + nameLen];
      if (level !== undefined) this.version = level;
      return null;
    }
    // SUBSCRIBE: packet id, (MQTT 5) properties, then filters as length-prefixed strings each
    // followed by an options byte; a truncated one is left to the broker's parser
    let p = 2;
    if (this.version === 5) {
      let props = 0;
      let mul = 1;
      for (let k = 0; k < 4 && p < body.length; k++) {
        const b = body[p++]!;
        props += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) break;
      }
      p += props;
    }
    let filters = 0;
    while (p + 2 <= body.length) {
      p += 2 + body.readUInt16BE(p) + 1;
      if (++filters > this.limits.maxFiltersPerSubscribe) {
        // count the rest for the audit trail only: a few hundred kB at most, read once
        while (p + 2 <= body.length) {
          p += 2 + body.readUInt16BE(p) + 1;
          filters++;
        }
        return { kind: 'filters', reason: `SUBSCRIBE with ${filters} topic filters; at most ${this.limits.maxFiltersPerSubscribe}` };
      }
    }
    return null;
  }
}

/** The peer of a connection, for limits and audit entries. */
export interface Peer {
  remoteAddress: string;
  remotePort: number;
}

/**
 * Wraps a connection (TCP socket or WebSocket stream) so the broker reads it through a
 * `FrameScanner`; on a violation the connection is destroyed and `onViolation` called once.
 */
export function guardStream(inner: Duplex, peer: Peer, limits: FrameLimits, onViolation: (v: FrameViolation) => void): Duplex & Peer {
  const scanner = new FrameScanner(limits);
  let paused = false;
  const outer = new Duplex({
    read() {
      if (paused) {
        paused = false;
        inner.resume();
      }
    },
    write(chunk: Buffer, _enc, cb) {
      if (inner.destroyed) return cb();
      if (inner.write(chunk)) cb();
      else inner.once('drain', () => cb());
    },
    final(cb) {
      inner.end();
      cb();
    },
    destroy(err, cb) {
      inner.destroy();
      cb(err);
    },
  });
  inner.on('data', (chunk: Buffer) => {
    const v = scanner.push(chunk, (b) => {
      if (!outer.push(b) && !paused) {
        paused = true;
        inner.pause();
      }
    });
    if (v !== null) {
      onViolation(v);
      inner.destroy();
      outer.destroy();
    }
  });
  inner.on('end', () => outer.push(null));
  inner.on('error', (e) => outer.destroy(e));
  inner.on('close', () => outer.destroy());
  return Object.assign(outer, peer);
}
