/**
 * A line in a real Node worker with the real MQTT face on it, without the HTTP host: the
 * tests read the line's event log (commands, rejections, audit entries) by draining it, as
 * the host does. Also raw MQTT packets for attacks no well-behaved client library sends.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { SimEvent } from '../../sim/core/events.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { startMqtt, type MqttFace, type MqttOptions } from '../../sim/protocols/mqtt/face.ts';
import { loadRemote, spawnNodeSim } from '../../sim/worker/node-host.ts';
import { connectPacket as rawConnectPacket, packet, publishQos2, str } from '../../security/attacks/clients/mqtt-raw.ts';

export const SCENARIO = 'test/fixtures/scenarios/minimal.yaml';
export const PREFIX = 'twinline/test/unit/minimal';

/** A running line with its MQTT face. */
export interface Twin {
  face: MqttFace;
  /** every event drained so far, oldest first */
  events: SimEvent[];
  /** Waits (draining every 100 ms) until `n` events match `pred`; returns those there are after `ms`. */
  eventsWhere(pred: (e: SimEvent) => boolean, n?: number, ms?: number): Promise<SimEvent[]>;
  /** the line's sim time [s] */
  simTime(): Promise<number>;
  /** lines the face logged */
  log: string[];
  /** Starts another MQTT face on the same line (closed with it). */
  addFace(o: Omit<MqttOptions, 'spec' | 'api' | 'log'>): Promise<MqttFace>;
  close(): Promise<void>;
}

/** Starts a line (minimal fixture by default) in a worker and the MQTT face on it. */
export async function startTwin(o: Omit<MqttOptions, 'spec' | 'api' | 'log'> & { scenario?: string }): Promise<Twin> {
  const file = o.scenario ?? SCENARIO;
  const text = readFileSync(file, 'utf8');
  const spec = parseScenario(text, file);
  const sim = spawnNodeSim();
  const log: string[] = [];
  let face: MqttFace;
  try {
    await loadRemote(sim.api, text, file);
    await sim.api.start();
    face = await startMqtt({ ...o, spec, api: sim.api, log: (l) => log.push(l) });
  } catch (e) {
    await sim.terminate();
    throw e;
  }
  const events: SimEvent[] = [];
  const drain = async (): Promise<void> => {
    events.push(...(await sim.api.drainEvents()));
  };
  const pump = setInterval(() => void drain().catch(() => undefined), 100);
  const more: MqttFace[] = [];
  return {
    face,
    events,
    log,
    async addFace(extra) {
      const f = await startMqtt({ ...extra, spec, api: sim.api, log: (l) => log.push(l) });
      more.push(f);
      return f;
    },
    async eventsWhere(pred, n = 1, ms = 5000) {
      const end = Date.now() + ms;
      for (;;) {
        await drain();
        const got = events.filter(pred);
        if (got.length >= n || Date.now() > end) return got;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    simTime: async () => (await sim.api.state()).simTimeS,
    async close() {
      clearInterval(pump);
      for (const f of more) await f.close();
      await face.close();
      await sim.terminate();
    },
  };
}

/** An audit event of the MQTT face matching `action` (and `pred`). */
export function isAudit(action: string | RegExp, pred: (d: Record<string, unknown>) => boolean = () => true): (e: SimEvent) => boolean {
  return (e) => e.type === 'audit' && e.data.source === 'mqtt' && (typeof action === 'string' ? e.data.action === action : action.test(String(e.data.action))) && pred(e.data);
}

// ───────────────────────────── raw packets ─────────────────────────────

export { packet, publishQos2 };

/** CONNECT (MQTT 3.1.1, clean session, keepalive 60 s): the range's raw client's, with the harness's account shape. */
export function connectPacket(clientId: string, user?: { username: string; password: string }): Buffer {
  return rawConnectPacket(clientId, user === undefined ? null : { user: user.username, password: user.password });
}

/** SUBSCRIBE (packet id 1) of `filters`, QoS 0 each. */
export function subscribePacket(filters: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 1])];
  for (const f of filters) parts.push(str(f), Buffer.from([0]));
  return packet(0x82, Buffer.concat(parts));
}

/** A raw TCP connection to a broker, recording what comes back and when it closes. */
export interface Raw {
  socket: Socket;
  received(): Buffer;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Opens a raw connection (from `localAddress`, e.g. another loopback address). */
export function raw(url: string, localAddress?: string): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port), ...(localAddress === undefined ? {} : { localAddress }) });
    const chunks: Buffer[] = [];
    let isClosed = false;
    const closed = new Promise<void>((r) => socket.once('close', () => {
      isClosed = true;
      r();
    }));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed, isClosed: () => isClosed }));
    socket.once('error', reject);
  });
}

/** Resolves true when `p` settles within `ms`, else false. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

/** The CONNACK return code a raw connection got (-1: closed or silent for 5 s without one). */
export async function connack(r: Raw): Promise<number> {
  const end = Date.now() + 5000;
  while (r.received().length < 4 && !r.isClosed() && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
  const b = r.received();
  return b.length >= 4 && b[0] === 0x20 ? b[3]! : -1;
}

/** Connects raw (from `localAddress`), returns the CONNACK return code and closes. */
export async function tryConnect(url: string, clientId: string, user?: { username: string; password: string }, localAddress?: string): Promise<number> {
  const r = await raw(url, localAddress);
  r.socket.write(connectPacket(clientId, user));
  const rc = await connack(r);
  r.socket.destroy();
  return rc;
}
