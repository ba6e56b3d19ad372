/**
 * The payback of `compare --retrofit` on a constructed comparison, checked by hand, and its
 * sensitivity: a higher wage makes the labour the model removed worth more, so the payback
 * shortens; a step costing more lengthens it. The prices file: defaults, overrides, errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { TwinlineError } from '../../sim/core/errors.ts';
import { DEFAULT_PRICES, economics, loadPrices, type Prices } from '../../sim/host/compare-economics.ts';
import { economicsHtml } from '../../sim/host/compare-html-economics.ts';
import type { KpiComparison } from '../../sim/host/compare.ts';
import { loadRetrofit } from '../../sim/host/retrofits.ts';
import type { RetrofitStep } from '../../sim/line/retrofit-schema.ts';

const k = (before: number, after: number): KpiComparison => ({ before: { mean: before, sd: 0 }, after: { mean: after, sd: 0 }, deltaPct: { mean: null, lo: null, hi: null } });

// over 8 measured hours: labour 80 → 24 h, energy 4,000 → 4,400 kWh, good parts 400 → 560
const KPIS = { labourHours: k(80, 24), energyKWh: k(4000, 4400), good: k(400, 560) };
const step = (capex: number, maintenancePerYear: number): RetrofitStep => ({ ...loadRetrofit('robot-handling'), capex, opex: { maintenancePerYear } });
const PRICES: Prices = { wagePerHour: 30, energyPerKWh: 0.5, pricePerGoodPart: 10, hoursPerYear: 6000 };

const dir = mkdtempSync(join(tmpdir(), 'twinline-prices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('retrofit economics', () => {
  it('scales the measured means to a year and prices them (worked by hand)', () => {
    const e = economics(KPIS, 8, [step(1_000_000, 20_000), step(500_000, 10_000)], PRICES);
    // a year is 6000 / 8 = 750 measured periods
    expect(e.perYear.labourHours).toEqual({ before: 60_000, after: 18_000 });
    expect(e.perYear.energyKWh).toEqual({ before: 3_000_000, after: 3_300_000 });
    expect(e.perYear.goodParts).toEqual({ before: 300_000, after: 420_000 });
    // labour 42,000 h × 30 = 1,260,000; energy −300,000 kWh × 0.5 = −150,000; output 120,000 × 10 = 1,200,000; upkeep −30,000
    expect(e.savingsPerYear).toEqual({ labour: 1_260_000, energy: -150_000, output: 1_200_000, opex: -30_000, net: 2_280_000 });
    expect(e.capex).toBe(1_500_000);
    expect(e.paybackYears).toBeCloseTo(1_500_000 / 2_280_000, 3);
  });

  it('moves with its causes: double the wage and the payback shortens; more capex or less labour saved lengthens it', () => {
    const base = economics(KPIS, 8, [step(1_500_000, 30_000)], PRICES).paybackYears!;
    const wage = economics(KPIS, 8, [step(1_500_000, 30_000)], { ...PRICES, wagePerHour: 60 }).paybackYears!;
    expect(wage).toBeLessThan(base);
    // net 2,280,000 + 1,260,000 more labour saving
    expect(wage).toBeCloseTo(1_500_000 / 3_540_000, 3);
    expect(economics(KPIS, 8, [step(3_000_000, 30_000)], PRICES).paybackYears!).toBeCloseTo(2 * base, 3);
    const lessLabour = economics({ ...KPIS, labourHours: k(80, 60) }, 8, [step(1_500_000, 30_000)], PRICES).paybackYears!;
    expect(lessLabour).toBeGreaterThan(base);
  });

  it('has no payback when the net saving is not positive', () => {
    const e = economics({ labourHours: k(10, 10), energyKWh: k(100, 120), good: k(50, 50) }, 1, [step(100_000, 1_000)], DEFAULT_PRICES);
    expect(e.savingsPerYear.net).toBeLessThan(0);
    expect(e.paybackYears).toBeNull();
    expect(economicsHtml(e)).toContain('none (no net saving)');
  });

  it('draws the savings by cause and the cumulative cash crossing zero at the payback', () => {
    const html = economicsHtml(economics(KPIS, 8, [step(1_500_000, 30_000)], PRICES));
    expect(html).toContain('<svg id="savings"');
    expect(html).toContain('<svg id="payback"');
    expect(html).toMatch(/payback 0\.7 years/);
    expect(html).toMatch(/<td>robot-handling<\/td><td>Robot loading and unloading<\/td><td>1,500,000<\/td>/);
  });
});

describe('prices file', () => {
  it('the sample file holds the defaults', () => {
    expect(parse(readFileSync('scenarios/prices/default.yaml', 'utf8'))).toEqual(DEFAULT_PRICES);
    expect(loadPrices('scenarios/prices/default.yaml')).toEqual(DEFAULT_PRICES);
  });

  it('keys left out keep their defaults; bad keys and values are named with file and line', () => {
    const f = join(dir, 'p.yaml');
    writeFileSync(f, 'wagePerHour: 45\n');
    expect(loadPrices(f)).toEqual({ ...DEFAULT_PRICES, wagePerHour: 45 });
    writeFileSync(f, 'wagePerHour: 45\nenergyPerKwh: 1\nhoursPerYear: -3\n');
    let e: unknown;
    try {
      loadPrices(f);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(TwinlineError);
    const r = (e as TwinlineError).report();
    expect(r).toMatch(/p\.yaml:2:1 energyPerKwh: unknown key "energyPerKwh"; prices are wagePerHour, energyPerKWh/);
    expect(r).toMatch(/p\.yaml:3:\d+ hoursPerYear: must be above 0 \[OUT_OF_RANGE\]/);
    expect(() => loadPrices(join(dir, 'missing.yaml'))).toThrow(/cannot read the prices file \(ENOENT\)/);
  });
});
