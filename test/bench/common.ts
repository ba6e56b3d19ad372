/**
 * What every section of `npm run bench` shares: one row format (figure, value, baseline,
 * baseline value, ratio) and number formatting. A section is an async function that
 * measures its figures and their same-run baselines and returns rows plus notes.
 */

/** One printed figure: [figure, value, baseline, baseline value, ratio value/baseline]. */
export type BenchRow = [string, string, string, string, string];

/** What a section returns. */
export interface SectionResult {
  rows: BenchRow[];
  /** lines printed under the table: targets met or not, caveats */
  notes: string[];
}

/** A bench section: `log` prints progress lines while it runs. */
export type Section = (log: (line: string) => void) => Promise<SectionResult>;

/** `a / b` as `0.53×`, or `–` without a baseline. */
export function ratio(a: number, b: number): string {
  return b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : '–';
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `p`-quantile of `xs` (sorted in place), nearest rank; NaN for none. */
export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] ?? NaN;
}
