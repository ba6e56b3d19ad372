/**
 * The attacks on the embedded broker of a running line, as a foreign client makes
 * them: anonymous access, `$SYS`, a takeover of the twin's client id, a gateway forging the
 * twin's Sparkplug and UNS topics, a rebirth flood, password guessing, a retained command, a
 * cross-site WebSocket. Each now fails, the broker keeps answering others, and the refusal
 * is in the line's audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sparkplug from 'sparkplug-payload';
import { WebSocket } from 'ws';
import { AccountStore } from '../../sim/host/accounts.ts';
import { LoginGuard } from '../../sim/host/login-guard.ts';
import type { MqttFace } from '../../sim/protocols/mqtt/face.ts';
import { json, recorder } from './brokers.ts';
import { isAudit, PREFIX, startTwin, tryConnect, type Twin } from './mqtt-harness.ts';

const SP = sparkplug.get('spBv1.0')!;
const NODE = 'spBv1.0/test';
const VIEWER = { user: 'viewer', password: 'view-secret-1', role: 'viewer' as const };
const OPERATOR = { user: 'operator', password: 'op-secret-1', role: 'operator' as const };
const ENGINEER = { user: 'engineer', password: 'eng-secret-1', role: 'engineer' as const };
const INSTRUCTOR = { user: 'instructor', password: 'ins-secret-1', role: 'instructor' as const };
const GATEWAY = { user: 'gw', password: 'gw-secret-1', role: 'gateway' as const };
const as = (a: { user: string; password: string }): { username: string; password: string } => ({ username: a.user, password: a.password });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rebirth = Buffer.from(SP.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] }));

describe('attacks on the embedded broker (profile hardened)', () => {
  let twin: Twin;
  /** the login back-off's clock runs ahead by this much [ms] (to end a back-off at once) */
  let skew = 0;
  beforeAll(async () => {
    twin = await startTwin({
      encoding: 'both', clientId: 'twin-a', accounts: AccountStore.fromClear([VIEWER, OPERATOR, ENGINEER, INSTRUCTOR, GATEWAY]),
      guard: new LoginGuard({ baseMs: 10_000, now: () => Date.now() + skew }),
      embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: 0, explicitWsPort: true },
    });
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
  });

  it('an anonymous client is refused (CONNACK 5) and audited; an account is served', async () => {
    expect(await tryConnect(twin.face.url, 'anon-1')).toBe(5);
    const [a] = await twin.eventsWhere(isAudit('connect', (d) => String(d.principal).startsWith('anonymous/anon-1@127.0.0.1:')));
    expect(a?.data).toMatchObject({ outcome: 'denied', reason: 'anonymous connections are refused (profile hardened); log in with an account' });
    expect(await tryConnect(twin.face.url, 'v-1', as(VIEWER))).toBe(0);
  }, 20_000);

  it('$SYS (client ids of the twin) is for the instructor; # is for every account and shows no $SYS', async () => {
    const ins = await recorder(twin.face.url, { ...as(INSTRUCTOR), clientId: 'ins-1' });
    await ins.client.subscribeAsync('$SYS/#');
    for (const who of [VIEWER, OPERATOR]) {
      const c = await recorder(twin.face.url, { ...as(who), clientId: `${who.user}-sys` });
      const no = await c.client.subscribeAsync('$SYS/#').catch((e: Error & { packet?: { granted: number[] } }) => e);
      expect((no as Error & { packet?: { granted: number[] } }).packet?.granted).toEqual([128]);
      expect(c.client.connected).toBe(true);
      await c.client.subscribeAsync('#');
      await c.wait((g) => g.topic.startsWith(`${PREFIX}/`));
      expect(c.got.some((g) => g.topic.startsWith('$SYS'))).toBe(false);
      await c.close();
      const [a] = await twin.eventsWhere(isAudit('subscribe', (d) => String(d.principal).startsWith(`${who.user}/${who.user}-sys@`)));
      expect(a?.data).toMatchObject({ outcome: 'denied', target: '$SYS/#', reason: `$SYS is for the instructor role, not for ${who.role} clients` });
    }
    // the instructor saw the others arrive, by client id
    await ins.wait((g) => g.topic.startsWith('$SYS/') && g.topic.endsWith('/new/clients') && g.payload.toString() === 'viewer-sys');
    await ins.close();
  }, 20_000);

  it('a client claiming the twin\'s client id is refused (CONNACK 2); the twin stays connected and keeps publishing', async () => {
    const before = twin.face.stats();
    const sub = await recorder(twin.face.url, as(VIEWER));
    await sub.client.subscribeAsync(`${PREFIX}/+/+`);
    expect(await tryConnect(twin.face.url, 'twin-a-uns', as(OPERATOR))).toBe(2);
    expect(await tryConnect(twin.face.url, 'twin-a-spb')).toBe(2);
    expect(await tryConnect(twin.face.url, 'twin-a-uns-1f2e3d', as(INSTRUCTOR))).toBe(2);
    const mark = sub.got.length;
    await sub.wait((g) => !g.retain && g.topic.startsWith(`${PREFIX}/`), 5000, mark);
    await sub.close();
    const after = twin.face.stats();
    expect(after.uns?.connects).toBe(before.uns?.connects);
    expect(after.sparkplug?.connects).toBe(before.sparkplug?.connects);
    const audits = await twin.eventsWhere(isAudit('connect', (d) => d.reason === 'client id reserved for the twin'), 3);
    expect(audits.map((e) => String(e.data.principal).split('@')[0])).toEqual(['operator/twin-a-uns', 'anonymous/twin-a-spb', 'instructor/twin-a-uns-1f2e3d']);
  }, 20_000);

  it('the gateway account may not publish the twin\'s NBIRTH, NDEATH, DDATA or UNS values', async () => {
    const sub = await recorder(twin.face.url, as(VIEWER));
    await sub.client.subscribeAsync([`${NODE}/#`, `${PREFIX}/belt/speed`]);
    const forged = Buffer.from('forged by the gateway');
    const targets = [`${NODE}/NBIRTH/minimal`, `${NODE}/NDEATH/minimal`, `${NODE}/DDATA/minimal/belt`, `${PREFIX}/belt/speed`];
    const refused = twin.face.stats().refused;
    for (const topic of targets) {
      const gw = await recorder(twin.face.url, { ...as(GATEWAY), clientId: 'gw-forge', reconnectPeriod: 0 });
      const closed = new Promise<void>((r) => gw.client.once('close', () => r()));
      gw.client.publish(topic, forged, { qos: 1 });
      await closed;
      await gw.close();
    }
    expect(twin.face.stats().refused).toBe(refused + targets.length);
    const audits = await twin.eventsWhere(isAudit('publish', (d) => String(d.principal).startsWith('gw/gw-forge@')), targets.length);
    expect(audits.map((e) => [e.data.target, e.data.reason])).toEqual(targets.map((t) => [t, 'only the twin publishes its own UNS and Sparkplug topics']));
    await sleep(300);
    expect(sub.got.some((g) => g.payload.equals(forged))).toBe(false);
    // its own topics it still may publish
    const gw = await recorder(twin.face.url, as(GATEWAY));
    await gw.client.publishAsync('gw/relay/belt/speed', '{"value":0.5}', { qos: 1 });
    await gw.close();
    await sub.close();
  }, 20_000);

  it('100 rebirth requests make one rebirth; the rest are ignored and audited once', async () => {
    const sub = await recorder(twin.face.url, as(VIEWER));
    await sub.client.subscribeAsync(`${NODE}/NBIRTH/minimal`);
    const births = twin.face.stats().sparkplug!.rebirths;
    const op = await recorder(twin.face.url, { ...as(OPERATOR), clientId: 'op-rebirth' });
    for (let k = 0; k < 100; k++) op.client.publish(`${NODE}/NCMD/minimal`, rebirth, { qos: 0 });
    await op.client.publishAsync(`${NODE}/NCMD/minimal`, rebirth, { qos: 1 });
    await sub.wait((g) => g.topic.endsWith('/NBIRTH/minimal'));
    await sleep(1000);
    expect(sub.got.filter((g) => g.topic.endsWith('/NBIRTH/minimal'))).toHaveLength(1);
    expect(twin.face.stats().sparkplug!.rebirths).toBe(births + 1);
    const audits = await twin.eventsWhere(isAudit('NCMD', (d) => d.principal === 'operator/op-rebirth'));
    await sleep(300);
    expect(twin.events.filter(isAudit('NCMD', (d) => d.principal === 'operator/op-rebirth'))).toHaveLength(1);
    expect(String(audits[0]?.data.reason)).toContain('rebirth requests beyond one per 5 s are ignored');
    await op.close();
    await sub.close();
  }, 20_000);

  it('password guessing backs off: refused without a check while blocked, audited once per period; others are served', async () => {
    const attacker = '127.0.0.2';
    for (let k = 0; k < 6; k++) expect(await tryConnect(twin.face.url, `guess-${k}`, { username: ENGINEER.user, password: `guess-${k}-xx` }, attacker)).toBe(4);
    // the right password, now too late: refused (5) while the back-off lasts
    for (let k = 0; k < 3; k++) expect(await tryConnect(twin.face.url, `late-${k}`, as(ENGINEER), attacker)).toBe(5);
    // one address gets more room than one user name (a classroom behind one router): another account from it is served
    expect(await tryConnect(twin.face.url, 'late-other', as(VIEWER), attacker)).toBe(0);
    // another address is served meanwhile
    expect(await tryConnect(twin.face.url, 'v-ok', as(VIEWER))).toBe(0);
    const audits = await twin.eventsWhere(isAudit('connect', (d) => String(d.principal).includes(`@${attacker}:`)), 7);
    await sleep(300);
    const mine = twin.events.filter(isAudit('connect', (d) => String(d.principal).includes(`@${attacker}:`)));
    expect(mine.map((e) => e.data.reason)).toEqual([...Array<string>(6).fill('bad user name or password'), 'too many failed logins (user:engineer); refused for 10 s']);
    expect(audits).toHaveLength(7);
    skew += 10 * 60_000; // the back-off is over
    expect(await tryConnect(twin.face.url, 'later', as(ENGINEER), attacker)).toBe(0);
  }, 30_000);

  it('a retained command is never executed; the sender is told and it is audited', async () => {
    const op = await recorder(twin.face.url, { ...as(OPERATOR), clientId: 'op-retain' });
    await op.client.subscribeAsync(`${PREFIX}/former/cmd/+/reply`);
    await op.client.publishAsync(`${PREFIX}/former/cmd/stop`, '{"$id":"r1"}', { qos: 1, retain: true });
    const reply = json(await op.wait((g) => g.topic === `${PREFIX}/former/cmd/stop/reply`));
    expect(reply).toMatchObject({ ok: false, $id: 'r1', error: { code: 'NOT_ALLOWED' } });
    const [a] = await twin.eventsWhere(isAudit('command stop', (d) => d.principal === 'operator/op-retain'));
    expect(String(a?.data.reason)).toContain('a retained command is never executed');
    expect(twin.events.some((e) => (e.type === 'command' || e.type === 'rejected') && e.data.principal === 'operator/op-retain')).toBe(false);
    await op.client.publishAsync(`${PREFIX}/former/cmd/stop`, '', { qos: 1, retain: true }); // clears it on the broker
    await op.close();
  }, 20_000);

  it('commands carry the role of the sender\'s account; the line decides by it', async () => {
    const op = await recorder(twin.face.url, { ...as(OPERATOR), clientId: 'op-role' });
    await op.client.subscribeAsync(`${PREFIX}/former/cmd/+/reply`);
    op.client.publish(`${PREFIX}/former/cmd/fault`, '{"code":"jam"}', { qos: 1 });
    const no = json(await op.wait((g) => g.topic === `${PREFIX}/former/cmd/fault/reply`));
    expect(no).toMatchObject({ ok: false, error: { code: 'NOT_AUTHORIZED' } });
    expect(String((no.error as { message: string }).message)).toContain('instructor');
    const ins = await recorder(twin.face.url, { ...as(INSTRUCTOR), clientId: 'ins-role' });
    await ins.client.subscribeAsync(`${PREFIX}/former/cmd/+/reply`);
    ins.client.publish(`${PREFIX}/former/cmd/ack`, '', { qos: 1 });
    expect(json(await ins.wait((g) => g.topic === `${PREFIX}/former/cmd/ack/reply`)).ok).toBe(true);
    const [rejected] = await twin.eventsWhere((e) => e.type === 'rejected' && e.data.principal === 'operator/op-role');
    expect(rejected?.data).toMatchObject({ role: 'operator', code: 'NOT_AUTHORIZED', source: 'mqtt' });
    const [done] = await twin.eventsWhere((e) => e.type === 'command' && e.data.principal === 'instructor/ins-role');
    expect(done?.data).toMatchObject({ role: 'instructor', command: 'ack' });
    await op.close();
    await ins.close();
  }, 20_000);

  it('a WebSocket handshake from another site or under a foreign Host name is refused (403) and audited', async () => {
    const url = twin.face.wsUrl!;
    const status = (headers: Record<string, string>): Promise<number> => new Promise((resolve) => {
      const ws = new WebSocket(url, 'mqtt', { headers });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        resolve(101);
        ws.close();
      });
      ws.on('error', () => resolve(-1));
    });
    expect(await status({ origin: 'http://evil.example' })).toBe(403);
    expect(await status({ host: 'rebind.evil.example' })).toBe(403);
    expect(await status({ origin: `http://127.0.0.1:${new URL(url).port}` })).toBe(101);
    const audits = await twin.eventsWhere(isAudit('connect', (d) => d.target === 'WebSocket /mqtt'));
    expect(audits[0]?.data).toMatchObject({ outcome: 'denied', reason: 'Origin http://evil.example is another site' });
  }, 20_000);

  it('the line kept running', async () => {
    const t0 = await twin.simTime();
    await sleep(300);
    expect(await twin.simTime()).toBeGreaterThan(t0);
  });
});

describe('the classroom profile (open)', () => {
  let twin: Twin;
  let open: MqttFace;
  beforeAll(async () => {
    twin = await startTwin({ encoding: 'uns', accounts: AccountStore.fromClear([VIEWER]), embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false } });
    open = await twin.addFace({ encoding: 'uns', profile: 'open', accounts: AccountStore.fromClear([]), embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false } });
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
  });

  it('anonymous clients may subscribe to #, never to $SYS, and never publish commands', async () => {
    const anon = await recorder(open.url, { clientId: 'anon-open', reconnectPeriod: 0 });
    await anon.client.subscribeAsync('#');
    await anon.wait((g) => g.topic.startsWith(`${PREFIX}/`));
    const no = await anon.client.subscribeAsync('$SYS/#').catch((e: Error & { packet?: { granted: number[] } }) => e);
    expect((no as Error & { packet?: { granted: number[] } }).packet?.granted).toEqual([128]);
    const closed = new Promise<void>((r) => anon.client.once('close', () => r()));
    anon.client.publish(`${PREFIX}/former/cmd/stop`, '', { qos: 1 });
    await closed;
    await anon.close();
    const [a] = await twin.eventsWhere(isAudit('publish', (d) => String(d.principal).startsWith('anonymous/anon-open@')));
    expect(a?.data).toMatchObject({ outcome: 'denied', target: `${PREFIX}/former/cmd/stop`, reason: 'commands are not allowed for anonymous clients' });
    expect(twin.events.some((e) => e.type === 'command' && e.data.command === 'stop')).toBe(false);
  }, 20_000);

  it('an accounts file edited into garbage refuses logins (CONNACK 3, audited) and takes nothing down', async () => {
    const home = mkdtempSync(join(tmpdir(), 'twinline-accounts-'));
    try {
      const store = AccountStore.open(home, { create: true });
      const viewer = store.created.find((a) => a.role === 'viewer')!;
      const face = await twin.addFace({ encoding: 'uns', accounts: store, embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false } });
      expect(await tryConnect(face.url, 'file-1', { username: viewer.user, password: viewer.password })).toBe(0);
      const good = readFileSync(store.file, 'utf8');
      writeFileSync(store.file, '{ not json');
      expect(await tryConnect(face.url, 'file-2', { username: viewer.user, password: viewer.password })).toBe(3);
      const [a] = await twin.eventsWhere(isAudit('connect', (d) => String(d.principal).startsWith('viewer/file-2@')));
      expect(a?.data).toMatchObject({ outcome: 'failed' });
      expect(String(a?.data.reason)).toContain('accounts unreadable');
      writeFileSync(store.file, good);
      expect(await tryConnect(face.url, 'file-3', { username: viewer.user, password: viewer.password })).toBe(0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 20_000);
});
