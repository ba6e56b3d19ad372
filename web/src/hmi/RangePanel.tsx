/**
 * The security range's panel (instructor only; the host refuses anyone else): the attack
 * library with ATT&CK for ICS technique ids, a Run button per attack, the run going on, and
 * each attack's last result as the host reports it: outcome, impact measured on the line,
 * evidence, and what putting the line back did. Above them, the trainer's run control and
 * fault injection (TrainerPanel) and the scripted exercises (ExercisePanel).
 */
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import { ExercisePanel } from './ExercisePanel.tsx';
import { TrainerPanel } from './TrainerPanel.tsx';
import { getRun, listAttacks, listRuns, startAttack, type RangeAttack, type RangeRun } from '../twin/range.ts';
import type { Session } from '../twin/session.ts';
import { usePoll } from './use-poll.ts';

/** period of polls of the run going on [ms] */
const RUN_POLL_MS = 1000;
/** evidence lines shown per result */
const MAX_EVIDENCE = 14;

/** Props of `RangePanel`. */
export interface RangePanelProps {
  session: Session;
  /** the line's stations: id and name in the page's language (fault injection) */
  stations: { id: string; name: string }[];
  onClose(): void;
}

function value(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One run's result. */
function Result({ run }: { run: RangeRun }): React.JSX.Element {
  const { t, num } = useI18n();
  const r = t.range;
  if (run.status === 'running') {
    return <p className="muted" data-testid="range-running">{r.running} {run.progress.at(-1) ?? ''}</p>;
  }
  if (run.status === 'failed' || run.report === null) {
    return <p className="bad" data-testid="range-result" data-outcome="failed"><b>{r.failed}</b>: {run.error}</p>;
  }
  const rep = run.report;
  const shown = rep.evidence.slice(0, MAX_EVIDENCE);
  return (
    <div className={`result ${rep.outcome}`} data-testid="range-result" data-outcome={rep.outcome}>
      <p>
        <b>{r.outcome}</b>: <span className={rep.outcome === 'succeeded' ? 'bad' : 'ok'} data-testid="range-outcome">{rep.outcome === 'succeeded' ? r.succeeded : r.blocked}</span>
        <small> · {r.station} {rep.station} · {r.profile} {rep.profile ?? '?'} · {r.duration} {num(rep.durationMs / 1000, 1)} {r.seconds} · {r.by} {run.by}</small>
      </p>
      <h5>{r.impact}</h5>
      <dl data-testid="range-impact">
        {Object.entries(rep.impact).map(([k, v]) => (
          <div key={k}><dt>{k}</dt><dd>{value(v)}</dd></div>
        ))}
      </dl>
      <h5>{r.evidence}</h5>
      <ul data-testid="range-evidence">
        {shown.map((e, k) => <li key={k}>{e}</li>)}
        {rep.evidence.length > shown.length ? <li className="muted">… {rep.evidence.length - shown.length} {r.more}</li> : null}
      </ul>
      {rep.cleanup.length > 0 ? (
        <>
          <h5>{r.cleanup}</h5>
          <ul>{rep.cleanup.map((c, k) => <li key={k}>{c}</li>)}</ul>
        </>
      ) : null}
    </div>
  );
}

/** The range panel. */
export function RangePanel({ session, stations, onClose }: RangePanelProps): React.JSX.Element {
  const { t } = useI18n();
  const r = t.range;
  const [attacks, setAttacks] = useState<RangeAttack[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** the last run of each attack */
  const [last, setLast] = useState<Record<string, RangeRun>>({});
  /** the run going on (its number), polled until it ends */
  const [running, setRunning] = useState<number | null>(null);
  const fail = useCallback((e: unknown) => setError(e instanceof Error ? e.message : String(e)), []);

  useEffect(() => {
    let stop = false;
    Promise.all([listAttacks(session), listRuns(session)]).then(([lib, runs]) => {
      if (stop) return;
      setAttacks(lib.attacks);
      const byAttack: Record<string, RangeRun> = {};
      for (const run of [...runs.runs].reverse()) byAttack[run.attack] = run;
      setLast(byAttack);
      setRunning(runs.running);
      setError(null);
    }, fail);
    return () => {
      stop = true;
    };
  }, [session, fail]);

  const runGoing = useCallback(() => getRun(session, running ?? 0), [session, running]);
  const runSeen = useCallback((run: RangeRun) => {
    setLast((l) => ({ ...l, [run.attack]: run }));
    if (run.status !== 'running') setRunning(null);
  }, []);
  usePoll(running !== null, RUN_POLL_MS, runGoing, runSeen, fail);

  const run = (id: string): void => {
    setError(null);
    startAttack(session, id).then(setRunning, fail);
  };

  return (
    <aside className="rangepanel" data-testid="range-panel" data-running={running ?? ''}>
      <header>
        <h2>{r.title}</h2>
        <button type="button" onClick={onClose}>{r.close}</button>
      </header>
      <p className="muted">{r.intro}</p>
      <TrainerPanel session={session} stations={stations} />
      <ExercisePanel session={session} />
      {error !== null ? <p className="bad" data-testid="range-error">{r.error}: {error}</p> : null}
      {attacks === null ? <p className="muted">{r.loading}</p> : null}
      <ul className="attacks">
        {attacks?.map((a) => {
          const lastRun = last[a.id];
          return (
            <li key={a.id} data-attack={a.id} data-face={a.face}>
              <div className="head">
                <b>{a.id}</b>
                <span className="techniques">{a.techniques.map((q) => <abbr key={q.id} title={`${q.name} (${q.tactic})`}>{q.id}</abbr>)}</span>
                <span className="muted">{r.face} {a.face}</span>
                <button type="button" data-testid="range-run" disabled={running !== null} title={running !== null ? r.busy : undefined} onClick={() => run(a.id)}>
                  {lastRun?.status === 'running' ? r.running : r.run}
                </button>
              </div>
              <small>{a.title}</small>
              <details>
                <summary>{r.details}</summary>
                <p><b>{r.techniques}</b>: {a.techniques.map((q) => `${q.id} ${q.name}`).join(', ')}</p>
                <p><b>{r.preconditions}</b>: {a.preconditions.join('; ')}</p>
                <p><b>{r.steps}</b>:</p>
                <ol>{a.steps.map((s, k) => <li key={k}>{s}</li>)}</ol>
                <p><b>{r.expected}</b>: {a.expectedImpact}</p>
              </details>
              {lastRun !== undefined ? <Result run={lastRun} /> : null}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
