/**
 * What the benchmark needs besides the code under test: a ceramic line for when
 * scenarios/ceramic-after.yaml is not there, and the setTimeout-paced baseline worker.
 */

/** Press → dryer belt → kiln line like the ceramic retrofit, from the always-present kinds. */
export const BUILT_IN_CERAMIC = `version: 1
id: bench-ceramic
title: { en: "Benchmark ceramic line", zh: "基准测试陶瓷产线" }
isa95: { enterprise: Twinline, site: Bench, area: Ceramics, line: bench-ceramic }
seed: 1
kpiInterval: 5 min
stations:
  - { id: feed, kind: source, name: { en: Clay feed, zh: 坯料供给 }, at: { x: 0, z: 0, rotation: 0 }, params: { rate: 300 1/h, slots: 4 }, next: belt-1 }
  - { id: belt-1, kind: conveyor, name: { en: Infeed belt, zh: 进料输送带 }, at: { x: 3 m, z: 0, rotation: 0 }, params: { length: 6 m, speed: 0.2 m/s }, next: press }
  - { id: press, kind: press, name: { en: Forming press, zh: 成型压机 }, at: { x: 8 m, z: 0, rotation: 0 }, params: { cycleTime: 12 s }, next: belt-2 }
  - { id: belt-2, kind: conveyor, name: { en: Transfer belt, zh: 转运输送带 }, at: { x: 12 m, z: 0, rotation: 0 }, params: { length: 8 m, speed: 0.2 m/s }, next: kiln }
  - { id: kiln, kind: kiln, name: { en: Tunnel kiln, zh: 隧道窑 }, at: { x: 24 m, z: 0, rotation: 0 }, params: { slots: 400, residence: 1 h }, next: belt-3 }
  - { id: belt-3, kind: conveyor, name: { en: Outfeed belt, zh: 出料输送带 }, at: { x: 36 m, z: 0, rotation: 0 }, params: { length: 6 m, speed: 0.2 m/s }, next: out }
  - { id: out, kind: sink, name: { en: Warehouse, zh: 成品库 }, at: { x: 40 m, z: 0, rotation: 0 } }
`;

/**
 * Source of a worker that paces an empty loop with setTimeout(…, 1) for `wallMs` and posts
 * the tick period error quantiles [ms], measured exactly as the Atomics pacer measures them.
 */
export function timerBaselineSource(wallMs: number): string {
  return `
const { parentPort } = require('node:worker_threads');
const errs = [];
const t0 = performance.now();
let last = t0;
function tick() {
  const t = performance.now();
  errs.push(Math.abs(t - last - 1));
  last = t;
  if (t - t0 < ${wallMs}) return setTimeout(tick, 1);
  errs.sort((a, b) => a - b);
  const q = (p) => errs[Math.min(errs.length - 1, Math.max(0, Math.ceil(p * errs.length) - 1))];
  parentPort.postMessage({ p50: q(0.5), p99: q(0.99), max: errs[errs.length - 1], ticks: errs.length });
}
setTimeout(tick, 1);
`;
}
