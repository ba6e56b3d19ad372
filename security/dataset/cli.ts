/**
 * `twinline dataset <run id | run dir | last> --out DIR [--rate-ms N] [--home DIR] [--json]`:
 * a labelled dataset from a run of `twinline serve` (see export.ts). Exit codes: 0 written,
 * 2 bad usage or a run that cannot make a dataset (each missing file named), 1 internal error.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseOptions } from '../../sim/host/args.ts';
import { TwinlineError } from '../../sim/core/errors.ts';
import { homeDir } from '../../sim/host/home.ts';
import { exportDataset } from './export.ts';

export const DATASET_USAGE = `usage: twinline dataset <run id | run folder | last> --out DIR [--rate-ms N] [--home DIR] [--json]

Writes a labelled dataset of a run of twinline serve (its folder <home>/runs/<run id>: values.ndjson,
events.ndjson, attacks.ndjson) for training detectors:
  dataset.csv, dataset.ndjson  one row per sample: wall and line time, every station.field, counts of
                               commands, refusals and audit entries per source since the previous row,
                               label (attack id or normal), techniques, run, attack_fraction
  events.csv                   every event with its label
  DATACARD.md                  the columns with units, how labels are assigned, the class balance, the
                               run's scenario, the known limits

  run             a run id (a folder name under <home>/runs), a run folder, or last (the newest run)
  --out DIR       output folder (created; the four files are overwritten)
  --rate-ms N     one row per N ms of wall time (the first sample at or after each step); default: every
                  sample (serve --record-values sets the recording's period)
  --home DIR      the twin's home (default ./.twinline, or $TWINLINE_HOME)
  --json          print a JSON summary (rows, events, class balance, files)`;

/** Where the command writes. */
export interface DatasetIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** a usage error (the CLI adds the usage line; --help has the rest) */
const usage = (message: string): TwinlineError => new TwinlineError('USAGE', message);

/** The run folder a `run` argument names. */
export function resolveRun(arg: string, home: string): string {
  const runs = join(home, 'runs');
  const ids = existsSync(runs) ? readdirSync(runs).filter((f) => statSync(join(runs, f)).isDirectory()).sort() : [];
  if (arg === 'last') {
    const last = ids[ids.length - 1];
    if (last === undefined) throw new TwinlineError('IO', `no runs in ${runs} (twinline serve --home ${home} records them)`, { file: runs });
    return join(runs, last);
  }
  if (existsSync(arg) && statSync(arg).isDirectory()) return resolve(arg);
  if (!arg.includes('/') && ids.includes(arg)) return join(runs, arg);
  const shown = ids.slice(-5).join(', ');
  throw new TwinlineError('IO', `no run "${arg}": neither a folder nor a run in ${runs}${ids.length === 0 ? ' (it has none)' : ` (newest: ${shown}; or give last)`}`, { file: arg });
}

/** `twinline dataset …`. */
export async function datasetCommand(argv: readonly string[], io: DatasetIo): Promise<number> {
  const { values: v, positionals } = parseOptions({
    args: [...argv], allowPositionals: true,
    options: { out: { type: 'string', short: 'o' }, 'rate-ms': { type: 'string' }, home: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  }, 'dataset', DATASET_USAGE);
  if (v.help === true) {
    io.stdout.write(`${DATASET_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw usage(positionals.length === 0 ? 'dataset needs a run (a run id, a run folder or last)' : `dataset takes one run, got ${positionals.length}: ${positionals.join(' ')}`);
  if (v.out === undefined || v.out === '') throw usage('dataset needs --out DIR (where to write the dataset)');
  let rateMs: number | undefined;
  if (v['rate-ms'] !== undefined) {
    rateMs = Number(v['rate-ms']);
    if (!Number.isInteger(rateMs) || rateMs < 1 || rateMs > 86_400_000) throw usage(`--rate-ms ${v['rate-ms']} is not valid: a whole number of ms from 1 to 86400000`);
  }
  const dir = resolveRun(positionals[0] ?? '', homeDir(v.home));
  const s = await exportDataset({ dir, out: resolve(v.out), ...(rateMs !== undefined ? { rateMs } : {}) });
  if (v.json === true) {
    io.stdout.write(`${JSON.stringify({ run: dir, rows: s.rows, events: s.events, balance: s.balance, eventBalance: s.eventBalance, attacks: s.windows.length, columns: s.columns.length, files: s.files, problems: s.problems })}\n`);
    return 0;
  }
  const balance = Object.entries(s.balance).map(([l, n]) => `${l} ${n}`).join(', ');
  io.stdout.write(`dataset of ${dir}: ${s.rows} rows × ${s.columns.length} columns (${balance || 'none'}), ${s.events} events, ${s.windows.length} attack run(s)\n`);
  for (const f of s.files) io.stdout.write(`  ${f}\n`);
  for (const p of s.problems) io.stderr.write(`  note: ${p}\n`);
  return 0;
}
