/**
 * Payback of a retrofit in `twinline compare --retrofit`: the capital cost and the operating
 * cost the steps declare, against the yearly savings the simulated line predicts, priced with
 * a wage, an energy price and a value per good part (`--prices FILE`, defaults below).
 *
 * Yearly figures scale the measured period to `hoursPerYear` of operation: with the means over
 * the seeds of labour hours L, energy E [kWh] and good parts G over the measured H hours,
 *   labour saving  = (L_before − L_after) / H × hoursPerYear × wage
 *   energy saving  = (E_before − E_after) / H × hoursPerYear × energy price
 *   output gain    = (G_after − G_before) / H × hoursPerYear × value per good part
 *   net per year   = labour + energy + output − the steps' added operating cost
 *   payback [a]    = capex / net per year (none when the net is not positive).
 * Nothing here is typed per line: change the wage and the payback moves with the labour the
 * model removed.
 */
import { z } from 'zod';
import { checkedYaml } from '../line/checked-yaml.ts';
import type { RetrofitStep } from '../line/retrofit-schema.ts';
import type { KpiComparison } from './compare.ts';
import { readInput } from './read-input.ts';

/** Prices the payback is computed with. */
export interface Prices {
  /** cost of a paid labour hour, with the employer's social insurance [CNY/h] */
  wagePerHour: number;
  /** electricity (and fuel counted as electricity-equivalent) [CNY/kWh] */
  energyPerKWh: number;
  /** what one more good part sold brings (price less material and variable cost) [CNY]; 0: extra output is not valued */
  pricePerGoodPart: number;
  /** hours the line runs a year [h/a] */
  hoursPerYear: number;
}

/**
 * Defaults (README, scenarios/prices/default.yaml): about 30 CNY an hour for a Hunan factory
 * worker around 2021 with the employer's social insurance, 0.65 CNY/kWh industrial
 * electricity, extra output not valued unless told, 300 days × 24 h (three shifts).
 */
export const DEFAULT_PRICES: Readonly<Prices> = { wagePerHour: 30, energyPerKWh: 0.65, pricePerGoodPart: 0, hoursPerYear: 7200 };

const pricesSchema = z.strictObject({
  wagePerHour: z.number({ error: 'expected CNY per labour hour (a number)' }).min(0).max(1e5).optional(),
  energyPerKWh: z.number({ error: 'expected CNY per kWh (a number)' }).min(0).max(1e3).optional(),
  pricePerGoodPart: z.number({ error: 'expected CNY per good part (a number)' }).min(0).max(1e9).optional(),
  hoursPerYear: z.number({ error: 'expected hours of operation per year (a number)' }).gt(0).max(8784).optional(),
});

/** Reads a prices file; keys left out keep their defaults. Problems name the file, line and key. */
export function loadPrices(file: string): Prices {
  const text = readInput(file, 'prices file');
  const r = checkedYaml(text, file, pricesSchema, { shape: 'a prices file is a mapping of wagePerHour, energyPerKWh, pricePerGoodPart, hoursPerYear', emptyIsEmpty: true, unknownKeyHint: `prices are ${Object.keys(DEFAULT_PRICES).join(', ')}` });
  const out: Prices = { ...DEFAULT_PRICES };
  for (const k of Object.keys(out) as (keyof Prices)[]) {
    const x = r.data[k];
    if (x !== undefined) out[k] = x;
  }
  return out;
}

/** One step's costs. */
export interface StepCost {
  id: string;
  title: string;
  /** [CNY] */
  capex: number;
  /** operating cost the step adds [CNY/a] (maintenance and other) */
  opexPerYear: number;
}

/** A quantity per year before and after the retrofit. */
export interface YearlyPair {
  before: number;
  after: number;
}

/** The `economics` section of `compare --json`. */
export interface Economics {
  prices: Prices;
  /** the prices file, or null: the defaults */
  pricesFile: string | null;
  steps: StepCost[];
  /** sum of the steps' capital costs [CNY] */
  capex: number;
  /** per year, from the means over the seeds: labour hours [h], energy [kWh], good parts */
  perYear: { labourHours: YearlyPair; energyKWh: YearlyPair; goodParts: YearlyPair };
  /** yearly money effects [CNY/a], positive: better after */
  savingsPerYear: { labour: number; energy: number; output: number; opex: number; net: number };
  /** capex / net saving per year [a]; null: the retrofit does not pay back (net ≤ 0) */
  paybackYears: number | null;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** Payback of `steps` from the KPI comparison over `hours` measured hours (module comment). */
export function economics(kpis: Readonly<Record<string, KpiComparison>>, hours: number, steps: readonly RetrofitStep[], prices: Prices, pricesFile: string | null = null): Economics {
  const mean = (name: string, v: 'before' | 'after'): number => kpis[name]?.[v].mean ?? 0;
  const yearly = (name: string): YearlyPair => ({ before: round((mean(name, 'before') / hours) * prices.hoursPerYear), after: round((mean(name, 'after') / hours) * prices.hoursPerYear) });
  const labourHours = yearly('labourHours');
  const energyKWh = yearly('energyKWh');
  const goodParts = yearly('good');
  const costs: StepCost[] = steps.map((s) => ({ id: s.id, title: s.title.en, capex: s.capex, opexPerYear: (s.opex?.maintenancePerYear ?? 0) + (s.opex?.otherPerYear ?? 0) }));
  const capex = costs.reduce((a, s) => a + s.capex, 0);
  const labour = (labourHours.before - labourHours.after) * prices.wagePerHour;
  const energy = (energyKWh.before - energyKWh.after) * prices.energyPerKWh;
  const output = (goodParts.after - goodParts.before) * prices.pricePerGoodPart;
  const opex = -costs.reduce((a, s) => a + s.opexPerYear, 0);
  const net = labour + energy + output + opex;
  return {
    prices,
    pricesFile,
    steps: costs,
    capex,
    perYear: { labourHours, energyKWh, goodParts },
    savingsPerYear: { labour: round(labour), energy: round(energy), output: round(output), opex: round(opex), net: round(net) },
    paybackYears: net > 0 ? round(capex / net, 3) : null,
  };
}

/** The economics as text lines under the KPI table. */
export function formatEconomics(e: Economics): string {
  const cny = (x: number): string => `${Math.round(x).toLocaleString('en-US')} CNY`;
  const p = e.prices;
  return [
    `Payback (prices ${e.pricesFile ?? 'default'}: wage ${p.wagePerHour} CNY/h, energy ${p.energyPerKWh} CNY/kWh, good part ${p.pricePerGoodPart} CNY, ${p.hoursPerYear} h/a)`,
    ...e.steps.map((s) => `  ${s.id}: capex ${cny(s.capex)}, operating cost ${cny(s.opexPerYear)}/a`),
    `  savings per year: labour ${cny(e.savingsPerYear.labour)}, energy ${cny(e.savingsPerYear.energy)}, output ${cny(e.savingsPerYear.output)}, operating cost ${cny(e.savingsPerYear.opex)}; net ${cny(e.savingsPerYear.net)}`,
    `  capex ${cny(e.capex)} · payback ${e.paybackYears === null ? 'none (no net saving)' : `${e.paybackYears.toFixed(2)} years`}`,
    '',
  ].join('\n');
}
