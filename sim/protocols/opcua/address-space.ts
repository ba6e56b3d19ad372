/**
 * The line's address space: Objects/<enterprise>/<site>/<area>/<line>/<station> (ISA-95
 * order), every common and kind field of each station as a variable with its DataType,
 * engineering units, range and access, and a PackML object with the state, the unit mode and
 * the PackML commands as methods (for kinds that declare the companion, typed as OPC 30050
 * PackMLBaseObjectType: packml.ts; for other kinds a plain object named `Control`). Values come from a zero-copy reader over the worker's shared
 * buffer; writes and calls become commands that the world decides and logs.
 */
import {
  DataType, StatusCodes, Variant, makeAccessLevelFlag,
  type CallMethodResultOptions, type DataValue, type ISessionContext, type Namespace, type StatusCode, type UAMethod, type UAObject, type UAObjectType, type UAVariable,
} from 'node-opcua';
import { mayWrite, type CommandArgs, type CommandResult, type Role } from '../../core/commands.ts';
import { COMMON_FIELDS } from '../../core/station.ts';
import type { FieldSpec } from '../../core/types.ts';
import type { World } from '../../core/world.ts';
import type { LineSpec, Label } from '../../line/types.ts';
import { machineKind } from '../../machines/index.ts';
import { Cmd, Mode, MODE_NAMES, STATE_NAMES } from '../../plc/packml.ts';
import { argOf, callStatus, writeStatus } from './binding.ts';
import { routeValueWrites, userAccessLevelBy } from './seam.ts';
import type { ValueSampler } from './sampler.ts';
import { euInformation } from './units.ts';
import { bindPackml, instantiatePackml, packmlObjectType, type StationPackml } from './packml.ts';
import { StationSubtrees } from './subtrees.ts';

/** How the address space reaches the line. */
export interface LineLink {
  /** zero-copy reader over the worker's state buffer */
  reader: World;
  /** pushes changes of monitored variables from the buffer; every station variable is registered with it */
  sampler: ValueSampler;
  /**
   * sends a command as `source: 'opcua'` with the principal and role of the session of `ctx`;
   * resolves when the world has applied or refused it (NOT_AUTHORIZED, unsent, when the session
   * has no account now)
   */
  send(target: string, command: string, args: CommandArgs, ctx: ISessionContext): Promise<CommandResult>;
  /** whether the session may write or call at all (a viewer or gateway may not: that is audited and answered BadUserAccessDenied) */
  authorize(ctx: ISessionContext, action: 'write' | 'call', target: string): boolean;
  /** the role of the session of `ctx` now, or null */
  roleOf(ctx: ISessionContext): Role | null;
  /** audits a request the face refuses by itself (a write outside the engineering range) */
  refuse(ctx: ISessionContext, action: 'write' | 'call', target: string, reason: string): void;
  /** node ids of the variables and methods the line decides (filled while building) */
  routed: { writes: Set<string>; calls: Set<string> };
}

/** Nodes the rest of the face needs: the station objects by station id. */
export interface LineNodes {
  stations: Map<string, UAObject>;
  line: UAObject;
  /** the PackML companions of the stations made so far (none when the PackML nodeset is not loaded) */
  packml: Map<string, StationPackml>;
  /** what lies below each station, made when first needed; the other parts of the face add their steps */
  subtrees: StationSubtrees;
}

/**
 * Smallest sampling interval a variable supports [ms], and the period of the sampler that
 * reads monitored variables from shared memory: short, since a pass is a few memory reads.
 */
export const MIN_SAMPLING_MS = 10;

const READ = makeAccessLevelFlag('CurrentRead');
const READ_WRITE = makeAccessLevelFlag('CurrentRead | CurrentWrite');
/** the same as the bytes of the UserAccessLevel attribute */
const READ_BYTE = 1;
const READ_WRITE_BYTE = 3;
const INT32_MAX = 2 ** 31 - 1;

/** The PackML commands exposed as methods, by method name. */
const METHODS = ['Start', 'Stop', 'Hold', 'Unhold', 'Suspend', 'Unsuspend', 'Abort', 'Clear', 'Reset', 'Complete'] as const;

function label(l: Label): { text: string; locale: string }[] {
  return [{ text: l.en, locale: 'en' }, { text: l.zh, locale: 'zh-CN' }];
}

/** OPC UA DataType of a field: Boolean for 0/1 integers, Int32 for other integers, else Double. */
export function dataTypeOf(f: FieldSpec): DataType {
  if (f.integer !== true) return DataType.Double;
  return f.min === 0 && f.max === 1 ? DataType.Boolean : DataType.Int32;
}

type ToVariant = (x: number) => Variant;

const booleanOf: ToVariant = (x) => new Variant({ dataType: DataType.Boolean, value: x !== 0 });
const int32Of: ToVariant = (x) => new Variant({ dataType: DataType.Int32, value: Math.max(-INT32_MAX - 1, Math.min(INT32_MAX, Math.trunc(x))) });
const doubleOf: ToVariant = (x) => new Variant({ dataType: DataType.Double, value: x });

/** The variant of a raw field value for a variable of DataType `dt` (shared functions, no closure per tag). */
function variantOf(dt: DataType): ToVariant {
  return dt === DataType.Boolean ? booleanOf : dt === DataType.Int32 ? int32Of : doubleOf;
}

/** The declared engineering range of a variable, or null. */
type EURange = { low: number; high: number } | null;

/** Why `value` may not be written to a field with engineering range `range`, or null. */
export function outOfRange(value: number, range: EURange, unit: string): string | null {
  if (!Number.isFinite(value)) return `${String(value)} is not a finite number`;
  if (range === null || (value >= range.low && value <= range.high)) return null;
  return `${value}${unit === '' ? '' : ` ${unit}`} is outside the engineering range [${range.low}, ${range.high}]`;
}

/** What the shared write and access-level handlers need of a station field's variable. */
interface FieldBinding {
  station: string;
  /** station index in the world */
  s: number;
  field: string;
  f: FieldSpec;
  dt: DataType;
  range: EURange;
  link: LineLink;
}

/** the binding of each field variable (one small record per tag instead of closures) */
const fieldBindings = new WeakMap<UAVariable, FieldBinding>();

/**
 * Every Value write of a field variable goes to the world as a `set` command, so the world
 * decides and logs each write with the principal and role that sent it. The face refuses by
 * itself (and audits) only what no field takes: index ranges, a viewer's or gateway's write, a
 * number outside the engineering range the variable declares (EURange), NaN and ±Infinity.
 */
async function writeField(ctx: ISessionContext, dv: DataValue, indexRange: boolean, v: UAVariable): Promise<StatusCode> {
  const b = fieldBindings.get(v);
  if (b === undefined) return StatusCodes.BadInternalError;
  const { station, field, f, link } = b;
  const readOnly = f.access !== 'rw';
  const target = `${station}.${field}`;
  if (indexRange) return StatusCodes.BadWriteNotSupported;
  if (!link.authorize(ctx, 'write', target)) return StatusCodes.BadUserAccessDenied;
  const value = argOf(dv.value, b.dt);
  if (!readOnly && typeof value === 'number') {
    const why = outOfRange(value, b.range, f.unit);
    if (why !== null) {
      link.refuse(ctx, 'write', target, `${field} = ${why}`);
      return StatusCodes.BadOutOfRange;
    }
  }
  return writeStatus(await link.send(station, 'set', { field, value }, ctx), readOnly);
}

/** What this session may write to a writable field, as the line will decide it (a safety limit only in Maintenance). */
function fieldAccessLevel(ctx: ISessionContext, v: UAVariable): number {
  const b = fieldBindings.get(v);
  if (b === undefined) return READ_BYTE;
  const role = b.link.roleOf(ctx);
  if (role === null) return READ_BYTE;
  const level = b.f.write ?? 'engineer';
  const reader = b.link.reader;
  const maintenance = level === 'safety' && reader.readConsistent(() => reader.read(b.s, 'mode')).value === Mode.maintenance;
  return mayWrite(role, level, maintenance) === null ? READ_WRITE_BYTE : READ_BYTE;
}

function addField(ns: Namespace, parent: UAObject, station: string, s: number, field: string, f: FieldSpec, link: LineLink): void {
  const dt = dataTypeOf(f);
  const toVariant = variantOf(dt);
  const rw = f.access === 'rw';
  const common = {
    componentOf: parent,
    browseName: field,
    nodeId: `s=${station}.${field}`,
    displayName: field,
    description: f.description,
    dataType: DataType[dt],
    accessLevel: rw ? READ_WRITE : READ,
    userAccessLevel: rw ? READ_WRITE : READ,
    minimumSamplingInterval: MIN_SAMPLING_MS,
  };
  const eu = euInformation(f.unit);
  const range: EURange = f.min !== undefined && f.max !== undefined && dt !== DataType.Boolean ? { low: f.min, high: f.max } : null;
  let v: UAVariable;
  if (range !== null) {
    v = ns.addAnalogDataItem({ ...common, engineeringUnitsRange: range, ...(eu !== null ? { engineeringUnits: eu } : {}) });
  } else if (eu !== null) {
    v = ns.addVariable({ ...common, typeDefinition: 'BaseAnalogType' });
    ns.addVariable({
      propertyOf: v, browseName: { name: 'EngineeringUnits', namespaceIndex: 0 }, typeDefinition: 'PropertyType',
      dataType: 'EUInformation', value: { dataType: DataType.ExtensionObject, value: eu },
    });
  } else {
    v = ns.addVariable(common);
  }
  // reads stay live through the sampler's shared getter; monitored items get changes from the sampler
  link.sampler.bind(v, s, field, toVariant);
  fieldBindings.set(v, { station, s, field, f, dt, range, link });
  link.routed.writes.add(v.nodeId.toString());
  routeValueWrites(v, writeField);
  if (rw) userAccessLevelBy(v, fieldAccessLevel);
}

/** What the shared handler of a station's own PackML methods needs: the command each sends (`mode`: SetMode). */
interface CommandBinding {
  station: string;
  command: string;
  link: LineLink;
}

const commandBindings = new WeakMap<UAMethod, CommandBinding>();

/** Runs a station's own PackML method (Start … Complete, SetMode) as its command on behalf of the session. */
async function runCommand(m: UAMethod, args: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> {
  const b = commandBindings.get(m);
  if (b === undefined) return { statusCode: StatusCodes.BadInternalError };
  const { station, command, link } = b;
  if (!link.authorize(context, 'call', `${station}.PackML.${m.browseName.name ?? ''}`)) return { statusCode: StatusCodes.BadUserAccessDenied };
  if (command !== 'mode') return { statusCode: callStatus(await link.send(station, command, {}, context)) };
  const mode: unknown = args[0]?.value;
  if (typeof mode !== 'number') return { statusCode: StatusCodes.BadInvalidArgument };
  return { statusCode: callStatus(await link.send(station, 'mode', { mode }, context)) };
}

/** The handler of every station's own PackML methods: one function for all (`this` is the method), no closure per method. */
function commandMethod(this: UAMethod, args: Variant[], context: ISessionContext, callback: (err: Error | null, result?: CallMethodResultOptions) => void): void {
  runCommand(this, args, context).then((r) => callback(null, r), (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))));
}

function bindCommand(m: UAMethod, b: CommandBinding): void {
  b.link.routed.calls.add(m.nodeId.toString());
  commandBindings.set(m, b);
  m.bindMethod(commandMethod);
}

const stateName: ToVariant = (x) => new Variant({ dataType: DataType.String, value: STATE_NAMES[x] ?? 'Undefined' });
const modeName: ToVariant = (x) => new Variant({ dataType: DataType.String, value: MODE_NAMES[x] ?? 'Undefined' });

function addPackml(ns: Namespace, parent: UAObject, station: string, s: number, link: LineLink, type: UAObjectType | null): StationPackml | null {
  const folder = type !== null
    ? instantiatePackml(type, ns, parent, station)
    // not the companion: its own BrowseName, so a client looking for the OPC 30050 object by
    // name never takes this one for it (the node id keeps the common path of the state nodes)
    : ns.addObject({
      componentOf: parent, browseName: 'Control', nodeId: `s=${station}.PackML`, displayName: 'Control',
      description: 'PackML-style state, unit mode and commands of a station without the PackML companion',
    });
  const ro = { componentOf: folder, accessLevel: READ, userAccessLevel: READ, minimumSamplingInterval: MIN_SAMPLING_MS };
  const stateVar = ns.addVariable({
    ...ro, browseName: 'State', nodeId: `s=${station}.PackML.State`, dataType: 'Int32',
    description: 'PackML state (PackTags StateCurrent: 2 Stopped, 4 Idle, 6 Execute …)',
  });
  const stateNameVar = ns.addVariable({
    ...ro, browseName: 'StateName', nodeId: `s=${station}.PackML.StateName`, dataType: 'String',
  });
  const modeVar = ns.addVariable({
    ...ro, browseName: 'UnitMode', nodeId: `s=${station}.PackML.UnitMode`, dataType: 'Int32',
    description: 'unit mode (PackTags UnitMode): 1 Production, 2 Maintenance, 3 Manual',
  });
  const modeNameVar = ns.addVariable({
    ...ro, browseName: 'UnitModeName', nodeId: `s=${station}.PackML.UnitModeName`, dataType: 'String',
  });
  link.sampler.bind(stateVar, s, 'state', int32Of);
  link.sampler.bind(stateNameVar, s, 'state', stateName);
  link.sampler.bind(modeVar, s, 'mode', int32Of);
  link.sampler.bind(modeNameVar, s, 'mode', modeName);
  // a method without arguments has no InputArguments or OutputArguments property (OPC 10000-3
  // 5.7.1: an absent property and an empty array say the same), which saves two nodes a method
  for (const name of METHODS) {
    const command = name.toLowerCase() as keyof typeof Cmd;
    const m = ns.addMethod(folder, {
      browseName: name, nodeId: `s=${station}.PackML.${name}`,
      description: `PackML command ${name} (CntrlCmd ${Cmd[command]})`,
    });
    bindCommand(m, { station, command, link });
  }
  const setMode = ns.addMethod(folder, {
    browseName: 'SetMode', nodeId: `s=${station}.PackML.SetMode`,
    description: 'changes the unit mode (1 Production, 2 Maintenance, 3 Manual); only in Stopped, Idle, Aborted or Complete',
    inputArguments: [{ name: 'Mode', dataType: DataType.Int32, description: { text: '1 Production, 2 Maintenance, 3 Manual' } }],
  });
  bindCommand(setMode, { station, command: 'mode', link });
  return type !== null ? bindPackml(folder, station, s, link) : null;
}

/**
 * Builds the line under Objects in namespace `ns`. Each ISA-95 level notifies the one above,
 * up to the Server object, so alarm events of a station reach clients subscribed to Server.
 * The station objects are made now; their fields and PackML object are the first step of
 * each station's subtree (subtrees.ts).
 */
export function buildLine(ns: Namespace, spec: LineSpec, link: LineLink): LineNodes {
  const as = ns.addressSpace;
  const objects = as.rootFolder.objects;
  const { enterprise, site, area, line } = spec.isa95;
  const level = (name: string, parent: UAObject, id: string): UAObject =>
    ns.addObject({ organizedBy: parent, notifierOf: parent, browseName: name, displayName: name, nodeId: `s=${id}`, eventNotifier: 1 });
  const ent = level(enterprise, objects, enterprise);
  as.rootFolder.objects.server.addReference({ referenceType: 'HasNotifier', nodeId: ent });
  const siteNode = level(site, ent, `${enterprise}/${site}`);
  const areaNode = level(area, siteNode, `${enterprise}/${site}/${area}`);
  const lineNode = ns.addObject({
    organizedBy: areaNode, notifierOf: areaNode, browseName: line, displayName: label(spec.title), nodeId: `s=${enterprise}/${site}/${area}/${line}`,
    description: spec.description.en, eventNotifier: 1,
  });
  const stations = new Map<string, UAObject>();
  const packml = new Map<string, StationPackml>();
  const subtrees = new StationSubtrees();
  const packmlType = packmlObjectType(ns);
  spec.stations.forEach((st, s) => {
    const kind = machineKind(st.kind);
    if (kind === undefined) return;
    const node = ns.addObject({
      componentOf: lineNode, eventSourceOf: lineNode, browseName: st.id, displayName: label(st.name), nodeId: `s=${st.id}`,
      description: `${kind.title.en} (${kind.kind})`, eventNotifier: 1,
    });
    subtrees.declare(st.id);
    subtrees.add(st.id, () => {
      for (const [field, f] of Object.entries(COMMON_FIELDS) as [string, FieldSpec][]) addField(ns, node, st.id, s, field, f, link);
      for (const [field, f] of Object.entries(kind.fields)) addField(ns, node, st.id, s, field, f, link);
      // kinds that declare the PackML companion get the typed object, others a plain PackML folder
      const companion = addPackml(ns, node, st.id, s, link, kind.companion.includes('PackML') ? packmlType : null);
      if (companion !== null) packml.set(st.id, companion);
    });
    stations.set(st.id, node);
  });
  return { stations, line: lineNode, packml, subtrees };
}

