/**
 * Floods against the embedded broker of a running line, as a foreign client sends them over
 * TCP (raw packets where no client library would send them): an oversized packet, a
 * 10,000-filter SUBSCRIBE, too many subscriptions, withheld PUBRELs, a connection flood. Each
 * is refused, the refusal is in the line's audit trail, and the broker keeps answering others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { AccountStore } from '../../sim/host/accounts.ts';
import { recorder, type Recorder } from './brokers.ts';
import { connack, connectPacket, isAudit, PREFIX, publishQos2, raw, startTwin, subscribePacket, within, type Raw, type Twin } from './mqtt-harness.ts';

const VIEWER = { user: 'viewer', password: 'view-secret-1', role: 'viewer' as const };
const GATEWAY = { user: 'gw', password: 'gw-secret-1', role: 'gateway' as const };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Round trips of QoS 1 publishes through the broker every 50 ms; `stop` gives the slowest [ms]. */
function probe(c: MqttClient): { stop(): Promise<{ max: number; n: number }> } {
  const lat: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await c.publishAsync('gw/probe', 'x', { qos: 1 });
      lat.push(performance.now() - t);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { max: Math.max(...lat), n: lat.length };
    },
  };
}

describe('the embedded broker holds against floods', () => {
  let twin: Twin;
  let gw: Recorder;
  beforeAll(async () => {
    twin = await startTwin({
      // refusals of one kind from one address are audited once a second here (default 5 s)
      encoding: 'uns', accounts: AccountStore.fromClear([VIEWER, GATEWAY]), limits: { auditEveryMs: 1000 },
      embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: 0, explicitWsPort: true },
    });
    gw = await recorder(twin.face.url, { username: GATEWAY.user, password: GATEWAY.password, clientId: 'probe' });
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
    await twin?.close();
  });

  it('a PUBLISH announcing 50 MB is refused on its header: the connection closes before the body is read', async () => {
    const p = probe(gw.client);
    const r = await raw(twin.face.url);
    r.socket.write(connectPacket('big', { username: VIEWER.user, password: VIEWER.password }));
    expect(await connack(r)).toBe(0);
    // the header of a 50 MB PUBLISH and its first 64 kB; the rest never needs to be sent
    const size = 50 * 1024 * 1024;
    r.socket.write(Buffer.from([0x30, 0x80 | (size % 128), 0x80 | (Math.floor(size / 128) % 128), 0x80 | (Math.floor(size / 16384) % 128), Math.floor(size / 2097152)]));
    r.socket.write(Buffer.alloc(64 * 1024, 0x41));
    expect(await within(r.closed, 3000)).toBe(true);
    const [a] = await twin.eventsWhere(isAudit('packet', (d) => String(d.reason).includes(`${size} bytes`)));
    expect(a?.data).toMatchObject({ outcome: 'denied' });
    expect(String(a?.data.reason)).toContain(`at most ${256 * 1024}`);
    expect(String(a?.data.principal)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await p.stop()).max).toBeLessThan(1000);
  }, 20_000);

  it('an oversized publish over WebSocket is refused too', async () => {
    await sleep(1100); // past the last audit of this kind from this address
    const c = await recorder(twin.face.wsUrl!, { username: GATEWAY.user, password: GATEWAY.password, reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => c.client.once('close', () => r()));
    c.client.publish('gw/big', Buffer.alloc(300 * 1024, 0x42), { qos: 0 });
    expect(await within(closed, 5000)).toBe(true);
    await c.close();
    expect((await twin.eventsWhere(isAudit('packet', (d) => String(d.reason).includes('announced')), 2)).length).toBe(2);
  }, 20_000);

  it('a SUBSCRIBE with 10,000 topic filters drops that client at once; others are served within a second', async () => {
    const p = probe(gw.client);
    await sleep(300);
    const r = await raw(twin.face.url);
    r.socket.write(connectPacket('many', { username: VIEWER.user, password: VIEWER.password }));
    expect(await connack(r)).toBe(0);
    const t0 = performance.now();
    r.socket.write(subscribePacket(Array.from({ length: 10_000 }, (_, i) => `x/${i}/#`)));
    expect(await within(r.closed, 3000)).toBe(true);
    const dropped = performance.now() - t0;
    await sleep(300);
    const seen = await p.stop();
    expect(dropped).toBeLessThan(1000);
    expect(seen.max).toBeLessThan(1000);
    // no SUBACK: the broker never saw the SUBSCRIBE
    expect(r.received().length).toBe(4);
    const [a] = await twin.eventsWhere(isAudit('packet', (d) => String(d.reason).startsWith('SUBSCRIBE with 10000 topic filters')));
    expect(a?.data).toMatchObject({ outcome: 'denied', reason: 'SUBSCRIBE with 10000 topic filters; at most 100; disconnected' });
    // a SUBSCRIBE of 100 filters is fine
    const v = await recorder(twin.face.url, { username: VIEWER.user, password: VIEWER.password });
    const granted = await v.client.subscribeAsync(Array.from({ length: 100 }, (_, i) => `a/${i}`));
    expect(granted).toHaveLength(100);
    await v.close();
  }, 20_000);

  it('more than 1,000 subscriptions of one client: the extra filters are refused, the client stays', async () => {
    const v = await recorder(twin.face.url, { username: VIEWER.user, password: VIEWER.password, clientId: 'hoarder' });
    for (let k = 0; k < 10; k++) await v.client.subscribeAsync(Array.from({ length: 100 }, (_, i) => `h/${k}/${i}`));
    // re-subscribing to a held filter is no new subscription
    await v.client.subscribeAsync('h/0/0');
    const over = await v.client.subscribeAsync(['h/x/1', 'h/x/2']).catch((e: Error & { packet?: { granted: number[] } }) => e);
    expect(over).toBeInstanceOf(Error);
    expect((over as Error & { packet?: { granted: number[] } }).packet?.granted).toEqual([128, 128]);
    await v.client.unsubscribeAsync('h/0/1');
    await v.client.subscribeAsync('h/x/1');
    expect(v.client.connected).toBe(true);
    const audits = await twin.eventsWhere(isAudit('subscribe', (d) => String(d.principal).startsWith('viewer/hoarder@')));
    expect(audits).toHaveLength(1);
    expect(audits[0]?.data).toMatchObject({ outcome: 'denied', target: 'h/x/1', reason: 'more than 1000 subscriptions' });
    await v.close();
  }, 30_000);

  it('QoS 2 messages piling up without PUBREL: the client is dropped after 100', async () => {
    const r = await raw(twin.face.url);
    r.socket.write(connectPacket('q2', { username: GATEWAY.user, password: GATEWAY.password }));
    expect(await connack(r)).toBe(0);
    const burst: Buffer[] = [];
    for (let id = 1; id <= 100; id++) burst.push(publishQos2('gw/q2', id, Buffer.from('x')));
    r.socket.write(Buffer.concat(burst));
    await sleep(500);
    expect(r.isClosed()).toBe(false);
    r.socket.write(publishQos2('gw/q2', 101, Buffer.from('x')));
    expect(await within(r.closed, 3000)).toBe(true);
    const [a] = await twin.eventsWhere(isAudit('publish', (d) => String(d.reason).includes('QoS 2')));
    expect(a?.data).toMatchObject({ outcome: 'denied', reason: 'more than 100 QoS 2 messages awaiting PUBREL; disconnected' });
    expect(String(a?.data.principal)).toMatch(/^gw\/q2@127\.0\.0\.1:\d+$/);
  }, 20_000);

  it('a connection flood from one address: the 51st is closed on accept, audited once; other addresses are served', async () => {
    const held: Raw[] = [];
    try {
      for (let k = 0; k < 50; k++) held.push(await raw(twin.face.url, '127.0.0.2'));
      const extra = await Promise.all(Array.from({ length: 5 }, () => raw(twin.face.url, '127.0.0.2')));
      for (const e of extra) expect(await within(e.closed, 3000)).toBe(true);
      expect(held.some((h) => h.isClosed())).toBe(false);
      // another address is not affected
      const v = await recorder(twin.face.url, { username: VIEWER.user, password: VIEWER.password });
      await v.client.subscribeAsync(`${PREFIX}/+/State`);
      await v.wait((g) => g.topic.endsWith('/State'));
      await v.close();
    } finally {
      for (const h of held) h.socket.destroy();
    }
    const audits = await twin.eventsWhere(isAudit('connect', (d) => String(d.reason).startsWith('more than 50 connections')), 1);
    await sleep(300);
    expect(twin.events.filter(isAudit('connect', (d) => String(d.reason).startsWith('more than 50 connections')))).toHaveLength(1);
    expect(audits[0]?.data).toMatchObject({ outcome: 'denied', reason: 'more than 50 connections from 127.0.0.2' });
    // once they are closed, the address may connect again
    await sleep(200);
    const again = await raw(twin.face.url, '127.0.0.2');
    again.socket.write(connectPacket('back', { username: VIEWER.user, password: VIEWER.password }));
    expect(await connack(again)).toBe(0);
    again.socket.destroy();
  }, 30_000);

  it('the line kept running and the UNS kept publishing through all of it', async () => {
    const t0 = await twin.simTime();
    const v = await recorder(twin.face.url, { username: VIEWER.user, password: VIEWER.password });
    await v.client.subscribeAsync(`${PREFIX}/#`);
    await v.wait((g) => g.topic.startsWith(`${PREFIX}/`) && !g.retain);
    await v.close();
    expect(await twin.simTime()).toBeGreaterThan(t0);
  }, 20_000);
});
