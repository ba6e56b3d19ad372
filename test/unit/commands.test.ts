import { describe, expect, it } from 'vitest';
import { drained, smallLine, runFor } from './world-helpers.ts';
import { State } from '../../sim/plc/packml.ts';
import type { SimEvent } from '../../sim/core/events.ts';
import type { Command } from '../../sim/core/commands.ts';

const cmd = (target: string, command: string, args?: Command['args']): Command => ({
  target, command, source: 'hmi', principal: 'operator-1', ...(args ? { args } : {}),
});

function lastResult(w: ReturnType<typeof smallLine>): SimEvent | undefined {
  return drained(w).filter((e) => e.type === 'command' || e.type === 'rejected').at(-1);
}

describe('commands', () => {
  it('stops and restarts a station through the PackML states and logs who did it', () => {
    const w = smallLine();
    runFor(w, 3);
    w.enqueue(cmd('press', 'stop'));
    runFor(w, 1);
    expect(w.st.state[w.indexOf('press')]).toBe(State.Stopped);
    const ev = lastResult(w);
    expect(ev?.type).toBe('command');
    expect(ev?.data.principal).toBe('operator-1');
    w.enqueue(cmd('press', 'start'));
    runFor(w, 0.01);
    expect(lastResult(w)?.data.reason).toMatch(/not allowed in state Stopped; send reset first/);
    w.enqueue(cmd('press', 'reset'));
    runFor(w, 1);
    w.enqueue(cmd('press', 'start'));
    runFor(w, 1);
    expect(w.st.state[w.indexOf('press')]).toBe(State.Execute);
  });

  it('rejects bad commands with a reason and keeps the line running', () => {
    const w = smallLine();
    runFor(w, 3);
    const bad: [Command, RegExp][] = [
      [cmd('nope', 'stop'), /no station "nope"/],
      [cmd('press', 'explode'), /unknown command "explode"/],
      [cmd('press', 'set', { field: 'cycleTime', value: -3 }), /outside/],
      [cmd('press', 'set', { field: 'cycleTime', value: 'fast' }), /finite number/],
      [cmd('press', 'set', { field: 'strokes', value: 3 }), /read-only/],
      [cmd('press', 'set', { field: 'nosuch', value: 3 }), /no field "nosuch"/],
      [cmd('press', 'mode', { mode: 'party' }), /production, maintenance or manual/],
      [cmd('press', 'mode', { mode: 'maintenance' }), /only in Stopped/],
      [cmd('press', 'fault', { duration: -1 }), /duration/],
      [cmd('press', 'maintain'), /Maintenance/],
      [cmd('press', 'repair'), /no fault/],
    ];
    for (const [c, re] of bad) {
      w.enqueue(c);
      runFor(w, 0.002);
      const ev = lastResult(w);
      expect(ev?.type, `${c.command} ${JSON.stringify(c.args)}`).toBe('rejected');
      expect(String(ev?.data.reason)).toMatch(re);
    }
    const before = w.counters().shipped;
    runFor(w, 600);
    expect(w.counters().shipped).toBeGreaterThan(before);
  });

  it('writes a setpoint in range', () => {
    const w = smallLine();
    w.enqueue(cmd('press', 'set', { field: 'cycleTime', value: 8 }));
    runFor(w, 0.01);
    expect(lastResult(w)?.type).toBe('command');
    expect(w.read(w.indexOf('press'), 'cycleTime')).toBe(8);
  });

  it('injects a fault that aborts the station, then recovers it by itself', () => {
    const w = smallLine();
    runFor(w, 3);
    const s = w.indexOf('press');
    w.enqueue({ ...cmd('press', 'fault', { duration: 30 }), source: 'attack', principal: 'red-team' });
    runFor(w, 1);
    expect(w.st.state[s]).toBe(State.Aborted);
    expect(w.st.alarms[s]! & (1 << 24)).not.toBe(0);
    runFor(w, 32);
    expect(w.st.state[s]).toBe(State.Execute);
    expect(w.st.fault[s]).toBe(0);
  });

  it('does maintenance: mode change in Stopped, wear back to zero', () => {
    const w = smallLine();
    runFor(w, 3600);
    const s = w.indexOf('press');
    expect(w.st.wear[s]).toBeGreaterThan(0);
    w.enqueue(cmd('press', 'stop'));
    runFor(w, 1);
    w.enqueue(cmd('press', 'mode', { mode: 'maintenance' }));
    w.enqueue(cmd('press', 'maintain'));
    runFor(w, 0.01);
    expect(w.st.wear[s]).toBe(0);
    expect(w.st.mode[s]).toBe(2);
  });

  it('acknowledges alarms and clears them when the cause goes', () => {
    const w = smallLine();
    runFor(w, 3);
    const s = w.indexOf('press');
    w.enqueue(cmd('press', 'set', { field: 'force', value: 1200 }));
    runFor(w, 0.1);
    expect(w.st.alarms[s]! & 1).toBe(1);
    w.enqueue(cmd('press', 'ack'));
    runFor(w, 0.01);
    expect(w.st.alarmsAcked[s]! & 1).toBe(1);
    w.enqueue(cmd('press', 'set', { field: 'force', value: 800 }));
    runFor(w, 0.1);
    const ev: SimEvent[] = [];
    w.drainEvents((e) => ev.push(e));
    expect(ev.some((e) => e.type === 'alarm-clear' && e.data.code === 'FORCE_DEVIATION')).toBe(true);
    expect(w.st.alarms[s]! & 1).toBe(0);
  });

  it('acknowledges one alarm by its code or bit, leaving the others unacknowledged; refuses one not active or unknown', () => {
    const w = smallLine();
    runFor(w, 3);
    const s = w.indexOf('press');
    w.enqueue(cmd('press', 'set', { field: 'force', value: 1200 }));
    runFor(w, 0.1);
    w.enqueue({ ...cmd('press', 'fault', { code: 'breakdown', duration: 600 }), principal: 'trainer' });
    runFor(w, 0.1);
    const FORCE = 1;
    const BREAKDOWN = 1 << 24;
    expect(w.st.alarms[s]! & (FORCE | BREAKDOWN)).toBe(FORCE | BREAKDOWN);
    lastResult(w);
    w.enqueue(cmd('press', 'ack', { alarm: 'breakdown' }));
    runFor(w, 0.01);
    const ack: SimEvent[] = [];
    w.drainEvents((e) => ack.push(e));
    expect(ack.find((e) => e.type === 'alarm-ack')?.data).toMatchObject({ bits: BREAKDOWN, principal: 'operator-1' });
    expect(w.st.alarmsAcked[s]! & (FORCE | BREAKDOWN)).toBe(BREAKDOWN);
    w.enqueue(cmd('press', 'ack', { alarm: 0 }));
    runFor(w, 0.01);
    expect(w.st.alarmsAcked[s]! & (FORCE | BREAKDOWN)).toBe(FORCE | BREAKDOWN);
    w.enqueue(cmd('press', 'ack', { alarm: 'JAM' }));
    runFor(w, 0.01);
    const notActive = lastResult(w);
    expect(notActive?.type).toBe('rejected');
    expect(notActive?.data.reason).toBe('alarm JAM is not active');
    w.enqueue(cmd('press', 'ack', { alarm: 'NO_SUCH' }));
    runFor(w, 0.01);
    const unknown = lastResult(w);
    expect(unknown?.type).toBe('rejected');
    expect(unknown?.data.reason).toMatch(/^alarm must be an alarm code of station press \(FORCE_DEVIATION, BREAKDOWN, INTERLOCK, WEAR, JAM\) or its bit, got "NO_SUCH"$/);
    w.enqueue(cmd('press', 'ack', { alarm: 5 }));
    runFor(w, 0.01);
    expect(lastResult(w)?.type).toBe('rejected');
  });

  it('applies scheduled commands at their tick', () => {
    const w = smallLine();
    w.scheduleAt(5000, cmd('press', 'hold'));
    runFor(w, 4.999);
    expect(w.st.state[w.indexOf('press')]).toBe(State.Execute);
    runFor(w, 1);
    expect(w.st.state[w.indexOf('press')]).toBe(State.Held);
  });
});

describe('audit entries', () => {
  it('land in the event log as audit events at the next tick, never as commands, and replay identically', async () => {
    const { auditCommand } = await import('../../sim/core/commands.ts');
    const w = smallLine();
    runFor(w, 1);
    w.drainEvents(() => undefined);
    w.enqueue(auditCommand({ source: 'opcua', principal: 'viewer@ns=1;g=1', action: 'write', outcome: 'denied', target: 'press.force', reason: 'read-only user' }));
    runFor(w, 0.01);
    const out = drained(w);
    const audits = out.filter((e) => e.type === 'audit');
    expect(audits).toHaveLength(1);
    expect(audits[0]?.data).toEqual({ action: 'write', outcome: 'denied', target: 'press.force', reason: 'read-only user', source: 'opcua', principal: 'viewer@ns=1;g=1' });
    expect(out.some((e) => e.type === 'command' || e.type === 'rejected')).toBe(false);
    // the command log carries it, so a replay logs the same events
    const again = smallLine();
    // (smallLine queues its own start, the log's first entry)
    for (const c of w.commandLog.slice(1)) again.scheduleAt(c.tick, c);
    runFor(again, 1.01);
    expect(again.eventLogHash()).toBe(w.eventLogHash());
  });

  it('SimEngine.send refuses them; SimEngine.audit checks their shape', async () => {
    const { SimEngine } = await import('../../sim/worker/engine.ts');
    const { readFileSync } = await import('node:fs');
    const e = new SimEngine({ defer: (fn) => setImmediate(fn) });
    const file = 'test/fixtures/scenarios/minimal.yaml';
    e.load(readFileSync(file, 'utf8'), file);
    // not even the most privileged account may forge an audit entry as a command
    const r = await e.send({ target: 'line', command: 'audit', source: 'api', principal: 'x', role: 'instructor', args: { action: 'login', outcome: 'allowed' } });
    expect(r).toMatchObject({ ok: false, code: 'NOT_ALLOWED' });
    expect(e.audit({ source: 'mqtt', principal: 'anonymous/c1', action: 'publish', outcome: 'denied', target: 'a/b', reason: 'viewer' })).toBe(true);
    expect(e.audit({ source: 'mqtt', principal: 'p', action: 'publish', outcome: 'maybe' } as never)).toBe(false);
    e.step(1);
    expect(e.drainEvents().filter((ev) => ev.type === 'audit').map((ev) => ev.data.target)).toEqual(['a/b']);
  });
});
