/**
 * The exercise part of the range panel (instructor only): this line's scripted exercises, a
 * Start button, and for the one going on its clock (paused time left out), its attacks as
 * launched, Pause/Resume and End; once it has ended, the score and the report (en, 中文).
 */
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import { controlExercise, currentExercise, listExercises, openExerciseReport, type ExerciseInfo, type ExerciseState } from '../twin/exercises.ts';
import type { Session } from '../twin/session.ts';

/** period of polls of the exercise going on [ms] */
const POLL_MS = 1000;

const live = (s: ExerciseState | null): boolean => s !== null && (s.state === 'running' || s.state === 'paused' || s.state === 'concluding');

/** See the module comment. */
export function ExercisePanel({ session }: { session: Session }): React.JSX.Element {
  const { t, num, locale } = useI18n();
  const x = t.exercise;
  const [list, setList] = useState<ExerciseInfo[] | null>(null);
  const [pick, setPick] = useState('');
  const [cur, setCur] = useState<ExerciseState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fail = useCallback((e: unknown) => setError(e instanceof Error ? e.message : String(e)), []);
  const zh = locale === 'zh-CN';

  useEffect(() => {
    let stop = false;
    listExercises(session).then((r) => {
      if (stop) return;
      setList(r.exercises);
      setPick((p) => (p === '' ? (r.exercises[0]?.id ?? '') : p));
      setCur(r.current);
    }, fail);
    return () => {
      stop = true;
    };
  }, [session, fail]);

  const going = live(cur);
  useEffect(() => {
    if (!going) return;
    let busy = false;
    const id = setInterval(() => {
      if (busy) return;
      busy = true;
      currentExercise(session).then(setCur, fail).finally(() => (busy = false));
    }, POLL_MS);
    return () => clearInterval(id);
  }, [going, session, fail]);

  const act = (action: 'start' | 'pause' | 'resume' | 'end'): void => {
    setError(null);
    controlExercise(session, action, action === 'start' ? pick : undefined).then(setCur, fail);
  };

  return (
    <section className="exercise" data-testid="exercise" data-state={cur?.state ?? ''}>
      <h3>{x.title}</h3>
      {error !== null ? <p className="bad" data-testid="exercise-error">{error}</p> : null}
      {list !== null && list.length === 0 ? <p className="muted">{x.none}</p> : null}
      {list !== null && list.length > 0 ? (
        <p className="controls">
          <select value={pick} onChange={(e) => setPick(e.target.value)} disabled={going} data-testid="exercise-pick" aria-label={x.title}>
            {list.map((e) => <option key={e.id} value={e.id}>{zh ? e.title.zh : e.title.en} ({e.attacks.length} · {num(e.durationS / 60, 0)} {x.minutes})</option>)}
          </select>
          <button type="button" data-testid="exercise-start" disabled={going || pick === ''} onClick={() => act('start')}>{x.start}</button>
        </p>
      ) : null}
      {cur !== null ? (
        <div data-testid="exercise-current">
          <p>
            <b>{zh ? cur.title.zh : cur.title.en}</b>{' '}
            <span className={cur.state === 'failed' ? 'bad' : cur.state === 'paused' ? 'warn' : 'muted'} data-testid="exercise-state">{x[cur.state]}</span>{' '}
            <small data-testid="exercise-clock">{num(cur.elapsedS, 0)} / {num(cur.durationS, 0)} {x.seconds}</small>
          </p>
          {cur.state === 'running' || cur.state === 'paused' ? (
            <p className="controls">
              {cur.state === 'running'
                ? <button type="button" data-testid="exercise-pause" onClick={() => act('pause')}>{x.pause}</button>
                : <button type="button" data-testid="exercise-resume" onClick={() => act('resume')}>{x.resume}</button>}
              <button type="button" data-testid="exercise-end" onClick={() => act('end')}>{x.end}</button>
            </p>
          ) : null}
          <ol className="schedule">
            {cur.attacks.map((a, k) => (
              <li key={k} data-launched={a.launched?.status ?? ''}>
                {num(a.atS, 0)} {x.seconds}: <b>{a.attack}</b>{a.station === null ? '' : ` → ${a.station}`}{' '}
                <span className="muted">{a.launched === null ? x.waiting : `${a.launched.status}${a.launched.outcome === null ? '' : ` (${a.launched.outcome})`}`}</span>
              </li>
            ))}
          </ol>
          {cur.error !== null ? <p className="bad">{cur.error}</p> : null}
          {cur.score !== null ? (
            <p data-testid="exercise-score">
              <b>{x.score} {cur.score.total}</b>{' '}
              <small>{x.detection} {cur.score.detection} · {x.containment} {cur.score.containment ?? '–'} · {x.recovery} {cur.score.recovery} · {x.production} {cur.score.production}</small>
            </p>
          ) : null}
          {cur.report ? (
            <p className="controls">
              <button type="button" data-testid="exercise-report" onClick={() => void openExerciseReport(session, zh ? 'zh' : 'en').catch(fail)}>{x.report}</button>
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
