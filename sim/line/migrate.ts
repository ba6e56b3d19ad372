/**
 * Scenario file migrations. Each step upgrades a plain record by one version; `migrate()`
 * runs them in order up to `SCENARIO_VERSION`. Steps record where they moved things
 * (`PathMove`), so that problems found later point at the text as it is in the file.
 */
import type { ErrorCode } from '../core/errors.ts';
import { describeValue, sourcePath, type Path, type PathMove } from './locate.ts';
import { SCENARIO_VERSION } from './schema.ts';

/** A plain record as read from YAML. */
export type Rec = Record<string, unknown>;

/** What a migration step may report: something it could not carry over. */
export interface MigrationIssue {
  code: ErrorCode;
  message: string;
  /** path in the file (before the step) */
  path: Path;
}

/** One step: a record of version `from` in, a record of version `from + 1` out. */
export interface Migration {
  from: number;
  /** one sentence on what changed, for release notes and messages */
  summary: string;
  up(doc: Rec, moves: PathMove[], issues: MigrationIssue[]): Rec;
}

/** True for a plain mapping (not a list, not null). */
export function isRec(x: unknown): x is Rec {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

/**
 * v0 → v1. Version 0 files had no `version` key, named the line with a flat `line: "<name>"`
 * (v1: `isa95.line`) and placed stations with `position: [x, z]` in metres (v1:
 * `at: { x, z, rotation }`).
 */
const v0ToV1: Migration = {
  from: 0,
  summary: 'line → isa95.line; stations[].position [x, z] → stations[].at { x, z, rotation: 0 }',
  up(doc, moves, issues) {
    const out: Rec = { version: 1 };
    for (const [k, v] of Object.entries(doc)) if (k !== 'version') out[k] = v;
    const isa = isRec(doc.isa95) ? { ...doc.isa95 } : doc.isa95 === undefined ? {} : undefined;
    // A file that has both is a v1 file without `version`; leave `line` for the schema to flag.
    if ('line' in doc && isa !== undefined && !('line' in isa)) {
      isa.line = doc.line;
      out.isa95 = isa;
      delete out.line;
      moves.push({ to: ['isa95', 'line'], from: ['line'] });
      if (doc.isa95 === undefined) moves.push({ to: ['isa95'], from: ['line'] });
    }
    if (Array.isArray(doc.stations)) {
      out.stations = doc.stations.map((st: unknown, k: number) => {
        if (!isRec(st) || !('position' in st) || 'at' in st) return st;
        const { position, ...rest } = st;
        const from: Path = ['stations', k, 'position'];
        if (!Array.isArray(position) || position.length !== 2) {
          issues.push({ code: 'SCENARIO_SCHEMA', message: `expected position: [x, z] (two numbers or lengths), got ${describeValue(position)}`, path: from });
          return rest;
        }
        moves.push({ to: ['stations', k, 'at'], from });
        moves.push({ to: ['stations', k, 'at', 'x'], from: [...from, 0] });
        moves.push({ to: ['stations', k, 'at', 'z'], from: [...from, 1] });
        return { ...rest, at: { x: position[0], z: position[1], rotation: 0 } };
      });
    }
    return out;
  },
};

/** Every migration step, oldest first; step k upgrades version k to k + 1. */
export const MIGRATIONS: readonly Migration[] = [v0ToV1];

/** The version a record claims: `version`, or 0 when the key is missing (v0 had none). */
export function versionOf(doc: Rec): unknown {
  return 'version' in doc ? doc.version : 0;
}

/** A record brought up to the current version. */
export interface Migrated {
  doc: Rec;
  /** version the file was written in */
  from: number;
  moves: PathMove[];
  issues: MigrationIssue[];
}

/**
 * Upgrades a record of version `from` (0 ≤ from ≤ SCENARIO_VERSION, checked by the caller)
 * step by step to the current version.
 */
export function migrate(doc: Rec, from: number): Migrated {
  const moves: PathMove[] = [];
  const issues: MigrationIssue[] = [];
  let cur = doc;
  for (let v = from; v < SCENARIO_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (step?.from !== v) throw new Error(`no migration from scenario version ${v}`);
    // Later steps see earlier steps' output; their moves are rebased onto the file's paths.
    const stepMoves: PathMove[] = [];
    const stepIssues: MigrationIssue[] = [];
    cur = step.up(cur, stepMoves, stepIssues);
    const before = [...moves];
    for (const m of stepMoves) moves.push({ to: m.to, from: sourcePath(m.from, before) });
    for (const i of stepIssues) issues.push({ ...i, path: sourcePath(i.path, before) });
  }
  return { doc: cur, from, moves, issues };
}
