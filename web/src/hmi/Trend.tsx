/**
 * A live trend of one station's tags with uPlot: the last few minutes of up to three tags
 * (temperatures when the station has them, else power and queue), saved as CSV (the samples in
 * their display units) or PNG (the chart on the panel's background, with the station and the
 * series named on it, since uPlot's legend is HTML and not part of its canvas). Attached to a
 * host with a historian, the chart opens with the tags' stored past (trend-backfill.ts) before
 * the live samples, so it does not open empty (the live samples push the past out as they come).
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LiveStore } from '../twin/live.ts';
import type { StationInfo, TwinSource } from '../twin/types.ts';
import { backfillColumns } from '../twin/trend-backfill.ts';
import { useI18n } from '../i18n/index.ts';
import { displayUnit } from './units.ts';
import { downloadBlob } from '../twin/download.ts';
import { trendCsv, trendFileName } from '../twin/trend-export.ts';

const POINTS = 600;
const COLOURS = ['#ff7b54', '#58a6ff', '#3fb950'];
/** the panel's background and text colours (styles.css), for the PNG */
const BACKGROUND = '#0d1117';
const INK = '#c9d1d9';
/** height of the PNG's heading band [CSS px] */
const HEADING = 22;

/** What the export buttons need of the chart on screen. */
interface Shown {
  plot: uPlot;
  data: number[][];
  /** column names: time, then each series with its unit */
  header: string[];
}

/** The chart as a PNG: its canvas on the panel's background, under a line naming the station and the series in their colours. */
function chartPng(shown: Shown, title: string): Promise<Blob> {
  const src = shown.plot.ctx.canvas;
  const ratio = src.width / Math.max(1, shown.plot.width);
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height + Math.round(HEADING * ratio);
  const g = out.getContext('2d');
  if (g === null) return Promise.reject(new Error('no 2D canvas to draw the PNG on'));
  g.fillStyle = BACKGROUND;
  g.fillRect(0, 0, out.width, out.height);
  g.scale(ratio, ratio);
  // the page's font stack: a Chinese title in the shipped font, whose glyphs the page has loaded
  g.font = `12px ${getComputedStyle(document.documentElement).fontFamily || 'sans-serif'}`;
  g.textBaseline = 'middle';
  let x = 6;
  const put = (text: string, colour: string): void => {
    g.fillStyle = colour;
    g.fillText(text, x, HEADING / 2);
    x += g.measureText(text).width + 12;
  };
  put(title, INK);
  shown.header.slice(1).forEach((h, j) => put(`— ${h}`, COLOURS[j] ?? INK));
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.drawImage(src, 0, Math.round(HEADING * ratio));
  return new Promise((resolve, reject) => out.toBlob((b) => (b === null ? reject(new Error('the browser made no PNG')) : resolve(b)), 'image/png'));
}

function trendTags(info: StationInfo): number[] {
  const hot = info.tags.map((t, k) => (t.unit === '°C' && t.access === 'r' ? k : -1)).filter((k) => k >= 0);
  const pick = hot.length > 0 ? hot : [info.tags.findIndex((t) => t.name === 'power')];
  return pick.filter((k) => k >= 0).slice(0, 3);
}

/** Trend chart of station `index`. */
export function Trend({ live, info, index, source }: { live: LiveStore; info: StationInfo; index: number; source: TwinSource }): React.JSX.Element {
  const el = useRef<HTMLDivElement>(null);
  const shown = useRef<Shown | null>(null);
  const { t, label } = useI18n();
  const timeLabel = `${t.simTime} [s]`;
  const names = t.tagLabels;
  useEffect(() => {
    const host = el.current;
    if (host === null) return;
    const tags = trendTags(info);
    const units = tags.map((k) => displayUnit(info.tags[k]?.unit ?? ''));
    const data: number[][] = [[], ...tags.map(() => [])];
    const header = [timeLabel, ...tags.map((k, j) => {
      const name = info.tags[k]?.name ?? '';
      return `${names[name] ?? name} [${units[j]!.unit}]`;
    })];
    const plot = new uPlot(
      {
        width: host.clientWidth || 320,
        height: 140,
        legend: { show: true },
        scales: { x: { time: false } },
        axes: [{ stroke: '#8b949e', grid: { stroke: '#30363d' } }, { stroke: '#8b949e', grid: { stroke: '#30363d' } }],
        series: [{ label: timeLabel }, ...tags.map((_, j) => ({ label: header[j + 1] ?? '', stroke: COLOURS[j] ?? '#fff', width: 1.5 }))],
      },
      data as uPlot.AlignedData,
      host,
    );
    shown.current = { plot, data, header };
    const mark = (): void => {
      host.dataset.points = String(data[0]!.length);
      host.dataset.from = String(data[0]![0] ?? '');
    };
    // the stored past, when the host keeps one: put before whatever live samples came meanwhile
    let closed = false;
    const history = source.history;
    if (history !== undefined) {
      void Promise.all(tags.map((k) => history.call(source, `${info.id}.${info.tags[k]?.name ?? ''}`, POINTS))).then((series) => {
        if (closed) return;
        const past = backfillColumns(series, units.map((u) => u.scale), data[0]![0] ?? Infinity, POINTS);
        data.forEach((d, j) => d.unshift(...(past[j] ?? [])));
        while (data[0]!.length > POINTS) for (const d of data) d.shift();
        plot.setData(data as uPlot.AlignedData);
        host.dataset.backfilled = String(past[0]?.length ?? 0);
        mark();
      }, (e: unknown) => {
        // a trend without its past is still a trend: say why in the console only
        console.warn('trend history:', e);
      });
    }
    const off = live.subscribe(() => {
      const f = live.frame;
      const values = f?.tags[index];
      if (f === null || values === undefined) return;
      data[0]!.push(f.simTimeS);
      tags.forEach((k, j) => data[j + 1]!.push((values[k] ?? NaN) * units[j]!.scale));
      if (data[0]!.length > POINTS) for (const d of data) d.shift();
      plot.setData(data as uPlot.AlignedData);
      mark();
    });
    return () => {
      closed = true;
      off();
      shown.current = null;
      plot.destroy();
    };
  }, [live, info, index, timeLabel, names, source]);
  const newest = (): number | undefined => shown.current?.data[0]?.at(-1);
  const title = `${label(info.name)} (${info.id})`;
  const saveCsv = (): void => {
    const s = shown.current;
    if (s !== null) downloadBlob(new Blob([trendCsv(s.header, s.data)], { type: 'text/csv' }), trendFileName(info.id, newest(), 'csv'));
  };
  const savePng = (): void => {
    const s = shown.current;
    if (s !== null) void chartPng(s, title).then((b) => downloadBlob(b, trendFileName(info.id, newest(), 'png')), (e: unknown) => console.error(e));
  };
  return (
    <section>
      <h3>
        {t.trend}{' '}
        <button type="button" className="small" data-testid="trend-csv" onClick={saveCsv} title={t.trendCsv}>CSV</button>{' '}
        <button type="button" className="small" data-testid="trend-png" onClick={savePng} title={t.trendPng}>PNG</button>
      </h3>
      <div ref={el} className="trend" data-testid="trend" />
    </section>
  );
}
