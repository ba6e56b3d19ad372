/**
 * `twinline security matrix`: the attack library against a twin per security profile, as a
 * table (attack × profile, with technique ids) or one JSON document. Exit codes: 0 every
 * profile kept its promise, 3 an attack a profile promised to block got through (named),
 * 2 bad input, 1 the matrix could not run (a twin did not come up, an attack failed to run).
 * Ctrl-C stops the twins it started and removes their homes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TwinlineError } from '../../sim/core/errors.ts';
import { renderTable } from '../../sim/host/table.ts';
import { consoleToStderr } from '../attacks/cli.ts';
import type { ImpactValue } from '../attacks/types.ts';
import type { MatrixResult, MatrixRow } from './matrix.ts';

export const SECURITY_USAGE = `usage: twinline security matrix [--json] [--profiles open,hardened,<file>…] [--attacks id,…]
                                [--scenario FILE] [--out DIR] [--speed N] [--watch S] [--ready S]

matrix: starts the twin once per profile (a real twinline serve with a fresh home and free ports),
runs every attack of the library against it (twinline attack list), puts the line back after each,
and prints per attack and profile: the outcome (succeeded or blocked), the impact measured on the
line, the twin's audit entries as evidence, the duration, and whether the twin's detectors (its
default configuration, security/detectors/default.yaml) fired: the first detector/rule and its
time-to-detect (ttdMs: alert time − the attack's start).
  --profiles P,…    open, hardened (default: both), or profile files (YAML or JSON) naming a base
                    profile and the serve flags they change (see security/profiles/)
  --attacks ID,…    only these attacks (default: the whole library, in list order)
  --scenario FILE   the line to serve (default: serve's, scenarios/ceramic-after.yaml)
  --out DIR         also write matrix.json, matrix.txt and each profile's run records (events,
                    audit trail, commands) to DIR
  --speed N         the twin's speed, N × real time, unless a profile sets it (default 10: a few
                    seconds of watching show minutes of line time)
  --watch S         seconds each attack watches the line for its effect (default 5)
  --ready S         seconds a twin may take to come up (default 600: OPC UA makes its certificates first)
  --json            print one JSON object {"rows":[…],"profiles":[…],"broken":[…]} instead of the table

Each profile promises to block some attacks: hardened every attack (nothing is anonymous), open
what every profile refuses (anonymous MQTT commands and spoofed twin topics, oversized
SUBSCRIBEs, safety limits outside Maintenance), a file what it lists under "blocks".
exit codes: 0 every promise held, 3 an attack a profile promised to block succeeded (named on
stderr), 2 bad input (an unknown profile or attack, a bad profile file), 1 the matrix could not run`;

/** Where the command writes. */
export interface SecurityIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const usage = (m: string): TwinlineError => new TwinlineError('USAGE', m);

/** An impact value, short. */
function brief(v: ImpactValue): string {
  if (v === null) return '–';
  if (typeof v === 'number') return String(Math.round(v * 10) / 10);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length > 4 ? `${v.slice(0, 4).map(brief).join('→')}…` : v.map(brief).join('→');
  const e = Object.entries(v);
  return e.length === 0 ? '–' : e.map(([k, x]) => `${k} ${brief(x)}`).join(', ');
}

/** The figures of an impact that say most about the line, short (downtime, scrap, setpoints, states). */
export function impactText(impact: Record<string, ImpactValue>, max = 3): string {
  const first = ['downtimeS', 'crackedParts', 'setpoints', 'stateAfter', 'modeAfter', 'newClientRefused', 'topics', 'connected', 'identity', 'role', 'session', 'status'];
  const keys = Object.keys(impact).sort((a, b) => (first.indexOf(a) + 1 || 99) - (first.indexOf(b) + 1 || 99));
  const shown = keys.filter((k) => impact[k] !== null && !(Array.isArray(impact[k]) && impact[k].length === 0)).slice(0, max);
  return shown.map((k) => `${k} ${brief(impact[k]!)}`).join('; ') || '–';
}

/** The terminal text: the attack × profile grid, then one line per row with impact and audit, then the promises. */
export function matrixText(r: MatrixResult): string {
  const names = r.profiles.map((p) => p.name);
  const ids = [...new Set(r.rows.map((x) => x.attack))];
  const cell = (x: MatrixRow | undefined): string => {
    if (x === undefined) return '';
    const mark = x.promised ? (x.outcome === 'succeeded' ? ' !!' : ' ✓') : '';
    return `${x.outcome === 'succeeded' ? 'SUCCEEDED' : x.outcome}${mark}`;
  };
  const grid = ids.map((id) => {
    const of = r.rows.filter((x) => x.attack === id);
    return [id, of[0]!.techniques.join(' '), of[0]!.face, ...names.map((n) => cell(of.find((x) => x.profile === n)))];
  });
  const detail = r.rows.map((x) => [
    x.attack, x.profile, x.outcome, `${(x.durationMs / 1000).toFixed(1)} s`, detectedText(x), x.ttdMs === null ? '–' : String(x.ttdMs),
    x.outcome === 'skipped' ? '–' : `${x.audit.length} audit${x.audit.length === 1 ? '' : 's'}`, x.error ?? impactText(x.impact), x.lineAfter === 'running' ? '' : x.lineAfter,
  ]);
  const lines = [
    renderTable(['attack', 'techniques', 'face', ...names], grid),
    '(✓ blocked as the profile promises; !! succeeded although the profile promises to block it)',
    '',
    renderTable(['attack', 'profile', 'outcome', 'took', 'detected', 'ttdMs', 'evidence', 'impact on the line', 'line afterwards'], detail, [false, false, false, true, false, true]),
    '',
    ...r.profiles.map((p) => detectionSummary(p.name, r.rows.filter((x) => x.profile === p.name))),
    ...r.profiles.map((p) => `${p.name} (${p.source === 'built-in' ? 'built-in' : `${p.source}: base ${p.base}${p.flags.length > 0 ? `, ${p.flags.join(' ')}` : ''}`}): ${(p.wallMs / 1000).toFixed(1)} s, twin up in ${(p.startMs / 1000).toFixed(1)} s${p.twins > 1 ? `, ${p.twins - 1} restart${p.twins > 2 ? 's' : ''}` : ''}; promises to block ${p.blocks.length} of ${ids.length}: ${p.promise}`),
    r.broken.length === 0 ? 'every promise held' : r.broken.map(brokenText).join('\n'),
    '',
  ];
  return lines.join('\n');
}

/** A row's detection, short: the first detector/rule and how many alerts in all, `no`, or `–` when not measured. */
export function detectedText(x: MatrixRow): string {
  if (x.detected === null || x.detections === null) return '–';
  const first = x.detections[0];
  if (first === undefined) return 'no';
  return `${first.detector}/${first.rule}${x.detections.length > 1 ? ` +${x.detections.length - 1}` : ''}`;
}

/** One profile's detection line: rows detected, and the median time-to-detect. */
function detectionSummary(profile: string, rows: readonly MatrixRow[]): string {
  const measured = rows.filter((x) => x.detected !== null);
  if (measured.length === 0) return `${profile}: detection not measured (the twin runs no detectors)`;
  const ttd = measured.flatMap((x) => (x.ttdMs === null ? [] : [x.ttdMs])).sort((a, b) => a - b);
  const missed = measured.filter((x) => x.detected === false).map((x) => x.attack);
  return `${profile}: detected ${measured.length - missed.length} of ${measured.length}${ttd.length > 0 ? `, median time-to-detect ${ttd[Math.floor((ttd.length - 1) / 2)]} ms` : ''}${missed.length > 0 ? `; no alert: ${missed.join(', ')}` : ''}`;
}

const brokenText = (x: MatrixRow): string => `PROMISE BROKEN: profile ${x.profile} promises to block ${x.attack} (${x.techniques.join(' ')}), and it succeeded: ${impactText(x.impact)}`;

const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter((s) => s !== '');

function seconds(flag: string, raw: string | undefined, dflt: number, max: number): number {
  if (raw === undefined) return dflt;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0 || s > max) throw usage(`--${flag} ${raw} must be a number in (0, ${max}]`);
  return s;
}

async function matrix(argv: readonly string[], io: SecurityIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv], allowPositionals: true,
      options: {
        json: { type: 'boolean' }, profiles: { type: 'string' }, attacks: { type: 'string' }, scenario: { type: 'string' }, out: { type: 'string' },
        speed: { type: 'string' }, watch: { type: 'string' }, ready: { type: 'string' },
      },
    });
  } catch (e) {
    throw usage((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length > 0) throw usage(`security matrix takes no arguments, got "${positionals[0]}"`);
  const speed = seconds('speed', v.speed, 10, 1e6);
  const watchMs = seconds('watch', v.watch, 5, 3600) * 1000;
  const readyMs = seconds('ready', v.ready, 600, 3600) * 1000;
  const { ATTACKS } = await import('../attacks/index.ts');
  const { resolveProfiles } = await import('./profiles.ts');
  const profiles = resolveProfiles(list(v.profiles) ?? ['open', 'hardened'], ATTACKS);
  if (profiles.length === 0) throw usage('--profiles names no profile');
  const wanted = list(v.attacks);
  const unknown = (wanted ?? []).filter((id) => !ATTACKS.some((a) => a.id === id));
  if (unknown.length > 0) throw usage(`no attack ${unknown.map((id) => `"${id}"`).join(', ')} (twinline attack list shows them)`);
  if (wanted !== undefined && wanted.length === 0) throw usage('--attacks names no attack');
  const attacks = wanted === undefined ? ATTACKS : ATTACKS.filter((a) => wanted.includes(a.id));
  if (v.scenario !== undefined) {
    const { readScenario } = await import('../../sim/host/record.ts');
    const { parseScenario } = await import('../../sim/line/parse.ts');
    parseScenario(readScenario(v.scenario), v.scenario); // bad input is answered before any twin starts
  }
  if (v.out !== undefined) {
    try {
      mkdirSync(v.out, { recursive: true });
    } catch (e) {
      throw new TwinlineError('IO', `cannot create the output folder (${(e as { code?: string }).code ?? String(e)})`, { file: v.out });
    }
  }
  const { runMatrix } = await import('./matrix.ts');
  const { interruptible, killAllTwins } = await import('./twin.ts');
  // Ctrl-C / SIGTERM: stop between steps and reap the twins; a second signal kills them at once
  const abort = interruptible(io.stderr, 'stopping the twins', killAllTwins);
  let result: MatrixResult;
  try {
    result = await runMatrix({
      profiles, attacks, speed, watchMs, readyMs, log: (l) => void io.stderr.write(`${l}\n`),
      ...(v.scenario !== undefined ? { scenario: v.scenario } : {}), ...(v.out !== undefined ? { out: v.out } : {}),
    }, abort.signal);
  } catch (e) {
    if (abort.signal.aborted) {
      io.stderr.write('interrupted: every twin the matrix started is stopped\n');
      return 130;
    }
    throw e;
  } finally {
    abort.release();
  }
  const json = `${JSON.stringify({ rows: result.rows, profiles: result.profiles, broken: result.broken.map((x) => ({ attack: x.attack, profile: x.profile })) }, null, 2)}\n`;
  const text = matrixText(result);
  if (v.out !== undefined) {
    writeFileSync(join(v.out, 'matrix.json'), json);
    writeFileSync(join(v.out, 'matrix.txt'), text);
  }
  io.stdout.write(v.json === true ? json : text);
  for (const x of result.broken) io.stderr.write(`${brokenText(x)}\n`);
  const errors = result.rows.filter((x) => x.outcome === 'error');
  for (const x of errors) io.stderr.write(`${x.attack} under ${x.profile} could not run: ${x.error}\n`);
  return result.broken.length > 0 ? 3 : errors.length > 0 ? 1 : 0;
}

/** `twinline security …` (argv after `security`). */
export async function securityCommand(argv: readonly string[], io: SecurityIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${SECURITY_USAGE}\n`);
    return 0;
  }
  if (sub !== 'matrix') throw usage(`unknown security command "${sub}": matrix`);
  const restore = consoleToStderr(io);
  try {
    return await matrix(rest, io);
  } finally {
    restore();
  }
}
