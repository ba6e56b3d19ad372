/**
 * Before and after side by side: `?mode=compare&before=<line>&after=<line>[&speed=N][&warmup=S]`.
 * A line is a built-in scenario or one with retrofit steps applied (`steel-ball-before+automatic-pouring`,
 * twin/lines.ts). Both run in this browser, each in its own worker, on one timeline
 * (twin/pair.ts): the 3D lines show what the retrofit changes (a robot where people stood, a
 * camera station in place of inspectors), the table what it does to the KPIs, both lines read at
 * the same simulated time after the same warm-up. Needs no host: a trainer can open it on a laptop.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { I18nContext, initialLocale, makeI18n, useI18n, type Locale } from './i18n/index.ts';
import { clock } from '../../sim/host/progress.ts';
import { LiveStore, useLive } from './twin/live.ts';
import { compareHref, lineText, retrofittedLines, type LineText } from './twin/lines.ts';
import { LinePair, PAIR_SPEEDS, PAIR_WARMUP_S, type PairStatus } from './twin/pair.ts';
import { kpiDeltas, type KpiDelta } from './twin/kpi-delta.ts';
import { SCENARIOS } from './twin/scenarios.ts';
import type { TwinSource } from './twin/types.ts';
import { Scene } from './scene/Scene.tsx';
import { makeHandle } from './scene/handle.ts';
import type { Placed } from './scene/layout.ts';

/** period of the views' state polls [ms] */
const POLL_MS = 250;
/** longest warm-up the address may ask for [simulated s] */
const MAX_WARMUP_S = 86_400;

/** The pair the address asks for, or what is wrong with it. */
function wanted(params: URLSearchParams): { keys: [string, string]; speed: number; warmupS: number } {
  const speed = Number(params.get('speed'));
  const warm = params.get('warmup');
  const w = warm === null ? PAIR_WARMUP_S : Number(warm);
  return {
    keys: [params.get('before') ?? 'ceramic-before', params.get('after') ?? 'ceramic-after'],
    speed: (PAIR_SPEEDS as readonly number[]).includes(speed) ? speed : 60,
    warmupS: Number.isFinite(w) ? Math.min(MAX_WARMUP_S, Math.max(0, Math.round(w))) : PAIR_WARMUP_S,
  };
}

/** One side: its heading and its 3D line. */
function Side({ side, source, live }: { side: 'before' | 'after'; source: TwinSource; live: LiveStore }): React.JSX.Element {
  const { t, label } = useI18n();
  const handle = useMemo(() => makeHandle(), []);
  const stationName = useCallback((p: Placed) => label(p.info.name), [label]);
  const noSelect = useCallback(() => undefined, []);
  const frame = useLive(live);
  return (
    <section className="side" data-testid={`side-${side}`} data-line={source.line.id} data-sim={frame !== null ? Math.round(frame.simTimeS) : ''}>
      <h2><span className={`tag ${side}`}>{t.compare[side]}</span> {label(source.line.title)} <small className="muted">{source.line.id}</small></h2>
      <div className="view">
        <Scene source={source} live={live} handle={handle} selected={null} onSelect={noSelect} netLabels={t.net} stationName={stationName} />
        <button type="button" className="fit" title={t.fitTitle} onClick={() => handle.overview?.()}>{t.fit}</button>
      </div>
    </section>
  );
}

/** The KPI table: before, after, change. */
function Deltas({ rows }: { rows: KpiDelta[] }): React.JSX.Element {
  const { t, num, pct } = useI18n();
  const x = t.compare;
  const ratio = new Set(['oee', 'yield']);
  const show = (r: KpiDelta, v: number | null): string => (v === null ? '—' : ratio.has(r.key) ? pct(v) : num(v, r.key === 'energy' ? 3 : r.key === 'throughput' || r.key === 'operators' ? 1 : 0));
  const change = (r: KpiDelta): string => {
    if (r.delta === null) return '—';
    const sign = r.delta > 0 ? '+' : '';
    const abs = ratio.has(r.key) ? `${sign}${num(r.delta * 100, 1)} pt` : `${sign}${show(r, r.delta)}`;
    return r.relative === null || ratio.has(r.key) ? abs : `${abs} (${sign}${num(r.relative * 100, 0)} %)`;
  };
  const names: Record<KpiDelta['key'], string> = {
    throughput: `${t.kpi.throughput} ${t.kpi.perHour}`, oee: t.kpi.oee, yield: t.kpi.yield, energy: `${t.kpi.energyPerPart} [kWh]`,
    operators: t.kpi.operators, shipped: t.kpi.shipped, scrapped: t.kpi.scrapped, escaped: t.kpi.escaped,
  };
  return (
    <table className="deltas" data-testid="deltas">
      <thead><tr><th>{x.kpi}</th><th>{x.before}</th><th>{x.after}</th><th>{x.change}</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-testid={`delta-${r.key}`} data-before={r.before ?? ''} data-after={r.after ?? ''} data-delta={r.delta ?? ''} data-sense={r.sense ?? ''}>
            <th>{names[r.key]}</th><td>{show(r, r.before)}</td><td>{show(r, r.after)}</td>
            <td className={r.sense ?? ''}>{change(r)}{r.sense !== null && r.sense !== 'same' ? ` · ${x[r.sense]}` : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Polls `source` into `live` while mounted. */
function useFeed(source: TwinSource | undefined, live: LiveStore): void {
  useEffect(() => {
    if (source === undefined) return;
    let busy = false;
    const poll = (): void => {
      if (busy) return;
      busy = true;
      source.poll().then((f) => live.set(f), () => undefined).finally(() => (busy = false));
    };
    poll();
    const id = setInterval(poll, POLL_MS);
    return () => clearInterval(id);
  }, [source, live]);
}

/** The whole page in compare mode. */
export function ComparePage(): React.JSX.Element {
  const params = useMemo(() => new URLSearchParams(location.search), []);
  const want = useMemo(() => wanted(params), [params]);
  const [locale, setLocale] = useState<Locale>(() => initialLocale(location.search, navigator.language));
  const i18n = useMemo(() => makeI18n(locale), [locale]);
  const { t } = i18n;
  const x = t.compare;
  // built once per address: a language switch must not restart (and warm up again) the pair
  const built = useMemo((): { lines: [LineText, LineText] } | { line: string; why: string } => {
    const [b, a] = want.keys;
    let at = b;
    try {
      const before = lineText(b);
      at = a;
      return { lines: [before, lineText(a)] };
    } catch (e) {
      return { line: at.slice(0, 200), why: e instanceof Error ? e.message : String(e) };
    }
  }, [want]);
  const [pair, setPair] = useState<LinePair | null>(null);
  const [status, setStatus] = useState<PairStatus | null>(null);
  const [failed, setError] = useState<string | null>(null);
  const error = 'why' in built ? x.badLine.replace('{line}', built.line).replace('{why}', built.why) : failed;
  const live = useMemo(() => [new LiveStore(), new LiveStore()] as const, []);
  useEffect(() => {
    if (!('lines' in built)) return;
    let stopped = false;
    let p: LinePair | null = null;
    LinePair.start(built.lines[0], built.lines[1], { warmupS: want.warmupS, speed: want.speed }).then((q) => {
      if (stopped) return q.close();
      p = q;
      setStatus(q.state);
      q.subscribe(setStatus);
      setPair(q);
    }, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    return () => {
      stopped = true;
      p?.close();
    };
  }, [built, want]);
  useFeed(pair?.before, live[0]);
  useFeed(pair?.after, live[1]);
  const fb = useLive(live[0]);
  const fa = useLive(live[1]);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const [beforeKey, afterKey] = want.keys;
  const base = beforeKey.split('+')[0] ?? '';
  const afterChoices = useMemo(() => [...new Set([...Object.keys(SCENARIOS), ...(SCENARIOS[base] !== undefined ? retrofittedLines(base) : []), afterKey])], [base, afterKey]);
  const go = (b: string, a: string): void => {
    location.search = compareHref(b, a, locale) + (want.speed !== 60 ? `&speed=${want.speed}` : '');
  };
  const running = status !== null && (status.phase === 'running' || status.phase === 'paused');
  const rows = fb !== null && fa !== null && running ? kpiDeltas(fb.kpis, fa.kpis) : null;
  const ready = pair !== null && running && rows !== null;
  return (
    <I18nContext.Provider value={i18n}>
      <div className="app compare" data-mode="compare" data-testid="compare" data-ready={ready ? '1' : '0'} data-phase={status?.phase ?? ''} data-sim={status !== null ? Math.round(status.simTimeS) : ''}>
        <header className="top">
          <h1>{t.appName}</h1>
          <span className="title">{x.title}</span>
          <label className="muted">{x.before}{' '}
            <select value={beforeKey} data-testid="compare-before" onChange={(e) => go(e.target.value, afterKey)}>
              {[...new Set([...Object.keys(SCENARIOS), beforeKey])].map((id) => <option key={id} value={id}>{id}</option>)}
            </select>
          </label>
          <label className="muted">{x.after}{' '}
            <select value={afterKey} data-testid="compare-after" onChange={(e) => go(beforeKey, e.target.value)}>
              {afterChoices.map((id) => <option key={id} value={id}>{id.includes('+') ? `${id.split('+')[0] ?? ''} ${x.withStep.replace('{step}', id.split('+').slice(1).join(' + '))}` : id}</option>)}
            </select>
          </label>
          <span className="muted" data-testid="clock">{status !== null ? `${t.simTime} ${clock(status.simTimeS)}` : ''}</span>
          <span className="spacer" />
          <span className="muted">{x.pace}</span>
          {PAIR_SPEEDS.map((s) => (
            <button type="button" key={s} data-testid={`compare-speed-${s}`} className={status?.speed === s ? 'on' : ''} aria-pressed={status?.speed === s} disabled={pair === null} onClick={() => pair?.setSpeed(s)}>{s}×</button>
          ))}
          <button type="button" data-testid="compare-pause" disabled={!running} onClick={() => pair?.setRunning(status?.phase !== 'running')}>{status?.phase === 'paused' ? x.resume : x.pause}</button>
          <button type="button" data-testid="lang" onClick={() => setLocale(locale === 'en' ? 'zh-CN' : 'en')}>{t.switchLanguage}</button>
        </header>
        {error !== null || status?.error !== undefined ? <div className="error" data-testid="error"><b>{t.failed}</b>: {error ?? status?.error}</div> : null}
        {status !== null ? (
          <p className="muted pairstatus" data-testid="compare-status">
            {status.phase === 'warming'
              ? x.warming.replace('{done}', clock(status.simTimeS)).replace('{of}', clock(status.warmupS))
              : `${x.warmNote.replace('{h}', String(Math.round((status.warmupS / 3600) * 10) / 10))}${status.rate > 0 ? ` · ${x.reached.replace('{x}', String(Math.round(status.rate)))}` : ''}`}
          </p>
        ) : error === null ? <p className="muted pairstatus">{t.loading}</p> : null}
        {pair !== null ? (
          <main className="pair">
            <Side side="before" source={pair.before} live={live[0]} />
            <Side side="after" source={pair.after} live={live[1]} />
          </main>
        ) : null}
        {rows !== null ? <Deltas rows={rows} /> : null}
      </div>
    </I18nContext.Provider>
  );
}
