/**
 * What the MQTT attacks that need a legitimate client beside the attacker share: the range's
 * own client (a gateway, a viewer) that connects anonymously where the broker admits it, else
 * with the account of that role in the range's home; and the meter that tells a broker or line
 * that is actually impaired from one that only refused the attacker: the twin's live message
 * rate as a subscriber of the range receives it, and the REST API's answer time.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { AttackContext, Credentials } from '../types.ts';
import { round } from './common.ts';

/** A client of the range: connected, who it is, and the messages it received (counted, the last topics kept). */
export interface RangeClient {
  client: MqttClient;
  /** `anonymous` or the account's user name */
  who: string;
  clientId: string;
  /** live (not retained) messages received so far */
  live: number;
  /** receive times of live messages [ms, wall], the newest 10,000 */
  times: number[];
  /** topics seen, the first 5,000 with their last payload (200 bytes) */
  topics: Map<string, string>;
}

/**
 * Connects a client of the range with `clientId`: under the `open` profile anonymously (as a
 * classroom's clients do), elsewhere or with `accountFirst` with the range's account of
 * `role`; the other way when the first is refused. Null when neither is admitted (the reason
 * in `evidence`).
 */
export async function rangeClient(ctx: AttackContext, evidence: string[], role: string, clientId: string, o: Partial<IClientOptions> = {}, accountFirst = false): Promise<RangeClient | null> {
  const { mqttConnect } = await import('../clients/mqtt.ts');
  const seen: string[] = [];
  const account = ctx.observer?.account(role) ?? null;
  // null: anonymous, as the classroom's clients connect under `open` (no refusal of the range's own in the audit trail elsewhere)
  const anonymousFirst = !accountFirst && ctx.observer?.profile === 'open';
  const tries: (Credentials | null)[] = account === null ? [null] : anonymousFirst ? [null, account] : [account, null];
  let client: MqttClient | null = null;
  let who = 'anonymous';
  for (const creds of tries) {
    client = await mqttConnect({ ...ctx, credentials: creds }, seen, { clientId, ...o });
    who = creds === null ? 'anonymous' : creds.user;
    if (client !== null) break;
  }
  if (client === null) {
    evidence.push(`range: its ${role} client could not connect (${seen.join('; ')})${account === null ? `; the range's home has no ${role} account` : ''}`);
    return null;
  }
  evidence.push(`range: its ${role} client connected as ${who === 'anonymous' ? 'anonymous' : `user "${who}"`} (client id ${clientId})`);
  const rc: RangeClient = { client, who, clientId, live: 0, times: [], topics: new Map() };
  client.on('message', (topic, payload, packet) => {
    if (rc.topics.size < 5000 || rc.topics.has(topic)) rc.topics.set(topic, payload.subarray(0, 200).toString('utf8'));
    if (packet.retain) return;
    rc.live++;
    rc.times.push(Date.now());
    if (rc.times.length > 10_000) rc.times.splice(0, rc.times.length - 10_000);
  });
  return rc;
}

/** Live messages `c` received in [from, to) (wall ms). */
export function received(c: RangeClient, from: number, to: number): number {
  return c.times.filter((t) => t >= from && t < to).length;
}

/** What the meter read at one moment. */
export interface Reading {
  /** live messages per second a subscriber of the range received, or null without one */
  msgPerS: number | null;
  /** median answer time of the REST API [ms], or null without an observer */
  restMs: number | null;
}

/** Reads the meter over `ms`: the subscriber's live message rate and three REST answer times. */
export async function read(ctx: AttackContext, sub: RangeClient | null, ms: number): Promise<Reading> {
  const from = Date.now();
  const times: number[] = [];
  const end = from + ms;
  while (Date.now() < end) {
    if (ctx.observer !== null && times.length < 3) {
      const t0 = performance.now();
      await ctx.observer.view();
      times.push(performance.now() - t0);
    }
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, end - Date.now()))));
  }
  const to = Date.now();
  times.sort((a, b) => a - b);
  return {
    msgPerS: sub === null ? null : round((received(sub, from, to) * 1000) / (to - from)),
    restMs: times.length === 0 ? null : round(times[Math.floor(times.length / 2)]!),
  };
}

/**
 * Whether the line or broker is impaired: the live message rate fell below half of what it
 * was, or the REST API answers ten times slower (and over a second). Generous on purpose: a
 * busy host slows a little, an impaired one stops.
 */
export function impaired(before: Reading, after: Reading): string | null {
  if (before.msgPerS !== null && after.msgPerS !== null && before.msgPerS > 0 && after.msgPerS < before.msgPerS / 2) {
    return `the twin's live messages fell from ${before.msgPerS}/s to ${after.msgPerS}/s`;
  }
  if (before.restMs !== null && after.restMs !== null && after.restMs > Math.max(10 * before.restMs, 1000)) {
    return `the REST API's answer time rose from ${before.restMs} ms to ${after.restMs} ms`;
  }
  return null;
}

/**
 * The range's meter: a viewer subscribed to `#` (released at the run's end) and its reading over
 * `ms` before the attack.
 */
export async function startMeter(ctx: AttackContext, evidence: string[], tag: string, ms: number): Promise<{ meter: RangeClient | null; before: Reading }> {
  const { mqttClose } = await import('../clients/mqtt.ts');
  const meter = await rangeClient(ctx, evidence, 'viewer', `range-meter-${tag}`);
  ctx.atEnd(() => mqttClose(meter?.client ?? null));
  await meter?.client.subscribeAsync('#').catch(() => undefined);
  return { meter, before: await read(ctx, meter, ms) };
}

/** What `impaired` found, or both readings and "not impaired"; `when` names the second reading ("after", "during"). */
export function impairedText(before: Reading, after: Reading, when: string): string {
  return impaired(before, after)
    ?? `the twin's live messages ${before.msgPerS ?? '?'}/s before, ${after.msgPerS ?? '?'}/s ${when}; REST ${before.restMs ?? '?'} ms before, ${after.restMs ?? '?'} ms ${when}: not impaired`;
}

/** The reading as impact fields. */
export function readingImpact(before: Reading, after: Reading): Record<string, number | null> {
  return { msgPerSBefore: before.msgPerS, msgPerSAfter: after.msgPerS, restMsBefore: before.restMs, restMsAfter: after.restMs };
}
