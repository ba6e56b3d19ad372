/**
 * The attacks of the `attacks` bench section, each bounded in count and time and aimed at
 * loopback only: one SUBSCRIBE carrying thousands of topic filters, a flood of idle TCP
 * connections, MQTT CONNECTs with a wrong password, and a flood of commands the line refuses.
 * Each reports what the attacker saw, so the section can say what happened, not only how fast.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect, type MqttClient } from 'mqtt';
import type { MqttCred } from './attacks-probe.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process [MB], from /proc; NaN when it has gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every 100 ms until stopped: the peak and the samples [MB]. */
export function watchRss(pid: number): { stop(): { peak: number; samples: number[] } } {
  const samples = [rssMb(pid)];
  const h = setInterval(() => samples.push(rssMb(pid)), 100);
  return {
    stop() {
      clearInterval(h);
      samples.push(rssMb(pid));
      return { peak: Math.max(...samples.filter(Number.isFinite)), samples };
    },
  };
}

/** `POST /api/login`; the bearer token. */
export async function login(base: string, user: string, password: string): Promise<string> {
  const r = await fetch(new URL('api/login', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  const body = (await r.json()) as { token?: string };
  if (r.status !== 200 || typeof body.token !== 'string') throw new Error(`login as ${user}: HTTP ${r.status} ${JSON.stringify(body).slice(0, 200)}`);
  return body.token;
}

/** Connects to the broker; the client, or why the broker refused it. */
async function mqttClient(url: string, clientId: string, cred: MqttCred | null): Promise<{ client: MqttClient } | { refused: string }> {
  const client = connect(url, {
    clientId, clean: true, reconnectPeriod: 0, connectTimeout: 10_000,
    ...(cred === null || cred.user === null ? {} : { username: cred.user, password: cred.password }),
  });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ client }));
    client.once('error', (e) => {
      client.end(true);
      resolve({ refused: `CONNECT refused (${e.message})` });
    });
    client.once('close', () => resolve({ refused: 'connection closed before CONNACK' }));
  });
}

/**
 * One client sends one SUBSCRIBE with `filters` topic filters (wildcards under the line's
 * prefix, so that every filter must be matched against the retained messages), then holds its
 * connection until `holdMs` after the start. What the attacker saw, in words.
 */
export async function subscribeFlood(url: string, prefix: string, filters: number, cred: MqttCred | null, holdMs: number): Promise<string> {
  const t0 = performance.now();
  const c = await mqttClient(url, `bench-attack-sub-${process.pid}-${cred === null ? 'anon' : 'acct'}`, cred);
  if ('refused' in c) {
    await sleep(Math.max(0, holdMs - (performance.now() - t0)));
    return c.refused;
  }
  const topics = Array.from({ length: filters }, (_, i) => `${prefix}/f${i}/+/#`);
  const tSub = performance.now();
  const outcome = await new Promise<string>((resolve) => {
    const left = Math.max(1000, holdMs - (tSub - t0));
    const timer = setTimeout(() => resolve(`no SUBACK within ${(left / 1000).toFixed(1)} s`), left);
    c.client.once('close', () => {
      clearTimeout(timer);
      resolve(`connection closed by the broker ${((performance.now() - tSub) / 1000).toFixed(2)} s after the SUBSCRIBE`);
    });
    c.client.subscribe(topics, { qos: 0 }, (err, granted) => {
      clearTimeout(timer);
      if (err !== null && err !== undefined) return resolve(`SUBSCRIBE failed: ${err.message.slice(0, 120)}`);
      const ok = (granted ?? []).filter((g) => g.qos < 128).length;
      resolve(`SUBACK after ${((performance.now() - tSub) / 1000).toFixed(2)} s: ${ok} of ${filters} filters granted`);
    });
  });
  await sleep(Math.max(0, holdMs - (performance.now() - t0)));
  c.client.end(true);
  return outcome;
}

/** Idle TCP connections held open against one port. */
export interface HeldConnections {
  opened: number;
  failed: number;
  /** connections the server has closed so far */
  closedByServer(): number;
  close(): void;
}

/** Opens `n` TCP connections to `port` on loopback at once (no bytes sent); resolves when each has connected or failed. */
export async function holdConnections(port: number, n: number): Promise<HeldConnections> {
  const sockets: Socket[] = [];
  let closedByServer = 0;
  let closing = false;
  const results = await Promise.all(Array.from({ length: n }, () => new Promise<boolean>((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    sockets.push(s);
    s.once('connect', () => resolve(true));
    s.once('error', () => resolve(false));
    s.on('close', () => {
      if (!closing) closedByServer++;
    });
    s.resume();
  })));
  const opened = results.filter(Boolean).length;
  return {
    opened,
    failed: n - opened,
    closedByServer: () => closedByServer,
    close() {
      closing = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/** MQTT CONNECTs as `user` with a wrong password, `concurrency` at a time, until `n` are answered or `deadline` passes; outcomes counted. */
export async function badLogins(url: string, user: string, n: number, concurrency: number, deadline: number): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n && performance.now() < deadline) {
      const k = next++;
      const c = await mqttClient(url, `bench-badpw-${process.pid}-${k}`, { label: 'wrong password', user, password: `wrong-${k}` });
      const key = 'client' in c ? 'ACCEPTED' : c.refused.replace(/\d+/g, 'N');
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if ('client' in c) c.client.end(true);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

/** What a command flood saw. */
export interface FloodResult {
  /** commands answered (any status) */
  answered: number;
  /** commands not sent: the deadline passed first */
  unsent: number;
  ms: number;
  /** answers by HTTP status ('error' for none) */
  statuses: Record<string, number>;
  /** time to answer each command [ms] */
  latencies: number[];
}

/** Bodies of refused commands: an unknown field, and every 4th with the largest args the API accepts (16 × 256-character values under 200-character names). */
export function floodBodies(station: string): [string, string] {
  const small = JSON.stringify({ target: station, command: 'set', args: { field: 'noSuchField', value: 1 } });
  const args: Record<string, string> = { field: `noSuchField${'x'.repeat(245)}` };
  for (let i = 1; i < 16; i++) args[`${'k'.repeat(195)}${String(i).padStart(5, '0')}`] = 'v'.repeat(256);
  return [small, JSON.stringify({ target: station, command: 'set', args })];
}

/** `POST /api/commands` `n` times as the token's account, `concurrency` in flight, until done or `deadline`. */
export async function commandFlood(base: string, token: string, station: string, n: number, concurrency: number, deadline: number): Promise<FloodResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL('api/commands', base);
  const [small, large] = floodBodies(station);
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let next = 0;
  const post = (body: string): Promise<string> => new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode ?? 0)));
      res.on('error', () => resolve('error'));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve('error'));
    req.end(body);
  });
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n && performance.now() < deadline) {
      const k = next++;
      const t = performance.now();
      const s = await post(k % 4 === 3 ? large : small);
      latencies.push(performance.now() - t);
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  agent.destroy();
  return { answered: next, unsent: n - next, ms, statuses, latencies };
}
