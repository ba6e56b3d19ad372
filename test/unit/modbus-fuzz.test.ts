/**
 * The Modbus face under random input, in-process over a real line (a `SimEngine` stepping in
 * real time) and real sockets: well-framed requests with random function codes, units and
 * PDU bytes are each answered with one response of the same transaction (a normal response
 * or an exception), and random bytes close their connection; afterwards the face still reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { SimEngine } from '../../sim/worker/engine.ts';
import { asyncApi } from '../../sim/worker/api.ts';
import { openReader } from '../../sim/worker/reader.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { startModbus, type ModbusFace } from '../../sim/protocols/modbus/server.ts';
import { encodeFrame, takeFrame, type Frame } from '../../sim/protocols/modbus/codec.ts';

const FILE = 'test/fixtures/scenarios/kiln-cell.yaml';
let engine: SimEngine;
let face: ModbusFace;
let port: number;
const logged: string[] = [];

beforeAll(async () => {
  const text = readFileSync(FILE, 'utf8');
  engine = new SimEngine({ defer: (fn) => setImmediate(fn) });
  const loaded = engine.load(text, FILE);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  engine.start();
  face = await startModbus({
    spec: parseScenario(text, FILE), api: asyncApi(engine), reader: openReader(engine.shared()), host: '127.0.0.1', port: 0,
    writable: true, allow: null, log: (l) => logged.push(l),
  });
  port = face.port;
});

afterAll(async () => {
  await face?.close();
  engine?.pause();
});

/** Sends `frames` on one connection; the response frames (until `n` came or the connection closed). */
async function exchange(bytes: Buffer, n: number): Promise<{ frames: Frame[]; closed: boolean }> {
  const sock: Socket = connect({ host: '127.0.0.1', port });
  sock.on('error', () => undefined);
  await once(sock, 'connect');
  let buf = Buffer.alloc(0);
  const frames: Frame[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let t = takeFrame(buf); t.kind === 'frame'; t = takeFrame(buf)) {
        frames.push(t.frame);
        buf = buf.subarray(t.size);
      }
      if (frames.length >= n) {
        clearTimeout(timer);
        resolve();
      }
    });
    sock.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve();
    });
  });
  sock.write(bytes);
  await done;
  sock.destroy();
  return { frames, closed };
}

const FUNCTIONS = [1, 2, 3, 4, 5, 6, 15, 16, 43, 7, 8, 17, 0x2b, 0x80, 0];

describe('Modbus face fuzzing', () => {
  it('answers every well-framed request with one response of its transaction, in order', async () => {
    const request = fc.record({
      unit: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 255), fc.integer({ min: 0, max: 255 })),
      fc: fc.oneof(fc.constantFrom(...FUNCTIONS), fc.integer({ min: 0, max: 255 })),
      data: fc.uint8Array({ maxLength: 40 }),
    });
    await fc.assert(fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 20 }), async (reqs) => {
      const bytes = Buffer.concat(reqs.map((r, k) => encodeFrame({ transaction: k, unit: r.unit, pdu: Buffer.from([r.fc, ...r.data]) })));
      const { frames } = await exchange(bytes, reqs.length);
      expect(frames.map((f) => f.transaction)).toEqual(reqs.map((_, k) => k));
      frames.forEach((f, k) => {
        expect(f.unit).toBe(reqs[k]!.unit);
        // the same function code, or it with bit 7 and an exception code
        expect(f.pdu[0]! & 0x7f).toBe(reqs[k]!.fc & 0x7f);
        if ((f.pdu[0]! & 0x80) !== 0) expect([1, 2, 3, 4, 0x0b]).toContain(f.pdu[1]);
      });
    }), { numRuns: 60 });
    expect(logged.filter((l) => l.includes('failed'))).toEqual([]);
  }, 120_000);

  it('closes a connection whose bytes are not Modbus/TCP, and keeps serving', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 7, maxLength: 300 }).filter((a) => a[2] !== 0 || a[3] !== 0), async (a) => {
      const { closed } = await exchange(Buffer.from(a), 1);
      expect(closed).toBe(true);
    }), { numRuns: 40 });
    const { frames } = await exchange(encodeFrame({ transaction: 9, unit: 3, pdu: Buffer.from([4, 0, 0, 0, 2]) }), 1);
    expect(frames[0]?.pdu[0]).toBe(4);
  }, 120_000);
});
