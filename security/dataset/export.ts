/**
 * A labelled dataset from a run's folder (`twinline dataset`): the process values the host
 * sampled (`values.ndjson`), the protocol and line events (`events.ndjson`) and the range's
 * attack runs (`attacks.ndjson`) become
 *
 * - `dataset.csv` / `dataset.ndjson`: one row per sample (or per `rateMs` of wall time): time
 *   columns, one column per `station.field`, counts of the events since the previous row (per
 *   source: accepted commands, rejected commands, audit entries; denied audits, state changes,
 *   alarms, faults), and the labels (`label`, `techniques`, `run`, `attack_fraction`);
 * - `events.csv`: every event with its label;
 * - `DATACARD.md`: the columns with units, how labels are assigned, the class balance counted
 *   from the rows written, the run's scenario and the known limits.
 *
 * Everything is streamed (rotated files oldest first): memory holds one row and the attack
 * windows, whatever the size of the run. Lines that are not JSON (a partial last line of a host
 * still writing) are skipped and counted in the card.
 */
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TwinlineError } from '../../sim/core/errors.ts';
import type { RunDescription, ValueColumn } from '../../sim/host/value-recorder.ts';
import { attackWindows, labelEvent, labelInterval, NORMAL, type AttackWindow } from './label.ts';

/** Sources whose traffic is counted per row (the range's own marks, source `attack`, are left out). */
export const SOURCES = ['api', 'opcua', 'mqtt', 'modbus', 'hmi', 'cli', 'scenario', 'other'] as const;

/** Count columns, in order, with what each counts. */
export const COUNT_COLUMNS: readonly (readonly [string, string])[] = [
  ['events', 'events of any type since the previous row (the range\'s own start/result marks left out)'],
  ...SOURCES.flatMap((s) => [
    [`commands_${s}`, `commands accepted from source ${s} since the previous row`],
    [`rejected_${s}`, `commands rejected (refused by the line: role, range, state) from source ${s}`],
    [`audit_${s}`, `audit entries (sessions, logins, refusals, observations) from source ${s}`],
  ] as const),
  ['audit_denied', 'audit entries with outcome denied or failed, any source'],
  ['state_changes', 'PackML state changes, any station'],
  ['alarms', 'alarms raised, any station'],
  ['faults', 'machine faults begun, any station'],
  ['disturbances', 'disturbances begun (off-spec material at a source, a person of a crew away), any station: they stop nothing, but the line runs differently'],
];

/** Time columns, in order. */
export const TIME_COLUMNS: readonly (readonly [string, string, string])[] = [
  ['t_ms', 'ms', 'wall time of the sample [ms since the epoch, UTC]'],
  ['tick', 'tick', 'line tick of the sample (its length in line time is in the Run section)'],
  ['sim_s', 's', 'line time of the sample since the run began'],
  ['interval_s', 's', 'line time since the previous row: what the counts cover (0 on the first row)'],
];

/** Label columns, in order. */
export const LABEL_COLUMNS: readonly (readonly [string, string])[] = [
  ['label', `the attack id of the range run the row's interval overlaps most, or "${NORMAL}"`],
  ['techniques', 'the run\'s ATT&CK for ICS technique ids (CSV: separated by ";"; NDJSON: an array); empty when normal'],
  ['run', 'the range run\'s number (GET /api/attacks/runs/<n>); empty when normal'],
  ['attack_fraction', 'share of the row\'s interval inside attack windows, 0 … 1'],
];

/** What to export. */
export interface DatasetOptions {
  /** the run's folder */
  dir: string;
  /** the output folder (created) */
  out: string;
  /** one row per this much wall time (the first sample at or after each step); omitted: every sample */
  rateMs?: number;
}

/** What was written. */
export interface DatasetSummary {
  rows: number;
  events: number;
  /** rows per label */
  balance: Record<string, number>;
  /** events per label */
  eventBalance: Record<string, number>;
  windows: AttackWindow[];
  columns: string[];
  files: string[];
  problems: string[];
}

/** The files of one log, oldest first: `name.K.ndjson` … `name.1.ndjson`, `name.ndjson`. */
export function logFiles(dir: string, name: string): string[] {
  const re = new RegExp(`^${name}(?:\\.(\\d+))?\\.ndjson$`);
  const found = readdirSync(dir).flatMap((f) => {
    const m = re.exec(f);
    return m === null ? [] : [{ f, k: m[1] === undefined ? 0 : Number(m[1]) }];
  });
  return found.sort((a, b) => b.k - a.k).map((x) => join(dir, x.f));
}

/** Checks that `dir` is a run's folder with what a dataset needs; every missing file named. */
export function checkRunDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new TwinlineError('IO', `no run folder ${dir}`, { file: dir });
  const problems: string[] = [];
  if (logFiles(dir, 'values').length === 0) problems.push('values.ndjson (no process values recorded: the host ran with --record-values 0, or before values were recorded)');
  if (logFiles(dir, 'events').length === 0) problems.push('events.ndjson (not a run folder of twinline serve?)');
  if (!existsSync(join(dir, 'attacks.ndjson'))) problems.push('attacks.ndjson (the range\'s attack runs: written by twinline serve since datasets exist)');
  if (problems.length > 0) throw TwinlineError.of(problems.map((p) => ({ code: 'IO', message: `missing ${p}`, where: { file: dir } })));
}

/** Parsed lines of `files` in order; lines that are not JSON objects are counted in `bad`. */
async function* lines(files: readonly string[], bad: { n: number }): AsyncGenerator<Record<string, unknown>> {
  for (const f of files) {
    const rl = createInterface({ input: createReadStream(f, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        bad.n++;
        continue;
      }
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) yield v as Record<string, unknown>;
      else bad.n++;
    }
  }
}

/** A CSV cell: numbers as they are, text quoted when needed and defused when a spreadsheet would read it as a formula. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A buffered synchronous writer. */
class Out {
  private readonly fd: number;
  private buf = '';
  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'w', 0o644);
    } catch (e) {
      throw new TwinlineError('IO', `cannot write ${file} (${(e as { code?: string }).code ?? String(e)})`, { file });
    }
  }
  write(s: string): void {
    this.buf += s;
    if (this.buf.length > 1 << 16) this.flush();
  }
  flush(): void {
    if (this.buf !== '') writeSync(this.fd, this.buf);
    this.buf = '';
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const EVENT_COLUMNS = ['seq', 'tick', 'sim_s', 'type', 'station', 'source', 'principal', 'action', 'outcome', 'command', 'target', 'reason', 'data', 'label', 'techniques', 'run'] as const;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Writes the dataset of the run in `o.dir` to `o.out`; see the module comment. */
export async function exportDataset(o: DatasetOptions): Promise<DatasetSummary> {
  checkRunDir(o.dir);
  try {
    mkdirSync(o.out, { recursive: true });
  } catch (e) {
    throw new TwinlineError('IO', `cannot make the output folder ${o.out} (${(e as { code?: string }).code ?? String(e)})`, { file: o.out });
  }
  if (!statSync(o.out).isDirectory()) throw new TwinlineError('IO', `--out ${o.out} is a file, not a folder`, { file: o.out });
  const problems: string[] = [];
  let desc: Partial<RunDescription> = {};
  try {
    desc = JSON.parse(readFileSync(join(o.dir, 'run.json'), 'utf8')) as Partial<RunDescription>;
  } catch {
    problems.push('run.json is missing or unreadable: no scenario, units or descriptions for the columns');
  }
  const dt = typeof desc.dt === 'number' && desc.dt > 0 ? desc.dt : 0.001;
  const attackBad = { n: 0 };
  const records: unknown[] = [];
  for await (const r of lines([join(o.dir, 'attacks.ndjson')], attackBad)) records.push(r);
  const { windows, problems: wp } = attackWindows(records);
  problems.push(...wp);
  if (attackBad.n > 0) problems.push(`attacks.ndjson: ${attackBad.n} line(s) not JSON, skipped`);

  // the value columns: from run.json, else from the first sample
  const valueBad = { n: 0 };
  const samples = lines(logFiles(o.dir, 'values'), valueBad);
  const first = await samples.next();
  if (first.done === true) throw new TwinlineError('IO', `${join(o.dir, 'values.ndjson')} holds no samples`, { file: join(o.dir, 'values.ndjson') });
  const firstV = (first.value.v ?? {}) as Record<string, unknown>;
  const described = new Map((desc.columns ?? []).map((c) => [c.name, c]));
  const valueNames = desc.columns !== undefined && desc.columns.length > 0 ? desc.columns.map((c) => c.name) : Object.keys(firstV);
  const header = [...TIME_COLUMNS.map((c) => c[0]), ...valueNames, ...COUNT_COLUMNS.map((c) => c[0]), ...LABEL_COLUMNS.map((c) => c[0])];

  const csv = new Out(join(o.out, 'dataset.csv'));
  const nd = new Out(join(o.out, 'dataset.ndjson'));
  const evOut = new Out(join(o.out, 'events.csv'));
  csv.write(`${header.map(csvCell).join(',')}\n`);
  evOut.write(`${EVENT_COLUMNS.join(',')}\n`);

  const eventBad = { n: 0 };
  const events = lines(logFiles(o.dir, 'events'), eventBad);
  let pending: Record<string, unknown> | null = null;
  let eventsDone = false;
  let eventCount = 0;
  let firstSeq: number | null = null;
  const eventBalance: Record<string, number> = {};
  const counts = new Map<string, number>(COUNT_COLUMNS.map((c) => [c[0], 0]));
  const bump = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
  /** labels, writes and counts one event */
  const take = (e: Record<string, unknown>): void => {
    const tick = num(e.tick) ?? 0;
    const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>;
    const type = String(e.type ?? '');
    const l = labelEvent({ tick, type, data }, windows);
    eventCount++;
    firstSeq ??= num(e.seq);
    eventBalance[l.label] = (eventBalance[l.label] ?? 0) + 1;
    const { source, principal, action, outcome, command, target, reason, ...rest } = data;
    evOut.write(`${[e.seq, tick, Math.round(tick * dt * 1e6) / 1e6, type, e.station, source, principal, action, outcome, command, target, reason,
      Object.keys(rest).length > 0 ? JSON.stringify(rest) : '', l.label, l.techniques.join(';'), l.run].map(csvCell).join(',')}\n`);
    const mark = type === 'audit' && source === 'attack' && action === 'attack';
    if (mark) return;
    bump('events');
    const src = (SOURCES as readonly string[]).includes(String(source)) ? String(source) : 'other';
    if (type === 'command') bump(`commands_${src}`);
    else if (type === 'rejected') bump(`rejected_${src}`);
    else if (type === 'audit') {
      bump(`audit_${src}`);
      if (outcome === 'denied' || outcome === 'failed') bump('audit_denied');
    } else if (type === 'state') bump('state_changes');
    else if (type === 'alarm') bump('alarms');
    else if (type === 'fault') bump('faults');
    else if (type === 'disturbance') bump('disturbances');
  };
  /** takes every event up to `tick` */
  const upTo = async (tick: number): Promise<void> => {
    for (;;) {
      if (pending === null) {
        if (eventsDone) return;
        const n = await events.next();
        if (n.done === true) {
          eventsDone = true;
          return;
        }
        pending = n.value;
      }
      if ((num(pending.tick) ?? 0) > tick) return;
      take(pending);
      pending = null;
    }
  };

  const balance: Record<string, number> = {};
  const stats = new Map<string, { min: number; max: number; first: number | null; changed: boolean }>(valueNames.map((n) => [n, { min: Infinity, max: -Infinity, first: null, changed: false }]));
  let rows = 0;
  let prevTick: number | null = null;
  let lastBucket = -1;
  let firstMs: number | null = null;
  let firstTick: number | null = null;
  let lastSampleMs = 0;
  let samplesSeen = 0;
  const writeRow = async (s: Record<string, unknown>): Promise<void> => {
    const tick = num(s.tick) ?? 0;
    await upTo(tick);
    const v = (typeof s.v === 'object' && s.v !== null ? s.v : {}) as Record<string, unknown>;
    const l = labelInterval(prevTick, tick, windows);
    const simS = num(s.simS) ?? Math.round(tick * dt * 1e6) / 1e6;
    const intervalS = prevTick === null ? 0 : Math.round((tick - prevTick) * dt * 1e6) / 1e6;
    const vals = valueNames.map((n) => num(v[n]));
    vals.forEach((x, k) => {
      if (x === null) return;
      const st = stats.get(valueNames[k]!)!;
      st.min = Math.min(st.min, x);
      st.max = Math.max(st.max, x);
      if (st.first === null) st.first = x;
      else if (x !== st.first) st.changed = true;
    });
    const countVals = COUNT_COLUMNS.map((c) => counts.get(c[0]) ?? 0);
    const fraction = Math.round(l.fraction * 1e6) / 1e6;
    csv.write(`${[num(s.ms), tick, simS, intervalS, ...vals, ...countVals, l.label, l.techniques.join(';'), l.run, fraction].map(csvCell).join(',')}\n`);
    const row: Record<string, unknown> = { t_ms: num(s.ms), tick, sim_s: simS, interval_s: intervalS };
    valueNames.forEach((n, k) => (row[n] = vals[k]));
    COUNT_COLUMNS.forEach((c, k) => (row[c[0]] = countVals[k]));
    Object.assign(row, { label: l.label, techniques: l.techniques, run: l.run, attack_fraction: fraction });
    nd.write(`${JSON.stringify(row)}\n`);
    for (const k of counts.keys()) counts.set(k, 0);
    balance[l.label] = (balance[l.label] ?? 0) + 1;
    prevTick = tick;
    rows++;
  };

  try {
    let s: Record<string, unknown> | null = first.value;
    while (s !== null) {
      const ms = num(s.ms) ?? 0;
      const tick = num(s.tick);
      samplesSeen++;
      if (tick !== null && (prevTick === null || tick > prevTick)) {
        firstMs ??= ms;
        firstTick ??= tick;
        lastSampleMs = ms;
        const bucket = o.rateMs === undefined ? lastBucket + 1 : Math.floor((ms - firstMs) / o.rateMs);
        if (bucket > lastBucket) {
          lastBucket = bucket;
          await writeRow(s);
        }
      }
      const n = await samples.next();
      s = n.done === true ? null : n.value;
    }
    // events after the last sample are in events.csv, in no row
    let after = 0;
    const before = eventCount;
    await upTo(Infinity);
    after = eventCount - before;
    if (after > 0) problems.push(`${after} event(s) after the last sample are in events.csv but counted in no row`);
  } finally {
    csv.close();
    nd.close();
    evOut.close();
  }
  if (valueBad.n > 0) problems.push(`values.ndjson: ${valueBad.n} line(s) not JSON (a partial last line of a host still writing?), skipped`);
  if (eventBad.n > 0) problems.push(`events.ndjson: ${eventBad.n} line(s) not JSON, skipped`);
  if (firstSeq !== null && firstSeq > 0) problems.push(`events before seq ${firstSeq} were rotated away (events.ndjson keeps the newest files): the first rows' counts miss them`);
  if (firstTick !== null) {
    for (const w of windows) if (w.endTick < firstTick) problems.push(`run ${w.run} (${w.attack}) ended before the first sample kept: no row carries it`);
  }
  if (samplesSeen > rows && o.rateMs === undefined) problems.push(`${samplesSeen - rows} sample(s) without a newer tick than the one before (repeated, out of order or missing), skipped`);

  const summary: DatasetSummary = {
    rows, events: eventCount, balance, eventBalance, windows, columns: header,
    files: ['dataset.csv', 'dataset.ndjson', 'events.csv', 'DATACARD.md'].map((f) => join(o.out, f)), problems,
  };
  const card = new Out(join(o.out, 'DATACARD.md'));
  card.write(dataCard({
    o, desc, described, valueNames, stats, summary, periodMs: rows > 1 && firstMs !== null ? Math.round((lastSampleMs - firstMs) / (rows - 1)) : null,
  }));
  card.close();
  return summary;
}

const pct = (n: number, of: number): string => (of === 0 ? '0 %' : `${((100 * n) / of).toFixed(1)} %`);
const md = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** DATACARD.md. */
function dataCard(c: {
  o: DatasetOptions; desc: Partial<RunDescription>; described: Map<string, ValueColumn>; valueNames: string[];
  stats: Map<string, { min: number; max: number; first: number | null; changed: boolean }>; summary: DatasetSummary; periodMs: number | null;
}): string {
  const { desc, summary } = c;
  const sc = desc.scenario;
  const out: string[] = [];
  out.push('# Data card: labelled dataset of a Twinline range run', '');
  out.push('## Run', '');
  out.push(`- run folder: \`${c.o.dir}\``);
  out.push(`- scenario: ${sc === undefined ? 'unknown (no run.json)' : `\`${sc.id}\` "${md(sc.title)}" (${md(sc.file)}), seed ${sc.seed}`}`);
  out.push(`- speed: ${desc.speed ?? '?'}× real time; security profile: ${desc.profile ?? '?'}; started ${desc.startedAtMs === undefined ? '?' : new Date(desc.startedAtMs).toISOString()}`);
  out.push(`- values recorded every ${desc.sampleMs ?? '?'} ms of wall time (twinline serve --record-values); rows: ${c.o.rateMs === undefined ? 'every sample' : `the first sample at or after each ${c.o.rateMs} ms (--rate-ms)`}; mean row spacing ${c.periodMs ?? '?'} ms`);
  out.push(`- one tick is ${desc.dt ?? '?'} s of line time; rows: ${summary.rows}; events: ${summary.events}; attack runs: ${summary.windows.length}`, '');
  out.push('## Files', '');
  out.push('- `dataset.csv`: one row per sample, the columns below in this order, RFC 4180 quoting; an empty cell is a missing value.');
  out.push('- `dataset.ndjson`: the same rows as JSON objects (missing values null, `techniques` an array, `run` null when normal).');
  out.push(`- \`events.csv\`: every event of the run (${EVENT_COLUMNS.join(', ')}): \`data\` holds the event's other fields as JSON; labelled as below.`);
  out.push('- Text cells that a spreadsheet would read as a formula (starting with = + - @) are prefixed with \' (principals and targets are a client\'s text).', '');
  out.push('## Columns', '');
  out.push('| column | unit | min | max | description |', '|---|---|---|---|---|');
  for (const [name, unit, d] of TIME_COLUMNS) out.push(`| \`${name}\` | ${unit} | | | ${md(d)} |`);
  const fmt = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 1e6) / 1e6) : '');
  for (const name of c.valueNames) {
    const col = c.described.get(name);
    const st = c.stats.get(name);
    const constant = st !== undefined && st.first !== null && !st.changed ? ' (constant in this run)' : '';
    const access = col?.access === 'rw' ? ' (setpoint/parameter: writable)' : '';
    out.push(`| \`${name}\` | ${md(col?.unit ?? '?') || '–'} | ${st === undefined ? '' : fmt(st.min)} | ${st === undefined ? '' : fmt(st.max)} | ${md(col?.description ?? 'station field')}${access}${constant} |`);
  }
  for (const [name, d] of COUNT_COLUMNS) out.push(`| \`${name}\` | count | | | ${md(d)} |`);
  for (const [name, d] of LABEL_COLUMNS) out.push(`| \`${name}\` | – | | | ${md(d)} |`);
  out.push('');
  const codes = Object.entries(desc.codes ?? {});
  if (codes.length > 0) {
    out.push('Coded fields (`<station>.state`, `.mode`, `.fault`): number = name.', '');
    for (const [field, names] of codes) out.push(`- \`${md(field)}\`: ${names.map((n, k) => (n === '' ? '' : `${k} ${md(n)}`)).filter((x) => x !== '').join(', ')}`);
    out.push('');
  }
  out.push('## Labels', '');
  out.push('Ground truth comes from the range itself: every attack run from the web twin or `POST /api/attacks/run` is written to `attacks.ndjson` when it starts and when it ends, with the line\'s tick at both. A run\'s window is [start tick, end tick]: from the launch to the end of its report, the cleanup that puts the line back included.');
  out.push('');
  out.push('- A row covers the line time since the previous row (tick before, tick]; it is labelled with the run whose window overlaps that interval most (a tie: the later run); `attack_fraction` is the share of the interval inside windows. The first row covers its own instant.');
  out.push('- An event is labelled with the run whose window holds its tick; the range\'s own start and result marks (audit entries of source `attack`) with the run they name. They are not counted in any count column (they would give the label away).');
  out.push(`- Everything else is \`${NORMAL}\`. A run without an end record lasts to the end of the data.`, '');
  out.push('## Class balance', '');
  out.push('| label | rows | share | events | share |', '|---|---|---|---|---|');
  const labels = [...new Set([...Object.keys(summary.balance), ...Object.keys(summary.eventBalance)])].sort((a, b) => (a === NORMAL ? -1 : b === NORMAL ? 1 : a.localeCompare(b)));
  for (const l of labels) {
    const r = summary.balance[l] ?? 0;
    const e = summary.eventBalance[l] ?? 0;
    out.push(`| ${md(l)} | ${r} | ${pct(r, summary.rows)} | ${e} | ${pct(e, summary.events)} |`);
  }
  out.push('');
  out.push('## Attack runs', '');
  if (summary.windows.length === 0) out.push('None: every row is normal.');
  else {
    out.push('| run | attack | techniques | face | station | start (line s) | end (line s) | wall start | wall end | outcome |', '|---|---|---|---|---|---|---|---|---|---|');
    const dt = desc.dt ?? 0.001;
    for (const w of summary.windows) {
      out.push(`| ${w.run} | ${md(w.attack)} | ${w.techniques.join(', ')} | ${md(w.face)} | ${md(w.station)} | ${(w.startTick * dt).toFixed(3)} | ${w.open ? 'open' : (w.endTick * dt).toFixed(3)} | ${Number.isFinite(w.startedAtMs) ? new Date(w.startedAtMs).toISOString() : '?'} | ${w.endedAtMs === null ? '?' : new Date(w.endedAtMs).toISOString()} | ${md(w.outcome ?? '?')} |`);
    }
  }
  out.push('');
  out.push('## Known limits', '');
  out.push('- One run of one line on one seed: the normal class is this line\'s behaviour at this speed and this length of run, not every line\'s.');
  out.push('- Values are sampled in wall time: at a speed above 1× a row spans more line time, and short effects between samples are seen only through the counts.');
  out.push('- A window spans the whole run, cleanup included: rows of the window may show the line already put back, and the range\'s instrument (the instructor\'s observer and its cleanup commands over REST) is part of the labelled traffic.');
  out.push('- Attacks are the range library\'s, one at a time, against the twin\'s own faces; traffic of other clients during a window is labelled with the attack as well.');
  out.push('- The host\'s logs are bounded: rotated event and value files beyond the newest few are deleted, and attacks.ndjson stops after 100 000 lines; the card says so below when it happened.');
  for (const p of summary.problems) out.push(`- In this export: ${md(p)}`);
  out.push('');
  return out.join('\n');
}
