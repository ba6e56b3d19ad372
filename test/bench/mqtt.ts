/**
 * Bench section `mqtt`: how fast the MQTT face gets the line's messages into a real Mosquitto
 * (started on a free port), against raw mqtt.js publishing the very same payloads.
 *
 * The messages are the face's own: the ceramic line is stepped 1 s of simulated time per
 * sample and the samples are kept; the timed run replays them through a fresh encoder (UNS
 * JSON with report-by-exception, or Sparkplug B DDATA with protobuf encoding at send time)
 * into the face's store-and-forward link, until the broker has them. The baseline publishes
 * the same topics and payloads, pre-encoded, with one mqtt.js client. Both end with a QoS 1
 * marker message, so "has them" means the broker acknowledged everything before it.
 */
import { readFileSync } from 'node:fs';
import { connect, type MqttClient } from 'mqtt';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { openLink } from '../../sim/protocols/mqtt/link.ts';
import { deliverSparkplug, SparkplugNode, sparkplugSize, type DeviceData } from '../../sim/protocols/mqtt/sparkplug.ts';
import { lineTags, Sample, type StationTags } from '../../sim/protocols/mqtt/tags.ts';
import { slug, unsPrefix } from '../../sim/protocols/mqtt/topics.ts';
import { deliverUns, UnsEncoder, unsSize, type UnsMessage } from '../../sim/protocols/mqtt/uns.ts';
import { startMosquitto } from '../integration/brokers.ts';
import { fmt, ratio, type BenchRow, type SectionResult } from './common.ts';

/** messages each run publishes, at least */
const UNS_MESSAGES = 60_000;
/** DDATA messages each run publishes, at least */
const SP_MESSAGES = 20_000;
const ROUNDS = 3;

interface Recorded {
  values: Float64Array[];
  states: Int32Array[];
  times: number[];
}

/** Steps the line and keeps samples until `enough(samples)` says stop. */
function record(stations: StationTags[], world: ReturnType<typeof createWorld>, enough: (r: Recorded, sample: Sample) => boolean): Recorded {
  const sample = new Sample(world, stations);
  const r: Recorded = { values: [], states: [], times: [] };
  do {
    world.step(1000);
    sample.take();
    r.values.push(sample.values.slice());
    r.states.push(sample.states.slice());
    r.times.push(sample.simTime);
  } while (!enough(r, sample) && r.times.length < 200_000);
  return r;
}

/** Feeds every recorded sample, in order, to `encode`. */
function replayAll(world: ReturnType<typeof createWorld>, stations: StationTags[], r: Recorded, encode: (sample: Sample) => void): void {
  const sample = new Sample(world, stations);
  for (let k = 0; k < r.times.length; k++) {
    sample.values.set(r.values[k]!);
    sample.states.set(r.states[k]!);
    sample.simTime = r.times[k]!;
    encode(sample);
  }
}

function connected(url: string, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = connect(url, { clientId, clean: true, reconnectPeriod: 0 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** Publishes a QoS 1 marker and resolves when the broker acknowledged it (and so everything before). */
function marker(c: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => c.publish('bench/marker', 'x', { qos: 1 }, (e) => (e ? reject(e) : resolve())));
}

/** Raw mqtt.js: every message at once, then waits for every callback and the marker [ms]. */
async function raw(url: string, msgs: readonly { topic: string; payload: string | Buffer; qos: 0 | 1; retain: boolean }[]): Promise<number> {
  const c = await connected(url, `bench-raw-${process.pid}`);
  // mqtt.js waits for 'drain' once per write the socket buffers: thousands at once here, by design
  c.stream.setMaxListeners(0);
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      let left = msgs.length;
      for (const m of msgs) c.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain }, (e) => (e ? reject(e) : --left === 0 && resolve()));
    });
    await marker(c);
    return performance.now() - t0;
  } finally {
    await c.endAsync();
  }
}

/** Our link: pushes what `feed` produces into the store-and-forward outbox, waits until sent [ms]. */
async function ours<T>(url: string, o: { window: number; size: (t: T) => number; requeueFailed: boolean; deliver: (c: MqttClient, t: T, done: (e?: Error) => void) => void }, feed: (push: (t: T) => void) => void): Promise<number> {
  let up: () => void = () => undefined;
  const ready = new Promise<void>((r) => (up = r));
  const link = openLink<T>({
    url, mqtt: { clientId: `bench-ours-${process.pid}`, clean: true },
    outbox: { maxMessages: 10_000_000, maxBytes: 4 * 1024 ** 3, window: o.window, size: o.size, requeueFailed: o.requeueFailed, warn: (l) => console.log(l) },
    deliver: o.deliver, onUp: () => up(), warn: (l) => console.log(l),
  });
  try {
    await ready;
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    let n = 0;
    feed((t) => {
      n++;
      link.outbox.push(t);
    });
    while (link.outbox.stats.sent < n) await new Promise((r) => setImmediate(r));
    await marker(link.client);
    return performance.now() - t0;
  } finally {
    await link.close();
  }
}

const best = (xs: number[]): number => Math.min(...xs);

/** The `mqtt` section. */
export async function mqttBench(log: (line: string) => void): Promise<SectionResult> {
  const file = 'scenarios/ceramic-after.yaml';
  const spec = parseScenario(readFileSync(file, 'utf8'), file);
  const prefix = unsPrefix(spec.isa95);
  const world = createWorld(spec);
  world.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'bench' });
  const stations = lineTags(spec, world);
  const tagCount = stations.reduce((a, s) => a + s.tags.length, 0);

  // UNS: samples until a fresh encoder makes enough messages; the messages the baseline sends
  const countEnc = new UnsEncoder(prefix, stations, tagCount);
  const unsMsgs: UnsMessage[] = [];
  const unsRec = record(stations, world, (_r, s) => {
    countEnc.changes(s, (m) => unsMsgs.push(m));
    return unsMsgs.length >= UNS_MESSAGES;
  });
  // Sparkplug: the same for DDATA, encoded once for the baseline with a fixed clock
  const clock = (): number => 1_700_000_000_000;
  const countNode = new SparkplugNode(slug(spec.isa95.site), slug(spec.isa95.line), stations, tagCount, clock);
  const spData: DeviceData[] = [];
  const spRec = record(stations, createWorld(spec), (_r, s) => {
    countNode.changes(s, (d) => spData.push(d));
    return spData.length >= SP_MESSAGES;
  });
  const spMsgs = spData.map((d) => ({ ...countNode.ddata(d), qos: 0 as const, retain: false }));
  const spMetrics = spData.reduce((a, d) => a + d.metrics.length, 0);
  log(`line: ${spec.id}, ${tagCount} tags; UNS ${fmt(unsMsgs.length)} messages from ${fmt(unsRec.times.length)} samples; Sparkplug ${fmt(spMsgs.length)} DDATA carrying ${fmt(spMetrics)} metrics from ${fmt(spRec.times.length)} samples`);

  const broker = await startMosquitto();
  try {
    const t = { unsOurs: [] as number[], unsRaw: [] as number[], spOurs: [] as number[], spRaw: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      t.unsRaw.push(await raw(broker.url, unsMsgs.map((m) => ({ ...m, qos: 1 as const }))));
      const enc = new UnsEncoder(prefix, stations, tagCount);
      t.unsOurs.push(await ours<UnsMessage>(broker.url, { window: 1000, size: unsSize, requeueFailed: false, deliver: deliverUns },
        (push) => replayAll(world, stations, unsRec, (sample) => enc.changes(sample, push))));
      t.spRaw.push(await raw(broker.url, spMsgs));
      const node = new SparkplugNode(slug(spec.isa95.site), slug(spec.isa95.line), stations, tagCount, clock);
      t.spOurs.push(await ours<DeviceData>(broker.url, { window: 256, size: sparkplugSize, requeueFailed: true, deliver: deliverSparkplug(node) },
        (push) => replayAll(world, stations, spRec, (sample) => node.changes(sample, push))));
      log(`round ${round + 1}: UNS ours ${fmt(t.unsOurs[round]!)} ms, raw ${fmt(t.unsRaw[round]!)} ms; Sparkplug ours ${fmt(t.spOurs[round]!)} ms, raw ${fmt(t.spRaw[round]!)} ms`);
    }
    const rate = (n: number, ms: number): number => n / (ms / 1000);
    const unsOurs = rate(unsMsgs.length, best(t.unsOurs));
    const unsRaw = rate(unsMsgs.length, best(t.unsRaw));
    const spOurs = rate(spMsgs.length, best(t.spOurs));
    const spRaw = rate(spMsgs.length, best(t.spRaw));
    const rows: BenchRow[] = [
      ['MQTT UNS msgs/s to Mosquitto (QoS 1, encode + store-and-forward)', fmt(unsOurs), 'raw mqtt.js, same payloads', fmt(unsRaw), ratio(unsOurs, unsRaw)],
      ['MQTT Sparkplug DDATA msgs/s to Mosquitto (QoS 0, protobuf at send)', fmt(spOurs), 'raw mqtt.js, same payloads pre-encoded', fmt(spRaw), ratio(spOurs, spRaw)],
      ['Sparkplug tag updates/s carried by DDATA', fmt(rate(spMetrics, best(t.spOurs))), 'raw mqtt.js, same payloads pre-encoded', fmt(rate(spMetrics, best(t.spRaw))), ratio(spOurs, spRaw)],
    ];
    return {
      rows,
      notes: [
        `targets: UNS ≥ 0.8× raw: ${unsOurs >= 0.8 * unsRaw ? 'met' : 'NOT met'}; Sparkplug ≥ 0.8× raw: ${spOurs >= 0.8 * spRaw ? 'met' : 'NOT met'} (best of ${ROUNDS} rounds each)`,
        `${fmt(spMetrics / spMsgs.length, 1)} metrics per DDATA on average (one DDATA per station with changes per sample)`,
      ],
    };
  } finally {
    await broker.dispose();
  }
}
