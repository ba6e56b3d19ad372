/**
 * Plain-text tables for the terminal: the KPI report of a run (line figures, then one row
 * per station). Width-aware of CJK characters so bilingual labels line up.
 */
import type { LineKpis } from '../core/kpi.ts';

/** Display width of `s` in terminal cells (wide East Asian characters take two). */
export function cellWidth(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    n += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff00 && c <= 0xff60) ? 2 : 1;
  }
  return n;
}

/** Renders rows as aligned columns; `right[k]` right-aligns column k (numbers). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const all = [header, ...rows];
  const widths = header.map((_, k) => Math.max(...all.map((r) => cellWidth(r[k] ?? ''))));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, k) => {
        const pad = ' '.repeat(Math.max(0, (widths[k] ?? 0) - cellWidth(cell)));
        return right[k] === true ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const num = (x: number | null, digits = 1): string => (x === null ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const int = (x: number): string => x.toLocaleString('en-US');

/** What the table header says about the run. */
export interface RunHeading {
  scenario: string;
  title: string;
  seed: number;
  hours: number;
  events: number;
  eventLogHash: string;
  wallSeconds: number;
}

/** The KPI report of a run: line KPIs, then per-station ISO 22400 availability, performance and OEE, uptime, utilisation, failures, MTBF, MTTR, energy. */
export function formatKpiReport(k: LineKpis, h: RunHeading): string {
  const speed = h.wallSeconds > 0 ? (h.hours * 3600) / h.wallSeconds : 0;
  const head = `${h.scenario} — ${h.title}\nseed ${h.seed} · ${num(h.hours, 2)} h simulated in ${num(h.wallSeconds, 2)} s (×${int(Math.round(speed))}) · ${int(h.events)} events · hash ${h.eventLogHash}${k.fromHours > 0 ? `\nKPIs cover the ${num(k.simHours, 2)} h after a ${num(k.fromHours, 2)} h warm-up` : ''}`;
  const line = renderTable(
    ['line KPI', 'value'],
    [
      ['created', int(k.created)],
      ['shipped (good / escaped)', `${int(k.shipped)} (${int(k.good)} / ${int(k.escaped)})`],
      ['scrapped (false rejects)', `${int(k.scrapped)} (${int(k.falseRejects)})`],
      ['WIP now / mean', `${int(k.wip)} / ${num(k.wipMean)}`],
      ['throughput [parts/h]', num(k.throughputPerHour)],
      ['planned rate [parts/h]', `${num(k.designRatePerHour)}${k.designRateDeclared ? '' : ' (from the machines, not declared)'}`],
      ['good parts per day', num(k.goodPerDay, 0)],
      ['planned busy / planned downtime [h]', `${num(k.plannedBusyHours, 2)} / ${num(k.plannedDowntimeHours, 2)}`],
      ['bottleneck (line availability)', k.bottleneck ?? '–'],
      ['OEE (A × P × Q), ISO 22400', `${pct(k.oee)} (${pct(k.availability)} × ${pct(k.performance)} × ${pct(k.quality)})`],
      ['first-pass yield', pct(k.firstPassYield)],
      ['scrap rate', pct(k.scrapRate)],
      ['escaped defects [ppm] (ground truth)', int(k.escapedPpm)],
      ['failures / MTBF [h] / MTTR [min]', `${int(k.failures)} / ${num(k.mtbfH, 2)} / ${num(k.mttrMin, 1)}`],
      ['lead time mean [s]', num(k.leadTimeMeanS)],
      ['energy [kWh]', num(k.energyKWh, 2)],
      ['energy per good part [kWh]', num(k.energyPerGoodPartKWh, 3)],
      ['operators / labour [h]', `${int(k.operators)} / ${num(k.labourHours, 2)}`],
      ['good parts per labour hour', num(k.goodPerLabourHour, 2)],
    ],
    [false, true],
  );
  const stations = renderTable(
    ['station', 'kind', 'availability', 'uptime', 'performance', 'OEE', 'utilisation', 'in', 'out', 'scrap', 'failures', 'MTBF [h]', 'MTTR [min]', 'energy [kWh]'],
    k.stations.map((s) => [
      s.id, s.kind, pct(s.availability), pct(s.uptime), s.performance === null ? '–' : pct(s.performance), s.oee === null ? '–' : pct(s.oee),
      pct(s.utilisation), int(s.partsIn), int(s.partsOut), int(s.scrapped), int(s.failures), num(s.mtbfH, 2), num(s.mttrMin, 1), num(s.energyKWh, 2),
    ]),
    [false, false, true, true, true, true, true, true, true, true, true, true, true, true],
  );
  return `${head}\n\n${line}\n\n${stations}\n`;
}
