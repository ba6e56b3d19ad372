import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import WebSocket from 'ws';
import { runToEnd } from '../proc.ts';
import { STACK_FRAME } from '../errors.ts';
import { START_MS, startServe, type ServeProc } from './serve-proc.ts';

const SCENARIO = 'test/fixtures/scenarios/minimal.yaml';
let s: ServeProc;
let base = '';

beforeAll(async () => {
  s = await startServe([SCENARIO, '--http-port', '0', '--speed', '5']);
  base = s.base;
}, START_MS + 30_000);

afterAll(async () => {
  await s.stop();
});

const json = (path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> => s.call(path, init, 'operator');
const post = (body: string): Promise<{ status: number; body: Record<string, unknown> }> => s.command(body, 'operator');
/** the live socket's subprotocols, carrying a token of `user` */
async function liveProtocols(user: string): Promise<string[]> {
  const r = await s.call('api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password: s.passwords[user] }) }, null);
  return ['twinline.v1', `bearer.${String(r.body.token)}`];
}

type Station = { id: string; state: string; name: { en: string } };

describe('twinline serve', () => {
  it('prints its endpoints and serves the status page with cross-origin isolation', async () => {
    expect(s.out()).toContain('Twinline serving "Minimal line"');
    const r = await fetch(base);
    expect(r.status).toBe(200);
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(await r.text()).toContain('<title>Twinline</title>');
  });

  it('runs the line in real time and reports its state', async () => {
    // speed 5: about 5 simulated seconds per wall second, measured against the wall time that
    // really passed between the two reads (a busy machine stretches a 1 s sleep)
    const t0 = Date.now();
    const a = await json('api/state');
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const t2 = Date.now();
    const b = await json('api/state');
    const t3 = Date.now();
    const dt = (b.body.simTime as number) - (a.body.simTime as number);
    expect(dt).toBeGreaterThan(0.4 * 5 * ((t2 - t1) / 1000)); // not slower than 40 % of real time × 5 over the shortest span
    expect(dt).toBeLessThan(1.25 * 5 * ((t3 - t0) / 1000) + 0.5); // never faster than 5× over the longest span
    const stations = b.body.stations as Station[];
    expect(stations.map((s) => s.id)).toEqual(['src', 'belt', 'former', 'out']);
    expect(stations.find((s) => s.id === 'former')?.name.en).toBe('Former');
  });

  it('applies a command from the API and logs who sent it, from the credential', async () => {
    const r = await s.call('api/commands', { method: 'POST', body: '{"target":"former","command":"stop","principal":"someone-else"}', headers: { 'content-type': 'application/json', 'x-twinline-user': 'trainer-1' } }, 'operator');
    expect(r).toEqual({ status: 200, body: { ok: true } });
    const st = await json('api/state');
    expect((st.body.stations as Station[]).find((x) => x.id === 'former')?.state).toMatch(/Stopping|Stopped/);
    // acknowledged means logged: the event is already in the host's log
    const ev = await s.events();
    expect(ev.filter((e) => e.type === 'command' && e.station === 'former' && e.data.source === 'api').map((e) => [e.data.principal, e.data.role])).toEqual([['operator@127.0.0.1', 'operator']]);
  });

  it('reports its faces, message rates and unusual traffic at GET /api/network', async () => {
    type Face = { id: string; protocol: string; endpoint: string; clients: number | null; ownClients: number; rate: number; rates: Record<string, number>; rejected: number; unusual: boolean };
    type Net = { rateWindowS: number; unusualWindowS: number; faces: Face[]; links: { station: string; face: string; rate: number; unusual: boolean }[] };
    const net = async (): Promise<Net> => (await json('api/network')).body as unknown as Net;
    const face = (n: Net, id: string): Face | undefined => n.faces.find((f) => f.id === id);
    let n = await net();
    expect(n.faces.map((f) => f.id).sort()).toEqual(['api', 'mqtt', 'opcua']);
    expect(face(n, 'opcua')?.endpoint).toMatch(/^opc\.tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(face(n, 'mqtt')?.endpoint).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(face(n, 'api')?.endpoint).toBe(`${base}api/`);
    // one link per station to each of the OPC UA and MQTT faces
    expect(n.links.filter((l) => l.face === 'opcua').map((l) => l.station)).toEqual(['src', 'belt', 'former', 'out']);
    expect(n.links.filter((l) => l.face === 'mqtt')).toHaveLength(4);
    // the MQTT face publishes into the embedded broker: its publishers are connected clients and the rate becomes > 0
    const deadline = Date.now() + 15_000;
    while ((face(n, 'mqtt')?.rates.published ?? 0) <= 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      n = await net();
    }
    expect(face(n, 'mqtt')?.rates.published).toBeGreaterThan(0);
    expect(face(n, 'mqtt')?.rate).toBeGreaterThan(0);
    expect(face(n, 'mqtt')?.clients).toBeGreaterThanOrEqual(face(n, 'mqtt')?.ownClients ?? 1);
    expect(face(n, 'api')?.rates.requests).toBeGreaterThan(0);
    expect(face(n, 'api')?.clients).toBeGreaterThanOrEqual(1);
    expect(face(n, 'api')?.unusual).toBe(false);
    expect(n.faces.every((f) => !f.unusual)).toBe(true);
    // a command the line rejects marks the face it came through unusual (for 10 s)
    expect((await s.command('{"target":"former","command":"set","args":{"field":"cycleTime","value":-1}}', 'engineer')).status).toBe(409);
    const until = Date.now() + 5000;
    while (face(n, 'api')?.unusual !== true && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      n = await net();
    }
    expect(face(n, 'api')).toMatchObject({ unusual: true, rejected: 1 });
    expect(face(n, 'opcua')?.unusual).toBe(false);
    expect(face(n, 'mqtt')?.unusual).toBe(false);
  });

  it('pushes the state at the rate asked and the events as they come over the live WebSocket', async () => {
    const ws = new WebSocket(new URL('api/live?hz=10', base.replace(/^http/, 'ws')), await liveProtocols('operator'));
    type Msg = { type: string; tick?: number; stations?: { id: string; tags: number[] }[]; parts?: number[]; events?: { type: string; station: string; data: Record<string, unknown> }[] };
    const msgs: { at: number; m: Msg }[] = [];
    ws.on('message', (d: Buffer) => msgs.push({ at: Date.now(), m: JSON.parse(d.toString()) as Msg }));
    await once(ws, 'open');
    await new Promise((r) => setTimeout(r, 1500));
    const states = msgs.filter((x) => x.m.type === 'state');
    // 10 Hz for 1.5 s: about 15 frames, each a newer tick, shaped as GET /api/state
    expect(states.length).toBeGreaterThanOrEqual(10);
    expect(states.length).toBeLessThanOrEqual(17);
    for (let k = 1; k < states.length; k++) expect(states[k]!.m.tick).toBeGreaterThan(states[k - 1]!.m.tick!);
    const rest = (await json('api/state')).body as unknown as Msg;
    const last = states.at(-1)!.m;
    expect(last.stations?.map((s) => [s.id, s.tags.length])).toEqual(rest.stations?.map((s) => [s.id, s.tags.length]));
    expect(Array.isArray(last.parts) && last.parts.length % 3 === 0).toBe(true);
    // a command from the API reaches the socket as an event within a pump period or two
    const sent = Date.now();
    await s.command('{"target":"former","command":"reset"}', 'engineer');
    const deadline = Date.now() + 3000;
    const mine = (): Msg['events'] => msgs.filter((x) => x.at >= sent && x.m.type === 'events').flatMap((x) => x.m.events ?? []).filter((e) => e.data.principal === 'engineer@127.0.0.1');
    while ((mine()?.length ?? 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(mine()?.[0]).toMatchObject({ station: 'former', data: { command: 'reset', source: 'api' } });
    // the pushed messages count in the API face's rate
    const api = ((await json('api/network')).body.faces as { id: string; rates: Record<string, number> }[]).find((f) => f.id === 'api');
    expect(api?.rates.pushed).toBeGreaterThan(0);
    // the socket only sends: a client message closes it with 1003
    ws.send('{"target":"former","command":"stop"}');
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1003);
  });

  it('serves a room of live clients: each gets its rate of ever newer states', async () => {
    const url = new URL('api/live?hz=20', base.replace(/^http/, 'ws'));
    const protocols = await liveProtocols('viewer');
    const clients = Array.from({ length: 12 }, () => new WebSocket(url, protocols));
    const ticks: number[][] = clients.map(() => []);
    clients.forEach((ws, k) => ws.on('message', (d: Buffer) => ticks[k]!.push((JSON.parse(d.toString()) as { tick?: number }).tick ?? -1)));
    await Promise.all(clients.map((ws) => once(ws, 'open')));
    await new Promise((r) => setTimeout(r, 1500));
    for (const ws of clients) ws.close();
    for (const t of ticks) {
      const states = t.filter((x) => x >= 0);
      expect(states.length).toBeGreaterThanOrEqual(18); // 20 Hz for 1.5 s, on a busy machine
      for (let k = 1; k < states.length; k++) expect(states[k]).toBeGreaterThan(states[k - 1]!);
    }
  });

  it('refuses a WebSocket upgrade on any other path with 404', async () => {
    const ws = new WebSocket(new URL('api/state', base.replace(/^http/, 'ws')), await liveProtocols('viewer'));
    ws.on('error', () => undefined); // the aborted handshake below
    const [req, res] = (await once(ws, 'unexpected-response')) as [{ destroy(): void }, { statusCode: number }];
    expect(res.statusCode).toBe(404);
    req.destroy();
  });

  it('answers bad input with a clear error and keeps running', async () => {
    expect(await post('garbage')).toMatchObject({ status: 400, body: { error: { code: 'BAD_ARGUMENT' } } });
    expect(await post('{"target":1}')).toMatchObject({ status: 400, body: { error: { message: 'command.target must be a station id or "line"' } } });
    expect(await post('{"target":"nope","command":"stop"}')).toMatchObject({ status: 409, body: { ok: false, error: { code: 'UNKNOWN_TARGET' } } });
    expect(await s.command('{"target":"former","command":"set","args":{"field":"cycleTime","value":-1}}', 'engineer')).toMatchObject({ status: 409, body: { error: { code: 'OUT_OF_RANGE' } } });
    expect((await json('api/nothing')).status).toBe(404);
    expect((await json('api/state')).body.running).toBe(true);
  });

  it('shuts down cleanly on SIGINT', async () => {
    s.proc.kill('SIGINT');
    const [code] = (await once(s.proc, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(s.out()).toContain('shutting down');
  });
});

describe('twinline serve with bad input', () => {
  it('exits 2 naming the file when the scenario is broken', async () => {
    const { code, stderr: err } = await runToEnd(process.execPath, ['bin/twinline.mjs', 'serve', 'test/fixtures/scenarios/unknown-kind.yaml', '--http-port', '0']);
    expect(code).toBe(2);
    expect(err).toMatch(/unknown-kind\.yaml:\d+:\d+/);
    expect(err).not.toMatch(STACK_FRAME);
  });
});
