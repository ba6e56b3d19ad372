/**
 * `twinline serve`: runs a line in real time in a worker thread and serves it over HTTP — the
 * status page in web/, and a REST API for state, KPIs, events and commands. Commands from the
 * API enter the same queue as every other source (`source: 'api'`) and are logged with the
 * principal that sent them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TwinlineError } from '../core/errors.ts';
import type { SimEvent } from '../core/events.ts';
import { parseScenario } from '../line/parse.ts';
import type { LineSpec } from '../line/types.ts';
import { checkCommand } from '../worker/command-check.ts';
import { loadRemote, spawnNodeSim } from '../worker/node-host.ts';
import type { Speed } from '../worker/api.ts';
import { openReader } from '../worker/reader.ts';
import { lineInfo, partCapacity, readPartPlaces, readTags, type LineInfo } from '../worker/twin-view.ts';
import type { World } from '../core/world.ts';
import { listen } from './ports.ts';
import { readScenario } from './record.ts';
import { startOpcua, type OpcuaFace, type OpcuaProfile } from '../protocols/opcua/server.ts';
import { startMqtt, type MqttFace, type MqttOptions } from '../protocols/mqtt/face.ts';
import { MQTT_FLAGS, MQTT_USAGE, mqttFromFlags } from '../protocols/mqtt/flags.ts';
import { NetworkMonitor } from './network.ts';
import { attachLiveSocket } from './live-socket.ts';

/** The line `serve` runs when none is given. */
export const DEFAULT_SCENARIO = fileURLToPath(new URL('../../scenarios/ceramic-after.yaml', import.meta.url));
/** the built web app (`vite build --config web/vite.config.ts`) */
const APP_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.wasm': 'application/wasm', '.map': 'application/json; charset=utf-8', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
};
const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Twinline</title></head>
<body style="font-family:system-ui,sans-serif;background:#0d1117;color:#e6edf3;padding:2rem">
<h1>Twinline</h1><p>The web app is not built yet: run <code>npm run build:web</code> (or <code>npm start</code>) and reload.</p>
<p>网页应用尚未构建：请运行 <code>npm run build:web</code>（或 <code>npm start</code>）后刷新。</p>
<p>The line is running: <a href="/api/state" style="color:#58a6ff">/api/state</a></p></body></html>`;
/** events kept for `GET /api/events` */
const EVENT_RING = 2000;
/** largest accepted request body [bytes] */
const MAX_BODY = 64 * 1024;

export const SERVE_USAGE = `usage: twinline serve [scenario.yaml] [--http-port N] [--opcua-port N] [--profile open|hardened] [--host ADDR] [--seed S] [--speed N]

  scenario.yaml   line to run (default: scenarios/ceramic-after.yaml)
  --http-port N   web app and REST API (default 8080; a taken default falls back to a free port)
  --opcua-port N  OPC UA server (default 4840; a taken default falls back to a free port)
  --profile P     OPC UA security: open (None, anonymous; classroom only) or hardened
                  (SignAndEncrypt, user accounts, trust list; default). PKI and accounts: .twinline/opcua/
  --host ADDR     address to listen on (default 127.0.0.1)
  --seed S        random seed (default: the scenario's)
  --speed N       N × real time (default 1)
${MQTT_USAGE}

REST API: GET /api/line, GET /api/state, GET /api/events?since=SEQ&limit=N, POST /api/commands
  {"target":"kiln","command":"stop"}; the principal is the x-twinline-user header or the peer address.
  GET /api/network: the faces (endpoints, clients, messages per second) and unusual traffic.
  WebSocket /api/live?hz=N: {"type":"state",…} (the /api/state body) N times a second (1–50, default 20)
  and {"type":"events","events":[…]} as the line logs them.`;

/** A running server; `close()` shuts it down. */
export interface Served {
  url: string;
  /** OPC UA endpoint, or null when the face is off */
  opcua: string | null;
  /** the MQTT face, or null when it is off */
  mqtt: MqttFace | null;
  close(): Promise<void>;
}

/** Options of `startServer`. */
export interface ServeOptions {
  file: string;
  httpPort: number;
  /** the port was given explicitly (a taken port is then an error) */
  explicitPort: boolean;
  host: string;
  seed?: number;
  speed: Speed;
  log: (line: string) => void;
  /** the OPC UA face; omitted: no OPC UA server */
  opcua?: { port: number; explicitPort: boolean; profile: OpcuaProfile; runDir: string };
  /** the MQTT face; omitted: none */
  mqtt?: Omit<MqttOptions, 'spec' | 'api' | 'log'>;
}

/** Starts the worker and the HTTP server; resolves once both are up. */
export async function startServer(o: ServeOptions): Promise<Served> {
  const text = readScenario(o.file);
  const spec = parseScenario(text, o.file);
  const sim = spawnNodeSim();
  try {
    await loadRemote(sim.api, text, o.file, o.seed === undefined ? {} : { seed: o.seed });
    await sim.api.setSpeed(o.speed);
    await sim.api.start();
  } catch (e) {
    await sim.terminate();
    throw e;
  }
  // a zero-copy reader over the worker's shared buffer: tags and part places for the 3D view
  const reader = openReader(await sim.api.shared());
  const view: View = { reader, line: lineInfo(spec, reader), parts: new Float64Array(3 * partCapacity(reader)) };
  const ring: SimEvent[] = [];
  // every protocol face sees the same drained events as the REST ring
  const fanout: ((evs: readonly SimEvent[]) => void)[] = [];
  const pump = setInterval(() => {
    sim.api.drainEvents().then((evs) => {
      for (const f of fanout) f(evs);
      ring.push(...evs);
      if (ring.length > EVENT_RING) ring.splice(0, ring.length - EVENT_RING);
    }, () => undefined);
  }, 200);

  let url: string | null = null;
  let opcua: OpcuaFace | null = null;
  let mqtt: MqttFace | null = null;
  // rates and unusual traffic per face for GET /api/network (see network.ts)
  const net = new NetworkMonitor({
    stations: spec.stations.map((s) => s.id), http: () => url, opcua: () => opcua?.endpoint ?? null,
    mqtt: () => (mqtt === null ? null : { face: mqtt, embedded: o.mqtt?.url === undefined }),
  });
  fanout.push(net.onEvents);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/') === true) net.request();
    if (req.method === 'GET' && req.url?.split('?')[0] === '/api/network') return reply(res, 200, net.report());
    handle(req, res, spec, ring, sim.api, view).catch((e: unknown) => {
      reply(res, 500, { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } });
    });
  });
  // the attached page's push feed: state at a steady rate and the drained events
  const live = attachLiveSocket(server, { state: () => stateBody(spec, sim.api, view), sent: () => net.push() });
  fanout.push(live.onEvents);
  let bound;
  try {
    bound = await listen(server, o.httpPort, o.host, o.explicitPort, '--http-port');
    if (o.opcua !== undefined) {
      opcua = await startOpcua({ spec, api: sim.api, host: o.host, ...o.opcua });
      fanout.push(opcua.onEvents);
    }
    if (o.mqtt !== undefined) mqtt = await startMqtt({ ...o.mqtt, spec, api: sim.api, log: o.log });
  } catch (e) {
    clearInterval(pump);
    net.close();
    live.close();
    await opcua?.close();
    server.close();
    await sim.terminate();
    throw e;
  }
  url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${bound.port}/`;
  o.log(`Twinline serving "${spec.title.en}" (${spec.id}, seed ${o.seed ?? spec.seed}, speed ${o.speed}×)`);
  o.log(`  web app   ${url}${bound.fellBackFrom !== null ? `   (port ${bound.fellBackFrom} was taken; using ${bound.port})` : ''}`);
  o.log(`  REST API  ${url}api/state   live WebSocket ${url.replace(/^http/, 'ws')}api/live`);
  if (opcua !== null) {
    o.log(`  OPC UA    ${opcua.endpoint}   (profile ${o.opcua?.profile}, namespace ${opcua.namespaceUri}, up in ${opcua.startupMs} ms)${opcua.fellBackFrom !== null ? `   (port ${opcua.fellBackFrom} was taken; using ${opcua.port})` : ''}`);
    for (const n of opcua.notes) o.log(n);
  }
  if (mqtt !== null) {
    const fell = mqtt.fellBackFrom;
    o.log(`  MQTT      ${mqtt.url}${mqtt.wsUrl !== null ? `   WebSocket ${mqtt.wsUrl}` : ''}   (${o.mqtt?.url === undefined ? 'embedded broker' : 'external broker'}, encoding ${o.mqtt?.encoding})${fell.tcp !== null ? `   (port ${fell.tcp} was taken; using ${new URL(mqtt.url).port})` : ''}${fell.ws !== null && mqtt.wsUrl !== null ? `   (port ${fell.ws} was taken; using ${new URL(mqtt.wsUrl).port})` : ''}`);
    o.log(`    UNS ${mqtt.prefix}/<station>/<tag>   commands ${mqtt.prefix}/<station>/cmd/<command>   Sparkplug spBv1.0/${mqtt.group}/+/${mqtt.edge}/#`);
    for (const n of mqtt.notes) o.log(n);
  }
  return {
    url,
    opcua: opcua?.endpoint ?? null,
    mqtt,
    async close() {
      clearInterval(pump);
      net.close();
      live.close();
      await mqtt?.close();
      await opcua?.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await sim.terminate();
    },
  };
}

type Api = ReturnType<typeof spawnNodeSim>['api'];

/** The host's reader over the line, for the 3D view's tags and part places. */
interface View {
  reader: World;
  line: LineInfo;
  parts: Float64Array;
}

/** Serves a file of the built app, or the not-built page; false if `path` is not one. */
function serveApp(res: ServerResponse, pathname: string): boolean {
  const index = join(APP_DIR, 'index.html');
  if (!existsSync(index)) {
    if (pathname !== '/' && pathname !== '/index.html') return false;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...ISOLATION });
    res.end(NOT_BUILT);
    return true;
  }
  const rel = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)).replace(/^([/\\])+/, '');
  const file = join(APP_DIR, rel);
  if (!file.startsWith(APP_DIR) || rel.split(sep).includes('..') || !existsSync(file) || !statSync(file).isFile()) return false;
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  const cache = rel.startsWith('assets') ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { 'content-type': type, 'cache-control': cache, 'cross-origin-resource-policy': 'same-origin', ...ISOLATION });
  res.end(readFileSync(file));
  return true;
}

/** The body of `GET /api/state` (also each state frame of `/api/live`). */
async function stateBody(spec: LineSpec, api: Api, view: View): Promise<unknown> {
  const st = await api.state();
  const names = new Map(spec.stations.map((s) => [s.id, s.name]));
  const { reader, line, parts } = view;
  // tag values (in /api/line's tag order) and part places [station, fraction, serial]…, read consistently
  const live = reader.readConsistent(() => ({
    tags: line.stations.map((s, k) => {
      const out = new Float64Array(s.tags.length);
      readTags(reader, k, s.tags, out);
      return Array.from(out);
    }),
    parts: Array.from(parts.subarray(0, 3 * readPartPlaces(reader, parts))),
  })).value;
  return {
    scenario: spec.id, title: spec.title, isa95: spec.isa95, tick: st.tick, simTime: st.simTimeS, running: st.running,
    speed: st.speed, rate: st.rate, pacing: st.pacing, kpis: st.kpis,
    stations: st.stations.map((s, k) => ({ ...s, name: names.get(s.id) ?? { en: s.id, zh: s.id }, tags: live.tags[k] ?? [] })),
    parts: live.parts,
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, spec: LineSpec, ring: SimEvent[], api: Api, view: View): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  switch (route) {
    case 'GET /api/line':
      reply(res, 200, view.line);
      return;
    case 'GET /api/state':
      reply(res, 200, await stateBody(spec, api, view));
      return;
    case 'GET /api/events': {
      const since = Number(url.searchParams.get('since') ?? -1);
      const limit = Math.min(EVENT_RING, Math.max(1, Number(url.searchParams.get('limit') ?? 200) || 200));
      const evs = ring.filter((e) => e.seq > since);
      reply(res, 200, evs.slice(-limit));
      return;
    }
    case 'POST /api/commands': {
      const body = await readBody(req);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch (e) {
        reply(res, 400, { error: { code: 'BAD_ARGUMENT', message: `request body is not JSON: ${(e as Error).message}` } });
        return;
      }
      const principal = String(req.headers['x-twinline-user'] ?? `anonymous@${req.socket.remoteAddress ?? '?'}`);
      const cmd = typeof parsed === 'object' && parsed !== null ? { ...parsed, source: 'api', principal } : parsed;
      const bad = checkCommand(cmd);
      if (bad !== null && !bad.ok) {
        reply(res, 400, { error: { code: bad.code, message: bad.reason } });
        return;
      }
      const result = await api.send(cmd as Parameters<Api['send']>[0]);
      reply(res, result.ok ? 200 : 409, result.ok ? { ok: true } : { ok: false, error: { code: result.code, message: result.reason } });
      return;
    }
    default:
      if (req.method === 'GET' && !url.pathname.startsWith('/api/') && serveApp(res, url.pathname)) return;
      reply(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${route}` } });
  }
}

/** Headers that let the page use SharedArrayBuffer (cross-origin isolation). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...ISOLATION });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new TwinlineError('BAD_ARGUMENT', `request body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `twinline serve …`: runs until SIGINT/SIGTERM, then shuts down cleanly. */
export async function serve(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'http-port': { type: 'string' }, 'opcua-port': { type: 'string' }, profile: { type: 'string' }, host: { type: 'string' }, seed: { type: 'string' }, speed: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...MQTT_FLAGS },
    });
  } catch (e) {
    throw new TwinlineError('USAGE', `${(e as Error).message}\n${SERVE_USAGE}`);
  }
  const v = parsed.values;
  if (v.help === true) {
    console.log(SERVE_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 1) throw new TwinlineError('USAGE', `serve takes one scenario, got ${parsed.positionals.length}\n${SERVE_USAGE}`);
  const num = (name: string, raw: string | undefined, ok: (n: number) => boolean): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new TwinlineError('USAGE', `--${name} ${raw} is not valid\n${SERVE_USAGE}`);
    return n;
  };
  const port = num('http-port', v['http-port'], (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const seed = num('seed', v.seed, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32);
  const speed = num('speed', v.speed, (n) => n > 0 && n <= 1e6) ?? 1;
  const opcuaPort = num('opcua-port', v['opcua-port'], (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const profile = v.profile ?? 'hardened';
  if (profile !== 'open' && profile !== 'hardened') throw new TwinlineError('USAGE', `--profile ${profile} is not valid: open or hardened\n${SERVE_USAGE}`);
  const mqtt = mqttFromFlags(v, v.host ?? '127.0.0.1', process.cwd());
  const served = await startServer({
    file: parsed.positionals[0] ?? DEFAULT_SCENARIO,
    httpPort: port ?? 8080,
    explicitPort: port !== undefined,
    host: v.host ?? '127.0.0.1',
    ...(seed !== undefined ? { seed } : {}),
    speed,
    log: (l) => console.log(l),
    opcua: { port: opcuaPort ?? 4840, explicitPort: opcuaPort !== undefined, profile, runDir: join(process.cwd(), '.twinline', 'opcua') },
    ...(mqtt !== null ? { mqtt } : {}),
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  console.log('Twinline: shutting down');
  await served.close();
  return 0;
}
