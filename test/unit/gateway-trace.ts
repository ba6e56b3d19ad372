/**
 * Recorded sequences for the delivery check: the real ceramic line stepped in simulated time,
 * every tag read every 10 ms; the twin's report-by-exception publishing (every 100 ms, past
 * the tag's deadband, as the MQTT face does) and gateways that read the same values on their
 * own schedule (sampling interval, deadband, latency, a fault) played against it in time order.
 */
import { readFileSync } from 'node:fs';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { lineCatalog, type Catalog, type GatewayTag } from '../../sim/gateway/catalog.ts';
import { DeliveryCheck, type CheckLimits, type CheckReport } from '../../sim/gateway/check.ts';
import type { WireValue } from '../../sim/gateway/extract.ts';
import { STATE_NAMES } from '../../sim/plc/packml.ts';

const FILE = 'scenarios/ceramic-after.yaml';
const spec = parseScenario(readFileSync(FILE, 'utf8'), FILE);
/** The line's catalog, State included. */
export const catalog: Catalog = lineCatalog(spec);

/** Every tag's value every 10 ms: `values[k][i]` is tag i at `k × 10 ms` after the start. */
export interface Trace {
  stepMs: number;
  values: WireValue[][];
}

let cached: Trace | null = null;

/** `seconds` of the running line (after `warm` s of start-up), every tag each 10 ms. */
export function record(seconds = 40, warm = 120): Trace {
  if (cached !== null && cached.values.length >= seconds * 100) return cached;
  const w = createWorld(spec);
  const stations = new Map(spec.stations.map((st, s) => [st.id, s]));
  const perStep = Math.round(0.01 / w.dt);
  w.step(Math.round(warm / w.dt));
  const values: WireValue[][] = [];
  const tags = catalog.tags.map((t) => ({ t, s: stations.get(t.station) ?? 0 }));
  for (let k = 0; k < seconds * 100; k++) {
    w.step(perStep);
    values.push(tags.map(({ t, s }) => wire(t, t.field === 'State' ? w.read(s, 'state') : w.read(s, t.field))));
  }
  cached = { stepMs: 10, values };
  return cached;
}

function wire(t: GatewayTag, x: number): WireValue {
  if (t.field === 'State') return STATE_NAMES[x] ?? 'Undefined';
  if (!Number.isFinite(x)) return null;
  if (t.dataType === 'Boolean') return x !== 0;
  if (t.dataType === 'Int32') return Math.round(x);
  return x;
}

/** True if `x` moved past the tag's deadband from `last` (the twin's exception rule). */
function moved(t: GatewayTag, last: WireValue | undefined, x: WireValue, band: number): boolean {
  if (last === undefined) return true;
  if (typeof x !== 'number' || typeof last !== 'number' || t.dataType !== 'Double') return x !== last;
  const b = t.relative ? band * Math.abs(last) : band;
  return b === 0 ? x !== last : Math.abs(x - last) >= b;
}

/** A gateway under test. */
export interface Gateway {
  /** its sampling interval [ms] (a multiple of 10) and phase against the twin's [ms] */
  samplingMs: number;
  phaseMs: number;
  /** its deadband as a share of the twin's (0: every change) */
  deadband: number;
  /** added to each delivery [ms] */
  latencyMs: number;
  /** what it sends for tag `t` at `atMs` given the true value; undefined sends nothing */
  map?(t: GatewayTag, value: WireValue, atMs: number): WireValue | undefined;
}

type Event = { at: number; order: number; run(c: DeliveryCheck): void };

/** Plays the twin and `gw` over `trace` into a check; returns its report. */
export function play(trace: Trace, gw: Gateway, limits?: CheckLimits, staleMs = 5000): CheckReport {
  const tags = catalog.tags;
  const events: Event[] = [];
  let order = 0;
  const twinLast: (WireValue | undefined)[] = tags.map(() => undefined);
  const gwLast: (WireValue | undefined)[] = tags.map(() => undefined);
  const start = 1000;
  for (let k = 0; k < trace.values.length; k++) {
    const at = start + k * trace.stepMs;
    const row = trace.values[k]!;
    // the twin: retained current values at subscribe time, then every 100 ms past its deadband
    if (k % 10 === 0) {
      tags.forEach((t, i) => {
        const x = row[i]!;
        if (!moved(t, twinLast[i], x, t.deadband)) return;
        const retained = twinLast[i] === undefined;
        twinLast[i] = x;
        events.push({ at: at + 5, order: order++, run: (c) => c.truth(t.key, x, at + 5, retained) });
      });
    }
    if ((k * trace.stepMs - gw.phaseMs) % gw.samplingMs !== 0) continue;
    tags.forEach((t, i) => {
      const x = row[i]!;
      if (!moved(t, gwLast[i], x, gw.deadband * t.deadband)) return;
      gwLast[i] = x;
      const sent = gw.map === undefined ? x : gw.map(t, x, at - start);
      if (sent === undefined) return;
      events.push({ at: at + gw.latencyMs, order: order++, run: (c) => {
        c.message(false);
        c.delivered(t.key, sent, at + gw.latencyMs);
      } });
    });
  }
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  const c = new DeliveryCheck(tags, { staleMs });
  c.begin(start);
  for (const e of events) e.run(c);
  return c.report(start + trace.values.length * trace.stepMs, limits);
}
