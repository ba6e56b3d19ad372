/**
 * The real `twinline` command (node bin/twinline.mjs) in child processes, on scenario files
 * written to a temporary directory: help, run (table, JSON, run record, worker), validate,
 * schema, and the exit codes and messages of bad input.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../sim/host/run.ts';
import { machineFactor, own, runToEnd, scaled } from '../proc.ts';
import { STACK_FRAME } from '../errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/twinline.mjs');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end (owned: its group is killed after 2 minutes × the machine factor, or when the file ends). */
async function twinline(...args: string[]): Promise<Ran> {
  const { code, stdout, stderr } = await runToEnd(process.execPath, [BIN, ...args], { cwd: ROOT, timeoutMs: 120_000 });
  return { code, stdout, stderr };
}

/** Runs each argument list, a few processes at a time: a busy 2-core machine starts a dozen at once slower than one after another. */
async function twinlineAll(cases: readonly (readonly string[])[], limit = 3): Promise<Ran[]> {
  const out: Ran[] = new Array<Ran>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const k = next++;
      out[k] = await twinline(...cases[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, cases.length) }, worker));
  return out;
}

const LINE = `version: 1
id: cli-line
title: { en: "CLI test line", zh: "命令行测试产线" }
isa95: { enterprise: Twinline, site: Test, area: Cli, line: cli-line }
seed: 21
kpiInterval: 2 min
stations:
  - id: src
    kind: source
    name: { en: Source, zh: 上料 }
    at: { x: 0, z: 0, rotation: 0 }
    params: { rate: 600 1/h, slots: 2 }
    next: belt
  - id: belt
    kind: conveyor
    name: { en: Belt, zh: 输送带 }
    at: { x: 2 m, z: 0, rotation: 0 }
    params: { length: 3 m, speed: 0.3 m/s, mtbf: 20 min, mttr: 30 s }
    next: press
  - id: press
    kind: press
    name: { en: Press, zh: 压机 }
    at: { x: 5 m, z: 0, rotation: 0 }
    params: { cycleTime: 4 s, mtbf: 30 min, mttr: 1 min }
    next: kiln
  - id: kiln
    kind: kiln
    name: { en: Kiln, zh: 窑炉 }
    at: { x: 9 m, z: 0, rotation: 0 }
    params: { slots: 40, residence: 2 min, tau: 1 min }
    next: out
  - id: out
    kind: sink
    name: { en: Out, zh: 下料 }
    at: { x: 14 m, z: 0, rotation: 0 }
`;

// line 20 (`speed: …`) gets a mass, line 26 a typo'd parameter
const BROKEN = LINE.replace('speed: 0.3 m/s', 'speed: 3 kg').replace('cycleTime: 4 s', 'cycleTim: 4 s');

let dir: string;
let good: string;
let broken: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-cli-'));
  good = join(dir, 'cli-line.yaml');
  broken = join(dir, 'broken.yaml');
  writeFileSync(good, LINE);
  writeFileSync(broken, BROKEN);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parseRun(r: Ran): RunResult {
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // exactly one JSON object
  const result = JSON.parse(lines[0] ?? '') as RunResult;
  // stderr holds nothing but the run's steady-state warnings, which the JSON carries too
  expect(r.stderr).toBe(result.warnings.map((w) => `warning: ${w}\n`).join(''));
  return result;
}

describe('twinline CLI', () => {
  it('prints help and exits 0', async () => {
    const r = await twinline('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: twinline <command>/);
    for (const c of ['run', 'validate', 'schema', 'serve']) expect(r.stdout).toContain(`  ${c} `);
    const h = await twinline('help', 'run');
    expect(h.code).toBe(0);
    for (const o of ['--hours', '--seed', '--speed', '--json', '--out', '--worker']) expect(h.stdout).toContain(o);
  });

  it('runs a scenario and prints its KPIs as one JSON object with conserved parts', async () => {
    const k = parseRun(await twinline('run', good, '--hours', '0.5', '--json'));
    expect(k).toMatchObject({ scenario: 'cli-line', seed: 21, hours: 0.5, ticks: 1_800_000, worker: false });
    expect(k.eventLogHash).toMatch(/^[0-9a-f]{16}$/);
    expect(k.events).toBeGreaterThan(300);
    const kp = k.kpis;
    expect(kp.created).toBeGreaterThan(200);
    expect(kp.shipped).toBeGreaterThan(100);
    expect(kp.created).toBe(kp.shipped + kp.scrapped + kp.wip);
    expect(kp.simHours).toBe(0.5);
    for (const f of ['oee', 'availability', 'performance', 'quality'] as const) {
      expect(kp[f]).toBeGreaterThanOrEqual(0);
      expect(kp[f]).toBeLessThanOrEqual(1);
    }
    expect(kp.stations.map((s) => s.id)).toEqual(['src', 'belt', 'press', 'kiln', 'out']);
    for (const s of kp.stations) {
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['availability', 'utilisation', 'failures', 'mtbfH', 'mttrMin', 'energyKWh']));
    }
    expect(kp.stations.reduce((n, s) => n + s.failures, 0)).toBeGreaterThan(0);
  });

  it('prints a KPI table without --json', async () => {
    const r = await twinline('run', good, '--hours', '0.2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cli-line — CLI test line/);
    expect(r.stdout).toMatch(/OEE \(A × P × Q\)/);
    expect(r.stdout).toMatch(/^press\s+press\s+[\d.]+ %\s+[\d.]+ %/m);
    expect(r.stdout).toContain('MTBF [h]');
  });

  it('gives the same hash for the same seed, another for another seed, and the same in a worker', async () => {
    const [a, b, c, w] = await Promise.all([
      twinline('run', good, '--hours', '0.3', '--seed', '11', '--json'),
      twinline('run', good, '--hours', '0.3', '--seed', '11', '--json'),
      twinline('run', good, '--hours', '0.3', '--seed', '12', '--json'),
      twinline('run', good, '--hours', '0.3', '--seed', '11', '--json', '--worker'),
    ]);
    const [ra, rb, rc, rw] = [a, b, c, w].map(parseRun) as [RunResult, RunResult, RunResult, RunResult];
    expect(ra.seed).toBe(11);
    expect(rb.eventLogHash).toBe(ra.eventLogHash);
    expect(rc.eventLogHash).not.toBe(ra.eventLogHash);
    expect(rw.worker).toBe(true);
    expect(rw.eventLogHash).toBe(ra.eventLogHash);
    expect(rw.kpis).toEqual(ra.kpis);
  });

  it('paces a run in real time (× speed) with the same result as at max speed', async () => {
    const [paced, pacedWorker, max] = await Promise.all([
      twinline('run', good, '--hours', '0.001', '--speed', '2', '--json'),
      twinline('run', good, '--hours', '0.001', '--speed', '2', '--json', '--worker'),
      twinline('run', good, '--hours', '0.001', '--json'),
    ]);
    const [p, pw, m] = [paced, pacedWorker, max].map(parseRun) as [RunResult, RunResult, RunResult];
    expect(p.ticks).toBe(3600);
    expect(p.speed).toBe(2);
    // 3.6 simulated seconds at 2× take about 1.8 s (plus loading)
    expect(p.wallSeconds).toBeGreaterThan(1.6);
    expect(pw.wallSeconds).toBeGreaterThan(1.6);
    expect(m.wallSeconds).toBeLessThan(1.5 * machineFactor()); // the same ticks unpaced: no waiting
    expect(p.eventLogHash).toBe(m.eventLogHash);
    expect(pw.eventLogHash).toBe(m.eventLogHash);
  });

  it('stops cleanly on Ctrl-C and still writes a complete run record', async () => {
    const out = join(dir, 'interrupted');
    const owned = own(process.execPath, [BIN, 'run', good, '--hours', '500', '--out', out, '--json'], { cwd: ROOT });
    const child = owned.proc;
    // the record is opened in the same synchronous step that installs the SIGINT handler
    const deadline = Date.now() + scaled(30_000);
    while (!existsSync(join(out, 'events.ndjson')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const code = await owned.exited;
    const stdout = owned.stdout();
    const stderr = owned.stderr();
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted after [\d.]+ of 500 simulated hours/);
    const k = JSON.parse(stdout) as RunResult;
    expect(k.interrupted).toBe(true);
    expect(k.ticks).toBeGreaterThan(0);
    expect(k.ticks).toBeLessThan(500 * 3_600_000);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { interrupted: boolean; events: number; ticks: number };
    expect(meta).toMatchObject({ interrupted: true, ticks: k.ticks, events: k.events });
    expect(readFileSync(join(out, 'events.ndjson'), 'utf8').trimEnd().split('\n')).toHaveLength(k.events);
  });

  it('writes the run record with --out', async () => {
    const out = join(dir, 'record');
    const k = parseRun(await twinline('run', good, '--hours', '0.25', '--json', '--out', out));
    for (const f of ['events.ndjson', 'kpis.json', 'kpis.csv', 'commands.ndjson', 'meta.json']) expect(existsSync(join(out, f))).toBe(true);
    const events = readFileSync(join(out, 'events.ndjson'), 'utf8').trimEnd().split('\n');
    expect(events).toHaveLength(k.events);
    const parsed = events.map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(parsed.map((e) => e.seq)).toEqual(parsed.map((_, i) => i));
    expect(JSON.parse(readFileSync(join(out, 'kpis.json'), 'utf8'))).toEqual(k.kpis);
    const csv = readFileSync(join(out, 'kpis.csv'), 'utf8').trimEnd().split('\n');
    expect(csv[0]).toMatch(/^row,tick,simHours,shipped/);
    expect(csv.filter((l) => l.startsWith('periodic,'))).toHaveLength(parsed.filter((e) => e.type === 'kpi').length);
    expect(csv.filter((l) => l.startsWith('periodic,')).length).toBe(7); // every 2 min for 15 min
    expect(csv.at(-1)).toMatch(new RegExp(`^final,900000,0.25,${k.kpis.shipped},`));
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ scenario: 'cli-line', file: good, seed: 21, hours: 0.25, eventLogHash: k.eventLogHash, twinlineVersion: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(typeof meta.wallSeconds).toBe('number');
    const commands = readFileSync(join(out, 'commands.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(commands[0]).toMatchObject({ target: 'line', command: 'start', source: 'scenario', tick: 0 });
  });

  it('reports every problem of a broken scenario with file and line, exit 2, no stack trace', async () => {
    const r = await twinline('run', broken, '--hours', '0.1');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ stations\\[1\\]\\.params\\.speed: .*\\[BAD_UNIT\\]$`));
    expect(lines[1]).toMatch(/broken\.yaml:\d+:\d+ stations\[2\]\.params\.cycleTim: .*\[UNKNOWN_PARAM\]$/);
    const v = await twinline('validate', good, broken);
    expect(v.code).toBe(2);
    expect(v.stdout).toContain(`ok  ${good}`);
    expect(v.stderr.trim().split('\n')).toHaveLength(2);
    expect(v.stderr).not.toMatch(STACK_FRAME);
  });

  it('exits 2 with a message and the usage for bad usage and missing files', async () => {
    const cases: [string[], RegExp][] = [
      [['run'], /run needs a scenario file/],
      [['run', good, '--hours', 'soon'], /--hours must be a number/],
      [['run', good, '--speed', 'fast'], /--speed must be 'max' or a factor/],
      [['run', good, '--seed', '-3'], /--seed must be a whole number/],
      [['run', good, '--colour'], /unknown option --colour/],
      [['run', join(dir, 'missing.yaml')], /missing\.yaml: no such scenario file or name; built-in scenarios: bearing-after, .* \[IO\]/],
      [['launch'], /unknown command "launch"/],
    ];
    const results = await twinlineAll(cases.map(([args]) => args));
    results.forEach((r, i) => {
      expect(r.code, cases[i]?.[0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i]?.[1] ?? /never/);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
    expect(results[0]?.stderr).toContain('usage: twinline run <scenario.yaml|name>');
  }, 300_000);

  it('serve and gateway: bad flags exit 2 naming the flag, before anything starts', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', good, '--profile', 'lax'], /--profile lax is not valid: open or hardened/],
      [['serve', good, '--http-port', '70000'], /--http-port 70000 is not valid/],
      [['serve', good, '--mqtt-encoding', 'xml'], /--mqtt-encoding xml is not valid: uns, sparkplug or both/],
      [['serve', good, '--mqtt', 'mqtt://127.0.0.1:1', '--embedded-broker'], /--mqtt URL and --embedded-broker exclude each other/],
      [['serve', good, '--mqtt', 'not a url'], /--mqtt not a url is not a URL/],
      [['serve', good, '--mqtt', 'http://127.0.0.1:1'], /--mqtt http:\/\/127\.0\.0\.1:1: use mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\//],
      [['serve', good, '--mqtt-port', 'x'], /--mqtt-port x is not a port/],
      [['serve', good, good], /serve takes one scenario, got 2/],
      [['serve', good, '--profile', 'open', '--host', '0.0.0.0'], /--profile open with --host 0\.0\.0\.0 would let anyone on the network operate the line.*--expose-open/],
      [['serve', good, '--allow-origin', 'attacker.example'], /--allow-origin attacker\.example is not an origin/],
      [['accounts', 'add', 'x', 'root'], /role must be one of viewer, gateway, operator, engineer, instructor/],
      [['gateway', 'export'], /export needs --format/],
      [['gateway', 'export', '--format', 'telegraf', '--endpoint', 'http://x'], /--endpoint http:\/\/x is not an opc\.tcp:\/\/ URL/],
      [['gateway', 'export', '--format', 'telegraf', '--sampling', '0'], /--sampling 0 must be a whole number ≥ 1/],
      [['gateway', 'check'], /check needs --source/],
      [['gateway', 'check', '--source', 'gw/+x'], /"\+" must be a whole level/],
      [['gateway', 'watch'], /unknown gateway command "watch": export or check/],
      [['gateway', 'check', '--source', 'gw/#', '--max-loss', '150%'], /--max-loss 150% is not a share between 0 and 1/],
      [['opcua', 'trust'], /trust takes a certificate file or --last-rejected \(one of them\)/],
      [['opcua', 'trust', '--last-rejected', '--home', dir], /no refused certificate in .*opcua\/pki\/rejected/],
      [['opcua', 'trust', good, '--home', dir], /not an X\.509 certificate \(PEM or DER\)/],
    ];
    const results = await twinlineAll(cases.map(([args]) => args));
    results.forEach((r, i) => {
      expect(r.code, cases[i]?.[0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i]?.[1] ?? /never/);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
    const help = await twinline('gateway', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('twinline gateway check --source FILTER');
  }, 300_000);

  it('prints the scenario, lesson or retrofit step JSON Schema, or writes it to a file', async () => {
    const r = await twinline('schema');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties?: Record<string, unknown> };
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['version', 'id', 'stations']));
    const file = join(dir, 'schema.json');
    const w = await twinline('schema', '--out', file);
    expect(w.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(schema);
    // lessons and retrofit steps have theirs; an unknown kind of file is a usage error naming the kinds
    const [lesson, step, bad] = await Promise.all([twinline('schema', 'lesson'), twinline('schema', 'retrofit'), twinline('schema', 'lessons')]);
    expect(Object.keys((JSON.parse(lesson.stdout) as { properties: object }).properties)).toEqual(expect.arrayContaining(['line', 'steps']));
    expect(Object.keys((JSON.parse(step.stdout) as { properties: object }).properties)).toEqual(expect.arrayContaining(['stage', 'changes', 'capex']));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown kind of file "lessons" \(did you mean "lesson"\?\); schema knows: scenario, lesson, retrofit/);
  });
});
