/**
 * Modbus/TCP framing and the register map: MBAP headers checked before the body is awaited,
 * 32-bit values high word first, bits LSB first, Read Device Identification, and a map in
 * which every station's tags have one address each and a write must cover whole values.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import {
  deviceIdPdu, encodeFrame, exceptionOf, exceptionPdu, floatWords, int32Words, packBits, parseDeviceId, takeFrame, unpackBits, wordsFloat, wordsInt32,
} from '../../sim/protocols/modbus/codec.ts';
import { COMMAND_COILS, modbusMap, pointsIn, reference } from '../../sim/protocols/modbus/map.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { modbusFromFlags } from '../../sim/protocols/modbus/flags.ts';
import { modbusCommand } from '../../sim/protocols/modbus/cli.ts';
import { PassThrough } from 'node:stream';

describe('Modbus/TCP codec', () => {
  it('frames a PDU with the MBAP header and reads it back', () => {
    const bytes = encodeFrame({ transaction: 0x1234, unit: 3, pdu: Buffer.from([3, 0, 20, 0, 2]) });
    expect([...bytes]).toEqual([0x12, 0x34, 0, 0, 0, 6, 3, 3, 0, 20, 0, 2]);
    const t = takeFrame(Buffer.concat([bytes, Buffer.from([0xff])]));
    expect(t).toMatchObject({ kind: 'frame', size: 12, frame: { transaction: 0x1234, unit: 3 } });
    if (t.kind === 'frame') expect([...t.frame.pdu]).toEqual([3, 0, 20, 0, 2]);
  });

  it('waits for a partial frame and refuses a bad header before the body arrives', () => {
    expect(takeFrame(Buffer.from([0, 1, 0, 0, 0]))).toEqual({ kind: 'partial' });
    expect(takeFrame(Buffer.from([0, 1, 0, 0, 0, 6, 1, 3]))).toEqual({ kind: 'partial' });
    expect(takeFrame(Buffer.from([0, 1, 0, 7, 0, 6, 1]))).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/protocol id 7/) });
    // a length past the 253-byte PDU is refused on the header alone
    expect(takeFrame(Buffer.from([0, 1, 0, 0, 0xff, 0xff, 1]))).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/length 65535/) });
    expect(takeFrame(Buffer.from([0, 1, 0, 0, 0, 1, 1]))).toMatchObject({ kind: 'malformed' });
  });

  it('never throws on arbitrary bytes: a frame, partial or malformed, and a frame never overruns', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (a) => {
      const t = takeFrame(Buffer.from(a));
      if (t.kind === 'frame') expect(t.size).toBeLessThanOrEqual(a.length);
    }), { numRuns: 2000 });
  });

  it('puts 32-bit values high word first and reads writes back as the decimal sent', () => {
    expect(floatWords(1100)).toEqual([0x4489, 0x8000]);
    expect(wordsFloat(0x4489, 0x8000)).toBe(1100);
    expect(wordsFloat(...floatWords(900.1))).toBe(900.1);
    expect(int32Words(-2)).toEqual([0xffff, 0xfffe]);
    expect(wordsInt32(0xffff, 0xfffe)).toBe(-2);
    expect(int32Words(70_000)).toEqual([1, 70_000 - 65_536]);
    expect(Number.isNaN(wordsFloat(0x7fc0, 0))).toBe(true);
    fc.assert(fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
      expect(Math.fround(wordsFloat(...floatWords(x)))).toBe(Math.fround(x));
    }));
  });

  it('packs bits LSB first', () => {
    expect([...packBits([true, false, true, false, false, false, false, false, true])]).toEqual([0b101, 1]);
    expect(unpackBits(Buffer.from([0b101, 1]), 9)).toEqual([true, false, true, false, false, false, false, false, true]);
  });

  it('answers exceptions with bit 7 set, and encodes Read Device Identification', () => {
    expect([...exceptionPdu(16, 2)]).toEqual([0x90, 2]);
    expect(exceptionOf(Buffer.from([0x90, 2]))).toBe(2);
    expect(exceptionOf(Buffer.from([3, 2, 0, 0]))).toBeNull();
    const objects = new Map([[0, 'Twinline'], [1, 'TL-kiln'], [2, '0.1.0'], [4, 'PLC'], [6, 'kiln']]);
    const basic = deviceIdPdu(1, 0, objects);
    expect([...basic.subarray(0, 7)]).toEqual([43, 14, 1, 0x82, 0, 0, 3]);
    expect(parseDeviceId(basic)).toEqual(new Map([[0, 'Twinline'], [1, 'TL-kiln'], [2, '0.1.0']]));
    expect(parseDeviceId(deviceIdPdu(2, 0, objects))).toEqual(objects);
    expect(parseDeviceId(deviceIdPdu(4, 6, objects))).toEqual(new Map([[6, 'kiln']]));
    expect(parseDeviceId(Buffer.from([43, 14, 1, 0x82, 0, 0, 1, 0, 9, 65]))).toBe('truncated object');
  });
});

describe('Modbus register map', () => {
  const file = 'test/fixtures/scenarios/kiln-cell.yaml';
  const spec = parseScenario(readFileSync(file, 'utf8'), file);
  const units = modbusMap(spec, createWorld(spec));
  const kiln = units.find((u) => u.station === 'kiln')!;

  it('gives each station a unit id of its own, in scenario order', () => {
    expect(units.map((u) => [u.unit, u.station])).toEqual([[1, 'src'], [2, 'belt'], [3, 'kiln'], [4, 'out']]);
  });

  it('maps commands to coils, setpoints to holding registers, readings to input registers, each address once', () => {
    expect(kiln.tables.coil.slice(0, COMMAND_COILS.length).map((p) => p.tag)).toEqual([...COMMAND_COILS]);
    expect(kiln.tables.input[0]).toMatchObject({ tag: 'state', address: 0, type: 'int32' });
    const sp1 = kiln.tables.holding.find((p) => p.tag === 'sp1')!;
    expect(sp1).toMatchObject({ type: 'float32', unit: '°C', access: 'rw', write: 'operator', size: 2 });
    expect(kiln.tables.holding.find((p) => p.tag === 'tripTemp')).toMatchObject({ write: 'safety' });
    expect(kiln.tables.coil.find((p) => p.tag === 'preheated')).toMatchObject({ type: 'bool', address: 100 });
    expect(reference(sp1)).toBe(String(400_001 + sp1.address).padStart(6, '0'));
    for (const u of units) {
      for (const t of ['coil', 'discrete', 'input', 'holding'] as const) {
        const seen = new Set<number>();
        for (const p of u.tables[t]) for (let k = 0; k < p.size; k++) {
          expect(seen.has(p.address + k)).toBe(false);
          seen.add(p.address + k);
        }
      }
      // every tag the MQTT and OPC UA faces publish is here, once
      const tags = u.points.filter((p) => p.type !== 'command').map((p) => p.tag);
      expect(new Set(tags).size).toBe(tags.length);
      expect(tags).toEqual(expect.arrayContaining(['state', 'mode', 'fault', 'alarms', 'power']));
    }
  });

  it('lets a read cover part of a value, and a write only whole values', () => {
    const sp1 = kiln.tables.holding.find((p) => p.tag === 'sp1')!;
    expect(pointsIn(kiln, 'holding', sp1.address + 1, 2, false)?.map((p) => p.tag)).toEqual(['sp1', 'recipe1']);
    expect(pointsIn(kiln, 'holding', sp1.address + 1, 2, true)).toBeNull();
    expect(pointsIn(kiln, 'holding', sp1.address, 1, true)).toBeNull();
    expect(pointsIn(kiln, 'holding', sp1.address, 4, true)?.map((p) => p.tag)).toEqual(['sp1', 'recipe1']);
    // past the end, or across the gap between command coils and boolean coils
    expect(pointsIn(kiln, 'holding', 0, 1000, false)).toBeNull();
    expect(pointsIn(kiln, 'coil', 0, 101, false)).toBeNull();
  });
});

describe('Modbus serve flags', () => {
  it('is off without a port; read-only under hardened unless --modbus-write; writable under open', () => {
    expect(modbusFromFlags({}, 'hardened')).toBeNull();
    expect(modbusFromFlags({ 'modbus-port': '0' }, 'hardened')).toEqual({ port: 0, writable: false, allow: null });
    expect(modbusFromFlags({ 'modbus-port': '5020', 'modbus-write': true }, 'hardened')).toEqual({ port: 5020, writable: true, allow: null });
    expect(modbusFromFlags({ 'modbus-port': '0' }, 'open')).toMatchObject({ writable: true });
    expect(modbusFromFlags({ 'modbus-port': '0', 'modbus-read-only': true }, 'open')).toMatchObject({ writable: false });
    expect(modbusFromFlags({ 'modbus-port': '0', 'modbus-allow': ['127.0.0.1, ::1', '10.0.0.9'] }, 'hardened')).toMatchObject({ allow: ['127.0.0.1', '::1', '10.0.0.9'] });
  });

  it('says what is wrong with bad flags', () => {
    expect(() => modbusFromFlags({ 'modbus-write': true }, 'hardened')).toThrow(/--modbus-write needs --modbus-port N/);
    expect(() => modbusFromFlags({ 'modbus-port': '70000' }, 'hardened')).toThrow(/--modbus-port 70000 is not a port/);
    expect(() => modbusFromFlags({ 'modbus-port': '0', 'modbus-allow': ['plc.example'] }, 'hardened')).toThrow(/--modbus-allow plc.example is not an IP address/);
    expect(() => modbusFromFlags({ 'modbus-port': '0', 'modbus-write': true, 'modbus-read-only': true }, 'open')).toThrow(/exclude each other/);
  });
});

describe('twinline modbus map', () => {
  const run = (argv: string[]): string => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    expect(modbusCommand(argv, { stdout: out })).toBe(0);
    return text;
  };

  it('prints one table per unit with address, reference, tag, type, unit, scale and access', () => {
    const text = run(['map', 'test/fixtures/scenarios/kiln-cell.yaml']);
    expect(text).toMatch(/^unit 3 {2}kiln \(kiln\)$/m);
    expect(text).toMatch(/^coil +1 +000002 +stop +command +1 +w \(operator\)$/m);
    expect(text).toMatch(/^holding +\d+ +4\d{5} +tripTemp +float32 +°C +1 +rw \(safety limit\)$/m);
    expect(text).toMatch(/^input +0 +300001 +state +int32 +1 +r$/m);
  });

  it('gives the same map as JSON', () => {
    const body = JSON.parse(run(['map', 'test/fixtures/scenarios/kiln-cell.yaml', '--json'])) as { scenario: string; units: { unit: number; station: string; points: { tag: string; reference: string; table: string }[] }[] };
    expect(body.scenario).toBe('kiln-cell');
    expect(body.units.map((u) => u.station)).toEqual(['src', 'belt', 'kiln', 'out']);
    expect(body.units[2]!.points.find((p) => p.tag === 'sp1')).toMatchObject({ table: 'holding', reference: expect.stringMatching(/^4\d{5}$/) });
  });
});
