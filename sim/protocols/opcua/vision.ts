/**
 * OPC 40100-1 Machine Vision on the stations whose kind declares it (the vision inspection
 * station): a `VisionSystem` object of VisionSystemType beside the station's tags. Its
 * `VisionStateMachine` (Preoperational, Halted, Error, Operational) and, while Operational,
 * its `AutomaticModeStateMachine` (Ready, ContinuousExecution) follow the station's PackML
 * state and fault. The companion's methods become line commands with the session's principal:
 * Halt stops the station, Reset resets it (clears it after an abort), StartContinuous starts
 * (or unholds) it, Stop and Abort hold it; single jobs, recipes and configurations are not
 * modelled (BadNotSupported). Each inspection raises a ResultReadyEvent (ResultState 1 for a
 * part passed, 2 for a part rejected: the twin's convention for this system-specific value)
 * from the station's counters (at most 200 per station per 200 ms pump: at many times real
 * time the oldest are skipped, leaving a gap in the ResultIds); results are not kept in a ResultManagement object.
 */
import { DataType, Variant, coerceNodeId, promoteToStateMachine, type Namespace, type UAMethod, type UAObject, type UAObjectType } from 'node-opcua';
import type { SimEvent } from '../../core/events.ts';
import type { World } from '../../core/world.ts';
import type { LineSpec } from '../../line/types.ts';
import { machineKind } from '../../machines/index.ts';
import { State } from '../../plc/packml.ts';
import type { LineLink, LineNodes } from './address-space.ts';
import { callStatus } from './binding.ts';
import { childAt, routeMethod, setStateIfChanged, unsupportedMethod } from './companion.ts';
import { COMPANION_URIS } from './namespaces.ts';

const VISION_URI = COMPANION_URIS[4];
/** ResultState of a passed and of a rejected part */
export const RESULT_PASS = 1;
export const RESULT_REJECT = 2;
/** results raised per station per pump at most (a line at many times real time would flood clients) */
const MAX_RESULTS = 200;
/** Machine Vision DataType ids (structures with an `Id` field) */
const ID_TYPES = { result: 3021, job: 3016, recipe: 3013, configuration: 3008 } as const;

/**
 * The results to raise for new inspections: `inspected` and `rejected` grew by these since the
 * last look; rejections come last; beyond `max` the oldest are skipped (counted in `skipped`).
 */
export function newResults(inspected: number, rejected: number, max = MAX_RESULTS): { states: number[]; skipped: number } {
  const n = Math.max(0, inspected);
  const bad = Math.min(n, Math.max(0, rejected));
  const states = Array.from({ length: n }, (_, k) => (k >= n - bad ? RESULT_REJECT : RESULT_PASS));
  return { states: states.slice(Math.max(0, n - max)), skipped: Math.max(0, n - max) };
}

/** The Machine Vision states for a station's PackML state and fault (automatic: null when not Operational). */
export function visionStates(state: number, fault: number): { system: 'Preoperational' | 'Halted' | 'Error' | 'Operational'; automatic: 'Ready' | 'ContinuousExecution' | null } {
  if (fault !== 0 || state === State.Aborting || state === State.Aborted) return { system: 'Error', automatic: null };
  if (state === State.Stopped || state === State.Stopping || state === State.Clearing) return { system: 'Halted', automatic: null };
  if (state === State.Resetting) return { system: 'Preoperational', automatic: null };
  const running = state === State.Execute || state === State.Starting || state === State.Unholding || state === State.Unsuspending;
  return { system: 'Operational', automatic: running ? 'ContinuousExecution' : 'Ready' };
}

/** The vision systems; `onEvents` keeps their state machines current. */
export interface LineVision {
  onEvents(events: readonly SimEvent[]): void;
}

/** Adds a VisionSystem to every station whose kind declares MachineVision (the nodeset must be loaded). */
export function buildVision(ns: Namespace, spec: LineSpec, nodes: LineNodes, link: LineLink): LineVision {
  const as = ns.addressSpace;
  const mv = as.getNamespaceIndex(VISION_URI);
  const type = mv < 0 ? null : as.findObjectType('VisionSystemType', mv);
  /** the state machines of the vision systems made so far, and every vision station's results */
  const updates = new Map<string, () => void>();
  const results: (() => void)[] = [];
  spec.stations.forEach((st, s) => {
    const node = nodes.stations.get(st.id);
    if (node === undefined || machineKind(st.kind)?.companion.includes('MachineVision') !== true) return;
    if (type === null) throw new Error('OPC UA: the Machine Vision companion specification is not loaded');
    // results are raised on the station from the start, whether or not anyone has looked below it
    results.push(visionResults(ns, node, st.id, s, link.reader, mv));
    nodes.subtrees.add(st.id, () => updates.set(st.id, addVisionSystem(type, ns, node, st.id, s, link, mv)));
  });
  return {
    onEvents(events) {
      for (const e of events) {
        if (e.station !== null && (e.type === 'state' || e.type === 'fault' || e.type === 'repair')) updates.get(e.station)?.();
      }
      // called every pump, with or without events: raise the inspections since the last one
      for (const r of results) r();
    },
  };
}

/** Makes the station's VisionSystem; returns what sets its state machines from the station. */
function addVisionSystem(
  type: UAObjectType, ns: Namespace, station: UAObject, id: string, s: number, link: LineLink, mv: number,
): () => void {
  const obj = type.instantiate({
    namespace: ns, componentOf: station, browseName: 'VisionSystem', displayName: 'VisionSystem', nodeId: `s=${id}.VisionSystem`,
    description: 'machine vision system (OPC 40100-1 VisionSystemType) following the station',
    optionals: ['VisionStateMachine.AutomaticModeStateMachine'],
  } as Parameters<UAObjectType['instantiate']>[0]);
  const child = <T extends UAObject | UAMethod>(path: readonly string[]): T => childAt<T>(obj, mv, path);
  const system = promoteToStateMachine(child<UAObject>(['VisionStateMachine']));
  const automatic = promoteToStateMachine(child<UAObject>(['VisionStateMachine', 'AutomaticModeStateMachine']));
  const reader: World = link.reader;
  const now = (): { state: number; fault: number } =>
    reader.readConsistent(() => ({ state: reader.read(s, 'state'), fault: reader.read(s, 'fault') })).value;

  const route = (path: readonly string[], command: (state: number) => string): void =>
    routeMethod(child<UAMethod>(path), link, `${id}.VisionSystem.${path.join('.')}`, async (_args, ctx) => ({
      statusCode: callStatus(await link.send(id, command(now().state), {}, ctx)),
    }));
  route(['VisionStateMachine', 'Halt'], () => 'stop');
  route(['VisionStateMachine', 'Reset'], (st) => (st === State.Aborted ? 'clear' : 'reset'));
  const auto = ['VisionStateMachine', 'AutomaticModeStateMachine'];
  route([...auto, 'StartContinuous'], (st) => (st === State.Held ? 'unhold' : 'start'));
  route([...auto, 'Stop'], () => 'hold');
  route([...auto, 'Abort'], () => 'hold');
  unsupportedMethod(child<UAMethod>([...auto, 'StartSingleJob']));

  const update = (): void => {
    const { state, fault } = now();
    const v = visionStates(state, fault);
    setStateIfChanged(system, v.system);
    setStateIfChanged(automatic, v.automatic);
  };
  update();
  return update;
}

/**
 * The results of a vision station: one ResultReadyEvent per inspection, raised on the station
 * (events bubble up to Server) with the VisionSystem as source node.
 */
function visionResults(ns: Namespace, station: UAObject, id: string, s: number, reader: World, mv: number): () => void {
  const as = ns.addressSpace;
  const resultReady = as.findEventType('ResultReadyEventType', mv);
  const idOf = (kind: keyof typeof ID_TYPES, value: string): Variant =>
    new Variant({ dataType: DataType.ExtensionObject, value: as.constructExtensionObject(coerceNodeId(`ns=${mv};i=${ID_TYPES[kind]}`), { id: value }) });
  const counts = (): { inspected: number; rejected: number } =>
    reader.readConsistent(() => ({ inspected: reader.read(s, 'inspected'), rejected: reader.read(s, 'rejected') })).value;
  const source = coerceNodeId(`ns=${ns.index};s=${id}.VisionSystem`);
  let last = counts();
  let serial = 0;
  return () => {
    const next = counts();
    const { states, skipped } = newResults(next.inspected - last.inspected, next.rejected - last.rejected);
    last = next;
    // result ids count every inspection: skipped ones leave a gap a client can see
    serial += skipped;
    if (resultReady === null) return;
    for (const state of states) {
      serial++;
      station.raiseEvent(resultReady, {
        sourceNode: { dataType: DataType.NodeId, value: source },
        sourceName: { dataType: DataType.String, value: `${id}.VisionSystem` },
        message: { dataType: DataType.LocalizedText, value: { text: `inspection ${serial}: ${state === RESULT_PASS ? 'pass' : 'reject'}` } },
        severity: { dataType: DataType.UInt16, value: state === RESULT_PASS ? 100 : 300 },
        resultId: idOf('result', `${id}-${serial}`),
        resultState: { dataType: DataType.Int32, value: state },
        isPartial: { dataType: DataType.Boolean, value: false },
        isSimulated: { dataType: DataType.Boolean, value: true },
        jobId: idOf('job', `${id}-continuous`),
        internalRecipeId: idOf('recipe', 'default'),
        internalConfigurationId: idOf('configuration', 'default'),
        creationTime: { dataType: DataType.DateTime, value: new Date() },
      });
    }
  };
}
