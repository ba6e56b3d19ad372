/**
 * The checks a schema cannot make: machine kinds and their parameters (names, units, ranges),
 * station references, and whether every part has a way to a sink. Runs on the migrated record
 * even when it has shape errors, skipping what it cannot read, so one pass reports every
 * problem of a file. The LineSpec it returns is only meaningful when no problem was found.
 */
import { COMMON_FIELDS } from '../core/station.ts';
import type { FieldSpec, MachineKind } from '../core/types.ts';
import { MACHINE_KINDS, machineKind } from '../machines/index.ts';
import { didYouMean, type Path, type ProblemList } from './locate.ts';
import { isRec, type Rec } from './migrate.ts';
import { FAULT_CODES, SCENARIO_VERSION, STATION_SYSTEMS } from './schema.ts';
import type { Label, LineSpec, PlannedBreak, ScheduledFault, ScheduledSet, StationSpec, StationSystem } from './types.ts';
import { formatQuantity, QUANTITY_PATTERN, splitQuantity, toFieldUnit } from './units.ts';
import { resolveCrews } from './crews.ts';

/** Default spacing of stations without `at` along x [m]. */
export const DEFAULT_SPACING = 4;

/** Unit and limits a value is converted to and checked against. */
export interface QtySpec {
  unit: string;
  min?: number | undefined;
  max?: number | undefined;
  /** exclusive lower bound */
  above?: number;
  integer?: boolean | undefined;
  /** a difference of temperatures: converted without the offset */
  interval?: boolean | undefined;
}

/** A text value, or the fallback; never `String(x)`, which runs a YAML mapping's own `toString` key. */
const str = (x: unknown, fallback: string): string => (typeof x === 'string' ? x : fallback);

const TIME_SPEC: QtySpec = { unit: 's', min: 0, max: 1e9 };

/** The field `name` of stations of `kind`: common fields first, as the world resolves them. */
export function fieldOf(kind: MachineKind, name: string): FieldSpec | undefined {
  if (Object.hasOwn(COMMON_FIELDS, name)) return (COMMON_FIELDS as Readonly<Record<string, FieldSpec>>)[name];
  return Object.hasOwn(kind.fields, name) ? kind.fields[name] : undefined;
}

/** Parameter names (read-write fields) of stations of `kind`, common ones first. */
export function parameterNames(kind: MachineKind): string[] {
  const out: string[] = [];
  for (const [n, f] of Object.entries(COMMON_FIELDS)) if (f.access === 'rw') out.push(n);
  for (const [n, f] of Object.entries(kind.fields)) if (f.access === 'rw' && !out.includes(n)) out.push(n);
  return out;
}

/** The resolver's checks other modules of the loader use. */
export interface ResolverChecks {
  readonly out: ProblemList;
  qty(raw: unknown, path: Path, spec: QtySpec): number | undefined;
  label(raw: unknown, fallback: string): Label;
  ref(raw: unknown, path: Path, ids: ReadonlyMap<string, number>, what: string): number;
}

class Resolver implements ResolverChecks {
  constructor(readonly out: ProblemList) {}

  /** Converts and checks a quantity; undefined when absent, malformed (the schema says so) or bad. */
  qty(raw: unknown, path: Path, spec: QtySpec): number | undefined {
    if (typeof raw === 'number' && !Number.isFinite(raw)) return undefined;
    if (typeof raw !== 'number' && (typeof raw !== 'string' || !QUANTITY_PATTERN.test(raw))) return undefined;
    const c = toFieldUnit(raw, spec.unit, spec.interval === true);
    if (!c.ok) {
      this.out.add(c.code, c.message, path);
      return undefined;
    }
    const v = c.value;
    let shown = typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
    const given = typeof raw === 'string' ? splitQuantity(raw)?.unit ?? '' : '';
    if (given !== '' && given !== spec.unit && Number.isFinite(v)) shown += ` (= ${formatQuantity(v, spec.unit)})`;
    const fail = (why: string): undefined => void this.out.add('OUT_OF_RANGE', `${shown} ${why}`, path);
    if (!Number.isFinite(v)) return fail(`is too large: not a finite number of ${spec.unit === '' ? 'units' : spec.unit}`);
    if (spec.above !== undefined && !(v > spec.above)) return fail(`must be above ${formatQuantity(spec.above, spec.unit)}`);
    if (spec.min !== undefined && v < spec.min) return fail(`is below the minimum ${formatQuantity(spec.min, spec.unit)}`);
    if (spec.max !== undefined && v > spec.max) return fail(`is above the maximum ${formatQuantity(spec.max, spec.unit)}`);
    if (spec.integer === true && !Number.isInteger(v)) return fail('must be a whole number');
    return v;
  }

  label(raw: unknown, fallback: string): Label {
    return isRec(raw) && typeof raw.en === 'string' && typeof raw.zh === 'string' ? { en: raw.en, zh: raw.zh } : { en: fallback, zh: fallback };
  }

  /** Checks a station reference; returns its index, or -1 (reported) / -2 (null or absent). */
  ref(raw: unknown, path: Path, ids: ReadonlyMap<string, number>, what: string): number {
    if (typeof raw !== 'string') return -2;
    const k = ids.get(raw);
    if (k !== undefined) return k;
    // a suggestion scans every id: only for problems that will be shown
    this.out.add('SCENARIO_REFERENCE', `${what} "${raw}" does not exist${this.out.full ? '' : didYouMean(raw, ids.keys())}`, path);
    return -1;
  }

  stations(list: readonly unknown[]): { stations: StationSpec[]; kinds: (MachineKind | undefined)[]; ids: Map<string, number> } {
    const ids = new Map<string, number>();
    const stations: StationSpec[] = [];
    const kinds: (MachineKind | undefined)[] = [];
    list.forEach((raw, k) => {
      const st = isRec(raw) ? raw : {};
      const base: Path = ['stations', k];
      const id = typeof st.id === 'string' ? st.id : `#${k}`;
      if (typeof st.id === 'string') {
        const first = ids.get(st.id);
        if (first === undefined) ids.set(st.id, k);
        else this.out.add('SCENARIO_REFERENCE', `duplicate station id "${st.id}": stations[${first}] has it already`, [...base, 'id']);
      }
      const kind = typeof st.kind === 'string' ? machineKind(st.kind) : undefined;
      if (typeof st.kind === 'string' && kind === undefined) {
        const known = MACHINE_KINDS.map((m) => m.kind);
        this.out.add('UNKNOWN_KIND', `unknown machine kind "${st.kind}"${didYouMean(st.kind, known)}; known kinds: ${known.join(', ')}`, [...base, 'kind']);
      }
      kinds.push(kind);
      const params: Record<string, number> = {};
      if (kind !== undefined && isRec(st.params)) {
        for (const [name, value] of Object.entries(st.params)) {
          const v = this.param(kind, name, value, [...base, 'params', name]);
          if (v !== undefined) params[name] = v;
        }
      }
      const at = isRec(st.at) ? st.at : {};
      const layout = {
        x: this.qty(at.x, [...base, 'at', 'x'], { unit: 'm', min: -1e5, max: 1e5 }) ?? k * DEFAULT_SPACING,
        z: this.qty(at.z, [...base, 'at', 'z'], { unit: 'm', min: -1e5, max: 1e5 }) ?? 0,
        rotation: this.qty(at.rotation, [...base, 'at', 'rotation'], { unit: 'deg', min: -3600, max: 3600 }) ?? 0,
      };
      const next = typeof st.next === 'string' ? st.next : null;
      const reject = typeof st.reject === 'string' ? st.reject : null;
      const plannedCycleTime = this.qty(st.plannedCycleTime, [...base, 'plannedCycleTime'], { unit: 's', above: 0, max: 1e7 }) ?? null;
      // the schema checked the names; a name listed twice counts once
      const systems = Array.isArray(st.systems) ? [...new Set(st.systems.filter((x): x is StationSystem => (STATION_SYSTEMS as readonly unknown[]).includes(x)))] : null;
      stations.push({ id, kind: kind?.kind ?? str(st.kind, ''), name: this.label(st.name, id), params, next, reject, layout, plannedCycleTime, systems });
    });
    return { stations, kinds, ids };
  }

  /** A parameter of a station, or a setpoint value: name known, writable, value in range. */
  param(kind: MachineKind, name: string, value: unknown, path: Path, keyed = true): number | undefined {
    const f = fieldOf(kind, name);
    if (f === undefined) {
      this.out.add('UNKNOWN_PARAM', `machine kind "${kind.kind}" has no parameter "${name}"${didYouMean(name, parameterNames(kind))}`, path, keyed ? 'key' : 'value');
      return undefined;
    }
    if (f.access !== 'rw') {
      this.out.add('NOT_ALLOWED', `"${name}" of ${kind.kind} is read-only state (${f.description}), not a parameter`, path, keyed ? 'key' : 'value');
      return undefined;
    }
    return this.qty(value, keyed ? path : [...path.slice(0, -1), 'value'], f);
  }

  /** Every station must pass parts on to a sink, following `next`; there must be a source. */
  flow(stations: readonly StationSpec[], kinds: readonly (MachineKind | undefined)[], ids: ReadonlyMap<string, number>): void {
    if (kinds.some((k) => k === undefined) || ids.size !== stations.length) return;
    const role = (s: number): string => kinds[s]?.role ?? 'process';
    if (!stations.some((_, s) => role(s) === 'source')) {
      const sourceKinds = MACHINE_KINDS.filter((k) => k.role === 'source').map((k) => k.kind);
      this.out.add('SCENARIO_REFERENCE', `the line has no source station (kinds that release parts: ${sourceKinds.join(', ')})`, ['stations']);
    }
    const nextOf = stations.map((st) => (st.next === null ? -1 : ids.get(st.next) ?? -1));
    stations.forEach((st, s) => {
      for (const [key, to] of [['next', st.next], ['reject', st.reject]] as const) {
        const t = to === null ? undefined : ids.get(to);
        if (t !== undefined && role(t) === 'source') {
          this.out.add('SCENARIO_REFERENCE', `"${to}" is a source and takes no parts`, ['stations', s, key]);
        }
      }
      if (role(s) === 'sink' && st.next !== null) {
        this.out.add('SCENARIO_REFERENCE', `"${st.id}" is a sink and ends the line: next must be null, not "${st.next}"`, ['stations', s, 'next']);
      }
      if (role(s) !== 'sink' && st.next === null) {
        this.out.add('SCENARIO_REFERENCE', `"${st.id}" (${kinds[s]?.kind}) passes its parts nowhere: set next to a station on the way to a sink`, ['stations', s, 'next']);
      }
    });
    // Follow `next` from every station; a walk that meets itself is a loop parts never leave.
    const state = new Uint8Array(stations.length);
    for (let start = 0; start < stations.length; start++) {
      const walk: number[] = [];
      let s = start;
      while (s >= 0 && state[s] === 0) {
        state[s] = 1;
        walk.push(s);
        s = role(s) === 'sink' ? -1 : (nextOf[s] ?? -1);
      }
      if (s >= 0 && state[s] === 1) {
        const loop = walk.slice(walk.indexOf(s));
        const names = [...loop, s].map((x) => stations[x]?.id).join(' → ');
        this.out.add('SCENARIO_REFERENCE', `stations form a loop that never reaches a sink: ${names}`, ['stations', loop[loop.length - 1] ?? s, 'next']);
      }
      for (const x of walk) state[x] = 2;
    }
  }

  /** The shift pattern; each break must end within its shift. */
  shift(shift: Rec): LineSpec['shift'] {
    const hoursPerDay = typeof shift.hoursPerDay === 'number' ? shift.hoursPerDay : 24;
    const shiftsPerDay = typeof shift.shiftsPerDay === 'number' ? shift.shiftsPerDay : 3;
    const shiftS = (hoursPerDay * 3600) / shiftsPerDay;
    const breaks: PlannedBreak[] = [];
    (Array.isArray(shift.breaks) ? shift.breaks : []).forEach((raw: unknown, k: number) => {
      const b = isRec(raw) ? raw : {};
      const base: Path = ['shift', 'breaks', k];
      const after = this.qty(b.after, [...base, 'after'], TIME_SPEC);
      const duration = this.qty(b.duration, [...base, 'duration'], { unit: 's', above: 0, max: 1e7 });
      if (after === undefined || duration === undefined) return;
      if (Number.isFinite(shiftS) && after + duration > shiftS) {
        this.out.add('OUT_OF_RANGE', `the break ends ${formatQuantity(after + duration, 's')} into a shift of ${formatQuantity(shiftS, 's')} (hoursPerDay / shiftsPerDay)`, [...base, 'duration']);
        return;
      }
      breaks.push({ after, duration });
    });
    breaks.sort((a, b) => a.after - b.after);
    for (let k = 1; k < breaks.length; k++) {
      const a = breaks[k - 1] as PlannedBreak;
      if (a.after + a.duration > (breaks[k] as PlannedBreak).after) this.out.add('OUT_OF_RANGE', 'planned breaks overlap', ['shift', 'breaks']);
    }
    return { hoursPerDay, shiftsPerDay, breaks };
  }

  faults(list: readonly unknown[], ids: ReadonlyMap<string, number>): ScheduledFault[] {
    return list.map((raw, k) => {
      const f = isRec(raw) ? raw : {};
      const base: Path = ['faults', k];
      this.ref(f.station, [...base, 'station'], ids, 'station');
      const code = FAULT_CODES.find((c) => c === f.code) ?? 'breakdown';
      return {
        at: this.qty(f.at, [...base, 'at'], TIME_SPEC) ?? 0,
        station: str(f.station, ''),
        duration: this.qty(f.duration, [...base, 'duration'], { unit: 's', above: 0, max: 1e7 }) ?? 1,
        code,
      };
    });
  }

  setpoints(list: readonly unknown[], ids: ReadonlyMap<string, number>, kinds: readonly (MachineKind | undefined)[]): ScheduledSet[] {
    return list.map((raw, k) => {
      const sp = isRec(raw) ? raw : {};
      const base: Path = ['setpoints', k];
      const s = this.ref(sp.station, [...base, 'station'], ids, 'station');
      const kind = s >= 0 ? kinds[s] : undefined;
      let value: number | undefined;
      if (kind !== undefined && typeof sp.field === 'string') value = this.param(kind, sp.field, sp.value, [...base, 'field'], false);
      return { at: this.qty(sp.at, [...base, 'at'], TIME_SPEC) ?? 0, station: str(sp.station, ''), field: str(sp.field, ''), value: value ?? 0 };
    });
  }
}

/**
 * Resolves a migrated scenario record into a LineSpec, adding every problem found to `out`.
 * Shape errors are the schema's to report; here they only make values fall back to defaults.
 */
export function resolveScenario(doc: Rec, file: string, out: ProblemList): LineSpec {
  const r = new Resolver(out);
  const id = str(doc.id, 'scenario');
  const { stations, kinds, ids } = r.stations(Array.isArray(doc.stations) ? doc.stations : []);
  stations.forEach((st, k) => {
    r.ref(st.next, ['stations', k, 'next'], ids, 'next station');
    r.ref(st.reject, ['stations', k, 'reject'], ids, 'reject station');
  });
  // With dangling or duplicate ids the flow checks would only repeat the same mistake.
  if (!out.codes.has('SCENARIO_REFERENCE')) r.flow(stations, kinds, ids);
  const faults = r.faults(Array.isArray(doc.faults) ? doc.faults : [], ids);
  const setpoints = r.setpoints(Array.isArray(doc.setpoints) ? doc.setpoints : [], ids, kinds);
  const isa = isRec(doc.isa95) ? doc.isa95 : {};
  const shift = isRec(doc.shift) ? doc.shift : {};
  const demand = isRec(doc.demand) ? doc.demand : {};
  // a microsecond at least: the PLCs scan every millisecond or slower, and the tick counts stay exact
  const dt = r.qty(doc.dt, ['dt'], { unit: 's', min: 1e-6, max: 1 }) ?? 0.001;
  return {
    version: SCENARIO_VERSION,
    id,
    title: r.label(doc.title, id),
    description: r.label(doc.description, ''),
    variant: doc.variant === 'before' || doc.variant === 'after' ? doc.variant : 'other',
    compareWith: typeof doc.compareWith === 'string' ? doc.compareWith : null,
    isa95: {
      enterprise: str(isa.enterprise, 'Twinline'),
      site: str(isa.site, 'Plant'),
      area: str(isa.area, 'Production'),
      line: str(isa.line, id),
    },
    dt,
    seed: typeof doc.seed === 'number' ? doc.seed : 1,
    shift: r.shift(shift),
    demand: { piecesPerDay: typeof demand.piecesPerDay === 'number' ? demand.piecesPerDay : 0 },
    designRate: doc.designRate === null || doc.designRate === undefined ? null : (r.qty(doc.designRate, ['designRate'], { unit: '1/s', above: 0, max: 1e6 }) ?? null),
    kpiInterval: r.qty(doc.kpiInterval, ['kpiInterval'], { unit: 's', min: dt, max: 1e7 }) ?? 300,
    stations,
    faults,
    setpoints,
    crews: resolveCrews(r, Array.isArray(doc.crews) ? doc.crews : [], ids, kinds),
    file,
  };
}
