/**
 * The MQTT face of a running line: samples the worker's shared buffer at the publish interval,
 * publishes the unified namespace and/or Sparkplug B through store-and-forward links, and
 * turns command messages into line commands (`source: 'mqtt'`). The broker is the embedded
 * Aedes (default) or one given by URL (Mosquitto, NATS, EMQX …).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import type { LineSpec } from '../../line/types.ts';
import type { AsyncApi, SimApi } from '../../worker/api.ts';
import { openReader } from '../../worker/reader.ts';
import { startBroker, type Account, type EmbeddedBroker } from './broker.ts';
import { dispatch, type CommandContext, type Incoming } from './commands.ts';
import { openLink, type Link } from './link.ts';
import { deliverSparkplug, SparkplugNode, sparkplugSize, type DeviceData } from './sparkplug.ts';
import { lineTags, Sample } from './tags.ts';
import { commandFilters, slug, SPB, spTopic, unsPrefix } from './topics.ts';
import { deliverUns, UnsEncoder, unsSize, type UnsMessage } from './uns.ts';

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
  /** the embedded broker (used when `url` is omitted) */
  embedded?: { host: string; port: number; explicitPort: boolean; wsPort: number | null; explicitWsPort: boolean; runDir: string; accounts?: Account[] };
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
}

/** Counters of the face. */
export interface MqttStats {
  uns: { published: number; queued: number; dropped: number; peak: number; connects: number } | null;
  sparkplug: { published: number; queued: number; dropped: number; peak: number; connects: number; bdSeq: number; rebirths: number } | null;
  commands: number;
  /** publishes the embedded broker refused */
  refused: number;
}

/** A running MQTT face. */
export interface MqttFace {
  /** broker the face publishes to */
  url: string;
  /** WebSocket endpoint of the embedded broker, or null */
  wsUrl: string | null;
  prefix: string;
  group: string;
  edge: string;
  /** set when a default port of the embedded broker was taken */
  fellBackFrom: { tcp: number | null; ws: number | null };
  notes: string[];
  stats(): MqttStats;
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

  let broker: EmbeddedBroker | null = null;
  let url: string;
  let creds: IClientOptions;
  let external = false;
  if (o.url === undefined) {
    const e = o.embedded ?? { host: '127.0.0.1', port: 1883, explicitPort: false, wsPort: 8083, explicitWsPort: false, runDir: '.twinline/mqtt' };
    broker = await startBroker({ ...e, prefix, onPublished: (m) => void onMessage(m), onAudit: (a) => void o.api.audit(a) });
    url = broker.url;
    creds = { username: broker.publisher.user, password: broker.publisher.password };
  } else {
    url = o.url;
    external = true;
    creds = o.username === undefined ? {} : { username: o.username, ...(o.password === undefined ? {} : { password: o.password }) };
  }
  const id = `twinline-${slug(o.spec.id)}-${process.pid}-${Math.floor(clock.now() % 1e6)}`;
  const principalOf = (): string => `unverified@${new URL(url).host}`;

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
    ncmd: (payload) => {
      if (sp === null) return 'Sparkplug B is not enabled (--mqtt-encoding)';
      const r = sp.node.ncmd(payload);
      if (typeof r !== 'string' && r.rebirth) rebirth();
      return r;
    },
    dcmd: (payload, station) => (sp === null ? 'Sparkplug B is not enabled (--mqtt-encoding)' : sp.node.dcmd(payload, slug(station))),
    warn,
  };
  const onMessage = (m: Incoming): Promise<void> => dispatch(ctx, m);

  const subscribe = (link: Link<unknown>, filters: string[]): void => {
    if (!external) return; // the embedded broker hands commands over in-process, with the sender's identity
    link.client.subscribe(filters, { qos: 1 });
    link.client.on('message', (topic, payload) => void onMessage({ topic, payload, principal: principalOf() }));
  };

  if (o.encoding !== 'sparkplug') {
    const enc = new UnsEncoder(prefix, stations, tagCount);
    const status = `${prefix}/$status`;
    const link = openLink<UnsMessage>({
      url,
      mqtt: { ...creds, clientId: `${id}-uns`, clean: true, will: { topic: status, payload: Buffer.from('{"online":false}'), qos: 1, retain: true } },
      outbox: { ...bound, window: 1000, size: unsSize, requeueFailed: false },
      deliver: deliverUns,
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

  const notes = [...(broker?.notes ?? [])];
  if (broker !== null) notes.push('  MQTT roles: operator may publish command topics; gateway may publish outside the twin\'s namespace; viewer and anonymous clients may only subscribe.');
  return {
    url,
    wsUrl: broker?.wsUrl ?? null,
    prefix, group, edge,
    fellBackFrom: broker?.fellBackFrom ?? { tcp: null, ws: null },
    notes,
    stats: () => ({
      uns: uns === null ? null : { published: uns.link.outbox.stats.sent, queued: uns.link.outbox.stats.queued, dropped: uns.link.outbox.stats.dropped, peak: uns.link.outbox.stats.peak, connects: uns.link.connects },
      sparkplug: sp === null ? null : {
        published: sp.link.outbox.stats.sent, queued: sp.link.outbox.stats.queued, dropped: sp.link.outbox.stats.dropped, peak: sp.link.outbox.stats.peak,
        connects: sp.link.connects, bdSeq: sp.node.bdSeq, rebirths: sp.node.rebirths,
      },
      commands,
      refused: broker?.refused.length ?? 0,
    }),
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
