import { describe, expect, it } from 'vitest';
import { Mode, STATE_NAMES, State } from '../../sim/plc/packml.ts';
import { packmlStates } from '../../sim/protocols/opcua/packml.ts';
import { RESULT_PASS, RESULT_REJECT, newResults, visionStates } from '../../sim/protocols/opcua/vision.ts';
import { robotSafety } from '../../sim/protocols/opcua/robotics.ts';

describe('OPC 30050 PackML state machines', () => {
  it('nests every PackML state as BaseStateMachine / MachineState / ExecuteState', () => {
    expect(packmlStates(State.Aborted)).toEqual({ base: 'Aborted', machine: null, execute: null });
    expect(packmlStates(State.Aborting)).toEqual({ base: 'Aborting', machine: null, execute: null });
    expect(packmlStates(State.Stopped)).toEqual({ base: 'Cleared', machine: 'Stopped', execute: null });
    expect(packmlStates(State.Clearing)).toEqual({ base: 'Cleared', machine: 'Clearing', execute: null });
    expect(packmlStates(State.Held)).toEqual({ base: 'Cleared', machine: 'Running', execute: 'Held' });
    // the execute-level states keep their PackTags names
    const running = STATE_NAMES.slice(1).filter((n) => !['Aborting', 'Aborted', 'Clearing', 'Stopped', 'Stopping'].includes(n));
    expect(running).toHaveLength(12);
    for (const name of running) expect(packmlStates(State[name as keyof typeof State]).execute).toBe(name);
  });
});

describe('OPC 40100-1 Machine Vision state machines', () => {
  it('follow the station: fault or abort is Error, stopped is Halted, resetting Preoperational, running Operational', () => {
    expect(visionStates(State.Execute, 3)).toEqual({ system: 'Error', automatic: null });
    expect(visionStates(State.Aborted, 0)).toEqual({ system: 'Error', automatic: null });
    expect(visionStates(State.Stopped, 0)).toEqual({ system: 'Halted', automatic: null });
    expect(visionStates(State.Resetting, 0)).toEqual({ system: 'Preoperational', automatic: null });
    expect(visionStates(State.Execute, 0)).toEqual({ system: 'Operational', automatic: 'ContinuousExecution' });
    // waiting for parts or held: ready for the next job
    expect(visionStates(State.Suspended, 0)).toEqual({ system: 'Operational', automatic: 'Ready' });
    expect(visionStates(State.Idle, 0)).toEqual({ system: 'Operational', automatic: 'Ready' });
    expect(visionStates(State.Held, 0)).toEqual({ system: 'Operational', automatic: 'Ready' });
  });
});

describe('Machine Vision results from the station counters', () => {
  it('gives one result per new inspection, rejections last, and skips the oldest beyond the cap', () => {
    expect(newResults(3, 1)).toEqual({ states: [RESULT_PASS, RESULT_PASS, RESULT_REJECT], skipped: 0 });
    expect(newResults(0, 0)).toEqual({ states: [], skipped: 0 });
    // counters never shrink; if they do (a reset), nothing is raised
    expect(newResults(-2, -1)).toEqual({ states: [], skipped: 0 });
    expect(newResults(2, 5).states).toEqual([RESULT_REJECT, RESULT_REJECT]);
    const flood = newResults(1000, 10, 200);
    expect(flood.skipped).toBe(800);
    expect(flood.states).toHaveLength(200);
    expect(flood.states.filter((x) => x === RESULT_REJECT)).toHaveLength(10);
  });
});

describe('OPC 40010-1 Robotics safety state', () => {
  it('is AUTOMATIC in production and reduced speed otherwise; abort is an emergency stop, an interlock a protective stop', () => {
    expect(robotSafety(State.Execute, Mode.production, 0)).toEqual({ operationalMode: 3, emergencyStop: false, protectiveStop: false });
    expect(robotSafety(State.Stopped, Mode.maintenance, 0)).toEqual({ operationalMode: 1, emergencyStop: false, protectiveStop: false });
    expect(robotSafety(State.Stopped, Mode.manual, 0).operationalMode).toBe(1);
    expect(robotSafety(State.Aborted, Mode.production, 0).emergencyStop).toBe(true);
    expect(robotSafety(State.Aborting, Mode.production, 0).emergencyStop).toBe(true);
    expect(robotSafety(State.Execute, Mode.production, 4).protectiveStop).toBe(true);
  });
});
