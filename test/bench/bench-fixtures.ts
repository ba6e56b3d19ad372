/** What the benchmark needs besides the code under test: the setTimeout-paced baseline worker. */

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
