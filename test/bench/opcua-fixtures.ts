/**
 * What the `opcua` bench section needs besides the code under test: a generated line of a
 * given tag count (the ceramic line repeated with fresh station ids), the list of variables
 * the OPC UA face exposes for it, and a bare node-opcua server with the same variables that a
 * timer feeds with setValueFromSource (the baseline).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { DataType, OPCUACertificateManager, OPCUAServer, Variant, nodesets, type UAVariable } from 'node-opcua';
import { COMMON_ALARMS, COMMON_FIELDS } from '../../sim/core/station.ts';
import type { World } from '../../sim/core/world.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import type { LineSpec } from '../../sim/line/types.ts';
import { machineKind } from '../../sim/machines/index.ts';
import { dataTypeOf } from '../../sim/protocols/opcua/address-space.ts';

const BASE_FILE = 'scenarios/ceramic-after.yaml';

/** Variables per station besides its fields: PackML State, StateName, UnitMode, UnitModeName. */
const PACKML_VARIABLES = 4;

/** One variable the face exposes, as the baseline needs it. */
export interface TagDef {
  /** string part of the NodeId, `<station>.<field>` or `<station>.PackML.<name>` */
  id: string;
  /** station index in the world */
  s: number;
  /** world field the value comes from */
  field: string;
  dataType: DataType;
  /** the PackML name variables map a number to a name */
  names: 'state' | 'mode' | null;
}

/** A generated line. */
export interface GeneratedLine {
  text: string;
  file: string;
  spec: LineSpec;
  /** variables the face exposes for the stations (fields and PackML), in address-space order */
  tags: TagDef[];
}

/** Variables a station of `kind` exposes. */
function stationTags(kind: string): number {
  const k = machineKind(kind);
  return k === undefined ? 0 : Object.keys(COMMON_FIELDS).length + Object.keys(k.fields).length + PACKML_VARIABLES;
}

/**
 * The ceramic line repeated until it exposes at least `minTags` variables: copy `k` of each
 * station gets the id `<id>-<k>` and its `next`/`reject` point into the same copy, so every
 * copy is a complete line of its own and all of them run in one world.
 */
export function generateLine(minTags: number): GeneratedLine {
  const baseText = readFileSync(BASE_FILE, 'utf8');
  const base = parseScenario(baseText, BASE_FILE);
  const perCopy = base.stations.reduce((n, st) => n + stationTags(st.kind), 0);
  const copies = Math.max(1, Math.ceil(minTags / perCopy));
  const doc = parseDocument(baseText);
  const stations = (doc.toJS() as { stations: Record<string, unknown>[] }).stations;
  const ren = (id: unknown, k: number): unknown => (typeof id === 'string' ? `${id}-${k}` : id);
  const all: Record<string, unknown>[] = [];
  for (let k = 1; k <= copies; k++) {
    for (const st of stations) all.push({ ...st, id: ren(st.id, k), next: ren(st.next, k), ...('reject' in st ? { reject: ren(st.reject, k) } : {}) });
  }
  doc.set('id', `bench-${copies}x`);
  doc.set('stations', doc.createNode(all));
  // faults, setpoints and crews name stations of the original line; the bench does not need them
  doc.delete('faults');
  doc.delete('setpoints');
  doc.delete('crews');
  const text = doc.toString({ lineWidth: 0 });
  const file = `bench-${copies}x.yaml`;
  const spec = parseScenario(text, file);
  return { text, file, spec, tags: tagsOf(spec) };
}

/** Alarm conditions the face creates for `spec`: one per station and alarm code (the kind's and the common ones). */
export function conditionsOf(spec: LineSpec): number {
  return spec.stations.reduce((n, st) => n + (machineKind(st.kind)?.alarms.length ?? 0) + COMMON_ALARMS.length, 0);
}

/** The variables the face exposes for `spec`, in the order address-space.ts adds them. */
export function tagsOf(spec: LineSpec): TagDef[] {
  const tags: TagDef[] = [];
  spec.stations.forEach((st, s) => {
    const kind = machineKind(st.kind);
    if (kind === undefined) return;
    for (const [field, f] of [...Object.entries(COMMON_FIELDS), ...Object.entries(kind.fields)]) {
      tags.push({ id: `${st.id}.${field}`, s, field, dataType: dataTypeOf(f), names: null });
    }
    tags.push({ id: `${st.id}.PackML.State`, s, field: 'state', dataType: DataType.Int32, names: null });
    tags.push({ id: `${st.id}.PackML.StateName`, s, field: 'state', dataType: DataType.String, names: 'state' });
    tags.push({ id: `${st.id}.PackML.UnitMode`, s, field: 'mode', dataType: DataType.Int32, names: null });
    tags.push({ id: `${st.id}.PackML.UnitModeName`, s, field: 'mode', dataType: DataType.String, names: 'mode' });
  });
  return tags;
}

/** Application URI of both servers: the face's, so one prepared certificate serves both. */
export const APPLICATION_URI = 'urn:twinline:server';

/**
 * Creates the server certificate under `<runDir>/pki` before anything is timed, as a second
 * `twinline serve` finds it: RSA key generation would otherwise land in whichever start
 * happens to run first.
 */
export async function preparePki(runDir: string): Promise<void> {
  const cm = new OPCUACertificateManager({ rootFolder: join(runDir, 'pki'), automaticallyAcceptUnknownCertificate: true });
  await cm.initialize();
  await cm.createSelfSignedCertificate({
    applicationUri: APPLICATION_URI, dns: [hostname()], ip: ['127.0.0.1'], outputFile: join(cm.rootDir, 'own', 'certs', 'certificate.pem'),
    subject: `/CN=Twinline bench@${hostname()}`, startDate: new Date(), validity: 30,
  });
  await cm.dispose();
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const addr = probe.address();
  await new Promise<void>((r) => probe.close(() => r()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** A bare node-opcua server holding `tags` as plain variables under one folder. */
export interface BareServer {
  server: OPCUAServer;
  endpoint: string;
  namespaceUri: string;
  variables: UAVariable[];
  /** where the start time went [ms] */
  parts: { prepare: number; initialize: number; variables: number; listen: number };
  close(): Promise<void>;
}

/**
 * Constructs, initialises and starts a bare OPCUAServer (SecurityPolicy None, anonymous)
 * with one variable per tag: same NodeIds and DataTypes as the face, no getters, no
 * engineering units, no methods, no alarms.
 */
export async function startBareServer(tags: readonly TagDef[], namespaceUri: string, port: number, runDir: string): Promise<BareServer> {
  let lap = performance.now();
  const took = (): number => {
    const now = performance.now();
    const ms = now - lap;
    lap = now;
    return Math.round(ms);
  };
  const serverCertificateManager = new OPCUACertificateManager({ rootFolder: join(runDir, 'pki'), automaticallyAcceptUnknownCertificate: true });
  const server = new OPCUAServer({
    port, host: '127.0.0.1', hostname: '127.0.0.1', nodeset_filename: [nodesets.standard], serverCertificateManager, allowAnonymous: true,
    serverInfo: { applicationUri: APPLICATION_URI }, serverCapabilities: { maxSessions: 50 },
  });
  const prepare = took();
  await server.initialize();
  const initialize = took();
  const as = server.engine.addressSpace;
  if (as === null) throw new Error('address space did not initialise');
  const ns = as.registerNamespace(namespaceUri);
  const folder = ns.addFolder(as.rootFolder.objects, { browseName: 'Line' });
  const variables = tags.map((t) => ns.addVariable({
    componentOf: folder, browseName: t.id, nodeId: `s=${t.id}`, dataType: DataType[t.dataType],
    value: new Variant({ dataType: t.dataType, value: t.dataType === DataType.String ? '' : t.dataType === DataType.Boolean ? false : 0 }),
  }));
  const variablesMs = took();
  await server.start();
  return {
    server, endpoint: `opc.tcp://127.0.0.1:${port}`, namespaceUri, variables, parts: { prepare, initialize, variables: variablesMs, listen: took() },
    async close() {
      await server.shutdown(0);
    },
  };
}

/** The current value of `t` in the world as the face would give it. */
export function tagValue(reader: World, t: TagDef, stateNames: readonly string[], modeNames: readonly string[]): boolean | number | string {
  const x = reader.read(t.s, t.field);
  if (t.names === 'state') return stateNames[x] ?? 'Undefined';
  if (t.names === 'mode') return modeNames[x] ?? 'Undefined';
  if (t.dataType === DataType.Boolean) return x !== 0;
  if (t.dataType === DataType.Int32) return Math.trunc(x);
  return x;
}

/**
 * Changes every tag's value in the shared buffer (the simulation paused): 0/1 fields and
 * PackML state and mode alternate between two valid values, other fields count up. For the
 * capacity figure: every monitored item has a new value at every sample.
 */
export function bumpAll(world: World, fields: readonly { s: number; field: string; flip: readonly [number, number] | null }[], k: number): void {
  world.beginWrite();
  for (const f of fields) world.write(f.s, f.field, f.flip === null ? world.read(f.s, f.field) + 1 : f.flip[k & 1]!);
  world.endWrite();
}

/** The distinct world fields behind `tags`, with how `bumpAll` changes each. */
export function bumpFields(world: World, tags: readonly TagDef[]): { s: number; field: string; flip: readonly [number, number] | null }[] {
  const seen = new Set<string>();
  const out: { s: number; field: string; flip: readonly [number, number] | null }[] = [];
  for (const t of tags) {
    const key = `${t.s}.${t.field}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const spec = world.fieldSpec(t.s, t.field);
    const flip: readonly [number, number] | null = t.field === 'state' ? [2, 6] : t.field === 'mode' ? [1, 2] : t.dataType === DataType.Boolean ? [0, 1] : null;
    if (spec !== undefined) out.push({ s: t.s, field: t.field, flip });
  }
  return out;
}
