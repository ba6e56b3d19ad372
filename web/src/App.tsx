/**
 * The browser twin. `?mode=standalone&scenario=ceramic-after` runs a built-in line in a Web
 * Worker in this page; otherwise the page attaches to the `twinline serve` host that served
 * it, after logging in when the host asks for it. `?lang=zh-CN|en` picks the language (also
 * switchable in the header).
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { I18nContext, initialLocale, makeI18n, type Locale } from './i18n/index.ts';
import { LiveStore, useLive } from './twin/live.ts';
import type { TwinMode } from './twin/types.ts';
import { DEFAULT_SCENARIO, SCENARIOS } from './twin/scenarios.ts';
import { STANDALONE_ROLE, type Role } from './twin/roles.ts';
import { Session } from './twin/session.ts';
import { Scene, type SceneBench } from './scene/Scene.tsx';
import { makeHandle } from './scene/handle.ts';
import type { Placed } from './scene/layout.ts';
import { KpiBar } from './hmi/KpiBar.tsx';
import { Faceplate } from './hmi/Faceplate.tsx';
import { NetworkPanel } from './hmi/NetworkPanel.tsx';
import { LoginForm } from './hmi/LoginForm.tsx';
import { UserBadge } from './hmi/UserBadge.tsx';
import { StationList } from './hmi/StationList.tsx';
import { RangePanel } from './hmi/RangePanel.tsx';
import { LessonPanel } from './hmi/LessonPanel.tsx';
import { AlertPanel } from './hmi/AlertPanel.tsx';
import { useNetwork, useSession, useTwinSource } from './use-twin.ts';
import { useAlertMarks, useAlerts } from './use-alerts.ts';
import { SEVERITY_RGB } from './twin/alerts.ts';
import { clock } from '../../sim/host/progress.ts';
import { builtInPair, compareHref } from './twin/lines.ts';

/** how long the note of a restarted run stays [ms] */
const RESTART_NOTE_MS = 15_000;

/** The whole page. */
export function App(): React.JSX.Element {
  const params = useMemo(() => new URLSearchParams(location.search), []);
  const mode: TwinMode = params.get('mode') === 'standalone' ? 'standalone' : 'attached';
  // standalone runs the scenario the URL names; a name it does not know is an error the page shows
  // (with the ones it knows), never a silent fallback. Attached, the host decides the line.
  const wanted = params.get('scenario');
  const unknownScenario = mode === 'standalone' && wanted !== null && SCENARIOS[wanted] === undefined ? wanted.slice(0, 100) : null;
  const scenario = wanted !== null && SCENARIOS[wanted] !== undefined ? wanted : DEFAULT_SCENARIO;
  // render bench only (`?mode=standalone&bench=500[&parts=meshes][&merge=0]`): fill the line, then keep it paused
  const bench = useMemo((): SceneBench | null => {
    const n = Number(params.get('bench'));
    return mode === 'standalone' && Number.isInteger(n) && n > 0 ? { parts: n, partMeshes: params.get('parts') === 'meshes', merge: params.get('merge') !== '0' } : null;
  }, [params, mode]);
  const [locale, setLocale] = useState<Locale>(() => initialLocale(location.search, navigator.language));
  const i18n = useMemo(() => makeI18n(locale), [locale]);
  const { t, label } = i18n;
  const live = useMemo(() => new LiveStore(), []);
  const handle = useMemo(() => makeHandle(), []);
  const session = useMemo(() => (mode === 'attached' ? new Session() : null), [mode]);
  const auth = useSession(session);
  const [wantLogin, setWantLogin] = useState(false);
  // the twin runs once the page knows who it is (standalone: at once); a new login restarts it
  const signedIn = auth.state?.kind === 'signed-in' ? auth.state : null;
  const key = unknownScenario !== null ? null : session === null ? 'standalone' : signedIn !== null ? `${signedIn.who.user}|${signedIn.token ?? ''}` : null;
  const { source, error: twinError, outage, restartedAt } = useTwinSource({ mode, scenario, fillParts: bench?.parts ?? null, live, handle, session, key });
  const error = unknownScenario !== null ? t.unknownScenario.replace('{id}', unknownScenario).replace('{known}', Object.keys(SCENARIOS).join(', ')) : (auth.error ?? twinError);
  const role: Role = session === null ? STANDALONE_ROLE : (signedIn?.who.role ?? 'viewer');
  const [selected, setSelected] = useState<string | null>(null);
  const frame = useLive(live);
  const [netOn, setNetOn] = useState(false);
  // the station list as a drawer over the 3D view (narrow screens only: styles.css shows it beside the view elsewhere)
  const [drawer, setDrawer] = useState(false);
  // the security range: attached pages of an instructor only (the host refuses anyone else)
  const [rangeOn, setRangeOn] = useState(false);
  const mayRange = session !== null && signedIn !== null && role === 'instructor';
  // the workshop lesson: every signed-in role of an attached page (trainees answer, the instructor runs it)
  const [lessonOn, setLessonOn] = useState(false);
  const mayLesson = session !== null && signedIn !== null;
  const { net, netError } = useNetwork(netOn, source);
  // a restarted run is announced for a while, then the note goes
  const [restartNote, setRestartNote] = useState(false);
  useEffect(() => {
    if (restartedAt === null) return;
    setRestartNote(true);
    const id = setTimeout(() => setRestartNote(false), RESTART_NOTE_MS);
    return () => clearTimeout(id);
  }, [restartedAt]);
  const stationName = useCallback((p: Placed) => label(p.info.name), [label]);
  // the host's security alerts: followed while signed in, marked on the line, listed in a panel
  const alerts = useAlerts(session, key);
  const marks = useAlertMarks(alerts.state);
  const [alertsOn, setAlertsOn] = useState(false);
  const stations = source?.line.stations;
  const stationNameById = useCallback((id: string) => {
    const s = stations?.find((q) => q.id === id);
    return s !== undefined ? label(s.name) : id;
  }, [stations, label]);
  const closeAlerts = useCallback(() => setAlertsOn(false), []);
  const rangeStations = useMemo(() => (stations ?? []).map((s) => ({ id: s.id, name: label(s.name) })), [stations, label]);
  const selectStation = useCallback((id: string) => {
    setSelected(id);
    handle.focus?.(id);
  }, [handle]);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  // F: the whole line again (not while typing into a field)
  useEffect(() => {
    const key = (e: KeyboardEvent): void => {
      const el = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey || (el?.closest('input, textarea, select') ?? null) !== null) return;
      if (e.key === 'f' || e.key === 'F') handle.overview?.();
    };
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [handle]);
  useEffect(() => {
    if (signedIn?.token !== null) setWantLogin(false);
  }, [signedIn?.token]);

  // the line's built-in before/after pair, run side by side in this browser (attached: in a new tab, the twin keeps running here)
  const pair = builtInPair(mode === 'standalone' ? scenario : (source?.line.id ?? ''));
  const showLogin = session !== null && (auth.state?.kind === 'signed-out' || (wantLogin && signedIn?.token === null));
  const selIndex = source?.line.stations.findIndex((s) => s.id === selected) ?? -1;
  const selInfo = selIndex >= 0 ? source?.line.stations[selIndex] : undefined;
  return (
    <I18nContext.Provider value={i18n}>
      <div className="app" data-mode={mode} data-stale={outage !== null ? '1' : '0'} data-ready={source !== null && frame !== null && !showLogin ? '1' : '0'} data-drawer={drawer ? '1' : '0'}>
        <header className="top">
          <h1>{t.appName}</h1>
          <span className="title">{source !== null ? label(source.line.title) : ''}</span>
          <span className={`badge mode-${mode}`} data-testid="mode" data-transport={source?.transport()}>
            {mode === 'standalone' ? t.modeStandalone : source === null ? t.modeAttached : `${t.modeAttached} · ${source.transport() === 'websocket' ? t.viaWebSocket : t.viaPolling}`}
          </span>
          <span className="muted" data-testid="clock">{frame !== null && source !== null ? `${t.simTime} ${clock(frame.simTimeS)}` : ''}</span>
          <span className="spacer" />
          {mode === 'standalone' ? (
            <label className="muted">
              {t.scenario}{' '}
              <select value={unknownScenario !== null ? '' : scenario} onChange={(e) => (location.search = `?mode=standalone&scenario=${e.target.value}&lang=${locale}`)}>
                {unknownScenario !== null ? <option value="" disabled>—</option> : null}
                {Object.keys(SCENARIOS).map((id) => <option key={id} value={id}>{id}</option>)}
              </select>
            </label>
          ) : null}
          {pair !== null ? (
            <a className="button" data-testid="compare-open" title={t.compare.openTitle} href={compareHref(...pair, locale)} {...(mode === 'attached' ? { target: '_blank', rel: 'noopener' } : {})}>{t.compare.open}</a>
          ) : null}
          {signedIn !== null && session !== null ? (
            <UserBadge who={signedIn.who} signedIn={signedIn.token !== null} onLogout={() => void session.logout().catch(() => undefined)} onLogin={() => setWantLogin(true)} />
          ) : null}
          {mayLesson ? <button type="button" data-testid="lesson-toggle" aria-pressed={lessonOn} className={lessonOn ? 'on' : ''} onClick={() => setLessonOn(!lessonOn)}>{t.lesson.button}</button> : null}
          {mayRange ? <button type="button" data-testid="range-toggle" aria-pressed={rangeOn} className={rangeOn ? 'on' : ''} onClick={() => setRangeOn(!rangeOn)}>{t.range.button}</button> : null}
          <button type="button" data-testid="alerts-toggle" aria-pressed={alertsOn} className={alertsOn ? 'on' : ''} title={t.alerts.buttonTitle.replace('{n}', String(marks.count))} onClick={() => setAlertsOn(!alertsOn)}>
            {t.alerts.button}
            {marks.worst !== null ? <span className="count" data-testid="alerts-count" data-severity={marks.worst} style={{ background: `#${SEVERITY_RGB[marks.worst].toString(16).padStart(6, '0')}` }}>{marks.count}</span> : null}
          </button>
          <button type="button" data-testid="net-toggle" aria-pressed={netOn} className={netOn ? 'on' : ''} onClick={() => setNetOn(!netOn)}>{t.network}</button>
          <button type="button" data-testid="lang" onClick={() => setLocale(locale === 'en' ? 'zh-CN' : 'en')}>{t.switchLanguage}</button>
        </header>
        {frame !== null && source !== null && !showLogin ? <KpiBar kpis={frame.kpis} /> : null}
        {outage !== null && error === null && !showLogin ? (
          <div className="outage" role="alert" data-testid="outage">
            <b>{t.outage}</b> <span className="muted">{t.outageStale} ({outage})</span>
          </div>
        ) : null}
        {restartNote && outage === null ? <div className="notice" role="status" data-testid="restarted">{t.restarted}</div> : null}
        {error !== null ? (
          <div className="error" data-testid="error">
            <b>{t.failed}</b>: {error}
            {mode === 'attached' ? <p><a href={`?mode=standalone&scenario=${DEFAULT_SCENARIO}`}>{t.tryStandalone}</a></p> : null}
            {unknownScenario !== null ? (
              <p data-testid="scenario-choices">{t.chooseScenario}{' '}
                {Object.keys(SCENARIOS).map((id) => <a key={id} href={`?mode=standalone&scenario=${id}&lang=${locale}`}>{id}</a>).reduce<React.ReactNode[]>((all, a, k) => (k === 0 ? [a] : [...all, ' · ', a]), [])}
              </p>
            ) : null}
          </div>
        ) : null}
        {showLogin && session !== null ? (
          <main className="center">
            <LoginForm session={session} expired={auth.state?.kind === 'signed-out' && auth.state.expired} {...(signedIn !== null ? { onCancel: () => setWantLogin(false) } : {})} />
          </main>
        ) : (
          <main>
            <StationList stations={source?.line.stations ?? []} frame={source !== null ? frame : null} selected={selected} onSelect={(id) => { setSelected(id); setDrawer(false); handle.focus?.(id); }} />
            <div className="view">
              {source !== null ? <Scene source={source} live={live} handle={handle} selected={selected} onSelect={setSelected} network={netOn ? net : null} netLabels={t.net} alerts={session !== null ? marks : null} stationName={stationName} bench={bench} /> : <p className="muted loading">{error !== null ? '' : auth.state?.kind === 'checking' ? t.login.checking : t.loading}</p>}
              {source !== null ? <button type="button" className="fit" data-testid="fit" title={t.fitTitle} onClick={() => handle.overview?.()}>{t.fit}</button> : null}
              {source !== null ? <button type="button" className="drawer-toggle" data-testid="stations-toggle" aria-expanded={drawer} onClick={() => setDrawer(!drawer)}>{t.stations}</button> : null}
              {netOn ? <NetworkPanel report={net} error={netError} alerts={marks} /> : null}
              <p className="help muted">{t.help}</p>
            </div>
            {source !== null && selInfo !== undefined ? (
              <Faceplate key={selInfo.id} source={source} live={live} info={selInfo} index={selIndex} role={role} onClose={() => setSelected(null)} />
            ) : null}
            {alertsOn ? <AlertPanel state={alerts.state} role={role} stationName={stationNameById} onSelect={selectStation} onAck={alerts.ack} onClose={closeAlerts} /> : null}
            {mayLesson && lessonOn && session !== null ? <LessonPanel key={`lesson|${signedIn?.who.user ?? ""}`} session={session} instructor={role === 'instructor'} stations={rangeStations} onClose={() => setLessonOn(false)} /> : null}
            {mayRange && rangeOn && session !== null ? <RangePanel key={signedIn?.who.user} session={session} stations={rangeStations} onClose={() => setRangeOn(false)} /> : null}
          </main>
        )}
      </div>
    </I18nContext.Provider>
  );
}
