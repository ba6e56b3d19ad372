import { describe, expect, it } from 'vitest';
import { actingDone, Cmd, isUp, modeChangeAllowed, State, STATE_NAMES, transition } from '../../sim/plc/packml.ts';

const S = State;

describe('PackML state machine', () => {
  it('uses the PackTags state numbers', () => {
    expect(STATE_NAMES[S.Execute]).toBe('Execute');
    expect(S).toMatchObject({ Clearing: 1, Stopped: 2, Idle: 4, Execute: 6, Aborted: 9, Held: 11, Complete: 17 });
    expect(Cmd).toMatchObject({ reset: 1, start: 2, stop: 3, abort: 8, clear: 9 });
  });

  it('follows the standard happy path and its acting states', () => {
    let s: number = S.Stopped;
    const path: string[] = [];
    for (const c of [Cmd.reset, Cmd.start, Cmd.hold, Cmd.unhold, Cmd.suspend, Cmd.unsuspend, Cmd.complete, Cmd.reset]) {
      s = transition(s, c);
      expect(s).toBeGreaterThan(0);
      path.push(STATE_NAMES[s] ?? '');
      s = actingDone(s);
      path.push(STATE_NAMES[s] ?? '');
    }
    expect(path).toEqual([
      'Resetting', 'Idle', 'Starting', 'Execute', 'Holding', 'Held', 'Unholding', 'Execute',
      'Suspending', 'Suspended', 'Unsuspending', 'Execute', 'Completing', 'Complete', 'Resetting', 'Idle',
    ]);
  });

  it('allows Abort from every state but Aborting/Aborted, and Stop from every state outside the abort branch', () => {
    for (let s = 1; s <= 17; s++) {
      expect(transition(s, Cmd.abort) === S.Aborting, STATE_NAMES[s]).toBe(s !== S.Aborting && s !== S.Aborted);
      const abortBranch = s === S.Aborting || s === S.Aborted || s === S.Clearing;
      expect(transition(s, Cmd.stop) === S.Stopping, STATE_NAMES[s]).toBe(!abortBranch && s !== S.Stopped && s !== S.Stopping);
    }
    expect(transition(S.Aborted, Cmd.clear)).toBe(S.Clearing);
    expect(actingDone(S.Clearing)).toBe(S.Stopped);
  });

  it('refuses commands that make no sense in a state', () => {
    expect(transition(S.Stopped, Cmd.start)).toBe(-1);
    expect(transition(S.Execute, Cmd.reset)).toBe(-1);
    expect(transition(S.Idle, Cmd.clear)).toBe(-1);
    expect(transition(S.Execute, 99)).toBe(-1);
    expect(actingDone(S.Execute)).toBe(-1);
  });

  it('lets the unit mode change only in wait states and counts only running states as up', () => {
    expect(modeChangeAllowed(S.Stopped)).toBe(true);
    expect(modeChangeAllowed(S.Execute)).toBe(false);
    expect(isUp(S.Execute) && isUp(S.Suspended)).toBe(true);
    expect(isUp(S.Aborted) || isUp(S.Held) || isUp(S.Stopped)).toBe(false);
  });
});
