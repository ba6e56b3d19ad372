/**
 * The embedded broker: Aedes on TCP and on WebSocket (for browsers), with accounts and
 * topic ACLs. Roles: the twin's own publisher (a per-run secret, never printed), `operator`
 * (may publish command topics), `gateway` (a gateway under test: may publish anywhere outside
 * the twin's own namespace and Sparkplug commands, never commands to the line), `viewer` and
 * anonymous clients (may subscribe, never publish).
 * A refused publish makes Aedes drop the connection, so nothing reaches the line.
 */
import { createServer as createHttp, type Server as HttpServer } from 'node:http';
import { createServer as createTcp, type Server as TcpServer, type Socket } from 'node:net';
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { AuditEntry } from '../../core/commands.ts';
import { TwinlineError } from '../../core/errors.ts';
import { listen } from '../../host/ports.ts';
import { SPB } from './topics.ts';

/** What an account may do. */
export type Role = 'publisher' | 'operator' | 'gateway' | 'viewer';

/** An account given in clear (flags, tests). */
export interface Account {
  user: string;
  password: string;
  role: Role;
}

/** Options of `startBroker`. */
export interface BrokerOptions {
  host: string;
  /** TCP port; 0 = any free one */
  port: number;
  explicitPort: boolean;
  /** WebSocket port; 0 = any free one; null = no WebSocket listener */
  wsPort: number | null;
  explicitWsPort: boolean;
  /** UNS prefix of the line (`<enterprise>/<site>/<area>/<line>`) */
  prefix: string;
  /** accounts besides the publisher; omitted: read (or create) `<runDir>/users.json` */
  accounts?: Account[];
  /** where `users.json` lives */
  runDir: string;
  /** every accepted publish of a client, with `user/clientId` (anonymous: `anonymous/clientId`) */
  onPublished?(m: { topic: string; payload: Buffer; principal: string }): void;
  /** what the broker refused by itself: failed logins, publishes outside a role */
  onAudit?(a: AuditEntry): void;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://host:port` */
  url: string;
  /** `ws://host:port/mqtt`, or null */
  wsUrl: string | null;
  port: number;
  wsPort: number | null;
  /** set when a default port was taken and a free one was used */
  fellBackFrom: { tcp: number | null; ws: number | null };
  /** the twin's own account (per run) */
  publisher: { user: string; password: string };
  /** lines for the operator (accounts, where they live) */
  notes: string[];
  /** publishes refused so far (client id, topic) */
  refused: { client: string; topic: string }[];
  close(): Promise<void>;
}

interface Stored {
  salt: string;
  hash: string;
  role: Role;
}

const hash = (password: string, salt: Buffer): Buffer => scryptSync(password, salt, 32);

/** Reads `users.json` (scrypt-hashed), creating `operator`, `gateway` and `viewer` with random passwords (shown once) when missing. */
function loadAccounts(runDir: string, notes: string[]): Map<string, Stored> {
  const file = join(runDir, 'users.json');
  if (!existsSync(file)) {
    mkdirSync(runDir, { recursive: true });
    const out: Record<string, Stored> = {};
    for (const [user, role] of [['operator', 'operator'], ['gateway', 'gateway'], ['viewer', 'viewer']] as const) {
      const password = randomBytes(12).toString('base64url');
      const salt = randomBytes(16);
      out[user] = { salt: salt.toString('hex'), hash: hash(password, salt).toString('hex'), role };
      notes.push(`  MQTT account "${user}" (${role}) created in ${file}; password (shown once): ${password}`);
    }
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`, { mode: 0o600 });
  } else notes.push(`  MQTT accounts: ${file}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TwinlineError('BAD_ARGUMENT', `MQTT accounts file is not valid JSON: ${(e as Error).message}`, { file });
  }
  const map = new Map<string, Stored>();
  for (const [user, a] of Object.entries(raw as Record<string, Partial<Stored>>)) {
    if (typeof a.salt === 'string' && typeof a.hash === 'string' && (a.role === 'operator' || a.role === 'gateway' || a.role === 'viewer')) map.set(user, a as Stored);
  }
  return map;
}

function fromClear(accounts: readonly Account[]): Map<string, Stored> {
  const map = new Map<string, Stored>();
  for (const a of accounts) {
    const salt = randomBytes(16);
    map.set(a.user, { salt: salt.toString('hex'), hash: hash(a.password, salt).toString('hex'), role: a.role });
  }
  return map;
}

/** Whether `role` may publish to `topic` (null role: anonymous). */
export function mayPublish(role: Role | null, topic: string, prefix: string): boolean {
  if (role === 'publisher') return true;
  if (role === 'gateway') {
    // its own topics: never the twin's namespace (which would forge ground truth or commands), never Sparkplug commands
    const sp = topic.split('/');
    return !topic.startsWith(`${prefix}/`) && topic !== prefix && !(sp[0] === SPB && (sp[2] === 'NCMD' || sp[2] === 'DCMD'));
  }
  if (role !== 'operator') return false;
  const rest = topic.startsWith(`${prefix}/`) ? topic.slice(prefix.length + 1).split('/') : null;
  if (rest !== null) return (rest.length === 2 && rest[0] === 'cmd') || (rest.length === 3 && rest[1] === 'cmd');
  const sp = topic.split('/');
  return sp[0] === SPB && (sp[2] === 'NCMD' || sp[2] === 'DCMD');
}

/** The peer address of a client, for audit entries. */
function peerOf(client: Client): string {
  const conn = (client as unknown as { conn?: { remoteAddress?: string; remotePort?: number } }).conn;
  return conn?.remoteAddress === undefined ? '?' : `${conn.remoteAddress}:${conn.remotePort ?? '?'}`;
}

/** Starts Aedes on TCP (and WebSocket); resolves once listening. */
export async function startBroker(o: BrokerOptions): Promise<EmbeddedBroker> {
  const notes: string[] = [];
  const accounts = o.accounts !== undefined ? fromClear(o.accounts) : loadAccounts(o.runDir, notes);
  const publisher = { user: 'twinline', password: randomBytes(18).toString('base64url') };
  accounts.set(publisher.user, (() => {
    const salt = randomBytes(16);
    return { salt: salt.toString('hex'), hash: hash(publisher.password, salt).toString('hex'), role: 'publisher' as Role };
  })());
  const roles = new WeakMap<Client, Role>();
  const users = new WeakMap<Client, string>();
  const refused: { client: string; topic: string }[] = [];

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (username === undefined || username === '') {
        done(null, true); // anonymous: may subscribe only
        return;
      }
      const a = accounts.get(username);
      const ok = a !== undefined && password !== undefined && timingSafeEqual(hash(password.toString('utf8'), Buffer.from(a.salt, 'hex')), Buffer.from(a.hash, 'hex'));
      if (!ok) {
        o.onAudit?.({ source: 'mqtt', principal: `${username}/${client.id}@${peerOf(client)}`, action: 'connect', outcome: 'denied', reason: 'bad user name or password' });
        const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
        done(err, false);
        return;
      }
      roles.set(client, a.role);
      users.set(client, username);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // client is null for the broker's own messages ($SYS, wills are checked with the client)
      if (client === null || mayPublish(roles.get(client) ?? null, packet.topic, o.prefix)) {
        done(null);
        return;
      }
      refused.push({ client: client.id, topic: packet.topic });
      const role = roles.get(client) ?? 'anonymous';
      o.onAudit?.({ source: 'mqtt', principal: `${users.get(client) ?? 'anonymous'}/${client.id}@${peerOf(client)}`, action: 'publish', outcome: 'denied', target: packet.topic, reason: `not allowed for ${role} clients` });
      done(new Error(`publishing to ${packet.topic} is not allowed for ${roles.get(client) ?? 'anonymous'} clients`));
    },
    published(packet, client, done) {
      // client is null for the broker's own messages
      if (client !== null && client !== undefined && o.onPublished !== undefined && typeof packet.topic === 'string') {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        o.onPublished({ topic: packet.topic, payload, principal: `${users.get(client) ?? 'anonymous'}/${client.id}` });
      }
      done(null);
    },
  });

  const tcp: TcpServer = createTcp((s: Socket) => broker.handle(s));
  let http: HttpServer | null = null;
  let wss: WebSocketServer | null = null;
  const closeAll = async (): Promise<void> => {
    wss?.clients.forEach((c) => c.terminate());
    wss?.close();
    await new Promise<void>((r) => broker.close(() => r()));
    await Promise.all([tcp, http].map((srv) => (srv === null || !srv.listening ? Promise.resolve() : new Promise<void>((r) => srv.close(() => r())))));
  };
  try {
    const bound = await listen(tcp, o.port, o.host, o.explicitPort, '--mqtt-port');
    let wsBound: { port: number; fellBackFrom: number | null } | null = null;
    if (o.wsPort !== null) {
      http = createHttp((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' });
        res.end('MQTT over WebSocket: connect to /mqtt with the mqtt subprotocol\n');
      });
      // attach the WebSocket server only once the port is bound: ws re-emits the HTTP server's
      // errors, and an EADDRINUSE during the fallback would otherwise be an unhandled 'error'
      wsBound = await listen(http, o.wsPort, o.host, o.explicitWsPort, '--mqtt-ws-port');
      wss = new WebSocketServer({ server: http, path: '/mqtt' });
      wss.on('connection', (ws, req) => broker.handle(createWebSocketStream(ws), req));
    }
    const h = o.host.includes(':') ? `[${o.host}]` : o.host;
    return {
      url: `mqtt://${h}:${bound.port}`,
      wsUrl: wsBound === null ? null : `ws://${h}:${wsBound.port}/mqtt`,
      port: bound.port,
      wsPort: wsBound?.port ?? null,
      fellBackFrom: { tcp: bound.fellBackFrom, ws: wsBound?.fellBackFrom ?? null },
      publisher,
      notes,
      refused,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
