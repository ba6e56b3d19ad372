/**
 * The attacker's Modbus/TCP client: a plain `node:net` socket speaking the frames of
 * `sim/protocols/modbus/codec.ts` (the bytes the specification gives; nothing of the face's
 * own code). Modbus has no login, so the client needs nothing but the address; it connects to
 * the checked, pinned address of the target only. One request at a time, each with its own
 * transaction id and a deadline.
 *
 * Modbus carries no names: what a register means comes from the device's published register
 * map, found by its model (Read Device Identification). `publishedMap` is that document for
 * a Twinline PLC model, as `twinline modbus map` prints it for anyone with the software.
 */
import { connect, type Socket } from 'node:net';
import {
  encodeFrame, EX_NAMES, exceptionOf, FC, floatWords, MEI_DEVICE_ID, parseDeviceId, takeFrame, unpackBits, wordsFloat, wordsInt32, type Frame,
} from '../../../sim/protocols/modbus/codec.ts';
import { modbusMap, type UnitMap } from '../../../sim/protocols/modbus/map.ts';
import { createWorld } from '../../../sim/line/build.ts';
import { parseScenario } from '../../../sim/line/parse.ts';

/** An exception response (or a failure to get any response). */
export class ModbusError extends Error {
  constructor(
    /** the exception code, or null when there was no response (closed, timed out) */
    readonly exception: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** `exception 01 (illegal function)`. */
export function exceptionText(code: number): string {
  return `exception ${code.toString(16).padStart(2, '0')} (${EX_NAMES[code] ?? 'unknown'})`;
}

/** What an error says, for evidence. */
export function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** See the module comment. */
export class ModbusClient {
  private buf: Buffer = Buffer.alloc(0);
  private tid = 0;
  private waiting: { tid: number; resolve: (f: Frame) => void; reject: (e: Error) => void } | null = null;
  private closed: Error | null = null;

  private constructor(private readonly sock: Socket, private readonly timeoutMs: number) {
    sock.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        const t = takeFrame(this.buf);
        if (t.kind === 'partial') return;
        if (t.kind === 'malformed') return this.fail(new ModbusError(null, `the server sent a malformed frame: ${t.reason}`));
        this.buf = this.buf.subarray(t.size);
        const w = this.waiting;
        if (w !== null && t.frame.transaction === w.tid) {
          this.waiting = null;
          w.resolve(t.frame);
        }
      }
    });
    sock.on('error', (e) => this.fail(new ModbusError(null, `connection error: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    sock.on('close', () => this.fail(new ModbusError(null, 'the server closed the connection')));
  }

  /** Connects to `modbus://host:port` (default port 502). */
  static connect(url: URL, timeoutMs = 5000): Promise<ModbusClient> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? 502 : Number(url.port);
    return new Promise((resolve, reject) => {
      const sock = connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ModbusError(null, `no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.setNoDelay(true);
        resolve(new ModbusClient(sock, timeoutMs));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new ModbusError(null, `cannot connect to ${host}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      });
    });
  }

  private fail(e: Error): void {
    this.closed ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }

  /** Sends a request PDU to `unit`; the response PDU, or a `ModbusError` (exception or no answer). */
  async request(unit: number, pdu: Buffer): Promise<Buffer> {
    if (this.closed !== null) throw this.closed;
    this.tid = (this.tid + 1) & 0xffff;
    const tid = this.tid;
    const frame = await new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new ModbusError(null, `no answer from unit ${unit} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting = {
        tid,
        resolve: (f) => (clearTimeout(timer), resolve(f)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.sock.write(encodeFrame({ transaction: tid, unit, pdu }));
    });
    const ex = exceptionOf(frame.pdu);
    if (ex !== null) throw new ModbusError(ex, exceptionText(ex));
    return frame.pdu;
  }

  /** Registers `start …` of the holding (FC 3) or input (FC 4) table. */
  async readRegisters(unit: number, table: 'holding' | 'input', start: number, count: number): Promise<number[]> {
    const r = await this.read(unit, table === 'holding' ? FC.readHoldingRegisters : FC.readInputRegisters, start, count);
    const out: number[] = [];
    for (let k = 0; k < count; k++) out.push(r.readUInt16BE(2 + 2 * k));
    return out;
  }

  /** Bits `start …` of the coils (FC 1) or discrete inputs (FC 2). */
  async readBits(unit: number, table: 'coil' | 'discrete', start: number, count: number): Promise<boolean[]> {
    const r = await this.read(unit, table === 'coil' ? FC.readCoils : FC.readDiscreteInputs, start, count);
    return unpackBits(r.subarray(2), count);
  }

  /** A read request (FC 1–4) of `count` items from `start`; the answer's PDU. */
  private read(unit: number, fc: number, start: number, count: number): Promise<Buffer> {
    const pdu = Buffer.alloc(5);
    pdu[0] = fc;
    pdu.writeUInt16BE(start, 1);
    pdu.writeUInt16BE(count, 3);
    return this.request(unit, pdu);
  }

  /** FC 5: one coil on or off. */
  async writeCoil(unit: number, address: number, on: boolean): Promise<void> {
    const pdu = Buffer.alloc(5);
    pdu[0] = FC.writeSingleCoil;
    pdu.writeUInt16BE(address, 1);
    pdu.writeUInt16BE(on ? 0xff00 : 0, 3);
    await this.request(unit, pdu);
  }

  /** FC 16: registers from `start`. */
  async writeRegisters(unit: number, start: number, words: readonly number[]): Promise<void> {
    const pdu = Buffer.alloc(6 + 2 * words.length);
    pdu[0] = FC.writeMultipleRegisters;
    pdu.writeUInt16BE(start, 1);
    pdu.writeUInt16BE(words.length, 3);
    pdu[5] = 2 * words.length;
    words.forEach((w, k) => pdu.writeUInt16BE(w, 6 + 2 * k));
    await this.request(unit, pdu);
  }

  /** FC 16: a float32 (two registers, high word first) at `address`. */
  writeFloat(unit: number, address: number, value: number): Promise<void> {
    return this.writeRegisters(unit, address, floatWords(value));
  }

  /** FC 43/14: device identification, regular category (objects 0–6). */
  async deviceId(unit: number): Promise<Map<number, string>> {
    const r = await this.request(unit, Buffer.from([FC.mei, MEI_DEVICE_ID, 2, 0]));
    const objects = parseDeviceId(r);
    if (typeof objects === 'string') throw new ModbusError(null, objects);
    return objects;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve();
      this.sock.once('close', () => resolve());
      this.sock.end();
      setTimeout(() => this.sock.destroy(), 1000).unref();
    });
  }
}

/** A float32 from two registers, high word first. */
export const registersFloat = (hi: number, lo: number): number => wordsFloat(hi, lo);

/** A device found by a unit scan. */
export interface Device {
  unit: number;
  vendor: string;
  /** product code, e.g. `TL-kiln` */
  product: string;
  revision: string;
  /** model: the machine kind */
  model: string;
  /** user application name: `<station> @ <line>` */
  name: string;
}

/** highest unit id a Modbus/TCP gateway routes */
export const MAX_UNIT = 247;

/** Device identification of every unit that answers (1…247), in unit order. */
export async function scanUnits(c: ModbusClient): Promise<Device[]> {
  const out: Device[] = [];
  for (let unit = 1; unit <= MAX_UNIT; unit++) {
    try {
      const id = await c.deviceId(unit);
      out.push({ unit, vendor: id.get(0) ?? '', product: id.get(1) ?? '', revision: id.get(2) ?? '', model: id.get(5) ?? '', name: id.get(6) ?? '' });
    } catch (e) {
      // 0x0B: no device behind this unit id; anything else is a device that does not identify itself
      if (!(e instanceof ModbusError) || e.exception === null) throw e;
    }
  }
  return out;
}

/** The device of a station (its application name starts with the station id), or undefined. */
export function deviceOf(devices: readonly Device[], station: string): Device | undefined {
  return devices.find((d) => d.name.split(' @ ')[0] === station);
}

/** The published register map of a Twinline PLC model (a machine kind), or null for a model it does not know. */
export function publishedMap(model: string): UnitMap | null {
  if (!/^[a-z][a-z-]*$/.test(model)) return null;
  const text = `version: 1
id: model
title: { en: model, zh: model }
isa95: { enterprise: e, site: s, area: a, line: l }
stations:
  - { id: in, kind: source, at: { x: 0, z: 0, rotation: 0 }, next: dev }
  - { id: dev, kind: ${model}, at: { x: 4, z: 0, rotation: 0 }, next: out, reject: out }
  - { id: out, kind: sink, at: { x: 8, z: 0, rotation: 0 } }
`;
  try {
    const spec = parseScenario(text, `${model}.yaml`);
    return modbusMap(spec, createWorld(spec))[1] ?? null;
  } catch {
    return null;
  }
}

/** Reads every point of a unit's holding and input registers as the map decodes them: tag → value. */
export async function readTags(c: ModbusClient, unit: number, map: UnitMap): Promise<{ holding: Record<string, number>; input: Record<string, number> }> {
  const out = { holding: {} as Record<string, number>, input: {} as Record<string, number> };
  for (const table of ['holding', 'input'] as const) {
    const points = map.tables[table];
    const end = points.reduce((m, p) => Math.max(m, p.address + p.size), 0);
    for (let start = 0; start < end; start += 120) {
      const words = await c.readRegisters(unit, table, start, Math.min(120, end - start));
      for (const p of points.filter((x) => x.address >= start && x.address < start + words.length)) {
        const hi = words[p.address - start]!;
        const lo = words[p.address - start + 1]!;
        out[table][p.tag] = p.type === 'float32' ? wordsFloat(hi, lo) : wordsInt32(hi, lo);
      }
    }
  }
  return out;
}

/** The unit of `station` and its published map, or why they cannot be found. */
export async function locate(c: ModbusClient, station: string): Promise<{ device: Device; map: UnitMap } | string> {
  const d = deviceOf(await scanUnits(c), station);
  if (d === undefined) return `no unit identifies itself as ${station}`;
  const map = publishedMap(d.model);
  return map === null ? `unit ${d.unit}: no published map for model ${d.model}` : { device: d, map };
}
