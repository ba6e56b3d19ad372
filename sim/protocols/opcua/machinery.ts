/**
 * OPC 40001-1 Machinery on the stations: every station is a machine listed in the Machinery
 * `Machines` folder, with an `Identification` add-in (MachineIdentificationType: manufacturer,
 * model, serial number, product instance URI) and a `MachineryItemState` state machine
 * (Executing, NotExecuting, OutOfService, NotAvailable) that follows the station's PackML
 * state, fault and unit mode. Generic Machinery clients (dashboards, MES connectors) find the
 * line's machines without knowing Twinline.
 */
import { promoteToStateMachine, type Namespace, type UAObject, type UAObjectType } from 'node-opcua';
import type { SimEvent } from '../../core/events.ts';
import type { World } from '../../core/world.ts';
import type { LineSpec } from '../../line/types.ts';
import { machineKind } from '../../machines/index.ts';
import { Mode, State } from '../../plc/packml.ts';
import type { LineNodes } from './address-space.ts';
import { COMPANION_URIS } from './namespaces.ts';

const [DI_URI, , MACHINERY_URI] = COMPANION_URIS;
/** NodeId of the Machinery `Machines` folder in its namespace */
const MACHINES_FOLDER = 1001;

/** MachineryItemState of a station from its PackML state, fault and unit mode. */
export function machineryState(state: number, fault: number, mode: number): 'Executing' | 'NotExecuting' | 'OutOfService' {
  if (fault !== 0 || mode === Mode.maintenance || state === State.Aborting || state === State.Aborted) return 'OutOfService';
  return state === State.Execute ? 'Executing' : 'NotExecuting';
}

/** The stations' Machinery state machines; `onEvents` keeps them current. */
export interface LineMachinery {
  onEvents(events: readonly SimEvent[]): void;
}

/** Adds the Machinery view of every station (the DI, IA and Machinery nodesets must be loaded). */
export function buildMachinery(ns: Namespace, spec: LineSpec, nodes: LineNodes, reader: World): LineMachinery {
  const as = ns.addressSpace;
  const di = as.getNamespaceIndex(DI_URI);
  const ma = as.getNamespaceIndex(MACHINERY_URI);
  const idType = as.findObjectType('MachineIdentificationType', ma);
  const smType = as.findObjectType('MachineryItemState_StateMachineType', ma);
  const machines = as.findNode(`ns=${ma};i=${MACHINES_FOLDER}`) as UAObject | null;
  if (di < 0 || ma < 0 || idType === null || smType === null || machines === null) throw new Error('OPC UA: the Machinery companion specification is not loaded');
  const machinesOf = new Map<string, { index: number; sm: ReturnType<typeof promoteToStateMachine> }>();
  spec.stations.forEach((st, s) => {
    const node = nodes.stations.get(st.id);
    const kind = machineKind(st.kind);
    if (node === undefined || kind === undefined) return;
    machines.addReference({ referenceType: 'Organizes', nodeId: node });
    // its Identification and state machine are made with the station's subtree
    nodes.subtrees.add(st.id, () => {
      const ident = (idType as UAObjectType).instantiate({
        namespace: ns, nodeId: `s=${st.id}.Identification`, browseName: { name: 'Identification', namespaceIndex: di },
        addInOf: node, optionals: ['Model', 'SerialNumber'],
      } as Parameters<UAObjectType['instantiate']>[0]);
      const set = (name: string, value: unknown, dataType: 'LocalizedText' | 'String'): void => {
        const v = ident.getPropertyByName(name, di);
        v?.setValueFromSource({ dataType, value });
      };
      set('Manufacturer', { text: 'Twinline (simulated)', locale: 'en' }, 'LocalizedText');
      set('Model', { text: kind.title.en, locale: 'en' }, 'LocalizedText');
      set('SerialNumber', `${spec.id}/${st.id}`, 'String');
      set('ProductInstanceUri', `urn:twinline:${spec.id}:${st.id}`, 'String');
      const sm = promoteToStateMachine((smType as UAObjectType).instantiate({
        namespace: ns, nodeId: `s=${st.id}.MachineryItemState`, browseName: { name: 'MachineryItemState', namespaceIndex: ma }, componentOf: node,
      } as Parameters<UAObjectType['instantiate']>[0]));
      machinesOf.set(st.id, { index: s, sm });
      update(s, sm);
    });
  });

  function update(s: number, sm: ReturnType<typeof promoteToStateMachine>): void {
    const { state, fault, mode } = reader.readConsistent(() => ({ state: reader.read(s, 'state'), fault: reader.read(s, 'fault'), mode: reader.read(s, 'mode') })).value;
    const next = machineryState(state, fault, mode);
    if (sm.currentStateNode?.browseName.name !== next) sm.setState(next);
  }

  return {
    onEvents(events) {
      for (const e of events) {
        if (e.station === null || (e.type !== 'state' && e.type !== 'fault' && e.type !== 'repair' && e.type !== 'mode')) continue;
        const m = machinesOf.get(e.station);
        if (m !== undefined) update(m.index, m.sm);
      }
    },
  };
}
