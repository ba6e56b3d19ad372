/**
 * A live trend of one station's tags with uPlot: the last few minutes of up to three tags
 * (temperatures when the station has them, else power and queue).
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LiveStore } from '../twin/live.ts';
import type { StationInfo } from '../twin/types.ts';
import { useI18n } from '../i18n/index.ts';
import { displayUnit } from './units.ts';

const POINTS = 600;
const COLOURS = ['#ff7b54', '#58a6ff', '#3fb950'];

function trendTags(info: StationInfo): number[] {
  const hot = info.tags.map((t, k) => (t.unit === '°C' && t.access === 'r' ? k : -1)).filter((k) => k >= 0);
  const pick = hot.length > 0 ? hot : [info.tags.findIndex((t) => t.name === 'power')];
  return pick.filter((k) => k >= 0).slice(0, 3);
}

/** Trend chart of station `index`. */
export function Trend({ live, info, index }: { live: LiveStore; info: StationInfo; index: number }): React.JSX.Element {
  const el = useRef<HTMLDivElement>(null);
  const { t } = useI18n();
  const timeLabel = `${t.simTime} [s]`;
  const names = t.tagLabels;
  useEffect(() => {
    const host = el.current;
    if (host === null) return;
    const tags = trendTags(info);
    const units = tags.map((k) => displayUnit(info.tags[k]?.unit ?? ''));
    const data: number[][] = [[], ...tags.map(() => [])];
    const plot = new uPlot(
      {
        width: host.clientWidth || 320,
        height: 140,
        legend: { show: true },
        scales: { x: { time: false } },
        axes: [{ stroke: '#8b949e', grid: { stroke: '#30363d' } }, { stroke: '#8b949e', grid: { stroke: '#30363d' } }],
        series: [{ label: timeLabel }, ...tags.map((k, j) => {
          const name = info.tags[k]?.name ?? '';
          return { label: `${names[name] ?? name} [${units[j]!.unit}]`, stroke: COLOURS[j] ?? '#fff', width: 1.5 };
        })],
      },
      data as uPlot.AlignedData,
      host,
    );
    const off = live.subscribe(() => {
      const f = live.frame;
      const values = f?.tags[index];
      if (f === null || values === undefined) return;
      data[0]!.push(f.simTimeS);
      tags.forEach((k, j) => data[j + 1]!.push((values[k] ?? NaN) * units[j]!.scale));
      if (data[0]!.length > POINTS) for (const d of data) d.shift();
      plot.setData(data as uPlot.AlignedData);
    });
    return () => {
      off();
      plot.destroy();
    };
  }, [live, info, index, timeLabel, names]);
  return (
    <section>
      <h3>{t.trend}</h3>
      <div ref={el} className="trend" data-testid="trend" />
    </section>
  );
}
