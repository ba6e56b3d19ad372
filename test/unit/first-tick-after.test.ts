/**
 * The next-event advance's "first tick at which a timer has run out" (`firstTickAfter`,
 * sim/core/advance.ts) ends whatever the tick: a tick so short that the timer is 2^52 ticks or
 * more away (5e-324 s, which a fuzzed scenario once reached) is as good as never, where T − 1
 * equals T and its rounding steps used to loop for ever; and scenarios may not ask for a tick
 * under a microsecond.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { firstTickAfter, QUIET_FOREVER } from '../../sim/core/advance.ts';
import { TwinlineError } from '../../sim/core/errors.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';

const MINIMAL = readFileSync('test/fixtures/scenarios/minimal.yaml', 'utf8');

describe('firstTickAfter', () => {
  it('is the first tick whose elapsed time reaches the seconds, as the PLC compares them', () => {
    expect(firstTickAfter(100, 0.5, 0.001)).toBe(600);
    expect(firstTickAfter(0, 0.3, 0.1)).toBe(3);
    expect((firstTickAfter(0, 0.3, 0.1) - 1) * 0.1).toBeLessThan(0.3);
    expect(firstTickAfter(7, 0, 0.001)).toBe(7);
    expect(firstTickAfter(7, -1, 0.001)).toBe(7);
  });

  it('says "never" for a timer 2^52 ticks or more away, or not a number, instead of looping', () => {
    expect(firstTickAfter(0, 0.5, 5e-324)).toBe(QUIET_FOREVER);
    expect(firstTickAfter(0, 3600, 1e-13)).toBe(QUIET_FOREVER);
    expect(firstTickAfter(2 ** 52, 1, 1)).toBe(QUIET_FOREVER);
    expect(firstTickAfter(0, Number.NaN, 0.001)).toBe(QUIET_FOREVER);
    expect(firstTickAfter(0, Infinity, 0.001)).toBe(QUIET_FOREVER);
  });

  it('a world with a 5e-324 s tick (past the loader\'s check) steps and ends', () => {
    const w = createWorld({ ...parseScenario(MINIMAL, 'm.yaml'), dt: 5e-324 });
    w.step(20);
    expect(w.tick).toBe(20);
  });
});

describe('the tick of a scenario', () => {
  const withDt = (dt: string): string => MINIMAL.replace(/^dt: .*$/m, `dt: ${dt}`);
  const dtLine = MINIMAL.split('\n').findIndex((l) => l.startsWith('dt: ')) + 1;

  it('is refused under a microsecond, naming dt and the bound', () => {
    for (const dt of ['5e-324 s', '1 ns', '0.5 µs']) {
      let err: unknown = null;
      try {
        parseScenario(withDt(dt), 'm.yaml');
      } catch (e) {
        err = e;
      }
      expect(err, dt).toBeInstanceOf(TwinlineError);
      const p = (err as TwinlineError).problems[0]!;
      expect(p.message, dt).toMatch(/is below the minimum 0\.000001 s/);
      expect(p.where).toMatchObject({ path: 'dt', line: dtLine });
    }
  });

  it('is taken from a microsecond to a second', () => {
    expect(parseScenario(withDt('1 µs'), 'm.yaml').dt).toBe(1e-6);
    expect(parseScenario(withDt('1 s'), 'm.yaml').dt).toBe(1);
  });
});
