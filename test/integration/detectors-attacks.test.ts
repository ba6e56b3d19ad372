/**
 * The detectors in a real `twinline serve` of the kiln cell (profile open, so the attacks get
 * through; Modbus served too): attacks of three families from the library, each run as
 * `twinline attack run` runs it, and the detector that should fire on it does, with a
 * time-to-detect on the common wall clock; the alerts are in alerts.ndjson and at GET
 * /api/alerts (a viewer reads them; under `open` an anonymous client may too, as it may read
 * the event log). Then what the matrix cannot show: QoS 2 exhaustion by a client that may
 * publish (the gateway's account) hits the broker's bound and its rule fires; and garbage on
 * the MQTT port, the Modbus port and a command topic raises alerts while the host and its
 * detectors keep working. (Every attack of the library, under open and hardened, is asserted
 * in security-matrix.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { attack, startRange, type Range } from './attack-harness.ts';
import { START_MS } from './serve-proc.ts';
import { scaled } from '../proc.ts';
import { packet, str } from '../../security/attacks/clients/mqtt-raw.ts';
import { raw, within } from './mqtt-harness.ts';
import { waitFor } from './opcua-host.ts';
import type { AttackReport } from '../../security/attacks/run.ts';

let r: Range;

beforeAll(async () => {
  r = await startRange('open', ['--speed', '10', '--modbus-port', '0']);
}, START_MS + 60_000);

afterAll(async () => {
  await r?.stop();
});

/** The detections of `rule` in a report, asserting it was measured. */
function fired(rep: AttackReport, detector: string, rule: string): NonNullable<AttackReport['detections']> {
  expect(rep.detections, 'the run read the twin\'s alerts').not.toBeNull();
  const d = rep.detections!.filter((x) => x.detector === detector && x.rule === rule);
  console.log(`${rep.attack}: ${rep.detections!.map((x) => `${x.detector}/${x.rule} ${x.ttdMs} ms`).join(', ') || 'no alert'}`);
  return d;
}

describe('detectors against the attack library', () => {
  it('kiln-setpoint-drift: the recipe band fires (T0836) before the drift ends, and the allow-list sees the OPC UA write', async () => {
    const rep = await attack(r, 'kiln-setpoint-drift', 'opcua', { watchMs: 1000 });
    expect(rep.outcome).toBe('succeeded');
    const band = fired(rep, 'physics', 'recipe-band');
    expect(band.length).toBeGreaterThanOrEqual(1);
    expect(band[0]!.techniques).toContain('T0836');
    expect(band[0]!.ttdMs).toBeGreaterThan(0);
    expect(band[0]!.ttdMs).toBeLessThan(rep.durationMs + 1000);
    expect(fired(rep, 'allow-list', 'write').length).toBeGreaterThanOrEqual(1);
  }, scaled(120_000));

  it('mqtt-wildcard: a subscription to every topic is detected (T0861)', async () => {
    const rep = await attack(r, 'mqtt-wildcard', 'mqtt', { watchMs: 500 });
    expect(rep.outcome).toBe('succeeded');
    const d = fired(rep, 'rate', 'subscribe-everything');
    expect(d).toHaveLength(1);
    expect(d[0]!.techniques).toEqual(['T0861', 'T0801']);
    expect(d[0]!.ttdMs).toBeGreaterThan(0);
  }, scaled(120_000));

  it('opcua-stop: a stop from OPC UA is detected by the stop-source rule (T0855) and the allow-list', async () => {
    const rep = await attack(r, 'opcua-stop', 'opcua', { watchMs: 1000 });
    expect(rep.outcome).toBe('succeeded');
    const d = fired(rep, 'physics', 'stop-source');
    expect(d).toHaveLength(1);
    expect(d[0]!.techniques).toContain('T0855');
    expect(fired(rep, 'allow-list', 'command').length).toBe(1);
  }, scaled(120_000));

  it('the alerts are in alerts.ndjson and at GET /api/alerts for a viewer, with evidence seqs of the event log', async () => {
    const { status, body } = await r.call('api/alerts', {}, 'viewer');
    expect(status).toBe(200);
    const alerts = body.alerts as { id: number; rule: string; evidence: { seqs: number[] }; firstEvidenceMs: number; alertMs: number }[];
    // besides the attacks' own: every OPC UA session of open runs in clear, and MQTT let the attacker in anonymously
    expect(new Set(alerts.map((a) => a.rule))).toEqual(new Set(['write', 'recipe-band', 'subscribe-everything', 'command', 'stop-source', 'insecure-session', 'anonymous-access']));
    const events = await r.events('viewer');
    for (const a of alerts) {
      expect(a.alertMs).toBeGreaterThanOrEqual(a.firstEvidenceMs);
      for (const s of a.evidence.seqs) expect(events.find((e) => e.seq === s), `alert ${a.id} evidence #${s}`).toBeDefined();
    }
    const file = readFileSync(join(r.runDir, 'alerts.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id);
    expect(file).toEqual(alerts.map((a) => a.id));
  }, scaled(60_000));

  it('mqtt-qos-exhaustion with the gateway\'s account: the broker holds at most 100 unreleased messages, drops the client, and qos-exhaustion fires (T0814, T0813)', async () => {
    const rep = await attack(r, 'mqtt-qos-exhaustion', 'mqtt', { watchMs: 500, credentials: { user: 'gateway', password: r.passwords.gateway! } });
    expect(rep.outcome).toBe('blocked');
    // the broker answers at most its bound before it drops the client (a few may be in flight when it does)
    expect(rep.impact.inflightLimitHeld).toBe(true);
    expect(rep.impact.closedByBrokerAfter).not.toBeNull();
    const d = fired(rep, 'rate', 'qos-exhaustion');
    expect(d).toHaveLength(1);
    expect(d[0]!.techniques).toEqual(['T0814', 'T0813']);
    expect(d[0]!.ttdMs).toBeGreaterThan(0);
    // a password over plain mqtt:// is readable on the path: said too
    expect(fired(rep, 'rate', 'cleartext-login').length).toBeGreaterThanOrEqual(1);
  }, scaled(120_000));

  it('garbage on the MQTT port, the Modbus port and a command topic: alerts, and the host and its detectors go on', async () => {
    const from = Date.now();
    // a CONNECT naming no MQTT protocol, then bytes that are no Modbus/TCP frame
    const mqtt = await raw(r.mqtt);
    mqtt.socket.write(packet(0x10, Buffer.concat([str('MQXX'), Buffer.from([4, 0x02, 0, 60]), str('junk')])));
    await within(mqtt.closed, scaled(5000));
    const mb = new URL(r.modbus);
    const modbus = connect({ host: mb.hostname, port: Number(mb.port) });
    modbus.on('error', () => undefined);
    await new Promise<void>((res) => modbus.once('connect', () => res()));
    modbus.write(Buffer.from([0, 1, 0, 1, 0, 6, 1, 3, 0, 0, 0, 1]));
    await new Promise<void>((res) => modbus.once('close', () => res()));
    // an operator's command whose payload is no JSON
    const op = await mqttConnect(r.mqtt, { username: 'operator', password: r.passwords.operator! });
    const prefix = await unsPrefix(op);
    op.publish(`${prefix}/kiln/cmd/reset`, Buffer.from([0x7b, 0xff, 0x00]), { qos: 1 });
    const alerts = await waitFor('three garbage alerts', async () => (await r.call(`api/alerts?from=${from}`, {}, 'viewer')).body.alerts as { rule: string; title: string; evidence: { lines: string[] } }[],
      (a) => a.filter((x) => x.rule === 'oversized-payload').length >= 2 && a.some((x) => x.rule === 'malformed-message'), 30_000);
    await op.endAsync();
    const lines = alerts.flatMap((a) => a.evidence.lines).join('\n');
    expect(lines).toMatch(/mqtt .*packet .*malformed packet \(Invalid protocolId\)/);
    expect(lines).toMatch(/modbus .*frame .*protocol id 1 is not Modbus/);
    expect(lines).toMatch(/payload is not JSON/);
    // the host still serves, and its detectors still count events without a single failure
    const page = (await r.call('api/alerts', {}, 'viewer')).body as { detectors: string[] };
    expect(page.detectors).toEqual(['allow-list', 'rate', 'physics', 'residual']);
    expect((await r.call('api/state', {}, 'viewer')).status).toBe(200);
    const after = await attack(r, 'mqtt-wildcard', 'mqtt', { watchMs: 500 });
    expect(fired(after, 'rate', 'subscribe-everything')).toHaveLength(1);
  }, scaled(120_000));
});

/** Connects an MQTT client (the library the range uses), resolving once connected. */
async function mqttConnect(url: string, o: { username: string; password: string }): Promise<MqttClient> {
  const { connectAsync } = await import('mqtt');
  return connectAsync(url, { ...o, reconnectPeriod: 0, connectTimeout: scaled(10_000) });
}

/** The twin's UNS prefix, from the retained topics a `#` subscription hands over. */
async function unsPrefix(c: MqttClient): Promise<string> {
  let prefix: string | null = null;
  c.on('message', (t) => {
    const m = /^(.*)\/kiln\/[^/$]+$/.exec(t);
    if (prefix === null && m !== null) prefix = m[1]!;
  });
  await c.subscribeAsync('#');
  await waitFor('a retained topic of the kiln', () => prefix, (p) => p !== null, 10_000);
  await c.unsubscribeAsync('#');
  return prefix!;
}
