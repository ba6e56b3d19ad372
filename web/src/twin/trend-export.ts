/**
 * What a trend exports: its samples as CSV (one row per sample: simulated time, then each tag in
 * its display unit) and a file name for them. The PNG is the chart itself (Trend.tsx).
 */

/** A CSV cell: quoted when it holds a comma, quote or line break. */
function cell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The CSV of a trend: `header` names the columns (time first), `columns` holds the samples,
 * column-wise as the chart keeps them. A missing value (NaN) is an empty cell.
 */
export function trendCsv(header: readonly string[], columns: readonly (readonly number[])[]): string {
  const rows = [header.map(cell).join(',')];
  const n = columns[0]?.length ?? 0;
  for (let i = 0; i < n; i++) rows.push(columns.map((c) => (Number.isFinite(c[i]) ? String(c[i]) : '')).join(','));
  return `${rows.join('\n')}\n`;
}

/** `<station>-trend-<simulated time>s.<ext>`: the station and the newest sample's time. */
export function trendFileName(station: string, simTimeS: number | undefined, ext: 'csv' | 'png'): string {
  const at = simTimeS === undefined ? '' : `-${Math.floor(simTimeS)}s`;
  return `${station.replace(/[^A-Za-z0-9_-]/g, '_')}-trend${at}.${ext}`;
}
