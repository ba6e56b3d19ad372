/**
 * OPC 30050 PackML on the stations whose kind declares it (presses, kilns, furnaces, packers …):
 * the station's `PackML` object is a PackMLBaseObjectType.
 * Its `BaseStateMachine` (Aborting, Aborted, Cleared) nests `MachineState` (Clearing, Stopped,
 * Stopping, Running), which nests `ExecuteState` (Idle, Starting, Execute, Holding, Held …);
 * their CurrentState follows the station's PackML state. The companion's methods (Abort and
 * Clear on BaseStateMachine, Stop and Reset on MachineState, Start, Hold, Unhold, Suspend,
 * Unsuspend, Reset and ToComplete on ExecuteState, SetUnitMode and SetMachSpeed on the object)
 * become the same commands as the object's own Start, Stop … methods; `Status` carries the unit
 * mode, the machine speed in parts per minute, and whether the station is blocked or starved;
 * `Admin` the parts consumed, processed and defective and the time in the current state.
 * PackML-aware clients (MES connectors, OEE dashboards) use the station without knowing Twinline.
 */
import {
  DataType, Range, StatusCodes, Variant, VariantArrayType, coerceNodeId, promoteToStateMachine, type Namespace, type UAMethod, type UAObject, type UAObjectType, type UAVariable,
} from 'node-opcua';
import type { SimEvent } from '../../core/events.ts';
import { State } from '../../plc/packml.ts';
import type { LineLink } from './address-space.ts';
import { callStatus } from './binding.ts';
import { childAt, routeMethod, setStateIfChanged, unsupportedMethod } from './companion.ts';
import { COMPANION_URIS } from './namespaces.ts';
import { readTick } from '../../worker/reader.ts';
import { euInformation } from './units.ts';

const PACKML_URI = COMPANION_URIS[3];
/** PackMLCountDataType in the PackML namespace */
const PACKML_COUNT_TYPE = 14;

/** The state of each nested PackML state machine for a station's PackML state (null: not active). */
export function packmlStates(state: number): { base: string; machine: string | null; execute: string | null } {
  switch (state) {
    case State.Aborting:
      return { base: 'Aborting', machine: null, execute: null };
    case State.Aborted:
      return { base: 'Aborted', machine: null, execute: null };
    case State.Clearing:
      return { base: 'Cleared', machine: 'Clearing', execute: null };
    case State.Stopped:
      return { base: 'Cleared', machine: 'Stopped', execute: null };
    case State.Stopping:
      return { base: 'Cleared', machine: 'Stopping', execute: null };
    default: {
      const name = (Object.entries(State).find(([, n]) => n === state) ?? ['Idle'])[0];
      return { base: 'Cleared', machine: 'Running', execute: name };
    }
  }
}

/** Methods of the companion and the station command each one sends, by browse path below the PackML object. */
const COMMANDS: readonly [path: readonly string[], command: string][] = [
  [['BaseStateMachine', 'Abort'], 'abort'],
  [['BaseStateMachine', 'Clear'], 'clear'],
  [['BaseStateMachine', 'MachineState', 'Stop'], 'stop'],
  [['BaseStateMachine', 'MachineState', 'Reset'], 'reset'],
  [['BaseStateMachine', 'MachineState', 'ExecuteState', 'Start'], 'start'],
  [['BaseStateMachine', 'MachineState', 'ExecuteState', 'Hold'], 'hold'],
  [['BaseStateMachine', 'MachineState', 'ExecuteState', 'Unhold'], 'unhold'],
  [['BaseStateMachine', 'MachineState', 'ExecuteState', 'Suspend'], 'suspend'],
  [['BaseStateMachine', 'MachineState', 'ExecuteState', 'Unsuspend'], 'unsuspend'],
  [['BaseStateMachine', 'MachineState', 'ExecuteState', 'Reset'], 'reset'],
  [['BaseStateMachine', 'MachineState', 'ExecuteState', 'ToComplete'], 'complete'],
];

/** Admin counters (PackMLCountDataType arrays) and the station field each one counts. */
const COUNTS = [
  ['ProdConsumedCount', 'partsIn', 'parts received'],
  ['ProdProcessedCount', 'partsOut', 'parts passed on'],
  ['ProdDefectiveCount', 'partsScrapped', 'parts scrapped or rejected'],
] as const;

/** The optional children the twin instantiates: the state machines' command methods and the Admin counters. */
const OPTIONALS = [...COMMANDS.map(([path]) => path.join('.')), ...COUNTS.map(([name]) => `Admin.${name}`), 'Admin.StateCurrentTime'];

/** PackMLBaseObjectType, or null when the PackML nodeset is not loaded. */
export function packmlObjectType(ns: Namespace): UAObjectType | null {
  const pk = ns.addressSpace.getNamespaceIndex(PACKML_URI);
  return pk < 0 ? null : ns.addressSpace.findObjectType('PackMLBaseObjectType', pk);
}

/** Makes the station's `PackML` object as a PackMLBaseObjectType. */
export function instantiatePackml(type: UAObjectType, ns: Namespace, parent: UAObject, station: string): UAObject {
  return type.instantiate({
    namespace: ns, componentOf: parent, browseName: 'PackML', displayName: 'PackML', nodeId: `s=${station}.PackML`,
    description: 'PackML unit (OPC 30050 PackMLBaseObjectType) with the station state, unit mode and commands',
    optionals: OPTIONALS,
  } as Parameters<UAObjectType['instantiate']>[0]);
}

/** A station's PackML companion; `update()` sets the state machines from the station's state. */
export interface StationPackml {
  update(): void;
}

/**
 * Binds the companion parts of a station's PackML object (made by instantiatePackml): state
 * machines, Status variables (registered with the sampler) and methods (routed as commands).
 */
export function bindPackml(obj: UAObject, station: string, s: number, link: LineLink): StationPackml {
  const pk = obj.addressSpace.getNamespaceIndex(PACKML_URI);
  const child = <T extends UAObject | UAVariable | UAMethod>(path: readonly string[]): T => childAt<T>(obj, pk, path);
  const base = promoteToStateMachine(child<UAObject>(['BaseStateMachine']));
  const machine = promoteToStateMachine(child<UAObject>(['BaseStateMachine', 'MachineState']));
  const execute = promoteToStateMachine(child<UAObject>(['BaseStateMachine', 'MachineState', 'ExecuteState']));
  const { reader } = link;
  const read = (field: string): number => reader.readConsistent(() => reader.read(s, field)).value;
  const hasCycle = reader.fieldSpec(s, 'cycleTime') !== undefined;

  // Status: unit mode, speeds [parts/min] from the cycle time, blocked / starved from the activity
  const status = (name: string): UAVariable => child<UAVariable>(['Status', name]);
  const bind = (v: UAVariable, field: string, convert: (x: number) => Variant): void => link.sampler.bind(v, s, field, convert);
  const float = (x: number): Variant => new Variant({ dataType: DataType.Float, value: x });
  const perMinute = (cycle: number): number => (cycle > 0 ? 60 / cycle : 0);
  bind(status('UnitModeCurrent'), 'mode', (x) => new Variant({ dataType: DataType.Int32, value: x }));
  bind(status('EquipmentBlocked'), 'activity', (x) => new Variant({ dataType: DataType.Boolean, value: x === 2 }));
  bind(status('EquipmentStarved'), 'activity', (x) => new Variant({ dataType: DataType.Boolean, value: x === 0 }));
  // the type's EURange is an empty ExtensionObject until set: the span the speed can take
  // [parts/min], from the shortest cycle the station allows (0…1 for a station without a cycle)
  const minCycle = reader.fieldSpec(s, 'cycleTime')?.min ?? 0;
  const top = hasCycle && minCycle > 0 ? perMinute(minCycle) : 1;
  for (const name of ['MachSpeed', 'CurMachSpeed']) {
    status(name).getPropertyByName('EURange', 0)?.setValueFromSource(new Variant({ dataType: DataType.ExtensionObject, value: new Range({ low: 0, high: top }) }));
  }
  if (hasCycle) {
    bind(status('MachSpeed'), 'cycleTime', (c) => float(perMinute(c)));
    // the speed it makes now: the set speed while busy in Execute, else 0 (pushed when the activity changes)
    bind(status('CurMachSpeed'), 'activity', (a) => float(a === 1 && reader.read(s, 'state') === State.Execute ? perMinute(reader.read(s, 'cycleTime')) : 0));
  } else {
    status('MachSpeed').setValueFromSource(float(0));
    status('CurMachSpeed').setValueFromSource(float(0));
  }

  // Admin: production counts (one PackMLCountDataType each, Count = AccCount: the twin does not
  // reset counters) and the time in the current state [ms]
  const countType = coerceNodeId(`ns=${pk};i=${PACKML_COUNT_TYPE}`);
  const piece = euInformation('pcs');
  COUNTS.forEach(([name, field, label], k) => {
    bind(child<UAVariable>(['Admin', name]), field, (n) => new Variant({
      dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array,
      value: [obj.addressSpace.constructExtensionObject(countType, { iD: k + 1, name: label, unit: piece, count: n, accCount: n })],
    }));
  });
  // changes every tick: read when asked (node-opcua samples it like any getter variable)
  child<UAVariable>(['Admin', 'StateCurrentTime']).bindVariable({
    get: () => new Variant({ dataType: DataType.Int32, value: Math.min(2 ** 31 - 1, Math.round((readTick(reader) - read('stateSince')) * reader.dt * 1000)) }),
  }, true);

  const route = (name: string, run: Parameters<typeof routeMethod>[3]): void => routeMethod(child<UAMethod>(name.split('.')), link, `${station}.PackML.${name}`, run);
  for (const [path, command] of COMMANDS) {
    route(path.join('.'), async (_args, ctx) => ({ statusCode: callStatus(await link.send(station, command, {}, ctx)) }));
  }
  route('SetUnitMode', async (args, ctx) => {
    const mode: unknown = args[0]?.value;
    if (typeof mode !== 'number') return { statusCode: StatusCodes.BadInvalidArgument };
    return { statusCode: callStatus(await link.send(station, 'mode', { mode }, ctx)) };
  });
  route('SetMachSpeed', async (args, ctx) => {
    const speed: unknown = args[0]?.value;
    if (!hasCycle) return { statusCode: StatusCodes.BadNotSupported };
    if (typeof speed !== 'number' || !(speed > 0)) return { statusCode: StatusCodes.BadInvalidArgument };
    return { statusCode: callStatus(await link.send(station, 'set', { field: 'cycleTime', value: 60 / speed }, ctx)) };
  });
  // no recipes, parameters or remote commands in the twin's stations
  for (const name of ['SetParameter', 'SetProduct']) unsupportedMethod(child<UAMethod>([name]));

  const update = (): void => {
    const st = packmlStates(read('state'));
    setStateIfChanged(base, st.base);
    setStateIfChanged(machine, st.machine);
    setStateIfChanged(execute, st.execute);
  };
  update();
  return { update };
}

/** Keeps the stations' PackML state machines current from the drained events. */
export function packmlUpdater(stations: ReadonlyMap<string, StationPackml>): (events: readonly SimEvent[]) => void {
  return (events) => {
    for (const e of events) {
      if (e.station !== null && (e.type === 'state' || e.type === 'mode')) stations.get(e.station)?.update();
    }
  };
}
