/**
 * A plant's NATS: the rate at which a line's events reach its JetStream stream (streams.ts:
 * acknowledged publishes with message ids, one at a time, three replicas on a three-node cluster
 * started here as `plant up` starts it) against core NATS publishes of the same messages to the
 * same node (no acknowledgement, no storage): the price of "nothing acknowledged is lost".
 *
 * Plant scaling: plants of 1 … (cores) copies of the ceramic line at real time, warmed 3 h
 * first (same seed, so every copy in every plant starts from the same state), started by
 * `plantUp` as `plant up` does (each its own `twinline serve`, publishing its unified namespace to
 * a node of a three-node cluster); over a window, a subscriber on the third node counts the
 * messages on the lines' own topics (not the broker's internal ones), a subscriber on each
 * line's own node counts that line's, and each host's CPU time (/proc) gives the cores one line
 * takes at real time, its resident memory (/proc, at the window's end) what it holds; from both,
 * what the issue's 36-line plant would take of this machine, against what the machine has. The
 * ratio per added line is the aggregate rate against that many times
 * the one-line rate (1: linear); node 3 against the own nodes is the share of a line's stream a
 * subscriber elsewhere in the cluster receives (1: all of it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { connect } from 'nats';
import { plantUp } from '../../sim/plant/plant-up.ts';
import type { SimEvent } from '../../sim/core/events.ts';
import { eventToJson } from '../../sim/core/events.ts';
import { LineStreams, MAX_STREAM_BYTES } from '../../sim/host/streams.ts';
import { findNatsServer, startNatsCluster } from '../../sim/plant/nats-cluster.ts';
import { fmt, ratio, type BenchRow, type Section } from './common.ts';

const EVENTS = 20_000;
/** the line the scaling runs copies of */
const SCALE_SCENARIO = 'scenarios/ceramic-after.yaml';
/**
 * the lines start warm (this much simulated time first, as a plant file's `warmup` does): a
 * ceramic line started cold changes phase within its first minutes at real time (about 150,
 * then 70, then 40 UNS msgs/s), so plants measured over the same wall window saw different
 * phases; warm, all plants start from the same state (same seed) and run at about 12–25 msgs/s
 */
const WARMUP_S = 3 * 3600;
/** wall time the hosts run before the window (their first publish of every tag), then the window [ms] */
const WARM_MS = 30_000;
const WINDOW_MS = 180_000;
/** the lines of the seed plant that retrofitted 36 cable lines at once (../shared/seeds/DIGEST.md, L3) */
const PLANT_LINES = 36;

/** CPU time process `pid` has used so far [s] (utime + stime, Linux /proc). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 of stat, counted from the state (field 3) on
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/** Resident memory of process `pid` [MB] (its worker thread included). */
function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

/** Messages on the topics of `lines` that an MQTT subscriber at `url` receives, counted as they come. */
async function countAt(url: string, clientId: string, lines: readonly string[]): Promise<{ count: () => number; close: () => void }> {
  const sub = mqtt.connect(url, { clientId });
  let count = 0;
  // the lines' own topics (UNS `<enterprise>/<site>/<area>/<line>/…`, `twinline/<line>/events`)
  // only: a `#` on nats-server's MQTT also delivers its internal `$MQTT/…`, `$JS/…` and
  // `_INBOX/…` subjects, many times the lines' own messages
  const filters = lines.flatMap((id) => [`+/+/+/${id}/#`, `twinline/${id}/#`]);
  await new Promise<void>((r) => sub.once('connect', () => sub.subscribe(filters, () => r())));
  sub.on('message', (topic) => {
    if (!topic.endsWith('/$meta')) count++;
  });
  return { count: () => count, close: () => sub.end(true) };
}

/**
 * n copies of the scaling line at real time: messages per second of every line received on node
 * 3, the same lines' messages each received on the node it publishes to, and cores per line.
 */
async function scalePlant(n: number): Promise<{ msgsPerS: number; ownNodePerS: number; coresPerLine: number; rssPerLineMB: number }> {
  const home = mkdtempSync(join(tmpdir(), 'twinline-bench-scale-'));
  const lines = Array.from({ length: n }, (_, k) => ({ id: `ceramic-after-${k + 1}`, scenario: resolve(SCALE_SCENARIO), copy: k + 1, area: null, speed: 1, warmupS: WARMUP_S, node: k % 3, host: null }));
  const plant = await plantUp({ file: 'bench', id: `scale-${n}`, title: { en: 'bench', zh: 'bench' }, profile: 'open', natsNodes: 3, network: null, hosts: [], lines }, home, () => undefined);
  if (plant === null) throw new Error('the bench plant did not start');
  const counters: { count: () => number; close: () => void }[] = [];
  try {
    const third = await countAt(plant.record.nats[2]!.mqtt, `bench-scale-${n}`, lines.map((l) => l.id));
    counters.push(third);
    const own = await Promise.all(lines.map((l) => countAt(plant.record.nats[l.node]!.mqtt, `bench-scale-${n}-${l.id}`, [l.id])));
    counters.push(...own);
    const ownCount = (): number => own.reduce((a, c) => a + c.count(), 0);
    await new Promise((r) => setTimeout(r, WARM_MS));
    const pids = plant.record.lines.map((l) => l.pid);
    const cpu0 = pids.map(cpuSeconds);
    const c0 = third.count();
    const o0 = ownCount();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const s = (performance.now() - t0) / 1000;
    const cpu = pids.reduce((a, p, k) => a + cpuSeconds(p) - cpu0[k]!, 0);
    const rss = pids.reduce((a, p) => a + rssMB(p), 0);
    return { msgsPerS: (third.count() - c0) / s, ownNodePerS: (ownCount() - o0) / s, coresPerLine: cpu / s / n, rssPerLineMB: rss / n };
  } finally {
    for (const c of counters) c.close();
    await plant.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const event = (seq: number): SimEvent => ({ seq, tick: seq * 37, type: 'state', station: 'kiln', data: { from: 'Execute', to: 'Suspending', cause: 'blocked' } });

export const plantBench: Section = async (log) => {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  if (findNatsServer() === null) return { rows, notes: ['nats-server is not installed: the plant figures were not measured'] };
  const dir = mkdtempSync(join(tmpdir(), 'twinline-bench-plant-'));
  const cluster = await startNatsCluster('bench', 3, dir, 2 * MAX_STREAM_BYTES);
  try {
    const url = cluster.nodes[0]!.nats;
    // baseline: core NATS publishes of the same lines, flushed
    const nc = await connect({ servers: url });
    const payloads = Array.from({ length: EVENTS }, (_, k) => new TextEncoder().encode(eventToJson(event(k))));
    const t0 = performance.now();
    for (const p of payloads) nc.publish('bench.core.events', p);
    await nc.flush();
    const core = EVENTS / ((performance.now() - t0) / 1000);
    await nc.close();
    // the line's stream, three replicas
    const streams = await LineStreams.open({ url, line: 'bench-line', run: 'bench', commandsLogged: 0, replicas: 3 });
    await streams.prepared;
    const t1 = performance.now();
    for (let k = 0; k < EVENTS; k += 100) streams.onEvents(Array.from({ length: 100 }, (_, j) => event(k + j)));
    while (streams.status().pending > 0) await new Promise((r) => setTimeout(r, 5));
    const js = EVENTS / ((performance.now() - t1) / 1000);
    const st = streams.status();
    await streams.close();
    log(`JetStream R3 ${fmt(js)} events/s acknowledged, core NATS ${fmt(core)} msgs/s`);
    rows.push([`line events to JetStream, 3 replicas, acknowledged (${fmt(EVENTS)}) [events/s]`, fmt(js), 'core NATS publish, same messages, same node', fmt(core), ratio(js, core)]);
    if (st.published !== EVENTS || st.dropped > 0) notes.push(`!!! JetStream: ${st.published} of ${EVENTS} acknowledged, ${st.dropped} dropped (${st.error ?? 'no error'})`);
    notes.push('a kiln line logs a few events a second, the ceramic line a few hundred at 60× real time: the stream\'s rate over that is its headroom');
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // scaling: 1 … cores lines, each a process of its own
  const cores = availableParallelism();
  const one = await scalePlant(1);
  log(`plant of 1 line: ${fmt(one.msgsPerS)} UNS msgs/s on node 3, ${fmt(one.ownNodePerS)} on its own node, ${fmt(one.coresPerLine, 3)} cores per line`);
  rows.push([`${SCALE_SCENARIO} at real time: lines per core (1 host) [lines]`, fmt(1 / one.coresPerLine, 1), 'one core', '1', ratio(1 / one.coresPerLine, 1)]);
  // the seed plant's 36 lines on one host: what they would take of this machine
  const memGB = totalmem() / 1024 ** 3;
  log(`one line host holds ${fmt(one.rssPerLineMB)} MB resident`);
  rows.push([`${PLANT_LINES} such lines on one host: cores at real time [cores]`, fmt(PLANT_LINES * one.coresPerLine, 2), 'this machine\'s cores', String(cores), ratio(PLANT_LINES * one.coresPerLine, cores)]);
  rows.push([`${PLANT_LINES} such lines on one host: resident memory [GiB]`, fmt((PLANT_LINES * one.rssPerLineMB) / 1024, 1), 'this machine\'s memory', fmt(memGB, 1), ratio((PLANT_LINES * one.rssPerLineMB) / 1024, memGB)]);
  const plants = [one];
  for (let n = 2; n <= cores; n++) {
    const many = await scalePlant(n);
    plants.push(many);
    log(`plant of ${n} lines: ${fmt(many.msgsPerS)} UNS msgs/s on node 3, ${fmt(many.ownNodePerS)} on their own nodes, ${fmt(many.coresPerLine, 3)} cores per line`);
    rows.push([`plant of ${n} lines, UNS at the lines' own nodes [msgs/s]`, fmt(many.ownNodePerS), `${n} × one line on its node`, fmt(n * one.ownNodePerS), ratio(many.ownNodePerS, n * one.ownNodePerS)]);
    rows.push([`plant of ${n} lines, UNS through the cluster to node 3 [msgs/s]`, fmt(many.msgsPerS), `${n} × one line to node 3`, fmt(n * one.msgsPerS), ratio(many.msgsPerS, n * one.msgsPerS)]);
  }
  // what a subscriber on another node gets of what the lines publish (1: all of it)
  plants.forEach((p, k) => rows.push([`plant of ${k + 1} line(s), UNS received on node 3 [msgs/s]`, fmt(p.msgsPerS), 'received on the lines\' own nodes', fmt(p.ownNodePerS), ratio(p.msgsPerS, p.ownNodePerS)]));
  notes.push(`plant scaling on ${cores} cores: each line its own twinline serve (worker, OPC UA, historian, MQTT to a node); the target is a ratio ≥ 0.9 per added line up to the cores`);
  return { rows, notes };
};
