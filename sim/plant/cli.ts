/**
 * `twinline plant validate|up|status <plant.yaml>`: a plant's file checked; the plant started
 * (plant-up.ts) and kept up until SIGINT or SIGTERM; what runs where, each line's health and
 * KPIs, read from `plant.json` and each line host's REST API (as its viewer account).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { TwinlineError } from '../core/errors.ts';
import { parseOptions, untilStopped } from '../host/args.ts';
import { homeDir } from '../host/home.ts';
import { renderTable } from '../host/table.ts';
import { loadPlant } from './plant-file.ts';
import { alive, plantDir, plantUp, type PlantRecord } from './plant-up.ts';

export const PLANT_USAGE = `usage: twinline plant validate <plant.yaml>
       twinline plant up <plant.yaml> [--home DIR]      (until Ctrl-C)
       twinline plant status <plant.yaml> [--home DIR] [--json]
  A plant file lists lines (scenario files, copies, ISA-95 area, speed) and the NATS cluster's size;
  up starts the cluster (nats-server: JetStream and MQTT on each node) and one twinline serve per
  line copy publishing its unified namespace to a node, restarts a host that ends on its run
  (serve --resume), and keeps <home>/plants/<id>/plant.json; status reads it and asks each host.`;

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** One line's row of `plant status`. */
export interface LineStatus {
  id: string;
  node: string;
  pid: number;
  host: 'up' | 'down' | 'starting' | 'restarting' | 'stopped';
  restarts: number;
  url: string | null;
  simHours: number | null;
  throughputPerHour: number | null;
  oee: number | null;
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

const portOpen = (url: string): Promise<boolean> => new Promise((r) => {
  const u = new URL(url);
  const c = createConnection({ host: u.hostname, port: Number(u.port) }, () => {
    c.destroy();
    r(true);
  });
  c.once('error', () => r(false));
  c.setTimeout(2000, () => {
    c.destroy();
    r(false);
  });
});

/** Asks every host of a plant record how its line does. */
export async function plantStatus(rec: PlantRecord): Promise<{ plantUp: boolean; nats: { name: string; up: boolean }[]; lines: LineStatus[] }> {
  const nats = await Promise.all(rec.nats.map(async (n) => ({ name: n.name, up: await portOpen(n.nats) })));
  const lines = await Promise.all(rec.lines.map(async (l): Promise<LineStatus> => {
    const row: LineStatus = { id: l.id, node: l.node, pid: l.pid, host: l.state === 'up' ? 'down' : l.state, restarts: l.restarts, url: l.url, simHours: null, throughputPerHour: null, oee: null, error: null };
    if (l.url === null || l.state !== 'up') return row;
    const pw = viewerPassword(l.home);
    try {
      const r = await fetch(new URL('api/state', l.url), {
        headers: pw === null ? {} : { authorization: `Basic ${Buffer.from(`viewer:${pw}`).toString('base64')}` }, signal: AbortSignal.timeout(5000),
      });
      const body = (await r.json()) as { simTime?: number; kpis?: { throughputPerHour?: number; oee?: number }; error?: { message: string } };
      if (!r.ok) throw new Error(body.error?.message ?? `HTTP ${r.status}`);
      row.host = 'up';
      row.simHours = (body.simTime ?? 0) / 3600;
      row.throughputPerHour = body.kpis?.throughputPerHour ?? null;
      row.oee = body.kpis?.oee ?? null;
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
    }
    return row;
  }));
  return { plantUp: rec.state !== 'stopped' && alive(rec.pid), nats, lines };
}

const num = (x: number | null, digits: number): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

/** The `plant` command. */
export async function plantCommand(argv: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = parseOptions({ args: [...rest], allowPositionals: true, options: { home: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }, `plant ${sub ?? ''}`, PLANT_USAGE);
  if (sub === undefined || sub === 'help' || parsed.values.help === true) {
    io.stdout.write(`${PLANT_USAGE}\n`);
    return 0;
  }
  const file = parsed.positionals[0];
  if (file === undefined || parsed.positionals.length > 1) throw new TwinlineError('USAGE', `plant ${sub} takes one plant file`);
  const plant = loadPlant(file);
  const home = homeDir(parsed.values.home);
  switch (sub) {
    case 'validate':
      io.stdout.write(`${plant.file}: ok (plant ${plant.id}: ${plant.lines.length} lines on ${plant.natsNodes} NATS nodes)\n`);
      return 0;
    case 'up': {
      const say = (l: string): void => void io.stdout.write(`${l}\n`);
      say(`Twinline plant "${plant.title.en}" (${plant.id}): starting ${plant.natsNodes} NATS nodes and ${plant.lines.length} line hosts`);
      const running = await plantUp(plant, home, say);
      for (const n of running.record.nats) say(`  nats      ${n.name}   ${n.nats}   MQTT ${n.mqtt}`);
      for (const l of running.record.lines) say(`  line      ${l.id}   ${l.url ?? ''}   OPC UA ${l.opcua ?? '–'}   → ${l.node}   home ${l.home}`);
      say(`  plant     ${running.file}   (twinline plant status ${file}${parsed.values.home === undefined ? '' : ` --home ${parsed.values.home}`})`);
      await untilStopped();
      say('Twinline plant: stopping the line hosts, then the cluster');
      await running.stop();
      return 0;
    }
    case 'status': {
      const recFile = join(plantDir(home, plant.id), 'plant.json');
      if (!existsSync(recFile)) throw new TwinlineError('USAGE', `plant ${plant.id} has not been started under ${home} (no ${recFile})`);
      const st = await plantStatus(JSON.parse(readFileSync(recFile, 'utf8')) as PlantRecord);
      if (parsed.values.json === true) {
        io.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
      } else {
        io.stdout.write(`plant ${plant.id}: ${st.plantUp ? 'up' : 'not running'}; NATS ${st.nats.map((n) => `${n.name} ${n.up ? 'up' : 'DOWN'}`).join(', ')}\n`);
        io.stdout.write(`${renderTable(['line', 'node', 'host', 'pid', 'restarts', 'sim h', 'parts/h', 'OEE', 'web'], st.lines.map((l) => [
          l.id, l.node, l.error === null ? l.host : `${l.host}: ${l.error}`, String(l.pid), String(l.restarts), num(l.simHours, 2), num(l.throughputPerHour, 1), num(l.oee, 3), l.url ?? '',
        ]), [false, false, false, true, true, true, true, true, false])}\n`);
      }
      return st.plantUp && st.nats.every((n) => n.up) && st.lines.every((l) => l.host === 'up') ? 0 : 1;
    }
    default:
      throw new TwinlineError('USAGE', `unknown plant command "${sub}": validate, up or status`);
  }
}
