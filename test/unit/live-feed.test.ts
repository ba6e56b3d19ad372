/**
 * The attached page's live feed against a real WebSocket server (ws stands in for the
 * browser's WebSocket): states arrive, garbage is skipped, a dropped connection is re-opened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as NodeWebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { openLiveFeed } from '../../web/src/twin/live-feed.ts';

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
