/**
 * The self-contained HTML report of `twinline compare --html`: inline SVG charts (throughput
 * over the run, OEE losses, energy) and the KPI table. No script, no external URL: the file
 * opens offline and can be mailed.
 */
import type { CompareResult, CompareRun } from './compare.ts';
import { economicsHtml } from './compare-html-economics.ts';
import { REPORT_FONT_STACK, withCjkFont } from './report-font.ts';

const BEFORE = '#c2410c';
const AFTER = '#1d4ed8';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const n = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** Mean throughput per sampling interval over the runs of one variant. */
function meanSeries(runs: readonly CompareRun[]): { x: number[]; y: number[] } {
  const first = runs[0];
  if (first === undefined) return { x: [], y: [] };
  const y = first.hoursAt.map((_, k) => runs.reduce((a, r) => a + (r.throughputPerHour[k] ?? 0), 0) / runs.length);
  return { x: first.hoursAt, y };
}

/** Line chart of throughput per hour over the run, before and after. */
function throughputChart(r: CompareResult): string {
  const W = 640;
  const H = 260;
  const L = 56;
  const B = 36;
  const b = meanSeries(r.runs.filter((x) => x.variant === 'before'));
  const a = meanSeries(r.runs.filter((x) => x.variant === 'after'));
  const xMax = Math.max(r.hours, ...b.x, ...a.x);
  const yMax = Math.max(1, ...b.y, ...a.y) * 1.1;
  const px = (x: number): number => L + (x / xMax) * (W - L - 16);
  const py = (y: number): number => H - B - (y / yMax) * (H - B - 16);
  // each interval's rate drawn as a step over the interval it covers
  const path = (s: { x: number[]; y: number[] }): string => {
    let prev = 0;
    const pts: string[] = [];
    s.x.forEach((x, k) => {
      const y = py(s.y[k] ?? 0);
      pts.push(`${px(prev).toFixed(1)},${y.toFixed(1)}`, `${px(x).toFixed(1)},${y.toFixed(1)}`);
      prev = x;
    });
    return pts.join(' ');
  };
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = yMax * f;
    return `<line x1="${L}" x2="${W - 16}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${n(y, 0)}</text>`;
  });
  return `<svg id="throughput" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="throughput per hour">
${ticks.join('\n')}
<line x1="${L}" x2="${W - 16}" y1="${H - B}" y2="${H - B}" stroke="#333"/>
<text x="${L}" y="${H - 10}">0 h</text><text x="${W - 16}" y="${H - 10}" text-anchor="end">${n(xMax, 2)} h</text>
<polyline fill="none" stroke="${BEFORE}" stroke-width="3" points="${path(b)}"/>
<polyline fill="none" stroke="${AFTER}" stroke-width="3" points="${path(a)}"/>
</svg>`;
}

/** Horizontal stacked bars: OEE and its three losses (availability, performance, quality), before and after. */
function oeeChart(r: CompareResult): string {
  const W = 640;
  const rowH = 44;
  const L = 70;
  const get = (name: string, v: 'before' | 'after'): number => r.kpis[name]?.[v].mean ?? 0;
  const rows = (['before', 'after'] as const).map((v, k) => {
    const A = get('availability', v);
    const P = get('performance', v);
    const Q = get('quality', v);
    // a performance above plan has no loss to show: its share is drawn at 1 and said in the label
    const Pc = Math.min(1, P);
    const parts = [
      { w: A * Pc * Q, c: '#15803d', t: 'OEE' },
      { w: A * Pc * (1 - Q), c: '#a16207', t: 'quality loss' },
      { w: A * (1 - Pc), c: '#7c3aed', t: 'performance loss' },
      { w: 1 - A, c: '#b91c1c', t: 'availability loss' },
    ];
    let x = L;
    const y = 10 + k * rowH;
    const rects = parts.map((p) => {
      const w = Math.max(0, p.w) * (W - L - 16);
      const out = `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 14}" fill="${p.c}"><title>${p.t} ${n(p.w * 100)} %</title></rect>`;
      x += w;
      return out;
    });
    return `<text x="${L - 6}" y="${y + 20}" text-anchor="end">${v}</text>${rects.join('')}<text x="${L + 6}" y="${y + 20}" fill="#fff">OEE ${n(A * P * Q * 100)} %${P > 1 ? ` (performance ${n(P * 100)} %: faster than planned)` : ''}</text>`;
  });
  const legend = [['#15803d', 'OEE'], ['#a16207', 'quality loss'], ['#7c3aed', 'performance loss'], ['#b91c1c', 'availability loss']]
    .map(([c, t], k) => `<rect x="${L + k * 140}" y="${10 + 2 * rowH}" width="12" height="12" fill="${c}"/><text x="${L + k * 140 + 16}" y="${21 + 2 * rowH}">${t}</text>`)
    .join('');
  return `<svg id="oee" viewBox="0 0 ${W} ${2 * rowH + 36}" width="${W}" height="${2 * rowH + 36}" role="img" aria-label="OEE losses">${rows.join('')}${legend}</svg>`;
}

/** Bars of energy per good part and total energy, before and after. */
function energyChart(r: CompareResult): string {
  const W = 640;
  const H = 180;
  const L = 70;
  const items = [
    ['energy per good part [kWh]', 'energyPerGoodPartKWh'],
    ['energy [kWh]', 'energyKWh'],
  ] as const;
  const blocks = items.map(([label, key], k) => {
    const b = r.kpis[key]?.before.mean ?? 0;
    const a = r.kpis[key]?.after.mean ?? 0;
    const max = Math.max(b, a, 1e-9);
    const y = 20 + k * 80;
    const bar = (v: number, dy: number, c: string): string => `<rect x="${L}" y="${y + dy}" width="${((v / max) * (W - L - 120)).toFixed(1)}" height="22" fill="${c}"/><text x="${L + (v / max) * (W - L - 120) + 6}" y="${y + dy + 16}">${n(v, 2)}</text>`;
    return `<text x="${L}" y="${y - 4}">${label}</text>${bar(b, 2, BEFORE)}${bar(a, 28, AFTER)}`;
  });
  return `<svg id="energy" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="energy">${blocks.join('')}</svg>`;
}

function kpiTable(r: CompareResult): string {
  const rows = Object.entries(r.kpis).map(([name, k]) => {
    const d = k.deltaPct;
    const ci = d.lo === null || d.hi === null ? '' : ` [${n(d.lo)}, ${n(d.hi)}]`;
    return `<tr><td>${esc(name)}</td><td>${n(k.before.mean, 3)} ± ${n(k.before.sd, 3)}</td><td>${n(k.after.mean, 3)} ± ${n(k.after.sd, 3)}</td><td>${d.mean === null ? '–' : `${n(d.mean)} %${ci}`}</td></tr>`;
  });
  return `<table><thead><tr><th>KPI</th><th>before (mean ± sd)</th><th>after (mean ± sd)</th><th>change, 95 % CI</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The whole report as one HTML document. */
export function compareHtml(r: CompareResult): string {
  const title = `${r.before.scenario} → ${r.after.scenario}`;
  const warnings = r.warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join('');
  return withCjkFont(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Twinline compare: ${esc(title)}</title>
<style>
body{font:14px/1.4 ${REPORT_FONT_STACK};margin:24px;color:#111;max-width:760px}
svg text{font:12px ${REPORT_FONT_STACK}}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}.warn{color:#92400e}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Before: ${esc(r.before.title)} (${esc(r.before.file)})<br>After: ${esc(r.after.title)} (${esc(r.after.file)})<br>
${r.seeds} seeds each · ${n(r.hours, 2)} h measured${r.warmupHours > 0 ? ` after a ${n(r.warmupHours, 2)} h warm-up` : ''} · KPIs after ISO 22400-2 · change with a 95 % confidence interval (Welch, delta method)</p>
${warnings}
<p class="key"><span style="background:${BEFORE}"></span>before<span style="background:${AFTER}"></span>after</p>
<h2>Throughput [parts/h] over the run (mean of the seeds)</h2>
${throughputChart(r)}
<h2>OEE and its losses</h2>
${oeeChart(r)}
<h2>Energy</h2>
${energyChart(r)}
${r.economics === undefined ? '' : economicsHtml(r.economics)}<h2>KPIs</h2>
${kpiTable(r)}
</body></html>
`);
}
