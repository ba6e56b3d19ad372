/**
 * The attached page's live feed against a real WebSocket server (ws stands in for the
 * browser's WebSocket): states arrive, garbage is skipped, a dropped connection is re-opened,
 * and the credential rides as a subprotocol the way the host expects it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as NodeWebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { openLiveFeed } from '../../web/src/twin/live-feed.ts';
import { LIVE_PROTOCOL as HOST_PROTOCOL } from '../../sim/host/http-auth.ts';
import { LIVE_PROTOCOL, Session } from '../../web/src/twin/session.ts';

let wss: WebSocketServer;
let url = '';
let connections = 0;
let tick = 0;

beforeAll(async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= NodeWebSocket;
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api/live`;
  wss.on('connection', (ws) => {
    connections++;
    ws.send('not json'); // skipped
    const timer = setInterval(() => ws.send(JSON.stringify({ type: 'state', tick: ++tick })), 20);
    ws.on('close', () => clearInterval(timer));
  });
});

afterAll(() => new Promise<void>((r) => wss.close(() => r())));

const until = async (what: string, ok: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('live feed', () => {
  it('keeps the newest state, skips what is not JSON, and reconnects after the host drops it', async () => {
    const feed = openLiveFeed<{ tick: number }>(url, 50);
    expect(feed.latest()).toBeNull();
    expect(feed.ageMs()).toBe(Infinity);
    await until('first states', () => feed.frames >= 3);
    const seen = feed.latest()!.tick;
    expect(feed.ageMs()).toBeLessThan(1000);
    // the host drops every client: the feed comes back by itself and states go on
    for (const c of wss.clients) c.terminate();
    await until('reconnected', () => connections >= 2);
    await until('newer states', () => (feed.latest()?.tick ?? 0) > seen + 3);
    feed.close();
    const frames = feed.frames;
    await new Promise((r) => setTimeout(r, 150));
    expect(feed.frames).toBe(frames); // closed: no reconnect, no more states
    expect(connections).toBe(2);
  });
});

describe('live feed with a credential', () => {
  it('offers twinline.v1 and the bearer token as subprotocols; a refused handshake gives no state and is retried', async () => {
    expect(LIVE_PROTOCOL).toBe(HOST_PROTOCOL);
    const store = new Map<string, string>([['twinline.token', 'tok-1']]);
    const session = new Session('/', { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) });
    expect(session.protocols()).toEqual(['twinline.v1', 'bearer.tok-1']);
    const offered: string[][] = [];
    let refused = 0;
    // the host's rule: the plain subprotocol is answered, the token is checked
    const host = new WebSocketServer({
      port: 0, host: '127.0.0.1',
      handleProtocols: (p) => (p.has(HOST_PROTOCOL) ? HOST_PROTOCOL : false),
      verifyClient: (info, done) => {
        const list = String(info.req.headers['sec-websocket-protocol'] ?? '').split(',').map((x) => x.trim());
        offered.push(list);
        const ok = list.includes('bearer.tok-1');
        if (!ok) refused++;
        done(ok, 401, 'Unauthorized');
      },
    });
    await new Promise((r) => host.once('listening', r));
    const hostUrl = `ws://127.0.0.1:${(host.address() as AddressInfo).port}/api/live`;
    let answered = '';
    host.on('connection', (ws) => {
      answered = ws.protocol;
      const timer = setInterval(() => ws.send(JSON.stringify({ type: 'state', tick: 1 })), 20);
      ws.on('close', () => clearInterval(timer));
    });
    try {
      const good = openLiveFeed<{ tick: number }>(hostUrl, 50, session.protocols());
      await until('states with a good token', () => good.frames >= 2);
      expect(offered[0]).toEqual(['twinline.v1', 'bearer.tok-1']);
      expect(answered).toBe('twinline.v1');
      good.close();
      const bad = openLiveFeed<{ tick: number }>(hostUrl, 50, [LIVE_PROTOCOL, 'bearer.stolen']);
      await until('refused and retried', () => refused >= 2);
      expect(bad.frames).toBe(0);
      expect(bad.latest()).toBeNull();
      bad.close();
    } finally {
      for (const c of host.clients) c.terminate();
      await new Promise<void>((r) => host.close(() => r()));
    }
  });
});
