/**
 * `GET /api/network`: the host's protocol faces as the browser's network overlay draws them —
 * each face's endpoint, connected clients and message rates, each station's link to the OPC UA
 * and MQTT faces, and whether a face or link carries unusual traffic.
 *
 * Rates come from what the host can count without reaching into the faces: the MQTT face's
 * `stats()` (messages published, commands received, publishes the embedded broker refused),
 * the requests this HTTP server answered, and the drained event log (commands and rejections
 * by `source`, audit entries). OPC UA reads and subscription notifications are not counted by
 * the face, so its rate is its writes and method calls (commands with `source: 'opcua'`) and
 * audit entries. Clients are TCP connections established to a face's listening port (Linux
 * `/proc/net/tcp*`; null where that cannot be read, and for an external broker).
 *
 * "Unusual", for now: commands from that protocol that the line rejected, audit entries it
 * denied (refused logins, publishes outside a role) or publishes the embedded broker refused,
 * in the last 10 s.
 *
 * "Attack": while the range runs an attack from this host (`POST /api/attacks/run`), the
 * attacked face and what reaches the line through it during the run (commands and audit
 * entries, except the range's own observer's) are the attack's traffic, marked as such for
 * the run and the 10 s after it: an attack that gets through under the open profile is
 * refused nothing, so it would not be unusual otherwise. Its clients' principals are listed.
 */
import { readFileSync } from 'node:fs';
import type { SimEvent } from '../core/events.ts';
import type { MqttFace } from '../protocols/mqtt/face.ts';

/** Rates are averaged over this window [s]. */
export const RATE_WINDOW_S = 5;
/** Traffic is unusual if it was rejected or denied within this window [s]. */
export const UNUSUAL_WINDOW_S = 10;
/** traffic records kept at most (a flood is still counted up to this) */
const MAX_RECORDS = 50_000;
/** attack principals listed at most */
const MAX_PRINCIPALS = 20;
/** events of the run drain to the monitor up to this long after it ends (the host drains every 200 ms) [ms] */
const ATTACK_GRACE_MS = 1500;

/** One protocol face of the host. */
export interface FaceReport {
  id: 'opcua' | 'mqtt' | 'api';
  /** `opc.tcp`, `mqtt` or `http` */
  protocol: string;
  endpoint: string;
  /** MQTT over WebSocket endpoint of the embedded broker, else null */
  ws: string | null;
  /** MQTT over TLS endpoint of the embedded broker (`mqtts://`), else null */
  tls?: string | null;
  /** `embedded` or `external` (MQTT only, else null) */
  broker: 'embedded' | 'external' | null;
  /** TCP connections established to the face's port(s) now, or null when unknown */
  clients: number | null;
  /** connections that are the twin's own publishers (MQTT face links to the broker) */
  ownClients: number;
  /** messages per second over the last RATE_WINDOW_S [1/s] */
  rate: number;
  /** the rate by kind [1/s]: opcua writes, calls, audit; mqtt published, uns, sparkplug, commands, refused; api requests, pushed (live WebSocket messages), commands */
  rates: Record<string, number>;
  /** rejected commands, denied audits and refused publishes in the last UNUSUAL_WINDOW_S */
  rejected: number;
  unusual: boolean;
  /** the range's attack goes through this face (now, or within the last UNUSUAL_WINDOW_S) */
  attack: boolean;
}

/** A station's link to a face: the commands that reached that station through it. */
export interface LinkReport {
  station: string;
  face: 'opcua' | 'mqtt';
  /** commands (accepted or rejected) per second over the last RATE_WINDOW_S [1/s] */
  rate: number;
  /** rejected in the last UNUSUAL_WINDOW_S */
  rejected: number;
  unusual: boolean;
  /** the range's attack reached this station through this face within the last UNUSUAL_WINDOW_S */
  attack: boolean;
}

/** The range's attack: running, or ended within the last UNUSUAL_WINDOW_S. */
export interface AttackReportMark {
  id: string;
  title: string;
  face: AttackMark['face'];
  station: string;
  running: boolean;
  /** principals of the attack's traffic seen so far (at most MAX_PRINCIPALS) */
  principals: string[];
}

/** The body of `GET /api/network`. */
export interface NetworkReport {
  /** [s] */
  rateWindowS: number;
  unusualWindowS: number;
  faces: FaceReport[];
  links: LinkReport[];
  /** the range's attack, or null */
  attack: AttackReportMark | null;
}

/** An attack the range runs from this host. */
export interface AttackMark {
  id: string;
  title: string;
  face: 'opcua' | 'mqtt' | 'modbus' | 'api';
  station: string;
  /** principal prefix of the range's own observer (REST, `user@`): the instrument, not the attack */
  observer: string;
}

/** What the monitor reads; the faces start after the HTTP server, so they are looked up on demand. */
export interface NetworkSources {
  stations: readonly string[];
  http(): string | null;
  opcua(): string | null;
  mqtt(): { face: MqttFace; embedded: boolean } | null;
  /** wall clock [ms] (injectable for tests) */
  now?: () => number;
}

interface TrafficRecord {
  t: number;
  source: string;
  station: string | null;
  kind: 'command' | 'rejected' | 'denied' | 'audit';
  command: string;
  /** the range's attack's traffic */
  attack: boolean;
}

interface Counters {
  t: number;
  published: number;
  uns: number;
  sparkplug: number;
  commands: number;
  refused: number;
  requests: number;
  pushed: number;
}

/** Counts traffic for `GET /api/network`. */
export class NetworkMonitor {
  private readonly records: TrafficRecord[] = [];
  private readonly samples: Counters[] = [];
  private requests = 0;
  private pushed = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly now: () => number;
  /** the range's attack: since when, until when (null: running), its clients' principals */
  private attack: { mark: AttackMark; from: number; to: number | null; principals: Set<string> } | null = null;

  constructor(private readonly src: NetworkSources) {
    this.now = src.now ?? (() => performance.now());
    this.samples.push(this.counters());
    this.timer = setInterval(() => {
      this.samples.push(this.counters());
      const old = this.now() - 2 * UNUSUAL_WINDOW_S * 1000;
      while (this.samples.length > 2 && (this.samples[0]?.t ?? 0) < old) this.samples.shift();
    }, 1000);
    this.timer.unref();
  }

  /** Counts one HTTP request. */
  request(): void {
    this.requests++;
  }

  /** Counts one message pushed over the live WebSocket. */
  push(): void {
    this.pushed++;
  }

  /** An attack of the range begins: its traffic is marked until `attackEnded()` (and a moment after). */
  attackStarted(mark: AttackMark): void {
    this.attack = { mark, from: this.now(), to: null, principals: new Set() };
  }

  /** The range's attack is over. */
  attackEnded(): void {
    if (this.attack !== null && this.attack.to === null) this.attack.to = this.now();
  }

  /** Whether a record drained at `t` from `source` by `principal` is the attack's traffic. */
  private isAttack(t: number, source: string, principal: string): boolean {
    const a = this.attack;
    if (a === null || (a.to !== null && t > a.to + ATTACK_GRACE_MS) || source !== a.mark.face) return false;
    if (source === 'api' && principal.startsWith(a.mark.observer)) return false;
    if (a.principals.size < MAX_PRINCIPALS) a.principals.add(principal);
    return true;
  }

  /** Takes drained events (wire it into the host's event fan-out). */
  readonly onEvents = (evs: readonly SimEvent[]): void => {
    const t = this.now();
    for (const e of evs) {
      const kind = e.type === 'command' ? 'command' : e.type === 'rejected' ? 'rejected' : e.type === 'audit' ? (e.data.outcome === 'allowed' ? 'audit' : 'denied') : null;
      if (kind === null) continue;
      const source = String(e.data.source ?? '');
      const attack = this.isAttack(t, source, String(e.data.principal ?? ''));
      this.records.push({ t, source, station: e.station, kind, command: String(e.data.command ?? e.data.action ?? ''), attack });
    }
    const old = t - UNUSUAL_WINDOW_S * 1000;
    let drop = 0;
    while (drop < this.records.length && (this.records[drop]!.t < old || this.records.length - drop > MAX_RECORDS)) drop++;
    if (drop > 0) this.records.splice(0, drop);
  };

  /** The current report. */
  report(): NetworkReport {
    const now = this.now();
    const cur = this.counters();
    const from = this.samples.find((s) => s.t >= now - RATE_WINDOW_S * 1000 - 500) ?? this.samples[0]!;
    const dt = Math.max(0.001, (cur.t - from.t) / 1000);
    const per = (k: keyof Counters): number => round((cur[k] - from[k]) / dt);
    const rateFrom = now - RATE_WINDOW_S * 1000;
    const recent = this.records.filter((r) => r.t >= rateFrom);
    const count = (f: (r: TrafficRecord) => boolean, rs = recent): number => rs.filter(f).length;
    const perS = (n: number): number => round(n / RATE_WINDOW_S);
    const bad = (source: string): number => count((r) => r.source === source && (r.kind === 'rejected' || r.kind === 'denied'), this.records);
    // the attack shows while it runs and for UNUSUAL_WINDOW_S after it
    const a = this.attack !== null && (this.attack.to === null || now - this.attack.to < UNUSUAL_WINDOW_S * 1000) ? this.attack : null;
    const attacked = (face: string): boolean => a !== null && a.mark.face === face;
    const refusedLately = (): number => {
      const old = this.samples.find((s) => s.t >= now - UNUSUAL_WINDOW_S * 1000) ?? this.samples[0]!;
      return cur.refused - old.refused;
    };

    const faces: FaceReport[] = [];
    const links: LinkReport[] = [];
    const http = this.src.http();
    if (http !== null) {
      const rejected = bad('api');
      const commands = perS(count((r) => r.source === 'api' && r.kind !== 'audit'));
      faces.push({
        id: 'api', protocol: 'http', endpoint: `${http}api/`, ws: null, broker: null, clients: established(portOf(http)), ownClients: 0,
        rate: round(per('requests') + per('pushed')), rates: { requests: per('requests'), pushed: per('pushed'), commands }, rejected, unusual: rejected > 0, attack: attacked('api'),
      });
    }
    const opcua = this.src.opcua();
    if (opcua !== null) {
      const mine = (r: TrafficRecord): boolean => r.source === 'opcua';
      const writes = perS(count((r) => mine(r) && (r.kind === 'command' || r.kind === 'rejected') && r.command === 'set'));
      const calls = perS(count((r) => mine(r) && (r.kind === 'command' || r.kind === 'rejected') && r.command !== 'set'));
      const audit = perS(count((r) => mine(r) && (r.kind === 'audit' || r.kind === 'denied')));
      const rejected = bad('opcua');
      faces.push({
        id: 'opcua', protocol: 'opc.tcp', endpoint: opcua, ws: null, broker: null, clients: established(portOf(opcua)), ownClients: 0,
        rate: round(writes + calls + audit), rates: { writes, calls, audit }, rejected, unusual: rejected > 0, attack: attacked('opcua'),
      });
    }
    const mqtt = this.src.mqtt();
    if (mqtt !== null) {
      const st = mqtt.face.stats();
      const rejected = bad('mqtt') + refusedLately();
      const ports = mqtt.embedded ? [portOf(mqtt.face.url), ...[mqtt.face.wsUrl, mqtt.face.tlsUrl].filter((u) => u !== null).map(portOf)] : [];
      faces.push({
        id: 'mqtt', protocol: 'mqtt', endpoint: mqtt.face.url, ws: mqtt.face.wsUrl, tls: mqtt.face.tlsUrl, broker: mqtt.embedded ? 'embedded' : 'external',
        clients: mqtt.embedded ? established(...ports) : null, ownClients: (st.uns !== null ? 1 : 0) + (st.sparkplug !== null ? 1 : 0),
        rate: round(per('published') + per('commands')),
        rates: { published: per('published'), uns: per('uns'), sparkplug: per('sparkplug'), commands: per('commands'), refused: per('refused') },
        rejected, unusual: rejected > 0, attack: attacked('mqtt'),
      });
    }
    for (const face of ['opcua', 'mqtt'] as const) {
      if (!faces.some((f) => f.id === face)) continue;
      for (const station of this.src.stations) {
        const mine = (r: TrafficRecord): boolean => r.source === face && r.station === station;
        const rejected = count((r) => mine(r) && r.kind === 'rejected', this.records);
        const attack = a !== null && this.records.some((r) => r.attack && mine(r));
        links.push({ station, face, rate: perS(count((r) => mine(r) && (r.kind === 'command' || r.kind === 'rejected'))), rejected, unusual: rejected > 0, attack });
      }
    }
    const m = a?.mark;
    const attack = a === null || m === undefined ? null : { id: m.id, title: m.title, face: m.face, station: m.station, running: a.to === null, principals: [...a.principals] };
    return { rateWindowS: RATE_WINDOW_S, unusualWindowS: UNUSUAL_WINDOW_S, faces, links, attack };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private counters(): Counters {
    const st = this.src.mqtt()?.face.stats();
    const uns = st?.uns?.published ?? 0;
    const sparkplug = st?.sparkplug?.published ?? 0;
    return { t: this.now(), published: uns + sparkplug, uns, sparkplug, commands: st?.commands ?? 0, refused: st?.refused ?? 0, requests: this.requests, pushed: this.pushed };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'http:' ? 80 : u.protocol === 'opc.tcp:' ? 4840 : u.protocol === 'ws:' ? 80 : 1883));
}

/**
 * TCP connections in state ESTABLISHED whose local port is one of `ports` (the server side of
 * a client's connection), from Linux /proc/net/tcp and tcp6; null where they cannot be read.
 */
export function established(...ports: number[]): number | null {
  let n = 0;
  let read = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    read = true;
    for (const line of text.split('\n')) {
      // "  sl  local_address rem_address   st …": addresses are HEXIP:HEXPORT, st 01 = ESTABLISHED
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '01') continue;
      const port = parseInt(cols[1]?.split(':')[1] ?? '', 16);
      if (ports.includes(port)) n++;
    }
  }
  return read ? n : null;
}
