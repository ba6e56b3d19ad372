/**
 * `gateway check` on a live broker: one MQTT connection subscribes to the twin's unified
 * namespace (the ground truth) and to the gateway's topics, feeds both to a `DeliveryCheck`
 * in arrival order for the given time, hears the twin up to `catchUpMs` more for deliveries
 * still waiting for its stream, and reports.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { TwinlineError } from '../core/errors.ts';
import type { Catalog } from './catalog.ts';
import { DEFAULT_CHECK, DeliveryCheck, type CheckLimits, type CheckOptions, type CheckReport } from './check.ts';
import { extract, scalarOf, tagIndex } from './extract.ts';

/** Options of `runCheck`. */
export interface LiveCheckOptions {
  catalog: Catalog;
  /** broker carrying both the twin's UNS and the gateway's topics */
  broker: string;
  username?: string;
  password?: string;
  /** MQTT topic filter of what the gateway publishes */
  source: string;
  /** how long to listen [ms] */
  durationMs: number;
  tuning?: Partial<CheckOptions>;
  /** beyond these the report names problems */
  limits?: CheckLimits;
  /** progress and connection lines */
  log(line: string): void;
  /** wall clock [ms], injectable */
  now?: () => number;
}

/** True if `topic` matches the MQTT topic filter `filter` (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // `#` and `+` at the first level do not match topics starting with `$` (MQTT 4.7.2)
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let k = 0; k < f.length; k++) {
    const level = f[k];
    if (level === '#') return true;
    if (k >= t.length) return false;
    if (level !== '+' && level !== t[k]) return false;
  }
  return f.length === t.length;
}

/** Checks a topic filter: `#` only last and alone in its level, `+` alone in its level. */
export function checkFilter(filter: string): string | null {
  if (filter === '') return 'the topic filter is empty';
  const levels = filter.split('/');
  for (let k = 0; k < levels.length; k++) {
    const l = levels[k] ?? '';
    if (l.includes('#') && (l !== '#' || k !== levels.length - 1)) return `"#" must be a whole last level (in "${filter}")`;
    if (l.includes('+') && l !== '+') return `"+" must be a whole level (in "${filter}")`;
  }
  return null;
}

function connectOnce(url: string, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { reconnectPeriod: 1000, connectTimeout: 5000, ...opts });
    const fail = (e: Error): void => {
      client.end(true);
      reject(new TwinlineError('IO', `cannot connect to the broker ${url}: ${e.message}`));
    };
    const timer = setTimeout(() => fail(new Error('no answer within 5 s')), 5000);
    client.once('connect', () => {
      clearTimeout(timer);
      client.removeListener('error', fail);
      resolve(client);
    });
    client.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
  });
}

/**
 * What `check` does with each message on its connection: the twin's UNS messages are truth,
 * the gateway's (matching `source`) deliveries; `at` is the arrival [ms].
 */
export function checkHandler(cat: Catalog, source: string, check: DeliveryCheck): (topic: string, payload: Uint8Array, retained: boolean, at: number) => void {
  const ix = tagIndex(cat.tags);
  const truthTopics = new Map(cat.tags.map((t) => [t.unsTopic, t.key]));
  return (topic, payload, retained, at) => {
    const truthKey = truthTopics.get(topic);
    if (truthKey !== undefined) {
      let v: unknown;
      try {
        v = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
      } catch {
        v = undefined;
      }
      const value = scalarOf(v);
      if (value !== undefined) check.truth(truthKey, value, at, retained);
    }
    if (!topicMatches(source, topic) || topic.split('/').some((l) => l.startsWith('$'))) return;
    if (retained) {
      check.message(true);
      return;
    }
    const found = extract(topic, payload, ix);
    if (found.length === 0) {
      check.noTag(topic);
      return;
    }
    check.message(false);
    for (const f of found) check.delivered(f.key, f.value, at);
  };
}

/** Listens for `durationMs` and reports what the gateway delivered against the twin. */
export async function runCheck(o: LiveCheckOptions): Promise<CheckReport> {
  const bad = checkFilter(o.source);
  if (bad !== null) throw new TwinlineError('USAGE', `--source: ${bad}`);
  const now = o.now ?? (() => performance.now());
  const cat = o.catalog;
  const check = new DeliveryCheck(cat.tags, o.tuning);
  const client = await connectOnce(o.broker, {
    clientId: `twinline-check-${process.pid}-${Math.floor(Math.random() * 1e6)}`, clean: true,
    ...(o.username === undefined ? {} : { username: o.username }), ...(o.password === undefined ? {} : { password: o.password }),
  });
  try {
    client.on('offline', () => o.log(`  broker ${o.broker} went away; reconnecting (changes meanwhile count as missed)`));
    client.on('reconnect', () => o.log('  reconnecting …'));
    const handle = checkHandler(cat, o.source, check);
    client.on('message', (topic, payload, packet) => handle(topic, payload, packet.retain, now()));
    const filters = [`${cat.prefix}/#`, o.source];
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) throw new TwinlineError('IO', `the broker ${o.broker} refused the subscription to ${refused.join(', ')}`);
    check.begin(now());
    o.log(`checking ${o.source} against the twin's ${cat.prefix}/# (${cat.tags.length} tags) on ${o.broker} for ${Math.round(o.durationMs / 1000)} s …`);
    // judge as it goes, so the queues of waiting deliveries stay short on long checks
    const ticker = setInterval(() => check.tick(now()), 1000);
    await new Promise((r) => setTimeout(r, o.durationMs));
    clearInterval(ticker);
    // a delivery the twin's stream has not caught up with yet is judged on what the twin
    // publishes in the next few seconds (a busy host's own stream runs behind OPC UA reads)
    check.close(now());
    const catchUpMs = o.tuning?.catchUpMs ?? DEFAULT_CHECK.catchUpMs;
    o.log(`window over; deliveries the twin's stream has not caught up with are judged within ${catchUpMs / 1000} s`);
    const catchUp = now() + catchUpMs;
    while (check.waiting() && now() < catchUp) {
      await new Promise((r) => setTimeout(r, 100));
      check.tick(now());
    }
    return check.report(now(), o.limits);
  } finally {
    await client.endAsync();
  }
}
