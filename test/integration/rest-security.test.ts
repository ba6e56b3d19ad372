/**
 * The REST plane and live socket under the attacks a security team tries first, against real
 * `twinline serve` processes (hardened and open): each attack fails, the host keeps answering,
 * the line keeps ticking, and the refusal is in the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { START_MS, startServe, type ServeProc } from './serve-proc.ts';
import { runToEnd } from '../proc.ts';
import { HTTP_CONNECTIONS_PER_ADDRESS } from '../../sim/host/serve.ts';

const KILN = 'test/fixtures/scenarios/kiln-cell.yaml';
let hard: ServeProc;
let open: ServeProc;

beforeAll(async () => {
  [hard, open] = await Promise.all([
    startServe([KILN, '--http-port', '0', '--opcua-port', '0', '--no-mqtt']),
    startServe([KILN, '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--profile', 'open']),
  ]);
}, START_MS + 60_000);

afterAll(async () => {
  await Promise.all([hard?.stop(), open?.stop()]);
});

type Ev = Awaited<ReturnType<ServeProc['events']>>[number];
const denied = (evs: Ev[], pred: (e: Ev) => boolean): Ev[] => evs.filter((e) => e.type === 'audit' && e.data.outcome === 'denied' && pred(e));
const stateOf = async (s: ServeProc, station: string): Promise<string> => {
  const st = (await s.call('api/state', {}, 'viewer')).body as { stations: { id: string; state: string }[] };
  return st.stations.find((x) => x.id === station)?.state ?? '?';
};
/** the line still ticks: simTime moves between two reads */
async function ticking(s: ServeProc): Promise<void> {
  const a = (await s.call('api/state', {}, 'viewer')).body.simTime as number;
  await new Promise((r) => setTimeout(r, 400));
  const b = (await s.call('api/state', {}, 'viewer')).body.simTime as number;
  expect(b).toBeGreaterThan(a);
}
/** an audit entry matching `pred` reaches the log (the pump drains every 200 ms) */
async function audited(s: ServeProc, pred: (e: Ev) => boolean): Promise<Ev> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = denied(await s.events(), pred)[0];
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error('no such audit entry');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('REST plane, hardened', () => {
  it('refuses requests without a credential; a user header is no identity', async () => {
    expect((await hard.call('api/state', {}, null)).status).toBe(401);
    const r = await hard.call('api/commands', { method: 'POST', body: '{"target":"kiln","command":"hold"}', headers: { 'content-type': 'application/json', 'x-twinline-user': 'operator' } }, null);
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect(await stateOf(hard, 'kiln')).not.toMatch(/Hold/);
    await audited(hard, (e) => e.data.action === 'command' && e.data.target === '/api/commands');
    await ticking(hard);
  });

  it('takes the principal and role from the credential, and a viewer may not command', async () => {
    const r = await hard.command({ target: 'kiln', command: 'hold', principal: 'operator', role: 'instructor' }, 'viewer');
    expect(r).toMatchObject({ status: 403, body: { ok: false, error: { code: 'NOT_AUTHORIZED' } } });
    const ev = (await hard.events()).find((e) => e.type === 'rejected' && e.station === 'kiln' && e.data.command === 'hold');
    expect(ev?.data).toMatchObject({ principal: 'viewer@127.0.0.1', role: 'viewer', code: 'NOT_AUTHORIZED' });
  });

  it('keeps safety limits and parameters from operators, and ranges from everyone', async () => {
    const set = (field: string, value: number, user: string) => hard.command({ target: 'kiln', command: 'set', args: { field, value } }, user);
    expect(await set('maxPower', 1e8, 'operator')).toMatchObject({ status: 403, body: { error: { code: 'NOT_AUTHORIZED' } } });
    expect(await set('tripTemp', 2400, 'operator')).toMatchObject({ status: 403, body: { error: { code: 'NOT_AUTHORIZED' } } });
    // an engineer may change a safety limit only in unit mode Maintenance
    expect(await set('tripTemp', 1300, 'engineer')).toMatchObject({ status: 403, body: { error: { message: expect.stringMatching(/Maintenance/) as unknown } } });
    expect(await set('maxPower', 1e9, 'engineer')).toMatchObject({ status: 409, body: { error: { code: 'OUT_OF_RANGE' } } });
    const rejected = (await hard.events()).filter((e) => e.type === 'rejected' && e.station === 'kiln' && e.data.command === 'set');
    expect(rejected.map((e) => e.data.code)).toEqual(['NOT_AUTHORIZED', 'NOT_AUTHORIZED', 'NOT_AUTHORIZED', 'OUT_OF_RANGE']);
    // NaN reaches the log as what it was
    const nan = await hard.call('api/commands', { method: 'POST', body: '{"target":"kiln","command":"set","args":{"field":"sp1","value":"NaN"}}', headers: { 'content-type': 'application/json' } }, 'operator');
    expect(nan.status).toBe(409);
  });

  it('refuses bodies that are not JSON (a cross-site form or text/plain post) with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await hard.call('api/commands', { method: 'POST', body: '{"target":"kiln","command":"hold"}', headers: { 'content-type': type } }, 'operator');
      expect(r.status).toBe(415);
    }
    expect(await stateOf(hard, 'kiln')).not.toMatch(/Hold/);
    await audited(hard, (e) => String(e.data.reason).includes('application/json'));
  });

  it('refuses a foreign Origin (403) and a foreign Host (421, DNS rebinding)', async () => {
    const evil = await hard.call('api/commands', { method: 'POST', body: '{"target":"kiln","command":"hold"}', headers: { 'content-type': 'application/json', origin: 'http://attacker.example' } }, 'operator');
    expect(evil).toMatchObject({ status: 403, body: { error: { code: 'BAD_ORIGIN' } } });
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL('api/state', hard.base);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: { host: 'attacker.example', authorization: hard.basic('viewer') } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(421);
    await audited(hard, (e) => String(e.data.reason).includes('attacker.example'));
    // the app's own origin is fine
    const own = await hard.call('api/state', { headers: { origin: hard.base.replace(/\/$/, '') } }, 'viewer');
    expect(own.status).toBe(200);
  });

  it('answers a 10 MB body with 413, a bad URL with 400, and keeps serving', async () => {
    // fetch sends the whole body before it reads the answer: the host reads and drops it (bounded), then says 413
    const big = await hard.call('api/commands', { method: 'POST', body: 'x'.repeat(10 * 1024 * 1024), headers: { 'content-type': 'application/json' } }, 'operator');
    expect(big.status).toBe(413);
    // past the bound of what it drops (32 MB) it answers at once and closes: the sender may see a broken pipe
    const huge = await new Promise<number | string>((resolve) => {
      const u = new URL(hard.base);
      const req = request({ host: u.hostname, port: u.port, path: '/api/commands', method: 'POST', headers: { authorization: hard.basic('operator'), 'content-type': 'application/json', 'content-length': String(48 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      const chunk = Buffer.alloc(1024 * 1024, 120);
      let sent = 0;
      const pump = (): void => {
        while (sent < 48 && !req.destroyed) {
          sent += 1;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect([413, 'EPIPE', 'ECONNRESET']).toContain(huge);
    const bad = await new Promise<number>((resolve, reject) => {
      const u = new URL(hard.base);
      const req = request({ host: u.hostname, port: u.port, path: '/%E0%A4%A', headers: { authorization: hard.basic('viewer') } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(bad).toBe(400);
    await ticking(hard);
  });

  it('caps the connections one address may hold open (idle sockets), audits it once, and keeps serving', async () => {
    const u = new URL(hard.base);
    const extra = 12;
    const socks = Array.from({ length: HTTP_CONNECTIONS_PER_ADDRESS + extra }, () => connect(Number(u.port), u.hostname));
    const closed = new Set<number>();
    socks.forEach((sk, i) => {
      sk.on('error', () => undefined);
      sk.on('close', () => closed.add(i));
    });
    try {
      // the host closes what is over the cap at once; the harness's own keep-alive sockets count too
      const deadline = Date.now() + 30_000;
      while (closed.size < extra && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(closed.size).toBeGreaterThanOrEqual(extra);
      expect(socks.length - closed.size).toBeLessThanOrEqual(HTTP_CONNECTIONS_PER_ADDRESS);
    } finally {
      for (const sk of socks) sk.destroy();
    }
    const hit = await audited(hard, (e) => e.data.action === 'connect' && String(e.data.reason).includes('HTTP connections from'));
    expect(String(hit.data.reason)).toContain(String(HTTP_CONNECTIONS_PER_ADDRESS));
    await ticking(hard);
  });

  it('bounds what a command may carry (a flood of 64 kB arguments cannot grow the host)', async () => {
    const r = await hard.command({ target: 'kiln', command: 'hold', args: { note: 'x'.repeat(60_000) } }, 'operator');
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'BAD_ARGUMENT' } } });
    const many = await hard.command({ target: 'kiln', command: 'hold', args: Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`a${k}`, k])) }, 'operator');
    expect(many.status).toBe(400);
  });

  it('pages events forward from a sequence number', async () => {
    const p1 = (await hard.call('api/events?since=-1&limit=5', {}, 'viewer')).body as { events: Ev[]; next: number; more: boolean; gap: unknown };
    expect(p1.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(p1).toMatchObject({ next: 4, more: true, gap: null });
    const p2 = (await hard.call(`api/events?since=${p1.next}&limit=5`, {}, 'viewer')).body as { events: Ev[] };
    expect(p2.events[0]?.seq).toBe(5);
    expect((await hard.call('api/events?since=abc', {}, 'viewer')).status).toBe(400);
  });

  it('opens the live socket only for a credential from this origin', async () => {
    const url = new URL('api/live?hz=5', hard.base.replace(/^http/, 'ws'));
    const status = async (ws: WebSocket): Promise<number> => {
      ws.on('error', () => undefined);
      const [req, res] = (await once(ws, 'unexpected-response')) as [{ destroy(): void }, { statusCode: number }];
      req.destroy();
      return res.statusCode;
    };
    expect(await status(new WebSocket(url))).toBe(401);
    const login = await hard.call('api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'viewer', password: hard.passwords.viewer }) }, null);
    const protocols = ['twinline.v1', `bearer.${String(login.body.token)}`];
    expect(await status(new WebSocket(url, protocols, { origin: 'http://attacker.example' }))).toBe(403);
    const ok = new WebSocket(url, protocols, { origin: hard.base.replace(/\/$/, '') });
    const first = await new Promise<Record<string, unknown>>((resolve) => ok.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (m.type === 'state') resolve(m);
    }));
    expect(first).toMatchObject({ type: 'state', scenario: 'kiln-cell' });
    ok.close();
  });

  it('refuses a revoked account at once, on a token it already holds', async () => {
    const login = await hard.call('api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'gateway', password: hard.passwords.gateway }) }, null);
    const bearer = { authorization: `Bearer ${String(login.body.token)}` };
    expect((await fetch(new URL('api/whoami', hard.base), { headers: bearer })).status).toBe(200);
    const feed = new WebSocket(new URL('api/live?hz=2', hard.base.replace(/^http/, 'ws')), ['twinline.v1', `bearer.${String(login.body.token)}`]);
    await once(feed, 'open');
    const closed = once(feed, 'close') as Promise<[number]>;
    // run without blocking this thread (a blocked client would find its kept-alive socket closed)
    const r = await runToEnd(process.execPath, ['bin/twinline.mjs', 'accounts', 'revoke', 'gateway', '--home', hard.home]);
    expect(r.code, r.stderr).toBe(0);
    expect((await fetch(new URL('api/whoami', hard.base), { headers: bearer })).status).toBe(401);
    // the open feed ends too, within a check period
    const [code] = await closed;
    expect(code).toBe(4401);
  });
});

describe('REST plane, open profile (a classroom)', () => {
  it('lets an anonymous operator act, but still refuses cross-site posts', async () => {
    expect((await open.call('api/whoami', {}, null)).body).toMatchObject({ user: 'anonymous', role: 'operator', profile: 'open' });
    const csrf = await open.call('api/commands', { method: 'POST', body: '{"target":"kiln","command":"hold"}', headers: { 'content-type': 'text/plain' } }, null);
    expect(csrf.status).toBe(415);
    const foreign = await open.call('api/commands', { method: 'POST', body: '{"target":"kiln","command":"hold"}', headers: { 'content-type': 'application/json', origin: 'http://attacker.example' } }, null);
    expect(foreign.status).toBe(403);
    expect(await stateOf(open, 'kiln')).not.toMatch(/Hold/);
    // an anonymous operator is still no engineer
    expect((await open.command({ target: 'kiln', command: 'set', args: { field: 'maxPower', value: 1e6 } }, null)).status).toBe(403);
  });

  it('backs off after failed logins, even for the right password', async () => {
    const tryLogin = (password: string) => open.call('api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'engineer', password }) }, null);
    for (let k = 0; k < 6; k++) expect([401, 429]).toContain((await tryLogin(`wrong-${k}-password`)).status);
    const right = await tryLogin(open.passwords.engineer!);
    expect(right.status).toBe(429);
    // six wrong passwords and the refused right one, each audited (the entries reach the log within a pump period)
    const deadline = Date.now() + 10_000;
    let audits: Ev[] = [];
    while (audits.length < 7 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      audits = denied(await open.events(), (e) => e.data.action === 'login' && String(e.data.principal).startsWith('engineer@'));
    }
    expect(audits).toHaveLength(7);
    expect(String(audits.at(-1)?.data.reason)).toMatch(/too many failed logins/);
  });

  it('keeps every acknowledged command through a kill -9', async () => {
    const r = await open.command({ target: 'kiln', command: 'ack' }, null);
    expect(r.status).toBe(200);
    open.proc.kill('SIGKILL');
    await once(open.proc, 'exit');
    const lines = readFileSync(join(open.runDir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Ev);
    expect(lines.some((e) => e.type === 'command' && e.station === 'kiln' && e.data.command === 'ack' && e.data.principal === 'anonymous@127.0.0.1')).toBe(true);
    const audit = readFileSync(join(open.runDir, 'audit.ndjson'), 'utf8');
    expect(audit).toContain('attacker.example');
    const cmds = readFileSync(join(open.runDir, 'commands.ndjson'), 'utf8');
    expect(cmds).toContain('"command":"ack"');
  });
});
