/**
 * The Modbus/TCP face of real `twinline serve` processes of the kiln cell: one hardened host
 * with Modbus writes enabled, one read-only hardened host that admits only 127.0.0.1. Reads
 * match the line's REST state; a coil write stops the station as an operator's command from
 * `modbus@<address>`; a per-alarm coil acknowledges that alarm only, coil 10 every one; the line refuses a safety limit and an out-of-range setpoint and logs
 * both; a read-only face answers writes with exception 01 and audits them; an address off
 * the allow-list is closed and audited; malformed frames and floods close their connection
 * and leave the host serving. A third-party client (jsmodbus) reads and writes the same map.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import Modbus from 'jsmodbus';
import { startServe, type Ev, type ServeProc } from './serve-proc.ts';
import { waitFor } from './opcua-host.ts';
import { ModbusClient, ModbusError } from '../../security/attacks/clients/modbus.ts';
import { encodeFrame, wordsFloat, wordsInt32 } from '../../sim/protocols/modbus/codec.ts';
import { STATE_NAMES } from '../../sim/plc/packml.ts';
import { KILN } from './attack-harness.ts';

let rw: ServeProc;
let ro: ServeProc;
let rwUrl: URL;
let roUrl: URL;

/** kiln is the third station of the kiln cell: unit 3 */
const UNIT = 3;
/** holding register addresses of the kiln (twinline modbus map) */
let addr: Record<string, number>;

async function modbusUrl(s: ServeProc): Promise<URL> {
  const m = /Modbus\s+(modbus:\/\/\S+)/.exec(s.out());
  if (m === null) throw new Error(`no Modbus endpoint in the banner:\n${s.out()}`);
  return new URL(m[1]!);
}

beforeAll(async () => {
  [rw, ro] = await Promise.all([
    startServe([KILN, '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--modbus-port', '0', '--modbus-write']),
    startServe([KILN, '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--modbus-port', '0', '--modbus-allow', '127.0.0.1']),
  ]);
  rwUrl = await modbusUrl(rw);
  roUrl = await modbusUrl(ro);
  const { modbusMap } = await import('../../sim/protocols/modbus/map.ts');
  const { parseScenario } = await import('../../sim/line/parse.ts');
  const { createWorld } = await import('../../sim/line/build.ts');
  const { readFileSync } = await import('node:fs');
  const spec = parseScenario(readFileSync(KILN, 'utf8'), KILN);
  const kiln = modbusMap(spec, createWorld(spec))[UNIT - 1]!;
  addr = Object.fromEntries(kiln.tables.holding.map((p) => [p.tag, p.address]));
  Object.assign(addr, Object.fromEntries(kiln.tables.input.map((p) => [`in:${p.tag}`, p.address])));
}, 200_000);

afterAll(async () => {
  await Promise.all([rw?.stop(), ro?.stop()]);
});

/** The kiln as REST shows it: state and tags by name. */
async function kilnRest(s: ServeProc): Promise<{ state: string; alarms: number; tags: Record<string, number> }> {
  const line = (await s.call('api/line', {}, 'viewer')).body as { stations: { id: string; tags: { name: string }[] }[] };
  const st = (await s.call('api/state', {}, 'viewer')).body as { stations: { id: string; state: string; alarms: number; tags: number[] }[] };
  const info = line.stations.find((x) => x.id === 'kiln')!;
  const now = st.stations.find((x) => x.id === 'kiln')!;
  return { state: now.state, alarms: now.alarms, tags: Object.fromEntries(info.tags.map((t, k) => [t.name, now.tags[k]!])) };
}

async function withClient<T>(url: URL, fn: (c: ModbusClient) => Promise<T>): Promise<T> {
  const c = await ModbusClient.connect(url, 10_000);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** The exception code a request ends with (null: none). */
async function exceptionOf(p: Promise<unknown>): Promise<number | null> {
  try {
    await p;
    return null;
  } catch (e) {
    if (e instanceof ModbusError) return e.exception;
    throw e;
  }
}

const since = async (s: ServeProc, mark: number): Promise<Ev[]> => (await s.events('instructor')).filter((e) => e.seq > mark);
const lastSeq = async (s: ServeProc): Promise<number> => (await s.events('instructor')).at(-1)?.seq ?? -1;

describe('Modbus/TCP face', () => {
  it('prints the port it took, and reads what the REST state shows', async () => {
    expect(rw.out()).toMatch(/Modbus\s+modbus:\/\/127\.0\.0\.1:\d+\s+\(units 1–4, one per station: twinline modbus map; writable\)/);
    expect(rw.out()).toMatch(/Modbus\/TCP has no authentication/);
    expect(ro.out()).toMatch(/Modbus\s+modbus:\/\/127\.0\.0\.1:\d+\s+\(units 1–4, .*read-only, only from 127\.0\.0\.1\)/);
    expect(Number(rwUrl.port)).toBeGreaterThan(0);
    await withClient(rwUrl, async (c) => {
      const id = await c.deviceId(UNIT);
      expect(id.get(0)).toBe('Twinline');
      expect(id.get(5)).toBe('kiln');
      const rest = await kilnRest(rw);
      const hr = await c.readRegisters(UNIT, 'holding', addr.sp1!, 4);
      expect(wordsFloat(hr[0]!, hr[1]!)).toBe(rest.tags.sp1);
      expect(wordsFloat(hr[2]!, hr[3]!)).toBe(rest.tags.recipe1);
      const zones = await c.readRegisters(UNIT, 'holding', addr.zones!, 2);
      expect(wordsInt32(zones[0]!, zones[1]!)).toBe(rest.tags.zones);
      // the state can move between two reads: compared when REST saw the same state before and after
      const seen = await waitFor('a steady state', async () => {
        const a = (await kilnRest(rw)).state;
        const w = await c.readRegisters(UNIT, 'input', 0, 2);
        return { a, modbus: STATE_NAMES[wordsInt32(w[0]!, w[1]!)], b: (await kilnRest(rw)).state };
      }, (x) => x.a === x.b, 20_000);
      expect(seen.modbus).toBe(seen.a);
      // a zone temperature: the same physics seen through both faces, a moment apart
      const t1 = await c.readRegisters(UNIT, 'input', addr['in:t1']!, 2);
      expect(Math.abs(wordsFloat(t1[0]!, t1[1]!) - (await kilnRest(rw)).tags.t1!)).toBeLessThan(5);
      // outside the map, and past the end of the line
      expect(await exceptionOf(c.readRegisters(UNIT, 'holding', 5000, 2))).toBe(0x02);
      expect(await exceptionOf(c.readRegisters(UNIT, 'holding', 0, 126))).toBe(0x03);
      expect(await exceptionOf(c.readRegisters(9, 'holding', 0, 2))).toBe(0x0b);
      expect(await exceptionOf(c.request(UNIT, Buffer.from([0x11])))).toBe(0x01);
    });
  });

  it('a setpoint write reaches the line as an operator command from modbus@<address>; out of range is refused', async () => {
    const mark = await lastSeq(rw);
    await withClient(rwUrl, async (c) => {
      await c.writeFloat(UNIT, addr.sp1!, 905.5);
      expect(await exceptionOf(c.writeFloat(UNIT, addr.sp1!, 5000))).toBe(0x03);
      // one register of a two-register value is never a whole value
      expect(await exceptionOf(c.writeRegisters(UNIT, addr.sp1!, [0x4480]))).toBe(0x02);
    });
    await waitFor('sp1 on REST', () => kilnRest(rw), (k) => k.tags.sp1 === 905.5, 20_000);
    // the command, the range refusal and the audit entry may reach the log in different drains (every 200 ms)
    const evs = await waitFor('the write, its refusal and the audit in the log', () => since(rw, mark),
      (e) => ['command', 'rejected'].every((t) => e.some((x) => x.type === t && x.data.source === 'modbus'))
        && e.some((x) => x.type === 'audit' && x.data.source === 'modbus' && x.data.action === 'write' && x.data.outcome === 'denied'), 20_000);
    expect(evs).toContainEqual(expect.objectContaining({
      type: 'command', station: 'kiln', data: expect.objectContaining({ command: 'set', source: 'modbus', principal: 'modbus@127.0.0.1', role: 'operator', args: '{"field":"sp1","value":905.5}' }),
    }));
    expect(evs).toContainEqual(expect.objectContaining({ type: 'rejected', data: expect.objectContaining({ source: 'modbus', code: 'OUT_OF_RANGE' }) }));
    expect(evs).toContainEqual(expect.objectContaining({ type: 'audit', data: expect.objectContaining({ source: 'modbus', action: 'write', outcome: 'denied', principal: 'modbus@127.0.0.1' }) }));
  });

  it('a safety limit is not writable by Modbus: exception 04, and the line logs the refusal', async () => {
    const mark = await lastSeq(rw);
    const before = (await kilnRest(rw)).tags.tripTemp;
    expect(await withClient(rwUrl, (c) => exceptionOf(c.writeFloat(UNIT, addr.tripTemp!, 1900)))).toBe(0x04);
    const evs = await waitFor('the refusal in the log', () => since(rw, mark), (e) => e.some((x) => x.type === 'rejected' && x.data.code === 'NOT_AUTHORIZED'), 20_000);
    expect(evs.find((x) => x.type === 'rejected' && x.data.code === 'NOT_AUTHORIZED')?.data).toMatchObject({ source: 'modbus', principal: 'modbus@127.0.0.1', role: 'operator', code: 'NOT_AUTHORIZED' });
    expect((await kilnRest(rw)).tags.tripTemp).toBe(before);
  });

  it('a stop coil stops the station', async () => {
    await waitFor('kiln producing', () => kilnRest(rw), (k) => ['Execute', 'Suspended'].includes(k.state), 60_000);
    await withClient(rwUrl, (c) => c.writeCoil(UNIT, 1, true));
    await waitFor('kiln stopped', () => kilnRest(rw), (k) => k.state === 'Stopped', 30_000);
    const evs = await rw.events('instructor');
    expect(evs).toContainEqual(expect.objectContaining({ type: 'command', station: 'kiln', data: expect.objectContaining({ command: 'stop', source: 'modbus', principal: 'modbus@127.0.0.1' }) }));
    // and the start coil starts it again
    await withClient(rwUrl, async (c) => {
      await c.writeCoil(UNIT, 2, true);
      await waitFor('kiln idle', () => kilnRest(rw), (k) => k.state === 'Idle', 30_000);
      await c.writeCoil(UNIT, 0, true);
    });
    await waitFor('kiln producing again', () => kilnRest(rw), (k) => ['Execute', 'Suspended'].includes(k.state), 30_000);
  });

  it('a per-alarm coil acknowledges that alarm only; coil 10 acknowledges every one', async () => {
    const { ALARM_ACK_COIL_BASE } = await import('../../sim/protocols/modbus/map.ts');
    // two alarms at once: the recipe far below the zone (OVERTEMP, bit 0) and a jam (JAM, bit 27)
    const recipe = (await kilnRest(rw)).tags.recipe1!;
    expect((await rw.command({ target: 'kiln', command: 'set', args: { field: 'recipe1', value: recipe - 300 } }, 'operator')).status).toBe(200);
    expect((await rw.command({ target: 'kiln', command: 'fault', args: { code: 'jam', duration: 600 } }, 'instructor')).status).toBe(200);
    const OVER = 1 << 0;
    const JAM = 1 << 27;
    try {
      await waitFor('OVERTEMP and JAM active', () => kilnRest(rw), (k) => (k.alarms & (OVER | JAM)) === (OVER | JAM), 30_000);
      const mark = await lastSeq(rw);
      await withClient(rwUrl, async (c) => {
        // the map offers the kiln's own alarms and the common ones; a push button reads 0
        expect(await c.readBits(UNIT, 'coil', ALARM_ACK_COIL_BASE, 2)).toEqual([false, false]);
        // an alarm that is not active (WEAR, bit 26) is refused by the line
        expect(await exceptionOf(c.writeCoil(UNIT, ALARM_ACK_COIL_BASE + 26, true))).toBe(0x04);
        // no alarm has bit 5 on a kiln: not mapped
        expect(await exceptionOf(c.writeCoil(UNIT, ALARM_ACK_COIL_BASE + 5, true))).toBe(0x02);
        await c.writeCoil(UNIT, ALARM_ACK_COIL_BASE + 27, true);
      });
      const acked = await waitFor('JAM acknowledged', () => kilnRest(rw), (k) => (k.tags.alarmsAcked! & JAM) !== 0, 20_000);
      expect(acked.tags.alarmsAcked! & OVER).toBe(0);
      const evs = await waitFor('the acknowledgement in the log', () => since(rw, mark), (e) => e.some((x) => x.type === 'alarm-ack'), 20_000);
      expect(evs).toContainEqual(expect.objectContaining({
        type: 'command', station: 'kiln', data: expect.objectContaining({ command: 'ack', source: 'modbus', principal: 'modbus@127.0.0.1', role: 'operator', args: '{"alarm":"JAM"}' }),
      }));
      expect(evs.filter((x) => x.type === 'alarm-ack').map((x) => x.data)).toEqual([expect.objectContaining({ bits: JAM, principal: 'modbus@127.0.0.1' })]);
      expect(evs).toContainEqual(expect.objectContaining({ type: 'rejected', station: 'kiln', data: expect.objectContaining({ source: 'modbus', code: 'NOT_ALLOWED' }) }));
      // acknowledge all
      await withClient(rwUrl, (c) => c.writeCoil(UNIT, 10, true));
      await waitFor('every alarm acknowledged', () => kilnRest(rw), (k) => (k.tags.alarmsAcked! & (OVER | JAM)) === (OVER | JAM), 20_000);
    } finally {
      await rw.command({ target: 'kiln', command: 'set', args: { field: 'recipe1', value: recipe } }, 'operator');
      await rw.command({ target: 'kiln', command: 'repair' }, 'instructor');
    }
  });

  it('a third-party client (jsmodbus) reads and writes the same map', async () => {
    const sock = new (await import('node:net')).Socket();
    const client = new Modbus.client.TCP(sock, UNIT, 10_000);
    sock.connect({ host: rwUrl.hostname, port: Number(rwUrl.port) });
    await once(sock, 'connect');
    try {
      const r = await client.readHoldingRegisters(addr.sp2!, 2);
      const words = [...r.response.body.valuesAsArray];
      expect(wordsFloat(words[0]!, words[1]!)).toBe((await kilnRest(rw)).tags.sp2);
      const coils = await client.readCoils(0, 11);
      expect([...coils.response.body.valuesAsArray].slice(0, 11)).toEqual(Array(11).fill(0));
      const buf = Buffer.alloc(4);
      buf.writeFloatBE(1105);
      await client.writeMultipleRegisters(addr.sp2!, [buf.readUInt16BE(0), buf.readUInt16BE(2)]);
      await waitFor('sp2 written by jsmodbus', () => kilnRest(rw), (k) => k.tags.sp2 === 1105, 20_000);
      const refused = await client.writeMultipleRegisters(addr.tripTemp!, [0x44fa, 0]).then(() => null, (e: { err?: string; response?: { body?: { code?: number } } }) => e);
      expect(refused).toMatchObject({ err: 'ModbusException', response: { body: { code: 4 } } });
    } finally {
      sock.destroy();
    }
  });

  it('read-only: writes are answered with exception 01 and audited; reads work', async () => {
    const mark = await lastSeq(ro);
    const before = await kilnRest(ro);
    await withClient(roUrl, async (c) => {
      const hr = await c.readRegisters(UNIT, 'holding', addr.sp1!, 2);
      expect(wordsFloat(hr[0]!, hr[1]!)).toBe(before.tags.sp1);
      expect(await exceptionOf(c.writeCoil(UNIT, 1, true))).toBe(0x01);
      expect(await exceptionOf(c.writeFloat(UNIT, addr.sp1!, 1000))).toBe(0x01);
    });
    const evs = await waitFor('two audited refusals', () => since(ro, mark), (e) => e.filter((x) => x.type === 'audit' && x.data.action === 'write').length >= 2, 20_000);
    const audits = evs.filter((x) => x.type === 'audit' && x.data.action === 'write');
    expect(audits.map((a) => a.data)).toEqual([
      expect.objectContaining({ source: 'modbus', principal: 'modbus@127.0.0.1', outcome: 'denied', target: 'unit 3 (kiln) coil 000002', reason: expect.stringMatching(/read-only .*exception 01/) }),
      expect.objectContaining({ target: `unit 3 (kiln) holding ${String(400_001 + addr.sp1!).padStart(6, '0')} +2` }),
    ]);
    expect(evs.some((x) => x.data.source === 'modbus' && (x.type === 'command' || x.type === 'rejected'))).toBe(false);
    expect((await kilnRest(ro)).tags.sp1).toBe(before.tags.sp1);
  });

  it('an address off the allow-list is closed at once and audited', async () => {
    const mark = await lastSeq(ro);
    const sock = connect({ host: '127.0.0.1', port: Number(roUrl.port), localAddress: '127.0.0.2' });
    sock.on('error', () => undefined);
    await once(sock, 'close');
    const evs = await waitFor('the refusal audited', () => since(ro, mark), (e) => e.some((x) => x.type === 'audit' && x.data.action === 'connect'), 20_000);
    expect(evs.find((x) => x.type === 'audit' && x.data.action === 'connect')?.data).toMatchObject({
      source: 'modbus', principal: 'modbus@127.0.0.2', outcome: 'denied', reason: expect.stringMatching(/not in the Modbus allow-list/),
    });
  });

  it('malformed frames close their connection, floods are bounded, and the host keeps serving', async () => {
    const mark = await lastSeq(rw);
    const closes = async (bytes: Buffer): Promise<void> => {
      const sock: Socket = connect({ host: rwUrl.hostname, port: Number(rwUrl.port) });
      sock.on('error', () => undefined);
      await once(sock, 'connect');
      sock.write(bytes);
      await once(sock, 'close');
    };
    // not Modbus (protocol id 1), a length past 254, an HTTP request
    await closes(Buffer.from([0, 1, 0, 1, 0, 6, 3, 3, 0, 0, 0, 2]));
    await closes(Buffer.from([0, 1, 0, 0, 0x10, 0, 3]));
    await closes(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    // random bytes: each connection is answered or closed, never the host
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (a) => {
      const sock = connect({ host: rwUrl.hostname, port: Number(rwUrl.port) });
      sock.on('error', () => undefined);
      sock.on('data', () => undefined);
      await once(sock, 'connect');
      sock.end(Buffer.from(a));
      await once(sock, 'close');
    }), { numRuns: 60 });
    // 200 pipelined reads in one write: every answer comes, in order
    const sock = connect({ host: rwUrl.hostname, port: Number(rwUrl.port) });
    await once(sock, 'connect');
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    sock.write(Buffer.concat(Array.from({ length: 200 }, (_, k) => encodeFrame({ transaction: k, unit: UNIT, pdu: Buffer.from([3, 0, addr.sp1!, 0, 2]) }))));
    await waitFor('200 answers', () => got.length, (n) => n >= 200 * 13, 30_000);
    expect(Array.from({ length: 200 }, (_, k) => got.readUInt16BE(13 * k))).toEqual(Array.from({ length: 200 }, (_, k) => k));
    sock.destroy();
    // more connections from one address than the face allows: the surplus is closed at once
    const many: { sock: Socket; closed: boolean }[] = [];
    for (let k = 0; k < 17; k++) {
      const m = { sock: connect({ host: rwUrl.hostname, port: Number(rwUrl.port) }), closed: false };
      m.sock.on('error', () => undefined);
      m.sock.on('close', () => (m.closed = true));
      many.push(m);
      await once(m.sock, 'connect');
    }
    await waitFor('the surplus connection closed', () => many.filter((m) => m.closed).length, (n) => n >= 1, 10_000);
    // the 16 still open are served
    const open = many.filter((m) => !m.closed);
    expect(open.length).toBe(16);
    for (const m of many) m.sock.destroy();
    // the host still serves: REST and a fresh Modbus client
    expect((await rw.call('api/state', {}, 'viewer')).status).toBe(200);
    const hr = await withClient(rwUrl, (c) => c.readRegisters(UNIT, 'holding', addr.sp1!, 2));
    expect(wordsFloat(hr[0]!, hr[1]!)).toBe((await kilnRest(rw)).tags.sp1);
    // audits reach the run's log through the simulation worker, so wait for both, not the first one
    const surplus = (x: Ev): boolean => x.type === 'audit' && x.data.action === 'connect' && x.data.outcome === 'denied';
    const evs = await waitFor('malformed frames and the surplus connection audited', () => since(rw, mark), (e) => e.some((x) => x.type === 'audit' && x.data.action === 'frame') && e.some(surplus), 20_000);
    expect(evs.find((x) => x.type === 'audit' && x.data.action === 'frame')?.data).toMatchObject({ source: 'modbus', outcome: 'denied', reason: expect.stringMatching(/connection closed: protocol id 1 is not Modbus/) });
    expect(evs).toContainEqual(expect.objectContaining({ type: 'audit', data: expect.objectContaining({ action: 'connect', outcome: 'denied', reason: expect.stringMatching(/has 16 connections open/) }) }));
    expect(rw.proc.exitCode).toBeNull();
  });
});
