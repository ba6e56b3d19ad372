/**
 * `twinline exercise`: `check <file>` checks an exercise file; `run <file>` runs it on a twin of
 * its own (security/exercise/run.ts) and prints the score. Exit codes: 0 the exercise ran (or
 * the file is good), 1 an internal error, 2 bad input (nothing was started), 130 interrupted
 * twice (the twin killed at once).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { TwinlineError } from '../../sim/core/errors.ts';
import { parseOptions } from '../../sim/host/args.ts';
import { loadExercise } from './exercise.ts';

export const EXERCISE_USAGE = `usage: twinline exercise check <file>
       twinline exercise run <file> [--out DIR] [--ready-ms MS] [--json]

check   checks an exercise file (its line, profile, attacks and their stations) without a twin
run     starts a twin of the exercise's line and profile (its home in DIR/home: the trainees'
        accounts are in DIR/home/initial-passwords.txt), prints "ready <web address>", launches
        the attacks at their seconds through the range and watches the response; it ends when
        every phase of the playbook the twin picked is done, at durationS, or on Ctrl-C (the
        instructor ends it). Writes DIR/report.html and report.zh.html (the incident's report),
        DIR/score.json (detection, containment, recovery, lost production) and DIR/dataset/ (a
        labelled dataset of the run). DIR defaults to exercise-<id>.
exit codes: 0 ran (or the file is good), 1 internal error, 2 bad input`;

/** Where the command writes. */
export interface ExerciseIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const usage = (m: string): TwinlineError => new TwinlineError('USAGE', m);

/** `twinline exercise …` (argv after `exercise`). */
export async function exerciseCommand(argv: readonly string[], io: ExerciseIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    io.stdout.write(`${EXERCISE_USAGE}\n`);
    return 0;
  }
  if (sub !== 'check' && sub !== 'run') throw usage(`unknown exercise command "${sub}": check or run`);
  const { values: v, positionals } = parseOptions({
    args: [...rest], allowPositionals: true,
    options: sub === 'run' ? { out: { type: 'string' }, 'ready-ms': { type: 'string' }, json: { type: 'boolean' } } : {},
  }, `exercise ${sub}`, EXERCISE_USAGE);
  if (positionals.length !== 1) throw usage(`exercise ${sub} takes one exercise file, got ${positionals.length}`);
  const ex = loadExercise(resolve(positionals[0]!));
  if (sub === 'check') {
    io.stdout.write(`ok  ${ex.file}: ${ex.id} (${ex.title.en} / ${ex.title.zh}); ${ex.attacks.length} attack${ex.attacks.length === 1 ? '' : 's'} on ${ex.scenario} under ${ex.profile}\n`);
    return 0;
  }
  const o = v as { out?: string; 'ready-ms'?: string; json?: boolean };
  const readyMs = o['ready-ms'] === undefined ? 120_000 : Number(o['ready-ms']);
  if (!Number.isInteger(readyMs) || readyMs < 1000 || readyMs > 600_000) throw usage(`--ready-ms ${o['ready-ms']} must be a whole number of ms from 1000 to 600000`);
  const out = resolve(o.out ?? `exercise-${ex.id}`);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new TwinlineError('IO', `cannot create the output folder (${(e as { code?: string }).code ?? String(e)})`, { file: out });
  }
  const { runExercise } = await import('./run.ts');
  const { interruptible } = await import('../matrix/twin.ts');
  // Ctrl-C / SIGTERM: the instructor ends the exercise (report and score are still written); a second one kills the twin
  const abort = interruptible(io.stderr, 'ending the exercise');
  try {
    const r = await runExercise({ exercise: ex, out, readyMs, signal: abort.signal, log: (l) => void io.stdout.write(`${l}\n`) });
    if (o.json === true) {
      io.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    }
    const s = r.score;
    io.stdout.write([
      `result: ended ${r.ended}; ${r.detection.detected ? `detected by ${r.detection.firstAlert} after ${((r.detection.ttdMs ?? 0) / 1000).toFixed(1)} s` : 'not detected'}; level ${r.level ?? '–'}, playbook ${r.playbook ?? '–'}`,
      `  phases: ${r.phases.map((p) => `${p.id} ${p.status}`).join(', ') || '–'}`,
      `  line: ${r.restored ? 'every attacked station producing again' : `not restored (${Object.entries(r.stations).map(([k, x]) => `${k} ${x}`).join(', ')})`}`,
      `score ${s.total}: detection ${s.detection}, containment ${s.containment ?? '–'}, recovery ${s.recovery}, production ${s.production}`,
      `wrote ${r.files.report}, ${r.files.reportZh}, ${r.files.score}${r.files.dataset === null ? '' : `, ${r.files.dataset}/`}${r.datasetProblems.length > 0 ? ` (dataset: ${r.datasetProblems.join('; ')})` : ''}`,
      '',
    ].join('\n'));
    return 0;
  } finally {
    abort.release();
  }
}
