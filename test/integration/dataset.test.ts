/**
 * A labelled dataset from a real `twinline serve` (the kiln cell, open profile, 10× real time,
 * values sampled every 100 ms): a clean stretch, then rest-stop and opcua-stop launched from the
 * range over REST as the instructor, a clean stretch after each, then `twinline dataset` run on
 * the live run. The attack windows are checked against the times the REST API reported for
 * each run (not against attacks.ndjson, which the labels are made from): rows inside a window
 * carry its attack, techniques and run; rows clear of every window are normal; the values are a
 * real signal (the kiln stops in rest-stop's window, parts flow); the attack's own commands in
 * events.csv carry its label; the CSV header is the data card's column list; bad input exits 2.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RangeRun } from '../../sim/host/range.ts';
import { runToEnd } from '../proc.ts';
import { producing, startRange, type Range } from './attack-harness.ts';
import { waitFor } from './opcua-host.ts';
import { START_MS } from './serve-proc.ts';

let r: Range;
const work = mkdtempSync(join(tmpdir(), 'twinline-dataset-'));
/** the two runs as the REST API reported them */
const runs: RangeRun[] = [];

type Row = Record<string, unknown> & { t_ms: number; tick: number; label: string; techniques: string[]; run: number | null; attack_fraction: number };

const twinline = (args: readonly string[]): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', ...args], { timeoutMs: 120_000 });

/** The samples on disk so far (complete lines only). */
function samples(): { ms: number; tick: number }[] {
  const file = join(r.runDir, 'values.ndjson');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { ms: number; tick: number }];
    } catch {
      return [];
    }
  });
}

/** Waits until the host has sampled past wall time `ms`. */
const sampledPast = (ms: number): Promise<unknown> => waitFor(`a sample after ${ms}`, () => samples().some((s) => s.ms > ms), (ok) => ok, 20_000);

/** Launches attack `id` from the range and waits for its end; the run as the API reports it. */
async function launch(id: string): Promise<RangeRun> {
  const started = await r.call('api/attacks/run', { method: 'POST', body: JSON.stringify({ id }), headers: { 'content-type': 'application/json' } }, 'instructor');
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const n = started.body.run as number;
  const run = await waitFor(`${id} to end`, async () => (await r.call(`api/attacks/runs/${n}`, {}, 'instructor')).body as unknown as RangeRun, (x) => x.status !== 'running', 90_000);
  expect(run, JSON.stringify(run.progress)).toMatchObject({ attack: id, status: 'done', report: { outcome: 'succeeded' } });
  return run;
}

/** RFC 4180 CSV (quoted cells may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') {
        cell += '"';
        k++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

const startMs = (x: RangeRun): number => Date.parse(x.startedAt);
const endMs = (x: RangeRun): number => Date.parse(x.endedAt ?? '');

beforeAll(async () => {
  r = await startRange('open', ['--speed', '10', '--record-values', '100']);
  // a clean stretch: the line producing, a few seconds of samples
  await producing(r);
  const t0 = Date.now();
  await sampledPast(t0 + 3000);
  runs.push(await launch('rest-stop'));
  await producing(r);
  await sampledPast(endMs(runs[0]!) + 2000);
  runs.push(await launch('opcua-stop'));
  await producing(r);
  await sampledPast(endMs(runs[1]!) + 2000);
  // both runs are on disk, start and end
  await waitFor('attacks.ndjson', () => readFileSync(join(r.runDir, 'attacks.ndjson'), 'utf8').trim().split('\n').length, (n) => n === 4, 10_000);
}, START_MS + 300_000);

afterAll(async () => {
  await r?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('twinline dataset on a live range run', () => {
  let rows: Row[] = [];
  const out = join(work, 'out');

  it('writes the four files of the run named by its id under --home', async () => {
    const id = r.runDir.split('/').pop()!;
    const res = await twinline(['dataset', id, '--out', out, '--home', r.home]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^dataset of ${r.runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ rows × \\d+ columns \\(normal \\d+, rest-stop \\d+, opcua-stop \\d+\\), \\d+ events, 2 attack run\\(s\\)`));
    for (const f of ['dataset.csv', 'dataset.ndjson', 'events.csv', 'DATACARD.md']) expect(existsSync(join(out, f)), f).toBe(true);
    rows = readFileSync(join(out, 'dataset.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
    expect(rows.length).toBeGreaterThan(50);
  }, 150_000);

  it('labels the rows inside each run\'s window (as the API timed it) with its attack, techniques and run; rows clear of every window are normal', () => {
    const [rest, opcua] = runs as [RangeRun, RangeRun];
    for (const run of runs) {
      const inside = rows.filter((x) => x.t_ms > startMs(run) + 1 && x.t_ms < endMs(run) - 1);
      expect(inside.length, `${run.attack} rows`).toBeGreaterThanOrEqual(5);
      for (const x of inside) expect([x.label, x.techniques, x.run], `row at ${x.t_ms}`).toEqual([run.attack, run.techniques, run.n]);
      expect(run.techniques).toEqual(['T0855']);
    }
    // clear of a window: sampled well before its start, or with the previous row sampled well after its end
    const margin = 50;
    let clear = 0;
    rows.forEach((x, k) => {
      const prev = rows[k - 1];
      const out = runs.every((run) => x.t_ms < startMs(run) - margin || (prev !== undefined && prev.t_ms > endMs(run) + margin));
      if (!out) return;
      clear++;
      expect([x.label, x.techniques, x.run, x.attack_fraction], `row at ${x.t_ms}`).toEqual(['normal', [], null, 0]);
    });
    expect(clear).toBeGreaterThan(30);
    // normal rows on both sides of each window
    expect(rows.some((x) => x.t_ms < startMs(rest) && x.label === 'normal')).toBe(true);
    expect(rows.some((x) => x.t_ms > endMs(rest) && x.t_ms < startMs(opcua) && x.label === 'normal')).toBe(true);
    expect(rows.some((x) => x.t_ms > endMs(opcua) && x.label === 'normal')).toBe(true);
  });

  it('carries a real signal: the kiln stops in rest-stop\'s window and produces outside it; parts flow; the attack\'s commands are counted in its window', () => {
    const [rest, opcua] = runs as [RangeRun, RangeRun];
    const before = rows.filter((x) => x.t_ms < startMs(rest));
    const inRest = rows.filter((x) => x.label === 'rest-stop');
    const inOpcua = rows.filter((x) => x.label === 'opcua-stop');
    // PackML: 2 Stopped, 5 Suspended, 6 Execute
    expect(before.some((x) => x['kiln.state'] === 6 || x['kiln.state'] === 5)).toBe(true);
    expect(before.every((x) => x['kiln.state'] !== 2)).toBe(true);
    expect(inRest.some((x) => x['kiln.state'] === 2)).toBe(true);
    expect(inOpcua.some((x) => x['kiln.state'] === 2)).toBe(true);
    // the belt moves parts: its counter grows and never goes back
    const parts = rows.map((x) => x['belt.partsOut'] as number);
    expect(parts.every((p, k) => k === 0 || p >= parts[k - 1]!)).toBe(true);
    expect(parts[parts.length - 1]!).toBeGreaterThan(parts[0]!);
    // many columns vary over the run (zone temperatures, power, energy, counters …)
    const names = Object.keys(rows[0]!).filter((k) => k.includes('.'));
    const varying = names.filter((n) => new Set(rows.map((x) => x[n])).size > 1);
    expect(varying.length, varying.join(' ')).toBeGreaterThanOrEqual(10);
    expect(varying).toContain('kiln.power');
    // the REST attack's stop (and the range's cleanup) counted in its window; nothing from REST or OPC UA commands the line before
    expect(inRest.reduce((s, x) => s + (x.commands_api as number), 0)).toBeGreaterThanOrEqual(1);
    expect(inOpcua.reduce((s, x) => s + (x.commands_opcua as number) + (x.audit_opcua as number), 0)).toBeGreaterThanOrEqual(1);
    expect(before.reduce((s, x) => s + (x.commands_api as number) + (x.commands_opcua as number), 0)).toBe(0);
    // the counts add up to the events in events.csv (less the range's own marks and those after the last sample)
    expect(rows.reduce((s, x) => s + (x.events as number), 0)).toBeGreaterThan(10);
    void opcua;
  });

  it('labels events.csv: the attacks\' stop commands with their run, everything before the first run normal', () => {
    const [head, ...body] = parseCsv(readFileSync(join(out, 'events.csv'), 'utf8'));
    expect(head).toEqual(['seq', 'tick', 'sim_s', 'type', 'station', 'source', 'principal', 'action', 'outcome', 'command', 'target', 'reason', 'data', 'label', 'techniques', 'run']);
    const ev = body.map((c) => Object.fromEntries(head!.map((h, k) => [h, c[k] ?? ''])) as Record<string, string> & { principal: string; reason: string; target: string });
    const [rest, opcua] = runs as [RangeRun, RangeRun];
    const stop = (source: string): Record<string, string> | undefined => ev.find((e) => e.type === 'command' && e.command === 'stop' && e.source === source && e.principal.startsWith('anonymous'));
    expect(stop('api')).toMatchObject({ station: 'kiln', label: 'rest-stop', techniques: 'T0855', run: String(rest.n) });
    expect(stop('opcua')).toMatchObject({ station: 'kiln', label: 'opcua-stop', techniques: 'T0855', run: String(opcua.n) });
    const first = ev.findIndex((e) => e.source === 'attack' && e.reason.startsWith('started: REST stop'));
    expect(first).toBeGreaterThan(0);
    expect(ev[first]).toMatchObject({ label: 'rest-stop', run: String(rest.n) });
    expect(ev.slice(0, first).every((e) => e.label === 'normal' && e.run === '')).toBe(true);
    // each run's result mark carries its run
    for (const run of runs) expect(ev.filter((e) => e.source === 'attack' && e.target.endsWith(`(run ${run.n})`)).map((e) => e.label)).toEqual([run.attack, run.attack]);
  });

  it('the CSV is the NDJSON, its header is the data card\'s column list, and the card\'s class balance is counted from the rows', () => {
    const csv = readFileSync(join(out, 'dataset.csv'), 'utf8').trim().split('\n');
    const header = csv[0]!.split(',');
    expect(csv.length - 1).toBe(rows.length);
    expect(header).toEqual(Object.keys(rows[0]!));
    const card = readFileSync(join(out, 'DATACARD.md'), 'utf8');
    const section = card.split('## Columns')[1]!.split('\n## ')[0]!;
    const documented = [...section.matchAll(/^\| `([^`]+)` \| ([^|]*) \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(header);
    // units from the line's field specs
    expect(section).toMatch(/^\| `kiln\.power` \| W \|/m);
    expect(section).toMatch(/^\| `sim_s` \| s \|/m);
    // a CSV row is its NDJSON row
    const mid = Math.floor(rows.length / 2);
    const cells = csv[mid + 1]!.split(',');
    expect(Number(cells[header.indexOf('t_ms')])).toBe(rows[mid]!.t_ms);
    expect(cells[header.indexOf('label')]).toBe(rows[mid]!.label);
    expect(Number(cells[header.indexOf('kiln.power')])).toBe(rows[mid]!['kiln.power']);
    // class balance
    for (const label of ['normal', 'rest-stop', 'opcua-stop']) {
      const n = rows.filter((x) => x.label === label).length;
      expect(card).toMatch(new RegExp(`^\\| ${label} \\| ${n} \\| ${((100 * n) / rows.length).toFixed(1)} % \\|`, 'm'));
    }
    expect(card).toMatch(/scenario: `kiln-cell` "Kiln cell"/);
    expect(card).toMatch(/values recorded every 100 ms/);
    expect(card).toMatch(/^\| 1 \| rest-stop \| T0855 \| rest \| kiln \|/m);
    expect(card).toContain('## Known limits');
  });

  it('--rate-ms thins the rows to one per step and keeps both attacks; the run folder and last name the same run', async () => {
    const thin = join(work, 'thin');
    const res = await twinline(['dataset', r.runDir, '--out', thin, '--rate-ms', '1000']);
    expect(res.code, res.stderr).toBe(0);
    const t = readFileSync(join(thin, 'dataset.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
    expect(t.length).toBeLessThan(rows.length / 4);
    expect(t.length).toBeGreaterThan(5);
    const first = t[0]!.t_ms;
    t.forEach((x, k) => {
      if (k > 0) expect(Math.floor((x.t_ms - first) / 1000)).toBeGreaterThan(Math.floor((t[k - 1]!.t_ms - first) / 1000));
    });
    expect(new Set(t.map((x) => x.label))).toEqual(new Set(['normal', 'rest-stop', 'opcua-stop']));
    expect(readFileSync(join(thin, 'DATACARD.md'), 'utf8')).toMatch(/the first sample at or after each 1000 ms \(--rate-ms\)/);
    const last = await twinline(['dataset', 'last', '--out', join(work, 'last'), '--home', r.home, '--json']);
    expect(last.code, last.stderr).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ run: r.runDir, attacks: 2, balance: { 'rest-stop': expect.any(Number), 'opcua-stop': expect.any(Number) } });
  }, 150_000);

  it('bad input exits 2 naming it', async () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    const cases: [string[], RegExp][] = [
      [['dataset', 'no-such-run', '--out', join(work, 'x'), '--home', r.home], /no run "no-such-run": neither a folder nor a run in .*runs \(newest: .*kiln-cell; or give last\)/],
      [['dataset', empty, '--out', join(work, 'x')], /missing values\.ndjson[\s\S]*missing events\.ndjson[\s\S]*missing attacks\.ndjson/],
      [['dataset', r.runDir, '--out', join(work, 'x'), '--rate-ms', 'fast'], /--rate-ms fast is not valid: a whole number of ms from 1 to 86400000/],
      [['dataset', r.runDir, '--out', join(work, 'x'), '--rate-ms', '0'], /--rate-ms 0 is not valid/],
      [['dataset', r.runDir], /dataset needs --out DIR/],
      [['dataset', '--out', join(work, 'x')], /dataset needs a run/],
      [['dataset', r.runDir, '--out', join(r.runDir, 'values.ndjson')], /values\.ndjson is a file, not a folder|cannot make the output folder/],
      [['dataset', r.runDir, '--out', join(work, 'x'), '--rate'], /unknown option --rate for "dataset"/],
      [['serve', '--record-values', '10'], /--record-values 10 is not valid: a sample period in whole ms from 50 to 3600000, or 0 \(off\)/],
      [['serve', '--record-values', 'often'], /--record-values often is not valid/],
    ];
    for (const [args, re] of cases) {
      const res = await twinline(args);
      expect([res.code, res.stderr], args.join(' ')).toEqual([2, expect.stringMatching(re)]);
      expect(res.stderr, args.join(' ')).not.toMatch(/internal error|at .*\.ts:\d+/);
    }
    const help = await twinline(['help']);
    expect(help.stdout).toMatch(/^ {2}dataset +Security range: a labelled dataset/m);
    expect((await twinline(['dataset', '--help'])).stdout).toMatch(/^usage: twinline dataset <run id \| run folder \| last> --out DIR/);
  }, 150_000);
});
