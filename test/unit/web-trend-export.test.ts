/**
 * What a trend exports as CSV (web/src/twin/trend-export.ts): a header naming each column with
 * its unit, one row per sample as the chart keeps them, an empty cell for a missing value, and a
 * file name that says which station and when.
 */
import { describe, expect, it } from 'vitest';
import { trendCsv, trendFileName } from '../../web/src/twin/trend-export.ts';

describe('trend export', () => {
  it('writes the samples column-wise as the chart holds them, one row per sample, quoting what needs it', () => {
    const csv = trendCsv(['Sim time [s]', 'Zone 1 temperature [°C]', 'Power, total [kW]'], [[10, 10.5, 11], [850.25, NaN, 851], [12, 12.5, 13]]);
    expect(csv).toBe('Sim time [s],Zone 1 temperature [°C],"Power, total [kW]"\n10,850.25,12\n10.5,,12.5\n11,851,13\n');
    expect(trendCsv(['t', 'say "hi"'], [[], []])).toBe('t,"say ""hi"""\n');
  });

  it('names the file after the station and the newest sample, and keeps a path out of it', () => {
    expect(trendFileName('kiln', 3725.8, 'png')).toBe('kiln-trend-3725s.png');
    expect(trendFileName('../etc/x y', undefined, 'csv')).toBe('___etc_x_y-trend.csv');
  });
});
