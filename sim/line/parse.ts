/**
 * Scenario text → LineSpec. YAML is parsed with node positions, the version is checked and
 * older files are migrated, the shape is checked against the zod schema and the content
 * against the machine registry (`resolve.ts`). Every problem of a file is collected with its
 * file:line:column and path, and thrown as one `TwinlineError`. Reading the file is the
 * caller's business: this module stays pure.
 */
import { Lexer, LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { TwinlineError } from '../core/errors.ts';
import { formatBytes, MAX_SCENARIO_BYTES, MAX_SCHEDULED, MAX_STATIONS } from './limits.ts';
import { describeValue, didYouMean, ProblemList, type Path, type Seg } from './locate.ts';
import { isRec, migrate, versionOf, type Rec } from './migrate.ts';
import { resolveScenario } from './resolve.ts';
import { SCENARIO_VERSION, scenarioSchema } from './schema.ts';
import type { LineSpec } from './types.ts';

/** Aliases may expand to at most this many nodes (guards against "billion laughs" files). */
const MAX_ALIAS_COUNT = 1000;

/**
 * Parses and checks a scenario file's text. `file` names it in messages. Returns the resolved
 * line, or throws a `TwinlineError` listing every problem found (never anything else).
 */
export function parseScenario(text: string, file: string): LineSpec {
  try {
    return load(text, file);
  } catch (e) {
    if (e instanceof TwinlineError) throw e;
    // A bug of ours must still come out as a report on the file, not as a crash of the host.
    const why = e instanceof Error ? e.message : String(e);
    throw new TwinlineError('SCENARIO_SCHEMA', `the scenario could not be read: ${why}`, { file: typeof file === 'string' ? file : '' });
  }
}

function yamlMessage(e: YAMLError): string {
  const first = e.message.split('\n')[0] ?? e.message;
  return `YAML: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}

/** Lines with syntax errors reported before the rest are summed up in one line. */
const MAX_SYNTAX_LINES = 10;

/** Lexer tokens that mark structure and are not part of the source text. */
const MARKERS = new Set(['\x02', '\x18', '\x1f']);

/**
 * Offset of a quoted scalar that is never closed, or -1. The parser notices a missing
 * closing quote only at the end of the file; the quote that opened it is where to look.
 */
function unclosedQuote(text: string): number {
  let offset = 0;
  for (const tok of new Lexer().lex(text)) {
    if (MARKERS.has(tok)) continue;
    const q = tok[0];
    if ((q === '"' || q === "'") && (tok.length < 2 || !closes(tok, q))) return offset;
    offset += tok.length;
  }
  return -1;
}

/** True when a quoted scalar token ends with its closing quote (not an escaped one). */
function closes(tok: string, q: string): boolean {
  const body = tok.trimEnd();
  if (body.length < 2 || body[body.length - 1] !== q) return false;
  if (q === "'") return true; // '' inside single quotes is a quote pair, and the token ended at the closing one
  let slashes = 0;
  for (let k = body.length - 2; k > 0 && body[k] === '\\'; k--) slashes++;
  return slashes % 2 === 0;
}

/**
 * YAML syntax errors as problems: each position once, and an unclosed quote at the quote
 * that opened it, alone (what the parser says after it follows from it).
 */
function syntaxProblems(text: string, errors: readonly YAMLError[], lc: LineCounter, problems: ProblemList): void {
  const quote = errors.find((e) => e.code === 'MISSING_CHAR' && /quote/i.test(e.message));
  if (quote !== undefined) {
    const at = unclosedQuote(text);
    if (at >= 0) {
      const pos = lc.linePos(at);
      const q = text[at] === "'" ? "'" : '"';
      problems.addAt('SCENARIO_SYNTAX', `YAML: the quoted text that starts here is never closed (missing closing ${q})`, pos.line, pos.col);
      return;
    }
  }
  // after the first error the parser often complains about every token that follows: one per line, a few lines
  const lines = new Set<number>();
  for (const e of errors) {
    const pos = e.linePos?.[0];
    const line = pos?.line ?? 1;
    if (lines.has(line)) continue;
    if (lines.size === MAX_SYNTAX_LINES) {
      problems.addAt('SCENARIO_SYNTAX', `YAML: more syntax errors after line ${Math.max(...lines)} (fix the first ones: the rest often follow from them)`, line, pos?.col ?? 1);
      return;
    }
    lines.add(line);
    problems.addAt('SCENARIO_SYNTAX', yamlMessage(e), line, pos?.col ?? 1);
  }
}

function load(text: string, file: string): LineSpec {
  if (typeof text !== 'string') throw new TwinlineError('SCENARIO_SYNTAX', `scenario text must be a string, got ${describeValue(text)}`, { file: typeof file === 'string' ? file : '' });
  // UTF-16 code units: a cheap bound before the parser allocates (bytes are checked on disk)
  if (text.length > MAX_SCENARIO_BYTES) {
    throw new TwinlineError('CAPACITY', `the scenario is ${formatBytes(text.length)} of text; a scenario may be at most ${formatBytes(MAX_SCENARIO_BYTES)} (limit MAX_SCENARIO_BYTES)`, { file });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const problems = new ProblemList(file, doc, lc);
  syntaxProblems(text, doc.errors, lc, problems);
  if (problems.items.length > 0) throw TwinlineError.of(problems.sorted());

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    problems.add('SCENARIO_SYNTAX', `YAML: ${e instanceof Error ? e.message : String(e)}`, []);
    throw TwinlineError.of(problems.items);
  }
  if (!isRec(raw)) {
    problems.add('SCENARIO_SCHEMA', `a scenario is a mapping with keys version, id, title, stations …; got ${describeValue(raw)}`, []);
    throw TwinlineError.of(problems.items);
  }

  for (const [key, max] of [['stations', MAX_STATIONS], ['faults', MAX_SCHEDULED], ['setpoints', MAX_SCHEDULED]] as const) {
    const list = raw[key];
    if (Array.isArray(list) && list.length > max) {
      problems.add('CAPACITY', `${list.length.toLocaleString('en-US')} ${key}; a scenario may have at most ${max.toLocaleString('en-US')} (limit ${key === 'stations' ? 'MAX_STATIONS' : 'MAX_SCHEDULED'})`, [key]);
      throw TwinlineError.of(problems.items);
    }
  }

  const version = versionOf(raw);
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    problems.add('SCENARIO_VERSION', `version must be a whole number from 0 to ${SCENARIO_VERSION}, got ${describeValue(version)}`, ['version']);
    throw TwinlineError.of(problems.items);
  }
  if (version > SCENARIO_VERSION) {
    problems.add('SCENARIO_VERSION', `the file is scenario version ${version}, newer than this Twinline reads (up to ${SCENARIO_VERSION}): update Twinline`, ['version']);
    throw TwinlineError.of(problems.items);
  }

  const m = migrate(raw, version);
  for (const i of m.issues) problems.add(i.code, i.message, i.path);
  const out = problems.withMoves(m.moves);
  const checked = scenarioSchema.safeParse(m.doc);
  if (!checked.success) for (const issue of checked.error.issues) schemaProblem(issue, m.doc, out);
  const spec = resolveScenario(m.doc, file, out);
  if (out.items.length > 0) throw TwinlineError.of(out.sorted());
  return spec;
}

function valueAt(doc: unknown, path: Path): unknown {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg];
    else if (isRec(cur) && Object.hasOwn(cur, seg)) cur = cur[String(seg)];
    else return undefined;
  }
  return cur;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, { def: SchemaDef }>;
  innerType?: { def: SchemaDef };
  element?: { def: SchemaDef };
  valueType?: { def: SchemaDef };
}

/** Keys the schema allows in the mapping at `path`, for "did you mean". */
function knownKeys(path: Path): string[] {
  let def = (scenarioSchema as unknown as { def: SchemaDef }).def;
  const unwrap = (d: SchemaDef): SchemaDef => (d.innerType !== undefined ? unwrap(d.innerType.def) : d);
  for (const seg of path) {
    def = unwrap(def);
    const next = def.type === 'object' ? def.shape?.[String(seg)] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
    if (next === undefined) return [];
    def = next.def;
  }
  def = unwrap(def);
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

const EXPECTED: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a text',
  object: 'a mapping (key: value)',
  record: 'a mapping (name: value)',
  array: 'a list',
  boolean: 'true or false',
  null: 'null',
};

/** One zod issue → problems with positions and plain messages. */
function schemaProblem(issue: z.core.$ZodIssue, doc: Rec, out: ProblemList): void {
  const path: Seg[] = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const value = valueAt(doc, path);
  const custom = !issue.message.startsWith('Invalid') && !issue.message.startsWith('Too ') && !issue.message.startsWith('Unrecognized');
  const last = path[path.length - 1];
  if (value === undefined && path.length > 0 && issue.code !== 'unrecognized_keys') {
    out.add('SCENARIO_SCHEMA', `missing required key "${String(last)}"`, path);
    return;
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path);
      for (const key of issue.keys) {
        const hint = didYouMean(key, known);
        out.add('SCENARIO_SCHEMA', `unknown key "${key}"${hint}${hint === '' && known.length > 0 ? `; allowed here: ${known.join(', ')}` : ''}`, [...path, key], 'key');
      }
      return;
    }
    case 'invalid_type': {
      const expected = custom ? issue.message : `expected ${EXPECTED[issue.expected] ?? issue.expected}`;
      out.add('SCENARIO_SCHEMA', `${expected}, got ${describeValue(value)}`, path);
      return;
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v));
      const hint = typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : '';
      out.add('SCENARIO_SCHEMA', `expected ${options.length === 1 ? options[0] : `one of ${options.join(', ')}`}, got ${describeValue(value)}${hint}`, path);
      return;
    }
    case 'too_small':
    case 'too_big': {
      if (issue.origin === 'number') {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const side = issue.code === 'too_small' ? (issue.inclusive === false ? 'must be above' : 'is below the minimum') : issue.inclusive === false ? 'must be below' : 'is above the maximum';
        out.add('OUT_OF_RANGE', `${describeValue(value)} ${side} ${String(bound)}`, path);
      } else {
        out.add('SCENARIO_SCHEMA', custom ? issue.message : `${issue.message.replace(/^Too (small|big): /, '')}`, path);
      }
      return;
    }
    default:
      out.add('SCENARIO_SCHEMA', `${custom ? issue.message : 'expected a different value'}, got ${describeValue(value)}`, path);
  }
}
