/**
 * A trend's past from the host's historian: each tag's stored values (kept when they change, so
 * the tags' times differ) merged onto one time axis, each tag holding its last value until the
 * next (as the historian stored them), before the first live sample, at most `max` rows.
 */
import type { HistoryPoint } from './types.ts';

/**
 * Columns `[time, tag1, tag2, …]` from `series` (one per tag, oldest first), values times
 * `scales[j]`, times before `before` only; a tag with no value yet at a time is NaN.
 */
export function backfillColumns(series: readonly (readonly HistoryPoint[])[], scales: readonly number[], before: number, max: number): number[][] {
  const times = [...new Set(series.flatMap((s) => s.map((p) => p.simS)))].filter((t) => t < before).sort((a, b) => a - b).slice(-max);
  const out: number[][] = [times];
  series.forEach((s, j) => {
    const col: number[] = [];
    let k = 0;
    let last = NaN;
    for (const t of times) {
      while (k < s.length && s[k]!.simS <= t) {
        const v = s[k]!.v;
        last = v === null ? NaN : v * (scales[j] ?? 1);
        k++;
      }
      col.push(last);
    }
    out.push(col);
  });
  return out;
}
