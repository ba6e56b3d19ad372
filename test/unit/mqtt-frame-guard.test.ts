// The embedded broker's framing guard and limit counters, without a broker: any split of a
// stream of allowed packets passes through byte for byte; an oversized packet or an
// overlong SUBSCRIBE is refused before its body passes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameScanner } from '../../sim/protocols/mqtt/frame-guard.ts';
import { PeerCounter, RateGate } from '../../sim/protocols/mqtt/limits.ts';
import { packet, str, varint } from '../../security/attacks/clients/mqtt-raw.ts';

const LIMITS = { maxPacketSize: 4096, maxFiltersPerSubscribe: 5 };


function connect(level: 4 | 5): Buffer {
  const props = level === 5 ? [0] : [];
  return packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([level, 0x02, 0, 60, ...props]), str('c1')]));
}

function subscribe(filters: string[], level: 4 | 5 = 4, props: number[] = []): Buffer {
  const head = level === 5 ? [0, 7, ...varint(props.length), ...props] : [0, 7];
  return packet(0x82, Buffer.concat([Buffer.from(head), ...filters.map((f) => Buffer.concat([str(f), Buffer.from([1])]))]));
}

/** Feeds `chunks`; returns what passed and the violation, if any. */
function scan(chunks: Buffer[], limits = LIMITS): { passed: Buffer; violation: ReturnType<FrameScanner['push']> } {
  const s = new FrameScanner(limits);
  const out: Buffer[] = [];
  let violation: ReturnType<FrameScanner['push']> = null;
  for (const c of chunks) {
    violation = s.push(c, (b) => out.push(Buffer.from(b)));
    if (violation !== null) break;
  }
  return { passed: Buffer.concat(out), violation };
}

/** `whole` cut at the given points. */
function cut(whole: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (whole.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...at, whole.length]) {
    out.push(whole.subarray(from, p));
    from = p;
  }
  return out;
}

/** Packets a client of protocol `level` may send. */
const allowedPacket = (level: 4 | 5): fc.Arbitrary<Buffer> => fc.oneof(
  // PUBLISH, PUBACK, PINGREQ, UNSUBSCRIBE, DISCONNECT … with any body up to the limit
  fc.tuple(fc.constantFrom(0x30, 0x32, 0x40, 0xa2, 0xc0, 0xe0), fc.uint8Array({ maxLength: 300 })).map(([f, b]) => packet(f, b)),
  fc.tuple(fc.constantFrom(0x30, 0x31), fc.integer({ min: 3000, max: LIMITS.maxPacketSize })).map(([f, n]) => packet(f, new Uint8Array(n))),
  fc.tuple(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: LIMITS.maxFiltersPerSubscribe }), fc.uint8Array({ maxLength: 200 }))
    .map(([fs, props]) => subscribe(fs, level, level === 5 ? [...props] : [])),
);

describe('framing guard', () => {
  it('passes any split of allowed packets through unchanged', () => {
    const stream = fc.constantFrom<4 | 5>(4, 5).chain((level) => fc.tuple(fc.constant(level), fc.array(allowedPacket(level), { maxLength: 12 })));
    fc.assert(fc.property(stream, fc.array(fc.nat(), { maxLength: 20 }), ([level, packets], points) => {
      const whole = Buffer.concat([connect(level), ...packets]);
      const { passed, violation } = scan(cut(whole, points));
      expect(violation).toBeNull();
      expect(passed.equals(whole)).toBe(true);
    }), { numRuns: 300 });
  });

  it('refuses a packet announced larger than the limit on its header, before any of its body', () => {
    fc.assert(fc.property(fc.integer({ min: LIMITS.maxPacketSize + 1, max: 268_435_455 }), fc.array(fc.nat(), { maxLength: 8 }), (size, points) => {
      const head = Buffer.concat([connect(4), subscribe(['a/b'])]);
      // only the header and a little of the body: the guard must not wait for the rest
      const whole = Buffer.concat([head, Buffer.from([0x30, ...varint(size)]), Buffer.alloc(64, 7)]);
      const { passed, violation } = scan(cut(whole, points));
      expect(violation?.kind).toBe('packet-size');
      expect(violation?.reason).toContain(`${size} bytes`);
      expect(passed.length).toBeLessThanOrEqual(head.length + 5);
    }), { numRuns: 200 });
  });

  it('counts the filters of a SUBSCRIBE (3.1.1 and 5, with properties) and refuses one too many before the broker sees any', () => {
    for (const level of [4, 5] as const) {
      const ok = scan([connect(level), subscribe(['a', 'b', 'c', 'd', 'e'], level, level === 5 ? [0x0b, 3] : [])]);
      expect(ok.violation).toBeNull();
      const head = connect(level);
      const bad = scan(cut(Buffer.concat([head, subscribe(['a', 'b', 'c', 'd', 'e', 'f'], level, level === 5 ? [0x0b, 3] : [])]), [head.length + 3, head.length + 9]));
      expect(bad.violation).toEqual({ kind: 'filters', reason: 'SUBSCRIBE with 6 topic filters; at most 5' });
      // the SUBSCRIBE's header may have passed, none of its body
      expect(bad.passed.length).toBeLessThanOrEqual(head.length + 2);
    }
  });

  it('a 10,000-filter SUBSCRIBE is refused at once, whatever the split', () => {
    const filters = Array.from({ length: 10_000 }, (_, i) => `t/${i}`);
    const whole = Buffer.concat([connect(4), subscribe(filters)]);
    const t0 = performance.now();
    const r = scan(cut(whole, [10, 500, 40_000]), { maxPacketSize: 256 * 1024, maxFiltersPerSubscribe: 100 });
    expect(r.violation?.reason).toBe('SUBSCRIBE with 10000 topic filters; at most 100');
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('a remaining length of more than four bytes is malformed; nothing passes after a violation', () => {
    const s = new FrameScanner(LIMITS);
    expect(s.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => undefined)?.kind).toBe('malformed');
    let passed = 0;
    expect(s.push(Buffer.from([0xc0, 0]), () => passed++)?.kind).toBe('malformed');
    expect(passed).toBe(0);
  });
});

describe('limit counters', () => {
  it('PeerCounter refuses the connection over the limit and counts closes', () => {
    const c = new PeerCounter(2);
    expect([c.enter('x'), c.enter('x'), c.enter('x'), c.enter('y')]).toEqual([true, true, false, true]);
    c.leave('x');
    expect(c.enter('x')).toBe(true);
    expect(c.count('x')).toBe(2);
  });

  it('RateGate allows one per interval per key; a refusal is first once per interval', () => {
    let now = 0;
    const g = new RateGate(5000, () => now);
    expect(g.take('c1')).toEqual({ ok: true });
    expect(g.take('c1')).toEqual({ ok: false, first: true, waitMs: 5000 });
    now = 1000;
    expect(g.take('c1')).toEqual({ ok: false, first: false, waitMs: 4000 });
    expect(g.take('c2').ok).toBe(true);
    now = 5000;
    expect(g.take('c1')).toEqual({ ok: true });
  });
});
