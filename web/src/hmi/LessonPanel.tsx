/**
 * The lesson panel of the attached twin (every signed-in role): the workshop lesson in progress
 * (sim/host/workshop.ts). Trainees read the step's prompt, answer its questions (the station
 * that limits the line, the step that pays first, an estimate) and see their score and the
 * class's targets; the instructor also starts a lesson, moves through its steps, injects the
 * faults the step offers, ends it, sees every trainee's score and saves the session report.
 * Questions are judged by the host on the predicted steady state of the step's line; targets
 * read the live line, or the prediction where the step retrofits the line; such a step links to
 * its line beside the served one (ComparePage), run in the browser.
 */
import { useCallback, useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import { answer, endLesson, getLessons, gotoStep, saveReport, startLesson, type LessonCheckpoint, type LessonList, type LessonView } from '../twin/lesson.ts';
import { FAULTS, injectFault, type Injection } from '../twin/run-control.ts';
import type { Session } from '../twin/session.ts';
import { compareHref } from '../twin/lines.ts';
import { usePoll } from './use-poll.ts';

/** period of polls of the lesson [ms] */
const POLL_MS = 2000;

/** Whether the web twin can inject `fault` (a lesson file may name a fault code only the line's own schedule uses). */
const offered = (fault: string): fault is Injection => (FAULTS as readonly string[]).includes(fault);

/** Props of `LessonPanel`. */
export interface LessonPanelProps {
  session: Session;
  instructor: boolean;
  /** the line's stations: id and name in the page's language */
  stations: { id: string; name: string }[];
  onClose(): void;
}

/** One question's answer form, or its result. */
function Question({ cp, session, stations, disabled, onAnswered }: { cp: LessonCheckpoint; session: Session; stations: LessonPanelProps['stations']; disabled: boolean; onAnswered(v: LessonView): void }): React.JSX.Element {
  const { t } = useI18n();
  const x = t.lesson;
  const [given, setGiven] = useState('');
  const [error, setError] = useState<string | null>(null);
  const done = cp.yours !== null && cp.yours.attemptsLeft === 0;
  const submit = (): void => {
    setError(null);
    const v = cp.answerKind === 'estimate' ? Number(given) : given;
    answer(session, cp.id, v).then((r) => onAnswered(r.current), (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <div className="answer">
      {cp.yours !== null ? (
        <p className={cp.yours.right ? 'ok' : 'bad'} data-testid="lesson-result" data-right={cp.yours.right ? '1' : '0'}>
          {cp.yours.right ? x.right : x.wrong} ({String(cp.yours.given)}) {cp.yours.right ? '' : `· ${x.attemptsLeft.replace('{n}', String(cp.yours.attemptsLeft))}`}
        </p>
      ) : null}
      {done ? null : (
        <p className="controls">
          {cp.answerKind === 'bottleneck' ? (
            <select value={given} onChange={(e) => setGiven(e.target.value)} data-testid={`lesson-input-${cp.id}`} aria-label={x.yourAnswer}>
              <option value="">{x.pickStation}</option>
              {stations.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
            </select>
          ) : (
            <input type={cp.answerKind === 'estimate' ? 'number' : 'text'} value={given} onChange={(e) => setGiven(e.target.value)} data-testid={`lesson-input-${cp.id}`} aria-label={x.yourAnswer} placeholder={cp.answerKind === 'first-step' ? x.stepPlaceholder : ''} style={{ width: '9em' }} />
          )}{' '}
          <button type="button" data-testid={`lesson-answer-${cp.id}`} disabled={disabled || given.trim() === ''} onClick={submit}>{x.answer}</button>
        </p>
      )}
      {error !== null ? <p className="bad" data-testid="lesson-answer-error">{error}</p> : null}
    </div>
  );
}

/** See the module comment. */
export function LessonPanel({ session, instructor, stations, onClose }: LessonPanelProps): React.JSX.Element {
  const { t, label, num, locale } = useI18n();
  const x = t.lesson;
  const [list, setList] = useState<LessonList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const fail = useCallback((e: unknown) => setError(e instanceof Error ? e.message : String(e)), []);
  const show = useCallback((v: LessonView) => setList((l) => (l === null ? l : { ...l, current: v })), []);

  usePoll(true, POLL_MS, useCallback(() => getLessons(session), [session]), setList, fail);

  const act = (p: Promise<LessonView>): void => {
    setError(null);
    p.then(show, fail);
  };
  const cur = list?.current ?? null;
  const stationName = (id: string): string => stations.find((s) => s.id === id)?.name ?? id;
  const figure = (cp: LessonCheckpoint): string => (cp.value === null ? '–' : num(cp.value));
  const source = cur === null ? '' : { live: x.sourceLive, predicting: x.sourcePredicting, predicted: x.sourcePredicted, failed: x.sourceFailed }[cur.current.figures];

  return (
    <aside className="rangepanel lessonpanel" data-testid="lesson-panel" data-lesson={cur?.id ?? ''} data-step={cur?.step ?? ''} data-state={cur?.state ?? ''}>
      <header>
        <h2>{x.title}</h2>
        <button type="button" onClick={onClose}>{t.range.close}</button>
      </header>
      {error !== null ? <p className="bad" data-testid="lesson-error">{error}</p> : null}
      {list === null ? <p className="muted">{t.loading}</p> : null}
      {list !== null && (cur === null || cur.state === 'ended') ? (
        instructor ? (
          <section className="trainer">
            <h3>{x.choose}</h3>
            {list.lessons.length === 0 ? <p className="muted">{x.none}</p> : null}
            <ul className="lessons">
              {list.lessons.map((l) => (
                <li key={l.id}>
                  <b>{label(l.title)}</b> <small>{l.minutes} {t.trainer.minutes} · {l.steps} {x.steps}</small>
                  <p className="muted">{label(l.summary)}</p>
                  <button type="button" data-testid={`lesson-start-${l.id}`} onClick={() => act(startLesson(session, l.id))}>{x.start}</button>
                </li>
              ))}
            </ul>
            {(list.problems ?? []).map((p) => <p key={p} className="warn">{p}</p>)}
          </section>
        ) : cur === null ? <p className="muted" data-testid="lesson-waiting">{x.waiting}</p> : null
      ) : null}
      {cur !== null ? (
        <section className="lesson" data-testid="lesson-current">
          <h3>{label(cur.title)}{cur.state === 'ended' ? ` · ${x.ended}` : ''}</h3>
          <ol className="steps">
            {cur.steps.map((s, k) => <li key={s.id} className={k === cur.step ? 'on' : ''}>{label(s.title)}{s.retrofits.length > 0 && k > 0 && cur.steps[k - 1]?.retrofits.length !== s.retrofits.length ? ' ⚙' : ''}</li>)}
          </ol>
          <h4>{label(cur.current.title)}</h4>
          <p data-testid="lesson-prompt">{label(cur.current.prompt)}</p>
          {cur.current.retrofits.length > 0 ? (
            <p className="muted" data-testid="lesson-retrofits">
              {x.retrofitted.replace('{steps}', cur.current.retrofits.join(', '))}{' '}
              <a className="button" data-testid="lesson-compare" target="_blank" rel="noopener" title={x.sideBySideTitle} href={compareHref(cur.line, [cur.line, ...cur.current.retrofits].join('+'), locale)}>{x.sideBySide}</a>
            </p>
          ) : null}
          <p className="muted" data-testid="lesson-source" data-figures={cur.current.figures} data-questions={cur.current.questions}>
            {source}{cur.current.questions === 'predicting' ? ` · ${x.predicting}` : ''}{cur.current.error !== undefined ? ` · ${cur.current.error}` : ''}
          </p>
          <ul className="checkpoints">
            {cur.current.checkpoints.map((cp) => (
              <li key={cp.id} data-testid={`lesson-cp-${cp.id}`} data-kind={cp.kind} data-met={cp.met === true ? '1' : '0'}>
                <b>{label(cp.text)}</b> <small>{cp.points} {x.points}</small>
                {cp.kind === 'target' ? (
                  <p className={cp.met === true ? 'ok' : 'muted'}>
                    {cp.met === true ? `✓ ${x.met}` : x.open} · {cp.figure} {figure(cp)} ({cp.goal})
                  </p>
                ) : (
                  <>
                    {cp.truth !== null ? <p className="muted" data-testid="lesson-truth">{x.twinSays} {typeof cp.truth === 'number' ? num(cp.truth) : cp.answerKind === 'bottleneck' ? stationName(cp.truth) : cp.truth}</p> : null}
                    {cur.state === 'running' ? <Question cp={cp} session={session} stations={stations} disabled={cur.current.questions !== 'predicted'} onAnswered={show} /> : null}
                  </>
                )}
              </li>
            ))}
          </ul>
          <p data-testid="lesson-score" data-you={cur.score.you.points} data-class={cur.score.class.points}>
            {x.yourScore} <b>{cur.score.you.points}</b> / {cur.score.you.of} · {x.classScore} <b>{cur.score.class.points}</b> / {cur.score.class.of}
          </p>
          {instructor ? (
            <>
              {cur.state === 'running' ? (
                <p className="controls">
                  <button type="button" data-testid="lesson-prev" disabled={cur.step === 0} onClick={() => act(gotoStep(session, cur.step - 1))}>{x.prev}</button>
                  <button type="button" data-testid="lesson-next" disabled={cur.step >= cur.steps.length - 1} onClick={() => act(gotoStep(session, cur.step + 1))}>{x.next}</button>
                  <button type="button" data-testid="lesson-end" onClick={() => act(endLesson(session))}>{x.end}</button>
                </p>
              ) : (
                <p className="controls">
                  <button type="button" data-testid="lesson-save-csv" onClick={() => void saveReport(session, 'csv', `${cur.id}-scores.csv`).catch(fail)}>{x.saveScores}</button>
                  <button type="button" data-testid="lesson-save-json" onClick={() => void saveReport(session, 'json', `${cur.id}-report.json`).catch(fail)}>{x.saveReport}</button>
                </p>
              )}
              {cur.state === 'running' && cur.current.faults.length > 0 ? (
                <div data-testid="lesson-faults">
                  <h5>{x.faults}</h5>
                  {cur.current.faults.map((f, k) => (
                    <p key={k} className="controls">
                      <button type="button" data-testid={`lesson-fault-${k}`} disabled={!offered(f.fault)} onClick={() => {
                        const code = f.fault;
                        if (!offered(code)) return;
                        setError(null);
                        setNote(null);
                        injectFault(session, f.station, code, f.minutes ?? 10).then(() => setNote(t.trainer.injected.replace('{fault}', t.trainer[code]).replace('{station}', stationName(f.station))), fail);
                      }}>{x.inject}</button>{' '}
                      {stationName(f.station)}: {offered(f.fault) ? t.trainer[f.fault] : f.fault}{f.minutes !== undefined ? `, ${f.minutes} ${t.trainer.minutes}` : ''}{f.note !== undefined ? <small>{label(f.note)}</small> : null}
                    </p>
                  ))}
                  {note !== null ? <p className="ok" data-testid="lesson-note">{note}</p> : null}
                </div>
              ) : null}
              {(cur.board ?? []).length > 0 ? (
                <table className="board" data-testid="lesson-board">
                  <thead><tr><th>{x.trainee}</th><th>{x.points}</th><th>{x.rightAnswers}</th></tr></thead>
                  <tbody>{cur.board?.map((b) => <tr key={b.user}><td>{b.user}</td><td>{b.points}</td><td>{b.right} / {b.answered}</td></tr>)}</tbody>
                </table>
              ) : null}
            </>
          ) : null}
        </section>
      ) : null}
    </aside>
  );
}
