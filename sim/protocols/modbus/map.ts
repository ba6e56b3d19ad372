/**
 * The register map of the Modbus face: one unit id per station, as a multi-PLC gateway
 * (a Modbus/TCP front end routing to the PLCs behind it) addresses each device by its unit
 * id, so every station keeps the same layout of its own kind whatever the line around it.
 * Station k (scenario order, from 0) is unit k + 1. The tags are those the MQTT and OPC UA
 * faces publish (`lineTags`), with the PackML state first:
 *
 * - coils 0–10: PackML commands start, stop, reset, hold, unhold, suspend, unsuspend, abort,
 *   clear, complete, and acknowledge every active alarm; writing 1 sends the command (a push
 *   button: they read 0), writing 0 does nothing;
 * - coils 32–63: acknowledge one alarm, coil 32 + the alarm's bit (e.g. 59 for JAM, bit 27),
 *   for the alarms the station's kind can raise and the common ones; a push button as above
 *   (an alarm that is not active is refused with exception 04);
 * - coils from 100: writable boolean tags (0/1 parameters);
 * - discrete inputs from 0: read-only boolean tags;
 * - input registers from 0: read-only numeric tags, two registers each;
 * - holding registers from 0: setpoints and parameters, two registers each.
 *
 * Numbers are 32-bit, high word first: IEEE 754 float32 for real-valued tags, signed int32 for
 * counts and enumerations, in the tag's own unit (scale 1). Which role the line asks for a
 * write (operator setpoint, engineer parameter, safety limit) is the same as on every face.
 */
import type { WriteLevel } from '../../core/commands.ts';
import { COMMON_ALARMS } from '../../core/station.ts';
import type { World } from '../../core/world.ts';
import type { LineSpec } from '../../line/types.ts';
import { lineTags } from '../mqtt/tags.ts';

/** The four Modbus tables. */
export type Table = 'coil' | 'discrete' | 'input' | 'holding';

/** The tables in the order the map lists them. */
export const TABLES: readonly Table[] = ['coil', 'discrete', 'input', 'holding'];

/** How a point is encoded: a bit, a 32-bit float or integer in two registers, or a command coil. */
export type PointType = 'bool' | 'float32' | 'int32' | 'command';

/** One point of a unit's map. */
export interface Point {
  table: Table;
  /** first bit or register, 0-based (the PDU address) */
  address: number;
  /** registers it takes (2 for numbers, 1 for bits) */
  size: number;
  type: PointType;
  /** the tag (field) it carries, or the command a command coil sends */
  tag: string;
  unit: string;
  /** raw value × scale = value in `unit` */
  scale: number;
  /** `r` read-only, `rw` readable and writable, `w` a command coil */
  access: 'r' | 'rw' | 'w';
  /** who the line lets write it (rw tags); commands need an operator */
  write: WriteLevel | null;
  description: string;
  /** the alarm code a per-alarm acknowledge coil acknowledges */
  alarm?: string;
}

/** The map of one unit (station). */
export interface UnitMap {
  unit: number;
  /** station index in the world */
  index: number;
  station: string;
  kind: string;
  /** every point, table by table (coils, discrete inputs, input registers, holding registers) */
  points: Point[];
  /** points by table, sorted by address */
  tables: Record<Table, Point[]>;
}

/** Command coils, at their address. */
export const COMMAND_COILS = ['start', 'stop', 'reset', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear', 'complete', 'ack'] as const;
/** first per-alarm acknowledge coil: coil ALARM_ACK_COIL_BASE + the alarm's bit (0–31) */
export const ALARM_ACK_COIL_BASE = 32;
/** first coil of the writable boolean tags */
export const BOOL_COIL_BASE = 100;
/** most stations one face serves: unit ids 1…247 */
export const MAX_UNITS = 247;

/** The conventional reference of a point (`40001`-style: 0x coils, 1x inputs, 3x input registers, 4x holding registers). */
export function reference(p: Pick<Point, 'table' | 'address'>): string {
  const base = { coil: 0, discrete: 100_000, input: 300_000, holding: 400_000 }[p.table];
  return String(base + p.address + 1).padStart(6, '0');
}

/** The register map of every station of `spec` (unit k + 1 for station k); `w` is any world of the line. */
export function modbusMap(spec: LineSpec, w: World): UnitMap[] {
  if (spec.stations.length > MAX_UNITS) throw new Error(`a Modbus face serves at most ${MAX_UNITS} stations (unit ids 1…${MAX_UNITS}); the line has ${spec.stations.length}`);
  return lineTags(spec, w).map((st) => {
    const points: Point[] = COMMAND_COILS.map((c, k) => ({
      table: 'coil', address: k, size: 1, type: 'command', tag: c, unit: '', scale: 1, access: 'w', write: 'operator',
      description: c === 'ack' ? 'acknowledge every alarm (write 1)' : `PackML ${c} command (write 1)`,
    }));
    const alarms = [...(w.kindOf[st.index]?.alarms ?? []), ...COMMON_ALARMS].sort((a, b) => a.bit - b.bit);
    for (const a of alarms) {
      points.push({
        table: 'coil', address: ALARM_ACK_COIL_BASE + a.bit, size: 1, type: 'command', tag: `ack ${a.code}`, unit: '', scale: 1, access: 'w', write: 'operator',
        description: `acknowledge alarm ${a.code} (bit ${a.bit}: ${a.text.en}) (write 1)`, alarm: a.code,
      });
    }
    const state = w.fieldSpec(st.index, 'state');
    const tags = [...(state === undefined ? [] : [{ name: 'state', unit: '', description: state.description, access: 'r' as const, dataType: 'Int32' as const }]), ...st.tags];
    const next: Record<Table, number> = { coil: BOOL_COIL_BASE, discrete: 0, input: 0, holding: 0 };
    for (const t of tags) {
      const bit = t.dataType === 'Boolean';
      const table: Table = bit ? (t.access === 'rw' ? 'coil' : 'discrete') : t.access === 'rw' ? 'holding' : 'input';
      const size = bit ? 1 : 2;
      const write = t.access === 'rw' ? (w.fieldSpec(st.index, t.name)?.write ?? 'engineer') : null;
      points.push({
        table, address: next[table], size, type: bit ? 'bool' : t.dataType === 'Int32' ? 'int32' : 'float32',
        tag: t.name, unit: t.unit, scale: 1, access: t.access, write, description: t.description,
      });
      next[table] += size;
    }
    const tables: Record<Table, Point[]> = { coil: [], discrete: [], input: [], holding: [] };
    for (const p of points) tables[p.table].push(p);
    const sorted = TABLES.flatMap((t) => tables[t]);
    return { unit: st.index + 1, index: st.index, station: st.id, kind: spec.stations[st.index]!.kind, points: sorted, tables };
  });
}

/**
 * The points of `table` that cover addresses `start … start + count − 1`, or null when one of
 * those addresses is not mapped (the answer is then exception 02). A read may cover part of a
 * two-register value; `whole` asks that the range start and end on value boundaries (writes).
 */
export function pointsIn(u: UnitMap, table: Table, start: number, count: number, whole: boolean): Point[] | null {
  const end = start + count;
  const out: Point[] = [];
  let at = start;
  for (const p of u.tables[table]) {
    if (p.address + p.size <= start) continue;
    if (p.address >= end) break;
    if (p.address > at || (whole && (p.address < start || p.address + p.size > end))) return null;
    out.push(p);
    at = p.address + p.size;
  }
  return at >= end ? out : null;
}

/** Text of a write level for the map. */
export function accessText(p: Point): string {
  if (p.access === 'w') return 'w (operator)';
  return p.access === 'r' ? 'r' : `rw (${p.write === 'safety' ? 'safety limit' : (p.write ?? 'engineer')})`;
}
