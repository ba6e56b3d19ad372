import { describe, expect, it } from 'vitest';
import { STATE_NAMES, State } from '../../sim/plc/packml.ts';
import { packmlStates } from '../../sim/protocols/opcua/packml.ts';
import { visionStates } from '../../sim/protocols/opcua/vision.ts';

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
