// The OPC UA face's value sampler with a real node-opcua server and client over loopback: the
// line's address space over an in-process world that the test writes into, so every change
// is known and the sampler's passes can be run by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds, ClientMonitoredItem, ClientSubscription, DataChangeFilter, DataChangeTrigger, DeadbandType, MonitoredItem, OPCUACertificateManager, OPCUAClient, OPCUAServer, TimestampsToReturn, nodesets,
  type ClientSession,
} from 'node-opcua';
import type { World } from '../../sim/core/world.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { buildLine, MIN_SAMPLING_MS } from '../../sim/protocols/opcua/address-space.ts';
import { installOnChangeDelivery, ValueSampler } from '../../sim/protocols/opcua/sampler.ts';
import { profileSetup } from '../../sim/protocols/opcua/security.ts';
import { AccountStore } from '../../sim/host/accounts.ts';

const SCENARIO = 'test/fixtures/scenarios/minimal.yaml';
const NS_URI = 'urn:twinline:sampler-test';
let runDir = '';
let world: World;
let former = -1;
let server: OPCUAServer;
let sampler: ValueSampler;
let client: OPCUAClient;
let session: ClientSession;
let ns = 0;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const id = (s: string): string => `ns=${ns};s=${s}`;

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not after ${ms} ms`);
    await sleep(5);
  }
}

/** Writes a field as the simulation worker would: inside a write batch. */
function put(field: string, value: number): void {
  world.beginWrite();
  world.write(former, field, value);
  world.endWrite();
}

async function subscription(): Promise<ClientSubscription> {
  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 200, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
  });
  await new Promise<void>((r) => sub.once('started', () => r()));
  return sub;
}

async function monitor(sub: ClientSubscription, tag: string, samplingInterval: number, values: unknown[]): Promise<ClientMonitoredItem> {
  const item = ClientMonitoredItem.create(sub, { nodeId: tag.startsWith('ns=') ? tag : id(tag), attributeId: AttributeIds.Value },
    { samplingInterval, queueSize: 100, discardOldest: true }, TimestampsToReturn.Both);
  item.on('changed', (dv) => values.push(dv.value.value));
  // create() returns at once; the revised parameters are known once the server has answered
  await new Promise<void>((resolve, reject) => {
    item.once('initialized', () => resolve());
    item.once('err', (e: string) => reject(new Error(e)));
  });
  return item;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const addr = probe.address();
  await new Promise<void>((r) => probe.close(() => r()));
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

beforeAll(async () => {
  const spec = parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO);
  world = createWorld(spec);
  former = world.indexOf('former');
  runDir = mkdtempSync(join(tmpdir(), 'twinline-sampler-'));
  const profile = await profileSetup({ profile: 'open', runDir, accounts: AccountStore.fromClear([]) });
  installOnChangeDelivery();
  MonitoredItem.minimumSamplingInterval = MIN_SAMPLING_MS;
  server = new OPCUAServer({
    ...profile.options, port: await freePort(), host: '127.0.0.1', hostname: '127.0.0.1', nodeset_filename: [nodesets.standard],
    serverInfo: { applicationUri: 'urn:twinline:server' },
    serverCapabilities: { ...(profile.options.serverCapabilities ?? {}), minSupportedSampleRate: MIN_SAMPLING_MS },
  });
  await server.initialize();
  const space = server.engine.addressSpace!.registerNamespace(NS_URI);
  // the passes run by hand unless a test starts the timer
  sampler = new ValueSampler(world, MIN_SAMPLING_MS);
  const nodes = buildLine(space, spec, {
    reader: world, sampler, send: () => Promise.resolve({ ok: false, code: 'NOT_ALLOWED', reason: 'read-only test line' }),
    authorize: () => true, roleOf: () => 'operator', refuse: () => undefined, routed: { writes: new Set(), calls: new Set() },
  });
  // every station's variables now, so the sampler holds them all from the start
  nodes.subtrees.buildAll();
  await server.start();
  // a client PKI of the test's own, not node-opcua's per-machine default folder
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: join(runDir, 'client-pki'), automaticallyAcceptUnknownCertificate: true });
  client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 2, initialDelay: 100 }, clientCertificateManager });
  await client.connect(`opc.tcp://127.0.0.1:${server.endpoints[0]!.port}`);
  session = await client.createSession();
  const nsArray = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
  ns = nsArray.indexOf(NS_URI);
}, 60_000);

afterAll(async () => {
  sampler?.stop();
  await session?.close().catch(() => undefined);
  await client?.disconnect().catch(() => undefined);
  await server?.shutdown(0);
  if (runDir !== '') rmSync(runDir, { recursive: true, force: true });
});

describe('OPC UA value sampler', () => {
  it('registers every station variable and reads only those with a monitored item', async () => {
    expect(sampler.size).toBeGreaterThan(100);
    expect(sampler.watching).toBe(0);
    const sub = await subscription();
    const values: unknown[] = [];
    await monitor(sub, 'former.force', 100, values);
    await monitor(sub, 'former.PackML.StateName', 100, []);
    await until('two variables watched', () => sampler.watching === 2);
    await sub.terminate();
    await until('none watched after the subscription is gone', () => sampler.watching === 0);
  });

  it('pushes a value only when it changed (an unchanged NaN included)', async () => {
    const sub = await subscription();
    const values: unknown[] = [];
    await monitor(sub, 'former.force', 10, values);
    await until('initial value', () => values.length === 1);
    const p0 = sampler.pushed;
    sampler.tick();
    expect(sampler.pushed).toBe(p0);
    put('force', 777);
    // node-opcua does not poll the item itself: nothing arrives until a sampler pass
    await sleep(80);
    expect(values.length).toBe(1);
    sampler.tick();
    sampler.tick();
    expect(sampler.pushed).toBe(p0 + 1);
    // a 10 ms item: the next push is due one sampler period later
    await sleep(15);
    put('force', NaN);
    sampler.tick();
    sampler.tick();
    expect(sampler.pushed).toBe(p0 + 2);
    await until('both changes delivered', () => values.length === 3);
    expect(values[1]).toBe(777);
    expect(Number.isNaN(values[2])).toBe(true);
    put('force', 800);
    await sub.terminate();
  });

  it('delivers every change to a 10 ms item and the latest, at most one per 100 ms, to a 100 ms item', async () => {
    const sub = await subscription();
    const fast: unknown[] = [];
    const slow: unknown[] = [];
    const a = await monitor(sub, 'former.force', 10, fast);
    const b = await monitor(sub, 'former.force', 100, slow);
    expect(a.monitoringParameters.samplingInterval).toBe(10);
    expect(b.monitoringParameters.samplingInterval).toBe(100);
    // the first read of an item may also reach the other through the getter: one or two initial values
    await until('initial values', () => fast.length >= 1 && slow.length >= 1);
    await sleep(150);
    const [f0, s0] = [fast.length, slow.length];
    sampler.start();
    const N = 30;
    const t0 = performance.now();
    for (let k = 1; k <= N; k++) {
      put('force', 1000 + k);
      await sleep(30);
    }
    const wallMs = performance.now() - t0;
    await until('the last value at both items', () => fast.at(-1) === 1000 + N && slow.at(-1) === 1000 + N);
    sampler.stop();
    await sub.terminate();
    expect(fast.slice(f0)).toEqual(Array.from({ length: N }, (_, k) => 1001 + k));
    const got = slow.slice(s0) as number[];
    expect(got.length).toBeLessThanOrEqual(Math.ceil(wallMs / 100) + 2);
    // and more than the last value alone (how many more is the timer's pace on this machine, not asserted)
    expect(got.length).toBeGreaterThanOrEqual(3);
    for (let k = 1; k < got.length; k++) expect(got[k]!).toBeGreaterThan(got[k - 1]!);
  });

  it('pushes a variable watched at 100 ms at most once per 100 ms, and then the latest value', async () => {
    const sub = await subscription();
    const values: unknown[] = [];
    await monitor(sub, 'former.energy', 100, values);
    await until('initial value', () => values.length >= 1);
    const p0 = sampler.pushed;
    sampler.start();
    const t0 = performance.now();
    for (let k = 1; k <= 50; k++) {
      put('energy', k);
      await sleep(10);
    }
    const wallMs = performance.now() - t0;
    await until('the latest value', () => values.at(-1) === 50);
    sampler.stop();
    await sub.terminate();
    const pushes = sampler.pushed - p0;
    expect(pushes).toBeLessThanOrEqual(Math.ceil(wallMs / 100) + 2);
    // pushed while the value changed, not only once at the end (a busy machine's timer fires late: how often is not asserted)
    expect(pushes).toBeGreaterThanOrEqual(3);
  });

  it('refuses a value the DataType cannot carry without stopping the other pushes', async () => {
    const sub = await subscription();
    const strokes: unknown[] = [];
    const force: unknown[] = [];
    await monitor(sub, 'former.strokes', 10, strokes); // Int32
    await monitor(sub, 'former.force', 10, force);
    await until('initial values', () => strokes.length >= 1 && force.length >= 1);
    await sleep(20);
    const r0 = sampler.refused;
    put('strokes', NaN);
    put('force', 4321);
    sampler.tick();
    expect(sampler.refused).toBe(r0 + 1);
    await until('the other change delivered', () => force.at(-1) === 4321);
    put('strokes', 0);
    await sub.terminate();
  });

  it('keeps serving an item on change after the client changes its sampling interval', async () => {
    const sub = await subscription();
    const values: unknown[] = [];
    const item = await monitor(sub, 'former.force', 100, values);
    await until('initial value', () => values.length >= 1);
    const r = await item.modify({ samplingInterval: 10, queueSize: 100 });
    expect(r.revisedSamplingInterval).toBe(10);
    await sleep(50);
    expect(sampler.watching).toBe(1);
    const v0 = values.length;
    put('force', 555);
    await sleep(50);
    expect(values.length).toBe(v0);
    sampler.tick();
    await until('the change after modify', () => values.at(-1) === 555);
    await sub.terminate();
  });

  it('revises a requested 0 to the sampler period and keeps other intervals', async () => {
    const sub = await subscription();
    const items = await Promise.all([0, 10, 250].map((ms) => monitor(sub, 'former.energy', ms, [])));
    expect(items.map((i) => i.monitoringParameters.samplingInterval)).toEqual([MIN_SAMPLING_MS, 10, 250]);
    await sub.terminate();
  });

  it('sends a new item the value once, though it changed while nobody watched the variable', async () => {
    // the variable's cached value is read once, then the field moves on with nobody watching
    const read = async (): Promise<unknown> => (await session.read({ nodeId: id('former.recipeForce'), attributeId: AttributeIds.Value })).value.value;
    put('recipeForce', 10);
    expect(await read()).toBe(10);
    put('recipeForce', 20);
    const sub = await subscription();
    // as node-red-contrib-opcua monitors: a data change filter on status and value, absolute deadband 0
    const values: unknown[] = [];
    const item = ClientMonitoredItem.create(sub, { nodeId: id('former.recipeForce'), attributeId: AttributeIds.Value },
      { samplingInterval: 100, queueSize: 10, discardOldest: true, filter: new DataChangeFilter({ trigger: DataChangeTrigger.StatusValue, deadbandType: DeadbandType.Absolute, deadbandValue: 0 }) },
      TimestampsToReturn.Both);
    item.on('changed', (dv) => values.push(dv.value.value));
    await until('initial value', () => values.length >= 1);
    // a second notification would come with the same publish or the next (50 ms)
    await sleep(300);
    await sub.terminate();
    expect(values).toEqual([20]);
  });

  it('answers reads with the live value, monitored or not', async () => {
    const read = async (tag: string): Promise<unknown> => (await session.read({ nodeId: id(tag), attributeId: AttributeIds.Value })).value.value;
    put('force', 1234.5);
    expect(await read('former.force')).toBe(1234.5);
    put('state', 6);
    expect(await read('former.PackML.StateName')).toBe('Execute');
    put('state', 2);
    expect(await read('former.PackML.StateName')).toBe('Stopped');
    expect(await read('former.PackML.State')).toBe(2);
  });

  it('leaves variables of the standard address space sampled by node-opcua', async () => {
    const sub = await subscription();
    const times: unknown[] = [];
    const item = await monitor(sub, 'ns=0;i=2258', 100, times); // Server_ServerStatus_CurrentTime, a getter
    const revised = item.monitoringParameters.samplingInterval;
    await sleep(Math.max(700, 3.5 * revised));
    await sub.terminate();
    expect(times.length, `CurrentTime sampled at ${revised} ms`).toBeGreaterThanOrEqual(3);
  });
});
