/**
 * The attacker's MQTT client (mqtt.js): connects anonymously or with an account it holds,
 * learns the twin's unified-namespace prefix from what the broker hands a `#` subscriber, and
 * publishes the way a tool does, telling an acknowledged publish from one the broker answered
 * by closing the connection.
 */
import { randomBytes } from 'node:crypto';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { AttackContext } from '../types.ts';

/** how long a CONNECT or a publish may take [ms] */
const ANSWER_MS = 10_000;

/** A client id that looks like any tool's. */
export function randomClientId(): string {
  return `mqttx_${randomBytes(4).toString('hex')}`;
}

/** Connects to the attack's target; null (and the refusal in `evidence`) when the broker refuses. */
export async function mqttConnect(ctx: AttackContext, evidence: string[], o: Partial<IClientOptions> = {}): Promise<MqttClient | null> {
  const creds = ctx.credentials === null ? {} : { username: ctx.credentials.user, password: ctx.credentials.password };
  const who = ctx.credentials === null ? 'anonymous' : `user "${ctx.credentials.user}"`;
  const clientId = o.clientId ?? randomClientId();
  try {
    const client = await connectAsync(ctx.target.href, { clientId, reconnectPeriod: 0, connectTimeout: ANSWER_MS, clean: true, ...creds, ...o }, false);
    client.on('error', () => undefined);
    evidence.push(`MQTT: CONNECT as ${who} (client id ${clientId}) accepted`);
    return client;
  } catch (e) {
    const code = (e as { code?: number }).code;
    evidence.push(`MQTT: CONNECT as ${who} (client id ${clientId}) refused: ${(e as Error).message}${typeof code === 'number' ? ` (CONNACK ${code})` : ''}`);
    return null;
  }
}

/** Ends a client without waiting on a broker that may be gone. */
export async function mqttClose(client: MqttClient | null): Promise<void> {
  if (client === null) return;
  await client.endAsync(true).catch(() => undefined);
}

/** What a `#` subscriber learned: the UNS prefix of the line and the topics seen. */
export interface Learned {
  /** `<enterprise>/<site>/<area>/<line>`, or null when no topic of the twin came */
  prefix: string | null;
  topics: Map<string, string>;
}

/**
 * Subscribes to `#` for `ms` (or, with `early`, until the twin's `$status` and a topic of
 * `station` came): the broker hands over every retained value, so the attacker learns the
 * namespace and the values.
 */
export async function listen(client: MqttClient, station: string, ms: number, early = true): Promise<Learned> {
  const topics = new Map<string, string>();
  let prefix: string | null = null;
  let stationSeen = false;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  const onMessage = (topic: string, payload: Buffer): void => {
    if (topics.size < 20_000) topics.set(topic, payload.subarray(0, 200).toString('utf8'));
    const status = /^(.+)\/\$status$/.exec(topic);
    if (status !== null) prefix = status[1]!;
    if (prefix !== null && topic.startsWith(`${prefix}/${station}/`)) stationSeen = true;
    if (early && prefix !== null && stationSeen) done();
  };
  client.on('message', onMessage);
  const timer = setTimeout(done, ms);
  try {
    await client.subscribeAsync('#', { qos: 0 });
    await finished;
  } catch {
    // a refused subscription leaves what came so far
  } finally {
    clearTimeout(timer);
    client.off('message', onMessage);
  }
  return { prefix, topics };
}

/** `acked`, or why the publish was not acknowledged (the connection closed, no answer). */
export async function publish(client: MqttClient, topic: string, payload: string | Buffer, o: { retain?: boolean } = {}): Promise<string> {
  if (!client.connected) return 'not connected';
  return new Promise<string>((resolve) => {
    const timer = setTimeout(() => finish('no PUBACK'), ANSWER_MS);
    const onClose = (): void => finish('the broker closed the connection');
    function finish(r: string): void {
      clearTimeout(timer);
      client.off('close', onClose);
      resolve(r);
    }
    client.once('close', onClose);
    client.publish(topic, payload, { qos: 1, retain: o.retain === true }, (err) => finish(err === undefined || err === null ? 'acked' : `refused: ${err.message}`));
  });
}
