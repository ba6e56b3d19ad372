/**
 * What a trend exports as CSV (web/src/twin/trend-export.ts): a header naming each column with
 * its unit, one row per sample as the chart keeps them, an empty cell for a missing value, and a
 * file name that says which station and when; and a trend backfilled from the historian
 * (trend-backfill.ts).
 */
import { describe, expect, it } from 'vitest';
import { trendCsv, trendFileName } from '../../web/src/twin/trend-export.ts';
import { backfillColumns } from '../../web/src/twin/trend-backfill.ts';

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

describe('a trend backfilled from the historian', () => {
  it('merges tags stored at different times onto one axis, each holding its last value, before the first live sample', () => {
    const power = [{ simS: 10, v: 1000 }, { simS: 12, v: 2000 }, { simS: 20, v: 3000 }];
    const temp = [{ simS: 11, v: 900 }, { simS: 19, v: null }];
    // kW and °C: the display scales
    const cols = backfillColumns([power, temp], [0.001, 1], 20, 100);
    expect(cols[0]).toEqual([10, 11, 12, 19]);
    expect(cols[1]).toEqual([1, 1, 2, 2]);
    expect(cols[2]).toEqual([NaN, 900, 900, NaN]);
  });

  it('keeps the newest rows when there are more than fit, and nothing for a tag never stored', () => {
    const many = Array.from({ length: 50 }, (_, k) => ({ simS: k, v: k }));
    const cols = backfillColumns([many, []], [1, 1], Infinity, 10);
    expect(cols[0]).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
    expect(cols[1]).toEqual(cols[0]);
    expect(cols[2]!.every((v) => Number.isNaN(v))).toBe(true);
  });
});
