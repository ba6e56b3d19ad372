/**
 * The Modbus/TCP face: the legacy way into the stations' PLCs, on `node:net`. Modbus has no
 * authentication, so the face cannot tell who writes: every write is a line command with
 * `source: 'modbus'`, principal `modbus@<peer address>` and the role `operator`, and the line
 * decides it as it decides any operator's (a safety limit is refused, an out-of-range value
 * too) and logs it. What the face can do instead is mitigate: it serves only when asked, is
 * read-only unless writes are enabled (the `hardened` default), admits only listed peer
 * addresses when a list is given, and audits every write it refuses. The register map is in
 * `map.ts`; framing in `codec.ts`.
 *
 * Bounded against any client: connections per peer address and in all, the MBAP length (a
 * PDU of at most 253 bytes, checked on the header), requests queued per connection (reading
 * pauses while the queue is full), unread bytes per connection, and idle connections. A
 * frame that is not Modbus/TCP closes its connection, never the host.
 *
 * Observations for the detectors, per connection and reported at 1, 2, 4, 8 … (audit entries
 * with a `count`, so a scan costs a handful of entries): the unit ids asked for their device
 * identification (`identify`: a unit scan names every id) and the read requests (`read`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AuditEntry, Command, CommandResult } from '../../core/commands.ts';
import type { World } from '../../core/world.ts';
import { AuditThrottle } from '../../host/audit-throttle.ts';
import { listen } from '../../host/ports.ts';
import { twinlineVersion } from '../../host/record.ts';
import type { LineSpec } from '../../line/types.ts';
import type { AsyncApi, SimApi } from '../../worker/api.ts';
import { PeerCounter } from '../mqtt/limits.ts';
import {
  deviceIdPdu, encodeFrame, EX, EX_NAMES, exceptionPdu, FC, floatWords, int32Words, MAX_READ_BITS, MAX_READ_REGISTERS,
  MAX_WRITE_BITS, MAX_WRITE_REGISTERS, MEI_DEVICE_ID, packBits, takeFrame, unpackBits, wordsFloat, wordsInt32, type Frame,
} from './codec.ts';
import { modbusMap, pointsIn, reference, type Point, type Table, type UnitMap } from './map.ts';

/** Limits of the face; every one has a default (`MODBUS_LIMITS`). */
export interface ModbusLimits {
  /** open connections from one peer address (default 16; PLCs allow a handful) */
  maxConnectionsPerPeer: number;
  /** open connections in all (default 128) */
  maxConnections: number;
  /** requests a connection may have waiting (default 16); reading pauses beyond */
  maxPipeline: number;
  /** unread bytes a connection may hold (default 64 KiB); more close it */
  maxBuffered: number;
  /** a connection that sends nothing this long is closed [ms] (default 120 s) */
  idleMs: number;
  /** a refusal of one kind from one peer is audited at most once per this period [ms] (default 5 s) */
  auditEveryMs: number;
}

/** The defaults of `ModbusLimits`. */
export const MODBUS_LIMITS: Readonly<ModbusLimits> = {
  maxConnectionsPerPeer: 16, maxConnections: 128, maxPipeline: 16, maxBuffered: 64 * 1024, idleMs: 120_000, auditEveryMs: 5000,
};

/** a peer's accepted connections are audited at most once per this period [ms] */
const CONNECT_AUDIT_MS = 60_000;

/** Options of `startModbus`. */
export interface ModbusOptions {
  spec: LineSpec;
  api: AsyncApi<SimApi>;
  /** a reader over the line's shared buffer */
  reader: World;
  host: string;
  /** 0: a free port */
  port: number;
  /** writes reach the line (else every write is refused with exception 01 and audited) */
  writable: boolean;
  /** peer addresses admitted; null: any */
  allow: readonly string[] | null;
  limits?: Partial<ModbusLimits>;
  log(line: string): void;
  /** incident response (sim/host/containment.ts): why writes are refused now (the face is isolated), or null */
  gate?: { writes(): string | null };
}

/** A running face. */
export interface ModbusFace {
  /** `modbus://host:port` */
  url: string;
  port: number;
  writable: boolean;
  units: number;
  close(): Promise<void>;
}

/** A peer address as the allow-list and principals name it (IPv4-mapped IPv6 as IPv4). */
export function peerAddress(raw: string | undefined): string {
  const a = raw ?? '?';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** What a request handler gets. */
interface Ctx {
  o: ModbusOptions;
  units: readonly UnitMap[];
  /** `modbus@<address>` */
  principal: string;
  address: string;
  audit(key: string, a: Omit<AuditEntry, 'source' | 'principal'>): void;
  /** an observation of this connection's use, unthrottled (its caller reports milestones only) */
  observe(a: Omit<AuditEntry, 'source' | 'principal'>): void;
  /** device identification of the gateway itself (unit 0 or 255) */
  gatewayId: ReadonlyMap<number, string>;
  /** what this connection asked so far: unit ids identified, read requests */
  seen: { units: Set<number>; reads: number };
}

/** Function codes that read. */
const READS: ReadonlySet<number> = new Set([FC.readCoils, FC.readDiscreteInputs, FC.readHoldingRegisters, FC.readInputRegisters]);

const isMilestone = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Counts what a request asks (a unit's identity, a read) and reports the connection's milestones. */
function observe(ctx: Ctx, f: Frame, fc: number): void {
  if (fc === FC.mei && !ctx.seen.units.has(f.unit)) {
    ctx.seen.units.add(f.unit);
    const n = ctx.seen.units.size;
    if (isMilestone(n)) ctx.observe({ action: 'identify', outcome: 'allowed', target: `unit ${f.unit}`, reason: `device identification of ${n} unit id${n === 1 ? '' : 's'} on this connection`, count: n });
  } else if (READS.has(fc)) {
    const n = ++ctx.seen.reads;
    if (isMilestone(n)) ctx.observe({ action: 'read', outcome: 'allowed', target: `unit ${f.unit}`, reason: `${n} read request${n === 1 ? '' : 's'} on this connection`, count: n });
  }
}

/** A response PDU, or an exception code. */
type Answer = Buffer | number;

const u16 = (pdu: Buffer, at: number): number => pdu.readUInt16BE(at);

function unitOf(ctx: Ctx, unit: number): UnitMap | null {
  return ctx.units[unit - 1] ?? null;
}

/** Raw values of `points` of station `s`, read in one consistent pass. */
function readValues(ctx: Ctx, s: number, points: readonly Point[]): number[] {
  const r = ctx.o.reader;
  const out = r.readConsistent(() => points.map((p) => (p.type === 'command' ? 0 : r.read(s, p.tag)))).value;
  return [...out];
}

function readBits(ctx: Ctx, u: UnitMap, table: Table, pdu: Buffer): Answer {
  if (pdu.length !== 5) return EX.illegalDataValue;
  const start = u16(pdu, 1);
  const count = u16(pdu, 3);
  if (count < 1 || count > MAX_READ_BITS) return EX.illegalDataValue;
  const points = pointsIn(u, table, start, count, false);
  if (points === null) return EX.illegalDataAddress;
  const values = readValues(ctx, u.index, points);
  const bytes = packBits(values.map((v) => v !== 0 && !Number.isNaN(v)));
  return Buffer.concat([Buffer.from([pdu[0]!, bytes.length]), bytes]);
}

function readRegisters(ctx: Ctx, u: UnitMap, table: Table, pdu: Buffer): Answer {
  if (pdu.length !== 5) return EX.illegalDataValue;
  const start = u16(pdu, 1);
  const count = u16(pdu, 3);
  if (count < 1 || count > MAX_READ_REGISTERS) return EX.illegalDataValue;
  const points = pointsIn(u, table, start, count, false);
  if (points === null) return EX.illegalDataAddress;
  const values = readValues(ctx, u.index, points);
  const words: number[] = [];
  points.forEach((p, k) => words.push(...(p.type === 'float32' ? floatWords(values[k]!) : int32Words(values[k]!))));
  const first = start - points[0]!.address;
  const out = Buffer.alloc(2 + 2 * count);
  out[0] = pdu[0]!;
  out[1] = 2 * count;
  for (let k = 0; k < count; k++) out.writeUInt16BE(words[first + k]!, 2 + 2 * k);
  return out;
}

/** The line's verdict as an exception: a value it will not take is 03, anything else it refuses 04. */
function verdict(r: CommandResult): number | null {
  if (r.ok) return null;
  return r.code === 'OUT_OF_RANGE' || r.code === 'BAD_ARGUMENT' ? EX.illegalDataValue : EX.serverDeviceFailure;
}

function where(u: UnitMap, p: Pick<Point, 'table' | 'address'> & { tag?: string }): string {
  return `unit ${u.unit} (${u.station}) ${p.table} ${reference(p)}${p.tag === undefined ? '' : ` ${p.tag}`}`;
}

/** Refuses a write by the face itself, audited (at most once per period per peer and target). */
function refuseWrite(ctx: Ctx, target: string, code: number, reason: string): number {
  ctx.audit(`write:${target}:${code}`, { action: 'write', outcome: 'denied', target, reason: `${reason} (exception ${code.toString(16).padStart(2, '0')} ${EX_NAMES[code] ?? ''})` });
  return code;
}

function send(ctx: Ctx, u: UnitMap, command: string, args?: Command['args']): Promise<CommandResult> {
  return ctx.o.api.send({ target: u.station, command, ...(args === undefined ? {} : { args }), source: 'modbus', principal: ctx.principal, role: 'operator' });
}

/** Sends what writing `value` to point `p` means; an exception code, or null when the line took it. */
async function writePoint(ctx: Ctx, u: UnitMap, p: Point, value: number): Promise<number | null> {
  if (p.type === 'command') return value === 0 ? null : verdict(await (p.alarm === undefined ? send(ctx, u, p.tag) : send(ctx, u, 'ack', { alarm: p.alarm })));
  if (!Number.isFinite(value)) return refuseWrite(ctx, where(u, p), EX.illegalDataValue, `${p.tag} = ${value} is not a finite number`);
  return verdict(await send(ctx, u, 'set', { field: p.tag, value }));
}

/** Checks that writes are on at all and the points exist; an exception code when not. */
function writable(ctx: Ctx, u: UnitMap, table: Table, start: number, count: number): Point[] | number {
  const target = `${where(u, { table, address: start })}${count > 1 ? ` +${count}` : ''}`;
  if (!ctx.o.writable) return refuseWrite(ctx, target, EX.illegalFunction, 'the Modbus face is read-only (serve --modbus-write enables writes)');
  const shut = ctx.o.gate?.writes() ?? null;
  if (shut !== null) return refuseWrite(ctx, target, EX.illegalFunction, shut);
  const points = pointsIn(u, table, start, count, true);
  if (points === null) return refuseWrite(ctx, target, EX.illegalDataAddress, 'no writable point there (twinline modbus map)');
  const ro = points.find((p) => p.access === 'r');
  if (ro !== undefined) return refuseWrite(ctx, where(u, ro), EX.illegalDataAddress, `${ro.tag} is read-only`);
  return points;
}

async function writeSingleCoil(ctx: Ctx, u: UnitMap, pdu: Buffer): Promise<Answer> {
  if (pdu.length !== 5) return EX.illegalDataValue;
  const value = u16(pdu, 3);
  if (value !== 0xff00 && value !== 0) return EX.illegalDataValue;
  const points = writable(ctx, u, 'coil', u16(pdu, 1), 1);
  if (typeof points === 'number') return points;
  const ex = await writePoint(ctx, u, points[0]!, value === 0 ? 0 : 1);
  return ex ?? Buffer.from(pdu);
}

async function writeMultipleCoils(ctx: Ctx, u: UnitMap, pdu: Buffer): Promise<Answer> {
  if (pdu.length < 6) return EX.illegalDataValue;
  const start = u16(pdu, 1);
  const count = u16(pdu, 3);
  if (count < 1 || count > MAX_WRITE_BITS || pdu[5] !== Math.ceil(count / 8) || pdu.length !== 6 + pdu[5]!) return EX.illegalDataValue;
  const points = writable(ctx, u, 'coil', start, count);
  if (typeof points === 'number') return points;
  const bits = unpackBits(pdu.subarray(6), count);
  // in address order, as a PLC applies them; the first refusal ends the request
  for (let k = 0; k < points.length; k++) {
    const ex = await writePoint(ctx, u, points[k]!, bits[points[k]!.address - start] === true ? 1 : 0);
    if (ex !== null) return ex;
  }
  return pdu.subarray(0, 5);
}

async function writeRegisters(ctx: Ctx, u: UnitMap, pdu: Buffer, start: number, words: readonly number[]): Promise<Answer> {
  const points = writable(ctx, u, 'holding', start, words.length);
  if (typeof points === 'number') return points;
  for (const p of points) {
    const hi = words[p.address - start]!;
    const lo = words[p.address - start + 1]!;
    const ex = await writePoint(ctx, u, p, p.type === 'float32' ? wordsFloat(hi, lo) : wordsInt32(hi, lo));
    if (ex !== null) return ex;
  }
  return pdu[0] === FC.writeSingleRegister ? Buffer.from(pdu) : pdu.subarray(0, 5);
}

function writeSingleRegister(ctx: Ctx, u: UnitMap, pdu: Buffer): Promise<Answer> {
  // every value is two registers: one register alone is never a whole value (exception 02, audited)
  if (pdu.length !== 5) return Promise.resolve(EX.illegalDataValue);
  return writeRegisters(ctx, u, pdu, u16(pdu, 1), [u16(pdu, 3)]);
}

function writeMultipleRegisters(ctx: Ctx, u: UnitMap, pdu: Buffer): Promise<Answer> {
  if (pdu.length < 6) return Promise.resolve(EX.illegalDataValue);
  const count = u16(pdu, 3);
  if (count < 1 || count > MAX_WRITE_REGISTERS || pdu[5] !== 2 * count || pdu.length !== 6 + 2 * count) return Promise.resolve(EX.illegalDataValue);
  const words: number[] = [];
  for (let k = 0; k < count; k++) words.push(u16(pdu, 6 + 2 * k));
  return writeRegisters(ctx, u, pdu, u16(pdu, 1), words);
}

/** Device identification of a station's PLC. */
function stationId(ctx: Ctx, u: UnitMap): Map<number, string> {
  return new Map([
    [0, 'Twinline'], [1, `TL-${u.kind}`], [2, twinlineVersion()], [4, 'Twinline simulated PLC'], [5, u.kind], [6, `${u.station} @ ${ctx.o.spec.id}`],
  ]);
}

function deviceId(ctx: Ctx, u: UnitMap | null, pdu: Buffer): Answer {
  if (pdu.length !== 4 || pdu[1] !== MEI_DEVICE_ID) return pdu.length >= 2 && pdu[1] !== MEI_DEVICE_ID ? EX.illegalFunction : EX.illegalDataValue;
  const code = pdu[2]!;
  const start = pdu[3]!;
  if (code !== 1 && code !== 2 && code !== 4) return EX.illegalDataValue;
  const objects = u === null ? ctx.gatewayId : stationId(ctx, u);
  // a stream from an object outside the category starts at 0; an individual object must exist
  if (code === 4 && !objects.has(start)) return EX.illegalDataAddress;
  return deviceIdPdu(code, code !== 4 && (start > (code === 1 ? 2 : 6) || !objects.has(start)) ? 0 : start, objects);
}

type Handler = (ctx: Ctx, u: UnitMap, pdu: Buffer) => Answer | Promise<Answer>;

/** One handler per function code. */
const HANDLERS: Readonly<Record<number, Handler>> = {
  [FC.readCoils]: (ctx, u, pdu) => readBits(ctx, u, 'coil', pdu),
  [FC.readDiscreteInputs]: (ctx, u, pdu) => readBits(ctx, u, 'discrete', pdu),
  [FC.readHoldingRegisters]: (ctx, u, pdu) => readRegisters(ctx, u, 'holding', pdu),
  [FC.readInputRegisters]: (ctx, u, pdu) => readRegisters(ctx, u, 'input', pdu),
  [FC.writeSingleCoil]: writeSingleCoil,
  [FC.writeSingleRegister]: writeSingleRegister,
  [FC.writeMultipleCoils]: writeMultipleCoils,
  [FC.writeMultipleRegisters]: writeMultipleRegisters,
  [FC.mei]: deviceId,
};

/** The one dispatcher: the response PDU to a request frame; never throws. */
export async function answer(ctx: Ctx, f: Frame): Promise<Buffer> {
  const fc = f.pdu[0]!;
  observe(ctx, f, fc);
  const handler = HANDLERS[fc];
  if (handler === undefined) return exceptionPdu(fc, EX.illegalFunction);
  const u = unitOf(ctx, f.unit);
  // unit 0 and 255 are the gateway itself: it answers who it is, and routes nothing else
  if (u === null) {
    if ((f.unit === 0 || f.unit === 255) && fc === FC.mei) {
      const r = deviceId(ctx, null, f.pdu);
      return typeof r === 'number' ? exceptionPdu(fc, r) : r;
    }
    return exceptionPdu(fc, EX.gatewayTargetFailed);
  }
  try {
    const r = await handler(ctx, u, f.pdu);
    return typeof r === 'number' ? exceptionPdu(fc, r) : r;
  } catch (e) {
    ctx.o.log(`Modbus: function ${fc} on unit ${f.unit} failed: ${e instanceof Error ? e.message : String(e)}`);
    return exceptionPdu(fc, EX.serverDeviceFailure);
  }
}

/** Serves one connection: frames in, responses out in order, one request at a time. */
function serveSocket(sock: Socket, base: Omit<Ctx, 'principal' | 'address' | 'seen'>, limits: ModbusLimits, address: string, closeWith: (reason: string) => void): void {
  const ctx: Ctx = { ...base, address, principal: `modbus@${address}`, seen: { units: new Set(), reads: 0 } };
  let buf: Buffer = Buffer.alloc(0);
  const queue: Frame[] = [];
  let busy = false;
  const parse = (): void => {
    while (queue.length < limits.maxPipeline) {
      const t = takeFrame(buf);
      if (t.kind === 'partial') break;
      if (t.kind === 'malformed') return closeWith(t.reason);
      queue.push(t.frame);
      buf = buf.subarray(t.size);
    }
    if (queue.length >= limits.maxPipeline) sock.pause();
    else sock.resume();
  };
  const work = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      for (let f = queue.shift(); f !== undefined && !sock.destroyed; f = queue.shift()) {
        const pdu = await answer(ctx, f);
        if (!sock.destroyed) sock.write(encodeFrame({ transaction: f.transaction, unit: f.unit, pdu }));
        parse();
      }
    } finally {
      busy = false;
    }
  };
  sock.on('data', (chunk: Buffer) => {
    if (buf.length + chunk.length > limits.maxBuffered) return closeWith(`more than ${limits.maxBuffered} bytes unread`);
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    parse();
    void work();
  });
}

/** Starts the face; resolves once it listens. */
export async function startModbus(o: ModbusOptions): Promise<ModbusFace> {
  const limits: ModbusLimits = { ...MODBUS_LIMITS, ...o.limits };
  const units = modbusMap(o.spec, o.reader);
  const throttle = new AuditThrottle(limits.auditEveryMs);
  const connects = new AuditThrottle(CONNECT_AUDIT_MS);
  const peers = new PeerCounter(limits.maxConnectionsPerPeer);
  const allow = o.allow === null ? null : new Set(o.allow.map((a) => peerAddress(a)));
  const sockets = new Set<Socket>();
  const audit = (address: string, a: Omit<AuditEntry, 'source' | 'principal'>): void => {
    void o.api.audit({ source: 'modbus', principal: `modbus@${address}`, ...a }).catch(() => undefined);
  };
  const throttled = (t: AuditThrottle, address: string, key: string, a: Omit<AuditEntry, 'source' | 'principal'>): void => {
    const skipped = t.pass(`${address}\u0000${key}`);
    if (skipped !== null) audit(address, { ...a, reason: AuditThrottle.note(a.reason ?? '', skipped, t.windowMs) });
  };
  const gatewayId = new Map([
    [0, 'Twinline'], [1, 'TL-gateway'], [2, twinlineVersion()], [4, 'Twinline Modbus/TCP gateway'], [5, `${units.length} units (1-${units.length})`], [6, o.spec.id],
  ]);
  const server: Server = createServer((sock) => {
    const address = peerAddress(sock.remoteAddress);
    sock.on('error', () => undefined);
    const refuse = (key: string, reason: string): void => {
      throttled(throttle, address, key, { action: 'connect', outcome: 'denied', reason });
      sock.destroy();
    };
    if (allow !== null && !allow.has(address)) return refuse('allow', `${address} is not in the Modbus allow-list (--modbus-allow)`);
    if (sockets.size >= limits.maxConnections) return refuse('total', `the face has ${limits.maxConnections} connections open`);
    if (!peers.enter(address)) return refuse('peer', `${address} has ${limits.maxConnectionsPerPeer} connections open`);
    sockets.add(sock);
    sock.once('close', () => {
      sockets.delete(sock);
      peers.leave(address);
    });
    throttled(connects, address, 'connect', { action: 'connect', outcome: 'allowed', reason: o.writable ? 'writes enabled, no authentication' : 'read-only' });
    sock.setNoDelay(true);
    sock.setTimeout(limits.idleMs, () => sock.destroy());
    const base = {
      o, units, gatewayId, audit: (key: string, a: Omit<AuditEntry, 'source' | 'principal'>) => throttled(throttle, address, key, a),
      observe: (a: Omit<AuditEntry, 'source' | 'principal'>) => audit(address, a),
    };
    serveSocket(sock, base, limits, address, (reason) => {
      throttled(throttle, address, 'malformed', { action: 'frame', outcome: 'denied', reason: `connection closed: ${reason}` });
      sock.destroy();
    });
  });
  server.on('error', (e) => o.log(`Modbus: server error: ${e.message}`));
  const bound = await listen(server, o.port, o.host, o.port !== 0, '--modbus-port');
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `modbus://${host}:${bound.port}`,
    port: bound.port,
    writable: o.writable,
    units: units.length,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
