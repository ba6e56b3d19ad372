/**
 * Reads and checks the playbooks of a folder (`*.yaml`) and their shared grading
 * (`levels.yaml`). Every problem of every file is reported at once, each as
 * `file:line:col path: message [PLAYBOOK]`, so a trainee who edits a playbook sees all that is
 * wrong in one go; nothing half-checked is ever used. Checked: every key known (with "did you
 * mean"), bilingual titles, the five phases in the plan's order, deadlines that never shrink
 * from one phase to the next nor from a level to a lesser one, each step's role declared and
 * allowed to perform its action, each action's body as the REST API would check it, rules and
 * technique names that exist.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { ROLES, type Role } from '../../sim/core/commands.ts';
import { TwinlineError, type Problem } from '../../sim/core/errors.ts';
import { describeValue, didYouMean, ProblemList, type Path } from '../../sim/line/locate.ts';
import { T } from '../attacks/techniques.ts';
import { ACTION_SPECS, ACTIONS, checkArgs, isAction, type ActionArgs } from '../respond/actions.ts';
import {
  LEVELS, METRICS, PHASE_TITLES, PHASES, STEP_WHEN, type Bilingual, type Book, type Grading, type Level, type Metric, type Phase, type Playbook, type PlaybookPhase,
  type PlaybookRole, type Step, type StepWhen,
} from './playbook.ts';

/** The built-in playbooks' folder. */
export const DEFAULT_PLAYBOOKS = fileURLToPath(new URL('./', import.meta.url));
/** the grading's file in a playbook folder */
export const GRADING_FILE = 'levels.yaml';
/** a file may be at most this big [bytes] */
const MAX_FILE = 256 * 1024;
/** playbooks in a folder, roles, steps per phase at most */
const MAX_PLAYBOOKS = 100;
const MAX_ITEMS = 50;
const ID = /^[a-z][a-z0-9-]{0,59}$/;
/** the longest deadline [s]: a week */
const MAX_DEADLINE_S = 7 * 86_400;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks values of one file, adding each problem at its path. */
class Check {
  constructor(readonly p: ProblemList) {}

  bad(path: Path, message: string, at: 'value' | 'key' = 'value'): null {
    this.p.add('PLAYBOOK', message, path, at);
    return null;
  }

  /** A mapping with only `keys` (those in `need` required). */
  map(v: unknown, path: Path, keys: readonly string[], need: readonly string[] = []): Rec | null {
    if (!isRec(v)) return this.bad(path, `must be a mapping (${keys.join(', ')}), got ${describeValue(v)}`);
    for (const k of Object.keys(v)) if (!keys.includes(k)) this.bad([...path, k], `unknown key "${k}"${didYouMean(k, keys)} (known: ${keys.join(', ')})`, 'key');
    for (const k of need) if (v[k] === undefined) this.bad(path, `${k} is missing`);
    return v;
  }

  str(v: unknown, path: Path, re: RegExp | null, what: string, max = 300): string | null {
    if (typeof v !== 'string' || v.trim() === '') return this.bad(path, `must be ${what}, got ${describeValue(v)}`);
    if (v.length > max) return this.bad(path, `is longer than ${max} characters`);
    if (re !== null && !re.test(v)) return this.bad(path, `${describeValue(v)} is not ${what}`);
    return v;
  }

  /** `{ en, zh }`, both non-empty; the Chinese text must hold Chinese characters. */
  label(v: unknown, path: Path, max = 200): Bilingual | null {
    const m = this.map(v, path, ['en', 'zh'], ['en', 'zh']);
    if (m === null) return null;
    const en = m.en === undefined ? null : this.str(m.en, [...path, 'en'], null, 'an English text', max);
    let zh = m.zh === undefined ? null : this.str(m.zh, [...path, 'zh'], null, 'a Chinese text', max);
    if (zh !== null && !/[\u4e00-\u9fff]/.test(zh)) zh = this.bad([...path, 'zh'], `must be Chinese (简体中文), got ${describeValue(zh)}`);
    return en === null || zh === null ? null : { en, zh };
  }

  list(v: unknown, path: Path, what: string, max = MAX_ITEMS): unknown[] | null {
    if (!Array.isArray(v)) return this.bad(path, `must be a list of ${what}, got ${describeValue(v)}`);
    if (v.length > max) return this.bad(path, `has ${v.length} entries; at most ${max}`);
    return v;
  }

  num(v: unknown, path: Path, min: number, max: number, what: string): number | null {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return this.bad(path, `must be ${what} from ${min} to ${max}, got ${describeValue(v)}`);
    return v;
  }
}

/** Parses `text` as YAML; the value and the file's problem list (syntax problems added). */
function parseYaml(text: string, file: string): { raw: unknown; c: Check } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const c = new Check(new ProblemList(file, doc, lc));
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    c.p.addAt('PLAYBOOK', `YAML: ${e.message.split('\n')[0] ?? e.message}`, pos?.line ?? 1, pos?.col ?? 1);
  }
  if (doc.errors.length > 0) return { raw: undefined, c };
  try {
    return { raw: doc.toJS({ maxAliasCount: 100 }), c };
  } catch (e) {
    c.bad([], `YAML: ${e instanceof Error ? e.message : String(e)}`);
    return { raw: undefined, c };
  }
}

function version(c: Check, root: Rec): void {
  if (root.version !== 1) c.bad(['version'], `must be 1 (the playbook format this Twinline reads), got ${describeValue(root.version)}`);
}

/** Parses and checks the grading (`levels.yaml`); problems go to `problems`, null when any. */
export function parseGrading(text: string, file: string, problems: Problem[] = []): Grading | null {
  const { raw, c } = parseYaml(text, file);
  const root = raw === undefined ? null : c.map(raw, [], ['version', 'levels'], ['version', 'levels']);
  const thresholds: Partial<Record<Level, Partial<Record<Metric, number>>>> = {};
  if (root !== null) {
    version(c, root);
    const levels = c.map(root.levels, ['levels'], ['I', 'II', 'III'], ['I', 'II', 'III']);
    const metrics = Object.keys(METRICS);
    for (const level of ['I', 'II', 'III'] as const) {
      const m = levels === null ? null : c.map(levels[level], ['levels', level], metrics);
      if (m === null) continue;
      if (Object.keys(m).length === 0) c.bad(['levels', level], `names no threshold (metrics: ${metrics.join(', ')})`);
      const t: Partial<Record<Metric, number>> = {};
      for (const [k, v] of Object.entries(m)) {
        const n = c.num(v, ['levels', level, k], 0, 1e9, 'a threshold');
        if (n !== null && k in METRICS) t[k as Metric] = n;
      }
      thresholds[level] = t;
    }
    // a more serious level never asks for less of a metric than a lesser one
    for (const metric of metrics as Metric[]) {
      const at = (['I', 'II', 'III'] as const).map((l) => ({ l, v: thresholds[l]?.[metric] })).filter((x) => x.v !== undefined);
      for (let k = 1; k < at.length; k++) {
        if (at[k]!.v! > at[k - 1]!.v!) c.bad(['levels', at[k]!.l, metric], `${metric} ${at[k]!.v} for level ${at[k]!.l} is above level ${at[k - 1]!.l}'s ${at[k - 1]!.v}: a more serious level needs at least as much`);
      }
    }
  }
  problems.push(...c.p.sorted());
  if (c.p.items.length > 0 || thresholds.I === undefined || thresholds.II === undefined || thresholds.III === undefined) return null;
  return { file, thresholds: { I: thresholds.I, II: thresholds.II, III: thresholds.III } };
}

/** What a playbook is checked against beyond its own file. */
export interface KnownNames {
  /** detector rule ids alerts may carry (omitted: not checked) */
  rules?: readonly string[];
}

/** Parses and checks one playbook; problems go to `problems`, null when any. */
export function parsePlaybook(text: string, file: string, problems: Problem[] = [], known: KnownNames = {}): Playbook | null {
  const { raw, c } = parseYaml(text, file);
  const root = raw === undefined ? null : c.map(raw, [], ['version', 'id', 'title', 'summary', 'match', 'roles', 'phases'], ['version', 'id', 'title', 'summary', 'match', 'roles', 'phases']);
  let out: Playbook | null = null;
  if (root !== null) {
    version(c, root);
    const id = root.id === undefined ? null : c.str(root.id, ['id'], ID, 'a kebab-case id (a-z, 0-9, -)', 60);
    const title = root.title === undefined ? null : c.label(root.title, ['title']);
    const summary = root.summary === undefined ? null : c.label(root.summary, ['summary'], 1000);
    const match = root.match === undefined ? null : matchOf(c, root.match, known);
    const roles = root.roles === undefined ? null : rolesOf(c, root.roles);
    const phases = root.phases === undefined || roles === null ? null : phasesOf(c, root.phases, roles);
    if (id !== null && title !== null && summary !== null && match !== null && roles !== null && phases !== null) {
      out = { id, file, title, summary, match, roles, phases };
    }
  }
  problems.push(...c.p.sorted());
  return c.p.items.length > 0 ? null : out;
}

function matchOf(c: Check, v: unknown, known: KnownNames): Playbook['match'] | null {
  const m = c.map(v, ['match'], ['rules', 'techniques']);
  if (m === null) return null;
  const rules: string[] = [];
  const techniques: string[] = [];
  const ruleList = m.rules === undefined ? [] : c.list(m.rules, ['match', 'rules'], 'detector rule ids');
  ruleList?.forEach((r, k) => {
    const s = c.str(r, ['match', 'rules', k], ID, 'a detector rule id');
    if (s === null) return;
    if (known.rules !== undefined && !known.rules.includes(s)) c.bad(['match', 'rules', k], `no detector rule "${s}"${didYouMean(s, known.rules)} (rules: ${known.rules.join(', ')})`);
    else rules.push(s);
  });
  const names = Object.keys(T);
  const techList = m.techniques === undefined ? [] : c.list(m.techniques, ['match', 'techniques'], 'technique names of security/attacks/techniques.ts');
  techList?.forEach((t, k) => {
    const s = c.str(t, ['match', 'techniques', k], null, 'a technique name');
    if (s === null) return;
    const tech = (T as Record<string, { id: string }>)[s];
    if (tech === undefined) c.bad(['match', 'techniques', k], `no technique "${s}" in security/attacks/techniques.ts${didYouMean(s, names)}`);
    else techniques.push(tech.id);
  });
  if ((ruleList?.length ?? 0) + (techList?.length ?? 0) === 0) return c.bad(['match'], 'names no detector rule and no technique: the playbook would answer no alert');
  return { rules, techniques };
}

function rolesOf(c: Check, v: unknown): PlaybookRole[] | null {
  const list = c.list(v, ['roles'], 'roles ({id, title, rangeRole})');
  if (list === null) return null;
  const out: PlaybookRole[] = [];
  list.forEach((r, k) => {
    const m = c.map(r, ['roles', k], ['id', 'title', 'rangeRole'], ['id', 'title', 'rangeRole']);
    if (m === null) return;
    const id = m.id === undefined ? null : c.str(m.id, ['roles', k, 'id'], ID, 'a kebab-case id');
    const title = m.title === undefined ? null : c.label(m.title, ['roles', k, 'title']);
    const rangeRole = m.rangeRole === undefined ? null : ROLES.includes(m.rangeRole as Role) ? (m.rangeRole as Role) : c.bad(['roles', k, 'rangeRole'], `must be one of ${ROLES.join(', ')}, got ${describeValue(m.rangeRole)}`);
    if (id !== null && out.some((x) => x.id === id)) c.bad(['roles', k, 'id'], `role "${id}" is declared twice`);
    else if (id !== null && title !== null && rangeRole !== null) out.push({ id, title, rangeRole });
  });
  if (list.length === 0) c.bad(['roles'], 'declares no role');
  return out;
}

function phasesOf(c: Check, v: unknown, roles: readonly PlaybookRole[]): PlaybookPhase[] | null {
  const list = c.list(v, ['phases'], `the phases ${PHASES.join(', ')}`);
  if (list === null) return null;
  const out: PlaybookPhase[] = [];
  list.forEach((p, k) => {
    const path = ['phases', k];
    const m = c.map(p, path, ['phase', 'lead', 'deadlineS', 'steps'], ['phase', 'lead', 'deadlineS', 'steps']);
    if (m === null) return;
    const want = PHASES[k];
    let id: Phase | null = null;
    if (want === undefined) c.bad(path, `a playbook has ${PHASES.length} phases (${PHASES.join(', ')}); this is one more`);
    else if (m.phase !== want) c.bad([...path, 'phase'], `phase ${k + 1} must be "${want}" (the plan's order: ${PHASES.join(' → ')}), got ${describeValue(m.phase)}`);
    else id = want;
    const lead = m.lead === undefined ? null : roleRef(c, m.lead, [...path, 'lead'], roles);
    const deadlineS = m.deadlineS === undefined ? null : deadlinesOf(c, m.deadlineS, [...path, 'deadlineS']);
    const steps = m.steps === undefined ? null : stepsOf(c, m.steps, [...path, 'steps'], roles);
    if (id !== null && lead !== null && deadlineS !== null && steps !== null) out.push({ id, title: PHASE_TITLES[id], lead, deadlineS, steps });
  });
  if (list.length < PHASES.length) c.bad(['phases'], `has ${list.length} phases; the plan has ${PHASES.length}: ${PHASES.join(' → ')}`);
  // a later phase is never due before an earlier one
  for (let k = 1; k < out.length; k++) {
    for (const level of LEVELS) {
      if (out[k]!.deadlineS[level] < out[k - 1]!.deadlineS[level]) {
        c.bad(['phases', k, 'deadlineS'], `${out[k]!.id} is due ${out[k]!.deadlineS[level]} s after detection at level ${level}, before ${out[k - 1]!.id} (${out[k - 1]!.deadlineS[level]} s): deadlines never shrink from one phase to the next`);
        break;
      }
    }
  }
  return out;
}

function roleRef(c: Check, v: unknown, path: Path, roles: readonly PlaybookRole[]): string | null {
  const ids = roles.map((r) => r.id);
  if (typeof v !== 'string' || !ids.includes(v)) return c.bad(path, `must name a role of the playbook's roles (${ids.join(', ')})${typeof v === 'string' ? didYouMean(v, ids) : ''}, got ${describeValue(v)}`);
  return v;
}

/** A number of seconds for every level, or one per level (more serious levels never later). */
function deadlinesOf(c: Check, v: unknown, path: Path): Record<Level, number> | null {
  if (typeof v === 'number') {
    const n = c.num(v, path, 1, MAX_DEADLINE_S, 'seconds');
    return n === null ? null : { I: n, II: n, III: n, IV: n };
  }
  const m = c.map(v, path, LEVELS, LEVELS);
  if (m === null) return null;
  const out: Partial<Record<Level, number>> = {};
  for (const level of LEVELS) {
    const n = m[level] === undefined ? null : c.num(m[level], [...path, level], 1, MAX_DEADLINE_S, 'seconds');
    if (n !== null) out[level] = n;
  }
  for (let k = 1; k < LEVELS.length; k++) {
    const a = out[LEVELS[k - 1]!];
    const b = out[LEVELS[k]!];
    if (a !== undefined && b !== undefined && a > b) c.bad([...path, LEVELS[k - 1]!], `level ${LEVELS[k - 1]} may not allow more time (${a} s) than the less serious level ${LEVELS[k]} (${b} s)`);
  }
  return LEVELS.every((l) => out[l] !== undefined) ? (out as Record<Level, number>) : null;
}

function stepsOf(c: Check, v: unknown, path: Path, roles: readonly PlaybookRole[]): Step[] | null {
  const list = c.list(v, path, 'steps ({id, by, title, do?, with?})');
  if (list === null) return null;
  if (list.length === 0) c.bad(path, 'has no step');
  const out: Step[] = [];
  list.forEach((s, k) => {
    const sp = [...path, k];
    const m = c.map(s, sp, ['id', 'by', 'title', 'do', 'with', 'when'], ['id', 'by', 'title']);
    if (m === null) return;
    const id = m.id === undefined ? null : c.str(m.id, [...sp, 'id'], ID, 'a kebab-case id');
    if (id !== null && out.some((x) => x.id === id)) c.bad([...sp, 'id'], `step "${id}" is used twice in this phase`);
    const by = m.by === undefined ? null : roleRef(c, m.by, [...sp, 'by'], roles);
    const title = m.title === undefined ? null : c.label(m.title, [...sp, 'title']);
    let action: Step['do'] = null;
    let args: ActionArgs = {};
    let ok = true;
    if (m.do !== undefined) {
      if (typeof m.do !== 'string' || !isAction(m.do)) {
        ok = false;
        c.bad([...sp, 'do'], `must be a range action (${ACTIONS.join(', ')})${typeof m.do === 'string' ? didYouMean(m.do, ACTIONS) : ''}, got ${describeValue(m.do)}`);
      } else {
        action = m.do;
        const checked = checkArgs(action, m.with ?? {}, true);
        if (!checked.ok) {
          ok = false;
          c.bad(checked.field === '(body)' ? [...sp, 'with'] : [...sp, 'with', checked.field], checked.message);
        } else args = checked.args;
        const role = roles.find((r) => r.id === by);
        if (role !== undefined && !ACTION_SPECS[action].roles.includes(role.rangeRole)) {
          ok = false;
          c.bad([...sp, 'by'], `role "${role.id}" plays the range's ${role.rangeRole}, who may not ${action} (${ACTION_SPECS[action].roles.join(' or ')} may)`);
        }
      }
    } else if (m.with !== undefined) {
      ok = false;
      c.bad([...sp, 'with'], 'with needs do: the action it is the body of');
    }
    let when: StepWhen = 'always';
    if (m.when !== undefined) {
      if ((STEP_WHEN as readonly unknown[]).includes(m.when)) when = m.when as StepWhen;
      else {
        ok = false;
        c.bad([...sp, 'when'], `must be one of ${STEP_WHEN.join(', ')}, got ${describeValue(m.when)}`);
      }
    }
    if (ok && id !== null && by !== null && title !== null) out.push({ id, by, title, do: action, with: args, when });
  });
  return out;
}

/** Reads a file, bounded in size; its text, or a problem. */
function readText(file: string, problems: Problem[]): string | null {
  try {
    const size = statSync(file).size;
    if (size > MAX_FILE) {
      problems.push({ code: 'PLAYBOOK', message: `the file is ${size} bytes; a playbook file may be at most ${MAX_FILE}`, where: { file } });
      return null;
    }
    return readFileSync(file, 'utf8');
  } catch (e) {
    problems.push({ code: 'PLAYBOOK', message: `cannot read it (${(e as { code?: string }).code ?? String(e)})`, where: { file } });
    return null;
  }
}

/**
 * The playbooks of `dir` (every `*.yaml` but `levels.yaml`) and the grading in its
 * `levels.yaml`; throws one `TwinlineError` listing every problem of every file.
 */
export function loadBook(dir: string = DEFAULT_PLAYBOOKS, known: KnownNames = {}): Book {
  const problems: Problem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  } catch (e) {
    throw new TwinlineError('PLAYBOOK', `cannot read the playbook folder (${(e as { code?: string }).code ?? String(e)})`, { file: dir });
  }
  if (!names.includes(GRADING_FILE)) problems.push({ code: 'PLAYBOOK', message: `no ${GRADING_FILE} (the incident levels' thresholds) in the playbook folder`, where: { file: join(dir, GRADING_FILE) } });
  const books = names.filter((f) => f !== GRADING_FILE);
  if (books.length === 0) problems.push({ code: 'PLAYBOOK', message: 'the folder holds no playbook (*.yaml)', where: { file: dir } });
  if (books.length > MAX_PLAYBOOKS) problems.push({ code: 'PLAYBOOK', message: `${books.length} playbooks; a folder may hold at most ${MAX_PLAYBOOKS}`, where: { file: dir } });
  let grading: Grading | null = null;
  if (names.includes(GRADING_FILE)) {
    const file = join(dir, GRADING_FILE);
    const text = readText(file, problems);
    if (text !== null) grading = parseGrading(text, file, problems);
  }
  const playbooks: Playbook[] = [];
  for (const name of books.slice(0, MAX_PLAYBOOKS)) {
    const file = join(dir, name);
    const text = readText(file, problems);
    const p = text === null ? null : parsePlaybook(text, file, problems, known);
    if (p === null) continue;
    const twin = playbooks.find((x) => x.id === p.id);
    if (twin !== undefined) problems.push({ code: 'PLAYBOOK', message: `id "${p.id}" is used by ${basename(twin.file)} too`, where: { file, path: 'id' } });
    else playbooks.push(p);
  }
  if (problems.length > 0 || grading === null) throw TwinlineError.of(problems.length > 0 ? problems : [{ code: 'PLAYBOOK', message: 'no grading', where: { file: dir } }]);
  return { dir, grading, playbooks };
}
