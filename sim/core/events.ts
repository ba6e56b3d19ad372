/**
 * The ordered event log: one timeline that the UI, detectors, reports and datasets read.
 * Events are kept until drained (`drainEvents(fn)`); every event is folded into a running
 * 64-bit hash so that two runs can be compared by one string.
 */
import { hashNumber, hashString, hashWord } from './hash.ts';

/** Every event type; new types go at the end (their ordinal is hashed). */
export const EVENT_TYPES = [
  'state',        // PackML state change
  'mode',         // unit mode change
  'alarm',        // alarm raised
  'alarm-clear',  // alarm cleared
  'alarm-ack',    // alarm acknowledged
  'fault',        // machine fault began
  'repair',       // machine fault repaired
  'command',      // command accepted
  'rejected',     // command rejected
  'part-created',
  'part-completed',
  'part-scrapped',
  'kpi',          // periodic KPI snapshot
  'security',     // security alert (detectors)
  'interlock',    // interlock tripped or reset
  'audit',        // protocol audit (write, method call, session)
  'disturbance',  // a disturbance began (off-spec material, a person away: disturbance.ts)
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

const TYPE_ORDINAL: ReadonlyMap<string, number> = new Map(EVENT_TYPES.map((t, k) => [t, k]));

/** Event payload values; keys are emitted in a fixed order by each producer. */
export type EventData = Record<string, number | string | boolean | null>;

/** One event of the log. */
export interface SimEvent {
  /** position in the log, from 0 */
  seq: number;
  /** tick at which it happened */
  tick: number;
  type: EventType;
  /** station id, or null for line-level events */
  station: string | null;
  data: EventData;
}

/** Folds an event into the hash lanes `h[off]`, `h[off+1]`. */
export function hashEvent(h: Uint32Array, off: number, e: SimEvent): void {
  hashNumber(h, off, e.seq);
  hashNumber(h, off, e.tick);
  hashWord(h, off, TYPE_ORDINAL.get(e.type) ?? 255);
  hashString(h, off, e.station ?? '');
  for (const key in e.data) {
    hashString(h, off, key);
    const v = e.data[key];
    if (typeof v === 'number') hashNumber(h, off, v);
    else if (typeof v === 'string') hashString(h, off, v);
    else hashWord(h, off, v === true ? 1 : v === false ? 0 : 2);
  }
}

/** Serialises an event as one NDJSON line (without the newline). */
export function eventToJson(e: SimEvent): string {
  return JSON.stringify(e);
}
