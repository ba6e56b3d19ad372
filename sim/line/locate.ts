/**
 * Where in a scenario file a problem is: record paths (`stations[2].params.speed`), their
 * 1-based line and column from the YAML node ranges, and "did you mean" suggestions.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { ErrorCode, Problem } from '../core/errors.ts';

/** One step of a record path: a key or a list index. */
export type Seg = string | number;
/** A record path, e.g. `['stations', 2, 'params', 'speed']`. */
export type Path = readonly Seg[];

/** Formats a path as `stations[2].params.speed`; odd keys are quoted (`params["a b"]`). */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * A path rename made by a migration: problems found at `to` (current shape) are reported at
 * `from` (where the text is in the file).
 */
export interface PathMove {
  to: Path;
  from: Path;
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((s, k) => s === path[k]);
}

/** Maps a path of the migrated record back to the file's own path (longest move wins). */
export function sourcePath(path: Path, moves: readonly PathMove[]): Path {
  let best: PathMove | undefined;
  for (const m of moves) if (startsWith(path, m.to) && (best === undefined || m.to.length > best.to.length)) best = m;
  return best === undefined ? path : [...best.from, ...path.slice(best.to.length)];
}

const pathKey = (path: Path): string => path.map((s) => (typeof s === 'number' ? `#${s}` : `.${s}`)).join('\u0000');

/** `sourcePath` over many moves: one map lookup per prefix of the path, not a scan of every move. */
export class MoveIndex {
  private readonly byTo = new Map<string, PathMove>();

  constructor(moves: readonly PathMove[]) {
    for (const m of moves) this.byTo.set(pathKey(m.to), m);
  }

  /** The file's path of a path of the migrated record (longest move wins). */
  source(path: Path): Path {
    if (this.byTo.size === 0) return path;
    for (let n = path.length; n >= 0; n--) {
      const m = this.byTo.get(pathKey(path.slice(0, n)));
      if (m !== undefined) return [...m.from, ...path.slice(n)];
    }
    return path;
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

/**
 * The 1-based line and column of the node at `path` (or of its key, for unknown keys). When
 * the path does not exist in the file (a missing key) it falls back to the deepest ancestor.
 */
export function positionOf(doc: Document, lc: LineCounter, path: Path, at: 'value' | 'key' = 'value'): { line: number; column: number } {
  let node: unknown = doc.contents;
  let best: Node | null = isNodeWithRange(node) ? node : null;
  for (let k = 0; k < path.length; k++) {
    const seg = path[k];
    if (isAlias(node)) node = node.resolve(doc);
    let keyNode: unknown;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair === undefined) break;
      keyNode = pair.key;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
      if (next === undefined) break;
    } else {
      break;
    }
    const last = k === path.length - 1;
    if (last && at === 'key' && isNodeWithRange(keyNode)) best = keyNode;
    else if (isNodeWithRange(next)) best = next;
    else if (isNodeWithRange(keyNode)) best = keyNode;
    node = next;
  }
  const range = best?.range;
  if (range === undefined || range === null) return { line: 1, column: 1 };
  const pos = lc.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

function isNodeWithRange(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && 'range' in x && Array.isArray((x as { range: unknown }).range);
}

/** A short, safe description of any value read from YAML, for "got …" in messages. */
export function describeValue(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (typeof x === 'string') return x.length > 60 ? `${JSON.stringify(x.slice(0, 57))}…` : JSON.stringify(x);
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return String(x);
  if (Array.isArray(x)) return `a list of ${x.length}`;
  if (x instanceof Uint8Array) return 'binary data';
  if (typeof x === 'object') return 'a mapping';
  return typeof x;
}

/** Edit distance (Levenshtein), for suggestions; short strings only. */
export function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The known name closest to `name`, if it is close enough to be a likely typo. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(lower, k.toLowerCase());
    if (dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(name.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

/** ` (did you mean "x"?)` or ''. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const c = closest(name, known);
  return c === undefined ? '' : ` (did you mean "${c}"?)`;
}

/**
 * Problems of one file kept with their messages and positions; the rest are counted. A file
 * with a mistake on each of 100,000 stations gets a report a person can read, and the cost
 * of locating and suggesting stays bounded.
 */
export const MAX_PROBLEMS = 200;

/** Collects problems of one file with their locations. */
export class ProblemList {
  readonly items: Problem[] = [];
  /** problems found beyond `MAX_PROBLEMS`, counted only */
  dropped = 0;
  /** codes of every problem found, kept or counted */
  readonly codes = new Set<ErrorCode>();
  private readonly moves: MoveIndex;

  constructor(
    private readonly file: string,
    private readonly doc: Document | null,
    private readonly lc: LineCounter,
    moves: readonly PathMove[] = [],
  ) {
    this.moves = new MoveIndex(moves);
  }

  /** True once `MAX_PROBLEMS` are kept: callers may skip costly suggestions. */
  get full(): boolean {
    return this.items.length >= MAX_PROBLEMS;
  }

  /** Same file and document, with the renames of a migration. */
  withMoves(moves: readonly PathMove[]): ProblemList {
    const next = new ProblemList(this.file, this.doc, this.lc, moves);
    next.items.push(...this.items);
    next.dropped = this.dropped;
    for (const c of this.codes) next.codes.add(c);
    return next;
  }

  /** Adds a problem at `path` of the (migrated) record; `at: 'key'` points at the key itself. */
  add(code: ErrorCode, message: string, path: Path, at: 'value' | 'key' = 'value'): void {
    this.codes.add(code);
    if (this.full) {
      this.dropped++;
      return;
    }
    const src = this.moves.source(path);
    const pos = this.doc === null ? { line: 1, column: 1 } : positionOf(this.doc, this.lc, src, at);
    this.items.push({ code, message, where: { file: this.file, line: pos.line, column: pos.column, path: formatPath(src) } });
  }

  /** Adds a problem at an exact line and column (YAML syntax errors). */
  addAt(code: ErrorCode, message: string, line: number, column: number): void {
    this.codes.add(code);
    if (this.full) {
      this.dropped++;
      return;
    }
    this.items.push({ code, message, where: { file: this.file, line, column, path: '' } });
  }

  /** The problems in file order (stable for equal positions), and a last line counting the ones not kept. */
  sorted(): Problem[] {
    const out = this.items
      .map((p, k) => ({ p, k }))
      .sort((a, b) => (a.p.where.line ?? 0) - (b.p.where.line ?? 0) || (a.p.where.column ?? 0) - (b.p.where.column ?? 0) || a.k - b.k)
      .map((x) => x.p);
    if (this.dropped > 0) {
      const last = out[out.length - 1];
      out.push({ code: last?.code ?? 'SCENARIO_SCHEMA', message: `… and ${this.dropped.toLocaleString('en-US')} more problems (the first ${MAX_PROBLEMS} are listed)`, where: { file: this.file, line: last?.where.line ?? 1, column: last?.where.column ?? 1 } });
    }
    return out;
  }
}
