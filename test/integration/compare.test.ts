/**
 * `twinline compare` as a user runs it (node bin/twinline.mjs in a child process) on two
 * variants of a small line written to a temporary directory at a 10 ms tick: the table, the
 * JSON shape, the same numbers from the same seeds, exit 2 on bad input, and the HTML report
 * rendered in real Chromium.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareResult } from '../../sim/host/compare.ts';
import { runToEnd, scaled } from '../proc.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/host.ts';
import { pixels, variety } from '../e2e/pixels.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/twinline.mjs');
const OUT = join(ROOT, 'test-output/compare');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function twinline(...args: string[]): Promise<Ran> {
  const { code, stdout, stderr } = await runToEnd(process.execPath, [BIN, ...args], { cwd: ROOT, timeoutMs: 240_000 });
  return { code, stdout, stderr };
}

/** A press line; the after variant presses faster. Breakdowns every few minutes make the seeds differ. */
const scenario = (id: string, other: string | null, cycle: number, line = 'cmp line'): string => `version: 1
id: ${id}
title: { en: "Compare line ${id}", zh: "比较线 ${id}" }
variant: other
compareWith: ${other ?? 'null'}
isa95: { line: "${line}" }
dt: 10 ms
seed: 3
designRate: 400 1/h
stations:
  - { id: src, kind: source, params: { rate: 600 1/h, slots: 2 }, next: belt }
  - { id: belt, kind: conveyor, params: { length: 2 m, speed: 0.5 m/s }, next: press }
  - { id: press, kind: press, params: { cycleTime: ${cycle} s, mtbf: 5 min, mttr: 1 min }, next: out }
  - { id: out, kind: sink }
`;

let dir = '';
let before = '';
let after = '';
let json: CompareResult;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-compare-'));
  before = join(dir, 'before.yaml');
  after = join(dir, 'after.yaml');
  writeFileSync(before, scenario('cmp-before', 'cmp-after', 12));
  writeFileSync(after, scenario('cmp-after', 'cmp-before', 8));
  writeFileSync(join(dir, 'other-line.yaml'), scenario('other-line', null, 8, 'another line'));
  writeFileSync(join(dir, 'third.yaml'), scenario('third', 'cmp-zzz', 8));
  const r = await twinline('compare', before, after, '--hours', '0.25', '--seeds', '3', '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  json = JSON.parse(r.stdout) as CompareResult;
}, scaled(300_000));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('twinline compare', () => {
  it('prints every KPI with mean and sd before and after and the change with its interval, as JSON', () => {
    expect(json.before.scenario).toBe('cmp-before');
    expect(json.after.scenario).toBe('cmp-after');
    expect(json.runs.map((r) => `${r.variant}:${r.seed}`)).toEqual(['before:3', 'before:4', 'before:5', 'after:3', 'after:4', 'after:5']);
    for (const name of ['throughputPerHour', 'oee', 'availability', 'performance', 'quality', 'firstPassYield', 'energyPerGoodPartKWh', 'escapedPpm']) {
      const k = json.kpis[name];
      expect(k, name).toBeDefined();
      expect(Object.keys(k!.before)).toEqual(['mean', 'sd']);
      expect(Object.keys(k!.deltaPct)).toEqual(['mean', 'lo', 'hi']);
    }
    const t = json.kpis.throughputPerHour!;
    // the press is the bottleneck: 12 s → 8 s per part is +50 % before breakdowns
    expect(t.deltaPct.mean).toBeGreaterThan(25);
    expect(t.deltaPct.lo).toBeLessThan(t.deltaPct.mean!);
    expect(t.deltaPct.hi).toBeGreaterThan(t.deltaPct.mean!);
    expect(t.before.sd).toBeGreaterThan(0);
    // the same planned rate scores both: the faster press shows as performance
    expect(json.kpis.designRatePerHour!.before.mean).toBe(400);
    expect(json.kpis.designRatePerHour!.after.mean).toBe(400);
    expect(json.kpis.performance!.after.mean).toBeGreaterThan(json.kpis.performance!.before.mean * 1.3);
    const means = json.runs.filter((r) => r.variant === 'before').map((r) => r.kpis.oee);
    expect(json.kpis.oee!.before.mean).toBeCloseTo(means.reduce((a, b) => a + b, 0) / means.length, 9);
    expect(json.runs[0]!.throughputPerHour.length).toBe(6);
  });

  it('gives the same numbers for the same seeds, and writes a table and an HTML report', async () => {
    const html = join(dir, 'report.html');
    const [again, table] = await Promise.all([
      twinline('compare', before, after, '--hours', '0.25', '--seeds', '3', '--json'),
      twinline('compare', before, after, '--hours', '0.25', '--seeds', '2', '--warmup', '3 min', '--html', html),
    ]);
    expect(again.code).toBe(0);
    const j = JSON.parse(again.stdout) as CompareResult;
    expect(j.kpis).toEqual(json.kpis);
    expect(j.runs.map((r) => [r.eventLogHash, r.kpis, r.throughputPerHour])).toEqual(json.runs.map((r) => [r.eventLogHash, r.kpis, r.throughputPerHour]));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/cmp-before → cmp-after · 2 seeds each · 0\.25 h after a 0\.05 h warm-up/);
    expect(table.stdout).toMatch(/^oee\s+\d\.\d{4} ± \d\.\d{4}\s+\d\.\d{4} ± \d\.\d{4}\s+[+-]\d+\.\d %/m);
    expect(table.stderr).toContain(`wrote ${html}`);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/(src|href)="https?:/);
    expect(text).not.toMatch(/<script/);

    mkdirSync(OUT, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 1200 } });
      // a self-contained report: any request leaving the page is a defect
      const requests: string[] = [];
      page.on('request', (q) => {
        if (!q.url().startsWith('file:')) requests.push(q.url());
      });
      await page.goto(`file://${html}`);
      await page.screenshot({ path: join(OUT, 'compare-report.png'), fullPage: true });
      const chart = await page.locator('#throughput').screenshot();
      writeFileSync(join(OUT, 'compare-throughput.png'), chart);
      const px = await pixels(page, chart);
      // both series drew: the before (orange) and after (blue) lines cover pixels
      let orange = 0;
      let blue = 0;
      for (let k = 0; k < px.length; k += 4) {
        const [r, g, b] = [px[k]!, px[k + 1]!, px[k + 2]!];
        if (r > 150 && g < 110 && b < 60) orange++;
        if (b > 150 && r < 80 && g < 120) blue++;
      }
      expect(orange).toBeGreaterThan(200);
      expect(blue).toBeGreaterThan(200);
      const oee = await pixels(page, await page.locator('#oee').screenshot());
      expect(variety(oee).colours).toBeGreaterThan(4);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  }, scaled(300_000));

  it('exits 2 naming the problem: unknown scenario, different lines, a mismatched compareWith, bad numbers', async () => {
    const cases: [string[], RegExp][] = [
      [['compare', before, join(dir, 'nope.yaml')], /nope\.yaml/],
      [['compare', before, join(dir, 'other-line.yaml')], /compares with "cmp-after".*not with other-line/],
      [['compare', join(dir, 'other-line.yaml'), join(dir, 'other-line.yaml'), '--hours', '0'], /--hours must be in/],
      [['compare', join(dir, 'third.yaml'), after], /third .*compares with "cmp-zzz"/],
      [['compare', before, after, '--seeds', '0'], /--seeds must be a whole number/],
      [['compare', before, after, '--seeds', '2.5'], /--seeds must be a whole number/],
      [['compare', before, after, '--hours', 'abc'], /--hours must be a number, got "abc"/],
      [['compare', before], /compare needs two scenarios/],
    ];
    for (const [args, message] of cases) {
      const r = await twinline(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
    // a scenario against itself is one line (an A/A comparison): same seeds, no change, an interval around 0
    const self = await twinline('compare', before, before, '--hours', '0.1', '--seeds', '2', '--json');
    expect(self.code).toBe(0);
    const aa = (JSON.parse(self.stdout) as CompareResult).kpis.throughputPerHour!;
    expect(aa.before).toEqual(aa.after);
    expect(aa.deltaPct.mean).toBe(0);
    expect(aa.deltaPct.lo).toBeLessThan(0);
    expect(aa.deltaPct.hi).toBeGreaterThan(0);
    // two scenarios of different lines with no compareWith between them
    writeFileSync(join(dir, 'lone.yaml'), scenario('lone', null, 8, 'lone line'));
    const r = await twinline('compare', join(dir, 'other-line.yaml'), join(dir, 'lone.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/different lines: other-line is line "another line", lone is line "lone line"/);
  }, scaled(300_000));
});
