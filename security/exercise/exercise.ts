/**
 * An exercise file (YAML): which line, under which profile, which attacks of the library at
 * which second against which station, and how long the trainees have. Every bad value is
 * named by its path; attack ids and stations are checked before a twin starts.
 *
 *     version: 1
 *     id: kiln-stop-drill
 *     title: { en: A stop from OPC UA, zh: 来自 OPC UA 的停机 }
 *     scenario: ../../test/fixtures/scenarios/kiln-cell.yaml   # relative to this file; omitted: serve's default line (ceramic-after)
 *     profile: open                                            # open | hardened
 *     speed: 10                                                # × real time (default 1)
 *     durationS: 900                                           # it ends by then at the latest
 *     attacks:
 *       - { atS: 5, attack: opcua-stop, station: kiln }
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TwinlineError, type Problem } from '../../sim/core/errors.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { fileURLToPath } from 'node:url';
import { ATTACKS } from '../attacks/index.ts';
import { readInput } from '../../sim/host/read-input.ts';

/** One scheduled attack. */
export interface ScheduledAttack {
  /** seconds after the exercise starts */
  atS: number;
  attack: string;
  /** the station aimed at, or null for the range's default */
  station: string | null;
}

/** A checked exercise. */
export interface Exercise {
  id: string;
  title: { en: string; zh: string };
  /** the scenario file */
  scenario: string;
  /** its line's id (a running twin offers the exercises of its own line) */
  scenarioId: string;
  profile: 'open' | 'hardened';
  speed: number;
  durationS: number;
  attacks: ScheduledAttack[];
  file: string;
}

/** serve's default line */
const DEFAULT_LINE = fileURLToPath(new URL('../../scenarios/ceramic-after.yaml', import.meta.url));
/** the longest exercise [s] */
export const MAX_DURATION_S = 8 * 3600;
/** attacks per exercise at most */
export const MAX_ATTACKS = 50;

/** Reads and checks an exercise file; throws a TwinlineError naming every bad value. */
export function loadExercise(file: string): Exercise {
  const text = readInput(file, 'exercise file');
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new TwinlineError('USAGE', `not valid YAML: ${(e as Error).message.split('\n')[0]}`, { file });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TwinlineError('USAGE', 'an exercise file is a mapping: version, id, title, scenario, profile, speed, durationS, attacks', { file });
  const r = raw as Record<string, unknown>;
  const problems: Problem[] = [];
  const bad = (path: string, message: string): void => void problems.push({ code: 'USAGE', message, where: { file, path } });
  const known = new Set(['version', 'id', 'title', 'scenario', 'profile', 'speed', 'durationS', 'attacks']);
  for (const k of Object.keys(r)) if (!known.has(k)) bad(k, `unknown key (${[...known].join(', ')})`);
  if (r.version !== 1) bad('version', 'must be 1');
  const id = typeof r.id === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(r.id) ? r.id : (bad('id', 'must be an id: lower-case letters, digits and -'), 'exercise');
  const t = r.title as Record<string, unknown> | undefined;
  const title = typeof t === 'object' && t !== null && typeof t.en === 'string' && typeof t.zh === 'string' ? { en: t.en, zh: t.zh } : (bad('title', 'must be { en: text, zh: text }'), { en: id, zh: id });
  const profile = r.profile === undefined ? 'open' : r.profile === 'open' || r.profile === 'hardened' ? r.profile : (bad('profile', 'must be open or hardened'), 'open');
  const num = (k: string, dflt: number, lo: number, hi: number): number => {
    const v = r[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      bad(k, `must be a number from ${lo} to ${hi}`);
      return dflt;
    }
    return v;
  };
  const speed = num('speed', 1, 0.1, 1000);
  const durationS = num('durationS', 900, 10, MAX_DURATION_S);
  let scenario = DEFAULT_LINE;
  if (r.scenario !== undefined && (typeof r.scenario !== 'string' || r.scenario === '')) bad('scenario', 'must be the path of a scenario file, relative to the exercise file');
  else if (typeof r.scenario === 'string') scenario = resolve(dirname(file), r.scenario);
  let stations: string[] = [];
  let scenarioId = '';
  try {
    const spec = parseScenario(readFileSync(scenario, 'utf8'), scenario);
    stations = spec.stations.map((s) => s.id);
    scenarioId = spec.id;
  } catch (e) {
    bad('scenario', `${scenario}: ${(e as Error).message.split('\n')[0]}`);
  }
  const attacks: ScheduledAttack[] = [];
  if (!Array.isArray(r.attacks) || r.attacks.length === 0 || r.attacks.length > MAX_ATTACKS) bad('attacks', `must be a list of 1 to ${MAX_ATTACKS} attacks ({ atS, attack, station })`);
  else {
    r.attacks.forEach((x: unknown, k: number) => {
      const p = `attacks[${k}]`;
      if (typeof x !== 'object' || x === null) return bad(p, 'must be { atS, attack, station }');
      const a = x as Record<string, unknown>;
      for (const key of Object.keys(a)) if (!['atS', 'attack', 'station'].includes(key)) bad(`${p}.${key}`, 'unknown key (atS, attack, station)');
      if (typeof a.atS !== 'number' || !Number.isFinite(a.atS) || a.atS < 0 || a.atS >= durationS) bad(`${p}.atS`, `must be a second from 0 to before durationS (${durationS})`);
      if (typeof a.attack !== 'string' || !ATTACKS.some((y) => y.id === a.attack)) bad(`${p}.attack`, `unknown attack "${String(a.attack).slice(0, 60)}" (twinline attack list)`);
      if (a.station !== undefined && (typeof a.station !== 'string' || (stations.length > 0 && !stations.includes(a.station)))) bad(`${p}.station`, `the line has no station "${String(a.station).slice(0, 60)}" (stations: ${stations.join(', ')})`);
      attacks.push({ atS: Number(a.atS), attack: String(a.attack), station: typeof a.station === 'string' ? a.station : null });
    });
  }
  if (problems.length > 0) throw TwinlineError.of(problems);
  attacks.sort((x, y) => x.atS - y.atS);
  return { id, title, scenario, scenarioId, profile, speed, durationS, attacks, file };
}
