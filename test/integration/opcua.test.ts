// The OPC UA face of `twinline serve`: the real host process, the real node-opcua server and a
// real node-opcua client over loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AttributeIds, ClientMonitoredItem, ClientSubscription, DataType, MessageSecurityMode, NodeClass, OPCUACertificateManager, OPCUAClient,
  SecurityPolicy, TimestampsToReturn, UserTokenType,
  Variant, VariantArrayType, constructEventFilter, makeBrowsePath, makeEUInformation, type ClientSession, type EUInformation, type Range,
} from 'node-opcua';

const SCENARIO = 'test/fixtures/scenarios/minimal.yaml';
let proc: ChildProcessWithoutNullStreams;
let out = '';
let base = '';
let endpoint = '';
let client: OPCUAClient;
let session: ClientSession;
let ns = 0;

type Ev = { seq: number; type: string; station: string | null; data: Record<string, unknown> };

/** unitId of a UNECE common code, as OPC 10000-8 computes it */
const unece = (code: string): number => makeEUInformation(code, '', '').unitId;
const id = (s: string): string => `ns=${ns};s=${s}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function read(nodeId: string): Promise<unknown> {
  const dv = await session.read({ nodeId, attributeId: AttributeIds.Value });
  expect(dv.statusCode.name).toBe('Good');
  return dv.value.value;
}

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await sleep(20);
    v = await get();
  }
  return v;
}

async function events(): Promise<Ev[]> {
  return (await fetch(new URL('api/events?limit=2000', base)).then((r) => r.json())) as Ev[];
}

function write(nodeId: string, value: Variant): Promise<{ name: string }> {
  return session.write({ nodeId, attributeId: AttributeIds.Value, value: { value } });
}

beforeAll(async () => {
  const t0 = Date.now();
  proc = spawn(process.execPath, ['bin/twinline.mjs', 'serve', SCENARIO, '--http-port', '0', '--opcua-port', '0', '--profile', 'open'], { cwd: process.cwd() });
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  while (Date.now() - t0 < 45_000) {
    const web = /web app\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
    const ua = /OPC UA\s+(opc\.tcp:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (web && ua) {
      base = web[1] ?? '';
      endpoint = ua[1] ?? '';
      break;
    }
    if (proc.exitCode !== null) break;
    await sleep(100);
  }
  if (endpoint === '') throw new Error(`serve did not start:\n${out}`);
  client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 2, initialDelay: 100 } });
  await client.connect(endpoint);
  session = await client.createSession();
  const nsArray = (await read('ns=0;i=2255')) as string[];
  ns = nsArray.indexOf('urn:twinline:minimal');
  console.log(`OPC UA face: process start to first session ${Date.now() - t0} ms; ${/up in \d+ ms/.exec(out)?.[0] ?? ''}`);
}, 60_000);

afterAll(async () => {
  await session?.close().catch(() => undefined);
  await client?.disconnect().catch(() => undefined);
  if (proc.exitCode === null) proc.kill('SIGKILL');
});

describe('twinline serve: OPC UA face (open profile)', () => {
  it('prints the endpoint, the profile warning and the namespace', () => {
    expect(out).toMatch(/OPC UA\s+opc\.tcp:\/\/127\.0\.0\.1:\d+\s+\(profile open, namespace urn:twinline:minimal/);
    expect(out).toContain('!!! OPC UA profile "open"');
    expect(ns).toBeGreaterThan(1);
  });

  it('puts every station under Objects/<enterprise>/<site>/<area>/<line> with English and Chinese names', async () => {
    for (const station of ['src', 'belt', 'former', 'out']) {
      const path = makeBrowsePath('RootFolder', `/Objects/${ns}:Twinline/${ns}:Test/${ns}:Unit/${ns}:minimal/${ns}:${station}`);
      const r = await session.translateBrowsePath(path);
      expect(r.statusCode.name, station).toBe('Good');
      expect(r.targets?.[0]?.targetId.toString()).toBe(id(station));
    }
    const dn = await session.read({ nodeId: id('former'), attributeId: AttributeIds.DisplayName });
    expect(dn.value.value.text).toBe('Former');
    const kids = await session.browse(id('former'));
    const names = (kids.references ?? []).map((r) => r.browseName.name);
    expect(names).toEqual(expect.arrayContaining(['cycleTime', 'force', 'strokes', 'state', 'mtbf', 'PackML']));
    // conditions are made when first raised (the alarm test below sees JAM appear; the force stays on recipe)
    expect(names).not.toContain('FORCE_DEVIATION');
    const packml = await session.browse(id('former.PackML'));
    const methods = (packml.references ?? []).filter((r) => r.nodeClass === NodeClass.Method).map((r) => r.browseName.name);
    expect(methods).toEqual(expect.arrayContaining(['Start', 'Stop', 'Hold', 'Unhold', 'Suspend', 'Unsuspend', 'Abort', 'Clear', 'Reset', 'SetMode']));
  });

  it('gives tags their DataType, EngineeringUnits (UNECE) and EURange', async () => {
    const prop = async (tag: string, name: string): Promise<unknown> => {
      const r = await session.translateBrowsePath(makeBrowsePath(id(tag), `.${name}`));
      expect(r.statusCode.name, `${tag}.${name}`).toBe('Good');
      return read(r.targets![0]!.targetId.toString());
    };
    const eu = (await prop('former.force', 'EngineeringUnits')) as EUInformation;
    expect(eu.unitId).toBe(unece('B47'));
    expect(eu.displayName.text).toBe('kN');
    const range = (await prop('former.force', 'EURange')) as Range;
    expect([range.low, range.high]).toEqual([0, 5000]);
    expect(((await prop('belt.speed', 'EngineeringUnits')) as EUInformation).unitId).toBe(unece('MTS'));
    expect(((await prop('former.energy', 'EngineeringUnits')) as EUInformation).unitId).toBe(unece('JOU'));
    const dt = async (tag: string): Promise<string> => {
      const dv = await session.read({ nodeId: id(tag), attributeId: AttributeIds.DataType });
      return dv.value.value.toString();
    };
    expect(await dt('former.force')).toBe('ns=0;i=11'); // Double
    expect(await dt('former.strokes')).toBe('ns=0;i=6'); // Int32
    expect(await dt('former.autoRecover')).toBe('ns=0;i=1'); // Boolean
    const access = async (tag: string): Promise<number> => (await session.read({ nodeId: id(tag), attributeId: AttributeIds.AccessLevel })).value.value as number;
    expect(await access('former.force')).toBe(3); // CurrentRead | CurrentWrite
    expect(await access('former.strokes')).toBe(1); // CurrentRead
  });

  it('delivers a changing value to subscriptions sampling at 100 ms and at 10 ms', async () => {
    await waitFor('former state', () => read(id('former.PackML.State')), (v) => v === 6, 8000);
    const sub = ClientSubscription.create(session, {
      requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 100, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
    });
    await new Promise<void>((r) => sub.once('started', () => r()));
    const counts: Record<string, number[]> = { '100': [], '10': [] };
    const items = await Promise.all(['100', '10'].map(async (ms) => {
      const item = await ClientMonitoredItem.create(sub, { nodeId: id('former.energy'), attributeId: AttributeIds.Value },
        { samplingInterval: Number(ms), discardOldest: true, queueSize: 1000 }, TimestampsToReturn.Both);
      item.on('changed', (dv) => counts[ms]!.push(dv.value.value as number));
      return item;
    }));
    await sleep(1500);
    await sub.terminate();
    const [slow, fast] = [counts['100']!, counts['10']!];
    console.log(`former.energy changes in 1.5 s: ${slow.length} at 100 ms sampling, ${fast.length} at 10 ms (revised ${items[1]?.monitoringParameters.samplingInterval} ms)`);
    expect(items[1]?.monitoringParameters.samplingInterval).toBe(10);
    expect(slow.length).toBeGreaterThanOrEqual(10);
    expect(fast.length).toBeGreaterThanOrEqual(60);
    expect(fast.at(-1)!).toBeGreaterThan(fast[0]!);
  });

  it('runs the PackML methods: Stop, Start refused in Stopped, then Reset and Start back to Execute', async () => {
    const call = async (name: string, args: Variant[] = []): Promise<string> =>
      (await session.call({ objectId: id('former.PackML'), methodId: id(`former.PackML.${name}`), inputArguments: args })).statusCode.name;
    const state = (): Promise<unknown> => read(id('former.PackML.State'));
    expect(await call('Stop')).toBe('Good');
    await waitFor('Stopped', state, (v) => v === 2);
    expect(await read(id('former.PackML.StateName'))).toBe('Stopped');
    expect(await call('Start')).toBe('BadInvalidState');
    expect(await call('SetMode', [new Variant({ dataType: DataType.Int32, value: 7 })])).toBe('BadInvalidArgument');
    expect(await call('Reset')).toBe('Good');
    await waitFor('Idle', state, (v) => v === 4);
    expect(await call('Start')).toBe('Good');
    await waitFor('Execute', state, (v) => v === 6);
    expect(await read(id('former.PackML.StateName'))).toBe('Execute');
  });

  it('writes setpoints through the world: in range Good, bad ones refused with the matching StatusCode, line running', async () => {
    const force = (): Promise<unknown> => read(id('former.force'));
    expect((await write(id('former.force'), new Variant({ dataType: DataType.Double, value: 900 }))).name).toBe('Good');
    expect(await force()).toBe(900);
    expect((await write(id('former.force'), new Variant({ dataType: DataType.Double, value: 6000 }))).name).toBe('BadOutOfRange');
    expect(await force()).toBe(900);
    expect((await write(id('former.force'), new Variant({ dataType: DataType.String, value: 'strong' }))).name).toBe('BadTypeMismatch');
    expect((await write(id('former.strokes'), new Variant({ dataType: DataType.Int32, value: 0 }))).name).toBe('BadNotWritable');
    expect((await write(id('former.autoRecover'), new Variant({ dataType: DataType.Boolean, value: false }))).name).toBe('Good');
    expect(await read(id('former.autoRecover'))).toBe(false);
    expect(await force()).toBe(900);
    const a = (await fetch(new URL('api/state', base)).then((r) => r.json())) as { tick: number; running: boolean };
    await sleep(200);
    const b = (await fetch(new URL('api/state', base)).then((r) => r.json())) as { tick: number; running: boolean };
    expect(b.running).toBe(true);
    expect(b.tick).toBeGreaterThan(a.tick);
  });

  it('logs accepted and refused OPC UA writes and calls with the session principal', async () => {
    const principal = `anonymous@${session.sessionId.toString()}`;
    await sleep(500); // the host drains events every 200 ms
    const evs = (await events()).filter((e) => e.data.source === 'opcua' && e.station === 'former');
    const find = (type: string, command: string, pred: (e: Ev) => boolean = () => true): Ev | undefined =>
      evs.find((e) => e.type === type && e.data.command === command && pred(e));
    expect(find('command', 'set', (e) => String(e.data.args).includes('"value":900'))?.data.principal).toBe(principal);
    expect(find('rejected', 'set', (e) => e.data.code === 'OUT_OF_RANGE')?.data.principal).toBe(principal);
    expect(find('rejected', 'set', (e) => e.data.code === 'BAD_ARGUMENT' && String(e.data.args).includes('strong'))).toBeDefined();
    expect(find('rejected', 'set', (e) => e.data.code === 'NOT_ALLOWED' && String(e.data.args).includes('strokes'))).toBeDefined();
    expect(find('command', 'stop')?.data.principal).toBe(principal);
    expect(find('rejected', 'start', (e) => e.data.code === 'NOT_ALLOWED')).toBeDefined();
    expect(find('command', 'reset')).toBeDefined();
  });

  it('audits what the OPC UA stack refuses by itself: unknown nodes, other attributes, unknown methods; and the session', async () => {
    expect((await write(id('nope.force'), new Variant({ dataType: DataType.Double, value: 1 }))).name).toBe('BadNodeIdUnknown');
    const dn = await session.write({ nodeId: id('former.force'), attributeId: AttributeIds.DisplayName, value: { value: new Variant({ dataType: DataType.LocalizedText, value: { text: 'x' } }) } });
    expect(dn.name).not.toBe('Good');
    const call = await session.call({ objectId: id('former.PackML'), methodId: id('former.PackML.Explode'), inputArguments: [] });
    expect(call.statusCode.name).not.toBe('Good');
    const audits = await waitFor('audit events', async () => (await events()).filter((e) => e.type === 'audit' && e.data.source === 'opcua'), (a) => a.length >= 4, 3000);
    const denied = audits.filter((e) => e.data.outcome === 'denied');
    expect(denied.find((e) => e.data.action === 'write' && String(e.data.target).includes('nope.force'))?.data.reason).toBe('BadNodeIdUnknown');
    expect(denied.find((e) => e.data.action === 'write' && String(e.data.target).endsWith('former.force#DisplayName'))).toBeDefined();
    expect(denied.find((e) => e.data.action === 'call' && String(e.data.target).includes('Explode'))).toBeDefined();
    // no double entries: writes the line decided were logged by the line, not audited
    expect(denied.some((e) => e.data.action === 'write' && String(e.data.target).endsWith('former.force#Value'))).toBe(false);
    const s = audits.find((e) => e.data.action === 'session' && e.data.outcome === 'allowed' && String(e.data.principal).includes(session.sessionId.toString()));
    expect(String(s?.data.principal)).toMatch(/^anonymous@/);
  });

  it('raises a machine alarm as an OPC UA condition and sends its acknowledgement to the line', async () => {
    const sub = ClientSubscription.create(session, {
      requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 100, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
    });
    await new Promise<void>((r) => sub.once('started', () => r()));
    const fields = ['EventId', 'ConditionName', 'SourceName', 'Message', 'Severity', 'ActiveState.Id', 'AckedState.Id'];
    const seen: Variant[][] = [];
    const item = await ClientMonitoredItem.create(sub, { nodeId: 'ns=0;i=2253', attributeId: AttributeIds.EventNotifier },
      { samplingInterval: 0, queueSize: 100, filter: constructEventFilter(fields) }, TimestampsToReturn.Both);
    item.on('changed', (v: unknown) => seen.push(v as Variant[]));
    const r = await fetch(new URL('api/commands', base), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'former', command: 'fault', args: { code: 'jam', duration: 2 } }),
    });
    expect(r.status).toBe(200);
    const jam = await waitFor('JAM condition', async () => seen.find((f) => f[1]?.value === 'JAM' && f[5]?.value === true), (v) => v !== undefined, 3000);
    expect(jam![3]?.value.text).toContain('Former');
    expect(jam![4]?.value).toBe(600);
    const ack = await session.call({
      objectId: id('former.Alarms.JAM'), methodId: 'ns=0;i=9111', // AcknowledgeableConditionType.Acknowledge
      inputArguments: [new Variant({ dataType: DataType.ByteString, value: jam![0]!.value }), new Variant({ dataType: DataType.LocalizedText, value: { text: 'seen' } })],
    });
    expect(ack.statusCode.name).toBe('Good');
    expect(((await session.browse(id('former'))).references ?? []).map((r) => r.browseName.name)).toContain('JAM');
    await sleep(500);
    const evs = await events();
    expect(evs.some((e) => e.type === 'command' && e.data.command === 'ack' && e.data.source === 'opcua' && e.station === 'former')).toBe(true);
    expect(evs.some((e) => e.type === 'alarm-ack' && e.station === 'former')).toBe(true);
    await sub.terminate();
  });

  it('lists every station as a Machinery machine with Identification and a MachineryItemState that follows PackML', async () => {
    const nsArray = (await read('ns=0;i=2255')) as string[];
    const ma = nsArray.indexOf('http://opcfoundation.org/UA/Machinery/');
    const di = nsArray.indexOf('http://opcfoundation.org/UA/DI/');
    expect(ma).toBeGreaterThan(0);
    const listed = await session.browse({ nodeId: `ns=${ma};i=1001`, referenceTypeId: 'Organizes', browseDirection: 0, includeSubtypes: true, resultMask: 63 });
    expect(listed.references?.map((r) => r.nodeId.toString()).sort()).toEqual(['belt', 'former', 'out', 'src'].map(id).sort());
    const ident = async (name: string): Promise<unknown> => {
      const r = await session.translateBrowsePath(makeBrowsePath(id('former'), `/${di}:Identification/${di}:${name}`));
      expect(r.statusCode.name, name).toBe('Good');
      return read(r.targets![0]!.targetId.toString());
    };
    expect((await ident('Manufacturer') as { text: string }).text).toBe('Twinline (simulated)');
    expect(await ident('SerialNumber')).toBe('minimal/former');
    expect(await ident('ProductInstanceUri')).toBe('urn:twinline:minimal:former');
    const current = async (): Promise<string> => {
      const r = await session.translateBrowsePath(makeBrowsePath(id('former'), `/${ma}:MachineryItemState/CurrentState`));
      return ((await read(r.targets![0]!.targetId.toString())) as { text: string }).text;
    };
    const packml = async (): Promise<string> => (await read(id('former.PackML.StateName'))) as string;
    // the host passes drained events every 200 ms: compare once both have settled
    const expected = (p: string): string => (p === 'Execute' ? 'Executing' : p === 'Aborting' || p === 'Aborted' ? 'OutOfService' : 'NotExecuting');
    await waitFor('MachineryItemState follows PackML', async () => [await packml(), await current()], ([p, m]) => m === expected(p ?? ''), 3000);
    const stop = await session.call({ objectId: id('former.PackML'), methodId: id('former.PackML.Stop'), inputArguments: [] });
    expect(['Good', 'BadInvalidState']).toContain(stop.statusCode.name);
    await waitFor('NotExecuting after Stop', current, (m) => m === 'NotExecuting' || m === 'OutOfService', 3000);
  });

  it('types each station\'s PackML object as OPC 30050 PackMLBaseObjectType: nested state machines follow it, its methods command the line', async () => {
    const nsArray = (await read('ns=0;i=2255')) as string[];
    const pk = nsArray.indexOf('http://opcfoundation.org/UA/PackML/');
    expect(pk).toBeGreaterThan(0);
    const typeDef = await session.browse({ nodeId: id('former.PackML'), referenceTypeId: 'HasTypeDefinition', browseDirection: 0, resultMask: 63 });
    expect(typeDef.references?.[0]?.nodeId.toString()).toBe(`ns=${pk};i=6`);
    const node = async (rel: string): Promise<string> => {
      const r = await session.translateBrowsePath(makeBrowsePath(id('former.PackML'), rel.split('/').map((n) => `/${pk}:${n}`).join('')));
      expect(r.statusCode.name, rel).toBe('Good');
      return r.targets![0]!.targetId.toString();
    };
    const sm = { base: await node('BaseStateMachine'), machine: await node('BaseStateMachine/MachineState'), execute: await node('BaseStateMachine/MachineState/ExecuteState') };
    const current = async (of: string): Promise<string | null> => {
      const r = await session.translateBrowsePath(makeBrowsePath(of, '/CurrentState'));
      const dv = await session.read({ nodeId: r.targets![0]!.targetId, attributeId: AttributeIds.Value });
      return dv.statusCode.name === 'Good' ? (dv.value.value as { text: string }).text : null;
    };
    const states = async (): Promise<(string | null)[]> => [await current(sm.base), await current(sm.machine), await current(sm.execute)];
    const call = async (of: string, method: string, args: Variant[] = []): Promise<string> =>
      (await session.call({ objectId: of, methodId: await node(method), inputArguments: args })).statusCode.name;
    const noParameters = new Variant({ dataType: DataType.ExtensionObject, arrayType: VariantArrayType.Array, value: [] });
    const packml = (): Promise<unknown> => read(id('former.PackML.State'));
    // Abort (unless a breakdown already did) leaves Cleared: the inner machines are no longer active; Clear ends in Stopped
    if (![8, 9].includes((await packml()) as number)) expect(await call(sm.base, 'BaseStateMachine/Abort')).toBe('Good');
    await waitFor('Aborted', states, (v) => v.join() === 'Aborted,,', 3000);
    // (the alarm test's 2 s jam may still be under repair: Clear waits for it)
    await waitFor('no fault', () => read(id('former.fault')), (v) => v === 0, 5000);
    expect(await call(sm.base, 'BaseStateMachine/Clear')).toBe('Good');
    await waitFor('Cleared/Stopped', states, (v) => v.join() === 'Cleared,Stopped,', 3000);
    expect(await packml()).toBe(2);
    // a command PackML does not allow in Stopped is refused like the object's own method
    expect(await call(sm.execute, 'BaseStateMachine/MachineState/ExecuteState/Start', [noParameters])).toBe('BadInvalidState');
    expect(await call(sm.machine, 'BaseStateMachine/MachineState/Reset')).toBe('Good');
    await waitFor('Running/Idle', states, (v) => v.join() === 'Cleared,Running,Idle', 3000);
    expect(await call(sm.execute, 'BaseStateMachine/MachineState/ExecuteState/Start', [noParameters])).toBe('Good');
    await waitFor('Running/Execute', states, (v) => v.join() === 'Cleared,Running,Execute', 3000);
    // Status: unit mode, speed setpoint [parts/min] from the 500 ms cycle; SetMachSpeed writes the cycle time
    expect(await read(await node('Status/UnitModeCurrent'))).toBe(1);
    expect(await read(await node('Status/MachSpeed'))).toBeCloseTo(120, 3);
    const obj = id('former.PackML');
    expect(await call(obj, 'SetMachSpeed', [new Variant({ dataType: DataType.Float, value: 60 })])).toBe('Good');
    await waitFor('cycleTime 1 s', () => read(id('former.cycleTime')), (v) => Math.abs((v as number) - 1) < 1e-9, 3000);
    const machSpeed = await node('Status/MachSpeed');
    await waitFor('MachSpeed 60', () => read(machSpeed), (v) => Math.abs((v as number) - 60) < 1e-3, 3000);
    expect(await call(obj, 'SetMachSpeed', [new Variant({ dataType: DataType.Float, value: -5 })])).toBe('BadInvalidArgument');
    expect(await call(obj, 'SetParameter', [noParameters])).toBe('BadNotSupported');
    // Admin: production counts as PackMLCountDataType, and the time in the current state
    const processed = async (): Promise<{ name: string; count: number; accCount: number; unit: { displayName: { text: string } } }> =>
      ((await read(await node('Admin/ProdProcessedCount'))) as never[])[0]!;
    const p0 = await processed();
    expect(p0).toMatchObject({ name: 'parts passed on', unit: { displayName: { text: 'pcs' } } });
    const out = (await read(id('former.partsOut'))) as number;
    expect(p0.count).toBeLessThanOrEqual(out);
    expect(p0.count).toBeGreaterThan(0);
    expect(p0.accCount).toBe(p0.count);
    const inState = await node('Admin/StateCurrentTime');
    // grows with wall time while the state holds (the press may suspend and resume meanwhile)
    const growth = async (): Promise<number | null> => {
      const [since0, t0] = [await read(id('former.stateSince')), (await read(inState)) as number];
      await sleep(200);
      const [since1, t1] = [await read(id('former.stateSince')), (await read(inState)) as number];
      return since0 === since1 ? t1 - t0 : null;
    };
    await waitFor('time in state grows', growth, (g) => g !== null && g > 100 && g < 2000);
    // the calls went through the command queue as opcua commands (the host drains events every 200 ms)
    const mine = (e: Ev, command: string): boolean => e.type === 'command' && e.station === 'former' && e.data.command === command && e.data.source === 'opcua';
    const evs = await waitFor('the set command logged', events, (es) => es.some((e) => mine(e, 'set') && String(e.data.args).includes('"cycleTime"')), 3000);
    expect(evs.some((e) => mine(e, 'clear'))).toBe(true);
  });

  it('shuts down cleanly with the OPC UA server on SIGINT', async () => {
    await session.close();
    await client.disconnect();
    proc.kill('SIGINT');
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

describe('twinline serve: OPC UA face (hardened profile)', () => {
  it('refuses None and unknown certificates, then opens sessions only for accounts, naming user and certificate', async () => {
    const run = mkdtempSync(join(tmpdir(), 'twinline-opcua-'));
    const p = spawn(process.execPath, [resolve('bin/twinline.mjs'), 'serve', resolve(SCENARIO), '--http-port', '0', '--opcua-port', '0', '--profile', 'hardened'], { cwd: run });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.stderr.on('data', (d: Buffer) => (text += d.toString()));
    try {
      const url = await waitFor('hardened endpoint', async () => /OPC UA\s+(opc\.tcp:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1], (v) => v !== undefined || p.exitCode !== null, 45_000);
      expect(url, text).toBeDefined();
      expect(text).toMatch(/account "operator" created in .*users\.json; password \(shown once\): \S+/);
      expect(existsSync(join(run, '.twinline', 'opcua', 'pki', 'trusted'))).toBe(true);
      const none = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
      await none.connect(url!); // discovery only: GetEndpoints over None, no session
      const eps = await none.getEndpoints();
      console.log('hardened endpoints:', eps.map((e) => `${e.securityMode} ${(e.securityPolicyUri ?? '').split('#')[1]} ${(e.userIdentityTokens ?? []).map((t) => t.tokenType).join('/')}`).join(', '));
      const sessionEps = eps.filter((e) => (e.userIdentityTokens ?? []).length > 0);
      expect(new Set(sessionEps.map((e) => e.securityMode))).toEqual(new Set([MessageSecurityMode.SignAndEncrypt]));
      expect(sessionEps.map((e) => (e.securityPolicyUri ?? '').split('#')[1]).sort()).toEqual(['Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss', 'Basic256Sha256']);
      for (const e of sessionEps) expect((e.userIdentityTokens ?? []).map((t) => t.tokenType)).not.toContain(UserTokenType.Anonymous);
      await expect(none.createSession()).rejects.toThrow();
      await none.disconnect();
      // a client certificate the server does not know is refused and kept in pki/rejected
      const clientCertificateManager = new OPCUACertificateManager({ rootFolder: join(run, 'client-pki'), automaticallyAcceptUnknownCertificate: true });
      const secure = (): OPCUAClient => OPCUAClient.create({
        endpointMustExist: false, connectionStrategy: { maxRetry: 0 }, clientCertificateManager,
        securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256,
      });
      const first = secure();
      await expect(first.connect(url!)).rejects.toThrow(/BadSecurityChecksFailed/);
      await first.disconnect();
      const rejected = join(run, '.twinline', 'opcua', 'pki', 'rejected');
      const certs = await waitFor('client certificate in pki/rejected', async () => readdirSync(rejected).filter((f) => f.endsWith('.pem') || f.endsWith('.der')), (v) => v.length > 0, 5000)
        .catch((e: Error) => { throw new Error(`${e.message}; pki: ${JSON.stringify(readdirSync(join(run, '.twinline', 'opcua', 'pki'), { recursive: true }))}`); });
      expect(certs.length).toBe(1);
      // the operator trusts it; then only a valid account opens a session
      renameSync(join(rejected, certs[0]!), join(run, '.twinline', 'opcua', 'pki', 'trusted', 'certs', certs[0]!));
      // the server's store notices the move through a file watcher: retry briefly
      let c = secure();
      await waitFor('secure connect after trusting', async () => {
        const ok = await c.connect(url!).then(() => true, async () => {
          await c.disconnect();
          c = secure();
          return false;
        });
        return ok;
      }, (ok) => ok, 10_000);
      await expect(c.createSession()).rejects.toThrow();
      await expect(c.createSession({ type: UserTokenType.UserName, userName: 'operator', password: 'wrong' })).rejects.toThrow();
      const password = /account "operator" created .*password \(shown once\): (\S+)/.exec(text)?.[1] ?? '';
      const viewerPassword = /account "viewer" created .*password \(shown once\): (\S+)/.exec(text)?.[1] ?? '';
      // a viewer may read but not write or call: refused and audited
      const v = await c.createSession({ type: UserTokenType.UserName, userName: 'viewer', password: viewerPassword });
      const vns = ((await v.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[]).indexOf('urn:twinline:minimal');
      expect((await v.read({ nodeId: `ns=${vns};s=former.force`, attributeId: AttributeIds.Value })).statusCode.name).toBe('Good');
      const vw = await v.write({ nodeId: `ns=${vns};s=former.force`, attributeId: AttributeIds.Value, value: { value: new Variant({ dataType: DataType.Double, value: 700 }) } });
      expect(vw.name).toBe('BadUserAccessDenied');
      const vc = await v.call({ objectId: `ns=${vns};s=former.PackML`, methodId: `ns=${vns};s=former.PackML.Stop`, inputArguments: [] });
      expect(vc.statusCode.name).toBe('BadUserAccessDenied');
      await v.close();
      const s = await c.createSession({ type: UserTokenType.UserName, userName: 'operator', password });
      const nsArray = (await s.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
      const k = nsArray.indexOf('urn:twinline:minimal');
      const w = await s.write({ nodeId: `ns=${k};s=former.force`, attributeId: AttributeIds.Value, value: { value: new Variant({ dataType: DataType.Double, value: 850 }) } });
      expect(w.name).toBe('Good');
      const web = /web app\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)?.[1] ?? '';
      await sleep(500);
      const evs = (await fetch(new URL('api/events?limit=2000', web)).then((r) => r.json())) as Ev[];
      const ev = evs.find((e) => e.type === 'command' && e.data.source === 'opcua' && String(e.data.args).includes('850'));
      expect(String(ev?.data.principal)).toMatch(/^operator@ns=1;.*#[0-9a-f]{40}$/);
      // the refusals are in the log as audit events: anonymous and bad-password sessions, the viewer's write and call
      const audits = evs.filter((e) => e.type === "audit" && e.data.source === "opcua");
      const of = (action: string, outcome: string): Ev[] => audits.filter((e) => e.data.action === action && e.data.outcome === outcome);
      expect(of('login', 'denied').some((e) => String(e.data.principal).startsWith('operator@'))).toBe(true);
      expect(of('session', 'denied').find((e) => String(e.data.principal).startsWith('operator@127.0.0.1:'))?.data.reason).toBe('BadUserAccessDenied');
      expect(of('session', 'allowed').some((e) => String(e.data.principal).startsWith('viewer@'))).toBe(true);
      expect(of('write', 'denied').find((e) => e.data.target === 'former.force')?.data.reason).toContain('viewer role');
      expect(of('call', 'denied').find((e) => e.data.target === 'former.PackML.Stop')).toBeDefined();
      expect(of('channel', 'denied').find((e) => String(e.data.reason).includes('client certificate refused'))?.data.principal).toMatch(/^\?#[0-9a-f]{40}$/);
      expect(evs.some((e) => e.type === 'command' && String(e.data.args).includes('700'))).toBe(false);
      await s.close();
      await c.disconnect();
    } finally {
      if (p.exitCode === null) {
        p.kill('SIGINT');
        await once(p, 'exit');
      }
      rmSync(run, { recursive: true, force: true });
    }
  }, 60_000);
});
