/**
 * OPC 40010-1 Robotics on the stations whose kind declares it (the handling robot): a
 * `MotionDeviceSystem` beside the station's tags with one articulated robot in
 * `MotionDevices` (identification, category, speed override), its controller in
 * `Controllers` (identification, current user level, the pick-and-place task program) and a
 * `SafetyStates` entry whose OperationalMode follows the unit mode (Production: AUTOMATIC,
 * Maintenance and Manual: MANUAL_REDUCED_SPEED), EmergencyStop the abort states and
 * ProtectiveStop the interlocks. The twin does not model axes or power trains, so those
 * folders stay empty.
 */
import { DataType, Variant, type Namespace, type UAObject, type UAObjectType, type UAVariable } from 'node-opcua';
import type { LineSpec } from '../../line/types.ts';
import { machineKind } from '../../machines/index.ts';
import { Mode, State } from '../../plc/packml.ts';
import type { LineLink, LineNodes } from './address-space.ts';
import { childAt } from './companion.ts';
import { COMPANION_URIS } from './namespaces.ts';

const [DI_URI] = COMPANION_URIS;
const ROBOTICS_URI = COMPANION_URIS[5];

/** OperationalModeEnumeration values (OPC 40010-1) */
const OperationalMode = { MANUAL_REDUCED_SPEED: 1, AUTOMATIC: 3 } as const;
/** MotionDeviceCategoryEnumeration: ARTICULATED_ROBOT */
const ARTICULATED_ROBOT = 1;

/** The Robotics safety state of a station: operational mode, emergency and protective stop. */
export function robotSafety(state: number, mode: number, interlock: number): { operationalMode: number; emergencyStop: boolean; protectiveStop: boolean } {
  return {
    operationalMode: mode === Mode.production ? OperationalMode.AUTOMATIC : OperationalMode.MANUAL_REDUCED_SPEED,
    emergencyStop: state === State.Aborting || state === State.Aborted,
    protectiveStop: interlock !== 0,
  };
}

/** The Robotics ObjectTypes a robot station's MotionDeviceSystem is made of. */
const ROBOTICS_TYPES = ['MotionDeviceSystemType', 'MotionDeviceType', 'ControllerType', 'TaskControlType', 'SafetyStateType'] as const;
type RoboticsType = (typeof ROBOTICS_TYPES)[number];

/** Adds a MotionDeviceSystem to every station whose kind declares Robotics (the nodeset must be loaded). */
export function buildRobotics(ns: Namespace, spec: LineSpec, nodes: LineNodes, link: LineLink): void {
  const as = ns.addressSpace;
  const ro = as.getNamespaceIndex(ROBOTICS_URI);
  const di = as.getNamespaceIndex(DI_URI);
  const lookup = (): Record<RoboticsType, UAObjectType> => Object.fromEntries(ROBOTICS_TYPES.map((name) => {
    const t = ro < 0 ? null : as.findObjectType(name, ro);
    if (t === null) throw new Error('OPC UA: the Robotics companion specification is not loaded');
    return [name, t];
  })) as Record<RoboticsType, UAObjectType>;
  let types: Record<RoboticsType, UAObjectType> | null = null;
  spec.stations.forEach((st, s) => {
    const node = nodes.stations.get(st.id);
    const kind = machineKind(st.kind);
    if (node === undefined || kind === undefined || !kind.companion.includes('Robotics')) return;
    // the types are looked up once, at the first robot (a missing nodeset fails the start, not
    // a client's browse); the robot's MotionDeviceSystem is made with the station's subtree
    const found = (types ??= lookup());
    nodes.subtrees.add(st.id, () => {
      const make = (t: RoboticsType, parent: UAObject, browseName: string, nodeId: string, optionals: string[] = []): UAObject =>
        found[t].instantiate({
          namespace: ns, componentOf: parent, browseName: { name: browseName, namespaceIndex: ns.index }, nodeId: `s=${nodeId}`, optionals,
        } as Parameters<UAObjectType['instantiate']>[0]);
      const base = `${st.id}.MotionDeviceSystem`;
      const system = make('MotionDeviceSystemType', node, 'MotionDeviceSystem', base);
      const identify = (o: UAObject, model: string, serial: string): void => {
        const set = (name: string, value: Variant): void => void childAt<UAVariable>(o, di, [name]).setValueFromSource(value);
        set('Manufacturer', new Variant({ dataType: DataType.LocalizedText, value: { text: 'Twinline (simulated)', locale: 'en' } }));
        set('Model', new Variant({ dataType: DataType.LocalizedText, value: { text: model, locale: 'en' } }));
        set('ProductCode', new Variant({ dataType: DataType.String, value: `twinline-${st.kind}` }));
        set('SerialNumber', new Variant({ dataType: DataType.String, value: serial }));
      };

      const robot = make('MotionDeviceType', childAt(system, ro, ['MotionDevices']), 'Robot', `${base}.Robot`);
      identify(robot, kind.title.en, `${spec.id}/${st.id}`);
      childAt<UAVariable>(robot, ro, ['MotionDeviceCategory']).setValueFromSource(new Variant({ dataType: DataType.Int32, value: ARTICULATED_ROBOT }));
      // the twin runs programs at their programmed speed
      childAt<UAVariable>(childAt<UAObject>(robot, di, ['ParameterSet']), ro, ['SpeedOverride']).setValueFromSource(new Variant({ dataType: DataType.Double, value: 100 }));

      const controller = make('ControllerType', childAt(system, ro, ['Controllers']), 'Controller', `${base}.Controller`);
      identify(controller, `${kind.title.en} controller`, `${spec.id}/${st.id}/controller`);
      childAt<UAVariable>(controller, ro, ['CurrentUser', 'Level']).setValueFromSource(new Variant({ dataType: DataType.String, value: 'OPERATOR' }));
      const task = make('TaskControlType', childAt(controller, ro, ['TaskControls']), 'PickAndPlace', `${base}.Controller.PickAndPlace`);
      childAt<UAVariable>(task, di, ['ComponentName']).setValueFromSource(new Variant({ dataType: DataType.LocalizedText, value: { text: 'Pick and place', locale: 'en' } }));
      const taskParams = childAt<UAObject>(task, di, ['ParameterSet']);
      childAt<UAVariable>(taskParams, ro, ['TaskProgramName']).setValueFromSource(new Variant({ dataType: DataType.String, value: 'pick-and-place' }));
      childAt<UAVariable>(taskParams, ro, ['TaskProgramLoaded']).setValueFromSource(new Variant({ dataType: DataType.Boolean, value: true }));

      const safety = make('SafetyStateType', childAt(system, ro, ['SafetyStates']), 'SafetyState', `${base}.SafetyState`);
      const params = childAt<UAObject>(safety, di, ['ParameterSet']);
      const { reader } = link;
      const now = (): ReturnType<typeof robotSafety> => robotSafety(reader.read(s, 'state'), reader.read(s, 'mode'), reader.read(s, 'interlock'));
      const bind = (name: string, field: string, convert: () => Variant): void => link.sampler.bind(childAt<UAVariable>(params, ro, [name]), s, field, convert);
      bind('OperationalMode', 'mode', () => new Variant({ dataType: DataType.Int32, value: now().operationalMode }));
      bind('EmergencyStop', 'state', () => new Variant({ dataType: DataType.Boolean, value: now().emergencyStop }));
      bind('ProtectiveStop', 'interlock', () => new Variant({ dataType: DataType.Boolean, value: now().protectiveStop }));
    });
  });
}
