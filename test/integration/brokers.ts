/**
 * Real brokers for integration tests: Mosquitto and nats-server (with MQTT) started on free
 * loopback ports with their own config in a temp dir, stopped afterwards. A missing binary is
 * a skip on a workstation and a failure with CI=true. Each broker is an owned child
 * (test/proc.ts: its group killed on failure and after the test file). Also a recording
 * mqtt.js client.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { own, scaled, type Owned } from '../proc.ts';
import { findTool } from '../tools.ts';

export const MOSQUITTO = findTool('mosquitto', '/usr/sbin/mosquitto');
export const NATS = findTool('nats-server', '/usr/sbin/nats-server');

/** Whether a binary is there; with CI=true its absence throws. */
export function have(bin: string): boolean {
  if (existsSync(bin)) return true;
  if (process.env.CI === 'true') throw new Error(`${bin} is required in CI (node bin/check-prereqs.mjs names the package to install)`);
  return false;
}

/** A free loopback TCP port (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number, proc: ChildProcess, log: () => string, ms = scaled(20_000)): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`broker exited (${proc.exitCode}):\n${log()}`);
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`broker did not listen on ${port}:\n${log()}`);
}

/** A broker process started by a test. */
export interface TestBroker {
  url: string;
  /** nats-server's own client URL (`nats://…`; null for Mosquitto) */
  nats: string | null;
  port: number;
  dir: string;
  /** Stops it gracefully (SIGTERM: Mosquitto saves its persistence file). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same config. */
  restart(): Promise<void>;
  /** Stops it and removes its temp dir. */
  dispose(): Promise<void>;
  log(): string;
}

function run(bin: string, args: string[], port: number, dir: string, nats: string | null = null): TestBroker {
  let child: Owned | null = null;
  // output of every start, in order (a restart keeps what the first run said)
  let before = '';
  const start = async (): Promise<void> => {
    if (child !== null) before += child.out();
    const c = own(bin, args);
    child = c;
    try {
      await waitPort(port, c.proc, () => before + c.out());
    } catch (e) {
      await c.stop('SIGKILL');
      throw e;
    }
  };
  const stop = async (): Promise<void> => {
    await child?.stop('SIGTERM', 5000);
  };
  const b: TestBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    nats,
    port,
    dir,
    stop,
    restart: start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => before + (child?.out() ?? ''),
  };
  return Object.assign(b, { ready: start() });
}

/** Mosquitto on a free port, anonymous allowed, persistence on (sessions survive a restart). */
export async function startMosquitto(): Promise<TestBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'twinline-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    // run as ourselves: started as root, Mosquitto would switch to a user that cannot write the temp dir
    `user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`,
    'max_queued_messages 0', 'max_queued_bytes 0', 'log_dest stdout', 'log_type error', 'log_type warning', '',
  ].join('\n'));
  const b = run(MOSQUITTO, ['-c', conf], port, dir);
  await (b as TestBroker & { ready: Promise<void> }).ready;
  return b;
}

/** nats-server on free ports with MQTT enabled (JetStream on, in a temp store). */
export async function startNats(): Promise<TestBroker> {
  const port = await freePort();
  const natsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'twinline-nats-'));
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, [
    `server_name: twinline_test_${natsPort}`, `listen: 127.0.0.1:${natsPort}`, `jetstream { store_dir: "${dir}/js" }`,
    `mqtt { listen: 127.0.0.1:${port} }`, '',
  ].join('\n'));
  const b = run(NATS, ['-c', conf], port, dir, `nats://127.0.0.1:${natsPort}`);
  await (b as TestBroker & { ready: Promise<void> }).ready;
  return b;
}

// ───────────────────────────── clients ─────────────────────────────

/** A received message. */
export interface Got {
  topic: string;
  payload: Buffer;
  retain: boolean;
  at: number;
}

/** An mqtt.js client that records every message. */
export interface Recorder {
  client: MqttClient;
  got: Got[];
  /** Resolves with the first message (from `from` on) matching `pred`, or rejects after `ms`. */
  wait(pred: (g: Got) => boolean, ms?: number, from?: number): Promise<Got>;
  close(): Promise<void>;
}

/** Connects and resolves once connected (or rejects on a refused connection). */
export async function recorder(url: string, opts: IClientOptions = {}): Promise<Recorder> {
  const client = mqttConnect(url, { reconnectPeriod: 200, connectTimeout: 5000, ...opts });
  const got: Got[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    got.push({ topic, payload, retain: packet.retain, at: Date.now() });
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return {
    client,
    got,
    wait(pred, ms = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        let i = from;
        const check = (): void => {
          for (; i < got.length; i++) {
            if (pred(got[i]!)) {
              waiters.delete(check);
              clearTimeout(t);
              resolve(got[i]!);
              return;
            }
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${ms} ms (${got.length} received; last topics: ${got.slice(-5).map((g) => g.topic).join(', ')})`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((r) => client.end(true, {}, () => r())),
  };
}

/** JSON of a message. */
export function json(g: Got): Record<string, unknown> {
  return JSON.parse(g.payload.toString('utf8')) as Record<string, unknown>;
}
