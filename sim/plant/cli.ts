/**
 * `twinline plant validate|up|status <plant.yaml>`: a plant's file checked; the plant started
 * (plant-up.ts) and kept up until SIGINT or SIGTERM; what runs where, each line's health and
 * KPIs, read from `plant.json` and each line host's REST API (as its viewer account).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TwinlineError } from '../core/errors.ts';
import { parseOptions, untilStopped } from '../host/args.ts';
import { homeDir } from '../host/home.ts';
import { renderTable } from '../host/table.ts';
import { portOpen } from './nats-cluster.ts';
import { loadPlant } from './plant-file.ts';
import { netDown, netPlan, netUp } from './plant-net.ts';
import { drillFile, plantDir, plantRunning, plantUp, writeAtomic, type DrillRequest, type PlantRecord } from './plant-up.ts';

export const PLANT_USAGE = `usage: twinline plant validate <plant.yaml>
       twinline plant up <plant.yaml> [--home DIR] [--view-port N]   (until Ctrl-C)
       twinline plant status <plant.yaml> [--home DIR] [--json]
       twinline plant drill <plant.yaml> kill-node N | kill-line LINE | partition N | heal
                                         | move LINE HOST | isolate HOST | rejoin HOST [--home DIR]
       twinline plant net up|down <plant.yaml> [--home DIR]
  A plant file lists lines (scenario files, copies, ISA-95 area, speed, host), its hosts and the
  NATS cluster's size; up makes the plant network when the file has hosts (a network namespace
  per host on a bridge; root), starts the cluster (nats-server: JetStream and MQTT on each node)
  and one twinline serve per line copy, on its host, publishing its unified namespace to a node,
  restarts a host that ends on its run
  (serve --resume), serves the plant view (tiles of the lines' state and KPIs, fed from the
  cluster; 127.0.0.1, --view-port or a free port) and keeps <home>/plants/<id>/plant.json;
  status reads it and asks each host.
  drill, on a running plant: kill-node kills NATS node N (1-based; plant up starts it again),
  kill-line kills a line's host (plant up resumes its run), partition N cuts node N off from the
  other nodes by stopping their routes (clients stay connected), heal joins it again, move stops a
  line's host and resumes its run on another plant host (HOST: a host's name, or local), isolate
  cuts a plant host off the plant network (its link down), rejoin joins it again.
  net up|down make or remove the plant network by hand (up leaves it standing, down removes it).`;

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** One line's row of `plant status`. */
export interface LineStatus {
  id: string;
  node: string;
  /** the plant host it runs on (null: beside the cluster) */
  machine: string | null;
  pid: number;
  host: 'up' | 'down' | 'starting' | 'restarting' | 'stopped';
  restarts: number;
  url: string | null;
  simHours: number | null;
  throughputPerHour: number | null;
  oee: number | null;
  /** what JetStream acknowledged of the line's records and what waits (GET /api/streams) */
  stream: { published: number; pending: number; dropped: number; error: string | null } | null;
  error: string | null;
}

/** `user → password` from a host home's initial-passwords.txt. */
function viewerPassword(home: string): string | null {
  const file = join(home, 'initial-passwords.txt');
  if (!existsSync(file)) return null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [user, , pw] = line.split('\t');
    if (user === 'viewer' && pw !== undefined) return pw;
  }
  return null;
}

/** Whether a TCP connection to a server URL's host and port opens. */
const urlOpen = (url: string): Promise<boolean> => {
  const u = new URL(url);
  return portOpen(u.hostname, Number(u.port));
};

/** Asks every host of a plant record how its line does. */
export async function plantStatus(rec: PlantRecord): Promise<{
  plantUp: boolean; nats: { name: string; up: boolean; restarts: number; partitioned: boolean }[]; hosts: { name: string; address: string; isolated: boolean }[]; lines: LineStatus[];
}> {
  const nats = await Promise.all(rec.nats.map(async (n) => ({ name: n.name, up: await urlOpen(n.nats), restarts: n.restarts ?? 0, partitioned: n.partitioned === true })));
  const lines = await Promise.all(rec.lines.map(async (l): Promise<LineStatus> => {
    const row: LineStatus = { id: l.id, node: l.node, machine: l.host ?? null, pid: l.pid, host: l.state === 'up' ? 'down' : l.state, restarts: l.restarts, url: l.url, simHours: null, throughputPerHour: null, oee: null, stream: null, error: null };
    const base = l.url;
    if (base === null || l.state !== 'up') return row;
    const pw = viewerPassword(l.home);
    const get = async <T>(path: string): Promise<T> => {
      const r = await fetch(new URL(path, base), {
        headers: pw === null ? {} : { authorization: `Basic ${Buffer.from(`viewer:${pw}`).toString('base64')}` }, signal: AbortSignal.timeout(5000),
      });
      const body = (await r.json()) as T & { error?: { message: string } };
      if (!r.ok) throw new Error(body.error?.message ?? `HTTP ${r.status}`);
      return body;
    };
    try {
      const [state, streams] = await Promise.all([
        get<{ simTime?: number; kpis?: { throughputPerHour?: number; oee?: number } }>('api/state'), get<{ streams: LineStatus['stream'] }>('api/streams'),
      ]);
      row.host = 'up';
      row.simHours = (state.simTime ?? 0) / 3600;
      row.throughputPerHour = state.kpis?.throughputPerHour ?? null;
      row.oee = state.kpis?.oee ?? null;
      row.stream = streams.streams === null ? null : { published: streams.streams.published, pending: streams.streams.pending, dropped: streams.streams.dropped, error: streams.streams.error };
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
    }
    return row;
  }));
  const hosts = (rec.hosts ?? []).map((h) => ({ name: h.name, address: h.address, isolated: h.isolated === true }));
  return { plantUp: plantRunning(rec), nats, hosts, lines };
}

const num = (x: number | null, digits: number): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

/** A plant's record (`plant.json`); a plant never started under `home` is a usage error. */
function readRecord(home: string, id: string): PlantRecord {
  const recFile = join(plantDir(home, id), 'plant.json');
  if (!existsSync(recFile)) throw new TwinlineError('USAGE', `plant ${id} has not been started under ${home} (no ${recFile})`);
  return JSON.parse(readFileSync(recFile, 'utf8')) as PlantRecord;
}

/** A running plant's record; a plant not up is a usage error. */
function runningRecord(home: string, id: string): PlantRecord {
  const rec = readRecord(home, id);
  if (!plantRunning(rec)) throw new TwinlineError('USAGE', `plant ${id} is not running (${join(plantDir(home, id), 'plant.json')})`);
  return rec;
}

/**
 * Asks the running plant up of `rec` for drill `req` (`drill.json` beside plant.json, then
 * SIGUSR2) and waits until its record shows `done`, for at most `ms`; says `said` then.
 */
async function askPlantUp(home: string, id: string, rec: PlantRecord, req: DrillRequest, done: (r: PlantRecord) => boolean, ms: number, said: (r: PlantRecord) => string, io: Io): Promise<number> {
  writeAtomic(drillFile(home, id), `${JSON.stringify(req)}\n`);
  process.kill(rec.pid, 'SIGUSR2');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const now = readRecord(home, id);
    if (done(now)) {
      io.stdout.write(`${said(now)}\n`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TwinlineError('USAGE', `plant ${id}: plant up (pid ${rec.pid}) did not carry out the drill within ${ms / 1000} s (its output and the hosts' host.log say why)`);
}

/** `plant drill`: a fault put on a running plant, which it should ride out. */
async function drill(id: string, home: string, args: readonly string[], io: Io): Promise<number> {
  const [op, arg, ...more] = args;
  const rec = runningRecord(home, id);
  const node = (): number => {
    const k = rec.nats.findIndex((n, j) => arg === String(j + 1) || arg === n.name);
    if (k < 0) throw new TwinlineError('USAGE', `plant drill ${op}: no NATS node "${arg ?? ''}" (1–${rec.nats.length} or ${rec.nats.map((n) => n.name).join(', ')})`);
    return k;
  };
  const takes = (n: number): void => {
    if ((n === 1 ? arg === undefined : arg !== undefined) || more.length > 0) throw new TwinlineError('USAGE', `plant drill ${op} takes ${n === 1 ? 'one argument' : 'no argument'}\n${PLANT_USAGE}`);
  };
  switch (op) {
    case 'kill-node': {
      takes(1);
      const n = rec.nats[node()]!;
      process.kill(n.pid, 'SIGKILL');
      io.stdout.write(`killed NATS node ${n.name} (pid ${n.pid}); plant up starts it again on its ports and store\n`);
      return 0;
    }
    case 'kill-line': {
      takes(1);
      const l = rec.lines.find((x) => x.id === arg);
      if (l === undefined) throw new TwinlineError('USAGE', `plant drill kill-line: no line "${arg ?? ''}" (${rec.lines.map((x) => x.id).join(', ')})`);
      process.kill(l.pid, 'SIGKILL');
      io.stdout.write(`killed line ${l.id}'s host (pid ${l.pid}); plant up resumes its run\n`);
      return 0;
    }
    case 'move': {
      const [to, ...extra] = more;
      if (arg === undefined || to === undefined || extra.length > 0) throw new TwinlineError('USAGE', `plant drill move takes a line and a host\n${PLANT_USAGE}`);
      const l = rec.lines.find((x) => x.id === arg);
      if (l === undefined) throw new TwinlineError('USAGE', `plant drill move: no line "${arg}" (${rec.lines.map((x) => x.id).join(', ')})`);
      const host = to === 'local' ? null : to;
      if (host !== null && !rec.hosts.some((h) => h.name === host)) throw new TwinlineError('USAGE', `plant drill move: no host "${to}" (${[...rec.hosts.map((h) => h.name), 'local'].join(', ')})`);
      if ((l.host ?? null) === host) throw new TwinlineError('USAGE', `plant drill move: line ${l.id} runs on ${to} already`);
      const moved = (r: PlantRecord): PlantRecord['lines'][number] | undefined => r.lines.find((x) => x.id === l.id && (x.host ?? null) === host && x.state === 'up' && x.pid !== l.pid);
      // a last snapshot, then a host that builds its faces and resumes the run
      return askPlantUp(home, id, rec, { op: 'move', line: l.id, host }, (r) => moved(r) !== undefined, 240_000, (r) => {
        const now = moved(r)!;
        return `line ${l.id} moved to ${to}: ${now.url ?? ''} (pid ${now.pid}); its run resumed`;
      }, io);
    }
    case 'isolate':
    case 'rejoin': {
      takes(1);
      const h = rec.hosts.find((x) => x.name === arg);
      if (h === undefined) throw new TwinlineError('USAGE', `plant drill ${op}: no host "${arg ?? ''}" (${rec.hosts.length === 0 ? `plant ${id} has no hosts` : rec.hosts.map((x) => x.name).join(', ')})`);
      return askPlantUp(home, id, rec, { op, host: h.name }, (r) => r.hosts.find((x) => x.name === h.name)?.isolated === (op === 'isolate'), 10_000,
        () => (op === 'isolate' ? `host ${h.name} is cut off the plant network; twinline plant drill … rejoin ${h.name} joins it again` : `host ${h.name} is on the plant network again`), io);
    }
    case 'partition':
    case 'heal': {
      takes(op === 'partition' ? 1 : 0);
      if (rec.nats.length < 2) throw new TwinlineError('USAGE', `plant drill ${op}: plant ${id} has one NATS node, nothing to cut it off from (a partition needs a plant file with nats: { nodes: 3 })`);
      const req: DrillRequest = op === 'partition' ? { op, node: node() } : { op };
      // plant up rewrites plant.json once the nodes reloaded their routes
      return askPlantUp(home, id, rec, req, (r) => r.nats.every((n, k) => n.partitioned === (req.op === 'partition' && k === req.node)), 10_000,
        () => (req.op === 'partition' ? `NATS node ${rec.nats[req.node]!.name} is cut off from the other nodes; twinline plant drill … heal joins it again` : 'every NATS node is in the full mesh again'), io);
    }
    default:
      throw new TwinlineError('USAGE', `plant drill: unknown drill "${op ?? ''}": kill-node, kill-line, partition, heal, move, isolate or rejoin\n${PLANT_USAGE}`);
  }
}

/** `plant net up|down <plant.yaml>`: the plant network made or removed by hand. */
function netCommand(args: readonly string[], home: string, io: Io): number {
  const [op, file, ...more] = args;
  if ((op !== 'up' && op !== 'down') || file === undefined || more.length > 0) throw new TwinlineError('USAGE', `plant net takes up or down and one plant file\n${PLANT_USAGE}`);
  const plant = loadPlant(file);
  if (op === 'down' && existsSync(join(plantDir(home, plant.id), 'plant.json'))) {
    const rec = readRecord(home, plant.id);
    if (plantRunning(rec)) throw new TwinlineError('USAGE', `plant ${plant.id} is up (plant up pid ${rec.pid}): stop it before removing its network`);
  }
  const plan = netPlan(plant);
  if (plan === null) {
    io.stdout.write(`plant ${plant.id} has no hosts: no plant network to ${op === 'up' ? 'make' : 'remove'}\n`);
    return 0;
  }
  const did = op === 'up' ? netUp(plan) : netDown(plan);
  io.stdout.write(`plant network ${plan.subnet} (bridge ${plan.bridge} at ${plan.gateway}): ${did.length === 0 ? (op === 'up' ? 'all there already' : 'nothing there') : `${op === 'up' ? 'made' : 'removed'} ${did.join(', ')}`}\n`);
  if (op === 'up') for (const h of plan.hosts) io.stdout.write(`  host ${h.name}   ${h.address}   netns ${h.netns}\n`);
  return 0;
}

/** The `plant` command. */
export async function plantCommand(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = parseOptions({ args: [...rest], allowPositionals: true, options: { home: { type: 'string' }, json: { type: 'boolean' }, 'view-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }, `plant ${sub ?? ''}`, PLANT_USAGE);
  if (sub === undefined || sub === 'help' || parsed.values.help === true) {
    io.stdout.write(`${PLANT_USAGE}\n`);
    return 0;
  }
  if (sub === 'net') return netCommand(parsed.positionals, homeDir(parsed.values.home), io);
  const file = parsed.positionals[0];
  if (file === undefined || (sub !== 'drill' && parsed.positionals.length > 1)) throw new TwinlineError('USAGE', `plant ${sub} takes one plant file\n${PLANT_USAGE}`);
  const plant = loadPlant(file);
  const home = homeDir(parsed.values.home);
  switch (sub) {
    case 'validate':
      io.stdout.write(`${plant.file}: ok (plant ${plant.id}: ${plant.lines.length} lines${plant.hosts.length > 0 ? ` on ${plant.hosts.length} hosts of ${plant.network!.subnet}` : ''}, ${plant.natsNodes} NATS nodes)\n`);
      return 0;
    case 'up': {
      const say = (l: string): void => void io.stdout.write(`${l}\n`);
      say(`Twinline plant "${plant.title.en}" (${plant.id}): starting ${plant.natsNodes} NATS nodes and ${plant.lines.length} line hosts`);
      const vp = parsed.values['view-port'];
      const viewPort = vp === undefined ? 0 : Number(vp);
      if (!Number.isInteger(viewPort) || viewPort < 0 || viewPort > 65535) throw new TwinlineError('USAGE', `--view-port ${vp ?? ''}: expected a TCP port (0–65535; 0: a free one)\n${PLANT_USAGE}`);
      // a Ctrl-C or SIGTERM from here on stops the plant, also while it starts
      const stopped = untilStopped();
      const abort = new AbortController();
      void stopped.then(() => abort.abort());
      const running = await plantUp(plant, home, say, { viewPort, signal: abort.signal });
      if (running === null) {
        say('Twinline plant: stopped while starting; every NATS node and line host it had started is stopped');
        return 0;
      }
      for (const n of running.record.nats) say(`  nats      ${n.name}   ${n.nats}   MQTT ${n.mqtt}`);
      const net = running.record.network;
      if (net !== null) say(`  network   ${net.subnet}   bridge ${net.bridge} at ${net.gateway}   hosts ${running.record.hosts.map((h) => `${h.name} ${h.address}`).join(', ')}`);
      for (const l of running.record.lines) say(`  line      ${l.id}   ${l.url ?? ''}   OPC UA ${l.opcua ?? '–'}   on ${l.host ?? 'local'} → ${l.node}   home ${l.home}`);
      say(`  view      ${running.record.view ?? '–'}   (the lines as tiles, fed from the cluster)`);
      say(`  plant     ${running.file}   (twinline plant status ${file}${parsed.values.home === undefined ? '' : ` --home ${parsed.values.home}`})`);
      // twinline plant drill leaves its request beside plant.json and signals
      const onDrill = (): void => {
        running.drill().then(say, (e: unknown) => say(`drill failed: ${e instanceof Error ? e.message : String(e)}`));
      };
      process.on('SIGUSR2', onDrill);
      await stopped;
      process.off('SIGUSR2', onDrill);
      say('Twinline plant: stopping the line hosts, then the cluster');
      await running.stop();
      return 0;
    }
    case 'status': {
      const st = await plantStatus(readRecord(home, plant.id));
      if (parsed.values.json === true) {
        io.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
      } else {
        io.stdout.write(`plant ${plant.id}: ${st.plantUp ? 'up' : 'not running'}; NATS ${st.nats.map((n) => `${n.name} ${n.up ? 'up' : 'DOWN'}${n.partitioned ? ' (cut off)' : ''}${n.restarts > 0 ? ` (restarts ${n.restarts})` : ''}`).join(', ')}${st.hosts.length === 0 ? '' : `; hosts ${st.hosts.map((h) => `${h.name} ${h.address}${h.isolated ? ' (cut off)' : ''}`).join(', ')}`}\n`);
        io.stdout.write(`${renderTable(['line', 'on', 'node', 'host', 'pid', 'restarts', 'sim h', 'parts/h', 'OEE', 'JetStream acked/waiting', 'web'], st.lines.map((l) => [
          l.id, l.machine ?? 'local', l.node, l.error === null ? l.host : `${l.host}: ${l.error}`, String(l.pid), String(l.restarts), num(l.simHours, 2), num(l.throughputPerHour, 1), num(l.oee, 3),
          l.stream === null ? '–' : `${l.stream.published}/${l.stream.pending}${l.stream.dropped > 0 ? ` (${l.stream.dropped} dropped)` : ''}${l.stream.error !== null ? ` ${l.stream.error}` : ''}`, l.url ?? '',
        ]), [false, false, false, false, true, true, true, true, true, false, false])}\n`);
      }
      return st.plantUp && st.nats.every((n) => n.up && !n.partitioned) && st.hosts.every((h) => !h.isolated) && st.lines.every((l) => l.host === 'up') ? 0 : 1;
    }
    case 'drill':
      return drill(plant.id, home, parsed.positionals.slice(1), io);
    default:
      throw new TwinlineError('USAGE', `unknown plant command "${sub}": validate, up, status, drill or net`);
  }
}
