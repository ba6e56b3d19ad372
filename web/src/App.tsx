/**
 * The browser twin. `?mode=standalone&scenario=ceramic-after` runs a built-in line in a Web
 * Worker in this page; otherwise the page attaches to the `twinline serve` host that served
 * it. `?lang=zh-CN|en` picks the language (also switchable in the header).
 */
import { useEffect, useMemo, useState } from 'react';
import { I18nContext, initialLocale, makeI18n, type Locale } from './i18n/index.ts';
import { LiveStore, lampOf, useLive } from './twin/live.ts';
import type { TwinMode, TwinSource } from './twin/types.ts';
import { startStandalone } from './twin/standalone.ts';
import { startAttached } from './twin/attached.ts';
import { DEFAULT_SCENARIO, SCENARIOS } from './twin/scenarios.ts';
import { Scene, type SceneBench } from './scene/Scene.tsx';
import { makeHandle } from './scene/handle.ts';
import { KpiBar } from './hmi/KpiBar.tsx';
import { Faceplate } from './hmi/Faceplate.tsx';
import { installHooks } from './test-hooks.ts';
import { NetworkPanel } from './hmi/NetworkPanel.tsx';
import type { NetworkReport } from './twin/network.ts';

/** period of state polls [ms] */
const POLL_MS = 250;
/** period of network polls while the overlay is on [ms] */
const NET_POLL_MS = 1000;

function clock(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** The whole page. */
export function App(): React.JSX.Element {
  const params = useMemo(() => new URLSearchParams(location.search), []);
  const mode: TwinMode = params.get('mode') === 'standalone' ? 'standalone' : 'attached';
  const wanted = params.get('scenario') ?? DEFAULT_SCENARIO;
  const scenario = SCENARIOS[wanted] !== undefined ? wanted : DEFAULT_SCENARIO;
  // render bench only (`?mode=standalone&bench=500[&parts=meshes][&merge=0]`): fill the line, then keep it paused
  const bench = useMemo((): SceneBench | null => {
    const n = Number(params.get('bench'));
    return mode === 'standalone' && Number.isInteger(n) && n > 0 ? { parts: n, partMeshes: params.get('parts') === 'meshes', merge: params.get('merge') !== '0' } : null;
  }, [params, mode]);
  const [locale, setLocale] = useState<Locale>(() => initialLocale(location.search, navigator.language));
  const i18n = useMemo(() => makeI18n(locale), [locale]);
  const { t, label, num } = i18n;
  const live = useMemo(() => new LiveStore(), []);
  const handle = useMemo(() => makeHandle(), []);
  const [source, setSource] = useState<TwinSource | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const frame = useLive(live);
  const [netOn, setNetOn] = useState(false);
  const [net, setNet] = useState<NetworkReport | null>(null);
  const [netError, setNetError] = useState<string | null>(null);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  useEffect(() => {
    let src: TwinSource | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    (mode === 'standalone' ? startStandalone(scenario, bench !== null ? { fillParts: bench.parts } : {}) : startAttached()).then(
      (s) => {
        if (stopped) return s.close();
        src = s;
        installHooks(s, live, handle, scenario);
        setSource(s);
        let busy = false;
        const poll = (): void => {
          if (busy) return;
          busy = true;
          s.poll().then((f) => live.set(f), (e: unknown) => setError(String(e))).finally(() => (busy = false));
        };
        poll();
        timer = setInterval(poll, POLL_MS);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      src?.close();
    };
  }, [mode, scenario, live, handle, bench]);

  useEffect(() => {
    if (!netOn || source === null) return;
    let busy = false;
    const poll = (): void => {
      if (busy) return;
      busy = true;
      source.network().then(
        (r) => {
          setNet(r);
          setNetError(null);
        },
        (e: unknown) => setNetError(e instanceof Error ? e.message : String(e)),
      ).finally(() => (busy = false));
    };
    poll();
    const id = setInterval(poll, NET_POLL_MS);
    return () => {
      clearInterval(id);
      setNet(null);
    };
  }, [netOn, source]);

  const selIndex = source?.line.stations.findIndex((s) => s.id === selected) ?? -1;
  const selInfo = selIndex >= 0 ? source?.line.stations[selIndex] : undefined;
  return (
    <I18nContext.Provider value={i18n}>
      <div className="app" data-mode={mode} data-ready={source !== null && frame !== null ? '1' : '0'}>
        <header className="top">
          <h1>{t.appName}</h1>
          <span className="title">{source !== null ? label(source.line.title) : ''}</span>
          <span className={`badge mode-${mode}`} data-testid="mode" data-transport={source?.transport()}>
            {mode === 'standalone' ? t.modeStandalone : `${t.modeAttached} · ${source?.transport() === 'websocket' ? t.viaWebSocket : t.viaPolling}`}
          </span>
          <span className="muted" data-testid="clock">{frame !== null ? `${t.simTime} ${clock(frame.simTimeS)}` : ''}</span>
          <span className="spacer" />
          {mode === 'standalone' ? (
            <label className="muted">
              {t.scenario}{' '}
              <select value={scenario} onChange={(e) => (location.search = `?mode=standalone&scenario=${e.target.value}&lang=${locale}`)}>
                {Object.keys(SCENARIOS).map((id) => <option key={id} value={id}>{id}</option>)}
              </select>
            </label>
          ) : null}
          <button type="button" data-testid="net-toggle" aria-pressed={netOn} className={netOn ? 'on' : ''} onClick={() => setNetOn(!netOn)}>{t.network}</button>
          <button type="button" data-testid="lang" onClick={() => setLocale(locale === 'en' ? 'zh-CN' : 'en')}>{t.switchLanguage}</button>
        </header>
        {frame !== null ? <KpiBar kpis={frame.kpis} /> : null}
        {error !== null ? (
          <div className="error" data-testid="error">
            <b>{t.failed}</b>: {error}
            {mode === 'attached' ? <p><a href={`?mode=standalone&scenario=${DEFAULT_SCENARIO}`}>{t.tryStandalone}</a></p> : null}
          </div>
        ) : null}
        <main>
          <nav className="stations" aria-label={t.stations}>
            <h3>{t.stations}</h3>
            <ul>
              {source?.line.stations.map((s, k) => {
                const st = frame?.stations[k];
                return (
                  <li key={s.id}>
                    <button type="button" className={selected === s.id ? 'on' : ''} data-station={s.id} onClick={() => { setSelected(s.id); handle.focus?.(s.id); }}>
                      <i className={`dot lamp-${st === undefined ? 'yellow' : lampOf(st.state, st.fault)}`} />
                      {label(s.name)}
                      <small>{st !== undefined ? (t.states[st.state] ?? st.state) : ''}{st !== undefined && st.queue > 0 ? ` · ${num(st.queue, 0)}` : ''}</small>
                    </button>
                  </li>
                );
              })}
            </ul>
          </nav>
          <div className="view">
            {source !== null ? <Scene source={source} live={live} handle={handle} selected={selected} onSelect={setSelected} network={netOn ? net : null} netLabels={t.net} bench={bench} /> : <p className="muted loading">{error === null ? t.loading : ''}</p>}
            {netOn ? <NetworkPanel report={net} error={netError} /> : null}
            <p className="help muted">{t.help}</p>
          </div>
          {source !== null && selInfo !== undefined ? (
            <Faceplate key={selInfo.id} source={source} live={live} info={selInfo} index={selIndex} onClose={() => setSelected(null)} />
          ) : null}
        </main>
      </div>
    </I18nContext.Provider>
  );
}
