/**
 * `twinline plant up <plant.yaml>`: a plant's NATS cluster (nats-cluster.ts) and one line host
 * per line copy (a `twinline serve` process each: its own home, ports and run folder), every
 * host publishing its unified namespace over MQTT to the cluster node it was given, so every
 * line's tags reach a subscriber on any node. A line on one of the plant's hosts runs in that
 * host's network namespace (plant-net.ts, made here when missing, removed at the stop when made
 * here), listening on its address; a `move` drill resumes its run on another host. A host that
 * ends without being asked is started again on its run (`serve --resume`: the line goes on from
 * its snapshot and logged commands), after 1 s, doubling to 30 s while it keeps failing.
 * `plant.json` in the plant's folder (`<home>/plants/<id>/`) says what runs where, rewritten on
 * every change; `twinline plant status` reads it. SIGINT or SIGTERM stops the hosts (each takes
 * a last snapshot), then the cluster. Each host's output goes to `host.log` in its home
 * (output-log.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { TwinlineError } from '../core/errors.ts';
import type { Plant, PlantLine } from './plant-file.ts';
import { startNatsCluster, type ClusterWatch, type NatsCluster, type NatsNode } from './nats-cluster.ts';
import { MAX_STREAM_BYTES } from '../host/streams.ts';
import { OutputLog, readOutput } from './output-log.ts';
import { startPlantView, type PlantViewServer } from './plant-view.ts';
import { ipProgram, netDown, netPlan, netUp, setHostLink, type NetPlan } from './plant-net.ts';

const TWINLINE = fileURLToPath(new URL('../../bin/twinline.mjs', import.meta.url));
/** how long a line host may take to print its banner (OPC UA makes certificates first) [ms] */
const HOST_START_MS = 180_000;
/** output kept per host (the tail) [chars] */
const OUT_MAX = 64_000;
/** how long a host may take to stop cleanly before it is killed [ms] */
const STOP_MS = 30_000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 16_000, 30_000];

/** What `plant.json` holds of a line host. */
export interface HostRecord {
  id: string;
  scenario: string;
  /** the cluster node it publishes to */
  node: string;
  mqtt: string;
  /** the plant host it runs on (plant-net.ts), or null: beside the cluster */
  host: string | null;
  /** that host's network namespace (null: this machine's own) */
  netns: string | null;
  /** the address its faces listen on: its host's, or 127.0.0.1 */
  address: string;
  home: string;
  state: 'starting' | 'up' | 'restarting' | 'stopped';
  pid: number;
  url: string | null;
  opcua: string | null;
  runDir: string | null;
  restarts: number;
  /** why it was last restarted */
  lastExit: string | null;
}

/** `plant.json`. */
export interface PlantRecord {
  id: string;
  title: { en: string; zh: string };
  file: string;
  /** the `plant up` process */
  pid: number;
  state: 'starting' | 'up' | 'stopped';
  startedAtMs: number;
  nats: NatsNode[];
  /** the plant network its hosts sit on (null: none, everything on loopback) */
  network: { subnet: string; gateway: string; bridge: string } | null;
  /** `isolated`: its link down (an isolate drill) */
  hosts: { name: string; address: string; netns: string; isolated: boolean }[];
  lines: HostRecord[];
  /** the plant view (plant-view.ts): `http://127.0.0.1:PORT/?mode=plant` */
  view: string | null;
}

/** The plant's folder under `home`. */
export function plantDir(home: string, id: string): string {
  return join(home, 'plants', id);
}

/** The scenario of one copy: its own id, ISA-95 line name and (when the plant says) area. */
export function lineCopyText(text: string, line: PlantLine): string {
  const doc = parseDocument(text);
  doc.setIn(['id'], line.id);
  doc.setIn(['isa95', 'line'], line.id);
  if (line.area !== null) doc.setIn(['isa95', 'area'], line.area);
  return doc.toString();
}

export function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** Whether process `pid` is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether the `plant up` of a record is running (it has not stopped, and its process lives). */
export function plantRunning(rec: Pick<PlantRecord, 'state' | 'pid'>): boolean {
  return rec.state !== 'stopped' && alive(rec.pid);
}

/** A supervised line host. */
class Host {
  proc: ChildProcess | null = null;
  out = '';
  stopping = false;
  private backoff = 0;
  /** a start again after it ended unasked, waiting out its backoff */
  private again: NodeJS.Timeout | null = null;
  /** its output in `host.log` in its home (bounded), the tail in `out` */
  private outputLog: OutputLog | null = null;

  constructor(readonly rec: HostRecord, private readonly profile: Plant['profile'], private readonly args: (resume: string | null) => string[], private readonly changed: () => void, private readonly log: (line: string) => void) {}

  /** Starts the host (on its run when it has one); resolves once its banner names the web app and run folder. */
  async start(): Promise<void> {
    const resume = this.rec.runDir;
    // the plant network reaches no further than this machine's own loopback does: an open line on it is as open as on 127.0.0.1
    const serve = [TWINLINE, 'serve', ...this.args(resume), '--host', this.rec.address, ...(this.rec.netns !== null && this.profile === 'open' ? ['--expose-open'] : [])];
    // a process group of its own: a Ctrl-C at the terminal reaches plant up, which stops the hosts in order;
    // on a plant host, in its network namespace (ip netns exec runs node in place of itself: the pid is the host's)
    const how = { stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], detached: true };
    const p = this.rec.netns === null ? spawn(process.execPath, serve, how) : spawn(ipProgram(), ['netns', 'exec', this.rec.netns, process.execPath, ...serve], how);
    this.proc = p;
    this.out = '';
    if (this.outputLog === null) {
      mkdirSync(this.rec.home, { recursive: true, mode: 0o700 });
      this.outputLog = new OutputLog(join(this.rec.home, 'host.log'));
    }
    const file = this.outputLog;
    file.started(`twinline serve ${resume === null ? this.rec.scenario : `--resume ${resume}`} (pid ${p.pid ?? 0}${this.rec.host === null ? '' : `, on host ${this.rec.host}`})`);
    this.rec.pid = p.pid ?? 0;
    this.rec.state = resume === null ? 'starting' : 'restarting';
    this.changed();
    const keep = (text: string): void => {
      this.out = (this.out + text).slice(-OUT_MAX);
      file.write(text);
    };
    readOutput(p, keep);
    p.once('exit', (code, signal) => this.exited(p, code, signal));
    const end = Date.now() + HOST_START_MS;
    while (Date.now() < end) {
      const web = /web app\s+(http:\/\/\S+\/)/.exec(this.out);
      const run = /records\s+(\S+)/.exec(this.out);
      if (web !== null && run !== null) {
        this.rec.url = web[1]!;
        this.rec.runDir = run[1]!;
        this.rec.opcua = /OPC UA\s+(opc\.tcp:\/\/\S+)/.exec(this.out)?.[1] ?? null;
        this.rec.state = 'up';
        this.backoff = 0;
        this.changed();
        return;
      }
      if (p.exitCode !== null || p.signalCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    throw new TwinlineError('USAGE', `line ${this.rec.id}: its host did not start:\n${this.out.slice(-4000)}`);
  }

  private exited(p: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (p !== this.proc) return;
    this.proc = null;
    if (this.stopping) {
      this.rec.state = 'stopped';
      this.changed();
      return;
    }
    // not asked to stop: take the run up again
    this.rec.lastExit = signal !== null ? `killed by ${signal}` : `exit ${code}`;
    this.rec.restarts++;
    this.rec.state = 'restarting';
    this.changed();
    const wait = BACKOFF_MS[Math.min(this.backoff, BACKOFF_MS.length - 1)]!;
    this.backoff++;
    this.log(`line ${this.rec.id}: host ended (${this.rec.lastExit}); resuming its run in ${wait / 1000} s`);
    this.again = setTimeout(() => {
      this.again = null;
      if (this.stopping) return;
      this.start().then(() => this.log(`line ${this.rec.id}: resumed at ${this.rec.url}`), (e: unknown) => {
        this.log(e instanceof Error ? e.message : String(e));
      });
    }, wait);
  }

  /** Stops the host (SIGTERM: a clean stop with a last snapshot; SIGKILL after `STOP_MS`). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.again !== null) clearTimeout(this.again);
    this.again = null;
    const p = this.proc;
    if (p === null || p.exitCode !== null || p.signalCode !== null) {
      this.rec.state = 'stopped';
      this.closeLog();
      return;
    }
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => {
      this.log(`line ${this.rec.id}: host did not stop within ${STOP_MS / 1000} s of SIGTERM; killing it (its last output: ${this.out.slice(-600).trim()})`);
      p.kill('SIGKILL');
    }, STOP_MS);
    await gone;
    clearTimeout(t);
    this.closeLog();
  }

  private closeLog(): void {
    this.outputLog?.close();
    this.outputLog = null;
  }

  /** Stops the host (a last snapshot) and resumes its run on another plant host (`to.host` null: beside the cluster). */
  async move(to: Placement): Promise<void> {
    await this.stop();
    this.stopping = false;
    Object.assign(this.rec, to);
    await this.start();
  }
}

/** Where a line host runs. */
type Placement = Pick<HostRecord, 'host' | 'netns' | 'address'>;

/** The placement of a line on plant host `name` (null: beside the cluster, on loopback). */
function placement(plan: NetPlan | null, name: string | null): Placement {
  const h = name === null ? undefined : plan?.hosts.find((x) => x.name === name);
  if (name !== null && h === undefined) throw new TwinlineError('USAGE', `no host "${name}" in the plant (${plan?.hosts.map((x) => x.name).join(', ') ?? 'it has none'})`);
  return h === undefined ? { host: null, netns: null, address: '127.0.0.1' } : { host: h.name, netns: h.netns, address: h.address };
}

/** A drill `plant drill` asks of a running plant (`drill.json` in its folder, then SIGUSR2). */
export type DrillRequest = { op: 'partition'; node: number } | { op: 'heal' } | { op: 'move'; line: string; host: string | null } | { op: 'isolate' | 'rejoin'; host: string };

/** A running plant. */
export interface RunningPlant {
  record: PlantRecord;
  cluster: NatsCluster;
  /** `plant.json` */
  file: string;
  /** Does what `drill.json` in the plant's folder asks (and removes it); says what it did. */
  drill(): Promise<string>;
  stop(): Promise<void>;
}

/** Where `plant drill` leaves its request for `plant up`. */
export function drillFile(home: string, id: string): string {
  return join(plantDir(home, id), 'drill.json');
}

/**
 * Starts `plant` under `home`: the cluster, then the line hosts two at a time. Once `o.signal`
 * aborts (a Ctrl-C or SIGTERM while it starts) it stops every host and node it has started, in
 * the same order as a running plant's stop, and resolves with null: the hosts and nodes run in
 * process groups of their own, so nothing else would stop them.
 */
export async function plantUp(plant: Plant, home: string, log: (line: string) => void, o: { viewPort?: number; signal?: AbortSignal } = {}): Promise<RunningPlant | null> {
  const aborted = (): boolean => o.signal?.aborted === true;
  if (aborted()) return null;
  const dir = plantDir(home, plant.id);
  const file = join(dir, 'plant.json');
  if (existsSync(file)) {
    const was = JSON.parse(readFileSync(file, 'utf8')) as PlantRecord;
    if (plantRunning(was)) throw new TwinlineError('USAGE', `plant ${plant.id} is up already (plant up pid ${was.pid}; ${file})`);
  }
  mkdirSync(join(dir, 'lines'), { recursive: true, mode: 0o700 });
  // every node may hold a replica of every line's stream
  const plan = netPlan(plant);
  const record: PlantRecord = {
    id: plant.id, title: plant.title, file: plant.file, pid: process.pid, state: 'starting', startedAtMs: Date.now(), nats: [],
    network: plan === null ? null : { subnet: plan.subnet, gateway: plan.gateway, bridge: plan.bridge },
    hosts: plan?.hosts.map((h) => ({ name: h.name, address: h.address, netns: h.netns, isolated: false })) ?? [], lines: [], view: null,
  };
  const save = (): void => writeAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  // the hosts' namespaces and the bridge the cluster listens on; what was made here is removed at the stop
  const made = plan === null ? [] : netUp(plan);
  if (made.length > 0) log(`plant network ${plan!.subnet}: made ${made.join(', ')}`);
  const netGone = (): void => {
    if (plan !== null && made.length > 0) log(`plant network: removed ${netDown(plan, made).join(', ')}`);
  };
  // a node started again (new pid) or cut off by a drill: plant.json says so
  const watch: ClusterWatch = { log };
  let cluster: NatsCluster;
  try {
    cluster = await startNatsCluster(plant.id, plant.natsNodes, dir, plant.lines.length * MAX_STREAM_BYTES + 64 * 1024 ** 2, watch, plan?.gateway);
  } catch (e) {
    netGone();
    throw e;
  }
  if (aborted()) {
    await cluster.stop();
    netGone();
    return null;
  }
  record.nats = cluster.nodes;
  watch.changed = (): void => {
    record.nats = cluster.nodes;
    save();
  };
  const hosts = plant.lines.map((line) => {
    const copy = join(dir, 'lines', `${line.id}.yaml`);
    writeAtomic(copy, lineCopyText(readFileSync(line.scenario, 'utf8'), line));
    const node = cluster.nodes[line.node]!;
    const rec: HostRecord = {
      id: line.id, scenario: copy, node: node.name, mqtt: node.mqtt, ...placement(plan, line.host), home: join(dir, 'hosts', line.id), state: 'starting', pid: 0,
      url: null, opcua: null, runDir: null, restarts: 0, lastExit: null,
    };
    record.lines.push(rec);
    const args = (resume: string | null): string[] => [
      // a host started again resumes its run: it is warmed once, at its first start
      ...(resume === null ? [copy, ...(line.warmupS > 0 ? ['--warmup', `${line.warmupS} s`] : [])] : ['--resume', resume]),
      '--home', rec.home, '--profile', plant.profile, '--speed', String(line.speed),
      // the cluster's MQTT takes anyone on this machine: commands through it are refused (viewer)
      '--http-port', '0', '--opcua-port', '0', '--mqtt', node.mqtt, '--mqtt-encoding', 'uns', '--mqtt-role', 'viewer',
      // its events, audit trail and commands in JetStream, replicated on up to three nodes; its own
      // node first, the others should that one be down when it starts
      '--nats', [node.nats, ...cluster.nodes.filter((n) => n.name !== node.name).map((n) => n.nats)].join(','), '--nats-replicas', String(Math.min(3, plant.natsNodes)),
    ];
    return new Host(rec, plant.profile, args, save, log);
  });
  // the view subscribes before the hosts start, so it sees every line's events from its first
  let view: PlantViewServer | null = null;
  try {
    view = await startPlantView(() => record, o.viewPort ?? 0);
  } catch (e) {
    await cluster.stop();
    netGone();
    throw new TwinlineError('USAGE', `the plant view could not listen on 127.0.0.1:${o.viewPort ?? 0} (${e instanceof Error ? e.message : String(e)})`);
  }
  record.view = view.url;
  save();
  const stop = async (): Promise<void> => {
    await Promise.all(hosts.map((h) => h.stop()));
    await view?.close();
    await cluster.stop();
    netGone();
    record.state = 'stopped';
    save();
  };
  // a stop asked meanwhile ends the hosts starting now (their start fails), then the loop stops
  let stopping: Promise<void> | null = null;
  const onAbort = (): void => {
    stopping ??= stop();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // two at a time: each host builds its OPC UA face and warms its worker
    for (let k = 0; k < hosts.length && !aborted(); k += 2) await Promise.all(hosts.slice(k, k + 2).map((h) => h.start()));
  } catch (e) {
    if (!aborted()) {
      await stop();
      throw e;
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (aborted()) {
    await (stopping ?? stop());
    return null;
  }
  record.state = 'up';
  save();
  const drill = async (): Promise<string> => {
    const req = join(dir, 'drill.json');
    if (!existsSync(req)) return 'no drill asked (no drill.json)';
    let d: DrillRequest;
    try {
      d = JSON.parse(readFileSync(req, 'utf8')) as DrillRequest;
    } finally {
      rmSync(req, { force: true });
    }
    if (d.op === 'heal') {
      cluster.heal();
      return 'drill: every NATS node joined into the full mesh again';
    }
    if (d.op === 'partition' && Number.isInteger(d.node) && d.node >= 0 && d.node < cluster.nodes.length) {
      cluster.partition(d.node);
      return `drill: NATS node ${cluster.nodes[d.node]!.name} cut off from the other nodes (routes stopped); twinline plant drill … heal joins it again`;
    }
    if ((d.op === 'isolate' || d.op === 'rejoin') && plan !== null) {
      const h = record.hosts.find((x) => x.name === d.host);
      if (h === undefined) return `drill: no host "${String(d.host)}"`;
      setHostLink(plan, h.name, d.op === 'rejoin');
      h.isolated = d.op === 'isolate';
      save();
      return d.op === 'isolate' ? `drill: host ${h.name} cut off the plant network (its link down); twinline plant drill … rejoin ${h.name} joins it again` : `drill: host ${h.name} on the plant network again`;
    }
    if (d.op === 'move') {
      const h = hosts.find((x) => x.rec.id === d.line);
      if (h === undefined) return `drill: no line "${String(d.line)}"`;
      const to = placement(plan, d.host);
      const from = h.rec.host ?? 'this machine';
      await h.move(to);
      return `drill: line ${h.rec.id} moved from ${from} to ${to.host ?? 'this machine'}: ${h.rec.url ?? ''} (its run resumed)`;
    }
    return `drill: not understood: ${JSON.stringify(d)}`;
  };
  return { record, cluster, file, drill, stop };
}
