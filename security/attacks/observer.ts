/**
 * The range's own view of the line while an attack runs: the REST API of the twin, logged in
 * as an account of the range's home (the instructor, whose password the home was created
 * with, or `TWINLINE_RANGE_USER` / `TWINLINE_RANGE_PASSWORD`). It is the instrument, not the
 * attacker: it reads the line's state and the event log (audit trail included) from before
 * the attack on, and puts the line back afterwards. Its own commands are left out of the
 * evidence.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TwinlineError } from '../../sim/core/errors.ts';
import type { LineInfo } from '../../sim/worker/twin-view.ts';
import { restCall, why, type Answer } from './clients/rest.ts';

/** An alert as `GET /api/alerts` returns it (security/detectors/engine.ts). */
export interface RangeAlert {
  id: number;
  detector: string;
  rule: string;
  severity: string;
  techniques: string[];
  title: string;
  firstEvidenceMs: number;
  alertMs: number;
}

/** An event as `GET /api/events` returns it. */
export interface Ev {
  seq: number;
  tick: number;
  type: string;
  station: string | null;
  data: Record<string, unknown>;
}

/** A station as `GET /api/state` shows it, tags by name. */
export interface StationView {
  id: string;
  state: string;
  mode: string;
  fault: string;
  alarms: number;
  tags: Record<string, number>;
}

/** The line at one moment. */
export interface LineView {
  /** line time [s] */
  simTime: number;
  kpis: { scrapped: number; escaped: number; good: number; shipped: number };
  stations: Map<string, StationView>;
}

/** PackML states in which a station makes (or waits for) parts: anything else is downtime. */
export const PRODUCING: ReadonlySet<string> = new Set(['Execute', 'Suspending', 'Suspended', 'Unsuspending']);
/** states in which the unit mode may change */
const MODE_CHANGE: ReadonlySet<string> = new Set(['Stopped', 'Idle', 'Aborted', 'Complete']);
const MODES: Readonly<Record<string, number>> = { Production: 1, Maintenance: 2, Manual: 3 };
/** the host drains events every 200 ms: what happened just now is in the log after this [ms] */
const SETTLE_MS = 700;
/** evidence lines kept from the event log at most */
const MAX_TRAIL = 40;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An account of the range's home: the instructor's initial password, or the one in the environment. */
export function rangeAccount(home: string): { user: string; password: string } | null {
  const user = process.env.TWINLINE_RANGE_USER;
  const password = process.env.TWINLINE_RANGE_PASSWORD;
  if (user !== undefined && password !== undefined) return { user, password };
  const file = join(home, 'initial-passwords.txt');
  if (!existsSync(file)) return null;
  const rows = readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).map((l) => l.split('\t'));
  // a reset or revoked account's line says so in parentheses instead of a password
  const usable = rows.filter((r) => r.length >= 3 && r[2] !== '' && !/^\(.*\)$/.test(r[2] ?? ''));
  const pick = ['instructor', 'engineer', 'operator', 'viewer'].map((role) => usable.find((r) => r[1] === role)).find((r) => r !== undefined);
  return pick === undefined ? null : { user: pick[0]!, password: pick[2]! };
}

/**
 * An account of the range's home with `role` (initial password), or null: the legitimate
 * client an attack needs beside itself (a gateway whose session is taken over, a client
 * whose traffic is sniffed) logs in with it, never the attacker.
 */
export function rangeAccountOf(home: string, role: string): { user: string; password: string } | null {
  const file = join(home, 'initial-passwords.txt');
  if (!existsSync(file)) return null;
  const row = readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).map((l) => l.split('\t'))
    .find((r) => r.length >= 3 && r[1] === role && r[2] !== '' && !/^\(.*\)$/.test(r[2] ?? ''));
  return row === undefined ? null : { user: row[0]!, password: row[2]! };
}

/** See the module comment. */
export class Observer {
  private constructor(
    readonly base: URL,
    private readonly token: string,
    /** the range's account */
    readonly user: string,
    readonly role: string,
    readonly line: LineInfo,
    /** the twin's security profile (`open`, `hardened`), as it reports it */
    readonly profile: string,
    /** the last event before the attack */
    private readonly mark: number,
    /** the range's home */
    private readonly home: string,
  ) {}

  /**
   * The embedded broker's MQTT over TLS endpoint as the twin reports it (`GET /api/network`) and
   * the certificate to verify it with (from the range's home), or null when it offers none.
   */
  async mqttTls(): Promise<{ url: URL; ca: Buffer | null } | null> {
    const faces = (await this.get('api/network')).body.faces;
    const mqtt = Array.isArray(faces) ? (faces as { id?: unknown; tls?: unknown }[]).find((f) => f.id === 'mqtt') : undefined;
    if (typeof mqtt?.tls !== 'string') return null;
    const file = join(this.home, 'mqtt', 'tls', 'own', 'certs', 'mqtt-broker.pem');
    return { url: new URL(mqtt.tls), ca: existsSync(file) ? readFileSync(file) : null };
  }

  /** An account of the range's home with `role`, for a legitimate client the attack runs beside itself; null when there is none. */
  account(role: string): { user: string; password: string } | null {
    return rangeAccountOf(this.home, role);
  }

  /** Logs in to the twin at `base` with an account of `home`. */
  static async open(base: URL, home: string): Promise<Observer> {
    const account = rangeAccount(home);
    if (account === null) {
      throw new TwinlineError('BAD_ARGUMENT', `no account of the range to measure the impact with: ${join(home, 'initial-passwords.txt')} is missing or stale (give --home, or set TWINLINE_RANGE_USER and TWINLINE_RANGE_PASSWORD)`);
    }
    let login: Answer;
    try {
      login = await restCall(base, 'api/login', { method: 'POST', body: JSON.stringify(account), headers: { 'content-type': 'application/json' } });
    } catch (e) {
      const cause = (e as { code?: string }).code ?? (e as Error).message;
      throw new TwinlineError('IO', `cannot reach the range's web address ${base.href} (${cause}): is twinline serve running there?`, { endpoint: base.href });
    }
    if (login.status !== 200 || typeof login.body.token !== 'string') {
      throw new TwinlineError('BAD_ARGUMENT', `the range's account "${account.user}" cannot log in to ${base.href}: ${why(login)}`, { endpoint: base.href });
    }
    return Observer.attach(base, { token: login.body.token, user: account.user, role: String(login.body.role) }, home);
  }

  /**
   * Observes the twin at `base` with a bearer token the twin issued (a run the twin launches
   * itself, as the instructor who asked for it); `home` is the range's home (its accounts, the
   * broker's certificate); `close()` revokes the token.
   */
  static async attach(base: URL, as: { token: string; user: string; role: string }, home: string): Promise<Observer> {
    const { token } = as;
    const auth = { authorization: `Bearer ${token}` };
    const line = (await restCall(base, 'api/line', { headers: auth })).body as unknown as LineInfo;
    const profile = String((await restCall(base, 'api/whoami', { headers: auth })).body.profile ?? '?');
    let mark = -1;
    for (;;) {
      const page = (await restCall(base, `api/events?since=${mark}&limit=2000`, { headers: auth })).body as { events: Ev[]; next: number; more: boolean };
      mark = page.next;
      if (!page.more) break;
    }
    return new Observer(base, token, as.user, as.role, line, profile, mark, home);
  }

  private get(path: string): Promise<Answer> {
    return restCall(this.base, path, { headers: { authorization: `Bearer ${this.token}` } });
  }

  /**
   * The detectors' alerts raised at or after `fromMs` (wall time, ms since the epoch), or null
   * when the twin serves none (an older host, or one answering with an error).
   */
  async alerts(fromMs: number): Promise<RangeAlert[] | null> {
    try {
      const a = await this.get(`api/alerts?from=${Math.floor(fromMs)}&limit=2000`);
      const list = (a.body as { alerts?: unknown }).alerts;
      return a.status === 200 && Array.isArray(list) ? (list as RangeAlert[]) : null;
    } catch {
      return null;
    }
  }

  /** Whether the twin runs detectors (its alert page names the detector families); false when it serves no alerts. */
  async detectors(): Promise<boolean> {
    const a = await this.get('api/alerts?limit=1');
    const names = (a.body as { detectors?: unknown }).detectors;
    return a.status === 200 && Array.isArray(names) && names.length > 0;
  }

  /** The line now. */
  async view(): Promise<LineView> {
    const body = (await this.get('api/state')).body as {
      simTime: number; kpis: LineView['kpis'];
      stations: { id: string; state: string; mode: string; fault: string; alarms: number; tags: number[] }[];
    };
    const stations = new Map<string, StationView>();
    for (const s of body.stations ?? []) {
      const info = this.line.stations.find((x) => x.id === s.id);
      const tags: Record<string, number> = {};
      info?.tags.forEach((t, k) => (tags[t.name] = s.tags[k] ?? NaN));
      stations.set(s.id, { id: s.id, state: s.state, mode: s.mode, fault: s.fault, alarms: s.alarms, tags });
    }
    return { simTime: body.simTime, kpis: body.kpis, stations };
  }

  /** One station now. */
  async station(id: string): Promise<StationView> {
    const s = (await this.view()).stations.get(id);
    if (s === undefined) throw new TwinlineError('UNKNOWN_TARGET', `the line has no station "${id}"`);
    return s;
  }

  /** Every event since the attack began, oldest first. */
  async events(): Promise<Ev[]> {
    const all: Ev[] = [];
    let since = this.mark;
    for (;;) {
      const a = await this.get(`api/events?since=${since}&limit=2000`);
      const page = a.body as { events?: Ev[]; next: number; more: boolean };
      if (!Array.isArray(page.events)) throw new TwinlineError('IO', `the range's event log cannot be read: ${why(a)}`, { endpoint: this.base.href });
      all.push(...page.events);
      if (!page.more || page.events.length === 0) return all;
      since = page.next;
    }
  }

  /**
   * The event log since the attack began as evidence lines: audit entries, commands accepted
   * and refused, and the aimed-at station's state, mode, alarms and interlocks. Waits up to
   * `ms` until `until` holds, and at least `SETTLE_MS` (the host drains the line's events to
   * the log a few times a second, so the last ones need a moment to show).
   */
  async trail(station: string, until: (evs: Ev[]) => boolean = () => true, ms = 3000): Promise<{ events: Ev[]; lines: string[] }> {
    const end = Date.now() + ms;
    await sleep(SETTLE_MS);
    let evs = await this.events();
    while (!until(evs) && Date.now() < end) {
      await sleep(200);
      evs = await this.events();
    }
    const mine = `${this.user}@`;
    const relevant = evs.filter((e) => {
      // the range's own requests (REST, as its account) are the instrument, not the attack; nor
      // is the range's own record of the run (source `attack`: a run launched from the web twin)
      if ((e.data.source === 'api' && String(e.data.principal ?? '').startsWith(mine)) || e.data.source === 'scenario' || e.data.source === 'attack') return false;
      if (e.type === 'audit' || e.type === 'command' || e.type === 'rejected') return true;
      return e.station === station && ['state', 'mode', 'alarm', 'alarm-clear', 'interlock'].includes(e.type);
    });
    const lines = summarize(relevant);
    if (lines.length > MAX_TRAIL) lines.splice(MAX_TRAIL, lines.length - MAX_TRAIL, `… and ${lines.length - MAX_TRAIL} more lines`);
    return { events: evs, lines };
  }

  /** Sends a command as the range's account. */
  command(target: string, command: string, args: Record<string, number | string> = {}): Promise<Answer> {
    return restCall(this.base, 'api/commands', {
      method: 'POST', body: JSON.stringify({ target, command, args }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
    });
  }

  /** Waits until the station's state passes `ok` (or `ms` ran out); the last view. */
  async waitState(station: string, ok: (state: string) => boolean, ms: number): Promise<StationView> {
    const end = Date.now() + ms;
    let s = await this.station(station);
    while (!ok(s.state) && Date.now() < end) {
      await sleep(150);
      s = await this.station(station);
    }
    return s;
  }

  /**
   * Puts a station back as `before` was: its setpoints and parameters (safety limits in unit
   * mode Maintenance), its unit mode, and production (a line start). Returns what it did.
   */
  async restore(station: string, before: StationView): Promise<string[]> {
    const did: string[] = [];
    const info = this.line.stations.find((s) => s.id === station);
    let now = await this.station(station);
    const changed = (info?.tags ?? []).filter((t) => t.access === 'rw' && Number.isFinite(before.tags[t.name]) && before.tags[t.name] !== now.tags[t.name]);
    const safety = changed.filter((t) => t.write === 'safety');
    const stopFirst = async (): Promise<void> => {
      if (MODE_CHANGE.has(now.state)) return;
      await this.command(station, 'stop');
      now = await this.waitState(station, (s) => MODE_CHANGE.has(s), 15_000);
      did.push(`stopped ${station}`);
    };
    for (const t of changed.filter((x) => x.write !== 'safety')) {
      const r = await this.command(station, 'set', { field: t.name, value: before.tags[t.name]! });
      did.push(`${station}.${t.name} back to ${before.tags[t.name]} (${r.status === 200 ? 'ok' : why(r)})`);
    }
    if (safety.length > 0) {
      await stopFirst();
      await this.command(station, 'mode', { mode: MODES.Maintenance! });
      for (const t of safety) {
        const r = await this.command(station, 'set', { field: t.name, value: before.tags[t.name]! });
        did.push(`${station}.${t.name} back to ${before.tags[t.name]} (${r.status === 200 ? 'ok' : why(r)})`);
      }
      now = await this.station(station);
    }
    if (now.mode !== before.mode && MODES[before.mode] !== undefined) {
      await stopFirst();
      const r = await this.command(station, 'mode', { mode: MODES[before.mode]! });
      did.push(`${station} unit mode back to ${before.mode} (${r.status === 200 ? 'ok' : why(r)})`);
    }
    now = await this.station(station);
    if (PRODUCING.has(before.state) && !PRODUCING.has(now.state)) {
      // a line start latches every station back through Clearing / Resetting / Starting to Execute
      await this.command('line', 'start');
      now = await this.waitState(station, (s) => PRODUCING.has(s), 20_000);
      did.push(`line started: ${station} ${now.state}`);
    }
    return did;
  }

  /** Logs the range's account out. */
  async close(): Promise<void> {
    await restCall(this.base, 'api/logout', { method: 'POST', headers: { authorization: `Bearer ${this.token}` } }).catch(() => undefined);
  }
}

/** the same command from the same sender this many times in a row is one line */
const RUN = 3;
/** the same audit verdict this many times in a row (a flood: a session or connection each) is one line */
const AUDIT_RUN = 10;

/** The key under which consecutive events fold into one line (null: never folded). */
function runKey(e: Ev): string | null {
  const d = e.data;
  if (e.type === 'command' || e.type === 'rejected') return [e.type, e.station, d.source, d.command, d.principal, d.role, d.code].map(String).join('|');
  // audit entries of one verdict differ by principal (a session each): one line, the first principal named
  if (e.type === 'audit') return [e.type, d.source, d.action, d.outcome, d.target, d.reason].map(String).join('|');
  return null;
}

/** Evidence lines of events, a run of like events folded into one (`events #4–#9 6 × …`). */
export function summarize(evs: readonly Ev[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < evs.length; ) {
    const key = runKey(evs[k]!);
    let n = 1;
    while (key !== null && k + n < evs.length && runKey(evs[k + n]!) === key) n++;
    if (n < (evs[k]!.type === 'audit' ? AUDIT_RUN : RUN)) {
      for (let j = 0; j < n; j++) out.push(describe(evs[k + j]!));
    } else {
      const first = evs[k]!;
      const span = `events #${first.seq}–#${evs[k + n - 1]!.seq} ${n} × `;
      if (first.type === 'audit') {
        const d = first.data;
        const tail = `${String(d.target ?? '') === '' ? '' : ` on ${String(d.target)}`}${String(d.reason ?? '') === '' ? '' : `: ${String(d.reason)}`}`;
        out.push(`${span}audit: ${String(d.source)} ${String(d.action)} ${String(d.outcome)} for ${String(d.principal)} and ${n - 1} others${tail}`);
      }
      else {
        const args = evs.slice(k, k + n).map((e) => String(e.data.args ?? '')).join(', ');
        const head = describe({ ...first, data: { ...first.data, args: '{}' } }).replace(/^event #\d+ /, span);
        out.push(`${head}; args ${args.length > 400 ? `${args.slice(0, 400)}…` : args}`);
      }
    }
    k += n;
  }
  return out;
}

/** One event as an evidence line. */
export function describe(e: Ev): string {
  const d = e.data;
  const s = (k: string): string => String(d[k] ?? '');
  const at = `event #${e.seq}`;
  switch (e.type) {
    case 'audit':
      return `${at} audit: ${s('source')} ${s('action')} ${s('outcome')} for ${s('principal')}${s('target') === '' ? '' : ` on ${s('target')}`}${s('reason') === '' ? '' : `: ${s('reason')}`}`;
    case 'command':
    case 'rejected': {
      const args = s('args') === '{}' || s('args') === '' ? '' : ` ${s('args')}`;
      const role = s('role') === '' ? '' : ` (${s('role')})`;
      const head = `${at} ${e.type === 'command' ? 'command accepted' : 'command rejected'}: ${s('source')} ${s('command')}${args} on ${e.station ?? 'line'} by ${s('principal')}${role}`;
      return e.type === 'command' ? head : `${head}: ${s('code')} ${s('reason')}`;
    }
    case 'state':
      return `${at} ${e.station} ${s('from')} → ${s('to')}${s('cause') === '' ? '' : ` (${s('cause')})`}`;
    case 'mode':
      return `${at} ${e.station} unit mode ${s('from')} → ${s('to')}`;
    case 'alarm':
    case 'alarm-clear':
      return `${at} ${e.station} alarm ${s('code')} ${e.type === 'alarm' ? 'raised' : 'cleared'}`;
    case 'interlock':
      return `${at} ${e.station} interlock ${d.tripped === true ? 'tripped' : 'reset'}`;
    default:
      return `${at} ${e.type}`;
  }
}

/** Whether the log holds a refusal (an audit entry denied or failed, or a rejected command) other than of the range's own requests. */
export function refused(evs: readonly Ev[], rangeUser: string): boolean {
  return evs.some((e) => (e.type === 'rejected' || (e.type === 'audit' && e.data.outcome !== 'allowed')) && !(e.data.source === 'api' && String(e.data.principal ?? '').startsWith(`${rangeUser}@`)));
}
