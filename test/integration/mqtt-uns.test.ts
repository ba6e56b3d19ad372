/**
 * The MQTT face's unified namespace against real brokers: the embedded Aedes (values, $meta,
 * commands with replies and the sender's role, ACL refusals, garbage), Mosquitto and NATS
 * started by the test, and a Mosquitto restart mid-run that must lose nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../sim/host/accounts.ts';
import { have, json, MOSQUITTO, NATS, recorder, startMosquitto, startNats, type Got, type TestBroker } from './brokers.ts';
import { isAudit, PREFIX, startTwin, type Twin } from './mqtt-harness.ts';

const OPERATOR = { user: 'operator', password: 'op-secret-1', role: 'operator' as const };
const VIEWER = { user: 'viewer', password: 'view-secret-1', role: 'viewer' as const };
const AS_VIEWER = { username: VIEWER.user, password: VIEWER.password };

const isValue = (g: Got): boolean => g.topic.startsWith(`${PREFIX}/`) && !g.topic.includes('$') && !g.topic.includes('/cmd/');

describe('UNS over the embedded broker', () => {
  let twin: Twin;
  beforeAll(async () => {
    twin = await startTwin({
      encoding: 'both', accounts: AccountStore.fromClear([OPERATOR, VIEWER]),
      embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: 0, explicitWsPort: true },
    });
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
  });

  it('publishes values with sim time and unit, retained $meta and the PackML state', async () => {
    const sub = await recorder(twin.face.url, AS_VIEWER);
    sub.client.subscribe(`${PREFIX}/#`, { qos: 1 });
    const v = json(await sub.wait((g) => g.topic === `${PREFIX}/belt/speed`));
    expect(typeof v.v).toBe('number');
    expect(v.u).toBe('m/s');
    expect(typeof v.t).toBe('number');
    const meta = json(await sub.wait((g) => g.topic === `${PREFIX}/belt/speed/$meta`));
    expect(meta).toMatchObject({ unit: 'm/s', access: 'rw', dataType: 'Double' });
    expect(typeof meta.description).toBe('string');
    expect(Array.isArray(meta.range)).toBe(true);
    const st = json(await sub.wait((g) => g.topic === `${PREFIX}/former/State` && json(g).v === 'Execute'));
    expect(st.v).toBe('Execute');
    // report by exception: time moves on, so a live value arrives with a later t
    const first = json(await sub.wait((g) => g.topic === `${PREFIX}/src/partsOut` && !g.retain));
    const later = json(await sub.wait((g) => g.topic === `${PREFIX}/src/partsOut` && (json(g).t as number) > (first.t as number)));
    expect(later.v as number).toBeGreaterThan(first.v as number);
    await sub.close();
  }, 20_000);

  it('an operator command changes the PackML state and gets a reply; the event log names the sender', async () => {
    const op = await recorder(twin.face.url, { username: OPERATOR.user, password: OPERATOR.password, clientId: 'op-1' });
    op.client.subscribe([`${PREFIX}/former/State`, `${PREFIX}/former/cmd/+/reply`], { qos: 1 });
    await op.wait((g) => g.topic === `${PREFIX}/former/State` && json(g).v === 'Execute');
    const mark = op.got.length;
    op.client.publish(`${PREFIX}/former/cmd/stop`, JSON.stringify({ $id: 'a1' }), { qos: 1 });
    const reply = json(await op.wait((g) => g.topic === `${PREFIX}/former/cmd/stop/reply`, 5000, mark));
    expect(reply).toEqual({ ok: true, target: 'former', command: 'stop', $id: 'a1' });
    await op.wait((g) => g.topic === `${PREFIX}/former/State` && json(g).v === 'Stopped', 5000, mark);
    const [ev] = await twin.eventsWhere((e) => e.type === 'command' && e.data.command === 'stop' && e.station === 'former');
    // the principal's user and the role come from the account, not from anything the client says
    expect(ev?.data).toMatchObject({ source: 'mqtt', principal: 'operator/op-1', role: 'operator' });
    // a refused command is answered with the line's reason
    op.client.publish(`${PREFIX}/former/cmd/start`, '', { qos: 1 });
    const no = json(await op.wait((g) => g.topic === `${PREFIX}/former/cmd/start/reply`, 5000, mark));
    expect(no).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    await op.close();
  }, 20_000);

  it('a viewer\'s publish to a command topic is refused by the broker; so is a wrong password', async () => {
    for (const who of [AS_VIEWER]) {
      const before = twin.face.stats().refused;
      const c = await recorder(twin.face.url, { ...who, reconnectPeriod: 0 });
      const closed = new Promise<void>((r) => c.client.once('close', () => r()));
      c.client.publish(`${PREFIX}/former/cmd/reset`, '{}', { qos: 1 });
      await closed; // Aedes drops a client whose publish is not authorised
      expect(twin.face.stats().refused).toBe(before + 1);
      await c.close();
    }
    const op = await recorder(twin.face.url, { username: OPERATOR.user, password: 'wrong-password', reconnectPeriod: 0 }).catch((e: Error) => e);
    expect(op).toBeInstanceOf(Error);
    // each refusal is in the event log as an audit entry naming who tried what
    const audits = await twin.eventsWhere(isAudit(/^(publish|connect)$/), 2);
    expect(twin.events.some((e) => e.data.command === 'reset' && e.data.source === 'mqtt')).toBe(false);
    expect(audits.filter((e) => e.data.action === 'publish').map((e) => [String(e.data.principal).split('/')[0], e.data.outcome, e.data.target, e.data.reason])).toEqual([
      ['viewer', 'denied', `${PREFIX}/former/cmd/reset`, 'commands are not allowed for viewer clients'],
    ]);
    expect(audits.find((e) => e.data.action === 'connect')?.data).toMatchObject({ outcome: 'denied', reason: 'bad user name or password' });
    expect(String(audits.find((e) => e.data.action === 'connect')?.data.principal)).toMatch(/^operator\/.+@127\.0\.0\.1:\d+$/);
  }, 20_000);

  it('garbage on a command topic gets an error reply, an audit event, and the line keeps running', async () => {
    const op = await recorder(twin.face.url, { username: OPERATOR.user, password: OPERATOR.password, clientId: 'op-2' });
    op.client.subscribe([`${PREFIX}/former/cmd/+/reply`, `${PREFIX}/former/State`], { qos: 1 });
    const mark = op.got.length;
    op.client.publish(`${PREFIX}/former/cmd/reset`, Buffer.from([0x7b, 0xff, 0x00, 0x22]), { qos: 1 });
    const r = json(await op.wait((g) => g.topic === `${PREFIX}/former/cmd/reset/reply`, 5000, mark));
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENT' } });
    expect(String((r.error as { message: string }).message)).toContain('not JSON');
    op.client.publish(`${PREFIX}/former/cmd/set`, '{"field":{"nested":1}}', { qos: 1 });
    await op.wait((g) => g.topic === `${PREFIX}/former/cmd/set/reply` && json(g).ok === false, 5000, mark);
    // garbage never reaches the line: it is in the log as audit entries naming sender, topic and payload
    const audited = await twin.eventsWhere((e) => e.type === 'audit' && e.data.source === 'mqtt' && e.data.principal === 'operator/op-2', 2);
    expect(audited.map((e) => [e.data.action, e.data.outcome, e.data.target])).toEqual([
      ['command reset', 'denied', `${PREFIX}/former/cmd/reset`],
      ['command set', 'denied', `${PREFIX}/former/cmd/set`],
    ]);
    expect(String(audited[0]?.data.reason)).toContain('not JSON');
    expect(twin.events.some((e) => e.type === 'rejected' && e.data.principal === 'operator/op-2')).toBe(false);
    // still running: a good command after the garbage works (acknowledge: allowed in every state,
    // as the fixture's scheduled fault moves the former through its states meanwhile)
    const t0 = await twin.simTime();
    op.client.publish(`${PREFIX}/former/cmd/ack`, '{"$id":"g1"}', { qos: 1 });
    expect(json(await op.wait((g) => g.topic === `${PREFIX}/former/cmd/ack/reply`, 5000, mark))).toEqual({ ok: true, target: 'former', command: 'ack', $id: 'g1' });
    const t1 = await twin.simTime();
    expect(t1).toBeGreaterThan(t0);
    await op.close();
  }, 20_000);

  it('serves MQTT over WebSocket too', async () => {
    const ws = await recorder(twin.face.wsUrl!, AS_VIEWER);
    ws.client.subscribe(`${PREFIX}/+/State`, { qos: 0 });
    expect(json(await ws.wait((g) => g.topic === `${PREFIX}/src/State`)).v).toBeTypeOf('string');
    await ws.close();
  }, 10_000);
});

describe.runIf(have(MOSQUITTO))('UNS over Mosquitto', () => {
  let broker: TestBroker;
  let twin: Twin;
  beforeAll(async () => {
    broker = await startMosquitto();
    // commands through an external broker act with the role configured for it: here an engineer's, to write parameters
    twin = await startTwin({ encoding: 'uns', url: broker.url, intervalMs: 50, externalRole: 'engineer' });
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
    await broker?.dispose();
  });

  it('publishes values and $meta; commands are answered', async () => {
    const sub = await recorder(broker.url);
    sub.client.subscribe(`${PREFIX}/#`, { qos: 1 });
    expect(json(await sub.wait((g) => g.topic === `${PREFIX}/belt/speed`)).u).toBe('m/s');
    expect(json(await sub.wait((g) => g.topic === `${PREFIX}/former/cycleTime/$meta`)).unit).toBe('s');
    sub.client.publish(`${PREFIX}/belt/cmd/set`, JSON.stringify({ field: 'speed', value: 0.25 }), { qos: 1 });
    expect(json(await sub.wait((g) => g.topic === `${PREFIX}/belt/cmd/set/reply`)).ok).toBe(true);
    expect(json(await sub.wait((g) => g.topic === `${PREFIX}/belt/speed` && json(g).v === 0.25)).v).toBe(0.25);
    await sub.close();
  }, 20_000);

  it('a broker restart mid-run loses nothing: queued messages arrive in order, no gap in seq', async () => {
    // persistent session, QoS 1: the broker keeps what arrives for us while we are away
    const opts = { clientId: 'uns-checker', clean: false, resubscribe: false, reconnectPeriod: 300 };
    const sub = await recorder(broker.url, opts);
    await new Promise<void>((r, j) => sub.client.subscribe(`${PREFIX}/#`, { qos: 1 }, (e) => (e ? j(e) : r())));
    const live = (): Got[] => sub.got.filter((g) => isValue(g) && !g.retain);
    await sub.wait((g) => isValue(g) && !g.retain);
    const connects = twin.face.stats().uns!.connects;
    await broker.stop();
    await new Promise((r) => setTimeout(r, 1500)); // the line runs on; the face holds its messages
    const held = twin.face.stats().uns!;
    expect(held.queued).toBeGreaterThan(0);
    await broker.restart();
    const deadline = Date.now() + 20_000;
    while (twin.face.stats().uns!.connects === connects || twin.face.stats().uns!.queued > 0) {
      if (Date.now() > deadline) throw new Error(`no reconnect:\n${twin.log.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const lastHeld = twin.face.stats().uns!;
    expect(lastHeld.dropped).toBe(0);
    // wait until messages sent after the reconnect have arrived
    const target = (JSON.parse(live().at(-1)!.payload.toString()) as { seq: number }).seq + held.queued + 20;
    await sub.wait((g) => isValue(g) && (json(g).seq as number) >= target, 20_000);
    const seqs = live().map((g) => json(g).seq as number);
    let max = seqs[0]!;
    let gaps = 0;
    for (const s of seqs.slice(1)) {
      if (s <= max) continue; // QoS 1 may deliver twice
      if (s !== max + 1) gaps++;
      max = s;
    }
    expect(gaps).toBe(0);
    expect(max - seqs[0]!).toBeGreaterThan(held.queued);
    await sub.close();
  }, 60_000);
});

describe.runIf(have(NATS))('UNS over NATS (MQTT 3.1.1)', () => {
  let broker: TestBroker;
  let twin: Twin;
  beforeAll(async () => {
    broker = await startNats();
    twin = await startTwin({ encoding: 'uns', url: broker.url });
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
    await broker?.dispose();
  });

  it('values arrive', async () => {
    const sub = await recorder(broker.url, { clientId: 'nats-sub' });
    sub.client.subscribe(`${PREFIX}/#`, { qos: 1 });
    const first = json(await sub.wait((g) => g.topic === `${PREFIX}/src/partsOut`));
    const later = json(await sub.wait((g) => g.topic === `${PREFIX}/src/partsOut` && (json(g).t as number) > (first.t as number)));
    expect(later.u).toBe('');
    expect(json(await sub.wait((g) => g.topic === `${PREFIX}/belt/speed/$meta`)).unit).toBe('m/s');
    await sub.close();
  }, 30_000);
});
