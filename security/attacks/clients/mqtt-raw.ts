/**
 * The attacker's raw MQTT 3.1.1 over TCP, for what no well-behaved client library sends: QoS 2
 * publishes never released (mqtt.js answers every PUBREC with a PUBREL by itself), and the
 * reading of packets off a wire it relays (`PacketReader`).
 */
import { connect, type Socket } from 'node:net';

/** how long a CONNACK may take [ms] */
const ANSWER_MS = 10_000;

/** MQTT's variable byte integer (a remaining length). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** An MQTT string: two bytes of length, then the bytes. */
export function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** A packet: first byte, remaining length, body. */
export function packet(first: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([first]), varint(body.length), body]);
}

/** CONNECT (MQTT 3.1.1, clean session, keepalive 60 s), with an account or without. */
export function connectPacket(clientId: string, user: { user: string; password: string } | null): Buffer {
  const body = [str('MQTT'), Buffer.from([4, 0x02 | (user === null ? 0 : 0xc0), 0, 60]), str(clientId)];
  if (user !== null) body.push(str(user.user), str(user.password));
  return packet(0x10, Buffer.concat(body));
}

/** PUBLISH at QoS 2 with packet id `id`. */
export function publishQos2(topic: string, id: number, payload: Buffer): Buffer {
  return packet(0x34, Buffer.concat([str(topic), Buffer.from([id >> 8, id & 0xff]), payload]));
}

/** One MQTT packet read off a stream. */
export interface Packet {
  /** packet type (1 CONNECT, 2 CONNACK, 3 PUBLISH, 5 PUBREC …) */
  type: number;
  flags: number;
  body: Buffer;
}

/**
 * Splits a byte stream into MQTT packets (fixed header, remaining length, body). Bodies larger
 * than `maxBody` are skipped, not kept: a relay reads what passes, it does not buffer floods.
 */
export class PacketReader {
  private buf: Buffer = Buffer.alloc(0);
  private skip = 0;

  constructor(private readonly maxBody = 64 * 1024) {}

  /** The whole packets `chunk` completes. */
  push(chunk: Buffer): Packet[] {
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Packet[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      let len = 0;
      let mul = 1;
      let i = 1;
      let done = false;
      for (; i < Math.min(this.buf.length, 5); i++) {
        const b = this.buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          done = true;
          break;
        }
      }
      if (!done) break;
      const start = i + 1;
      if (len > this.maxBody) {
        // too large to keep: skip its body
        const have = this.buf.length - start;
        this.skip = Math.max(0, len - have);
        this.buf = this.buf.subarray(Math.min(this.buf.length, start + len));
        continue;
      }
      if (this.buf.length < start + len) break;
      out.push({ type: this.buf[0]! >> 4, flags: this.buf[0]! & 0x0f, body: Buffer.from(this.buf.subarray(start, start + len)) });
      this.buf = this.buf.subarray(start + len);
    }
    return out;
  }
}

/** What a CONNECT carries: client id, user name and password (null when absent). */
export function readConnect(body: Buffer): { clientId: string; user: string | null; password: string | null } | null {
  try {
    let p = 0;
    const s = (): Buffer => {
      const n = body.readUInt16BE(p);
      const v = body.subarray(p + 2, p + 2 + n);
      p += 2 + n;
      return v;
    };
    // not MQTT (TLS records look like a CONNECT by their first byte): nothing to read
    const protocol = s().toString('latin1');
    if (protocol !== 'MQTT' && protocol !== 'MQIsdp') return null;
    const level = body[p]!;
    const flags = body[p + 1]!;
    p += 4;
    if (level === 5) return null; // properties not read: MQTT 5 is not what the range's clients speak
    const clientId = s().toString('utf8');
    if ((flags & 0x04) !== 0) {
      s();
      s();
    }
    const user = (flags & 0x80) !== 0 ? s().toString('utf8') : null;
    const password = (flags & 0x40) !== 0 ? s().toString('utf8') : null;
    return { clientId, user, password };
  } catch {
    return null;
  }
}

/** Topic and payload of a PUBLISH (`flags` of its fixed header). */
export function readPublish(flags: number, body: Buffer): { topic: string; payload: Buffer } | null {
  if (body.length < 2) return null;
  const n = body.readUInt16BE(0);
  const qos = (flags >> 1) & 3;
  const start = 2 + n + (qos > 0 ? 2 : 0);
  if (start > body.length) return null;
  return { topic: body.subarray(2, 2 + n).toString('utf8'), payload: body.subarray(start) };
}

/** A raw connection: the packets received so far, and whether the broker closed it. */
export interface RawConnection {
  socket: Socket;
  packets: Packet[];
  closed(): boolean;
  /** resolves when the broker closes the connection */
  whenClosed: Promise<void>;
  /** the CONNACK return code, or null when the broker closed or stayed silent */
  connack: number | null;
}

/** Opens TCP to `target` (mqtt://host:port), sends CONNECT and waits for the CONNACK. */
export async function rawConnect(target: URL, clientId: string, user: { user: string; password: string } | null): Promise<RawConnection> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 1883) });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => undefined);
  const reader = new PacketReader();
  const packets: Packet[] = [];
  let isClosed = false;
  const whenClosed = new Promise<void>((r) => socket.once('close', () => {
    isClosed = true;
    r();
  }));
  socket.on('data', (d: Buffer) => {
    // only the first few thousand answers are kept: a PUBREC per publish at most
    for (const p of reader.push(d)) if (packets.length < 10_000) packets.push(p);
  });
  socket.write(connectPacket(clientId, user));
  const end = Date.now() + ANSWER_MS;
  while (!packets.some((p) => p.type === 2) && !isClosed && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const ack = packets.find((p) => p.type === 2);
  return { socket, packets, closed: () => isClosed, whenClosed, connack: ack === undefined ? null : (ack.body[1] ?? null) };
}
