/**
 * `twinline serve`: runs a line in real time in a worker thread and serves it over HTTP — the
 * status page in web/, and a REST API for state, KPIs, events and commands. Commands from the
 * API enter the same queue as every other source (`source: 'api'`) and are logged with the
 * principal that sent them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TwinlineError } from '../core/errors.ts';
import type { SimEvent } from '../core/events.ts';
import { parseScenario } from '../line/parse.ts';
import type { LineSpec } from '../line/types.ts';
import { checkCommand } from '../worker/command-check.ts';
import { loadRemote, spawnNodeSim } from '../worker/node-host.ts';
import type { Speed } from '../worker/api.ts';
import { listen } from './ports.ts';
import { readScenario } from './record.ts';
import { startOpcua, type OpcuaFace, type OpcuaProfile } from '../protocols/opcua/server.ts';

/** The line `serve` runs when none is given. */
export const DEFAULT_SCENARIO = fileURLToPath(new URL('../../scenarios/ceramic-after.yaml', import.meta.url));
const PAGE = fileURLToPath(new URL('../../web/index.html', import.meta.url));
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

REST API: GET /api/state, GET /api/events?since=SEQ&limit=N, POST /api/commands
  {"target":"kiln","command":"stop"}; the principal is the x-twinline-user header or the peer address.`;

/** A running server; `close()` shuts it down. */
export interface Served {
  url: string;
  /** OPC UA endpoint, or null when the face is off */
  opcua: string | null;
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

  const server = createServer((req, res) => {
    handle(req, res, spec, ring, sim.api).catch((e: unknown) => {
      reply(res, 500, { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } });
    });
  });
  let bound;
  let opcua: OpcuaFace | null = null;
  try {
    bound = await listen(server, o.httpPort, o.host, o.explicitPort, '--http-port');
    if (o.opcua !== undefined) {
      opcua = await startOpcua({ spec, api: sim.api, host: o.host, ...o.opcua });
      fanout.push(opcua.onEvents);
    }
  } catch (e) {
    clearInterval(pump);
    server.close();
    await sim.terminate();
    throw e;
  }
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${bound.port}/`;
  o.log(`Twinline serving "${spec.title.en}" (${spec.id}, seed ${o.seed ?? spec.seed}, speed ${o.speed}×)`);
  o.log(`  web app   ${url}${bound.fellBackFrom !== null ? `   (port ${bound.fellBackFrom} was taken; using ${bound.port})` : ''}`);
  o.log(`  REST API  ${url}api/state`);
  if (opcua !== null) {
    o.log(`  OPC UA    ${opcua.endpoint}   (profile ${o.opcua?.profile}, namespace ${opcua.namespaceUri}, up in ${opcua.startupMs} ms)${opcua.fellBackFrom !== null ? `   (port ${opcua.fellBackFrom} was taken; using ${opcua.port})` : ''}`);
    for (const n of opcua.notes) o.log(n);
  }
  o.log('  MQTT face is not part of this build yet.');
  return {
    url,
    opcua: opcua?.endpoint ?? null,
    async close() {
      clearInterval(pump);
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

async function handle(req: IncomingMessage, res: ServerResponse, spec: LineSpec, ring: SimEvent[], api: Api): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  switch (route) {
    case 'GET /':
    case 'GET /index.html':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...ISOLATION });
      res.end(readFileSync(PAGE));
      return;
    case 'GET /api/state': {
      const st = await api.state();
      const names = new Map(spec.stations.map((s) => [s.id, s.name]));
      reply(res, 200, {
        scenario: spec.id, title: spec.title, isa95: spec.isa95, tick: st.tick, simTime: st.simTimeS, running: st.running,
        speed: st.speed, rate: st.rate, pacing: st.pacing, kpis: st.kpis,
        stations: st.stations.map((s) => ({ ...s, name: names.get(s.id) ?? { en: s.id, zh: s.id } })),
      });
      return;
    }
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
      options: { 'http-port': { type: 'string' }, 'opcua-port': { type: 'string' }, profile: { type: 'string' }, host: { type: 'string' }, seed: { type: 'string' }, speed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  const served = await startServer({
    file: parsed.positionals[0] ?? DEFAULT_SCENARIO,
    httpPort: port ?? 8080,
    explicitPort: port !== undefined,
    host: v.host ?? '127.0.0.1',
    ...(seed !== undefined ? { seed } : {}),
    speed,
    log: (l) => console.log(l),
    opcua: { port: opcuaPort ?? 4840, explicitPort: opcuaPort !== undefined, profile, runDir: join(process.cwd(), '.twinline', 'opcua') },
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
