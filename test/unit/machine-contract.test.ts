/**
 * The contract every machine kind keeps: run each one in a small line `source → kind → sink`
 * (with a reject bin) and check what must hold for all of them: finite state, conserved parts,
 * determinism, PackML reset, honest field specs and alarm bits, and sane behaviour at the
 * edges of every parameter range.
 */
import { describe, expect, it } from 'vitest';
import { World, type StationDef } from '../../sim/core/world.ts';
import { MACHINE_KINDS, machineKind } from '../../sim/machines/index.ts';
import { COMMON_FIELDS } from '../../sim/core/station.ts';
import { State, STATE_NAMES } from '../../sim/plc/packml.ts';
import type { MachineKind } from '../../sim/core/types.ts';

const DT = 0.001;

/**
 * Parameters that make a kind's randomness visible in the event log within the run (defects on
 * parts that would otherwise all be good). Kinds not listed must not depend on the seed at all.
 */
const STRESS: Readonly<Record<string, Record<string, number>>> = {
  source: {},
  conveyor: { jamsPerKm: 50, jamClearTime: 20 },
  press: { force: 1000 },
  dryer: { residence: 300, dryingK: 8e-3, slots: 20 },
  glazer: { scatter: 0.08 },
  // a 2-minute kiln under-fires everything; ware this tolerant of thermal shock dunts at random
  kiln: { residence: 120, slots: 20, tau: 60, wareTau: 10, coolRate0: 2000, heatRate0: 2000 },
  'induction-furnace': { tapSp: 1650, powerSp: 1e7 },
  pouring: {},
  shakeout: { hotThreshold: 0, surfaceScale: 20 },
  quench: { slots: 50, soakTime: 60, chillerPower: 0, bathMass: 100 },
  // a wide scatter on a 6 s piece: diameters out of tolerance within the run
  extruder: { noise: 0.2, segmentLength: 10 },
  coiler: { scatter: 2, cycleTime: 5 },
  vision: { falseRejectRate: 0.2 },
  'manual-inspection': { falseRejectRate: 0.2 },
  'manual-station': { errorRate: 0.2 },
  // short orders, so family changes and kit errors move finish times within the run
  assembly: { assemblyTime: 20, orderOverhead: 0, changeoverTime: 40, fetchTime: 40, kitErrorRate: 0.5 },
  robot: { dropRate: 0.2 },
};

function kindOf(id: string): MachineKind {
  const k = machineKind(id);
  if (k === undefined) throw new Error(`kind ${id} is not registered`);
  return k;
}

/** source → kind → out (+ bin for rejects); breakdowns switched off so only the kind's own randomness counts. */
function lineFor(k: MachineKind, seed: number, params: Record<string, number> = {}): World {
  const quiet = { mtbf: 1e9 };
  const src = kindOf('source');
  const sink = kindOf('sink');
  const st = (id: string, kind: MachineKind, p: Record<string, number>, next: string | null, reject: string | null = null): StationDef =>
    ({ id, kind, params: p, next, reject });
  const feed = { rate: 360, jitter: 0, slots: 4, ...quiet };
  const stations: StationDef[] =
    k.role === 'source' ? [st('k', k, { ...quiet, ...params }, 'out'), st('out', sink, {}, null)]
      : k.role === 'sink' ? [st('src', src, feed, 'k'), st('k', k, params, null)]
        : [
          st('src', src, feed, 'k'),
          st('k', k, { operators: 2, ...quiet, ...params }, 'out', 'bin'),
          st('out', sink, {}, null),
          st('bin', sink, { scrapBin: 1 }, null),
        ];
  const w = new World({ dt: DT, seed, stations });
  w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'contract' });
  return w;
}

/** The first non-finite value in any float state of the world, described, or null. */
function nonFinite(w: World): string | null {
  for (const [name, arr] of Object.entries(w.st)) for (let s = 0; s < arr.length; s++) if (!Number.isFinite(arr[s])) return `station ${w.ids[s]}.${name} = ${arr[s]}`;
  for (const [kind, view] of w.views) for (const [f, arr] of Object.entries(view)) for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) return `${kind}[${i}].${f} = ${arr[i]}`;
  for (const [f, arr] of Object.entries(w.parts) as [string, Float64Array | Int32Array][]) for (let p = 0; p < arr.length; p++) if (!Number.isFinite(arr[p])) return `part ${p}.${f} = ${arr[p]}`;
  return null;
}

/** Runs `seconds`, checking every `every` simulated seconds that all state is finite. */
function runChecked(w: World, seconds: number, every = 60): void {
  const chunk = Math.round(every / w.dt);
  for (let t = 0; t < seconds; t += every) {
    w.step(chunk);
    const bad = nonFinite(w);
    if (bad !== null) throw new Error(`${bad} after ${Math.round(w.tick * w.dt)} s`);
  }
}

function expectConserved(w: World): void {
  const c = w.counters();
  let inQueues = 0;
  for (let s = 0; s < w.size; s++) {
    let n = 0;
    for (let p = w.qHead[s] ?? -1; p >= 0; p = w.parts.next[p] ?? -1) {
      expect(w.parts.station[p]).toBe(s);
      n++;
    }
    expect(n).toBe(w.qLen[s]);
    inQueues += n;
  }
  expect(c.created).toBe(c.shipped + c.scrapped + w.wip);
  expect(w.wip).toBe(inQueues);
}

/** Work done by station `s` so far: parts in and out plus progress on the parts it holds. */
function work(w: World, s: number): number {
  let sum = (w.st.partsIn[s] ?? 0) + (w.st.partsOut[s] ?? 0);
  for (let p = w.qHead[s] ?? -1; p >= 0; p = w.parts.next[p] ?? -1) sum += w.parts.progress[p] ?? 0;
  return sum;
}

function paramsAt(k: MachineKind, end: 'min' | 'max'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [f, spec] of Object.entries(k.fields)) {
    if (spec.access !== 'rw') continue;
    const v = spec[end];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

describe.each(MACHINE_KINDS.map((k) => [k.kind, k] as const))('machine kind %s', (id, k) => {
  it('declares every field with a unit, a description and a consistent range', () => {
    expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(k.title.en.length).toBeGreaterThan(0);
    expect(k.title.zh.length).toBeGreaterThan(0);
    for (const [f, spec] of Object.entries(k.fields)) {
      expect(f in COMMON_FIELDS, `${id}.${f} shadows a common station field`).toBe(false);
      expect(typeof spec.unit, `${id}.${f} unit`).toBe('string');
      expect(spec.description.trim().length, `${id}.${f} description`).toBeGreaterThan(5);
      if (spec.access === 'rw') {
        expect(spec.default, `${id}.${f} default`).toBeTypeOf('number');
        expect(spec.min, `${id}.${f} min`).toBeTypeOf('number');
        expect(spec.max, `${id}.${f} max`).toBeTypeOf('number');
      }
      if (spec.min !== undefined && spec.max !== undefined) expect(spec.min, `${id}.${f} min ≤ max`).toBeLessThanOrEqual(spec.max);
      if (spec.min !== undefined && spec.default !== undefined) expect(spec.default, `${id}.${f} default ≥ min`).toBeGreaterThanOrEqual(spec.min);
      if (spec.max !== undefined && spec.default !== undefined) expect(spec.default, `${id}.${f} default ≤ max`).toBeLessThanOrEqual(spec.max);
      if (spec.integer === true && spec.default !== undefined) expect(Number.isInteger(spec.default), `${id}.${f} integer default`).toBe(true);
    }
  });

  it('uses unique alarm bits below 24 with bilingual texts', () => {
    const bits = k.alarms.map((a) => a.bit);
    expect(new Set(bits).size).toBe(bits.length);
    for (const a of k.alarms) {
      expect(Number.isInteger(a.bit) && a.bit >= 0 && a.bit < 24, `${id} alarm ${a.code} bit ${a.bit}`).toBe(true);
      expect(a.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(a.severity).toBeGreaterThanOrEqual(1);
      expect(a.severity).toBeLessThanOrEqual(1000);
      expect(a.text.en.length * a.text.zh.length).toBeGreaterThan(0);
    }
  });

  it('keeps every value finite and conserves parts over 20 simulated minutes with defaults', () => {
    const w = lineFor(k, 1);
    runChecked(w, 1200);
    expectConserved(w);
    expect(w.counters().created).toBeGreaterThan(0);
    const s = w.indexOf('k');
    expect(STATE_NAMES[w.st.state[s] ?? 0]).toMatch(/^(Execute|Suspended|Suspending|Unsuspending)$/);
  });

  it('gives the same event-log hash for the same seed, and depends on the seed only if it draws random numbers', () => {
    const stress = STRESS[id];
    const a = lineFor(k, 11, stress ?? {});
    const b = lineFor(k, 11, stress ?? {});
    const c = lineFor(k, 12, stress ?? {});
    for (const w of [a, b, c]) w.step(Math.round(600 / DT));
    expect(a.eventCount).toBeGreaterThan(10);
    expect(a.eventLogHash()).toBe(b.eventLogHash());
    if (stress !== undefined) expect(a.eventLogHash()).not.toBe(c.eventLogHash());
    else expect(a.eventLogHash()).toBe(c.eventLogHash());
  });

  it('goes back to Execute after stop → reset → start commands and keeps working', () => {
    const w = lineFor(k, 3);
    w.step(Math.round(120 / DT));
    const s = w.indexOf('k');
    const send = (command: string): void => w.enqueue({ target: 'k', command, source: 'hmi', principal: 'contract' });
    send('stop');
    w.step(Math.round(2 / DT));
    expect(w.st.state[s]).toBe(State.Stopped);
    expect(w.st.power[s]).toBe(0);
    send('reset');
    w.step(Math.round(2 / DT));
    expect(w.st.state[s]).toBe(State.Idle);
    send('start');
    w.step(Math.round(2 / DT));
    expect(w.st.state[s]).toBe(State.Execute);
    const before = work(w, s);
    runChecked(w, 300);
    expectConserved(w);
    expect(work(w, s)).toBeGreaterThan(before);
  });

  it.each(['min', 'max'] as const)('stays finite and conserves parts with every parameter at its %s', (end) => {
    const w = lineFor(k, 5, paramsAt(k, end));
    expect(() => runChecked(w, 300, 30)).not.toThrow();
    expectConserved(w);
  });
});
