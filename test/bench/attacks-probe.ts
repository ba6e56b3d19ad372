/**
 * Child process of the `attacks` bench section: the host's responsiveness as a viewer sees it,
 * measured in a process of its own so that the attacker's work in the parent (building a
 * 10,000-filter SUBSCRIBE, opening thousands of sockets) never stalls the probe's timers.
 *
 * - REST: `GET /api/state` with a bearer token on a new connection, one request every 50 ms
 *   whether or not the last one answered (open loop: a host that stops answering shows as
 *   latency, not as fewer samples).
 * - UNS: one MQTT subscriber on `<prefix>/#` counting the messages that arrive.
 *
 * The parent opens a window (`start`) and closes it (`stop`); the probe then waits for the
 * requests issued inside the window (each bounded by REQUEST_TIMEOUT_MS) and reports.
 */
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, type MqttClient } from 'mqtt';
import { quantile } from './common.ts';

/** one REST probe this often [ms] */
export const PROBE_EVERY_MS = 50;
/** a probe request still unanswered this long after it was issued is given up (and counted at this latency) [ms] */
export const REQUEST_TIMEOUT_MS = 20_000;

/** MQTT credentials to try in order; `user` null: anonymous. */
export interface MqttCred {
  label: string;
  user: string | null;
  password: string;
}

/** Parent → probe. */
export type ProbeCommand =
  | { cmd: 'init'; base: string; token: string; mqttUrl: string; prefix: string; creds: MqttCred[] }
  | { cmd: 'start' }
  | { cmd: 'stop' };

/** What one window measured. */
export interface ProbeWindow {
  /** window length [s] */
  seconds: number;
  /** REST requests issued in the window */
  requests: number;
  /** latency quantiles and maximum [ms], timeouts counted at REQUEST_TIMEOUT_MS */
  p50: number;
  p99: number;
  max: number;
  /** responses other than 200, by status ('timeout', or 'error <code>' for no response) */
  failures: Record<string, number>;
  /** UNS messages received in the window */
  messages: number;
  /** times the subscriber lost its connection in the window */
  drops: number;
  /**
   * longest stretch without any HTTP answer, from the window's start to its last answer [ms];
   * and from that last answer until the window's last request gave up (0 unless it ended in silence)
   */
  silenceMs: number;
  endSilenceMs: number;
  /** worst event-loop delay of the probe itself [ms] (the probe's own timing error) */
  probeLagMs: number;
}

/** Probe → parent. */
export type ProbeReply = { kind: 'ready'; mqttAs: string; cred: number } | { kind: 'window'; w: ProbeWindow } | { kind: 'error'; message: string };

const send = (m: ProbeReply): void => {
  process.send?.(m);
};

/** Connects with the first credential the broker accepts. */
async function subscriber(url: string, prefix: string, creds: readonly MqttCred[], onMessage: () => void, onDrop: () => void): Promise<{ client: MqttClient; as: string; cred: number }> {
  const tried: string[] = [];
  for (const [k, c] of creds.entries()) {
    const client = connect(url, {
      clientId: `bench-probe-${process.pid}-${tried.length}`, clean: true, reconnectPeriod: 0, connectTimeout: 15_000,
      ...(c.user === null ? {} : { username: c.user, password: c.password }),
    });
    const ok = await new Promise<boolean>((resolve) => {
      client.once('connect', () => resolve(true));
      client.once('error', () => resolve(false));
      client.once('close', () => resolve(false));
    });
    if (!ok) {
      client.end(true);
      tried.push(`${c.label} refused`);
      continue;
    }
    await client.subscribeAsync(`${prefix}/#`, { qos: 0 });
    client.on('message', onMessage);
    // stay subscribed through an attack that costs the probe its connection: count the drop, come back
    client.on('close', onDrop);
    client.options.reconnectPeriod = 1000;
    client.on('connect', () => void client.subscribeAsync(`${prefix}/#`, { qos: 0 }).catch(() => undefined));
    return { client, as: [...tried, c.label].join(', then '), cred: k };
  }
  throw new Error(`no MQTT credential was accepted (${tried.join('; ')})`);
}

/** One GET /api/state; resolves with [latency ms, status or 'timeout'/'error', when it settled]. */
function probe(url: URL, token: string, agent: Agent): Promise<[number, string, number]> {
  const t0 = performance.now();
  return probeOnce(url, token, agent, t0).then(([ms, status]) => [ms, status, t0 + ms]);
}

function probeOnce(url: URL, token: string, agent: Agent, t0: number): Promise<[number, string]> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve([performance.now() - t0, String(res.statusCode ?? 0)]));
      res.on('error', () => resolve([performance.now() - t0, 'error']));
    });
    // from the moment it is issued, waiting for a pooled connection included
    const timer = setTimeout(() => {
      resolve([performance.now() - t0, 'timeout']);
      req.destroy();
    }, REQUEST_TIMEOUT_MS);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e: NodeJS.ErrnoException) => resolve([performance.now() - t0, `error ${e.code ?? e.message.slice(0, 40)}`]));
    req.end();
  });
}

async function main(): Promise<void> {
  const init = await new Promise<Extract<ProbeCommand, { cmd: 'init' }>>((resolve) => {
    process.once('message', (m: ProbeCommand) => {
      if (m.cmd === 'init') resolve(m);
    });
  });
  let messages = 0;
  let drops = 0;
  const { client, as, cred } = await subscriber(init.mqttUrl, init.prefix, init.creds, () => messages++, () => drops++);
  // a fresh connection per request: what a new client meets, and no reuse of a socket the
  // server is just closing for idleness (which reads as ECONNRESET, a client artefact)
  const agent = new Agent({ keepAlive: false });
  const url = new URL('api/state', init.base);
  const lag = monitorEventLoopDelay({ resolution: 10 });

  let timer: NodeJS.Timeout | null = null;
  let pending: Promise<[number, string, number]>[] = [];
  let t0 = 0;
  let m0 = 0;
  let d0 = 0;
  process.on('message', (m: ProbeCommand) => {
    if (m.cmd === 'start' && timer === null) {
      pending = [];
      t0 = performance.now();
      m0 = messages;
      d0 = drops;
      lag.reset();
      lag.enable();
      pending.push(probe(url, init.token, agent));
      timer = setInterval(() => pending.push(probe(url, init.token, agent)), PROBE_EVERY_MS);
    } else if (m.cmd === 'stop' && timer !== null) {
      clearInterval(timer);
      timer = null;
      const seconds = (performance.now() - t0) / 1000;
      const got = messages - m0;
      const dropped = drops - d0;
      lag.disable();
      const probeLagMs = lag.max / 1e6;
      const start = t0;
      void Promise.all(pending).then((results) => {
        const ms = results.map(([t]) => t);
        const failures: Record<string, number> = {};
        for (const [, s] of results) if (s !== '200') failures[s] = (failures[s] ?? 0) + 1;
        const answers = results.filter(([, s]) => /^\d+$/.test(s)).map(([, , at]) => at - start).sort((a, b) => a - b);
        let silenceMs = 0;
        let last = 0;
        for (const at of answers) {
          silenceMs = Math.max(silenceMs, at - last);
          last = at;
        }
        const settled = Math.max(...results.map(([, , at]) => at - start));
        send({
          kind: 'window',
          w: { seconds, requests: results.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: Math.max(...ms), failures, messages: got, drops: dropped, silenceMs, endSilenceMs: settled - last, probeLagMs },
        });
      });
    }
  });
  process.once('disconnect', () => {
    if (timer !== null) clearInterval(timer);
    agent.destroy();
    client.end(true);
  });
  send({ kind: 'ready', mqttAs: as, cred });
}

main().catch((e: unknown) => {
  send({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
  process.disconnect?.();
});
