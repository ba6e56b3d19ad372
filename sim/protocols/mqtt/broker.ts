/**
 * The embedded broker: Aedes on TCP and on WebSocket (for browsers), with the shared
 * accounts, topic ACLs by role (acl.ts) and per-client limits (limits.ts). Every connection
 * passes a framing guard (frame-guard.ts) before Aedes reads it, so an oversized packet or
 * SUBSCRIBE is dropped before it costs anything. A refused publish makes Aedes drop the
 * connection, so nothing reaches the line. A will is checked against the same ACL at CONNECT
 * (a forged NDEATH or offline status is refused before it can be armed), and a client id held
 * by an account's session is bound to that account: another principal's CONNECT with it is
 * refused instead of kicking the holder off (MQTT's takeover is left to the same account, as a
 * client reconnecting over a half-open connection). Every refusal is an audit entry.
 *
 * Observations for the detectors besides the refusals: each accepted login (`login allowed`:
 * anonymous or with a password, over which transport, in clear or not; once a minute per
 * address, account and client id; never the twin's own), each takeover of a connected
 * client's id (`takeover`, counted per client id and reported at 1, 2, 4 … takeovers), and
 * packets the MQTT parser cannot read (`packet denied`: malformed).
 */
import { createServer as createHttp, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcp, isIP, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTls, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { AuditEntry } from '../../core/commands.ts';
import type { AccountStore } from '../../host/accounts.ts';
import { LoginGuard } from '../../host/login-guard.ts';
import { listen } from '../../host/ports.ts';
import { isSparkplugCommand, isUnsCommand, publishDenied, subscribeDenied, type BrokerRole, type Namespace } from './acl.ts';
import { Authenticator, type BrokerProfile } from './auth.ts';
import { guardStream, type Peer } from './frame-guard.ts';
import { BROKER_LIMITS, PeerCounter, type BrokerLimits } from './limits.ts';
import { AuditThrottle, Milestones } from '../../host/audit-throttle.ts';
import { capMap } from '../../host/cap.ts';

/** Options of `startBroker`. */
export interface BrokerOptions {
  host: string;
  /** TCP port; 0 = any free one */
  port: number;
  explicitPort: boolean;
  /** WebSocket port; 0 = any free one; null = no WebSocket listener */
  wsPort: number | null;
  explicitWsPort: boolean;
  /** MQTT over TLS: port (0 = any free one), key and certificate; omitted: no TLS listener */
  tls?: { port: number; explicitPort: boolean; key: Buffer; cert: Buffer } | null;
  /** the twin's UNS prefix and Sparkplug node: only the twin publishes there */
  ns: Namespace;
  /** the shared account store (`AccountStore.open(home)`, or `fromClear` in tests) */
  accounts: AccountStore;
  /** `open` admits anonymous subscribers; `hardened` (default) refuses anonymous connections */
  profile?: BrokerProfile;
  /** login back-off shared with the other faces; omitted: one of the broker's own */
  guard?: LoginGuard;
  /** client ids only the twin's publisher account may use (the face's own) */
  reserved?(clientId: string): boolean;
  /** per-client limits; omitted ones take `BROKER_LIMITS` */
  limits?: Partial<BrokerLimits>;
  /** wall clock [ms] (the back-off audit and throttles); default Date.now */
  now?(): number;
  /** every accepted publish of a client but the twin, with `user/clientId` (anonymous: `anonymous/clientId`) and role */
  onPublished?(m: { topic: string; payload: Buffer; principal: string; role: BrokerRole | null; retain: boolean }): void;
  /** what the broker refused by itself: logins, publishes and subscriptions outside a role, limits */
  onAudit?(a: AuditEntry): void;
  /** incident response (sim/host/containment.ts): bans and isolation, asked at CONNECT and at every publish */
  gate?: BrokerGate;
}

/** What incident response has shut, as the broker asks it. Each answer is a refusal's reason, or null. */
export interface BrokerGate {
  /** an account (`anonymous`: anonymous clients) */
  account(user: string): string | null;
  mqttClient(id: string): string | null;
  /** commands (the twin's command topics, Sparkplug NCMD/DCMD) */
  commands(): string | null;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtt://host:port` */
  url: string;
  /** `ws://host:port/mqtt`, or null */
  wsUrl: string | null;
  /** `mqtts://host:port`, or null */
  tlsUrl: string | null;
  port: number;
  wsPort: number | null;
  /** set when a default port was taken and a free one was used */
  fellBackFrom: { tcp: number | null; ws: number | null; tls: number | null };
  /** the twin's own account (per run; its name is no valid account name, so no account can shadow it) */
  publisher: { user: string; password: string };
  /** the limits in force */
  limits: Readonly<BrokerLimits>;
  /** publishes refused so far (client id, topic); the newest 1,000 */
  refused: { client: string; topic: string }[];
  /** publishes refused since start */
  refusedCount(): number;
  /** Closes the connections of clients `match` picks (account or null for anonymous, client id); the principals closed. */
  disconnect(match: (user: string | null, clientId: string) => boolean): string[];
  close(): Promise<void>;
}

/** kept refusals (for `refused`) */
const KEEP_REFUSED = 1000;
/** persistent sessions (clean = false) whose owning account is remembered at most */
const KEEP_OWNERS = 10_000;

/** The peer of an Aedes client (set on its guarded stream). */
function peerOf(client: Client): Peer {
  const c = client.conn as unknown as Partial<Peer>;
  return { remoteAddress: c.remoteAddress ?? '?', remotePort: c.remotePort ?? 0 };
}

/** How a client reached the broker: `tcp` and `ws` carry a password in clear, `tls` does not. */
type Transport = 'tcp' | 'tls' | 'ws';

/** The transport of an Aedes client (set on its guarded stream). */
function transportOf(client: Client): Transport {
  return (client.conn as unknown as { transport?: Transport }).transport ?? 'tcp';
}

/** What the MQTT parser (mqtt-packet) says of bytes that are no MQTT packet. */
const PARSE_ERROR = /^(Cannot parse|Invalid|Malformed|Connect flag|Not supported|Packet (too short|must)|Unknown (property|type|command)|Will (QoS|Retain))/;

/** accepted logins of one address, account and client id are observed at most once per this period [ms] */
const LOGIN_OBSERVED_MS = 60_000;

/** Whether a WebSocket handshake comes from a page this host serves (or from no page at all). */
function sameSite(req: IncomingMessage, host: string): string | null {
  const hostName = (h: string): string => h.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  const local = (h: string): boolean => h === 'localhost' || isIP(h) !== 0 || h === host.toLowerCase();
  // any other Host name is a DNS rebinding: a foreign name resolving to this address
  const h = hostName(req.headers.host ?? '');
  if (!local(h)) return `Host ${h} is not this host`;
  const origin = req.headers.origin;
  if (origin === undefined) return null; // not a browser
  let o: string;
  try {
    o = hostName(new URL(origin).host);
  } catch {
    return `Origin ${origin.slice(0, 80)} is not a URL`;
  }
  return o === h || o === 'localhost' || o === '127.0.0.1' || o === '::1' ? null : `Origin ${origin.slice(0, 80)} is another site`;
}

/** Starts Aedes on TCP (and WebSocket); resolves once listening. */
export async function startBroker(o: BrokerOptions): Promise<EmbeddedBroker> {
  const limits: BrokerLimits = { ...BROKER_LIMITS, ...o.limits };
  const now = o.now ?? Date.now;
  const audit = (a: AuditEntry): void => o.onAudit?.(a);
  const once = new AuditThrottle(limits.auditEveryMs, now);
  /** audits a refusal that is free to repeat at most once per period per peer and kind */
  const throttled = (kind: string, ip: string, a: AuditEntry): void => {
    const held = once.pass(`${kind}|${ip}`);
    if (held !== null) audit(held > 0 ? { ...a, reason: `${a.reason ?? ''} (and ${held} more from ${ip} since the last entry)` } : a);
  };
  const publisher = { user: '$twinline', password: randomBytes(18).toString('base64url') };
  const auth = new Authenticator({
    accounts: o.accounts, profile: o.profile ?? 'hardened', guard: o.guard ?? new LoginGuard(), publisher,
    reserved: o.reserved ?? (() => false), once, audit, now,
  });
  const logins = new AuditThrottle(LOGIN_OBSERVED_MS, now);
  const takeovers = new Milestones(60_000, now);
  const roles = new WeakMap<Client, BrokerRole>();
  const users = new WeakMap<Client, string>();
  const subs = new WeakMap<Client, Set<string>>();
  /** owning account of each persistent session (clean = false): its id stays bound while it is offline */
  const owners = new Map<string, string>();
  /** clients whose refused subscriptions were audited (once per client) */
  const subAudited = new WeakSet<Client>();
  const wildAudited = new WeakSet<Client>();
  const refused: { client: string; topic: string }[] = [];
  let refusedCount = 0;
  const who = (client: Client): string => {
    const p = peerOf(client);
    return `${users.get(client) ?? 'anonymous'}/${client.id}@${p.remoteAddress}:${p.remotePort}`;
  };

  /** why incident response refuses this publish of a client (a ban since it connected, commands isolated), or null */
  const shutFor = (client: Client, topic: string): string | null => {
    const g = o.gate;
    if (g === undefined) return null;
    const command = isUnsCommand(topic, o.ns.prefix) || isSparkplugCommand(topic);
    return g.account(users.get(client) ?? 'anonymous') ?? g.mqttClient(client.id) ?? (command ? g.commands() : null);
  };

  const broker = await Aedes.createBroker({
    maxInflightInbound: limits.maxInflightQos2,
    authenticate(client, username, password, done) {
      const p = peerOf(client);
      auth.check(client.id, p.remoteAddress, `${client.id}@${p.remoteAddress}:${p.remotePort}`, username, password).then((r) => {
        if ('returnCode' in r) {
          done(Object.assign(new Error(r.reason), { returnCode: r.returnCode }), false);
          return;
        }
        const principal = `${r.user ?? 'anonymous'}/${client.id}@${p.remoteAddress}:${p.remotePort}`;
        // incident response's bans: never the twin's own publisher
        const shut = r.role === 'publisher' ? null : (o.gate?.account(r.user ?? 'anonymous') ?? o.gate?.mqttClient(client.id) ?? null);
        if (shut !== null) {
          throttled(`banned|${r.user ?? ''}|${client.id}`, p.remoteAddress, { source: 'mqtt', principal, action: 'connect', outcome: 'denied', target: client.id, reason: shut });
          done(Object.assign(new Error(shut), { returnCode: 5 as const }), false);
          return;
        }
        // the will is a publish like any other: refused at CONNECT rather than dropped silently at the end
        const will = (client as unknown as { _will?: { topic?: unknown } | null })._will;
        const willTopic = typeof will?.topic === 'string' ? will.topic : null;
        const willWhy = willTopic === null ? null : publishDenied(r.role, willTopic, o.ns);
        if (willTopic !== null && willWhy !== null) {
          const reason = `will on ${willTopic} refused: ${willWhy}`;
          throttled(`will|${r.user ?? ''}|${willTopic}`, p.remoteAddress, { source: 'mqtt', principal, action: 'connect', outcome: 'denied', target: willTopic, reason });
          done(Object.assign(new Error(reason), { returnCode: 5 as const }), false);
          return;
        }
        // a client id held by an account is that account's: nobody else takes its session over
        const holder = (broker as unknown as { clients: Record<string, Client | undefined> }).clients[client.id];
        const owner = holder !== undefined && holder !== client ? (users.get(holder) ?? null) : (owners.get(client.id) ?? null);
        if (owner !== null && owner !== r.user) {
          const reason = `client id ${client.id} is held by another account's session; takeover refused`;
          throttled(`takeover|${r.user ?? ''}|${client.id}`, p.remoteAddress, { source: 'mqtt', principal, action: 'connect', outcome: 'denied', target: client.id, reason });
          done(Object.assign(new Error(reason), { returnCode: 2 as const }), false);
          return;
        }
        if (holder !== undefined && holder !== client && r.role !== 'publisher') {
          // MQTT hands the id to the newcomer and closes the holder: a gateway's session can be taken this way
          const n = takeovers.add(client.id);
          if (n !== null) {
            audit({
              source: 'mqtt', principal, action: 'takeover', outcome: 'allowed', target: client.id, count: n,
              reason: `client id ${client.id} was held by ${who(holder)}; that connection is closed (${n} takeover${n === 1 ? '' : 's'} of this id in a row)`,
            });
          }
        }
        if (r.role !== 'publisher' && logins.pass(`${p.remoteAddress}|${r.user ?? ''}|${client.id}`) !== null) {
          const t = transportOf(client);
          const how = r.user === null ? 'anonymous' : `user name and password${t === 'tls' ? '' : ' in clear'}`;
          audit({ source: 'mqtt', principal, action: 'login', outcome: 'allowed', reason: `${how} over ${t}${r.role === null ? '' : `, role ${r.role}`}` });
        }
        if (r.user !== null && !client.clean) {
          owners.delete(client.id);
          owners.set(client.id, r.user);
          capMap(owners, KEEP_OWNERS);
        } else if (client.clean) owners.delete(client.id);
        if (r.role !== null) roles.set(client, r.role);
        if (r.user !== null) users.set(client, r.user);
        done(null, true);
      }, (e: unknown) => {
        // an accounts file edited into garbage must not take the broker down: refuse and say why
        const reason = `accounts unreadable: ${e instanceof Error ? e.message : String(e)}`;
        audit({ source: 'mqtt', principal: `${username ?? 'anonymous'}/${client.id}@${p.remoteAddress}:${p.remotePort}`, action: 'connect', outcome: 'failed', reason });
        done(Object.assign(new Error(reason), { returnCode: 3 as const }), false);
      });
    },
    authorizePublish(client, packet, done) {
      // client is null for the broker's own messages ($SYS); wills are checked with their client
      if (client === null) return done(null);
      const role = roles.get(client) ?? null;
      const why = publishDenied(role, packet.topic, o.ns) ?? (role === 'publisher' ? null : shutFor(client, packet.topic));
      if (why === null) return done(null);
      refusedCount++;
      refused.push({ client: client.id, topic: packet.topic });
      if (refused.length > KEEP_REFUSED) refused.shift();
      throttled(`publish|${users.get(client) ?? ''}|${packet.topic}`, peerOf(client).remoteAddress, { source: 'mqtt', principal: who(client), action: 'publish', outcome: 'denied', target: packet.topic, reason: why });
      done(new Error(`publishing to ${packet.topic} refused: ${why}`));
    },
    authorizeSubscribe(client, sub, done) {
      const role = roles.get(client) ?? null;
      let set = subs.get(client);
      if (set === undefined) subs.set(client, (set = new Set()));
      let why = subscribeDenied(role, sub.topic);
      if (why === null && !set.has(sub.topic) && set.size >= limits.maxSubscriptions) why = `more than ${limits.maxSubscriptions} subscriptions`;
      if (why !== null) {
        // refused filters get SUBACK 0x80; the client stays connected
        if (!subAudited.has(client)) {
          subAudited.add(client);
          audit({ source: 'mqtt', principal: who(client), action: 'subscribe', outcome: 'denied', target: sub.topic, reason: why });
        }
        return done(null, null);
      }
      // a subscription to everything is allowed where the role may read, but it is audited
      // (once per client) so the detectors can see who took the whole namespace
      if ((sub.topic === '#' || sub.topic === '$SYS/#') && !wildAudited.has(client)) {
        wildAudited.add(client);
        audit({ source: 'mqtt', principal: who(client), action: 'subscribe', outcome: 'allowed', target: sub.topic, reason: 'every topic' });
      }
      set.add(sub.topic);
      done(null, sub);
    },
    published(packet, client, done) {
      // client is null for the broker's own messages; the twin's own need no dispatch
      const role = client === null || client === undefined ? undefined : (roles.get(client) ?? null);
      if (role !== undefined && role !== 'publisher' && o.onPublished !== undefined && typeof packet.topic === 'string') {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        o.onPublished({ topic: packet.topic, payload, principal: `${users.get(client!) ?? 'anonymous'}/${client!.id}`, role, retain: packet.retain });
      }
      done(null);
    },
  });
  broker.on('unsubscribe', (topics, client) => {
    const set = subs.get(client);
    for (const t of topics) set?.delete(t);
  });
  /** bytes the parser could not read: audited (once per period per address), the connection is gone */
  const malformed = (client: Client, err: Error): void => {
    if ((err as { code?: unknown }).code !== undefined || !PARSE_ERROR.test(err.message)) return;
    const p = peerOf(client);
    throttled('malformed', p.remoteAddress, { source: 'mqtt', principal: client.id ? who(client) : `${p.remoteAddress}:${p.remotePort}`, action: 'packet', outcome: 'denied', reason: `malformed packet (${err.message.slice(0, 120)}); disconnected` });
  };
  broker.on('clientError', (client, err) => {
    if (err.message.startsWith('maxInflightInbound exceeded')) {
      throttled('inflight', peerOf(client).remoteAddress, { source: 'mqtt', principal: who(client), action: 'publish', outcome: 'denied', reason: `more than ${limits.maxInflightQos2} QoS 2 messages awaiting PUBREL; disconnected` });
    } else malformed(client, err);
  });
  broker.on('connectionError', malformed);

  const conns = new PeerCounter(limits.maxConnectionsPerPeer);
  /** Admits a connection through the per-peer limit and the framing guard. */
  const accept = (stream: Duplex, peer: Peer, transport: Transport, req?: IncomingMessage): void => {
    const ip = peer.remoteAddress;
    if (!conns.enter(ip)) {
      throttled('connections', ip, { source: 'mqtt', principal: `${ip}:${peer.remotePort}`, action: 'connect', outcome: 'denied', reason: `more than ${limits.maxConnectionsPerPeer} connections from ${ip}` });
      stream.on('error', () => undefined);
      stream.destroy();
      return;
    }
    stream.once('close', () => conns.leave(ip));
    const guarded = guardStream(stream, peer, limits, (v) => {
      throttled(`frame|${v.kind}`, ip, { source: 'mqtt', principal: `${ip}:${peer.remotePort}`, action: 'packet', outcome: 'denied', reason: `${v.reason}; disconnected` });
    });
    broker.handle(Object.assign(guarded, { transport }), req);
  };

  const tcp: TcpServer = createTcp((s: Socket) => accept(s, { remoteAddress: s.remoteAddress ?? '?', remotePort: s.remotePort ?? 0 }, 'tcp'));
  // the same broker behind TLS: the framing guard and every check see the decrypted stream
  const tlsServer: TlsServer | null = (o.tls ?? null) === null ? null : createTls({ key: o.tls!.key, cert: o.tls!.cert, minVersion: 'TLSv1.2' }, (s: TLSSocket) => {
    accept(s, { remoteAddress: s.remoteAddress ?? '?', remotePort: s.remotePort ?? 0 }, 'tls');
  });
  // a failed handshake (a plain client on the TLS port, a scanner) is the client's problem, not the broker's
  tlsServer?.on('tlsClientError', (_e, s) => s.destroy());
  let http: HttpServer | null = null;
  let wss: WebSocketServer | null = null;
  const closeAll = async (): Promise<void> => {
    wss?.clients.forEach((c) => c.terminate());
    wss?.close();
    await new Promise<void>((r) => broker.close(() => r()));
    await Promise.all([tcp, http, tlsServer].map((srv) => (srv === null || !srv.listening ? Promise.resolve() : new Promise<void>((r) => srv.close(() => r())))));
  };
  try {
    const bound = await listen(tcp, o.port, o.host, o.explicitPort, '--mqtt-port');
    const tlsBound = tlsServer === null || o.tls === undefined || o.tls === null ? null : await listen(tlsServer, o.tls.port, o.host, o.tls.explicitPort, '--mqtts-port');
    let wsBound: { port: number; fellBackFrom: number | null } | null = null;
    if (o.wsPort !== null) {
      http = createHttp((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' });
        res.end('MQTT over WebSocket: connect to /mqtt with the mqtt subprotocol\n');
      });
      // attach the WebSocket server only once the port is bound: ws re-emits the HTTP server's
      // errors, and an EADDRINUSE during the fallback would otherwise be an unhandled 'error'
      wsBound = await listen(http, o.wsPort, o.host, o.explicitWsPort, '--mqtt-ws-port');
      wss = new WebSocketServer({
        server: http, path: '/mqtt',
        // a WebSocket message carries one packet or a few; the framing guard checks each
        maxPayload: 2 * limits.maxPacketSize + 64,
        verifyClient: (info: { req: IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
          const why = sameSite(info.req, o.host);
          if (why === null) return cb(true);
          const ip = info.req.socket.remoteAddress ?? '?';
          throttled('origin', ip, { source: 'mqtt', principal: `${ip}:${info.req.socket.remotePort ?? 0}`, action: 'connect', outcome: 'denied', target: 'WebSocket /mqtt', reason: why });
          cb(false, 403, 'Forbidden');
        },
      });
      wss.on('connection', (ws, req) => {
        const s = createWebSocketStream(ws);
        accept(s, { remoteAddress: req.socket.remoteAddress ?? '?', remotePort: req.socket.remotePort ?? 0 }, 'ws', req);
      });
    }
    const h = o.host.includes(':') ? `[${o.host}]` : o.host;
    return {
      url: `mqtt://${h}:${bound.port}`,
      wsUrl: wsBound === null ? null : `ws://${h}:${wsBound.port}/mqtt`,
      tlsUrl: tlsBound === null ? null : `mqtts://${h}:${tlsBound.port}`,
      port: bound.port,
      wsPort: wsBound?.port ?? null,
      fellBackFrom: { tcp: bound.fellBackFrom, ws: wsBound?.fellBackFrom ?? null, tls: tlsBound?.fellBackFrom ?? null },
      publisher,
      limits,
      refused,
      refusedCount: () => refusedCount,
      disconnect: (match) => {
        const out: string[] = [];
        const clients = (broker as unknown as { clients: Record<string, Client | undefined> }).clients;
        for (const c of Object.values(clients)) {
          if (c === undefined || roles.get(c) === 'publisher' || !match(users.get(c) ?? null, c.id)) continue;
          out.push(who(c));
          c.close();
        }
        return out;
      },
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
