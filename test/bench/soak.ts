/**
 * `npm run soak [-- --minutes M] [--speed X] [--scenario S]` (not in CI): one host
 * (ceramic-after at 10× real time by default, profile open, the embedded MQTT broker) with a
 * client on every face for M minutes (default 30):
 *
 * - an OPC UA client (node-opcua, no security, anonymous) monitoring every tag of every station;
 * - an MQTT subscriber to the whole unified namespace;
 * - the live WebSocket at 20 Hz, as the web app opens it;
 * - a REST poll of `/api/state` once a second.
 *
 * Every 10 s it reads the host's RSS (/proc) and what each client received. At the end it fits a
 * least-squares line through the RSS samples after the first fifth (start-up and warm-up) and
 * prints the growth it predicts over that span relative to the mean RSS: flat within 10 % is the
 * target. A client that stops receiving is printed too (a soak that feeds nobody proves nothing).
 * Exit 0 when flat within 10 % and every client kept receiving, 1 otherwise.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { AttributeIds, ClientMonitoredItemGroup, ClientSubscription, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn } from 'node-opcua';
import WebSocket from 'ws';
import { lineNamespaceUri } from '../../sim/protocols/opcua/namespaces.ts';
import { startServe } from '../integration/serve-proc.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const k = args.indexOf(`--${name}`);
  return k >= 0 && args[k + 1] !== undefined ? args[k + 1]! : dflt;
};
const MINUTES = Number(flag('minutes', '30'));
const SPEED = Number(flag('speed', '10'));
const SCENARIO = flag('scenario', 'ceramic-after');
const SAMPLE_MS = 10_000;
if (!(MINUTES > 0) || !(SPEED > 0)) {
  console.error('usage: npm run soak [-- --minutes M (default 30)] [--speed X (default 10)] [--scenario S (default ceramic-after)]');
  process.exit(2);
}

/** Resident set size of `pid` [MB]. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let k = 0; k < n; k++) {
    num += (xs[k]! - mx) * (ys[k]! - my);
    den += (xs[k]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const host = await startServe([SCENARIO, '--speed', String(SPEED), '--profile', 'open', '--http-port', '0', '--opcua-port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '0']);
const pid = host.proc.pid!;
const mqttUrl = /MQTT\s+(mqtt:\/\/\S+)/.exec(host.out())?.[1];
console.log(`soak: ${SCENARIO} at ${SPEED}× for ${MINUTES} min; host pid ${pid}, ${host.base}, ${host.endpoint}, ${mqttUrl ?? 'no MQTT'}`);
const got = { opcua: 0, mqtt: 0, ws: 0, rest: 0 };
// OPC UA: every tag of every station
const line = (await (await host.request('api/line')).json()) as { stations: { id: string; tags: { name: string }[] }[] };
const client = OPCUAClient.create({ securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None, endpointMustExist: false, connectionStrategy: { maxRetry: 3, initialDelay: 500 } });
await client.connect(host.endpoint);
const session = await client.createSession();
const nsArray = (await session.readNamespaceArray()) as string[];
const ns = nsArray.indexOf(lineNamespaceUri(SCENARIO));
const nodes = line.stations.flatMap((s) => s.tags.map((t) => `ns=${ns};s=${s.id}.${t.name}`));
const sub = ClientSubscription.create(session, { requestedPublishingInterval: 250, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 200, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
const group = ClientMonitoredItemGroup.create(sub, nodes.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })), { samplingInterval: 250, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
group.on('changed', () => got.opcua++);
// MQTT: the whole unified namespace
const mq = mqttUrl !== undefined ? mqtt.connect(mqttUrl, { clientId: 'twinline-soak' }) : null;
mq?.on('connect', () => mq.subscribe('#'));
mq?.on('message', () => got.mqtt++);
// the live socket at 20 Hz
const ws = new WebSocket(new URL('api/live?hz=20', host.base.replace(/^http/, 'ws')), ['twinline.v1']);
ws.on('message', () => got.ws++);
const poll = setInterval(() => {
  void host.request('api/state').then((r) => r.arrayBuffer()).then(() => got.rest++, () => undefined);
}, 1000);

const t0 = Date.now();
const xs: number[] = [];
const ys: number[] = [];
const stalled: string[] = [];
let last = { ...got };
console.log('min     RSS MB   OPC UA   MQTT     WS    REST   (received in the last 10 s)');
while (Date.now() - t0 < MINUTES * 60_000 && host.proc.exitCode === null) {
  await new Promise((r) => setTimeout(r, SAMPLE_MS));
  const m = (Date.now() - t0) / 60_000;
  const rss = rssMb(pid);
  xs.push(m);
  ys.push(rss);
  const d = { opcua: got.opcua - last.opcua, mqtt: got.mqtt - last.mqtt, ws: got.ws - last.ws, rest: got.rest - last.rest };
  last = { ...got };
  for (const [face, n] of Object.entries(d)) if (n === 0 && !(face === 'mqtt' && mq === null)) stalled.push(`${face} at ${m.toFixed(1)} min`);
  console.log(`${m.toFixed(1).padStart(5)}  ${rss.toFixed(1).padStart(7)}  ${String(d.opcua).padStart(7)}  ${String(d.mqtt).padStart(6)}  ${String(d.ws).padStart(5)}  ${String(d.rest).padStart(6)}`);
}
clearInterval(poll);
ws.close();
mq?.end(true);
await sub.terminate().catch(() => undefined);
await session.close().catch(() => undefined);
await client.disconnect();
const exited = host.proc.exitCode;
await host.stop('SIGTERM', 30_000);

const from = Math.floor(xs.length / 5);
const sx = xs.slice(from);
const sy = ys.slice(from);
let code = 0;
if (exited !== null) {
  console.log(`soak: the host exited (${exited}) after ${xs.at(-1)?.toFixed(1) ?? 0} min`);
  code = 1;
} else if (sx.length < 3) {
  console.log('soak: too short to fit a slope (give at least 1 minute)');
  code = 1;
} else {
  const perMin = slope(sx, sy);
  const mean = sy.reduce((a, b) => a + b, 0) / sy.length;
  const span = sx.at(-1)! - sx[0]!;
  const growth = (perMin * span) / mean;
  console.log(`soak: RSS ${sy[0]!.toFixed(1)} → ${sy.at(-1)!.toFixed(1)} MB after warm-up; slope ${(perMin * 60).toFixed(1)} MB/h; growth over ${span.toFixed(1)} min ${(growth * 100).toFixed(1)} % of the mean ${mean.toFixed(1)} MB (target: within 10 %)`);
  if (Math.abs(growth) > 0.1) code = 1;
}
if (stalled.length > 0) {
  console.log(`soak: clients that received nothing for 10 s: ${stalled.slice(0, 10).join(', ')}${stalled.length > 10 ? ` (+${stalled.length - 10})` : ''}`);
  code = 1;
}
console.log(`soak: received ${got.opcua} OPC UA notifications, ${got.mqtt} MQTT messages, ${got.ws} live frames, ${got.rest} state polls`);
process.exit(code);
