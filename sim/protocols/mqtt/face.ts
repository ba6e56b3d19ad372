/**
 * The MQTT face of a running line: samples the worker's shared buffer at the publish interval,
 * publishes the unified namespace and/or Sparkplug B through store-and-forward links, and
 * turns command messages into line commands (`source: 'mqtt'`, with the sender's role). The
 * broker is the embedded Aedes (default; accounts from the shared store, the twin's client
 * ids reserved) or one given by URL (Mosquitto, NATS, EMQX …), where a takeover of the
 * twin's session is detected, audited and recovered.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import type { AuditEntry, Role } from '../../core/commands.ts';
import { AccountStore } from '../../host/accounts.ts';
import { AuditThrottle } from '../../host/audit-throttle.ts';
import type { LoginGuard } from '../../host/login-guard.ts';
import type { LineSpec } from '../../line/types.ts';
import type { AsyncApi, SimApi } from '../../worker/api.ts';
import { openReader } from '../../worker/reader.ts';
import type { BrokerProfile } from './auth.ts';
import { startBroker, type BrokerGate, type EmbeddedBroker } from './broker.ts';
import { dispatch, type CommandContext, type Incoming } from './commands.ts';
import { BROKER_LIMITS, RateGate, type BrokerLimits } from './limits.ts';
import { openLink, type Link, type Takeover } from './link.ts';
import { deliverSparkplug, SparkplugNode, sparkplugSize, type DeviceData } from './sparkplug.ts';
import { lineTags, Sample, type Tag } from './tags.ts';
import { commandFilters, slug, SPB, spTopic, unsPrefix } from './topics.ts';
import { deliverUns, UnsEncoder, unsSize, type UnsMessage } from './uns.ts';
import { brokerTls, type BrokerTls } from './tls.ts';

/** The bdSeq of the last session kept in `file`, or -1 (the next is 0). */
function loadBdSeq(file: string, warn: (line: string) => void): number {
  if (!existsSync(file)) return -1;
  try {
    const v: unknown = (JSON.parse(readFileSync(file, 'utf8')) as { bdSeq?: unknown }).bdSeq;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v;
    warn(`MQTT: ${file}: bdSeq must be a whole number 0…255; starting at 0`);
  } catch (e) {
    warn(`MQTT: ${file} is not readable JSON (${(e as Error).message}); Sparkplug bdSeq starts at 0`);
  }
  return -1;
}

function saveBdSeq(file: string, bdSeq: number, warn: (line: string) => void): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ bdSeq })}\n`);
  } catch (e) {
    warn(`MQTT: cannot keep the Sparkplug bdSeq in ${file} (${(e as { code?: string }).code ?? String(e)}); the next run starts it at 0`);
  }
}

/** Which encodings are published. */
export type MqttEncoding = 'uns' | 'sparkplug' | 'both';

/** Timers and wall clock, injectable for tests. */
export interface FaceClock {
  /** wall time [ms since epoch] (Sparkplug timestamps) */
  now(): number;
  every(ms: number, fn: () => void): () => void;
}

const REAL_CLOCK: FaceClock = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const h = setInterval(fn, ms);
    return () => clearInterval(h);
  },
};

/** Options of `startMqtt`. */
export interface MqttOptions {
  spec: LineSpec;
  api: AsyncApi<SimApi>;
  /** external broker (`mqtt://`, `mqtts://`, `ws://`); omitted: the embedded broker */
  url?: string;
  /** account on an external broker */
  username?: string;
  password?: string;
  /**
   * MQTT protocol level on an external broker: 4 (3.1.1, default; every broker) or 5. With 5 the
   * broker names a session takeover, and a retained command is recognised even when it arrives
   * live (3.1.1 clears the flag then, so there only its replays on reconnect are refused).
   */
  protocolVersion?: 4 | 5;
  /**
   * role of commands arriving through an external broker (default `operator`): the twin cannot
   * tell who sent them, so the broker's own ACL decides who may publish command topics, and
   * the line what this role may do; `viewer` refuses them all
   */
  externalRole?: Role;
  /** the embedded broker (used when `url` is omitted) */
  embedded?: {
    host: string; port: number; explicitPort: boolean; wsPort: number | null; explicitWsPort: boolean;
    /**
     * MQTT over TLS: its port (default 8883, a taken default falls back to a free one) and the
     * folder of its key and self-signed certificate (made on first use); on under `hardened`, and
     * under `open` when the port is given. Omitted `tlsDir`: no TLS listener.
     */
    tlsPort?: number; explicitTlsPort?: boolean; tlsDir?: string;
  };
  /** accounts of the embedded broker (the shared store); omitted: none, only the twin logs in */
  accounts?: AccountStore;
  /** the embedded broker's profile: `open` admits anonymous subscribers (a classroom); default `hardened` */
  profile?: BrokerProfile;
  /** login back-off shared with the other faces; omitted: the broker's own */
  guard?: LoginGuard;
  /** per-client limits of the embedded broker (`BROKER_LIMITS`); `rebirthIntervalMs` applies to external brokers too, where all senders count as one */
  limits?: Partial<BrokerLimits>;
  /** the links' client ids are `<clientId>-uns` and `-spb` (default `twinline-<scenario>-<pid>-<n>`) */
  clientId?: string;
  encoding: MqttEncoding;
  /** sampling and publish interval [ms wall] (default 100) */
  intervalMs?: number;
  /** store-and-forward bound per encoding (default 100 000 messages, 64 MiB) */
  maxMessages?: number;
  maxBytes?: number;
  /** Sparkplug group id (default: the site's slug) */
  group?: string;
  /** where the Sparkplug bdSeq is kept between runs (`sparkplug-<group>-<edge>.json`); omitted: not kept */
  stateDir?: string;
  clock?: FaceClock;
  log(line: string): void;
  /** incident response's bans and isolation (embedded broker: at CONNECT and every publish; external: every command) */
  gate?: BrokerGate;
  /**
   * Values someone other than the twin reported on its UNS value topics at an external broker
   * (where the broker, not the twin, decides who may publish): the detectors compare them with
   * the model. Omitted: the face does not subscribe to its own values. The embedded broker
   * refuses such publishes outright (and audits them).
   */
  onReport?: (r: TagReport) => void;
}

/** A value reported for one of the line's tags on its UNS topic by another publisher. */
export interface TagReport {
  station: string;
  field: string;
  value: number;
  unit: string;
  /** the deadband the twin publishes the tag with, in its unit */
  deadband: number;
  principal: string;
  /** the topic */
  where: string;
  /** wall time it arrived [ms since the epoch] */
  ms: number;
}

/** the twin's own recent payloads kept per topic, to know its own messages when they come back */
const OWN_PAYLOADS = 4;

/** Counters of the face. */
export interface MqttStats {
  uns: { published: number; queued: number; dropped: number; peak: number; connects: number } | null;
  sparkplug: { published: number; queued: number; dropped: number; peak: number; connects: number; bdSeq: number; rebirths: number } | null;
  commands: number;
  /** publishes the embedded broker refused */
  refused: number;
  /** session takeovers detected on an external broker */
  takeovers?: number;
}

/** A running MQTT face. */
export interface MqttFace {
  /** broker the face publishes to */
  url: string;
  /** WebSocket endpoint of the embedded broker, or null */
  wsUrl: string | null;
  /** MQTT over TLS endpoint of the embedded broker (`mqtts://`), or null */
  tlsUrl: string | null;
  /** its self-signed certificate (PEM file) and SHA-256 fingerprint, for clients to pin; null without TLS */
  tlsCert: { file: string; fingerprint: string } | null;
  prefix: string;
  group: string;
  edge: string;
  /** set when a default port of the embedded broker was taken */
  fellBackFrom: { tcp: number | null; ws: number | null; tls: number | null };
  notes: string[];
  stats(): MqttStats;
  /** Closes the embedded broker's connections `match` picks (account or null for anonymous, client id); the principals closed ([] behind an external broker). */
  disconnect(match: (user: string | null, clientId: string) => boolean): string[];
  close(): Promise<void>;
}

/** Starts the face (and the embedded broker); resolves once the broker listens, not once connected. */
export async function startMqtt(o: MqttOptions): Promise<MqttFace> {
  const clock = o.clock ?? REAL_CLOCK;
  const reader = openReader(await o.api.shared());
  const stations = lineTags(o.spec, reader);
  const tagCount = stations.reduce((a, s) => a + s.tags.length, 0);
  const sample = new Sample(reader, stations);
  const prefix = unsPrefix(o.spec.isa95);
  const group = o.group ?? slug(o.spec.isa95.site);
  const edge = slug(o.spec.isa95.line);
  const bySlug = new Map(stations.map((s) => [s.slug, s.id]));
  const warn = (line: string): void => o.log(line);
  const bound = { maxMessages: o.maxMessages ?? 100_000, maxBytes: o.maxBytes ?? 64 * 1024 * 1024, warn };
  let commands = 0;

  const audit = (a: AuditEntry): void => void o.api.audit(a).catch(() => undefined);
  const id = o.clientId ?? `twinline-${slug(o.spec.id)}-${process.pid}-${Math.floor(clock.now() % 1e6)}`;
  const limits = { ...BROKER_LIMITS, ...o.limits };

  let broker: EmbeddedBroker | null = null;
  let url: string;
  let creds: IClientOptions;
  let external = false;
  let tls: BrokerTls | null = null;
  if (o.url === undefined) {
    const e = o.embedded ?? { host: '127.0.0.1', port: 1883, explicitPort: false, wsPort: 8083, explicitWsPort: false };
    if (e.tlsDir !== undefined && ((o.profile ?? 'hardened') === 'hardened' || e.explicitTlsPort === true)) tls = await brokerTls(e.tlsDir, e.host);
    broker = await startBroker({
      ...e, ns: { prefix, group, edge },
      tls: tls === null ? null : { port: e.tlsPort ?? 8883, explicitPort: e.explicitTlsPort === true, key: tls.key, cert: tls.cert }, accounts: o.accounts ?? AccountStore.fromClear([]), profile: o.profile ?? 'hardened', limits,
      ...(o.guard === undefined ? {} : { guard: o.guard }),
      // the twin's ids (and the fresh ones a link may move to) are its own alone
      reserved: (cid) => cid === id || cid.startsWith(`${id}-`),
      onPublished: (m) => void onMessage({ ...m, role: m.role === 'publisher' ? null : m.role }),
      onAudit: audit,
      ...(o.gate === undefined ? {} : { gate: o.gate }),
    });
    url = broker.url;
    creds = { username: broker.publisher.user, password: broker.publisher.password };
  } else {
    url = o.url;
    external = true;
    creds = {
      ...(o.username === undefined ? {} : { username: o.username, ...(o.password === undefined ? {} : { password: o.password }) }),
      ...(o.protocolVersion === undefined ? {} : { protocolVersion: o.protocolVersion }),
    };
  }
  const principalOf = (): string => `unverified@${new URL(url).host}`;
  const externalRole = o.externalRole ?? 'operator';
  // rebirths cost a birth of every metric to every subscriber: one per sender per interval
  const rebirths = new RateGate(limits.rebirthIntervalMs, clock.now);
  let takeovers = 0;
  const onTakeover = (t: Takeover): void => {
    takeovers++;
    audit({ source: 'mqtt', principal: principalOf(), action: 'session takeover', outcome: 'failed', target: t.clientId, reason: `${t.reason}; another client may be using the twin's client id; reconnecting as ${t.nextId} (takeover ${t.count} in a row)` });
    warn(`WARNING: MQTT: ${url}: session of ${t.clientId} taken over (${t.reason}); reconnecting as ${t.nextId}`);
  };

  let uns: { enc: UnsEncoder; link: Link<UnsMessage> } | null = null;
  let sp: { node: SparkplugNode; link: Link<DeviceData> } | null = null;

  const ctx: CommandContext = {
    prefix, group, edge,
    stationOf: (s) => bySlug.get(s),
    send: (cmd) => {
      commands++;
      return o.api.send(cmd);
    },
    audit: (a) => void o.api.audit(a).catch(() => undefined),
    reply: (topic, body) => {
      const payload = JSON.stringify(body);
      if (uns !== null) uns.link.outbox.push({ topic, payload, retain: false });
      else sp?.link.client.publish(topic, payload, { qos: 1 });
    },
    ncmd: (payload, principal) => {
      if (sp === null) return 'Sparkplug B is not enabled (--mqtt-encoding)';
      const r = sp.node.ncmd(payload);
      if (typeof r === 'string') return r;
      if (!r.rebirth) return null;
      const gate = rebirths.take(principal);
      if (gate.ok) rebirth();
      else if (gate.first) {
        audit({ source: 'mqtt', principal, action: 'NCMD', outcome: 'denied', target: spTopic(group, 'NCMD', edge), reason: `rebirth requests beyond one per ${limits.rebirthIntervalMs / 1000} s are ignored (next in ${Math.ceil(gate.waitMs / 1000)} s)` });
      }
      return null;
    },
    dcmd: (payload, station) => (sp === null ? 'Sparkplug B is not enabled (--mqtt-encoding)' : sp.node.dcmd(payload, slug(station))),
    warn,
  };
  const shutAudits = new AuditThrottle(limits.auditEveryMs, clock.now);
  const onMessage = (m: Incoming): Promise<void> => {
    // behind an external broker the face is the only gate: an isolated face takes no command
    const shut = external ? (o.gate?.commands() ?? null) : null;
    if (shut === null) return dispatch(ctx, m);
    const skipped = shutAudits.pass(m.topic);
    if (skipped !== null) audit({ source: 'mqtt', principal: m.principal, action: 'publish', outcome: 'denied', target: m.topic, reason: AuditThrottle.note(shut, skipped, shutAudits.windowMs) });
    return Promise.resolve();
  };

  // values reported on the twin's own UNS topics (external broker): `<prefix>/<station>/<tag>`
  const watch = external && o.onReport !== undefined && o.encoding !== 'sparkplug' ? o.onReport : null;
  const valueTags = new Map<string, { station: string; tag: Tag }>(watch === null ? [] : stations.flatMap((st) => st.tags.map((t) => [`${prefix}/${st.slug}/${t.name}`, { station: st.id, tag: t }] as const)));
  const own = new Map<string, string[]>();
  const remember = (topic: string, payload: string): void => {
    const list = own.get(topic);
    if (list === undefined) own.set(topic, [payload]);
    else {
      list.push(payload);
      if (list.length > OWN_PAYLOADS) list.shift();
    }
  };
  const onValue = (report: (r: TagReport) => void, topic: string, payload: Buffer, stored: boolean): void => {
    const at = valueTags.get(topic);
    // a value stored before the subscription (a past run's, or the twin's own on reconnect) is not a report of now
    if (at === undefined || stored) return;
    const text = payload.toString('utf8');
    if (own.get(topic)?.includes(text) === true) return;
    let v: unknown;
    try {
      v = (JSON.parse(text) as { v?: unknown }).v;
    } catch {
      v = undefined;
    }
    const value = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : NaN;
    if (!Number.isFinite(value)) {
      audit({ source: 'mqtt', principal: principalOf(), action: 'publish', outcome: 'denied', target: topic, reason: `malformed value on the twin's own topic (${text.slice(0, 80)})` });
      return;
    }
    report({ station: at.station, field: at.tag.name, value, unit: at.tag.unit, deadband: at.tag.relative ? at.tag.deadband * Math.abs(value) : at.tag.deadband, principal: principalOf(), where: topic, ms: clock.now() });
  };
  const subscribe = (link: Link<unknown>, filters: string[]): void => {
    if (!external) return; // the embedded broker hands commands over in-process, with the sender's identity
    // MQTT 5: keep the retain flag as published, so a retained command is refused even live
    link.client.subscribe(filters, { qos: 1, ...(o.protocolVersion === 5 ? { rap: true } : {}) });
    // the values: without retain-as-published, so a retained flag means "stored before"
    if (watch !== null) link.client.subscribe(`${prefix}/+/+`, { qos: 0 });
    link.client.on('message', (topic, payload, packet) => {
      if (watch !== null && valueTags.has(topic)) onValue(watch, topic, payload, packet.retain);
      else void onMessage({ topic, payload, principal: principalOf(), role: externalRole, retain: packet.retain });
    });
  };

  if (o.encoding !== 'sparkplug') {
    const enc = new UnsEncoder(prefix, stations, tagCount);
    const status = `${prefix}/$status`;
    const link = openLink<UnsMessage>({
      url,
      mqtt: { ...creds, clientId: `${id}-uns`, clean: true, will: { topic: status, payload: Buffer.from('{"online":false}'), qos: 1, retain: true } },
      outbox: { ...bound, window: 1000, size: unsSize, requeueFailed: false },
      deliver: watch === null ? deliverUns : (client, m, done) => {
        remember(m.topic, m.payload);
        deliverUns(client, m, done);
      },
      onTakeover,
      onUp: (client) => {
        client.publish(status, JSON.stringify({ online: true, scenario: o.spec.id }), { qos: 1, retain: true });
        // brokers without persistence forget retained metadata when they restart: send it on every connect
        for (const m of enc.meta()) client.publish(m.topic, m.payload, { qos: 1, retain: true });
      },
      warn,
    });
    uns = { enc, link };
    subscribe(link as Link<unknown>, commandFilters(prefix));
  }

  const rebirth = (): void => {
    if (sp === null || !sp.link.client.connected) return;
    sp.node.rebirths++;
    sample.take();
    for (const b of sp.node.births(sample)) sp.link.client.publish(b.topic, b.payload, { qos: 0 });
  };

  if (o.encoding !== 'uns') {
    const node = new SparkplugNode(group, edge, stations, tagCount, clock.now);
    // Sparkplug: each new session's bdSeq is one more than the last one's, across restarts too
    const bdFile = o.stateDir === undefined ? null : join(o.stateDir, `sparkplug-${group}-${edge}.json`);
    node.bdSeq = bdFile === null ? 0 : (loadBdSeq(bdFile, warn) + 1) & 0xff;
    const keepBdSeq = (): void => {
      if (bdFile !== null) saveBdSeq(bdFile, node.bdSeq, warn);
    };
    const death = node.death();
    const link = openLink<DeviceData>({
      url,
      mqtt: { ...creds, clientId: `${id}-spb`, clean: true, queueQoSZero: false, will: { ...death, qos: 1, retain: false } },
      outbox: { ...bound, window: 256, size: sparkplugSize, requeueFailed: true },
      refusedHint: `The will (NDEATH) is on ${spTopic(group, 'NDEATH', edge)}; nats-server 2.9 refuses '.' in MQTT topic names and so the whole spBv1.0 namespace: with it use --mqtt-encoding uns, or another broker.`,
      deliver: deliverSparkplug(node),
      onTakeover,
      onUp: (client) => {
        keepBdSeq(); // the bdSeq a session began with; the next run starts after it
        sample.take();
        for (const b of node.births(sample)) client.publish(b.topic, b.payload, { qos: 0 });
        // data held while the broker was away follows the births, flagged historical
        for (const d of link.outbox.takeAll()) link.outbox.push({ ...d, historical: true });
      },
      onDown: (client) => {
        // a new session needs a new bdSeq, and its will must carry it
        node.bdSeq = (node.bdSeq + 1) & 0xff;
        client.options.will = { ...node.death(), qos: 1, retain: false };
      },
      warn,
    });
    sp = { node, link };
    subscribe(link as Link<unknown>, [`${SPB}/${group}/NCMD/${edge}`, `${SPB}/${group}/DCMD/${edge}/+`]);
  }

  const stop = clock.every(o.intervalMs ?? 100, () => {
    sample.take();
    if (uns !== null) {
      const box = uns.link.outbox;
      uns.enc.changes(sample, (m) => box.push(m));
    }
    if (sp !== null) {
      const box = sp.link.outbox;
      sp.node.changes(sample, (d) => box.push(d));
    }
  });

  const notes: string[] = [];
  if (broker !== null) {
    notes.push(`    MQTT accounts: the shared account store; operator, engineer and instructor may publish command topics, gateway outside the twin's namespace, viewer subscribes only; anonymous clients ${o.profile === 'open' ? 'may subscribe (profile open)' : 'are refused'}; $SYS is for the instructor.`);
  } else notes.push(`    MQTT commands through ${new URL(url).host} act with the ${externalRole} role; the broker's ACL decides who may publish them.`);
  return {
    url,
    wsUrl: broker?.wsUrl ?? null,
    tlsUrl: broker?.tlsUrl ?? null,
    tlsCert: tls === null || (broker?.tlsUrl ?? null) === null ? null : { file: tls.certFile, fingerprint: tls.fingerprint },
    prefix, group, edge,
    fellBackFrom: broker?.fellBackFrom ?? { tcp: null, ws: null, tls: null },
    notes,
    stats: () => ({
      uns: uns === null ? null : { published: uns.link.outbox.stats.sent, queued: uns.link.outbox.stats.queued, dropped: uns.link.outbox.stats.dropped, peak: uns.link.outbox.stats.peak, connects: uns.link.connects },
      sparkplug: sp === null ? null : {
        published: sp.link.outbox.stats.sent, queued: sp.link.outbox.stats.queued, dropped: sp.link.outbox.stats.dropped, peak: sp.link.outbox.stats.peak,
        connects: sp.link.connects, bdSeq: sp.node.bdSeq, rebirths: sp.node.rebirths,
      },
      commands,
      refused: broker?.refusedCount() ?? 0,
      takeovers,
    }),
    disconnect: (match) => broker?.disconnect(match) ?? [],
    async close() {
      stop();
      // a clean disconnect sends no will, so say goodbye explicitly: NDEATH and an offline status
      if (sp !== null && sp.link.client.connected) {
        const d = sp.node.death();
        sp.link.client.publish(d.topic, d.payload, { qos: 1 });
      }
      if (uns !== null && uns.link.client.connected) uns.link.client.publish(`${prefix}/$status`, '{"online":false}', { qos: 1, retain: true });
      await Promise.all([uns?.link.close(), sp?.link.close()]);
      await broker?.close();
    },
  };
}
