/**
 * `twinline diagnose` as a trainer runs it: the steel-ball line (the built-in file at a 10 ms
 * tick, in a temporary directory) graded, every retrofit step that applies tried on the twin
 * over the same seeds, ranked by payback, and the roadmap run; the same seeds give the same
 * diagnosis; the Chinese HTML report renders in a real Chromium that has no CJK font, with its
 * stage bars and its own glyphs; bad input exits 2 naming it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiagnoseResult } from '../../sim/host/diagnose.ts';
import { ROOT, scaled, twinlineCli } from '../proc.ts';
import { chineseInSystemFonts, glyphShapes, latinOnlyBrowser } from '../e2e/fonts.ts';
import { OUT, pixels } from '../e2e/pixels.ts';

const twinline = (...args: string[]): ReturnType<typeof twinlineCli> => twinlineCli(args);

let dir = '';
let line = '';
let html = '';
let first: DiagnoseResult;
let second: DiagnoseResult;
let table = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-diagnose-'));
  line = join(dir, 'steel-ball-before.yaml');
  html = join(dir, 'diagnosis.html');
  const text = readFileSync(join(ROOT, 'scenarios/steel-ball-before.yaml'), 'utf8');
  expect(text).toMatch(/^dt: 1 ms$/m);
  writeFileSync(line, text.replace(/^dt: 1 ms$/m, 'dt: 10 ms'));
  const args = [line, '--hours', '0.5', '--warmup', '1.5 h', '--seeds', '2'];
  const [a, b] = await Promise.all([twinline('diagnose', ...args, '--json'), twinline('diagnose', ...args, '--html', html, '--lang', 'zh-CN')]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
  first = JSON.parse(a.stdout) as DiagnoseResult;
  table = b.stdout;
  const c = await twinline('diagnose', ...args, '--json');
  expect(c.code, c.stderr).toBe(0);
  second = JSON.parse(c.stdout) as DiagnoseResult;
}, scaled(400_000));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('twinline diagnose', () => {
  it('grades the line from its stations and runs: a quarter of the process stations automated, automation behind the province', () => {
    const rate = first.indicators.find((i) => i.id === 'keyProcessAutomation')!;
    expect(rate.value).toBeGreaterThan(0);
    expect(rate.value).toBeLessThan(48.1);
    expect(rate.how.en).toMatch(/by hand: .*pour/);
    expect(first.indicators.find((i) => i.id === 'labourPerKGood')!.value).toBeGreaterThan(0);
    expect(first.stages[0]).toMatchObject({ stage: 'automation', level: 'behind' });
    // the scenario says nothing around its stations is networked, collected, charted or metered online
    expect(first.stages.slice(1)).toEqual([
      { stage: 'digital-integration', score: 0, level: 'behind' }, { stage: 'networking', score: 0, level: 'behind' }, { stage: 'intelligence', score: 0, level: 'behind' },
    ]);
    expect(first.indicators.find((i) => i.id === 'energyMonitoring')!.how.en).toMatch(/share of the line's energy used at metered stations, \d+ simulated runs/);
    expect(first.kpis.good!.mean).toBeGreaterThan(0);
  });

  it('tries every step that applies over the same seeds, ranks them by payback, and says why the others do not apply', () => {
    expect(first.steps.map((s) => s.id).sort()).toEqual(['automatic-knockout', 'automatic-pouring', 'energy-management', 'predictive-maintenance', 'robot-handling']);
    expect(first.steps.map((s) => s.rank)).toEqual([1, 2, 3, 4, 5]);
    const paybacks = first.steps.map((s) => s.economics.paybackYears ?? Number.POSITIVE_INFINITY);
    expect([...paybacks].sort((x, y) => x - y)).toEqual(paybacks);
    for (const s of first.steps) {
      // the automation steps take work off people; predictive maintenance takes breakdowns off the machines
      if (s.stage === 'automation') expect(s.kpis.labourHours!.deltaPct.mean, `${s.id} takes work off people`).toBeLessThan(0);
      expect(s.stations.length).toBeGreaterThan(0);
    }
    expect(first.steps.find((s) => s.id === 'predictive-maintenance')!.stage).toBe('intelligence');
    // the steps of the other lines' kinds do not apply, each with its reason
    expect(first.skipped.map((x) => x.id).sort()).toEqual(['device-networking', 'machine-vision-inspection', 'mes-dispatch', 'spc-extrusion', 'traceability']);
    for (const x of first.skipped) expect(x.reason, x.id).toMatch(/does not apply to steel-ball-before/);
  });

  it('runs the roadmap as one line: the automation grade rises and the labour falls further than any step alone', () => {
    const rm = first.roadmap!;
    expect(rm.steps.slice().sort()).toEqual(first.steps.map((s) => s.id).sort());
    expect(rm.stages[0]!.score).toBeGreaterThan(first.stages[0]!.score!);
    // condition monitoring on the machines that can break down: the intelligence stage is no longer nil
    expect(rm.stages[3]!.stage).toBe('intelligence');
    expect(rm.stages[3]!.score).toBeGreaterThan(0);
    const alone = Math.min(...first.steps.map((s) => s.kpis.labourHours!.deltaPct.mean!));
    expect(rm.kpis.labourHours!.deltaPct.mean).toBeLessThan(alone);
    expect(rm.economics.capex).toBe(first.steps.reduce((a, s) => a + s.economics.capex, 0));
  });

  it('gives the same diagnosis for the same seeds', () => {
    const strip = (r: DiagnoseResult): unknown => ({ ...r, wallSeconds: 0, workers: 0 });
    expect(strip(second)).toEqual(strip(first));
  });

  it('prints the table, and renders the Chinese HTML report in Chromium: stage bars, the steps, Chinese glyphs', async () => {
    expect(table).toMatch(/Key-process automation rate \[%\]/);
    expect(table).toMatch(/^1 +automatic-/m);
    expect(table).toMatch(/Roadmap: /);
    const text = readFileSync(html, 'utf8');
    expect(text).toContain('<html lang="zh-CN">');
    expect(text).toContain('关键工序自动化率');
    expect(text).toContain('自动浇注机');
    // read in a browser on a machine with Latin fonts only: the report carries its Chinese glyphs
    expect(text).toMatch(/@font-face\{font-family:'Noto Sans SC'[^}]*src:url\(data:font\/woff2;base64,/);
    const latin = await latinOnlyBrowser({ width: 1100, height: 1400 });
    try {
      const page = await latin.context.newPage();
      await page.goto(`file://${html}`);
      await page.evaluate(() => document.fonts.ready.then(() => undefined));
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'diagnose-zh-CN.png'), fullPage: true });
      const bars = await pixels(page, await page.locator('#stages').screenshot());
      let orange = 0;
      let blue = 0;
      for (let i = 0; i < bars.length; i += 4) {
        if (bars[i]! > 170 && bars[i + 1]! < 100 && bars[i + 2]! < 60) orange++;
        if (bars[i + 2]! > 150 && bars[i]! < 80 && bars[i + 1]! < 120) blue++;
      }
      expect(orange, 'the stage bar now').toBeGreaterThan(200);
      expect(blue, 'the stage bar after the roadmap').toBeGreaterThan(orange);
      // this browser draws Chinese in its own fonts as one box for every character; in the
      // report's font stack each distinct character of the title and the headings has a shape of its own
      const sample = [...'窑炉喷釉压机'];
      expect(new Set(await glyphShapes(page, 'sans-serif', sample)).size, `without the report's font, ${sample.join('')} all draw one shape`).toBe(1);
      const words = await page.locator('h1, h2, th').allInnerTexts();
      const chars = [...new Set([...words.join('')].filter((c) => /[\u4e00-\u9fff]/.test(c)))];
      expect(chars.length).toBeGreaterThan(20);
      const shapes = await glyphShapes(page, null, chars);
      expect(new Set(shapes).size, `distinct shapes of ${chars.join('')}`).toBe(chars.length);
      // and what each element really drew its Chinese with: the embedded font, never a system one (boxes here)
      expect(await chineseInSystemFonts(page, 'body *'), 'elements drawing Chinese in a system font').toEqual([]);
      expect(await page.locator('#steps tr').count()).toBe(1 + first.steps.length);
    } finally {
      await latin.close();
    }
  }, scaled(120_000));

  it('exits 2 naming the problem: no scenario, an unknown language, a bad seed count, an unknown scenario', async () => {
    const cases: [string[], RegExp][] = [
      [['diagnose'], /diagnose needs one scenario; got 0/],
      [['diagnose', line, '--lang', 'fr'], /--lang must be en or zh-CN, got "fr"/],
      [['diagnose', line, '--seeds', '0'], /--seeds must be a whole number from 1 to 1000, got 0/],
      [['diagnose', 'steel-ball-befor'], /steel-ball-befor/],
    ];
    for (const [args, message] of cases) {
      const r = await twinline(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
  }, scaled(120_000));
});
