/**
 * A NATS cluster for a plant: `nodes` nats-server processes on free ports, each with
 * JetStream (its own store) and MQTT (the line hosts publish their unified namespace through
 * it), joined by cluster routes into one cluster (`twinline-<plant>`), so a message published on
 * one node reaches subscribers on every node. The servers are this process's children: a node
 * that ends without being asked (killed, crashed) is started again on its ports and store after
 * 1 s, doubling to 30 s while it keeps failing; `stop()` ends them (SIGTERM, then SIGKILL).
 *
 * A partition drill cuts a node off from the others by stopping its routes: every node's config
 * is rewritten without the routes between the cut node and the rest, and reloaded (SIGHUP), so
 * nats-server closes those routes and does not dial them again; `heal()` writes the full mesh
 * back. Clients keep their connections to every node meanwhile, as in a real split.
 * Each node's output goes to `nats-N/nats.log` beside its config and store (output-log.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { TwinlineError } from '../core/errors.ts';
import { OutputLog, readOutput } from './output-log.ts';

/** one NATS node */
export interface NatsNode {
  name: string;
  /** `nats://ADDRESS:PORT` (127.0.0.1, or the plant network's first address) */
  nats: string;
  /** `mqtt://ADDRESS:PORT` */
  mqtt: string;
  /** cluster route port */
  routePort: number;
  /** monitoring (`/routez`, `/jsz`) */
  monitor: string;
  pid: number;
  /** times it was started again after it ended unasked */
  restarts: number;
  /** cut off from the other nodes by a partition drill */
  partitioned: boolean;
}

/** A running cluster. */
export interface NatsCluster {
  nodes: NatsNode[];
  /** Stops node k (SIGTERM) and waits for it to exit. */
  stopNode(k: number): Promise<void>;
  /** Starts node k again on its ports and store; resolves once it takes MQTT clients. */
  startNode(k: number): Promise<void>;
  /** Cuts node k off from the other nodes (their routes stopped); clients stay connected. */
  partition(k: number): void;
  /** Joins every node into the full mesh again. */
  heal(): void;
  stop(): Promise<void>;
}

/** What `startNatsCluster` reports to its owner. */
export interface ClusterWatch {
  /** a node was started again, or its state changed */
  changed?: () => void;
  log?: (line: string) => void;
}

/** how long a node may take to take MQTT clients (JetStream elects its leader first) [ms] */
const READY_MS = 60_000;
/** output kept per node (the tail) [chars] */
const OUT_MAX = 32_000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 16_000, 30_000];

/** A program on the PATH or in the sbin folders Debian puts daemons and `ip` in (often not on a user's PATH). */
export function findProgram(name: string, env = process.env): string | null {
  for (const dir of [...(env.PATH ?? '').split(delimiter).filter((d) => d !== ''), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

/** nats-server on the PATH or where Debian puts it. */
export function findNatsServer(env = process.env): string | null {
  return findProgram('nats-server', env);
}

/** A free port on `host` (bound and released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

/** Whether a TCP connection to `host:port` opens within 2 s. */
export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((r) => {
    const c = createConnection({ host, port }, () => {
      c.destroy();
      r(true);
    });
    c.once('error', () => r(false));
    c.setTimeout(2000, () => {
      c.destroy();
      r(false);
    });
  });
}

/** Resolves once a TCP connection to `host:port` succeeds; rejects after `ms` or when `dead()` says the process ended. */
async function waitPort(host: string, port: number, ms: number, dead: () => string | null): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await portOpen(host, port)) return;
    const why = dead();
    if (why !== null) throw new TwinlineError('USAGE', why);
    if (Date.now() > end) throw new TwinlineError('USAGE', `port ${port} did not open within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a cluster of `nodes` in `dir` (configs, stores, logs), named after `plant`; each node's
 * JetStream may store `storeBytes` (what its streams' limits reserve: a stream is placed only
 * where its maximum fits). Clients (NATS and MQTT) are taken on `address` (the plant network's
 * first address when the plant has hosts); routes and monitoring stay on loopback.
 */
export async function startNatsCluster(plant: string, nodes: number, dir: string, storeBytes: number, watch: ClusterWatch = {}, address = '127.0.0.1'): Promise<NatsCluster> {
  const bin = findNatsServer();
  if (bin === null) throw new TwinlineError('USAGE', 'nats-server is not installed: a plant runs its lines on a NATS cluster (Debian: apt-get install nats-server)');
  const ports = await Promise.all(Array.from({ length: nodes }, async () => ({ client: await freePort(address), route: await freePort(), mqtt: await freePort(address), monitor: await freePort() })));
  const homes = ports.map((_, k) => join(dir, `nats-${k + 1}`));
  const confs = homes.map((h) => join(h, 'nats.conf'));
  /** the node cut off by a partition drill, if any */
  let cut: number | null = null;
  /** node k's config: routes to every other node, but across a cut */
  const writeConf = (k: number): void => {
    const p = ports[k]!;
    const peers = ports.filter((_, j) => j !== k && (cut === null || (k !== cut && j !== cut)));
    const routes = peers.map((q) => `nats-route://127.0.0.1:${q.route}`).join(', ');
    writeFileSync(confs[k]!, [
      `server_name: ${plant}-n${k + 1}`,
      `listen: ${address}:${p.client}`,
      `http: 127.0.0.1:${p.monitor}`,
      `jetstream { store_dir: "${join(homes[k]!, 'js')}", max_memory_store: 64MB, max_file_store: ${Math.ceil(storeBytes / 1024 ** 2)}MB }`,
      ...(nodes > 1 ? [`cluster { name: twinline-${plant}, listen: 127.0.0.1:${p.route}, routes: [${routes}] }`] : []),
      `mqtt { listen: ${address}:${p.mqtt} }`,
      '',
    ].join('\n'), { mode: 0o600 });
  };
  homes.forEach((h, k) => {
    mkdirSync(h, { recursive: true, mode: 0o700 });
    writeConf(k);
  });
  const procs: (ChildProcess | null)[] = ports.map(() => null);
  const outs = ports.map(() => '');
  /** each node's output in `nats-N/nats.log` (bounded), its tail in `outs` */
  const logs = homes.map((h) => new OutputLog(join(h, 'nats.log')));
  const restarts = ports.map(() => 0);
  const backoff = ports.map(() => 0);
  /** nodes asked to stop (not started again when they end) */
  const asked = ports.map(() => false);
  const ready = async (k: number): Promise<void> => {
    const p = procs[k]!;
    await waitPort(address, ports[k]!.mqtt, READY_MS, () => (p.exitCode !== null || p.signalCode !== null ? `nats-server node ${k + 1} ended (${p.exitCode ?? p.signalCode}):\n${outs[k]}` : null));
  };
  const start = (k: number): ChildProcess => {
    asked[k] = false;
    // its own process group: a Ctrl-C at the terminal reaches plant up, which stops the nodes after the hosts
    const p = spawn(bin, ['-c', confs[k]!], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    logs[k]!.started(`nats-server node ${k + 1} (pid ${p.pid ?? 0})`);
    const keep = (text: string): void => {
      outs[k] = (outs[k] + text).slice(-OUT_MAX);
      logs[k]!.write(text);
    };
    readOutput(p, keep);
    procs[k] = p;
    p.once('exit', (code, signal) => {
      if (asked[k] || procs[k] !== p) return;
      // not asked to stop: start it again on its ports and store
      const wait = BACKOFF_MS[Math.min(backoff[k]!, BACKOFF_MS.length - 1)]!;
      backoff[k]!++;
      restarts[k]!++;
      watch.log?.(`nats node ${plant}-n${k + 1} ended (${signal !== null ? `killed by ${signal}` : `exit ${code}`}); starting it again in ${wait / 1000} s`);
      setTimeout(() => {
        if (asked[k]) return;
        start(k);
        ready(k).then(() => {
          backoff[k] = 0;
          watch.log?.(`nats node ${plant}-n${k + 1}: up again (pid ${procs[k]?.pid ?? 0})`);
          watch.changed?.();
        }, (e: unknown) => watch.log?.(e instanceof Error ? e.message : String(e)));
      }, wait);
    });
    return p;
  };
  const stopNode = async (k: number): Promise<void> => {
    asked[k] = true;
    const p = procs[k];
    if (p === null || p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };
  /** rewrites every config and has every running node reload it */
  const reload = (): void => {
    ports.forEach((_, k) => {
      writeConf(k);
      const p = procs[k];
      if (p !== null && p !== undefined && p.exitCode === null && p.signalCode === null) p.kill('SIGHUP');
    });
    watch.changed?.();
  };
  ports.forEach((_, k) => start(k));
  try {
    await Promise.all(ports.map((_, k) => ready(k)));
  } catch (e) {
    await Promise.all(ports.map((_, k) => stopNode(k)));
    throw e;
  }
  const nodesOut = (): NatsNode[] => ports.map((p, k) => ({
    name: `${plant}-n${k + 1}`, nats: `nats://${address}:${p.client}`, mqtt: `mqtt://${address}:${p.mqtt}`, routePort: p.route, monitor: `http://127.0.0.1:${p.monitor}`,
    pid: procs[k]?.pid ?? 0, restarts: restarts[k]!, partitioned: cut === k,
  }));
  return {
    get nodes() {
      return nodesOut();
    },
    stopNode,
    async startNode(k) {
      start(k);
      await ready(k);
    },
    partition(k) {
      if (nodes < 2) throw new TwinlineError('USAGE', 'a one-node cluster cannot be partitioned');
      cut = k;
      reload();
    },
    heal() {
      cut = null;
      reload();
    },
    async stop() {
      await Promise.all(ports.map((_, k) => stopNode(k)));
      for (const l of logs) l.close();
    },
  };
}
