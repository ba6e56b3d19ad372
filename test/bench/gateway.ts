/**
 * Bench section `gateway`: how many gateway messages per second `gateway check` can judge,
 * against the raw subscription rate on the same broker. A real Mosquitto (started on a free
 * port) carries a recorded stream: the ceramic line read every 10 ms for 20 s of simulated
 * time, the twin's UNS messages (every 100 ms past the deadband) interleaved with a gateway's
 * (every change, no deadband: the heaviest load a faithful gateway makes). One publisher sends
 * it as fast as the broker takes it; the baseline subscriber only counts messages, the
 * measured one runs check's handler on each (parse, match, judge) and reports at the end.
 */
import { connect, type MqttClient } from 'mqtt';
import { DeliveryCheck } from '../../sim/gateway/check.ts';
import { checkHandler } from '../../sim/gateway/live-check.ts';
import { catalog, record } from '../unit/gateway-trace.ts';
import { startMosquitto } from '../integration/brokers.ts';
import { fmt, ratio, type BenchRow, type SectionResult } from './common.ts';

const SOURCE = 'gw/bench';

/** The stream: UNS truth and gateway messages in time order. */
function stream(): { topic: string; payload: string }[] {
  const trace = record(20, 120);
  const out: { topic: string; payload: string }[] = [];
  const twin: unknown[] = catalog.tags.map(() => undefined);
  const gw: unknown[] = catalog.tags.map(() => undefined);
  trace.values.forEach((row, k) => {
    catalog.tags.forEach((t, i) => {
      const x = row[i]!;
      if (k % 10 === 0 && twin[i] !== x && (typeof x !== 'number' || typeof twin[i] !== 'number' || t.dataType !== 'Double' || Math.abs(x - (twin[i] as number)) >= (t.relative ? t.deadband * Math.abs(twin[i] as number) : t.deadband))) {
        twin[i] = x;
        out.push({ topic: t.unsTopic, payload: JSON.stringify({ v: x, t: k / 100, u: t.unit }) });
      }
      if (gw[i] !== x) {
        gw[i] = x;
        out.push({ topic: `${SOURCE}/${t.slug}/${t.field}`, payload: JSON.stringify({ value: x }) });
      }
    });
  });
  return out;
}

const connected = (url: string): Promise<MqttClient> => new Promise((resolve, reject) => {
  const c = connect(url, { reconnectPeriod: 0 });
  c.once('connect', () => resolve(c));
  c.once('error', reject);
});

/** Publishes `msgs` then an end marker; resolves with messages/s the subscriber `handle`d. */
async function run(url: string, msgs: { topic: string; payload: string }[], handle: (topic: string, payload: Buffer) => void): Promise<number> {
  const sub = await connected(url);
  const pub = await connected(url);
  let n = 0;
  let first = NaN;
  const done = new Promise<number>((resolve) => {
    sub.on('message', (topic, payload) => {
      if (topic === 'bench/end') {
        resolve(n / ((performance.now() - first) / 1000));
        return;
      }
      if (n++ === 0) first = performance.now();
      handle(topic, payload);
    });
  });
  // QoS 1 in both: the broker keeps order and drops nothing, so both judge the same stream
  await sub.subscribeAsync(['#'], { qos: 1 });
  for (const m of msgs) pub.publish(m.topic, m.payload, { qos: 1 });
  pub.publish('bench/end', '', { qos: 1 });
  const rate = await done;
  await Promise.all([sub.endAsync(), pub.endAsync()]);
  return rate;
}

/** The section. */
export async function gatewayBench(log: (line: string) => void): Promise<SectionResult> {
  const msgs = stream();
  const gwCount = msgs.filter((m) => m.topic.startsWith(SOURCE)).length;
  log(`stream: ${fmt(msgs.length)} messages (${fmt(gwCount)} from the gateway, ${fmt(msgs.length - gwCount)} twin changes) of ${catalog.tags.length} tags`);
  const broker = await startMosquitto();
  try {
    const raw = await run(broker.url, msgs, () => undefined);
    const check = new DeliveryCheck(catalog.tags);
    const handle = checkHandler(catalog, `${SOURCE}/#`, check);
    const t0 = performance.now();
    check.begin(0);
    const judged = await run(broker.url, msgs, (topic, payload) => handle(topic, payload, false, performance.now() - t0));
    const r = check.report(performance.now() - t0);
    log(`raw ${fmt(raw)} msg/s, check ${fmt(judged)} msg/s; the check found ${r.problems.length === 0 ? 'no problems' : r.problems.join('; ')}`);
    const rows: BenchRow[] = [['gateway check: messages judged [msg/s]', fmt(judged), 'raw subscription on the same broker', fmt(raw), ratio(judged, raw)]];
    return { rows, notes: [`check judged ${fmt(r.messages.values)} gateway values and ${fmt(r.messages.truth)} twin changes; a ratio near 1× means it keeps up with what the broker delivers`] };
  } finally {
    await broker.dispose();
  }
}
