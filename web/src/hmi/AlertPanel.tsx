/**
 * The situational-awareness panel (态势感知): the host's security alerts, newest first, each with
 * its time, severity (in its warning colour), the detector's title, station and principal,
 * ATT&CK for ICS technique ids, time-to-detect when the host knows it, evidence, and its
 * acknowledgement (a button for an operator and above; who and when once done). Above the
 * list a timeline of the alerts held, and a filter per severity. Standalone, with detectors
 * off, or refused the alerts, it says so instead.
 */
import { memo, useState } from 'react';
import { useI18n, type I18n } from '../i18n/index.ts';
import { isActive, SEVERITIES, SEVERITY_RGB, type AlertState, type Severity, type TwinAlert } from '../twin/alerts.ts';
import { roleForCommand, type Role } from '../twin/roles.ts';
import { needsRole } from './permit.ts';
import { T, type Technique } from '../../../security/attacks/techniques.ts';

/** Props of `AlertPanel`. */
export interface AlertPanelProps {
  state: AlertState;
  role: Role;
  /** a station's name in the page's language */
  stationName(id: string): string;
  /** a station of an alert was clicked */
  onSelect(station: string): void;
  onAck(id: number): Promise<{ ok: true } | { ok: false; message: string }>;
  onClose(): void;
}

/** ATT&CK for ICS techniques by id (the range's one table), for the ids' tooltips */
const TECHNIQUES: ReadonlyMap<string, Technique> = new Map(Object.values(T).map((q: Technique) => [q.id, q]));

/** the timeline spans at least this long [ms] */
const MIN_SPAN_MS = 10 * 60_000;

const hex = (rgb: number): string => `#${rgb.toString(16).padStart(6, '0')}`;

function clockText(i18n: I18n, ms: number): string {
  return new Date(ms).toLocaleTimeString(i18n.locale, { hour12: false });
}

/** The time-to-detect line of an alert, or null when the host does not know it. */
function ttdText(i18n: I18n, a: TwinAlert): string | null {
  const { t, num } = i18n;
  const q = t.alerts;
  const during = a.during;
  const ms = during !== undefined ? during.ttdMs : a.alertMs - a.firstEvidenceMs;
  if (!Number.isFinite(ms) || ms < 0) return null;
  const value = ms < 50 ? q.atOnce : `${num(ms / 1000, 1)} ${q.seconds}`;
  const from = during !== undefined ? q.ttdRun.replace('{run}', String(during.run)).replace('{attack}', during.attack) : q.ttdEvidence;
  return `${q.ttd} ${value} ${from}`;
}

/** The alerts held, on a line from the oldest (or 10 min ago) to now, coloured by severity. */
function Timeline({ alerts, nowMs, onPick }: { alerts: readonly TwinAlert[]; nowMs: number; onPick(id: number): void }): React.JSX.Element {
  const { t } = useI18n();
  const oldest = alerts.length > 0 ? alerts[alerts.length - 1]!.alertMs : nowMs;
  const span = Math.max(MIN_SPAN_MS, nowMs - oldest);
  const W = 300;
  const x = (ms: number): number => 8 + ((W - 16) * Math.min(span, Math.max(0, ms - (nowMs - span)))) / span;
  return (
    <figure className="timeline" data-testid="alert-timeline" aria-label={t.alerts.timeline}>
      <svg viewBox={`0 0 ${W} 34`} preserveAspectRatio="none" role="img">
        <line x1={8} x2={W - 8} y1={16} y2={16} className="axis" />
        {/* oldest last in the list: drawn first, so the newest is on top */}
        {[...alerts].reverse().map((a) => {
          const r = 3 + SEVERITIES.indexOf(a.severity);
          const c = hex(SEVERITY_RGB[a.severity]);
          return (
            <circle key={a.id} data-id={a.id} cx={x(a.alertMs)} cy={16} r={r} fill={a.ack === null ? c : 'none'} stroke={c} strokeWidth={1.5} onClick={() => onPick(a.id)}>
              <title>{`${a.severity} · ${a.title}`}</title>
            </circle>
          );
        })}
      </svg>
      <figcaption><span>{t.alerts.ago.replace('{m}', String(Math.round(span / 60_000)))}</span><span>{t.alerts.now}</span></figcaption>
    </figure>
  );
}

/** One alert of the list. */
function Item({ a, nowMs, role, picked, stationName, onSelect, onAck }: { a: TwinAlert; nowMs: number; role: Role; picked: boolean } & Pick<AlertPanelProps, 'stationName' | 'onSelect' | 'onAck'>): React.JSX.Element {
  const i18n = useI18n();
  const { t } = i18n;
  const q = t.alerts;
  const [ackError, setAckError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const denied = needsRole(t, role, roleForCommand('ack'));
  const ttd = ttdText(i18n, a);
  const ack = (): void => {
    setBusy(true);
    setAckError(null);
    onAck(a.id).then((r) => setAckError(r.ok ? null : r.message), (e: unknown) => setAckError(String(e))).finally(() => setBusy(false));
  };
  return (
    <li data-alert-id={a.id} data-severity={a.severity} data-station={a.station ?? ''} data-acked={a.ack !== null ? '1' : '0'} data-active={isActive(a, nowMs) ? '1' : '0'}
      className={picked ? 'picked' : undefined} style={{ borderLeftColor: hex(SEVERITY_RGB[a.severity]) }}>
      <div className="head">
        <time dateTime={new Date(a.alertMs).toISOString()}>{clockText(i18n, a.alertMs)}</time>
        <span className={`sev sev-${a.severity}`}>{t.severities[a.severity]}</span>
        {a.station !== null ? (
          <button type="button" className="link" data-testid="alert-station" onClick={() => onSelect(a.station!)}>{stationName(a.station)}</button>
        ) : <span className="muted">{q.line}</span>}
        <span className="techniques">{a.techniques.map((id) => {
          const q = TECHNIQUES.get(id);
          return <abbr key={id} title={q !== undefined ? `${q.name} (${q.tactic})${q.current !== undefined ? ` → ${q.current}` : ''}` : undefined}>{id}</abbr>;
        })}</span>
      </div>
      <p className="title">{a.title}</p>
      <small>
        {q.from} {a.principal || '?'} · {a.detector}/{a.rule}
        {ttd !== null ? <span className="ttd" data-testid="alert-ttd"> · {ttd}</span> : null}
      </small>
      {a.evidence.lines.length > 0 ? (
        <details>
          <summary>{q.evidence}</summary>
          <ul className="evidence">{a.evidence.lines.map((l, k) => <li key={k}>{l}</li>)}</ul>
        </details>
      ) : null}
      <div className="ackrow">
        {a.ack !== null ? (
          <small className="acked" data-testid="alert-acked">{q.acked.replace('{by}', a.ack.by).replace('{time}', clockText(i18n, a.ack.ms))}</small>
        ) : (
          <button type="button" data-testid="alert-ack" disabled={denied !== null || busy} title={denied ?? undefined} onClick={ack}>{q.ack}</button>
        )}
        {ackError !== null ? <small className="bad" data-testid="alert-ack-error">{q.ackFailed}: {ackError}</small> : null}
      </div>
    </li>
  );
}

/** The alert panel. */
export const AlertPanel = memo(function AlertPanel({ state, role, stationName, onSelect, onAck, onClose }: AlertPanelProps): React.JSX.Element {
  const { t, num } = useI18n();
  const q = t.alerts;
  const [shown, setShown] = useState<ReadonlySet<Severity>>(() => new Set(SEVERITIES));
  const [picked, setPicked] = useState<number | null>(null);
  const nowMs = Date.now() + state.skewMs;
  const list = state.alerts.filter((a) => shown.has(a.severity));
  const counts = new Map<Severity, number>(SEVERITIES.map((s) => [s, 0]));
  for (const a of state.alerts) counts.set(a.severity, (counts.get(a.severity) ?? 0) + 1);
  const active = state.alerts.filter((a) => isActive(a, nowMs)).length;
  const toggle = (s: Severity): void => {
    const next = new Set(shown);
    if (next.has(s)) next.delete(s);
    else next.add(s);
    setShown(next);
  };
  const pick = (id: number): void => {
    setPicked(id);
    document.querySelector(`[data-testid="alert-list"] li[data-alert-id="${id}"]`)?.scrollIntoView({ block: 'nearest' });
  };
  const note = state.status === 'standalone' ? q.standalone : state.status === 'off' ? q.off : state.status === 'loading' ? q.loading : null;
  return (
    <aside className="alertpanel" data-testid="alert-panel" data-status={state.status} data-count={state.alerts.length} data-active={active}>
      <header>
        <h2>{q.title}</h2>
        <button type="button" onClick={onClose}>{q.close}</button>
      </header>
      {note !== null ? <p className="muted" data-testid="alert-note">{note}</p> : null}
      {state.status === 'forbidden' ? <p className="bad" data-testid="alert-note">{q.forbidden}: {state.error}</p> : null}
      {state.status === 'error' || (state.status === 'ok' && state.error !== null) ? (
        <p className="bad" data-testid="alert-error">{q.error}: {state.error}{state.alerts.length > 0 ? ` (${q.stale})` : ''}</p>
      ) : null}
      {state.status === 'ok' || state.alerts.length > 0 ? (
        <>
          <p className="muted intro">{q.intro}</p>
          <p className="summary" data-testid="alert-summary">
            <b>{num(active, 0)}</b> {q.active} · {num(state.raised, 0)} {q.raised}
            {state.raised > state.alerts.length ? ` · ${q.kept.replace('{n}', String(state.alerts.length))}` : ''}
          </p>
          <div className="filters" role="group" aria-label={q.filter}>
            {[...SEVERITIES].reverse().map((s) => (
              <button key={s} type="button" data-testid="alert-filter" data-severity={s} aria-pressed={shown.has(s)} className={shown.has(s) ? 'on' : ''}
                style={{ borderColor: hex(SEVERITY_RGB[s]) }} onClick={() => toggle(s)}>
                {t.severities[s]} <span className="n">{num(counts.get(s) ?? 0, 0)}</span>
              </button>
            ))}
          </div>
          <Timeline alerts={list} nowMs={nowMs} onPick={pick} />
          {state.alerts.length === 0 ? <p className="muted" data-testid="alert-none">{q.none}</p> : list.length === 0 ? <p className="muted" data-testid="alert-none">{q.filtered}</p> : null}
          <ul className="alerts" data-testid="alert-list">
            {list.map((a) => (
              <Item key={a.id} a={a} nowMs={nowMs} role={role} picked={picked === a.id} stationName={stationName} onSelect={onSelect} onAck={onAck} />
            ))}
          </ul>
          <p className="muted legend">{q.legend}</p>
        </>
      ) : null}
    </aside>
  );
});
