/**
 * The line side of incident response: known-good snapshots of every station's setpoints and
 * parameters (one as the host starts, more on demand), writing back what differs from one, a
 * station stopped safely (PackML Stop, never Abort; Manual so no line start restarts it) and
 * sequenced back to Execute. Everything goes through the line's one command queue as the
 * responder (`source: 'api'`, their principal and role), so the event log and the audit trail
 * show who put the line back, and the line refuses what their role may not do.
 */
import type { Command, CommandResult, Role, WriteLevel } from '../core/commands.ts';
import { COMMON_FIELDS } from '../core/station.ts';
import { FAULT_NAMES } from '../core/station.ts';
import type { World } from '../core/world.ts';
import { Mode, MODE_NAMES, STATE_NAMES } from '../plc/packml.ts';
import type { AsyncApi, SimApi } from '../worker/api.ts';

/** A known-good snapshot: every writable field of every station. */
export interface SetpointSnapshot {
  /** 1, 2, …; the host's start snapshot is 1 */
  id: number;
  label: string;
  /** [ms since the epoch] */
  atMs: number;
  tick: number;
  /** station → field → value */
  values: Record<string, Record<string, number>>;
}

/** What an action on the line did: effects, what failed or waits, and the station's state after. */
export interface LineOutcome {
  did: string[];
  problems: string[];
}

/** Who acts. */
export interface Actor {
  principal: string;
  role: Role;
}

/** snapshots kept (the start snapshot is always kept) */
export const MAX_SNAPSHOTS = 20;
/** how long a station may take to reach a state it was sent to [ms, wall] */
const SETTLE_MS = 20_000;
const POLL_MS = 100;
/** states in which the unit mode may change */
const MODE_CHANGE: ReadonlySet<string> = new Set(['Stopped', 'Idle', 'Aborted', 'Complete']);
const PRODUCING: ReadonlySet<string> = new Set(['Execute', 'Suspending', 'Suspended', 'Unsuspending']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const same = (a: number, b: number): boolean => a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** See the module comment. */
export class LineActions {
  private readonly list: SetpointSnapshot[] = [];
  private next = 1;
  /** station → writable field → its write level */
  private readonly fields: Map<string, Map<string, WriteLevel>>;

  constructor(private readonly o: { api: AsyncApi<SimApi>; reader: World; tick(): number; now?: () => number }) {
    const r = o.reader;
    this.fields = new Map(r.ids.map((id, s) => {
      const m = new Map<string, WriteLevel>();
      for (const [name, f] of Object.entries(COMMON_FIELDS)) if (f.access === 'rw') m.set(name, 'engineer');
      for (const [name, f] of Object.entries(r.kindOf[s]?.fields ?? {})) if (f.access === 'rw') m.set(name, f.write ?? 'engineer');
      return [id, m];
    }));
  }

  /** Whether the line has station `id`. */
  has(id: string): boolean {
    return this.fields.has(id);
  }

  get stations(): readonly string[] {
    return this.o.reader.ids;
  }

  /** Keeps every station's writable fields now as a snapshot. */
  take(label: string): SetpointSnapshot {
    const r = this.o.reader;
    const values = r.readConsistent(() => {
      const out: Record<string, Record<string, number>> = {};
      r.ids.forEach((id, s) => {
        const v: Record<string, number> = {};
        for (const f of this.fields.get(id)?.keys() ?? []) v[f] = r.read(s, f);
        out[id] = v;
      });
      return out;
    }).value;
    const snap: SetpointSnapshot = { id: this.next++, label, atMs: (this.o.now ?? Date.now)(), tick: this.o.tick(), values };
    this.list.push(snap);
    // the start snapshot stays; the oldest of the others goes
    if (this.list.length > MAX_SNAPSHOTS) this.list.splice(1, 1);
    return snap;
  }

  /** The snapshots, oldest first (values left out). */
  snapshots(): Omit<SetpointSnapshot, 'values'>[] {
    return this.list.map(({ values: _v, ...rest }) => rest);
  }

  /** `start`, `latest` or an id; null when there is none such. */
  find(ref: string): SetpointSnapshot | null {
    if (ref === 'start') return this.list[0] ?? null;
    if (ref === 'latest') return this.list[this.list.length - 1] ?? null;
    return this.list.find((s) => s.id === Number(ref)) ?? null;
  }

  /** Fields of `stations` whose value differs from the snapshot now. */
  differing(snap: SetpointSnapshot, stations: readonly string[] = this.o.reader.ids): { station: string; field: string; now: number; want: number; level: WriteLevel }[] {
    const r = this.o.reader;
    return r.readConsistent(() => {
      const out: { station: string; field: string; now: number; want: number; level: WriteLevel }[] = [];
      for (const id of stations) {
        const s = r.indexOf(id);
        for (const [field, want] of Object.entries(snap.values[id] ?? {})) {
          const now = r.read(s, field);
          if (!same(now, want)) out.push({ station: id, field, now, want, level: this.fields.get(id)?.get(field) ?? 'engineer' });
        }
      }
      return out;
    }).value;
  }

  /** A station's PackML state, unit mode and fault by name. */
  status(id: string): { state: string; mode: string; fault: string } {
    const r = this.o.reader;
    const s = r.indexOf(id);
    const [st, md, ft] = r.readConsistent(() => [r.read(s, 'state'), r.read(s, 'mode'), r.read(s, 'fault')]).value;
    return { state: STATE_NAMES[st!] ?? String(st), mode: MODE_NAMES[md!] ?? String(md), fault: FAULT_NAMES[ft!] ?? String(ft) };
  }

  private send(who: Actor, target: string, command: string, args?: Command['args']): Promise<CommandResult> {
    return this.o.api.send({ target, command, ...(args === undefined ? {} : { args }), source: 'api', principal: who.principal, role: who.role });
  }

  /** Sends a command; an effect line, or a problem line when the line refused it. */
  private async step(who: Actor, out: LineOutcome, target: string, command: string, args: Command['args'] | undefined, effect: string): Promise<boolean> {
    const r = await this.send(who, target, command, args);
    if (r.ok) out.did.push(effect);
    else out.problems.push(`${effect}: refused by the line (${r.code}: ${r.reason})`);
    return r.ok;
  }

  /** Waits until the station's state passes `ok` or `ms` ran out; the last state. */
  private async until(id: string, ok: (state: string) => boolean, ms = SETTLE_MS): Promise<string> {
    const end = Date.now() + ms;
    let s = this.status(id).state;
    while (!ok(s) && Date.now() < end) {
      await sleep(POLL_MS);
      s = this.status(id).state;
    }
    return s;
  }

  /**
   * Writes back every field of `stations` that differs from `snap`. Safety limits only with
   * `safety`: the station is stopped, put in Maintenance, written, and brought back to its mode
   * and, if it was producing, to Execute.
   */
  async restore(who: Actor, snap: SetpointSnapshot, stations: readonly string[], safety: boolean): Promise<LineOutcome> {
    const out: LineOutcome = { did: [], problems: [] };
    const diff = this.differing(snap, stations);
    for (const d of diff.filter((x) => x.level !== 'safety')) {
      await this.step(who, out, d.station, 'set', { field: d.field, value: d.want }, `${d.station}.${d.field} ${d.now} → ${d.want}`);
    }
    const limits = diff.filter((x) => x.level === 'safety');
    if (limits.length > 0 && !safety) {
      for (const d of limits) out.problems.push(`${d.station}.${d.field} ${d.now} ≠ ${d.want}: a safety limit; restore-setpoints with safety: true stops the station and writes it in Maintenance`);
    }
    if (limits.length > 0 && safety) {
      for (const id of [...new Set(limits.map((d) => d.station))]) {
        const was = this.status(id);
        if (!(await this.safeStop(who, out, id))) continue;
        if (!(await this.step(who, out, id, 'mode', { mode: Mode.maintenance }, `${id} unit mode Maintenance`))) continue;
        for (const d of limits.filter((x) => x.station === id)) await this.step(who, out, id, 'set', { field: d.field, value: d.want }, `${id}.${d.field} ${d.now} → ${d.want} (safety limit)`);
        const back = MODE_NAMES.indexOf(was.mode);
        if (back > 0) await this.step(who, out, id, 'mode', { mode: back }, `${id} unit mode back to ${was.mode}`);
        if (PRODUCING.has(was.state)) await this.resume(who, id, out);
      }
    }
    return out;
  }

  /** Stops a station (PackML Stop) and waits for a state the unit mode may change in; false when it did not get there. */
  private async safeStop(who: Actor, out: LineOutcome, id: string): Promise<boolean> {
    const s = this.status(id).state;
    if (MODE_CHANGE.has(s)) return true;
    // Stop is refused while Stopping, Aborting or Clearing: wait for those to end instead
    if (!['Stopping', 'Aborting', 'Clearing'].includes(s) && !(await this.step(who, out, id, 'stop', undefined, `${id} stop (was ${s})`))) return false;
    const after = await this.until(id, (x) => MODE_CHANGE.has(x));
    if (!MODE_CHANGE.has(after)) {
      out.problems.push(`${id} did not come to rest in ${SETTLE_MS / 1000} s (${after})`);
      return false;
    }
    out.did.push(`${id} ${after}`);
    return true;
  }

  /** Stops a station safely; with `manual`, switches it to unit mode Manual. */
  async stop(who: Actor, id: string, manual: boolean): Promise<LineOutcome> {
    const out: LineOutcome = { did: [], problems: [] };
    if (!(await this.safeStop(who, out, id))) return out;
    if (manual && this.status(id).mode !== 'Manual') await this.step(who, out, id, 'mode', { mode: Mode.manual }, `${id} unit mode Manual (no line start restarts it)`);
    return out;
  }

  /** Unit mode Production and the station sequenced back to Execute: clear, reset, start as its state asks. */
  async resume(who: Actor, id: string, out: LineOutcome = { did: [], problems: [] }): Promise<LineOutcome> {
    const end = Date.now() + SETTLE_MS * 2;
    let last = '';
    while (Date.now() < end) {
      const st = this.status(id);
      if (st.fault !== 'none') {
        out.problems.push(`${id} has fault "${st.fault}": it is repaired first (an engineer's repair, or its time to repair)`);
        return out;
      }
      if (PRODUCING.has(st.state) && st.mode === 'Production') {
        out.did.push(`${id} ${st.state} in Production`);
        return out;
      }
      const key = `${st.state}|${st.mode}`;
      if (key !== last) {
        last = key;
        if (st.mode !== 'Production' && MODE_CHANGE.has(st.state)) {
          if (!(await this.step(who, out, id, 'mode', { mode: Mode.production }, `${id} unit mode Production`))) return out;
          continue;
        }
        if (st.mode !== 'Production' && PRODUCING.has(st.state)) {
          if (!(await this.safeStop(who, out, id))) return out;
          continue;
        }
        const next = ({ Aborted: 'clear', Stopped: 'reset', Complete: 'reset', Idle: 'start', Held: 'unhold' } as Record<string, string>)[st.state];
        if (next !== undefined && !(await this.step(who, out, id, next, undefined, `${id} ${next} (was ${st.state})`))) return out;
      }
      await sleep(POLL_MS);
    }
    const st = this.status(id);
    out.problems.push(`${id} is ${st.state} in ${st.mode} after ${(SETTLE_MS * 2) / 1000} s`);
    return out;
  }
}
