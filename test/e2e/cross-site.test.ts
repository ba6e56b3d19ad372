/**
 * Cross-site attacks on the twin's own control plane, from a real Chromium page on another
 * origin, as the page of a site an operator happens to visit would try them: form and
 * text/plain posts the browser sends without asking (CSRF), JSON fetches with credentials,
 * and the live WebSocket (cross-site WebSocket hijacking). Against a hardened host and one
 * under the `open` profile, where no login stands in the way and the Origin and content-type
 * checks alone must hold. Also DNS rebinding: a request naming a foreign Host is refused.
 *
 * Each attack must reach the host (so its refusal is real, not the browser's) and change
 * nothing: no command from the REST plane in the line's event log, the attacked stations not
 * held, the host still answering and the line still ticking, the refusal in the audit trail
 * (over REST and in the run's audit.ndjson).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { allEvents, api, CHROMIUM, CHROMIUM_ARGS, login, START_MS, startHost, until, type Host, type HostEvent } from './host.ts';

const SCENARIO = 'scenarios/ceramic-after.yaml';

let hardened: Host;
let open: Host;
let attacker: Server;
let attackOrigin = '';
let browser: Browser;

/** What the attacker's page found out, attempt by attempt. */
interface Attempt {
  name: string;
  kind: 'fetch' | 'form' | 'beacon' | 'socket';
  /** fetch: the browser sent it and got a response (opaque for no-cors) */
  sent?: boolean;
  type?: string;
  error?: string;
  /** beacon: the browser queued it */
  queued?: boolean;
  /** socket: it ever opened */
  opened?: boolean;
  how?: string;
}
declare const window: { __attack: { done: boolean; results: Attempt[] } };

/** The attacker's page: every attack on the host at `api` (`http://127.0.0.1:<port>/`) in turn. */
function attackPage(api: string, stolen: string): string {
  const live = `${api.replace(/^http/, 'ws')}api/live`;
  const hold = JSON.stringify({ target: 'kiln', command: 'hold' });
  return `<!doctype html><html><head><meta charset="utf-8"><title>Free kiln recipes</title></head><body>
<h1>Free kiln recipes</h1>
<iframe name="sink" style="display:none"></iframe>
<form id="plain" method="POST" enctype="text/plain" target="sink" action="${api}api/commands"><input name='{"target":"kiln","command":"hold","x":"' value='"}'></form>
<form id="urlenc" method="POST" target="sink" action="${api}api/commands"><input name="target" value="former"><input name="command" value="hold"></form>
<script>
window.__attack = { done: false, results: [] };
const API = ${JSON.stringify(api)}, LIVE = ${JSON.stringify(live)}, STOLEN = ${JSON.stringify(stolen)}, HOLD = ${JSON.stringify(hold)};
const note = (name, kind, r) => window.__attack.results.push({ name, kind, ...r });
const body = (target, command) => JSON.stringify({ target, command });
async function tryFetch(name, init) {
  try {
    const r = await fetch(API + 'api/commands', init);
    note(name, 'fetch', { sent: true, type: r.type });
  } catch (e) {
    note(name, 'fetch', { sent: false, error: String(e) });
  }
}
function submit(id) {
  return new Promise((resolve) => {
    const sink = document.querySelector('iframe');
    const t = setTimeout(() => { note(id, 'form', { how: 'timeout' }); resolve(); }, 8000);
    sink.onload = () => { clearTimeout(t); note(id, 'form', { how: 'loaded' }); resolve(); };
    document.getElementById(id).submit();
  });
}
function trySocket(name, protocols) {
  return new Promise((resolve) => {
    let opened = false;
    let ws;
    try {
      ws = protocols === undefined ? new WebSocket(LIVE) : new WebSocket(LIVE, protocols);
    } catch (e) {
      note(name, 'socket', { opened: false, how: 'threw ' + e });
      return resolve();
    }
    let ended = false;
    const end = (how) => {
      if (ended) return;
      ended = true;
      note(name, 'socket', { opened, how });
      resolve();
    };
    const t = setTimeout(() => { end('still ' + ws.readyState); ws.close(); }, 10000);
    ws.onopen = () => { opened = true; };
    ws.onmessage = () => { opened = true; };
    ws.onclose = (e) => { clearTimeout(t); end('closed ' + e.code); };
  });
}
(async () => {
  // (a) what a browser sends cross-site without a preflight: text/plain, form and multipart bodies
  await tryFetch('text/plain: hold the kiln', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: HOLD });
  await tryFetch('text/plain: stop the former', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: body('former', 'stop') });
  await tryFetch('no-cors "JSON" (the browser drops the type)', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'application/json' }, body: body('line', 'abort') });
  await tryFetch('urlencoded: hold the former', { method: 'POST', mode: 'no-cors', body: new URLSearchParams({ target: 'former', command: 'hold' }) });
  await tryFetch('urlencoded JSON key: hold the kiln', { method: 'POST', mode: 'no-cors', body: new URLSearchParams({ [HOLD]: '' }) });
  const fd = new FormData();
  fd.set('target', 'kiln');
  fd.set('command', 'hold');
  await tryFetch('multipart: hold the kiln', { method: 'POST', mode: 'no-cors', body: fd });
  note('beacon: hold the kiln', 'beacon', { queued: navigator.sendBeacon(API + 'api/commands', new Blob([HOLD], { type: 'text/plain' })) });
  await submit('plain');
  await submit('urlenc');
  // (b) JSON with credentials: needs a CORS preflight, which the host refuses
  await tryFetch('JSON with credentials', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: HOLD });
  await tryFetch('JSON with a stolen token', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + STOLEN }, body: HOLD });
  // (c) the live socket, which browsers open cross-site without CORS
  await trySocket('socket without a token');
  await trySocket('socket with a made-up token', ['twinline.v1', 'bearer.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']);
  await trySocket('socket with a stolen token', ['twinline.v1', 'bearer.' + STOLEN]);
  window.__attack.done = true;
})();
</script></body></html>`;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  [hardened, open] = await Promise.all([
    startHost([SCENARIO, '--no-mqtt', '--opcua-port', '0']),
    startHost([SCENARIO, '--profile', 'open', '--no-mqtt', '--opcua-port', '0']),
  ]);
  // the attacker's site: another loopback port, hence another origin; the page is made per target
  const pages = new Map<string, string>();
  attacker = createServer((req, res) => {
    const html = pages.get(req.url ?? '');
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not here');
  });
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
  attackOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  for (const [name, host] of [['hardened', hardened], ['open', open]] as const) {
    pages.set(`/${name}.html`, attackPage(host.base, await login(host, 'operator')));
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}, 2 * START_MS);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (attacker !== undefined ? attacker.close(() => r()) : r()));
  await Promise.all([hardened?.stop(), open?.stop()]);
}, 60_000);

type State = { tick: number; stations: { id: string; state: string }[] };

/** Runs the attacker's page against `host` and checks that nothing happened but refusals. */
async function attack(name: 'hardened' | 'open', host: Host): Promise<void> {
  const viewer = await login(host, 'viewer');
  const state = async (): Promise<State> => {
    const r = await api<State>(host, viewer, 'api/state');
    expect(r.status).toBe(200);
    return r.body;
  };
  const before = await state();
  const page = await (await browser.newContext()).newPage();
  try {
    await page.goto(`${attackOrigin}/${name}.html`);
    await page.waitForFunction(() => window.__attack?.done === true, undefined, { timeout: 90_000 });
    const results = await page.evaluate(() => window.__attack.results);
    const by = (n: string): Attempt => results.find((r) => r.name === n)!;
    // (a) the browser sent them (an opaque answer is an answer): the host saw each and refused it
    for (const r of results.filter((x) => x.kind === 'fetch' && !x.name.startsWith('JSON'))) expect([r.name, r.sent, r.type]).toEqual([r.name, true, 'opaque']);
    expect(by('beacon: hold the kiln').queued).toBe(true);
    for (const id of ['plain', 'urlenc']) expect(by(id).how).toBe('loaded');
    // (b) the preflight was refused, so the browser never sent the command
    for (const n of ['JSON with credentials', 'JSON with a stolen token']) expect([n, by(n).sent]).toEqual([n, false]);
    // (c) the socket never opened, whatever it offered
    const sockets = results.filter((x) => x.kind === 'socket');
    expect(sockets).toHaveLength(3);
    for (const s of sockets) expect([s.name, s.opened, s.how]).toEqual([s.name, false, expect.stringMatching(/^closed /)]);
  } finally {
    await page.context().close();
  }

  // the refusals are in the audit trail: the commands and the socket, each naming the attacker's origin
  const denied = (e: { type?: string; data?: Record<string, unknown> }, target: RegExp): boolean =>
    e.type === 'audit' && e.data?.outcome === 'denied' && target.test(String(e.data.target)) && String(e.data.reason).includes(`origin ${attackOrigin}`);
  let events: HostEvent[] = [];
  await until(`${name}: refusals in the audit trail`, async () => {
    events = await allEvents(host, viewer);
    return events.some((e) => denied(e, /\/api\/commands/)) && events.some((e) => denied(e, /^\/api\/live$/));
  }, 30_000, 500);
  const file = readFileSync(join(host.runDir, 'audit.ndjson'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as HostEvent);
  expect(file.some((e) => denied(e, /\/api\/commands/))).toBe(true);
  expect(file.some((e) => denied(e, /^\/api\/live$/))).toBe(true);

  // nothing reached the line from the REST plane: no command, no rejection, no state change it caused
  const fromApi = events.filter((e) => ((e.type === 'command' || e.type === 'rejected') && e.data.source === 'api') || (e.type === 'state' && e.data.cause === 'api'));
  expect(fromApi).toEqual([]);
  const after = await state();
  for (const id of ['kiln', 'former']) {
    const st = after.stations.find((s) => s.id === id)?.state;
    expect([id, st]).not.toEqual([id, expect.stringMatching(/^(Holding|Held)$/)]);
  }
  // the host still answers and the line still ticks
  expect(after.tick).toBeGreaterThan(before.tick);
  const later = await new Promise<State>((r) => setTimeout(() => void state().then(r), 1000));
  expect(later.tick).toBeGreaterThan(after.tick);
}

/** Status of a raw request to `host` naming `hostHeader` (Node's fetch does not let a caller set Host). */
function rawStatus(host: Host, path: string, hostHeader: string, headers: Record<string, string> = {}): Promise<number> {
  const u = new URL(path, host.base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { ...headers, host: hostHeader } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('cross-site attacks from a real Chromium page on another origin', () => {
  it('hardened host: CSRF posts, credentialed JSON and the cross-site live socket are refused, audited, and change nothing', async () => {
    await attack('hardened', hardened);
  }, 180_000);

  it('open profile (no login needed): the same attacks are refused all the same', async () => {
    // the open host would take a command with no credential at all, from a client that is not a browser page
    expect((await (await fetch(new URL('api/whoami', open.base))).json()) as unknown).toEqual({ user: 'anonymous', role: 'operator', profile: 'open' });
    await attack('open', open);
  }, 180_000);

  it('DNS rebinding: requests naming a foreign Host are refused with 421 (REST, the app and the live socket), on both hosts', async () => {
    for (const host of [hardened, open]) {
      const port = new URL(host.base).port;
      const token = await login(host, 'viewer');
      for (const name of ['attacker.example', `attacker.example:${port}`]) {
        expect(await rawStatus(host, 'api/state', name, { authorization: `Bearer ${token}` })).toBe(421);
        expect(await rawStatus(host, '/', name)).toBe(421);
        expect(await rawStatus(host, 'api/live', name, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': `twinline.v1, bearer.${token}` })).toBe(421);
      }
      // the host's own name still works, and the host is still up
      expect(await rawStatus(host, 'api/state', `127.0.0.1:${port}`, { authorization: `Bearer ${token}` })).toBe(200);
    }
  }, 60_000);
});
