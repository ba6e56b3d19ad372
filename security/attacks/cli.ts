/**
 * `twinline attack list|run`: the range's attack library from the command line. `list` names
 * every attack with its ATT&CK for ICS techniques and face; `run` performs one against the
 * range's own endpoints and prints its outcome, the impact measured on the line and the
 * evidence. Exit codes: 0 the attack ran (succeeded or blocked), 2 bad usage or a refused
 * target (nothing was sent), 1 internal error.
 */
import { format } from 'node:util';
import { parseOptions } from '../../sim/host/args.ts';
import { TwinlineError } from '../../sim/core/errors.ts';
import { homeDir } from '../../sim/host/home.ts';
import { renderTable } from '../../sim/host/table.ts';
import type { AttackReport } from './run.ts';
import { TARGET_SCHEMES } from './targets.ts';

export const ATTACK_USAGE = `usage: twinline attack list [--json]
       twinline attack run <id> --target URL [--target URL…] [options]

list: every attack of the range: id, ATT&CK for ICS techniques, face, title (--json: an array).

run: performs one attack against a running twin and prints the outcome (succeeded or blocked),
the impact measured on the line, the evidence (what the attacker saw, the twin's audit trail),
and puts the line back afterwards (unless --no-cleanup).
  --target URL      the attack's endpoint (${TARGET_SCHEMES}), and the range's
                    web address (http://…) where the impact is measured; repeatable
  --range FILE      a range file (YAML, targets: [host…]) listing hosts besides loopback
  --user U          an account the attacker holds (default: none, anonymous);  --password P
  --station ID      the station to aim at (default: the line's first kiln, else its first machine)
  --watch S         seconds to watch the line for the effect (default 5)
  --no-cleanup      leave the line as the attack left it (an exercise: the responders put it
                    back with twinline respond)
  --home DIR        the range's home, whose instructor account measures the impact
                    (default ./.twinline or $TWINLINE_HOME; or TWINLINE_RANGE_USER / _PASSWORD)
  --json            print one JSON object instead of the text

Targets: only the range's own endpoints. A target is attacked only when every address its host
resolves to is loopback (127.0.0.0/8, ::1) or listed in the range file; anything else is refused
before a packet is sent.
exit codes: 0 the attack ran (succeeded or blocked), 2 bad usage or a refused target, 1 internal error`;

/** Where the command writes. */
export interface AttackIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function usage(message: string): TwinlineError {
  return new TwinlineError('USAGE', message);
}

/**
 * node-opcua logs through `console.log`: while the library runs, the console goes to stderr,
 * so stdout carries only the result (one JSON document with --json).
 */
export function consoleToStderr(io: AttackIo): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn };
  const toErr = (...a: unknown[]): void => void io.stderr.write(`${format(...a)}\n`);
  console.log = toErr;
  console.info = toErr;
  console.warn = toErr;
  return () => Object.assign(console, saved);
}

async function list(argv: readonly string[], io: AttackIo): Promise<number> {
  const { values, positionals } = parseOptions({ args: [...argv], allowPositionals: true, options: { json: { type: 'boolean' } } }, 'attack list');
  if (positionals.length > 0) throw usage(`attack list takes no arguments, got "${positionals[0]}"`);
  const { ATTACKS } = await import('./index.ts');
  if (values.json === true) {
    const rows = ATTACKS.map((a) => ({
      id: a.id, techniques: a.techniques.map((t) => t.id), face: a.face, title: a.title,
      preconditions: a.preconditions, steps: a.steps, expectedImpact: a.expectedImpact,
    }));
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const rows = ATTACKS.map((a) => [a.id, a.techniques.map((t) => t.id).join(' '), a.face, a.title]);
  io.stdout.write(`${renderTable(['attack', 'techniques', 'face', 'title'], rows)}\n`);
  return 0;
}

/** The report as text. */
export function reportText(r: AttackReport): string {
  const impact = Object.entries(r.impact).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [
    `${r.attack}  ${r.techniques.join(' ')}  ${r.face} → ${r.target}  (station ${r.station}${r.profile === null ? '' : `, profile ${r.profile}`}, ${(r.durationMs / 1000).toFixed(1)} s)`,
    `outcome: ${r.outcome}`,
    'impact:',
    ...impact,
    'evidence:',
    ...r.evidence.map((e) => `  - ${e}`),
    ...(r.cleanup.length > 0 ? ['cleanup:', ...r.cleanup.map((c) => `  - ${c}`)] : []),
    ...(r.detections === null ? ['detection: not measured (the twin serves no alerts, or the line was not observed)']
      : r.detections.length === 0 ? ['detection: no detector fired']
        : r.detections.map((d) => `detected by ${d.detector}/${d.rule} after ${d.ttdMs} ms (${d.severity}, ${d.techniques.join(' ')}): ${d.title}`)),
    '',
  ].join('\n');
}

async function run(argv: readonly string[], io: AttackIo): Promise<number> {
  const parsed = parseOptions({
      args: [...argv], allowPositionals: true,
      options: {
        target: { type: 'string', multiple: true }, range: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' },
        station: { type: 'string' }, watch: { type: 'string' }, home: { type: 'string' }, json: { type: 'boolean' }, 'no-cleanup': { type: 'boolean' },
      },
    }, 'attack run');
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw usage(positionals.length === 0 ? 'attack run needs an attack id (twinline attack list)' : `attack run takes one attack id, got ${positionals.length}`);
  if ((v.user === undefined) !== (v.password === undefined)) throw usage('--user and --password go together');
  let watchMs: number | undefined;
  if (v.watch !== undefined) {
    const s = Number(v.watch);
    if (!Number.isFinite(s) || s < 0 || s > 3600) throw usage(`--watch ${v.watch} must be seconds in [0, 3600]`);
    watchMs = s * 1000;
  }
  const { runAttack } = await import('./run.ts');
  const report = await runAttack({
    id: positionals[0]!, targets: v.target ?? [], home: homeDir(v.home),
    ...(v.range !== undefined ? { range: v.range } : {}),
    ...(v.user !== undefined && v.password !== undefined ? { credentials: { user: v.user, password: v.password } } : {}),
    ...(v.station !== undefined ? { station: v.station } : {}),
    ...(watchMs !== undefined ? { watchMs } : {}),
    ...(v['no-cleanup'] === true ? { cleanup: false } : {}),
  log: (line) => void io.stderr.write(`${line}\n`),
  });
  io.stdout.write(v.json === true ? `${JSON.stringify(report)}\n` : reportText(report));
  return 0;
}

/** `twinline attack …` (argv after `attack`). */
export async function attackCommand(argv: readonly string[], io: AttackIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${ATTACK_USAGE}\n`);
    return 0;
  }
  if (sub !== 'list' && sub !== 'run') throw usage(`unknown attack command "${sub}": list or run`);
  const restore = consoleToStderr(io);
  try {
    return sub === 'list' ? await list(rest, io) : await run(rest, io);
  } finally {
    restore();
  }
}
