/**
 * Evidence lines from the twin's event log: each kind of event said plainly, and a run of the
 * same command from the same sender (a slow setpoint drift) folded into one line.
 */
import { describe, expect, it } from 'vitest';
import { describe as line, summarize, type Ev } from '../../security/attacks/observer.ts';

const ev = (seq: number, type: string, data: Record<string, unknown>, station: string | null = 'kiln'): Ev => ({ seq, tick: seq, type, station, data });
const set = (seq: number, field: string, value: number): Ev =>
  ev(seq, 'command', { command: 'set', source: 'opcua', principal: 'anonymous@s1', role: 'operator', args: JSON.stringify({ field, value }) });

describe('attack evidence', () => {
  it('says who did what for each kind of event', () => {
    expect(line(ev(3, 'audit', { source: 'mqtt', action: 'publish', outcome: 'denied', principal: 'anonymous/x@127.0.0.1:5', target: 'a/b/cmd/stop', reason: 'commands are not allowed' }, null)))
      .toBe('event #3 audit: mqtt publish denied for anonymous/x@127.0.0.1:5 on a/b/cmd/stop: commands are not allowed');
    expect(line(ev(4, 'rejected', { command: 'set', source: 'opcua', principal: 'anonymous@s1', role: 'operator', args: '{"field":"tripTemp","value":2000}', code: 'NOT_AUTHORIZED', reason: 'no' })))
      .toBe('event #4 command rejected: opcua set {"field":"tripTemp","value":2000} on kiln by anonymous@s1 (operator): NOT_AUTHORIZED no');
    expect(line(ev(5, 'state', { from: 'Execute', to: 'Stopping', cause: 'api' }))).toBe('event #5 kiln Execute → Stopping (api)');
    expect(line(ev(6, 'mode', { from: 'Production', to: 'Manual' }))).toBe('event #6 kiln unit mode Production → Manual');
    expect(line(ev(7, 'alarm', { code: 'OVERTEMP' }))).toBe('event #7 kiln alarm OVERTEMP raised');
  });

  it('folds three or more of the same command from the same sender into one line, keeping every argument', () => {
    const lines = summarize([set(1, 'sp1', 925), set(2, 'sp2', 1125), set(3, 'sp1', 950), ev(4, 'alarm', { code: 'OVERTEMP' }), set(5, 'sp1', 975), set(6, 'sp2', 1150)]);
    expect(lines).toEqual([
      'events #1–#3 3 × command accepted: opcua set on kiln by anonymous@s1 (operator); args {"field":"sp1","value":925}, {"field":"sp2","value":1125}, {"field":"sp1","value":950}',
      'event #4 kiln alarm OVERTEMP raised',
      'event #5 command accepted: opcua set {"field":"sp1","value":975} on kiln by anonymous@s1 (operator)',
      'event #6 command accepted: opcua set {"field":"sp2","value":1150} on kiln by anonymous@s1 (operator)',
    ]);
  });

  it('folds a flood of one audit verdict (a session each) into one line naming the first', () => {
    const allowed = (seq: number): Ev => ev(seq, 'audit', { source: 'opcua', action: 'session', outcome: 'allowed', principal: `anonymous@s${seq}`, target: '', reason: '' }, null);
    const denied = ev(9, 'audit', { source: 'opcua', action: 'session', outcome: 'denied', principal: '?@127.0.0.1:9', target: '', reason: 'BadTooManySessions' }, null);
    const flood = Array.from({ length: 12 }, (_, k) => allowed(k + 1));
    expect(summarize([...flood, denied])).toEqual([
      'events #1–#12 12 × audit: opcua session allowed for anonymous@s1 and 11 others',
      'event #9 audit: opcua session denied for ?@127.0.0.1:9: BadTooManySessions',
    ]);
    // a few refusals stay one line each, every principal named
    expect(summarize([allowed(1), allowed(2), allowed(3)])).toHaveLength(3);
  });
});
