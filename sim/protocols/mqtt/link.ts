/**
 * One MQTT connection of the face with its store-and-forward outbox: the outbox holds
 * messages while the connection is down and drains them, in order, when it comes back.
 * `onUp` runs on every (re)connect before the outbox drains, for births and metadata.
 *
 * A session takeover (another client connecting with the link's client id: the broker then
 * drops the link, with MQTT 5 reason 0x8E, or in 3.1.1 silently, and both clients keep
 * knocking each other off) is detected, reported once per takeover, and recovered: the link
 * reconnects under a fresh client id, with a back-off while takeovers repeat.
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { Outbox, type OutboxOptions } from './outbox.ts';

/** Connection attempts closed before CONNACK in a row that make the link warn. */
const REFUSED_ATTEMPTS = 3;
/** MQTT 5 DISCONNECT reason: session taken over */
const SESSION_TAKEN_OVER = 0x8e;
/** a session the broker closes within this time of accepting it counts as short [ms] */
const SHORT_SESSION_MS = 2500;
/** short sessions in a row that mean a takeover (3.1.1 brokers say nothing) */
const SHORT_SESSIONS = 2;
/** a session that lasts this long ends the takeover back-off [ms] */
const STABLE_MS = 10_000;
/** reconnect period [ms], and its ceiling while takeovers repeat */
const RECONNECT_MS = 500;
const MAX_RECONNECT_MS = 30_000;

/** A detected session takeover. */
export interface Takeover {
  /** the client id someone else took */
  clientId: string;
  /** the id the link reconnects with */
  nextId: string;
  /** how it was detected */
  reason: string;
  /** takeovers in a row (the back-off grows with them) */
  count: number;
}

/** A connection and its outbox. */
export interface Link<T> {
  client: MqttClient;
  outbox: Outbox<T>;
  /** (re)connections so far */
  connects: number;
  close(): Promise<void>;
}

/** Options of `openLink`. */
export interface LinkOptions<T> {
  url: string;
  mqtt: IClientOptions;
  outbox: Omit<OutboxOptions<T>, 'deliver'>;
  deliver(client: MqttClient, item: T, done: (err?: Error) => void): void;
  /** runs after CONNACK, before queued messages go out */
  onUp(client: MqttClient, first: boolean): void;
  /** what to add when the broker keeps closing the connection before accepting it */
  refusedHint?: string;
  /** runs when the connection is lost (before the client retries) */
  onDown?(client: MqttClient): void;
  /** a session takeover was detected; the link is reconnecting under `nextId` */
  onTakeover?(t: Takeover): void;
  warn(line: string): void;
}

/** Connects (retrying in the background) and returns at once; messages queue until the broker answers. */
export function openLink<T>(o: LinkOptions<T>): Link<T> {
  const client = connect(o.url, { reconnectPeriod: RECONNECT_MS, connectTimeout: 5000, ...o.mqtt });
  const baseId = client.options.clientId ?? '';
  const basePeriod = client.options.reconnectPeriod ?? RECONNECT_MS;
  const outbox = new Outbox<T>({ ...o.outbox, deliver: (item, done) => o.deliver(client, item, done) });
  // set by close(): the connection ending then is ours, not an outage to warn about
  let closing = false;
  const link: Link<T> = {
    client,
    outbox,
    connects: 0,
    close: () => new Promise<void>((r) => {
      closing = true;
      // wait for acknowledgements a moment, but never hang on a broker that is gone
      const force = setTimeout(() => client.end(true, {}, () => r()), 2000);
      client.end(false, {}, () => {
        clearTimeout(force);
        r();
      });
    }),
  };
  let wasUp = false;
  // a broker that closes the connection before CONNACK, attempt after attempt, refuses something
  // in the CONNECT itself (will topic, client id, credentials): say so once per outage
  let refusedInARow = 0;
  let upAt = 0;
  let shortInARow = 0;
  let takeovers = 0;
  let takenOver: string | null = null;
  let stable: ReturnType<typeof setTimeout> | null = null;
  client.on('disconnect', (packet) => {
    if (packet.reasonCode === SESSION_TAKEN_OVER) takenOver = 'the broker said: session taken over (MQTT 5 reason 0x8E)';
  });
  /** Moves to a fresh client id and backs off; the next reconnect uses them. */
  const recover = (reason: string): void => {
    takeovers++;
    shortInARow = 0;
    const old = client.options.clientId ?? '';
    const nextId = `${baseId}-${randomBytes(3).toString('hex')}`;
    client.options.clientId = nextId;
    client.options.reconnectPeriod = Math.min(MAX_RECONNECT_MS, basePeriod * 2 ** takeovers);
    o.onTakeover?.({ clientId: old, nextId, reason, count: takeovers });
  };
  client.on('connect', () => {
    refusedInARow = 0;
    upAt = Date.now();
    takenOver = null;
    if (stable !== null) clearTimeout(stable);
    stable = setTimeout(() => {
      shortInARow = 0;
      takeovers = 0;
      client.options.reconnectPeriod = basePeriod;
    }, STABLE_MS);
    stable.unref();
    link.connects++;
    o.onUp(client, link.connects === 1);
    wasUp = true;
    outbox.up();
  });
  client.on('close', () => {
    if (!wasUp) {
      if (++refusedInARow === REFUSED_ATTEMPTS) {
        o.warn(`WARNING: MQTT: ${o.url} closed the connection ${REFUSED_ATTEMPTS} times before accepting it; still retrying, holding messages.${o.refusedHint === undefined ? '' : ` ${o.refusedHint}`}`);
      }
      return;
    }
    wasUp = false;
    outbox.down();
    if (stable !== null) clearTimeout(stable);
    if (closing) return;
    o.onDown?.(client);
    const lasted = Date.now() - upAt;
    shortInARow = lasted < SHORT_SESSION_MS ? shortInARow + 1 : 0;
    const why = takenOver ?? (shortInARow >= SHORT_SESSIONS ? `the broker closed the session ${shortInARow} times in a row within ${SHORT_SESSION_MS / 1000} s of accepting it` : null);
    if (why !== null) {
      recover(why);
      return;
    }
    o.warn(`MQTT: connection to ${o.url} lost; holding messages until it is back`);
  });
  let lastError = '';
  client.on('error', (e) => {
    // a broker that is away fails every retry the same way: say it once
    if (e.message !== lastError) o.warn(`MQTT: ${o.url}: ${e.message}`);
    lastError = e.message;
  });
  client.on('connect', () => (lastError = ''));
  return link;
}
