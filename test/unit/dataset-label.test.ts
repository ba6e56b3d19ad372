import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvCell, logFiles } from '../../security/dataset/export.ts';
import { attackWindows, labelEvent, labelInterval, labelTick, NORMAL } from '../../security/dataset/label.ts';

const rec = (event: 'start' | 'end', run: number, attack: string, startTick: number, endTick: number | null, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  event, run, attack, techniques: ['T0855'], face: 'rest', station: 'kiln', startTick, startedAtMs: 1000 + startTick, endTick, endedAtMs: endTick === null ? null : 1000 + endTick,
  outcome: event === 'end' ? 'succeeded' : null, ...extra,
});

describe('attack windows from attacks.ndjson', () => {
  it('pairs start and end by run, in start order; a run without an end is open to the end of the data', () => {
    const { windows, problems } = attackWindows([
      rec('start', 1, 'rest-stop', 100, null), rec('start', 2, 'opcua-stop', 500, null), rec('end', 1, 'rest-stop', 100, 200), rec('end', 2, 'opcua-stop', 500, 650),
      rec('start', 3, 'mqtt-flood', 900, null, { techniques: ['T0814', 'T0806'] }),
    ]);
    expect(windows.map((w) => [w.run, w.attack, w.startTick, w.endTick, w.open, w.outcome])).toEqual([
      [1, 'rest-stop', 100, 200, false, 'succeeded'], [2, 'opcua-stop', 500, 650, false, 'succeeded'], [3, 'mqtt-flood', 900, Infinity, true, null],
    ]);
    expect(windows[2]!.techniques).toEqual(['T0814', 'T0806']);
    expect(problems).toEqual(['run 3 (mqtt-flood) has no end record: labelled to the end of the data']);
  });

  it('names every line it cannot use, and the cap the host reached', () => {
    const { windows, problems } = attackWindows([42, rec('start', 1, 'x', 1, null), { event: 'end', run: 1 }, { truncated: true, more: 3, limit: 100000 }, { event: 'start', attack: 'y' }]);
    expect(windows).toHaveLength(1);
    expect(problems).toEqual([
      'attacks.ndjson:1: not a JSON object',
      'attacks.ndjson:3: not an attack run record (event, run, attack, techniques, startTick)',
      'attacks.ndjson:4: the host stopped recording runs after 100000 lines (3 more not written)',
      'attacks.ndjson:5: not an attack run record (event, run, attack, techniques, startTick)',
      'run 1 (x) has no end record: labelled to the end of the data',
    ]);
  });
});

describe('labels', () => {
  const { windows } = attackWindows([rec('start', 1, 'rest-stop', 100, null), rec('end', 1, 'rest-stop', 100, 200), rec('start', 2, 'opcua-stop', 260, null), rec('end', 2, 'opcua-stop', 260, 300)]);

  it('labels an instant inside a window (both ends included) with its run, outside normal', () => {
    expect(labelTick(99, windows)).toEqual({ label: NORMAL, techniques: [], run: null });
    expect(labelTick(100, windows)).toEqual({ label: 'rest-stop', techniques: ['T0855'], run: 1 });
    expect(labelTick(200, windows).run).toBe(1);
    expect(labelTick(201, windows).label).toBe(NORMAL);
    expect(labelTick(300, windows).run).toBe(2);
    expect(labelTick(1e9, windows).label).toBe(NORMAL);
  });

  it('labels a row by the run its interval overlaps most, with the share of the interval under attack', () => {
    expect(labelInterval(0, 50, windows)).toEqual({ label: NORMAL, techniques: [], run: null, fraction: 0 });
    // (50, 150]: ticks 100…150 are rest-stop's: 51 of 100
    expect(labelInterval(50, 150, windows)).toMatchObject({ label: 'rest-stop', run: 1, fraction: 0.51 });
    expect(labelInterval(120, 180, windows)).toMatchObject({ run: 1, fraction: 1 });
    // (190, 290]: 10 ticks of run 1, 31 of run 2: run 2, 41 % under attack
    expect(labelInterval(190, 290, windows)).toMatchObject({ label: 'opcua-stop', run: 2, fraction: 0.41 });
    // the interval just after a window: normal (its end tick belongs to the previous row)
    expect(labelInterval(200, 250, windows).label).toBe(NORMAL);
    // the first row: its instant
    expect(labelInterval(null, 150, windows)).toMatchObject({ run: 1, fraction: 1 });
    expect(labelInterval(null, 250, windows)).toMatchObject({ label: NORMAL, fraction: 0 });
    // a tie goes to the later run
    const tie = attackWindows([rec('start', 7, 'a', 10, null), rec('end', 7, 'a', 10, 14), rec('start', 8, 'b', 16, null), rec('end', 8, 'b', 16, 20)]).windows;
    expect(labelInterval(10, 20, tie)).toMatchObject({ label: 'b', run: 8, fraction: 0.9 });
  });

  it('labels the range\'s own marks with the run they name, whatever their tick; other audits by tick', () => {
    const mark = { tick: 203, type: 'audit', data: { source: 'attack', action: 'attack', target: 'rest-stop → kiln (run 1)' } };
    expect(labelEvent(mark, windows).run).toBe(1);
    expect(labelEvent({ ...mark, data: { ...mark.data, target: 'x (run 99)' } }, windows).label).toBe(NORMAL);
    expect(labelEvent({ tick: 203, type: 'audit', data: { source: 'api', action: 'login', target: '(run 1)' } }, windows).label).toBe(NORMAL);
    expect(labelEvent({ tick: 150, type: 'command', data: { source: 'api' } }, windows).label).toBe('rest-stop');
  });
});

describe('export helpers', () => {
  it('quotes CSV text and defuses what a spreadsheet would run as a formula', () => {
    expect(csvCell(1.5)).toBe('1.5');
    expect(csvCell(-2)).toBe('-2');
    expect(csvCell(null)).toBe('');
    expect(csvCell(NaN)).toBe('');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=cmd|\' /C calc\'!A0')).toBe('\'=cmd|\' /C calc\'!A0');
    expect(csvCell('-1+1')).toBe('\'-1+1');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
  });

  it('reads rotated logs oldest first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinline-dataset-'));
    try {
      for (const f of ['values.ndjson', 'values.1.ndjson', 'values.10.ndjson', 'values.2.ndjson', 'values-x.ndjson', 'events.ndjson']) writeFileSync(join(dir, f), '');
      expect(logFiles(dir, 'values').map((f) => f.slice(dir.length + 1))).toEqual(['values.10.ndjson', 'values.2.ndjson', 'values.1.ndjson', 'values.ndjson']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
