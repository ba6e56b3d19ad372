/**
 * The gateway kit against the real thing: every node an exported configuration names is read
 * from the real OPC UA server of `twinline serve`, and `twinline gateway check` (the real CLI)
 * measures a deliberately lossy relay — a gateway account on the embedded broker that drops,
 * delays, duplicates and corrupts what it forwards, and leaves one tag out — and must report
 * what the relay did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeIds, BrowseDirection, DataType, OPCUAClient, TimestampsToReturn, makeBrowsePath, type ClientSession, type ClientSubscription } from 'node-opcua';
import { HISTORY_LIMITS, OPERATION_LIMITS } from '../../sim/protocols/opcua/server.ts';
import { MIN_SAMPLING_MS } from '../../sim/protocols/opcua/address-space.ts';
import { parse as parseToml } from 'smol-toml';
import { AccountStore } from '../../sim/host/accounts.ts';
import { startServer, type Served } from '../../sim/host/serve.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { LINE_NAMESPACE_INDEX, lineCatalog } from '../../sim/gateway/catalog.ts';
import type { CheckReport } from '../../sim/gateway/check.ts';
import { recorder, type Recorder } from './brokers.ts';
import { own, scaled } from '../proc.ts';

const SCENARIO = 'scenarios/ceramic-after.yaml';
const catalog = lineCatalog(parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO));
const quiet = (): void => undefined;

/** Runs the CLI; resolves with its exit code and output. `onErr` sees stderr as it comes. */
function cli(args: string[], onErr: (text: string) => void = quiet): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    // owned: killed with its group if the test fails or times out before it ends
    const p = own(process.execPath, ['bin/twinline.mjs', ...args]);
    p.proc.stderr.on('data', () => onErr(p.stderr()));
    void p.exited.then((code) => resolve({ code, out: p.stdout(), err: p.stderr() }));
  });
}

describe('gateway export: every node it names exists on the real server', () => {
  let served: Served;
  let dir: string;
  let client: OPCUAClient;
  let session: ClientSession;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinline-gw-ua-'));
    served = await startServer({
      file: SCENARIO, httpPort: 0, explicitPort: false, host: '127.0.0.1', speed: 1, log: quiet,
      profile: 'open', home: dir, opcua: { port: 0, explicitPort: true },
    });
    client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 2, initialDelay: 100 } });
    await client.connect(served.opcua!);
    session = await client.createSession();
  }, 60_000);
  afterAll(async () => {
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads every node; returns the node ids that failed or carry the wrong data type. */
  async function bad(nodeIds: string[]): Promise<string[]> {
    const dvs = await session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
    const want = new Map(catalog.tags.map((t) => [t.nodeId, DataType[t.dataType as 'Double']]));
    return nodeIds.filter((id, k) => {
      const dv = dvs[k]!;
      const key = /;s=(.+)$/.exec(id)?.[1] ?? '';
      return dv.statusCode.name !== 'Good' || dv.value.dataType !== want.get(key);
    });
  }

  it('the line\'s namespace has the index the exports use', async () => {
    const ns = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
    expect(ns[LINE_NAMESPACE_INDEX]).toBe(catalog.namespaceUri);
  });

  it('node-red, telegraf and opc-publisher name every tag, and each reads Good with its data type', async () => {
    const endpoint = ['--endpoint', served.opcua!, '--profile', 'open'];
    const nr = await cli(['gateway', 'export', '--format', 'node-red', SCENARIO, ...endpoint]);
    expect(nr.code, nr.err).toBe(0);
    const flow = JSON.parse(nr.out) as { type: string; func?: string; endpoint?: string }[];
    expect(flow.find((n) => n.type === 'OpcUa-Endpoint')?.endpoint).toBe(served.opcua);
    const nrIds = [...(flow.find((n) => n.func?.includes('const items'))?.func ?? '').matchAll(/"topic":"(ns=\d+;s=[^"]+)"/g)].map((m) => m[1]!);

    const tg = await cli(['gateway', 'export', '--format', 'telegraf', SCENARIO, ...endpoint]);
    expect(tg.code, tg.err).toBe(0);
    const toml = parseToml(tg.out) as { inputs: { opcua_listener: { group: { namespace: string; identifier_type: string; nodes: { identifier: string }[] }[] }[] } };
    const tgIds = toml.inputs.opcua_listener[0]!.group.flatMap((g) => g.nodes.map((n) => `ns=${g.namespace};${g.identifier_type}=${n.identifier}`));

    const pn = await cli(['gateway', 'export', '--format', 'opc-publisher', SCENARIO, ...endpoint]);
    expect(pn.code, pn.err).toBe(0);
    const nsArray = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
    const pnIds = (JSON.parse(pn.out) as { OpcNodes: { Id: string }[] }[]).flatMap((w) => w.OpcNodes.map((n) => {
      const m = /^nsu=([^;]+);(.*)$/.exec(n.Id);
      return `ns=${nsArray.indexOf(m?.[1] ?? '')};${m?.[2] ?? ''}`;
    }));

    for (const ids of [nrIds, tgIds, pnIds]) {
      expect(ids.length).toBe(catalog.tags.length);
      expect(await bad(ids)).toEqual([]);
    }
  }, 60_000);

  it('every EURange a gateway reads is a Range with a type and a body (PackML speeds included)', async () => {
    const ns = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
    const pk = ns.indexOf('http://opcfoundation.org/UA/PackML/');
    expect(pk).toBeGreaterThan(0);
    const ranged = catalog.tags.filter((t) => t.dataType === 'Double' && t.min !== null && t.max !== null && t.max > t.min).map((t) => `ns=${LINE_NAMESPACE_INDEX};s=${t.nodeId}`);
    const packml = ['kiln', 'former', 'glazer', 'dryer', 'pack'].flatMap((st) => ['MachSpeed', 'CurMachSpeed'].map((v) => ({ st, path: `/${pk}:Status/${pk}:${v}.EURange` })));
    const paths = [
      ...ranged.map((id) => makeBrowsePath(id, '.EURange')),
      ...packml.map((p) => makeBrowsePath(`ns=${LINE_NAMESPACE_INDEX};s=${p.st}.PackML`, p.path)),
    ];
    const found = await session.translateBrowsePath(paths);
    const ids = found.map((r, k) => {
      expect(r.statusCode.name, String(k < ranged.length ? ranged[k] : packml[k - ranged.length]?.st)).toBe('Good');
      return r.targets![0]!.targetId;
    });
    expect(ranged.length).toBeGreaterThan(50);
    const dvs = await session.read(ids.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
    dvs.forEach((dv, k) => {
      const what = k < ranged.length ? ranged[k] : `${packml[k - ranged.length]?.st}${packml[k - ranged.length]?.path}`;
      expect(dv.statusCode.name, what).toBe('Good');
      expect(dv.value.dataType, what).toBe(DataType.ExtensionObject);
      // an empty ExtensionObject (type i=0, no body) decodes to null; a Range to its fields
      const r = dv.value.value as { schema?: { name: string }; low: number; high: number } | null;
      expect(r?.schema?.name, what).toBe('Range');
      expect(Number.isFinite(r!.low) && Number.isFinite(r!.high) && r!.high > r!.low, `${what}: ${JSON.stringify(r)}`).toBe(true);
    });
  }, 60_000);

  it('server capabilities say what the server does: 10 ms sampling granted, operation limits enforced', async () => {
    const rate = await session.read({ nodeId: 'ns=0;i=2272', attributeId: AttributeIds.Value });
    expect(rate.value.value).toBe(MIN_SAMPLING_MS);
    const sub = await session.createSubscription2({ requestedPublishingInterval: 100, publishingEnabled: true, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 100 });
    const item = await (sub as ClientSubscription).monitor({ nodeId: `ns=${LINE_NAMESPACE_INDEX};s=kiln.t4`, attributeId: AttributeIds.Value }, { samplingInterval: MIN_SAMPLING_MS, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    expect(item.monitoringParameters.samplingInterval).toBe(MIN_SAMPLING_MS);
    await sub.terminate();
    const limits = await session.browse({ nodeId: 'ns=0;i=11704', browseDirection: BrowseDirection.Forward, resultMask: 63 });
    const exposed = (limits.references ?? []).filter((r) => r.browseName.name?.startsWith('Max')).map((r) => r.browseName.name!);
    const upper = (k: string): string => k[0]!.toUpperCase() + k.slice(1);
    // the host runs a historian (the default), so history's limits are advertised too
    expect(exposed.sort()).toEqual(Object.entries({ ...OPERATION_LIMITS, ...HISTORY_LIMITS }).filter(([, v]) => v > 0).map(([k]) => upper(k)).sort());
    const perRead = await session.read({ nodeId: (limits.references ?? []).find((r) => r.browseName.name === 'MaxNodesPerRead')!.nodeId, attributeId: AttributeIds.Value });
    expect(perRead.value.value).toBe(OPERATION_LIMITS.maxNodesPerRead);
    // one more than advertised is refused, as advertised
    const tooMany = Array.from({ length: OPERATION_LIMITS.maxNodesPerRead + 1 }, () => ({ nodeId: 'ns=0;i=2272', attributeId: AttributeIds.Value }));
    await expect(session.read(tooMany)).rejects.toThrow(/BadTooManyOperations/);
    const atLimit = await session.read(tooMany.slice(1));
    expect(atLimit.length).toBe(OPERATION_LIMITS.maxNodesPerRead);
  }, 60_000);

  it('a station without the PackML companion has a Control object, not one posing as the companion', async () => {
    const names = async (id: string): Promise<string[]> => ((await session.browse(id)).references ?? []).map((r) => r.browseName.name ?? '');
    const conveyor = await names(`ns=${LINE_NAMESPACE_INDEX};s=c1`);
    expect(conveyor).toContain('Control');
    expect(conveyor).not.toContain('PackML');
    const kiln = await names(`ns=${LINE_NAMESPACE_INDEX};s=kiln`);
    expect(kiln).toContain('PackML');
    expect(kiln).not.toContain('Control');
  });

  it('bad usage names the problem and exits 2', async () => {
    const r = await cli(['gateway', 'export', '--format', 'kepware']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--format kepware is not one of node-red, telegraf, opc-publisher');
    const c = await cli(['gateway', 'check', '--source', 'gw/#/x', '--for', '1s']);
    expect(c.code).toBe(2);
    expect(c.err).toContain('"#" must be a whole last level');
    const d = await cli(['gateway', 'check', '--source', 'gw/#', '--for', 'soon']);
    expect(d.err).toContain('--for soon is not a duration');
  }, 30_000);
});

/** A small seeded PRNG (mulberry32): the relay's choices repeat run after run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('gateway check against a lossy relay on the embedded broker', () => {
  const GATEWAY = { user: 'gw', password: 'gw-secret-1', role: 'gateway' as const };
  const VIEWER = { user: 'check', password: 'check-secret-1', role: 'viewer' as const };
  const LEFT_OUT = catalog.tags.find((t) => t.key === 'kiln.energy');
  let served: Served;
  let dir: string;
  let relay: Recorder;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinline-gw-mqtt-'));
    served = await startServer({
      file: SCENARIO, httpPort: 0, explicitPort: false, host: '127.0.0.1', speed: 2, log: quiet,
      home: dir, accounts: AccountStore.fromClear([GATEWAY, VIEWER]),
      mqtt: { encoding: 'uns', embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false } },
    });
  }, 30_000);
  afterAll(async () => {
    await relay?.close();
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the loss, latency, duplicates, value errors and the missing tag the relay caused', async () => {
    expect(LEFT_OUT, 'the kiln publishes its energy').toBeDefined();
    const broker = served.mqtt!.url;
    const prefix = served.mqtt!.prefix;
    const truth = new Set(catalog.tags.map((t) => t.unsTopic));
    const rnd = prng(20261122);
    const n = { echoes: 0, changes: 0, dropped: 0, delayed: 0, duplicated: 0, corrupted: 0, other: 0 };
    let counting = false;
    // when each corrupted value was sent and what it was, and when the check's window closed
    const corrupted: { at: number; level: string; value: number }[] = [];
    // every numeric value the twin published, per tag, as the relay heard it
    const heard = new Map<string, { at: number; v: number }[]>();
    let overAt = Infinity;
    let started: () => void = quiet;
    const checking = new Promise<void>((r) => (started = r));
    const run = cli(['gateway', 'check', SCENARIO, '--source', 'gw/relay/#', '--for', '10s', '--broker', broker, '--user', VIEWER.user, '--password', VIEWER.password, '--json'], (err) => {
      if (err.includes('checking ')) started();
      // what the relay does after the window is not judged
      if (err.includes('window over')) {
        counting = false;
        overAt = Math.min(overAt, Date.now());
      }
    });
    await checking;
    relay = await recorder(broker, { username: GATEWAY.user, password: GATEWAY.password });
    const forward = (topic: string, payload: string): void => void relay.client.publish(topic, payload, { qos: 1 });
    // a broker may hand a subscriber the same message twice around the moment it subscribes
    // (once retained, once live): a real duplicate the relay passes on, counted here
    const last = new Map<string, string>();
    const pass = (topic: string, payload: string): void => {
      if (last.get(topic) === payload) n.echoes++;
      last.set(topic, payload);
      forward(topic, payload);
    };
    relay.client.on('message', (topic, payload, packet) => {
      const level = topic.slice(prefix.length + 1);
      const out = `gw/relay/${level}`;
      const v: unknown = (JSON.parse(payload.toString()) as { v: unknown }).v;
      if (typeof v === 'number') {
        const h = heard.get(level) ?? [];
        h.push({ at: Date.now(), v });
        heard.set(level, h);
      }
      if (topic === LEFT_OUT!.unsTopic) return;
      if (!truth.has(topic)) {
        n.other++; // nothing else is published under the prefix: every topic is a tag of the catalog
        return forward(out, JSON.stringify({ value: v }));
      }
      if (packet.retain || !counting) return pass(out, JSON.stringify({ value: v }));
      n.changes++;
      const r = rnd();
      if (r < 0.05) n.dropped++;
      else if (r < 0.15) {
        n.delayed++;
        setTimeout(() => forward(out, JSON.stringify({ value: v })), 250);
      } else if (r < 0.16 && typeof v === 'number') {
        n.corrupted++;
        corrupted.push({ at: Date.now(), level, value: v * 1.5 + 1000 });
        forward(out, JSON.stringify({ value: v * 1.5 + 1000 }));
      } else if (r < 0.17) {
        n.duplicated++;
        forward(out, JSON.stringify({ value: v }));
        forward(out, JSON.stringify({ value: v }));
      } else pass(out, JSON.stringify({ value: v }));
    });
    counting = true;
    await relay.client.subscribeAsync(`${prefix}/+/+`, { qos: 1 });
    const res = await run;
    const r = JSON.parse(res.out) as CheckReport & { source: string };
    console.log(`relay: ${JSON.stringify(n)}; check: loss ${(100 * r.changes.lossRate).toFixed(2)} % (${r.changes.missed}/${r.changes.missed + r.changes.delivered}), ` +
      `latency p50 ${r.latencyMs.p50.toFixed(1)} p99 ${r.latencyMs.p99.toFixed(1)} ms, ooo ${r.outOfOrder}, dup ${r.duplicates}, value errors ${r.valueErrors}, unknown ${r.messages.unattributed}; ${r.problems.join('; ')}`);
    expect(res.code, res.err).toBe(3); // problems found
    expect(n.changes).toBeGreaterThan(300);
    expect(n.other).toBe(0);
    // the tag left out is the one never delivered although it changed
    expect(r.tags.missing).toBe(1);
    expect(r.neverDelivered.flatMap((g) => g.changed)).toEqual(['kiln.energy']);
    expect(r.tags.coverage).toBeGreaterThan(0.9);
    // loss: dropped and corrupted changes never arrive as the twin's value; a float change the
    // standing value lies within the deadband of counts as carried (a gateway with its own
    // deadband need not re-send it), so the check finds some of them, never more (within four
    // standard errors and half a point for the window's edges)
    const given = (n.dropped + n.corrupted) / n.changes;
    const tolerance = 4 * Math.sqrt((given * (1 - given)) / n.changes) + 0.005;
    expect(r.changes.missed).toBeGreaterThan(0);
    expect(r.changes.lossRate).toBeLessThan(given + tolerance);
    // latency: most go straight through; the 10 % held back for 250 ms set the p99
    expect(r.latencyMs.p50).toBeLessThan(50);
    expect(r.latencyMs.p99).toBeGreaterThan(230);
    expect(r.latencyMs.p99).toBeLessThan(700);
    // an old integer or string after a newer one is out of order (a float on its way is not)
    expect(r.outOfOrder).toBeGreaterThan(0);
    expect(r.outOfOrder).toBeLessThanOrEqual(n.delayed);
    // the relay's re-sends are duplicates; an echo of a retained value is one only when the
    // twin did not re-publish the same value in between (it does, at the moment it subscribes)
    expect(r.duplicates).toBeGreaterThanOrEqual(n.duplicated - 1);
    expect(r.duplicates).toBeLessThanOrEqual(n.duplicated + n.echoes + 3);
    // value errors: every one the check shows is a value the relay corrupted (no false error),
    // never more than it corrupted. It finds the others but two kinds: a value on a rising
    // counter that the twin itself passes within the check's catch-up time (a gateway reading
    // ahead of the twin's stream looks the same: README, gateway check), and one sent in the
    // window's last moment, which reaches the check after it closed on a busy machine
    const sent = new Set(corrupted.map((c) => String(c.value)));
    for (const g of r.valueErrorsByTag) for (const x of g.worst) expect(sent.has(String(x.delivered)), `${g.tag} ${String(x.delivered)}`).toBe(true);
    expect(r.valueErrors).toBeLessThanOrEqual(n.corrupted + 1);
    const passedLater = (c: (typeof corrupted)[number]): boolean => {
      const h = (heard.get(c.level) ?? []).filter((x) => x.at >= c.at - scaled(200) && x.at <= c.at + 5000 + scaled(1000));
      return h.some((x, k) => k > 0 && Math.min(x.v, h[k - 1]!.v) <= c.value && c.value <= Math.max(x.v, h[k - 1]!.v));
    };
    const judged = corrupted.filter((c) => c.at < overAt - scaled(1000) && !passedLater(c));
    const detectable = judged.length;
    // what to look at should the check find fewer than it should (seen once on a loaded machine)
    const found = r.valueErrorsByTag.flatMap((g) => g.worst.map((x) => `${g.tag} ${String(x.delivered)}`));
    const why = `detectable ${judged.map((c) => `${c.level} ${c.value} ${overAt - c.at} ms before the window closed`).join('; ')}; found ${found.join('; ')}`;
    expect(r.valueErrors, why).toBeGreaterThanOrEqual(detectable - 1);
    expect(detectable).toBeGreaterThan(0);
    expect(r.messages.unattributed).toBe(0);
  }, 60_000);
});
