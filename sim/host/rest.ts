/**
 * The REST API and the built web app of `twinline serve`. Every `/api/` route but login needs a
 * credential from the account store (`http-auth.ts`); commands carry the caller's principal
 * and role, and the line refuses what the role may not do. What the plane refuses by itself
 * (bad Host or Origin, missing or wrong credentials, a viewer's command) is written to the
 * audit trail, at most once per peer and reason every few seconds so a flood cannot flood
 * the log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mayCommand, type AuditEntry } from '../core/commands.ts';
import type { LineSpec } from '../line/types.ts';
import { checkCommand } from '../worker/command-check.ts';
import type { spawnNodeSim } from '../worker/node-host.ts';
import { readPartPlaces, readTags, type LineInfo } from '../worker/twin-view.ts';
import type { World } from '../core/world.ts';
import { identify, login, peerOf, tokenOf, type HttpAuth, type Who } from './http-auth.ts';
import { readJson, type HostNames, type Refusal } from './http-guard.ts';
import type { RunLog } from './run-log.ts';
import { AuditThrottle } from './audit-throttle.ts';
import type { Exercises } from './exercises.ts';
import type { Range } from './range.ts';
import type { Responder } from './respond.ts';
import { runRoute, runState } from './run-control.ts';
import type { Workshop } from './workshop.ts';
import type { AlertLog } from '../../security/detectors/alert-log.ts';
import { StaticFiles } from './static-files.ts';
import type { Historian } from './historian.ts';
import type { StreamsStatus } from './streams.ts';
import { historyRoute } from './history-rest.ts';

/** the built web app (`vite build --config web/vite.config.ts`) */
const APP_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));
/** the app's files, compressed and cached (one per process: the built app is the same for every host) */
const APP = new StaticFiles(APP_DIR);
const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Twinline</title></head>
<body style="font-family:system-ui,sans-serif;background:#0d1117;color:#e6edf3;padding:2rem">
<h1>Twinline</h1><p>The web app is not built yet: run <code>npm run build:web</code> (or <code>npm start</code>) and reload.</p>
<p>网页应用尚未构建：请运行 <code>npm run build:web</code>（或 <code>npm start</code>）后刷新。</p>
<p>The line is running: <a href="/api/state" style="color:#58a6ff">/api/state</a></p></body></html>`;
/** one audit entry per peer and reason at most this often [ms]; the next one counts the rest */
const AUDIT_EVERY_MS = 5000;
/** events one `GET /api/events` returns at most */
const MAX_PAGE = 2000;

type Api = ReturnType<typeof spawnNodeSim>['api'];

/** The host's reader over the line, for the 3D view's tags and part places. */
export interface View {
  reader: World;
  line: LineInfo;
  parts: Float64Array;
}

/** What the REST routes work with. */
export interface RestContext {
  spec: LineSpec;
  api: Api;
  view: View;
  log: RunLog;
  auth: HttpAuth;
  hosts: HostNames;
  /** the body of `GET /api/network` */
  network(): unknown;
  /** writes what the line has logged so far to disk before a command is acknowledged */
  flush(): Promise<void>;
  /** the security range's routes (`/api/attacks…`, range.ts), when the host offers them */
  range?: Range;
  /** scripted exercises on this twin (`/api/exercises…`, exercises.ts) */
  exercises?: Exercises;
  /** the detectors' alerts (`GET /api/alerts`), when the host runs detectors */
  alerts?: AlertLog;
  /** incident response (`/api/respond…`, `/api/incident`, `/api/playbooks`: respond.ts) */
  respond?: Responder;
  /** lessons on the running twin (`/api/lesson…`, workshop.ts) */
  workshop?: Workshop;
  /** the historian (`GET /api/history…`, history-rest.ts), when the host runs one */
  history?: Historian;
  /** the line's JetStream records (`GET /api/streams`), when the host has `--nats` */
  streams?: { status(): StreamsStatus };
}

/** an address served without credentials (profile open) is observed at most once per this period [ms] */
const ANONYMOUS_OBSERVED_MS = 60_000;

/**
 * Audits refusals, throttled per key (peer and reason); and, for the detectors, an address
 * served without any credential (profile `open`), once a minute.
 */
export class RefusalAudit {
  private readonly throttle: AuditThrottle;
  private readonly anonymous: AuditThrottle;
  constructor(private readonly write: (a: AuditEntry) => void, now: () => number = Date.now) {
    this.throttle = new AuditThrottle(AUDIT_EVERY_MS, now);
    this.anonymous = new AuditThrottle(ANONYMOUS_OBSERVED_MS, now);
  }

  note(key: string, a: AuditEntry): void {
    const skipped = this.throttle.pass(key);
    if (skipped !== null) this.write({ ...a, reason: AuditThrottle.note(a.reason ?? '', skipped, AUDIT_EVERY_MS) });
  }

  /**
   * An anonymous request served to `peer`: its first read and its first write in a minute are
   * each audited as a login allowed without credentials (a read first must not hide a write).
   */
  anonymousServed(peer: string, principal: string, route: string): void {
    if (this.anonymous.pass(`${peer}|${route.startsWith('GET ') ? 'read' : 'write'}`) === null) return;
    this.write({ source: 'api', principal, action: 'login', outcome: 'allowed', target: route.slice(0, 200), reason: 'no credentials: served as an anonymous operator (profile open)' });
  }
}

/** Handles one HTTP request (the live socket's upgrade is handled apart). */
export async function handle(req: IncomingMessage, res: ServerResponse, c: RestContext, refusals: RefusalAudit): Promise<void> {
  const peer = peerOf(req);
  const front = c.hosts.check(req);
  if (front !== null) {
    refusals.note(`${peer}|${front.code}`, { source: 'api', principal: `?@${peer}`, action: 'request', outcome: 'denied', target: `${req.method ?? ''} ${(req.url ?? '').slice(0, 100)}`, reason: front.message });
    return refuse(res, front);
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
    decodeURIComponent(url.pathname);
  } catch {
    return refuse(res, { status: 400, code: 'BAD_URL', message: 'the request URL is malformed' });
  }
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  if (!url.pathname.startsWith('/api/')) {
    if ((req.method === 'GET' || req.method === 'HEAD') && (await serveApp(req, res, url.pathname))) return;
    return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no route ${route.slice(0, 200)}` });
  }
  if (route === 'POST /api/login') return loginRoute(req, res, c, peer);
  const who = await identify(req, c.auth);
  if (!who.ok) {
    if (who.user !== undefined) {
      // a wrong password in HTTP Basic is a failed login: audited each time with the user name, as
      // POST /api/login's are (the back-off guard bounds how many a peer can make), so password
      // guessing shows in the trail as it happens
      void c.api.audit({ source: 'api', principal: `${who.user.slice(0, 100)}@${peer}`, action: 'login', outcome: 'denied', target: url.pathname, reason: who.message }).catch(() => undefined);
    } else if (req.method !== 'GET' || who.audit !== undefined) {
      refusals.note(`${peer}|${who.status}|${url.pathname}`, { source: 'api', principal: `?@${peer}`, action: req.method === 'GET' ? 'read' : 'command', outcome: 'denied', target: url.pathname, reason: who.message });
    }
    if (who.retryAfterS !== undefined) res.setHeader('retry-after', String(who.retryAfterS));
    if (who.status === 401) res.setHeader('www-authenticate', 'Bearer realm="twinline"');
    return refuse(res, { status: who.status, code: who.status === 429 ? 'TOO_MANY_ATTEMPTS' : 'UNAUTHENTICATED', message: who.message });
  }
  if (who.user === 'anonymous') refusals.anonymousServed(peer, who.principal, route);
  if (url.pathname === '/api/attacks' || url.pathname.startsWith('/api/attacks/')) {
    if (c.range !== undefined) return c.range.handle(req, res, url.pathname, who, refusals, peer);
  }
  if ((url.pathname === '/api/exercises' || url.pathname.startsWith('/api/exercises/')) && c.exercises !== undefined) {
    return c.exercises.handle(req, res, url, who, refusals, peer);
  }
  if (c.respond?.owns(url.pathname) === true) return c.respond.handle(req, res, url, who, refusals, peer);
  if (c.workshop?.owns(url.pathname) === true) return c.workshop.handle(req, res, url, who, refusals, peer);
  switch (route) {
    case 'GET /api/whoami':
      return reply(res, 200, { user: who.user, role: who.role, profile: c.auth.profile });
    case 'POST /api/logout': {
      const token = tokenOf(req);
      return reply(res, 200, { ok: token !== null && c.auth.tokens.revoke(token) });
    }
    case 'GET /api/line':
      return reply(res, 200, c.view.line);
    case 'GET /api/state':
      return reply(res, 200, await stateBody(c.spec, c.api, c.view));
    case 'GET /api/network':
      return reply(res, 200, c.network());
    case 'GET /api/events': {
      const sinceRaw = url.searchParams.get('since');
      const since = sinceRaw === null ? -1 : Number(sinceRaw);
      const limitRaw = Number(url.searchParams.get('limit') ?? 200);
      if (!Number.isInteger(since) || since < -1) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'since must be an event seq (an integer ≥ -1)' });
      const limit = Number.isFinite(limitRaw) ? Math.min(MAX_PAGE, Math.max(1, Math.floor(limitRaw))) : 200;
      return reply(res, 200, c.log.page(since, limit));
    }
    case 'GET /api/streams':
      // what JetStream has acknowledged of the line's records, and what waits for it
      return reply(res, 200, { streams: c.streams?.status() ?? null });
    case 'GET /api/history':
    case 'GET /api/history/events':
      return historyRoute(res, url, c.history, reply, refuse);
    case 'GET /api/alerts': {
      // every role may read the alerts, as it may read the event log
      if (c.alerts === undefined) return reply(res, 200, { alerts: [], next: 0, raised: 0, dropped: 0, detectors: [], file: null, acks: [], ackNext: 0 });
      const since = Number(url.searchParams.get('since') ?? 0);
      const from = Number(url.searchParams.get('from') ?? 0);
      const acks = Number(url.searchParams.get('acks') ?? 0);
      const limitRaw = Number(url.searchParams.get('limit') ?? 500);
      if (!Number.isInteger(since) || since < 0) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'since must be an alert id (an integer ≥ 0)' });
      if (!Number.isFinite(from) || from < 0) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'from must be a wall time [ms since the epoch] ≥ 0' });
      if (!Number.isInteger(acks) || acks < 0) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'acks must be an acknowledgement seq (an integer ≥ 0)' });
      const limit = Number.isFinite(limitRaw) ? Math.min(MAX_PAGE, Math.max(1, Math.floor(limitRaw))) : 500;
      return reply(res, 200, c.alerts.page(since, limit, from, acks));
    }
    case 'POST /api/alerts/ack':
      return ackRoute(req, res, c, who, refusals, peer);
    case 'POST /api/commands':
      return commandRoute(req, res, c, who, refusals, peer);
    case 'GET /api/run':
      return reply(res, 200, await runState(c));
    case 'POST /api/run':
      return runRoute(req, res, c, who, refusals, peer);
    default:
      return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no route ${route.slice(0, 200)}` });
  }
}

async function loginRoute(req: IncomingMessage, res: ServerResponse, c: RestContext, peer: string): Promise<void> {
  const body = await readJson(req);
  if (!body.ok) return refuse(res, body.refusal);
  const b = body.value as { user?: unknown; password?: unknown } | null;
  if (typeof b?.user !== 'string' || typeof b.password !== 'string') return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'the body must be {"user": string, "password": string}' });
  const who = await login(c.auth, b.user.slice(0, 100), b.password.slice(0, 300), peer);
  if (!who.ok) {
    // every failed login is audited: the guard bounds how many a peer can make
    void c.api.audit({ source: 'api', principal: `${b.user.slice(0, 100)}@${peer}`, action: 'login', outcome: 'denied', reason: who.message }).catch(() => undefined);
    if (who.retryAfterS !== undefined) res.setHeader('retry-after', String(who.retryAfterS));
    return refuse(res, { status: who.status, code: who.status === 429 ? 'TOO_MANY_ATTEMPTS' : 'UNAUTHENTICATED', message: who.message });
  }
  void c.api.audit({ source: 'api', principal: who.principal, action: 'login', outcome: 'allowed', reason: `role ${who.role}` }).catch(() => undefined);
  return reply(res, 200, { ...c.auth.tokens.issue({ user: who.user, role: who.role }), user: who.user, role: who.role });
}

async function commandRoute(req: IncomingMessage, res: ServerResponse, c: RestContext, who: Extract<Who, { ok: true }>, refusals: RefusalAudit, peer: string): Promise<void> {
  const body = await readJson(req);
  if (!body.ok) {
    refusals.note(`${peer}|${body.refusal.code}`, { source: 'api', principal: who.principal, action: 'command', outcome: 'denied', target: '/api/commands', reason: body.refusal.message });
    return refuse(res, body.refusal);
  }
  const parsed = body.value;
  // the principal and role come from the credential; whatever the body says of them is overwritten
  const cmd = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed, source: 'api', principal: who.principal, role: who.role } : parsed;
  const bad = checkCommand(cmd);
  if (bad !== null && !bad.ok) return refuse(res, { status: 400, code: bad.code, message: bad.reason });
  const result = await c.api.send(cmd as Parameters<Api['send']>[0]);
  await c.flush();
  if (result.ok) return reply(res, 200, { ok: true });
  return reply(res, result.code === 'NOT_AUTHORIZED' ? 403 : 409, { ok: false, error: { code: result.code, message: result.reason } });
}

/** `POST /api/alerts/ack {"id"}`: an operator (or above) acknowledges an alert; audited. */
async function ackRoute(req: IncomingMessage, res: ServerResponse, c: RestContext, who: Extract<Who, { ok: true }>, refusals: RefusalAudit, peer: string): Promise<void> {
  // acknowledging is an operator's act, as acknowledging a station's alarm is
  const denied = mayCommand(who.role, 'ack');
  if (denied !== null) {
    refusals.note(`${peer}|alert-ack|${who.principal}`, { source: 'api', principal: who.principal, action: 'ack', outcome: 'denied', target: '/api/alerts/ack', reason: denied });
    return refuse(res, { status: 403, code: 'NOT_AUTHORIZED', message: `${denied}: acknowledging an alert needs the operator role` });
  }
  const body = await readJson(req);
  if (!body.ok) return refuse(res, body.refusal);
  const id = (body.value as { id?: unknown } | null)?.id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'the body must be {"id": an alert id (an integer ≥ 1)}' });
  const done = c.alerts?.ack(id, who.principal, Date.now()) ?? null;
  if (done === null) return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no alert ${id} (GET /api/alerts lists those the host holds)` });
  if (done.first) void c.api.audit({ source: 'api', principal: who.principal, action: 'ack', outcome: 'allowed', target: `alert ${id}` }).catch(() => undefined);
  return reply(res, 200, { ok: true, ack: done.ack });
}

/** Serves a file of the built app, or the not-built page; false if `path` is not one. */
export async function serveApp(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  if (!existsSync(join(APP_DIR, 'index.html'))) {
    if (pathname !== '/' && pathname !== '/index.html') return false;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...ISOLATION });
    res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
    return true;
  }
  return APP.serve(req, res, pathname, { ...ISOLATION, ...FRAMING });
}

/** The body of `GET /api/state` (also each state frame of `/api/live`). */
export async function stateBody(spec: LineSpec, api: Api, view: View): Promise<unknown> {
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

/** Headers that let the page use SharedArrayBuffer (cross-origin isolation). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
/** the app is never framed by another site (clickjacking) */
const FRAMING = { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'", 'x-content-type-options': 'nosniff' };

/** Sends a JSON reply. */
export function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...ISOLATION });
  res.end(JSON.stringify(body));
}

/** Sends a refusal as `{"error":{code,message}}`; a 413 closes the connection (the rest of its body was read and dropped, within bounds: http-guard.ts). */
export function refuse(res: ServerResponse, r: Refusal): void {
  if (r.status === 413) res.setHeader('connection', 'close');
  reply(res, r.status, { error: { code: r.code, message: r.message } });
}
