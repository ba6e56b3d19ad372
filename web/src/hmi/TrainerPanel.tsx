/**
 * The trainer's part of the range panel (instructor only): the line's pace (1 × to 600 × real
 * time), pause and resume, a jump to the end of the shift, and a fault or disturbance injected
 * on a station for a number of minutes, so a workshop can fast-forward to the interesting part,
 * stop to explain, and make the line break on cue. The host audits each change; while a
 * scripted exercise runs it holds the pace and these controls wait.
 */
import { useCallback, useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import { FAULTS, getRun, injectFault, jumpToShiftEnd, setRun, SPEEDS, type Injection, type RunState } from '../twin/run-control.ts';
import type { Session } from '../twin/session.ts';
import { usePoll } from './use-poll.ts';
import { clock } from '../../../sim/host/progress.ts';

/** period of polls of the pace (an exercise may change it) [ms] */
const POLL_MS = 2000;

/** Props of `TrainerPanel`. */
export interface TrainerPanelProps {
  session: Session;
  /** the line's stations: id and name in the page's language */
  stations: { id: string; name: string }[];
}

/** See the module comment. */
export function TrainerPanel({ session, stations }: TrainerPanelProps): React.JSX.Element {
  const { t, num } = useI18n();
  const x = t.trainer;
  const [run, setRunState] = useState<RunState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [station, setStation] = useState(stations.find((s) => s.id !== '')?.id ?? '');
  const [fault, setFault] = useState<Injection>('breakdown');
  const [minutes, setMinutes] = useState(10);
  const fail = useCallback((e: unknown) => setError(e instanceof Error ? e.message : String(e)), []);

  usePoll(true, POLL_MS, useCallback(() => getRun(session), [session]), setRunState, fail);

  const change = (c: { speed?: number; running?: boolean }): void => {
    setError(null);
    setRun(session, c).then(setRunState, fail);
  };
  const inject = (): void => {
    setError(null);
    setNote(null);
    injectFault(session, station, fault, minutes).then(() => setNote(x.injected.replace('{fault}', x[fault]).replace('{station}', stations.find((s) => s.id === station)?.name ?? station)), fail);
  };
  const [jumping, setJumping] = useState(false);
  const jump = (): void => {
    setError(null);
    setNote(null);
    setJumping(true);
    jumpToShiftEnd(session).then((r) => {
      setRunState(r);
      const j = r.jumped;
      setNote(x.jumped.replace('{span}', clock(j.toS - j.fromS)).replace('{to}', clock(j.toS)).replace('{shift}', j.shift === null ? '' : x.shiftEnd.replace('{n}', String(j.shift))).replace('{took}', num(j.tookS, 1)));
    }, fail).finally(() => setJumping(false));
  };
  const exercise = run?.exercise === true;
  const held = exercise || jumping;

  return (
    <section className="trainer" data-testid="trainer" data-speed={run?.speed ?? ''} data-running={run === null ? '' : run.running ? '1' : '0'}>
      <h3>{x.title}</h3>
      {error !== null ? <p className="bad" data-testid="trainer-error">{error}</p> : null}
      {exercise ? <p className="warn">{x.exerciseHolds}</p> : null}
      <p className="controls">
        <span className="muted">{x.speed}</span>{' '}
        {SPEEDS.map((v) => (
          <button key={v} type="button" data-testid={`trainer-speed-${v}`} aria-pressed={run?.speed === v} disabled={held || run === null} onClick={() => change({ speed: v })}>{v}×</button>
        ))}{' '}
        {run?.running === false
          ? <button type="button" data-testid="trainer-resume" disabled={held} onClick={() => change({ running: true })}>{x.resume}</button>
          : <button type="button" data-testid="trainer-pause" disabled={held || run === null} onClick={() => change({ running: false })}>{x.pause}</button>}{' '}
        <button type="button" data-testid="trainer-jump" disabled={held || run === null} onClick={jump} title={x.jumpHint}>{jumping ? x.jumping : x.jump}</button>
      </p>
      <p className="controls">
        <select value={station} onChange={(e) => setStation(e.target.value)} data-testid="trainer-station" aria-label={x.station}>
          {stations.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>{' '}
        <select value={fault} onChange={(e) => setFault(e.target.value as Injection)} data-testid="trainer-fault" aria-label={x.fault}>
          {FAULTS.map((f) => <option key={f} value={f}>{x[f]}</option>)}
        </select>{' '}
        <label>
          <input type="number" min={1} max={480} value={minutes} onChange={(e) => setMinutes(Math.max(1, Math.min(480, Number(e.target.value) || 1)))} data-testid="trainer-minutes" style={{ width: '4em' }} /> {x.minutes}
        </label>{' '}
        <button type="button" data-testid="trainer-inject" disabled={station === ''} onClick={inject}>{x.inject}</button>
      </p>
      {note !== null ? <p className="ok" data-testid="trainer-note">{note}</p> : null}
    </section>
  );
}
