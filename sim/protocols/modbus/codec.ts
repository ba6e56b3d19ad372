/**
 * Modbus/TCP framing (Modbus Application Protocol v1.1b3 and the Messaging on TCP/IP guide):
 * the MBAP header (transaction id, protocol id 0, length, unit id) around a PDU (function code
 * and data). Pure functions over Buffers, shared by the server and the range's client, so both
 * speak exactly the bytes the specification gives. 32-bit values take two registers, high word
 * first (big-endian words of big-endian bytes, "ABCD"), as most PLCs and gateways default to.
 */

/** MBAP header length [bytes]: transaction 2, protocol 2, length 2, unit 1. */
export const MBAP = 7;
/** largest PDU the specification allows [bytes] (function code + 252 data bytes) */
export const MAX_PDU = 253;
/** largest value of the MBAP length field: unit id + PDU */
export const MAX_LENGTH = MAX_PDU + 1;

/** Function codes the face serves. */
export const FC = {
  readCoils: 1,
  readDiscreteInputs: 2,
  readHoldingRegisters: 3,
  readInputRegisters: 4,
  writeSingleCoil: 5,
  writeSingleRegister: 6,
  writeMultipleCoils: 15,
  writeMultipleRegisters: 16,
  /** Encapsulated Interface Transport; MEI type 14 is Read Device Identification */
  mei: 43,
} as const;

/** MEI type of Read Device Identification. */
export const MEI_DEVICE_ID = 14;

/** Exception codes (the response's function code has bit 7 set). */
export const EX = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  serverDeviceFailure: 0x04,
  /** a gateway has no device behind this unit id */
  gatewayTargetFailed: 0x0b,
} as const;

/** Names of exception codes, for messages and the range's evidence. */
export const EX_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function', 2: 'illegal data address', 3: 'illegal data value', 4: 'server device failure',
  0x0a: 'gateway path unavailable', 0x0b: 'gateway target device failed to respond',
};

/** Most coils or discrete inputs one read returns, and one FC 15 writes (the specification's limits). */
export const MAX_READ_BITS = 2000;
export const MAX_WRITE_BITS = 1968;
/** Most registers one read returns, and one FC 16 writes. */
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;

/** One request or response: MBAP fields and the PDU. */
export interface Frame {
  transaction: number;
  unit: number;
  /** function code and data */
  pdu: Buffer;
}

/** What `takeFrame` found at the start of a buffer. */
export type Take =
  | { kind: 'frame'; frame: Frame; size: number }
  /** not enough bytes yet */
  | { kind: 'partial' }
  /** the bytes are not Modbus/TCP: the connection must be closed */
  | { kind: 'malformed'; reason: string };

/**
 * Reads one frame from the start of `buf` (a connection's unread bytes). The header is checked
 * before waiting for the body, so a bad length or protocol id closes the connection at once.
 */
export function takeFrame(buf: Buffer): Take {
  if (buf.length < MBAP) return { kind: 'partial' };
  const protocol = buf.readUInt16BE(2);
  if (protocol !== 0) return { kind: 'malformed', reason: `protocol id ${protocol} is not Modbus (0)` };
  const length = buf.readUInt16BE(4);
  if (length < 2 || length > MAX_LENGTH) return { kind: 'malformed', reason: `MBAP length ${length} is outside 2…${MAX_LENGTH}` };
  const size = 6 + length;
  if (buf.length < size) return { kind: 'partial' };
  return { kind: 'frame', frame: { transaction: buf.readUInt16BE(0), unit: buf.readUInt8(6), pdu: buf.subarray(MBAP, size) }, size };
}

/** The bytes of a frame on the wire. */
export function encodeFrame(f: Frame): Buffer {
  const out = Buffer.alloc(MBAP + f.pdu.length);
  out.writeUInt16BE(f.transaction & 0xffff, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(f.pdu.length + 1, 4);
  out.writeUInt8(f.unit & 0xff, 6);
  f.pdu.copy(out, MBAP);
  return out;
}

/** An exception response PDU to function `fc`. */
export function exceptionPdu(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

/** The exception code of a response PDU, or null when it is a normal response. */
export function exceptionOf(pdu: Buffer): number | null {
  return pdu.length >= 2 && (pdu[0]! & 0x80) !== 0 ? pdu[1]! : null;
}

/** Bits packed LSB first into bytes, as FC 1, 2 and 15 carry them. */
export function packBits(bits: readonly boolean[]): Buffer {
  const out = Buffer.alloc(Math.ceil(bits.length / 8));
  bits.forEach((b, k) => {
    if (b) out[k >> 3] = out[k >> 3]! | (1 << (k & 7));
  });
  return out;
}

/** `n` bits unpacked from `bytes` (LSB first). */
export function unpackBits(bytes: Buffer, n: number): boolean[] {
  const out: boolean[] = [];
  for (let k = 0; k < n; k++) out.push(((bytes[k >> 3] ?? 0) & (1 << (k & 7))) !== 0);
  return out;
}

/** The two registers of a 32-bit float, high word first. */
export function floatWords(x: number): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(x);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
}

/** The two registers of a signed 32-bit integer (clamped, rounded), high word first. */
export function int32Words(x: number): [number, number] {
  const v = Number.isFinite(x) ? Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(x))) : 0;
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
}

/**
 * The float two registers (high word first) carry, as the shortest decimal that is the same
 * float32: 900.1 written by a client arrives as 900.1, not 900.0999755859375.
 */
export function wordsFloat(hi: number, lo: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(hi & 0xffff, 0);
  b.writeUInt16BE(lo & 0xffff, 2);
  const f = b.readFloatBE(0);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

/** The signed 32-bit integer two registers carry (high word first). */
export function wordsInt32(hi: number, lo: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(hi & 0xffff, 0);
  b.writeUInt16BE(lo & 0xffff, 2);
  return b.readInt32BE(0);
}

/** Read Device Identification objects (id → text). */
export type DeviceIdObjects = ReadonlyMap<number, string>;

/** Names of the device identification objects 0–6. */
export const DEVICE_ID_NAMES: readonly string[] = ['VendorName', 'ProductCode', 'MajorMinorRevision', 'VendorUrl', 'ProductName', 'ModelName', 'UserApplicationName'];

/**
 * The response PDU to Read Device Identification: read code 1 (basic: objects 0–2), 2
 * (regular: 0–6) or 4 (one object), from `start`. Conformity level 0x82: basic and regular,
 * stream and individual access. Everything fits one response (the texts are short), so
 * "more follows" is never set.
 */
export function deviceIdPdu(code: number, start: number, objects: DeviceIdObjects): Buffer {
  const ids = code === 4 ? [start] : [...objects.keys()].filter((id) => id >= start && id <= (code === 1 ? 2 : 6)).sort((a, b) => a - b);
  const parts: Buffer[] = [Buffer.from([FC.mei, MEI_DEVICE_ID, code, 0x82, 0x00, 0x00, ids.length])];
  for (const id of ids) {
    const text = Buffer.from((objects.get(id) ?? '').slice(0, 64), 'latin1');
    parts.push(Buffer.from([id, text.length]), text);
  }
  return Buffer.concat(parts);
}

/** The objects of a Read Device Identification response PDU, or a reason it is not one. */
export function parseDeviceId(pdu: Buffer): Map<number, string> | string {
  if (pdu.length < 7 || pdu[0] !== FC.mei || pdu[1] !== MEI_DEVICE_ID) return 'not a Read Device Identification response';
  const n = pdu[6]!;
  const out = new Map<number, string>();
  let at = 7;
  for (let k = 0; k < n; k++) {
    if (at + 2 > pdu.length) return 'truncated object list';
    const id = pdu[at]!;
    const len = pdu[at + 1]!;
    if (at + 2 + len > pdu.length) return 'truncated object';
    out.set(id, pdu.subarray(at + 2, at + 2 + len).toString('latin1'));
    at += 2 + len;
  }
  return out;
}
