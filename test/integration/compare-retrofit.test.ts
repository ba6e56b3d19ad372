/**
 * `twinline compare <before> --retrofit a,b,…` as a user runs it: the steel-ball line (the
 * built-in file at a 10 ms tick, in a temporary directory) against itself with the built-in
 * steps applied; the payback priced from a prices file in the JSON, the table and the HTML
 * report (rendered in real Chromium); bad input exits 2 naming it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareResult } from '../../sim/host/compare.ts';
import { ROOT, scaled, twinlineCli } from '../proc.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/host.ts';
import { pixels, variety } from '../e2e/pixels.ts';

const twinline = (...args: string[]): ReturnType<typeof twinlineCli> => twinlineCli(args);
const STEPS = 'automatic-pouring,automatic-knockout,robot-handling';

let dir = '';
let before = '';
let prices = '';
let html = '';
let json: CompareResult;
let table = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-retrofit-'));
  before = join(dir, 'steel-ball-before.yaml');
  prices = join(dir, 'prices.yaml');
  html = join(dir, 'report.html');
  const text = readFileSync(join(ROOT, 'scenarios/steel-ball-before.yaml'), 'utf8');
  expect(text).toMatch(/^dt: 1 ms$/m);
  writeFileSync(before, text.replace(/^dt: 1 ms$/m, 'dt: 10 ms'));
  writeFileSync(prices, 'wagePerHour: 40\nenergyPerKWh: 0.7\npricePerGoodPart: 25\nhoursPerYear: 6000\n');
  const args = [before, '--retrofit', STEPS, '--prices', prices, '--hours', '0.5', '--warmup', '1.5 h', '--seeds', '2'];
  const [j, t] = await Promise.all([twinline('compare', ...args, '--json'), twinline('compare', ...args, '--html', html)]);
  expect(j.code, j.stderr).toBe(0);
  expect(t.code, t.stderr).toBe(0);
  json = JSON.parse(j.stdout) as CompareResult;
  table = t.stdout;
}, scaled(400_000));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('twinline compare --retrofit', () => {
  it('compares the baseline with the baseline plus the steps: fewer operators, the same seeds', () => {
    expect(json.before.scenario).toBe('steel-ball-before');
    expect(json.after.scenario).toBe(`steel-ball-before+${STEPS.replace(/,/g, '+')}`);
    expect(json.runs.map((r) => `${r.variant}:${r.seed}`)).toEqual(['before:1', 'before:2', 'after:1', 'after:2']);
    expect(json.kpis.operators!.after.mean).toBeLessThan(json.kpis.operators!.before.mean);
    expect(json.kpis.labourHours!.after.mean).toBeLessThan(json.kpis.labourHours!.before.mean);
  });

  it('prices the payback from the model\'s deltas and the steps\' costs', () => {
    const e = json.economics!;
    expect(e.pricesFile).toBe(prices);
    expect(e.prices).toEqual({ wagePerHour: 40, energyPerKWh: 0.7, pricePerGoodPart: 25, hoursPerYear: 6000 });
    expect(e.steps.map((s) => s.id)).toEqual(STEPS.split(','));
    expect(e.capex).toBe(900_000 + 350_000 + 450_000);
    const k = json.kpis;
    const perYear = 6000 / 0.5;
    const labour = (k.labourHours!.before.mean - k.labourHours!.after.mean) * perYear * 40;
    const energy = (k.energyKWh!.before.mean - k.energyKWh!.after.mean) * perYear * 0.7;
    const output = (k.good!.after.mean - k.good!.before.mean) * perYear * 25;
    expect(e.savingsPerYear.labour).toBeCloseTo(labour, -1);
    expect(e.savingsPerYear.energy).toBeCloseTo(energy, -1);
    expect(e.savingsPerYear.output).toBeCloseTo(output, -1);
    expect(e.savingsPerYear.opex).toBe(-(45_000 + 20_000 + 15_000));
    expect(e.savingsPerYear.labour).toBeGreaterThan(0);
    expect(e.paybackYears).toBeCloseTo(e.capex / e.savingsPerYear.net, 2);
    expect(table).toMatch(/Payback \(prices .*prices\.yaml: wage 40 CNY\/h/);
    expect(table).toMatch(/capex 1,700,000 CNY · payback \d+\.\d\d years/);
  });

  it('shows the payback in the HTML report: the steps table, the savings bars and the cash line', async () => {
    const text = readFileSync(html, 'utf8');
    expect(text).toContain('<h2>Payback</h2>');
    expect(text).toMatch(/<td>automatic-pouring<\/td>.*<td>900,000<\/td>/);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 1200 } });
      await page.goto(`file://${html}`);
      const savings = await pixels(page, await page.locator('#savings').screenshot());
      expect(variety(savings).colours).toBeGreaterThan(3);
      const cash = await pixels(page, await page.locator('#payback').screenshot());
      let blue = 0;
      for (let i = 0; i < cash.length; i += 4) if (cash[i + 2]! > 150 && cash[i]! < 80 && cash[i + 1]! < 120) blue++;
      expect(blue).toBeGreaterThan(200);
    } finally {
      await browser.close();
    }
  }, scaled(120_000));

  it('exits 2 naming the problem: unknown step, a step that does not apply, after and --retrofit both, --prices alone, a bad prices file', async () => {
    const badPrices = join(dir, 'bad-prices.yaml');
    writeFileSync(badPrices, 'wage: 40\n');
    const cases: [string[], RegExp][] = [
      [['compare', before, '--retrofit', 'robot-handlin'], /unknown retrofit step "robot-handlin" \(did you mean "robot-handling"\?\)/],
      [['compare', 'ceramic-before', '--retrofit', 'automatic-pouring'], /retrofit step "automatic-pouring" does not apply to ceramic-before/],
      [['compare', before, 'steel-ball-after', '--retrofit', 'robot-handling'], /give an after scenario or --retrofit, not both/],
      [['compare', before, 'steel-ball-after', '--prices', prices], /--prices needs --retrofit/],
      [['compare', before, '--retrofit', 'robot-handling', '--prices', badPrices], /bad-prices\.yaml:1:1 wage: unknown key "wage"/],
      [['compare', before, '--retrofit', 'robot-handling,'], /--retrofit takes step ids/],
    ];
    for (const [args, message] of cases) {
      const r = await twinline(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
  }, scaled(300_000));
});
