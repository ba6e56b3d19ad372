/**
 * The run record written by `twinline run --out DIR`: events.ndjson (streamed while the run
 * goes, never held in memory), kpis.csv (one row per periodic `kpi` event, plus the final
 * row), kpis.json, commands.ndjson (the applied command log, replayable) and meta.json.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TwinlineError } from '../core/errors.ts';
import { formatBytes, MAX_SCENARIO_BYTES } from '../line/limits.ts';
import { didYouMean } from '../line/locate.ts';
import { decodeScenario } from '../line/text.ts';
import type { SimEvent } from '../core/events.ts';
import type { LoggedCommand } from '../core/commands.ts';
import type { LineKpis } from '../core/kpi.ts';

/** Columns of kpis.csv; periodic rows take them from the `kpi` event, the final row from the KPIs. */
export const KPI_COLUMNS = ['simHours', 'shipped', 'good', 'scrapped', 'escaped', 'wip', 'oee', 'availability', 'performance', 'quality', 'energyKWh'] as const;

/** Flush the write buffers at this size [characters]. */
const FLUSH_AT = 1 << 16;

/** What meta.json says about the run. */
export interface RunMeta {
  scenario: string;
  file: string;
  seed: number;
  hours: number;
  ticks: number;
  speed: number | 'max';
  /** stopped early by Ctrl-C */
  interrupted: boolean;
  worker: boolean;
  events: number;
  eventLogHash: string;
  twinlineVersion: string;
  startedAt: string;
  wallSeconds: number;
}

/** Built-in scenarios, for names given without a path (`twinline run ceramic-after`). */
export const BUILTIN_SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** Names of the built-in scenarios (file names without `.yaml`). */
export function builtinScenarioNames(): string[] {
  try {
    return readdirSync(BUILTIN_SCENARIOS).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
  } catch {
    return [];
  }
}

/**
 * The file a scenario argument names: a path as given, or a bare name (`ceramic-after`, as the
 * web app's URLs say) found as `scenarios/<name>.yaml` here or among the built-in scenarios.
 * Anything else is an error listing the names there are, never a bare ENOENT.
 */
export function resolveScenarioFile(arg: string): string {
  if (existsSync(arg)) return arg;
  const bare = !arg.includes('/') && !arg.includes('\\');
  if (bare) {
    const name = arg.endsWith('.yaml') || arg.endsWith('.yml') ? arg : `${arg}.yaml`;
    for (const dir of ['scenarios', BUILTIN_SCENARIOS]) {
      const f = join(dir, name);
      if (existsSync(f)) return f;
    }
  }
  const names = builtinScenarioNames();
  const hint = didYouMean(basename(arg).replace(/\.ya?ml$/, ''), names);
  throw new TwinlineError('IO', `no such scenario file or name${hint}; built-in scenarios: ${names.join(', ')} (or give the path of a .yaml file)`, { file: arg });
}

/**
 * Reads a scenario file (a path or a built-in name): refused over `MAX_SCENARIO_BYTES` before
 * a byte is read, and decoded as UTF-8 strictly. Any failure is a `TwinlineError`.
 */
export function readScenario(arg: string): string {
  return loadScenario(arg).text;
}

/** `readScenario`, with the file the argument resolved to. */
export function loadScenario(arg: string): { file: string; text: string } {
  const file = resolveScenarioFile(arg);
  let bytes: Buffer;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new TwinlineError('IO', 'is a directory, not a scenario file', { file });
    if (st.size > MAX_SCENARIO_BYTES) {
      throw new TwinlineError('CAPACITY', `the file is ${formatBytes(st.size)}; a scenario file may be at most ${formatBytes(MAX_SCENARIO_BYTES)} (limit MAX_SCENARIO_BYTES)`, { file });
    }
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof TwinlineError) throw e;
    const code = (e as { code?: string }).code ?? String(e);
    throw new TwinlineError('IO', `cannot read the scenario file (${code})`, { file });
  }
  return { file, text: decodeScenario(bytes, file) };
}

/** The version in package.json. */
export function twinlineVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function ioError(what: string, path: string, e: unknown): TwinlineError {
  const code = (e as { code?: string }).code ?? (e instanceof Error ? e.message : String(e));
  return new TwinlineError('IO', `cannot ${what} (${code})`, { file: path });
}

/** A text file written through a buffer with synchronous writes (the run loop never awaits a stream). */
class BufferedFile {
  private buf = '';
  private readonly fd: number;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw ioError('create the file', path, e);
    }
  }

  write(s: string): void {
    this.buf += s;
    if (this.buf.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.buf === '') return;
    writeSync(this.fd, this.buf);
    this.buf = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const csvCell = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** Writes the run record into a directory as the run goes. */
export class RunRecord {
  private readonly events: BufferedFile;
  private readonly csv: BufferedFile;
  /** event lines written */
  written = 0;

  constructor(readonly dir: string) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw ioError('create the output directory', dir, e);
    }
    this.events = new BufferedFile(join(dir, 'events.ndjson'));
    this.csv = new BufferedFile(join(dir, 'kpis.csv'));
    this.csv.write(`row,tick,${KPI_COLUMNS.join(',')}\n`);
  }

  /** Appends events (in log order). */
  addEvents(events: readonly SimEvent[]): void {
    for (const e of events) {
      this.events.write(`${JSON.stringify(e)}\n`);
      if (e.type === 'kpi') this.csv.write(`periodic,${e.tick},${KPI_COLUMNS.map((c) => csvCell(e.data[c])).join(',')}\n`);
    }
    this.written += events.length;
  }

  /** Writes the final files and closes the streams. */
  finish(tick: number, kpis: LineKpis, commands: readonly LoggedCommand[], meta: RunMeta): void {
    this.csv.write(`final,${tick},${KPI_COLUMNS.map((c) => csvCell(kpis[c])).join(',')}\n`);
    this.events.close();
    this.csv.close();
    const put = (name: string, text: string): void => {
      const path = join(this.dir, name);
      try {
        writeFileSync(path, text);
      } catch (e) {
        throw ioError('write the file', path, e);
      }
    };
    put('kpis.json', `${JSON.stringify(kpis, null, 2)}\n`);
    put('commands.ndjson', commands.map((c) => `${JSON.stringify(c)}\n`).join(''));
    put('meta.json', `${JSON.stringify(meta, null, 2)}\n`);
  }
}
