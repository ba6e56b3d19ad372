/**
 * One MQTT connection of the face with its store-and-forward outbox: the outbox holds
 * messages while the connection is down and drains them, in order, when it comes back.
 * `onUp` runs on every (re)connect before the outbox drains, for births and metadata.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { Outbox, type OutboxOptions } from './outbox.ts';

/** Connection attempts closed before CONNACK in a row that make the link warn. */
const REFUSED_ATTEMPTS = 3;

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
  warn(line: string): void;
}

/** Connects (retrying in the background) and returns at once; messages queue until the broker answers. */
export function openLink<T>(o: LinkOptions<T>): Link<T> {
  const client = connect(o.url, { reconnectPeriod: 500, connectTimeout: 5000, ...o.mqtt });
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
  client.on('connect', () => {
    refusedInARow = 0;
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
    if (closing) return;
    o.onDown?.(client);
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
