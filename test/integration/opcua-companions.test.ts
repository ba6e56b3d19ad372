/**
 * Companion specifications on a built-in line (ceramic-after): PackML on the kinds that
 * declare it, and Machine Vision on the vision inspection station, driven by a real client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packmlStates } from '../../sim/protocols/opcua/packml.ts';
import { RESULT_PASS, RESULT_REJECT, visionStates } from '../../sim/protocols/opcua/vision.ts';
import { robotSafety } from '../../sim/protocols/opcua/robotics.ts';
import { sleep, waitFor } from './opcua-host.ts';
import { START_MS, startServe, type Ev, type ServeProc } from './serve-proc.ts';
import { scaled } from '../proc.ts';
import { AttributeIds, ClientMonitoredItem, ClientSubscription, DataType, EventFilter, OPCUACertificateManager, OPCUAClient, TimestampsToReturn, Variant, VariantArrayType, coerceNodeId, makeBrowsePath, type ClientSession } from 'node-opcua';

let serve: ServeProc | null = null;
let pkiDir = '';
let client: OPCUAClient;
let session: ClientSession;
let ns = 0;
const uri = (u: string): Promise<number> => nsArray().then((a) => a.indexOf(u));
const nsArray = async (): Promise<string[]> => (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
const id = (s: string): string => `ns=${ns};s=${s}`;
const read = async (nodeId: string): Promise<unknown> => (await session.read({ nodeId, attributeId: AttributeIds.Value })).value.value;


async function typeOf(nodeId: string): Promise<string> {
  const r = await session.browse({ nodeId, referenceTypeId: 'HasTypeDefinition', browseDirection: 0, resultMask: 63 });
  return r.references?.[0]?.nodeId.toString() ?? '';
}

async function node(from: string, path: string): Promise<string> {
  const r = await session.translateBrowsePath(makeBrowsePath(from, path));
  expect(r.statusCode.name, path).toBe('Good');
  return r.targets![0]!.targetId.toString();
}

async function currentState(sm: string): Promise<string | null> {
  const dv = await session.read({ nodeId: await node(sm, '/CurrentState'), attributeId: AttributeIds.Value });
  return dv.statusCode.name === 'Good' ? (dv.value.value as { text: string }).text : null;
}

/** Starts `twinline serve` on `file` (open profile, no MQTT) and opens a session to its OPC UA server. */
async function start(file: string, scenarioId: string): Promise<void> {
  // the previous block's host and session go first: one host at a time, never a stale one
  await stop();
  serve = await startServe([file, '--http-port', '0', '--opcua-port', '0', '--profile', 'open', '--no-mqtt', '--speed', '5']);
  if (pkiDir === '') pkiDir = mkdtempSync(join(tmpdir(), 'twinline-opcua-client-'));
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: true });
  client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 2, initialDelay: 100 }, clientCertificateManager });
  await client.connect(serve.endpoint);
  session = await client.createSession();
  ns = await uri(`urn:twinline:${scenarioId}`);
}

async function stop(): Promise<void> {
  await session?.close().catch(() => undefined);
  await client?.disconnect().catch(() => undefined);
  await serve?.stop('SIGKILL');
  serve = null;
}

afterAll(async () => {
  await stop();
  if (pkiDir !== '') rmSync(pkiDir, { recursive: true, force: true });
});


describe('OPC UA companion specifications on the ceramic line', () => {
  beforeAll(() => start('scenarios/ceramic-after.yaml', 'ceramic-after'), START_MS + 60_000);

  it('types PackML only where the kind declares it: the kiln is a PackMLBaseObjectType, a conveyor keeps a plain object', async () => {
    const pk = await uri('http://opcfoundation.org/UA/PackML/');
    expect(pk).toBeGreaterThan(0);
    expect(await typeOf(id('kiln.PackML'))).toBe(`ns=${pk};i=6`);
    expect(await typeOf(id(`${await conveyorId()}.PackML`))).toBe('ns=0;i=58'); // BaseObjectType
    // the kiln's nested PackML state machines agree with its PackML state (the host passes events every 200 ms)
    const base = await node(id('kiln.PackML'), `/${pk}:BaseStateMachine`);
    const machine = await node(base, `/${pk}:MachineState`);
    const execute = await node(machine, `/${pk}:ExecuteState`);
    const agree = async (): Promise<[string, string]> => {
      const want = packmlStates(await read(id('kiln.PackML.State')) as number);
      return [[want.base, want.machine, want.execute].join('/'), [await currentState(base), await currentState(machine), await currentState(execute)].join('/')];
    };
    const [want] = await waitFor('kiln state machines follow its state', agree, ([w, got]) => w === got);
    expect(want).toMatch(/^Cleared\/Running\/(Execute|Suspended|Idle|Starting|Suspending|Unsuspending)$/);
  });

  it('gives the vision station a VisionSystem whose state machines follow it and whose methods command it', async () => {
    const mv = await uri('http://opcfoundation.org/UA/MachineVision');
    expect(mv).toBeGreaterThan(0);
    const vs = id('inspect.VisionSystem');
    expect(await typeOf(vs)).toBe(`ns=${mv};i=1003`);
    const system = await node(vs, `/${mv}:VisionStateMachine`);
    const automatic = await node(system, `/${mv}:AutomaticModeStateMachine`);
    const states = async (): Promise<string> => `${await currentState(system)}/${await currentState(automatic)}`;
    const call = async (of: string, name: string, args: Variant[] = []): Promise<string> =>
      (await session.call({ objectId: of, methodId: await node(of, `/${mv}:${name}`), inputArguments: args })).statusCode.name;
    // StartContinuous and StartSingleJob take MeasId, PartId, RecipeId, ProductId (structures) and Parameters
    const startArgs = async (): Promise<Variant[]> => {
      const ext = async (type: number, id: string): Promise<Variant> =>
        new Variant({ dataType: DataType.ExtensionObject, value: await session.constructExtensionObject(coerceNodeId(`ns=${mv};i=${type}`), { id }) });
      return [
        await ext(3015, 'meas-1'), await ext(3004, 'part-1'), await ext(3002, 'glaze-check'), await ext(3003, 'tile'),
        new Variant({ dataType: DataType.Variant, arrayType: VariantArrayType.Array, value: [] }),
      ];
    };
    const packml = async (): Promise<number> => (await read(id('inspect.PackML.State'))) as number;
    const agree = async (): Promise<[string, string]> => {
      const want = visionStates(await packml(), (await read(id('inspect.fault'))) as number);
      return [`${want.system}/${want.automatic}`, await states()];
    };
    // running (inspecting, or waiting for parts): Operational
    // Halt, Reset, Stop and Abort take a cause (Int32) and its description
    const cause = [new Variant({ dataType: DataType.Int32, value: 1 }), new Variant({ dataType: DataType.String, value: 'exercise' })];
    const [running] = await waitFor('vision states follow the station', agree, ([w, got]) => w === got);
    expect(running).toMatch(/^Operational\/(ContinuousExecution|Ready)$/);
    expect(await call(system, 'Halt', cause)).toBe('Good');
    await waitFor('Halted', states, (v) => v === 'Halted/null');
    // not allowed while halted: refused like the station's own Start
    expect(await call(automatic, 'StartContinuous', await startArgs())).toBe('BadInvalidState');
    expect(await call(system, 'Reset', cause)).toBe('Good');
    await waitFor('Ready', states, (v) => v === 'Operational/Ready');
    expect(await packml()).toBe(4); // Idle
    expect(await call(automatic, 'StartContinuous', await startArgs())).toBe('Good');
    await waitFor('started', packml, (v) => v !== 4);
    await waitFor('vision states follow the start', agree, ([w, got]) => w === got && w.startsWith('Operational/'));
    expect(await call(automatic, 'StartSingleJob', await startArgs())).toBe('BadNotSupported');
    const evs: Ev[] = await serve!.events();
    expect(evs.filter((e) => e.type === 'command' && e.station === 'inspect' && e.data.source === 'opcua').map((e) => e.data.command)).toEqual(expect.arrayContaining(['stop', 'reset', 'start']));
  });

  it('shuts down cleanly', async () => {
    await session.close();
    await client.disconnect();
    expect(await serve!.stop('SIGINT')).toBe(0);
    serve = null;
  });
});

describe('OPC UA Machine Vision results on a vision cell', () => {
  beforeAll(() => start('test/fixtures/scenarios/vision-cell.yaml', 'vision-cell'), START_MS + 60_000);

  it('raises a ResultReadyEvent per inspection: as many as the station counted, rejections as ResultState 2', async () => {
    const mv = await uri('http://opcfoundation.org/UA/MachineVision');
    const sub = ClientSubscription.create(session, {
      requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 100, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
    });
    await new Promise<void>((r) => sub.once('started', () => r()));
    const resultType = coerceNodeId(`ns=${mv};i=1024`);
    const field = (type: string, name: string, nsIndex = 0): object => ({ typeDefinitionId: type, browsePath: [{ namespaceIndex: nsIndex, name }], attributeId: AttributeIds.Value });
    const filter = new EventFilter({
      selectClauses: [
        field('i=2041', 'EventType'), field('i=2041', 'SourceName'),
        field(resultType.toString(), 'ResultState', mv), field(resultType.toString(), 'IsPartial', mv), field(resultType.toString(), 'ResultId', mv),
      ],
    });
    const results: { state: number; partial: boolean; id: string }[] = [];
    const item = await ClientMonitoredItem.create(sub, { nodeId: 'ns=0;i=2253', attributeId: AttributeIds.EventNotifier },
      { samplingInterval: 0, queueSize: 10_000, filter }, TimestampsToReturn.Both);
    item.on('changed', (v: unknown) => {
      const [type, source, state, partial, rid] = v as Variant[];
      if (type?.value?.toString() !== resultType.toString()) return;
      expect(source?.value).toBe('cam.VisionSystem');
      results.push({ state: state?.value as number, partial: partial?.value as boolean, id: (rid?.value as { id: string }).id });
    });
    // create() returns at once: count inspections only once the server has made the item
    await new Promise<void>((resolve, reject) => {
      item.once('initialized', () => resolve());
      item.once('err', (e: string) => reject(new Error(e)));
    });
    const counter = async (f: string): Promise<number> => (await read(id(`cam.${f}`))) as number;
    const [i0, r0] = [await counter('inspected'), await counter('rejected')];
    await sleep(3000);
    const [i1, r1] = [await counter('inspected'), await counter('rejected')];
    // the host raises the results each 200 ms pump: let the last ones arrive, rejections included
    // (on a busy machine the events trail the counters by more than a pump)
    const rejected = (): number => results.filter((r) => r.state === RESULT_REJECT).length;
    await waitFor('results for every inspection and rejection', () => ({ results: results.length, rejects: rejected() }),
      (v) => v.results >= i1 - i0 && v.rejects >= r1 - r0, scaled(10_000));
    await sub.terminate();
    expect(i1 - i0).toBeGreaterThan(20); // 5× real time, ~10 parts/s
    // the events that arrived cover the counters' growth (a pump may straddle the two reads)
    expect(results.length).toBeGreaterThanOrEqual(i1 - i0);
    // one event per inspection, none twice: the result ids count inspections without a gap
    // (the line runs on while the events are awaited, so the count itself has no upper bound)
    const serials = results.map((r) => Number(/-(\d+)$/.exec(r.id)?.[1])).sort((a, b) => a - b);
    expect(serials.at(-1)! - serials[0]! + 1).toBe(results.length);
    const rejects = results.filter((r) => r.state === RESULT_REJECT).length;
    expect(rejects).toBeGreaterThanOrEqual(r1 - r0);
    expect(rejects).toBeGreaterThan(0);
    expect(results.every((r) => (r.state === RESULT_PASS || r.state === RESULT_REJECT) && !r.partial)).toBe(true);
    expect(new Set(results.map((r) => r.id)).size).toBe(results.length);
    await session.close();
    await client.disconnect();
    await serve!.stop('SIGINT');
    serve = null;
  });
});

describe('OPC UA Robotics on the steel-ball line', () => {
  beforeAll(() => start('scenarios/steel-ball-after.yaml', 'steel-ball-after'), START_MS + 60_000);

  it('gives the robot a MotionDeviceSystem: the robot, its controller and task, and safety states that follow the station', async () => {
    const [ro, di] = [await uri('http://opcfoundation.org/UA/Robotics/'), await uri('http://opcfoundation.org/UA/DI/')];
    expect(ro).toBeGreaterThan(0);
    const system = id('handle.MotionDeviceSystem');
    expect(await typeOf(system)).toBe(`ns=${ro};i=1002`); // MotionDeviceSystemType
    const robot = await node(system, `/${ro}:MotionDevices/${ns}:Robot`);
    expect(await typeOf(robot)).toBe(`ns=${ro};i=1004`); // MotionDeviceType
    expect(await read(await node(robot, `/${ro}:MotionDeviceCategory`))).toBe(1); // ARTICULATED_ROBOT
    expect(await read(await node(robot, `/${di}:SerialNumber`))).toBe('steel-ball-after/handle');
    expect(await read(await node(robot, `/${di}:ParameterSet/${ro}:SpeedOverride`))).toBe(100);
    const task = await node(system, `/${ro}:Controllers/${ns}:Controller/${ro}:TaskControls/${ns}:PickAndPlace/${di}:ParameterSet`);
    expect(await read(await node(task, `/${ro}:TaskProgramName`))).toBe('pick-and-place');
    const safety = await node(system, `/${ro}:SafetyStates/${ns}:SafetyState/${di}:ParameterSet`);
    const shown = async (): Promise<string> => JSON.stringify({
      operationalMode: await read(await node(safety, `/${ro}:OperationalMode`)),
      emergencyStop: await read(await node(safety, `/${ro}:EmergencyStop`)),
      protectiveStop: await read(await node(safety, `/${ro}:ProtectiveStop`)),
    });
    const want = async (): Promise<string> => JSON.stringify(robotSafety(
      (await read(id('handle.PackML.State'))) as number, (await read(id('handle.PackML.UnitMode'))) as number, (await read(id('handle.interlock'))) as number,
    ));
    const agree = async (): Promise<[string, string]> => [await want(), await shown()];
    const [running] = await waitFor('safety follows the station', agree, ([w, got]) => w === got);
    expect(JSON.parse(running)).toEqual({ operationalMode: 3, emergencyStop: false, protectiveStop: false });
    // an abort is an emergency stop
    const abort = await session.call({ objectId: id('handle.PackML'), methodId: id('handle.PackML.Abort'), inputArguments: [] });
    expect(abort.statusCode.name).toBe('Good');
    await waitFor('emergency stop', shown, (v) => (JSON.parse(v) as { emergencyStop: boolean }).emergencyStop);
  });
});

async function conveyorId(): Promise<string> {
  const line = (await (await serve!.request('api/line')).json()) as { stations: { id: string; kind: string }[] };
  return line.stations.find((s) => s.kind === 'conveyor')!.id;
}
