/**
 * The embedded broker binds a client id to the account whose session holds it: another
 * account (or an anonymous client) connecting with that id is refused (CONNACK 2, audited)
 * and the holder stays connected; the same account may take its own session over (a client
 * reconnecting over a half-open connection). A persistent session's id stays bound while it
 * is offline. A will on the twin's own topics is refused at CONNECT (CONNACK 5, audited).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../sim/host/accounts.ts';
import { recorder } from './brokers.ts';
import { connack, isAudit, packet, PREFIX, raw, startTwin, tryConnect, type Twin } from './mqtt-harness.ts';

const GATEWAY = { user: 'gw', password: 'gw-secret-1', role: 'gateway' as const };
const OPERATOR = { user: 'operator', password: 'op-secret-1', role: 'operator' as const };
const as = (a: { user: string; password: string }): { username: string; password: string } => ({ username: a.user, password: a.password });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CONNECT (MQTT 3.1.1, clean session) with a will on `topic` (QoS 0, not retained). */
function connectWithWill(clientId: string, topic: string, user?: { username: string; password: string }): Buffer {
  const str = (s: string): Buffer => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const body = [str('MQTT'), Buffer.from([4, 0x02 | 0x04 | (user === undefined ? 0 : 0xc0), 0, 60]), str(clientId), str(topic), str('{"online":false}')];
  if (user !== undefined) body.push(str(user.username), str(user.password));
  return packet(0x10, Buffer.concat(body));
}

describe('client ids bound to the account that holds the session (open profile: anonymous clients admitted)', () => {
  let twin: Twin;
  beforeAll(async () => {
    twin = await startTwin({
      encoding: 'both', clientId: 'twin-b', profile: 'open', accounts: AccountStore.fromClear([GATEWAY, OPERATOR]),
      embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false },
    });
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
  });

  it('another account or an anonymous client cannot take a gateway\'s session over; the gateway stays connected', async () => {
    const gw = await recorder(twin.face.url, { ...as(GATEWAY), clientId: 'line-gw-1', reconnectPeriod: 0 });
    let kicked = false;
    gw.client.once('close', () => (kicked = true));
    expect(await tryConnect(twin.face.url, 'line-gw-1', as(OPERATOR))).toBe(2);
    expect(await tryConnect(twin.face.url, 'line-gw-1')).toBe(2);
    await sleep(300);
    expect(kicked).toBe(false);
    expect(gw.client.connected).toBe(true);
    const audits = await twin.eventsWhere(isAudit('connect', (d) => d.target === 'line-gw-1'), 2);
    expect(audits.map((e) => String(e.data.principal).split('@')[0])).toEqual(['operator/line-gw-1', 'anonymous/line-gw-1']);
    expect(audits[0]?.data).toMatchObject({ outcome: 'denied', reason: 'client id line-gw-1 is held by another account\'s session; takeover refused' });
    // the same account takes its own session over, as MQTT says
    expect(await tryConnect(twin.face.url, 'line-gw-1', as(GATEWAY))).toBe(0);
    await sleep(300);
    expect(kicked).toBe(true);
    await gw.close();
  }, 20_000);

  it('an anonymous session has no owner: it can be taken over (what the open profile lets through)', async () => {
    const anon = await recorder(twin.face.url, { clientId: 'anon-gw', reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => anon.client.once('close', () => r()));
    expect(await tryConnect(twin.face.url, 'anon-gw')).toBe(0);
    await closed;
    await anon.close();
  }, 20_000);

  it('a persistent session stays bound to its account while offline', async () => {
    const gw = await recorder(twin.face.url, { ...as(GATEWAY), clientId: 'line-gw-p', clean: false, reconnectPeriod: 0 });
    await gw.close();
    expect(await tryConnect(twin.face.url, 'line-gw-p', as(OPERATOR))).toBe(2);
    const [a] = await twin.eventsWhere(isAudit('connect', (d) => d.target === 'line-gw-p'));
    expect(String(a?.data.principal)).toMatch(/^operator\/line-gw-p@/);
  }, 20_000);

  it('a will on the twin\'s own topics is refused at CONNECT and audited; a will elsewhere is accepted', async () => {
    for (const topic of ['spBv1.0/test/NDEATH/minimal', `${PREFIX}/$status`]) {
      const r = await raw(twin.face.url);
      r.socket.write(connectWithWill('gw-will', topic, as(GATEWAY)));
      expect(await connack(r)).toBe(5);
      r.socket.destroy();
    }
    const audits = await twin.eventsWhere(isAudit('connect', (d) => String(d.principal).startsWith('gw/gw-will@')), 2);
    expect(audits.map((e) => e.data.target)).toEqual(['spBv1.0/test/NDEATH/minimal', `${PREFIX}/$status`]);
    expect(String(audits[0]?.data.reason)).toBe('will on spBv1.0/test/NDEATH/minimal refused: only the twin publishes its own UNS and Sparkplug topics');
    const ok = await raw(twin.face.url);
    ok.socket.write(connectWithWill('gw-will-2', 'gateways/line-gw/status', as(GATEWAY)));
    expect(await connack(ok)).toBe(0);
    ok.socket.destroy();
    // an anonymous client may publish nothing, so no will either
    const anon = await raw(twin.face.url);
    anon.socket.write(connectWithWill('anon-will', 'gateways/line-gw/status'));
    expect(await connack(anon)).toBe(5);
    anon.socket.destroy();
    const [a] = await twin.eventsWhere(isAudit('connect', (d) => String(d.principal).startsWith('anonymous/anon-will@')));
    expect(a?.data).toMatchObject({ outcome: 'denied', reason: 'will on gateways/line-gw/status refused: not allowed for anonymous clients' });
  }, 20_000);
});
