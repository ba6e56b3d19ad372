/**
 * The twin on an external broker (a real Mosquitto started by the test): another client taking
 * over its session (MQTT 3.1.1, where both keep knocking each other off, and MQTT 5, where the
 * broker says so) is detected, audited and recovered under a fresh client id with a rebirth;
 * a retained command is not executed again when the broker replays it on reconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sparkplug from 'sparkplug-payload';
import type { MqttFace } from '../../sim/protocols/mqtt/face.ts';
import { have, json, MOSQUITTO, recorder, startMosquitto, type Got, type TestBroker } from './brokers.ts';
import { isAudit, PREFIX, startTwin, type Twin } from './mqtt-harness.ts';

const SP = sparkplug.get('spBv1.0')!;
const NODE = 'spBv1.0/test';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(have(MOSQUITTO))('the twin on Mosquitto: session takeover and retained commands', () => {
  let broker: TestBroker;
  let twin: Twin;
  /** Sparkplug over MQTT 5 on the same line */
  let v5: MqttFace;
  beforeAll(async () => {
    broker = await startMosquitto();
    twin = await startTwin({ encoding: 'uns', url: broker.url, clientId: 'twin-x' });
    v5 = await twin.addFace({ encoding: 'sparkplug', url: broker.url, clientId: 'twin-y', protocolVersion: 5 });
  }, 30_000);
  afterAll(async () => {
    await twin?.close();
    await broker?.dispose();
  });

  it('MQTT 3.1.1: a client that keeps taking the twin\'s client id is detected; the twin moves to a fresh id and publishes again', async () => {
    const sub = await recorder(broker.url, { clientId: 'watch-uns' });
    await sub.client.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
    await sub.wait((g) => !g.retain && g.topic.startsWith(`${PREFIX}/`));
    // the attacker reconnects as soon as it is knocked off, as any client library does
    const attacker = await recorder(broker.url, { clientId: 'twin-x-uns', reconnectPeriod: 300 });
    let attackerDrops = 0;
    attacker.client.on('close', () => attackerDrops++);
    const [a] = await twin.eventsWhere(isAudit('session takeover'), 1, 15_000);
    expect(a?.data).toMatchObject({ outcome: 'failed', target: 'twin-x-uns', principal: `unverified@127.0.0.1:${broker.port}` });
    expect(String(a?.data.reason)).toMatch(/closed the session \d times in a row .*reconnecting as twin-x-uns-[0-9a-f]{6}/);
    expect(twin.log.some((l) => l.startsWith('WARNING: MQTT:') && l.includes('twin-x-uns taken over'))).toBe(true);
    // recovered: the attacker is left alone, values flow again and the twin says it is online
    const drops = attackerDrops;
    await sleep(2000);
    expect(attackerDrops).toBe(drops);
    expect(attacker.client.connected).toBe(true);
    await sub.wait((g) => !g.retain && g.topic.startsWith(`${PREFIX}/`) && !g.topic.includes('$'), 10_000, sub.got.length);
    expect(json(sub.got.filter((g) => g.topic === `${PREFIX}/$status`).at(-1)!).online).toBe(true);
    expect(twin.face.stats().takeovers).toBe(1);
    await attacker.close();
    await sub.close();
  }, 40_000);

  it('MQTT 5 (Sparkplug): a takeover is audited and the node is born again under a fresh id', async () => {
    const host = await recorder(broker.url, { clientId: 'watch-spb' });
    await host.client.subscribeAsync(`${NODE}/#`);
    // Mosquitto 2.0.11 closes a taken-over MQTT 5 session without DISCONNECT 0x8E (later
    // brokers send it, and the link reports it at once); here the repeated drops give it away
    const attacker = await recorder(broker.url, { clientId: 'twin-y-spb', protocolVersion: 5, reconnectPeriod: 300 });
    const [a] = await twin.eventsWhere(isAudit('session takeover', (d) => d.target === 'twin-y-spb'), 1, 15_000);
    expect(String(a?.data.reason)).toMatch(/reconnecting as twin-y-spb-[0-9a-f]{6}/);
    // born again: an NBIRTH carrying the bdSeq of the session under the fresh id
    const bdSeq = (g: Got): number => Number(String(SP.decodePayload(g.payload).metrics?.find((m) => m.name === 'bdSeq')?.value));
    const end = Date.now() + 15_000;
    const born = (): boolean => host.got.some((g) => g.topic === `${NODE}/NBIRTH/minimal` && bdSeq(g) === v5.stats().sparkplug!.bdSeq);
    while (!born() && Date.now() < end) await sleep(100);
    expect(born()).toBe(true);
    await sleep(500);
    expect(attacker.client.connected).toBe(true);
    expect(v5.stats().takeovers).toBe(1);
    await attacker.close();
    await host.close();
  }, 30_000);

  it('a retained command runs at most once: its replay on every reconnect is refused and audited', async () => {
    const op = await recorder(broker.url, { clientId: 'op-retain' });
    await op.client.subscribeAsync(`${PREFIX}/former/cmd/stop/reply`);
    // MQTT 3.1.1 delivers it live without the retain flag: that one delivery runs
    await op.client.publishAsync(`${PREFIX}/former/cmd/stop`, '{"$id":"once"}', { qos: 1, retain: true });
    await op.wait((g) => g.topic === `${PREFIX}/former/cmd/stop/reply`);
    await op.close();
    const stops = (): number => twin.events.filter((e) => (e.type === 'command' || e.type === 'rejected') && e.data.command === 'stop' && e.station === 'former').length;
    await twin.eventsWhere((e) => e.type === 'command' && e.data.command === 'stop');
    expect(stops()).toBe(1);
    for (let k = 1; k <= 2; k++) {
      const connects = twin.face.stats().uns!.connects;
      await broker.stop();
      await broker.restart(); // persistence keeps the retained command
      const end = Date.now() + 20_000;
      while (twin.face.stats().uns!.connects === connects && Date.now() < end) await sleep(100);
      const refused = await twin.eventsWhere(isAudit('command stop', (d) => String(d.reason).includes('retained')), k, 10_000);
      expect(refused).toHaveLength(k);
    }
    await sleep(500);
    expect(stops()).toBe(1);
    const clear = await recorder(broker.url);
    await clear.client.publishAsync(`${PREFIX}/former/cmd/stop`, '', { qos: 1, retain: true });
    await clear.close();
  }, 60_000);

  it('MQTT 5 keeps the retain flag as published: a retained DCMD is refused even live', async () => {
    const c = await recorder(broker.url, { clientId: 'op-dcmd', protocolVersion: 5 });
    const dcmd = Buffer.from(SP.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Command', type: 'String', value: 'stop' }] }));
    await c.client.publishAsync(`${NODE}/DCMD/minimal/belt`, dcmd, { qos: 1, retain: true });
    const [a] = await twin.eventsWhere(isAudit('DCMD', (d) => String(d.reason).includes('retained')), 1, 10_000);
    expect(a?.data).toMatchObject({ outcome: 'denied', target: `${NODE}/DCMD/minimal/belt` });
    await sleep(500);
    expect(twin.events.some((e) => e.type === 'command' && e.station === 'belt' && e.data.command === 'stop')).toBe(false);
    await c.client.publishAsync(`${NODE}/DCMD/minimal/belt`, '', { qos: 1, retain: true });
    await c.close();
  }, 20_000);
});
