/** The line's KPIs at a glance: throughput, OEE = A × P × Q, yield, energy per part, operators. */
import { useI18n } from '../i18n/index.ts';
import type { Kpis } from '../twin/types.ts';

/** KPI bar across the top of the view. */
export function KpiBar({ kpis }: { kpis: Kpis }): React.JSX.Element {
  const { t, num, pct } = useI18n();
  const items: [string, string, string][] = [
    ['throughput', t.kpi.throughput, `${num(kpis.throughputPerHour, 1)} ${t.kpi.perHour}`],
    ['oee', t.kpi.oee, `${pct(kpis.oee)} = ${pct(kpis.availability, 0)} × ${pct(kpis.performance, 0)} × ${pct(kpis.quality, 0)}`],
    ['yield', t.kpi.yield, pct(kpis.firstPassYield)],
    ['energy', t.kpi.energyPerPart, kpis.energyPerGoodPartKWh === null ? '—' : `${num(kpis.energyPerGoodPartKWh, 3)} kWh`],
    ['operators', t.kpi.operators, num(kpis.operators, 1)],
    ['wip', t.kpi.wip, num(kpis.wip, 0)],
    ['shipped', t.kpi.shipped, num(kpis.shipped, 0)],
    ['scrapped', t.kpi.scrapped, num(kpis.scrapped, 0)],
  ];
  return (
    <div className="kpis" data-testid="kpis">
      {items.map(([key, label, value]) => (
        <div className="kpi" key={key} data-kpi={key}>
          <span>{label}</span>
          <b>{value}</b>
        </div>
      ))}
    </div>
  );
}
