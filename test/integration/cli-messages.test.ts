/**
 * The real `twinline` command (node bin/twinline.mjs) on files it must refuse or warn about:
 * the scenario size limit (checked before reading), non-UTF-8 files, an unclosed quote,
 * unknown options with "did you mean", scenario names, the steady-state warning and
 * `--warmup`, and `serve --help` without node-opcua's PKCS#1 warning. Exit codes: 0 ok,
 * 2 bad input; never a crash.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../sim/host/run.ts';
import { MAX_SCENARIO_BYTES, MAX_SERVE_STATIONS } from '../../sim/line/limits.ts';
import { scenarioOfStations } from '../fixtures/big-scenario.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/twinline.mjs');
const MINIMAL = join(ROOT, 'test/fixtures/scenarios/minimal.yaml');
/** a busy 2-core machine starts node, tsx and the simulation slowly: generous, never a timing assertion */
const PROCESS_MS = 240_000;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function twinline(...args: string[]): Promise<Ran> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: PROCESS_MS, killSignal: 'SIGKILL', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-cli-messages-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('validate', () => {
  it('refuses a file over the size limit before reading it: exit 2 naming the limit', async () => {
    const big = join(dir, 'huge.yaml');
    // a sparse file: its size is what the check reads, no 17 MiB are written
    const fd = openSync(big, 'w');
    ftruncateSync(fd, MAX_SCENARIO_BYTES + 1024 * 1024);
    closeSync(fd);
    const r = await twinline('validate', big);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${big}: the file is 17.0 MiB; a scenario file may be at most 16.0 MiB (limit MAX_SCENARIO_BYTES) [CAPACITY]`);
    expect(r.stderr).not.toMatch(/heap|FATAL|at .*\.ts:\d+/);
  }, PROCESS_MS);

  it('names a file that is not UTF-8, an unclosed quote at its line, a bad quantity: exit 2, one line each', async () => {
    const latin1 = join(dir, 'latin1.yaml');
    writeFileSync(latin1, Buffer.concat([Buffer.from('version: 1\nid: t\ntitle: { en: "Caf'), Buffer.from([0xe9]), Buffer.from('", zh: "T" }\nstations: []\n')]));
    const quote = join(dir, 'quote.yaml');
    writeFileSync(quote, 'version: 1\nid: q\ntitle: { en: "Q", zh: "Q" }\nstations:\n  - { id: src, kind: source, next: out }\n  - { id: out, kind: "sink }\n  - { id: x, kind: sink }\n');
    const twelve = join(dir, 'twelve.yaml');
    writeFileSync(twelve, 'version: 1\nid: c\ntitle: { en: "C", zh: "C" }\nstations:\n  - { id: src, kind: source, next: p }\n  - { id: p, kind: press, next: out, params: { cycleTime: twelve } }\n  - { id: out, kind: sink }\n');
    const r = await twinline('validate', latin1, quote, twelve);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${latin1}:3:18: the file is not UTF-8 text: byte 0xE9 at line 3, column 18 is not valid UTF-8 (a Latin-1 or GBK file? scenario files are UTF-8: save it as UTF-8) [SCENARIO_SYNTAX]`,
      `${quote}:6:22: YAML: the quoted text that starts here is never closed (missing closing ") [SCENARIO_SYNTAX]`,
      `${twelve}:6:59 stations[1].params.cycleTime: expected a number or a "<number> <unit>" string such as "12 s", got "twelve" [SCENARIO_SCHEMA]`,
    ]);
  }, PROCESS_MS);
});

describe('serve: station limit', () => {
  it('refuses a line over MAX_SERVE_STATIONS before building any face: exit 2 naming the limit', async () => {
    const file = join(dir, 'many.yaml');
    writeFileSync(file, scenarioOfStations(MAX_SERVE_STATIONS + 1));
    const r = await twinline('serve', file, '--home', join(dir, 'home'), '--http-port', '0', '--opcua-port', '0', '--mqtt-port', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${MAX_SERVE_STATIONS + 1} stations; serve puts at most ${MAX_SERVE_STATIONS} behind its OPC UA, MQTT and web faces (limit MAX_SERVE_STATIONS)`);
    expect(r.stdout).not.toContain('OPC UA');
  }, PROCESS_MS);
});

describe('names and options', () => {
  it('a scenario name resolves; a wrong one lists the names; an unknown option gets "did you mean"', async () => {
    const ok = await twinline('validate', 'ceramic-after');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok {2}.*scenarios\/ceramic-after\.yaml {2}\(ceramic-after, \d+ stations\)/);
    const wrong = await twinline('run', 'ceramic-aftr');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('ceramic-aftr: no such scenario file or name (did you mean "ceramic-after"?); built-in scenarios: bearing-after, bearing-before, cable-after, cable-before, ceramic-after, ceramic-before, spring-after, spring-before, steel-ball-after, steel-ball-before, toilet-module-after, toilet-module-before');
    expect(wrong.stderr).not.toContain('ENOENT');
    const flag = await twinline('run', 'ceramic-after', '--huors', '1');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown option --huors for "run" (did you mean --hours?)');
    const gw = await twinline('gateway', 'check', '--sorce', 'x/#');
    expect(gw.code).toBe(2);
    expect(gw.stderr).toContain('unknown option --sorce for "gateway check" (did you mean --source?)');
  }, PROCESS_MS * 2);

  it('serve: "did you mean" for its options, and --help without the PKCS#1 warning', async () => {
    const flag = await twinline('serve', '--http-prot', '1');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown option --http-prot for "serve" (did you mean --http-port?)');
    const help = await twinline('serve', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: twinline serve');
    expect(`${help.stdout}${help.stderr}`).not.toMatch(/W27|security-revert/);
  }, PROCESS_MS * 2);
});

describe('run: steady state', () => {
  it('warns when no part has left the line, and --warmup leaves the fill out of the KPIs', async () => {
    // the minimal line fills in a few seconds: 1 s shows no part out, a 30 s warm-up covers the fill
    const short = await twinline('run', MINIMAL, '--hours', '0.0003', '--json');
    expect(short.code).toBe(0);
    const s = JSON.parse(short.stdout) as RunResult;
    expect(s.fillHours).toBeNull();
    expect(short.stderr).toMatch(/warning: no part left the last station in 0\.000 h: the KPIs describe the line filling/);
    const warm = await twinline('run', MINIMAL, '--hours', '0.05', '--warmup', '30s', '--json');
    expect(warm.code).toBe(0);
    const w = JSON.parse(warm.stdout) as RunResult;
    expect(w.warmupHours).toBeCloseTo(30 / 3600, 6);
    expect(w.kpis.fromHours).toBeCloseTo(30 / 3600, 3);
    expect(w.kpis.simHours).toBeCloseTo(0.05, 3);
    expect(w.fillHours).not.toBeNull();
    expect(w.fillHours!).toBeLessThan(30 / 3600);
    expect(w.warnings).toEqual([]);
    expect(w.ticks).toBe(Math.round((0.05 * 3600 + 30) * 1000));
    const bad = await twinline('run', MINIMAL, '--warmup', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--warmup must be a duration');
  }, PROCESS_MS * 3);
});
