import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TwinlineError } from '../../sim/core/errors.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';

const DIR = 'scenarios';
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();

/** Loads a file; a TwinlineError fails the test with the full report, one problem per line. */
function load(file: string): ReturnType<typeof parseScenario> {
  try {
    return parseScenario(readFileSync(file, 'utf8'), file);
  } catch (e) {
    if (e instanceof TwinlineError) throw new Error(`${file} does not load:\n${e.report()}`);
    throw e;
  }
}

describe('built-in scenarios', () => {
  it('exist', () => {
    expect(FILES.length, `no scenario files in ${DIR}/`).toBeGreaterThanOrEqual(1);
  });

  it('have unique ids and compare only with scenarios that exist', () => {
    const specs = FILES.map((f) => load(`${DIR}/${f}`));
    const ids = specs.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of specs) if (s.compareWith !== null) expect(ids, `${s.id}.compareWith`).toContain(s.compareWith);
  });

  it.each(FILES)('%s loads, builds and runs 10 simulated seconds', (name) => {
    const spec = load(`${DIR}/${name}`);
    const w = createWorld(spec);
    const ticks = Math.round(10 / spec.dt);
    w.step(ticks);
    expect(w.tick).toBe(ticks);
    for (let s = 0; s < w.size; s++) {
      expect(Number.isFinite(w.st.energy[s]), `${w.ids[s]}.energy`).toBe(true);
      expect(Number.isFinite(w.st.power[s]), `${w.ids[s]}.power`).toBe(true);
    }
    const c = w.counters();
    expect(c.created).toBe(c.shipped + c.scrapped + w.wip);
  });
});
