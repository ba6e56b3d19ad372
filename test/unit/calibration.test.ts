/**
 * The built-in lines against the published retrofit figures (seeds/DIGEST.md):
 *  - L1 ceramic (Hunan Yinhe, Liling): the 5G vision line inspects 5,000 pieces a day, needs
 *    fewer inspectors and lets fewer defects escape than manual inspection;
 *  - L2 steel balls (Hunan Yongxin, Shaodong): operators −70 %, efficiency +40 %.
 * Each file is loaded with the real loader and run for 8 simulated hours (one seed, the file's).
 * The runs use a 10 ms tick instead of the files' 1 ms to keep this test short; every kind
 * integrates with dt (the kiln updates every 0.1 s whatever the tick), and figures measured at
 * 1 ms agree within the tolerances below. None of the published figures is a parameter: the
 * ceramic line's pieces per day come from its bottleneck (the kiln), checked by moving it.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { computeKpis, kpiBase, type KpiBase, type LineKpis } from '../../sim/core/kpi.ts';
import type { World } from '../../sim/core/world.ts';

const DT = 0.01;
const HOURS = 8;

interface Run {
  w: World;
  /** KPIs after each simulated hour, index = hour */
  at: LineKpis[];
  /** KPIs of hours 2–8, once the line has filled (labour figures come from this steady state) */
  steady: LineKpis;
}

/** Runs scenario `id` for `hours`, with station parameters overridden (values in the fields' units). */
function run(id: string, over: Record<string, Record<string, number>> = {}, hours = HOURS): Run {
  const file = `scenarios/${id}.yaml`;
  const spec = parseScenario(readFileSync(file, 'utf8'), file);
  expect(spec.id).toBe(id);
  for (const st of spec.stations) Object.assign(st.params, over[st.id] ?? {});
  const w = createWorld({ ...spec, dt: DT });
  const at: LineKpis[] = [computeKpis(w)];
  let base: KpiBase | null = null;
  for (let h = 1; h <= hours; h++) {
    w.step(Math.round(3600 / DT));
    at.push(computeKpis(w));
    if (h === 2) base = kpiBase(w);
  }
  return { w, at, steady: computeKpis(w, base) };
}

/** Good parts per hour between two hours of the run (after the line has filled). */
function goodPerHour(r: Run, from: number, to: number): number {
  return ((r.at[to]?.good ?? 0) - (r.at[from]?.good ?? 0)) / (to - from);
}

function station(k: LineKpis | undefined, id: string): LineKpis['stations'][number] {
  const s = k?.stations.find((x) => x.id === id);
  if (s === undefined) throw new Error(`no station ${id}`);
  return s;
}

/** Pieces inspected per day between two hours of the run. */
function inspectedPerDay(r: Run, from: number, to: number): number {
  return ((station(r.at[to], 'inspect').partsOut - station(r.at[from], 'inspect').partsOut) / (to - from)) * 24;
}

/** Long runs: 8 simulated hours at a 10 ms tick take a while on a busy machine. */
const LONG = 600_000;

describe('ceramic inspection line (L1): ≥ 5,000 pieces a day by machine vision', () => {
  let before: Run;
  let after: Run;
  beforeAll(() => {
    before = run('ceramic-before');
    after = run('ceramic-after');
  }, LONG);

  it('inspects at least 5,000 pieces per day once the kiln is full, at the kiln\'s pace', () => {
    // Kiln residence is 2 h: measure the inspection rate over hours 4–8. The kiln, pushed place
    // by place, fires at most 480 / 2 h = 5,760 pieces/day; the clay feed offers 9,000.
    const perDay = inspectedPerDay(after, 4, 8);
    expect(perDay).toBeGreaterThanOrEqual(5000);
    expect(perDay).toBeLessThanOrEqual(5760 * 1.01);
    expect(after.w.kindOf[after.w.indexOf('inspect')]?.kind).toBe('vision');
    // the kiln is full (the bottleneck), the feed is not what limits
    const kiln = after.w.indexOf('kiln');
    expect(after.w.qLen[kiln]).toBeGreaterThan(0.95 * 480);
    expect(after.w.read(after.w.indexOf('clay'), 'rate') * 24).toBeGreaterThan(perDay * 1.3);
  });

  it('moves pieces per day with the bottleneck: a longer firing lowers it, vision made the bottleneck and halved halves it', () => {
    // 2 h 30 min residence: 480 / 2.5 h = 4,608/day at most
    const slowKiln = run('ceramic-after', { kiln: { residence: 9000 } }, 7);
    const ratio = inspectedPerDay(slowKiln, 4, 7) / inspectedPerDay(after, 4, 8);
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(0.85);
    // 12 images/min at 6 a piece: 2,880/day, below the kiln; 6 images/min: 1,440/day
    const cam = run('ceramic-after', { inspect: { imagesPerMin: 12 } }, 4);
    const halfCam = run('ceramic-after', { inspect: { imagesPerMin: 6 } }, 4);
    const full = inspectedPerDay(cam, 3, 4);
    expect(full).toBeGreaterThan(2700);
    expect(full).toBeLessThan(2900);
    expect(inspectedPerDay(halfCam, 3, 4) / full).toBeGreaterThan(0.45);
    expect(inspectedPerDay(halfCam, 3, 4) / full).toBeLessThan(0.55);
  }, LONG);

  it('needs many more people without vision, for the same output', () => {
    // labour from the crews' simulated work, once the kiln delivers (hours 2–8)
    expect(before.steady.operators - after.steady.operators).toBeGreaterThanOrEqual(4);
    // the inspectors' simulated work occupies more than three people once the kiln delivers
    const inspectors = before.steady.labour.crews.find((c) => c.id === 'inspectors');
    expect(inspectors?.fte).toBeGreaterThan(3);
    expect(inspectors?.operatorsNeeded).toBeGreaterThanOrEqual(4);
    // vision needs no inspector: no crew inspects after the retrofit
    expect(after.steady.labour.stations.some((s) => s.id === 'inspect')).toBe(false);
    expect(after.steady.labour.crews.some((c) => c.skills.includes('inspect'))).toBe(false);
    // Same line upstream: output within 5 %.
    expect(Math.abs(goodPerHour(before, 4, 8) / goodPerHour(after, 4, 8) - 1)).toBeLessThan(0.05);
  });

  it('lets more defects escape with manual inspection', () => {
    const b = before.at[8]!;
    const a = after.at[8]!;
    expect(b.escaped).toBeGreaterThanOrEqual(2 * a.escaped + 3);
    expect(b.escapedPpm).toBeGreaterThan(5000);
    expect(a.escapedPpm).toBeLessThan(b.escapedPpm / 2);
    // Hurried, tired inspectors also throw away more good ware.
    expect(b.falseRejects).toBeGreaterThan(a.falseRejects);
  });
});

describe('steel-ball casting line (L2): operators −70 %, efficiency +40 %', () => {
  let before: Run;
  let after: Run;
  beforeAll(() => {
    before = run('steel-ball-before');
    after = run('steel-ball-after');
  }, LONG);

  it('cuts operators by 70 ± 5 %, from the crews\' simulated work', () => {
    // Operators needed = each crew's FTE (person-time on tasks / one person's present time),
    // rounded up to whole people (sim/core/crew-kpi.ts). No headcount is typed: the files give
    // crew sizes (what the plant had), and the work the stations ask of them decides the need.
    const b = before.steady.labour;
    const a = after.steady.labour;
    expect(b.source).toBe('crews');
    expect(a.source).toBe('crews');
    // no headcount is typed into the files: the people come from the crews (a crewed station's
    // `operators` reading shows the crew's posts there)
    for (const id of ['steel-ball-before', 'steel-ball-after']) {
      const file = `scenarios/${id}.yaml`;
      for (const st of parseScenario(readFileSync(file, 'utf8'), file).stations) expect(st.params.operators, `${id} ${st.id}`).toBeUndefined();
    }
    // a crew this small keeps up: stations seldom wait for a person
    for (const c of [...b.crews, ...a.crews]) expect(c.labourWaitShare, c.id).toBeLessThan(0.05);
    // published: −70 % ± 5 (bounds included). The model gives −72.7 % here (11 → 3 people);
    // the inspection-and-packing crew's FTE before the retrofit sits near 1.0, so over seeds
    // it rounds to 1 or 2 people and the figure moves between −72.7 % and −75 %.
    const change = a.operatorsNeeded / b.operatorsNeeded - 1;
    expect(change).toBeGreaterThanOrEqual(-0.75);
    expect(change).toBeLessThanOrEqual(-0.65);
    expect(after.steady.operators).toBe(a.operatorsNeeded);
    // the work itself (unrounded FTE) falls by about three quarters: pouring, knock-out and handling are gone
    const fte = (k: typeof b): number => k.crews.reduce((sum, c) => sum + c.fte, 0);
    expect(fte(a) / fte(b) - 1).toBeLessThan(-0.65);
    // and each good ball takes far fewer labour hours
    expect(a.labourHoursPerGoodPart!).toBeLessThan(0.4 * b.labourHoursPerGoodPart!);
  });

  it('raises efficiency (good parts per hour) by 40 ± 15 %', () => {
    // First castings reach dispatch after about 1.5 h (melt, cool, soak): measure hours 2–8.
    const gain = goodPerHour(after, 2, 8) / goodPerHour(before, 2, 8) - 1;
    expect(gain).toBeGreaterThan(0.25);
    expect(gain).toBeLessThan(0.55);
  });

  it('gets there for physical reasons: faster pouring and fewer cold shuts', () => {
    const pourB = station(before.at[8], 'pour');
    const pourA = station(after.at[8], 'pour');
    expect(pourA.partsOut).toBeGreaterThan(pourB.partsOut * 1.15);
    expect(before.at[8]!.scrapped).toBeGreaterThan(after.at[8]!.scrapped);
    const w = before.w;
    expect(w.read(w.indexOf('pour'), 'automatic')).toBe(0);
    expect(after.w.read(after.w.indexOf('pour'), 'automatic')).toBe(1);
  });
});
