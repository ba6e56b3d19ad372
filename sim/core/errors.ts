/**
 * The one error type of Twinline: a stable code, a plain message and where it happened.
 * Bad input never crashes the host: callers catch `TwinlineError`, report it, and go on.
 */

/** Where an error happened; every part is optional, fill what is known. */
export interface ErrorWhere {
  /** scenario file path */
  file?: string;
  /** 1-based line in `file` */
  line?: number;
  /** 1-based column in `file` */
  column?: number;
  /** path inside the record, e.g. `line.stations[2].params.speed` */
  path?: string;
  /** station id or tag, e.g. `kiln/zone1Temp` */
  tag?: string;
  /** protocol endpoint, e.g. `opc.tcp://127.0.0.1:4840` */
  endpoint?: string;
}

/** Stable error codes; never renumber or reuse. */
export type ErrorCode =
  | 'SCENARIO_SYNTAX'
  | 'SCENARIO_SCHEMA'
  | 'SCENARIO_REFERENCE'
  | 'SCENARIO_VERSION'
  | 'UNKNOWN_KIND'
  | 'UNKNOWN_PARAM'
  | 'BAD_UNIT'
  | 'OUT_OF_RANGE'
  | 'UNKNOWN_TARGET'
  | 'UNKNOWN_COMMAND'
  | 'BAD_ARGUMENT'
  | 'NOT_ALLOWED'
  | 'SNAPSHOT_MISMATCH'
  | 'CAPACITY'
  | 'IO'
  | 'USAGE'
  | 'PLAYBOOK';

/** One problem found in an input, with its location. */
export interface Problem {
  code: ErrorCode;
  message: string;
  where: ErrorWhere;
}

/** Formats a location as `file:line:col path` for terminal output. */
export function formatWhere(where: ErrorWhere): string {
  const parts: string[] = [];
  if (where.file !== undefined) {
    let loc = where.file;
    if (where.line !== undefined) loc += `:${where.line}`;
    if (where.line !== undefined && where.column !== undefined) loc += `:${where.column}`;
    parts.push(loc);
  }
  if (where.path !== undefined && where.path !== '') parts.push(where.path);
  if (where.tag !== undefined) parts.push(`tag ${where.tag}`);
  if (where.endpoint !== undefined) parts.push(where.endpoint);
  return parts.join(' ');
}

/** Formats one problem as a single line: `where: message [CODE]`. */
export function formatProblem(p: Problem): string {
  const where = formatWhere(p.where);
  return `${where === '' ? '' : `${where}: `}${p.message} [${p.code}]`;
}

/**
 * An error carrying one or more problems. `problems[0]` is the headline;
 * input validation reports every problem it found at once.
 */
export class TwinlineError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorWhere;
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, message: string, where: ErrorWhere = {}, problems?: readonly Problem[]) {
    super(message);
    this.name = 'TwinlineError';
    this.code = code;
    this.where = where;
    this.problems = problems ?? [{ code, message, where }];
  }

  /** Builds an error from a non-empty list of problems. */
  static of(problems: readonly Problem[]): TwinlineError {
    const first = problems[0];
    if (first === undefined) throw new Error('TwinlineError.of needs at least one problem');
    const msg = problems.length === 1 ? first.message : `${problems.length} problems; first: ${first.message}`;
    return new TwinlineError(first.code, msg, first.where, problems);
  }

  /** Every problem, one per line. */
  report(): string {
    return this.problems.map(formatProblem).join('\n');
  }
}
