/**
 * The host's security alerts as the attached page follows them: `GET /api/alerts` polled
 * incrementally (`since` the last alert id, `acks` the last acknowledgement seq), so new alerts
 * and acknowledgements made elsewhere appear without a reload; `POST /api/alerts/ack` for an
 * operator and above. The page keeps the newest `MAX_ALERTS` alerts, newest first, with at most
 * `MAX_EVIDENCE` evidence lines each, so a host that raises alerts all day cannot grow it.
 *
 * What is "active" (marked on the 3D line and in the network overlay): not acknowledged and
 * raised within the last `ACTIVE_MS`, by the host's clock (the page estimates its offset from
 * the replies' Date header). A station is marked with the most severe of its active alerts; a
 * face (and its link to the station) where an alert's evidence names it as the source.
 */
import type { AlertAck, AlertPage, ServedAlert } from '../../../security/detectors/alert-log.ts';
import type { Severity } from '../../../security/detectors/config.ts';

export type { AlertAck, Severity };

/** An alert as the page keeps it. */
export type TwinAlert = ServedAlert;

/** Severities, least to most severe (as the host's detectors name them). */
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/**
 * Colours of the severities, after the warning colours of the ICS incident plan: red (I),
 * orange (II), yellow (III), blue (IV).
 */
export const SEVERITY_RGB: Readonly<Record<Severity, number>> = { critical: 0xff3b30, high: 0xff8a1f, medium: 0xf2c744, low: 0x58a6ff };

/** the page keeps at most this many alerts (the newest) */
export const MAX_ALERTS = 200;
/** evidence lines kept per alert */
export const MAX_EVIDENCE = 5;
/** alerts asked for per request */
const PAGE = 100;
/** requests one poll makes at most while catching up */
const MAX_PAGES_PER_POLL = 4;
/** an unacknowledged alert marks the line for this long after it was raised [ms] */
export const ACTIVE_MS = 10 * 60_000;
/** period of polls [ms] */
export const ALERT_POLL_MS = 2000;

/** Faces an alert's evidence can name (`source=…`) that the network overlay draws. */
export type AlertFace = 'opcua' | 'mqtt' | 'api';
const FACES: ReadonlySet<string> = new Set<AlertFace>(['opcua', 'mqtt', 'api']);

/** Where the page stands with the host's alerts. */
export type AlertStatus =
  /** standalone: no host, no detectors */
  | 'standalone'
  | 'loading'
  | 'ok'
  /** the host runs no detectors (`--detectors off`) */
  | 'off'
  /** the host refuses this account the alerts */
  | 'forbidden'
  /** the last read failed (the alerts shown are the last ones read) */
  | 'error';

/** What the panel shows; replaced (never mutated) on each change. */
export interface AlertState {
  status: AlertStatus;
  /** why the last read failed, or null */
  error: string | null;
  /** newest first, at most MAX_ALERTS */
  alerts: readonly TwinAlert[];
  /** alerts raised since the host started */
  raised: number;
  /** the detector families the host runs */
  detectors: readonly string[];
  /** host clock − page clock, estimated from the replies' Date header [ms] */
  skewMs: number;
}

/** The state of a page that has read nothing yet (or runs standalone). */
export function emptyAlerts(status: AlertStatus): AlertState {
  return { status, error: null, alerts: [], raised: 0, detectors: [], skewMs: 0 };
}

/**
 * The alerts of `page` added to `s` (newest first, capped, evidence trimmed) and its
 * acknowledgements applied. Ids already held are replaced (a re-read after a host restart).
 */
export function mergePage(s: AlertState, page: AlertPage): AlertState {
  let alerts: TwinAlert[] = s.alerts.slice();
  if (page.alerts.length > 0) {
    const fresh = page.alerts.map(trim).reverse();
    const ids = new Set(fresh.map((a) => a.id));
    alerts = [...fresh, ...alerts.filter((a) => !ids.has(a.id))].sort((a, b) => b.id - a.id);
    if (alerts.length > MAX_ALERTS) alerts.length = MAX_ALERTS;
  }
  if (page.acks.length > 0) {
    const acks = new Map(page.acks.map((a) => [a.id, a]));
    alerts = alerts.map((a) => (a.ack === null && acks.has(a.id) ? { ...a, ack: acks.get(a.id)! } : a));
  }
  return { ...s, status: page.detectors.length === 0 ? 'off' : 'ok', error: null, alerts, raised: page.raised, detectors: page.detectors };
}

/** `a` with its evidence cut to MAX_EVIDENCE lines. */
function trim(a: TwinAlert): TwinAlert {
  const e = a.evidence;
  return e.lines.length <= MAX_EVIDENCE && e.seqs.length <= MAX_EVIDENCE ? a : { ...a, evidence: { seqs: e.seqs.slice(0, MAX_EVIDENCE), lines: e.lines.slice(0, MAX_EVIDENCE) } };
}

/** The faces an alert's evidence names as its source (`source=opcua` …), that the overlay draws. */
export function alertFaces(a: TwinAlert): AlertFace[] {
  const out = new Set<AlertFace>();
  for (const line of a.evidence.lines) {
    const m = /(?:^| )source=(\w+)/.exec(line);
    if (m !== null && FACES.has(m[1]!)) out.add(m[1] as AlertFace);
  }
  return [...out];
}

/** Whether `a` is active at host time `nowMs` (see the module comment). */
export function isActive(a: TwinAlert, nowMs: number): boolean {
  return a.ack === null && a.alertMs >= nowMs - ACTIVE_MS;
}

/** What the active alerts mark: stations and faces with their most severe alert, and station↔face links. */
export interface AlertMarks {
  /** station id → severity */
  stations: Map<string, Severity>;
  /** face → severity and the rule of its most severe alert */
  faces: Map<AlertFace, { severity: Severity; rule: string }>;
  /** `station~face` of alerts that name both */
  links: Set<string>;
  /** active alerts counted */
  count: number;
  /** the most severe of them, or null when none is active */
  worst: Severity | null;
}

const rank = (s: Severity): number => SEVERITIES.indexOf(s);

/** The marks of the alerts active at host time `nowMs`. */
export function alertMarks(alerts: readonly TwinAlert[], nowMs: number): AlertMarks {
  const m: AlertMarks = { stations: new Map(), faces: new Map(), links: new Set(), count: 0, worst: null };
  for (const a of alerts) {
    if (!isActive(a, nowMs)) continue;
    m.count++;
    if (m.worst === null || rank(a.severity) > rank(m.worst)) m.worst = a.severity;
    const st = a.station;
    const had = st === null ? undefined : m.stations.get(st);
    if (st !== null && (had === undefined || rank(a.severity) > rank(had))) m.stations.set(st, a.severity);
    for (const f of alertFaces(a)) {
      const face = m.faces.get(f);
      if (face === undefined || rank(a.severity) > rank(face.severity)) m.faces.set(f, { severity: a.severity, rule: a.rule });
      if (st !== null) m.links.add(`${st}~${f}`);
    }
  }
  return m;
}

/** The keys of two marks are the same (nothing to redraw). */
export function sameMarks(a: AlertMarks, b: AlertMarks): boolean {
  const key = (m: AlertMarks): string => `${m.count}|${m.worst}|${[...m.stations].join()}|${[...m.faces].map(([f, v]) => `${f}:${v.severity}:${v.rule}`).join()}|${[...m.links].join()}`;
  return key(a) === key(b);
}

/** The request an `AlertFeed` makes: a path under the host, as `Session.fetch`. */
export type HostFetch = (path: string, init?: RequestInit) => Promise<Response>;

/**
 * Follows the host's alerts (see the module comment): a small external store for React
 * (`subscribe`, `get`), polling every `everyMs` until `close()`.
 */
export class AlertFeed {
  private state: AlertState = emptyAlerts('loading');
  private readonly listeners = new Set<() => void>();
  private since = 0;
  private acks = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;
  private closed = false;

  constructor(private readonly fetch: HostFetch, private readonly everyMs = ALERT_POLL_MS) {}

  readonly subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  readonly get = (): AlertState => this.state;

  /** Starts polling (one poll at once). */
  start(): this {
    if (this.timer === null && !this.closed) {
      void this.poll();
      this.timer = setInterval(() => void this.poll(), this.everyMs);
    }
    return this;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll: reads what is new (a few pages at most while catching up); never throws. */
  async poll(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      for (let k = 0; k < MAX_PAGES_PER_POLL; k++) {
        const page = await this.read();
        if (page === null || (page.alerts.length < PAGE && page.acks.length < PAGE)) break;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Reads one page and applies it; null when there is nothing more to read now. */
  private async read(): Promise<AlertPage | null> {
    let r: Response;
    try {
      r = await this.fetch(`api/alerts?since=${this.since}&acks=${this.acks}&limit=${PAGE}`);
    } catch (e) {
      this.fail('error', e instanceof Error ? e.message : String(e));
      return null;
    }
    if (this.closed) return null;
    const body = (await r.json().catch(() => null)) as (AlertPage & { error?: { message?: string } }) | null;
    if (r.status === 403) {
      this.fail('forbidden', body?.error?.message ?? 'HTTP 403');
      return null;
    }
    if (!r.ok || body === null || !Array.isArray(body.alerts) || !Array.isArray(body.acks ?? [])) {
      this.fail('error', body?.error?.message ?? `api/alerts: HTTP ${r.status}`);
      return null;
    }
    const page: AlertPage = { ...body, acks: body.acks ?? [], ackNext: body.ackNext ?? this.acks };
    const date = Date.parse(r.headers.get('date') ?? '');
    const skewMs = Number.isFinite(date) ? date - Date.now() : this.state.skewMs;
    if (page.raised < this.since) {
      // the host restarted its run: its alert ids began again
      this.since = 0;
      this.acks = 0;
      this.set({ ...emptyAlerts('loading'), skewMs });
      return page;
    }
    if (this.since === 0 && page.raised > MAX_ALERTS && page.alerts.length > 0 && page.alerts[0]!.id < page.raised - MAX_ALERTS) {
      // a first read of a long run: straight to the newest the page keeps
      this.since = page.raised - MAX_ALERTS;
      return page;
    }
    this.since = page.next;
    this.acks = page.ackNext;
    this.set({ ...mergePage(this.state, page), skewMs });
    return page;
  }

  /** Acknowledges alert `id` as the page's account; the reply's message when the host refuses. */
  async ack(id: number): Promise<{ ok: true } | { ok: false; message: string }> {
    let r: Response;
    try {
      r = await this.fetch('api/alerts/ack', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
    const body = (await r.json().catch(() => ({}))) as { ack?: AlertAck; error?: { message?: string } };
    if (!r.ok || body.ack === undefined) return { ok: false, message: body.error?.message ?? `HTTP ${r.status}` };
    const ack = body.ack;
    this.set({ ...this.state, alerts: this.state.alerts.map((a) => (a.id === id && a.ack === null ? { ...a, ack } : a)) });
    return { ok: true };
  }

  private fail(status: 'forbidden' | 'error', message: string): void {
    this.set({ ...this.state, status: status === 'error' && this.state.status === 'ok' ? 'ok' : status, error: message });
  }

  private set(s: AlertState): void {
    if (this.closed) return;
    this.state = s;
    for (const l of this.listeners) l();
  }
}
