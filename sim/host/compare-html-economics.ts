/**
 * The payback part of the `compare --html` report: the steps' costs and the prices used
 * (a table), the yearly savings by cause (bars) and the cumulative cash over the years from
 * the investment (a line crossing zero at the payback). Inline SVG, no script.
 */
import type { Economics } from './compare-economics.ts';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cny = (x: number): string => `${Math.round(x).toLocaleString('en-US')}`;

/** Bars of the yearly savings by cause (negative: a cost) and the net. */
function savingsChart(e: Economics): string {
  const items: [string, number][] = [
    ['labour', e.savingsPerYear.labour],
    ['energy', e.savingsPerYear.energy],
    ['output', e.savingsPerYear.output],
    ['operating cost', e.savingsPerYear.opex],
    ['net', e.savingsPerYear.net],
  ];
  const W = 640;
  const rowH = 30;
  const L = 120;
  const R = 120;
  const max = Math.max(1, ...items.map(([, v]) => Math.abs(v)));
  const hasNeg = items.some(([, v]) => v < 0);
  // zero in the middle when some effect is a cost, at the left otherwise
  const zero = hasNeg ? L + (W - L - R) / 2 : L;
  const scale = (hasNeg ? (W - L - R) / 2 : W - L - R) / max;
  const rows = items.map(([label, v], k) => {
    const y = 10 + k * rowH;
    const w = Math.abs(v) * scale;
    const x = v >= 0 ? zero : zero - w;
    const c = label === 'net' ? '#111827' : v >= 0 ? '#15803d' : '#b91c1c';
    return `<text x="${L - 8}" y="${y + 16}" text-anchor="end">${label}</text><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${c}"/><text x="${(v >= 0 ? zero + w : zero) + 6}" y="${y + 16}">${cny(v)} CNY/a</text>`;
  });
  const H = 20 + items.length * rowH;
  return `<svg id="savings" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="yearly savings by cause"><line x1="${zero}" x2="${zero}" y1="4" y2="${H - 6}" stroke="#333"/>${rows.join('')}</svg>`;
}

/** Cumulative cash from the investment (−capex at year 0, + net saving a year). */
function cashChart(e: Economics): string {
  const W = 640;
  const H = 240;
  const L = 90;
  const B = 30;
  const years = Math.min(30, Math.max(5, Math.ceil((e.paybackYears ?? 8) * 1.5)));
  const pts = Array.from({ length: years + 1 }, (_, y) => ({ y, cash: -e.capex + y * e.savingsPerYear.net }));
  const lo = Math.min(0, ...pts.map((p) => p.cash));
  const hi = Math.max(0, ...pts.map((p) => p.cash), 1);
  const px = (y: number): number => L + (y / years) * (W - L - 20);
  const py = (c: number): number => 10 + ((hi - c) / (hi - lo)) * (H - B - 10);
  const line = pts.map((p) => `${px(p.y).toFixed(1)},${py(p.cash).toFixed(1)}`).join(' ');
  const mark = e.paybackYears === null || e.paybackYears > years ? '' : `<circle cx="${px(e.paybackYears).toFixed(1)}" cy="${py(0).toFixed(1)}" r="5" fill="#15803d"/><text x="${(px(e.paybackYears) + 8).toFixed(1)}" y="${(py(0) - 8).toFixed(1)}">payback ${e.paybackYears.toFixed(1)} years</text>`;
  const axis = [lo, 0, hi].map((c) => `<text x="${L - 6}" y="${(py(c) + 4).toFixed(1)}" text-anchor="end">${cny(c)}</text>`).join('');
  return `<svg id="payback" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="cumulative cash over the years">
<line x1="${L}" x2="${W - 20}" y1="${py(0).toFixed(1)}" y2="${py(0).toFixed(1)}" stroke="#333"/>${axis}
<text x="${L}" y="${H - 8}">year 0</text><text x="${W - 20}" y="${H - 8}" text-anchor="end">year ${years}</text>
<polyline fill="none" stroke="#1d4ed8" stroke-width="3" points="${line}"/>${mark}
</svg>`;
}

/** The payback section of the report. */
export function economicsHtml(e: Economics): string {
  const p = e.prices;
  const steps = e.steps.map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.title)}</td><td>${cny(s.capex)}</td><td>${cny(s.opexPerYear)}</td></tr>`).join('');
  const yr = (label: string, x: { before: number; after: number }, unit: string): string => `<tr><td>${label}</td><td>${cny(x.before)}</td><td>${cny(x.after)}</td><td>${unit}</td></tr>`;
  return `<h2>Payback</h2>
<p>Prices (${esc(e.pricesFile ?? 'defaults')}): wage ${p.wagePerHour} CNY/h · energy ${p.energyPerKWh} CNY/kWh · good part ${p.pricePerGoodPart} CNY · ${p.hoursPerYear} h a year. Savings scale the measured means to a year; override with <code>--prices FILE</code>.</p>
<table id="steps"><thead><tr><th>step</th><th>title</th><th>capex [CNY]</th><th>operating cost [CNY/a]</th></tr></thead><tbody>${steps}<tr><td>total</td><td></td><td>${cny(e.capex)}</td><td>${cny(-e.savingsPerYear.opex)}</td></tr></tbody></table>
<table id="per-year"><thead><tr><th>per year</th><th>before</th><th>after</th><th></th></tr></thead><tbody>${yr('labour hours', e.perYear.labourHours, 'h')}${yr('energy', e.perYear.energyKWh, 'kWh')}${yr('good parts', e.perYear.goodParts, '')}</tbody></table>
<p>Net saving ${cny(e.savingsPerYear.net)} CNY a year · payback <b>${e.paybackYears === null ? 'none (no net saving)' : `${e.paybackYears.toFixed(2)} years`}</b></p>
<h3>Savings per year by cause [CNY/a]</h3>
${savingsChart(e)}
<h3>Cumulative cash from the investment [CNY]</h3>
${cashChart(e)}
`;
}
