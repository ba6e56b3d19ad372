/**
 * The gateway kit against the real thing: every node an exported configuration names is read
 * from the real OPC UA server of `twinline serve`, and `twinline gateway check` (the real CLI)
 * measures a deliberately lossy relay — a gateway account on the embedded broker that drops,
 * delays, duplicates and corrupts what it forwards, and leaves one tag out — and must report
 * what the relay did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeIds, DataType, OPCUAClient, type ClientSession } from 'node-opcua';
import { parse as parseToml } from 'smol-toml';
import { startServer, type Served } from '../../sim/host/serve.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { LINE_NAMESPACE_INDEX, lineCatalog } from '../../sim/gateway/catalog.ts';
import type { CheckReport } from '../../sim/gateway/check.ts';
import { recorder, type Recorder } from './brokers.ts';

const SCENARIO = 'scenarios/ceramic-after.yaml';
const catalog = lineCatalog(parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO));
const quiet = (): void => undefined;

/** Runs the CLI; resolves with its exit code and output. `onErr` sees stderr as it comes. */
function cli(args: string[], onErr: (text: string) => void = quiet): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/twinline.mjs', ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      onErr(err);
    });
    p.on('close', (code) => resolve({ code, out, err }));
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
      opcua: { port: 0, explicitPort: true, profile: 'open', runDir: dir },
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
    const want = new Map(catalog.tags.map((t) => [t.key, DataType[t.dataType as 'Double']]));
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
  const LEFT_OUT = catalog.tags.find((t) => t.key === 'kiln.energy');
  let served: Served;
  let dir: string;
  let relay: Recorder;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinline-gw-mqtt-'));
    served = await startServer({
      file: SCENARIO, httpPort: 0, explicitPort: false, host: '127.0.0.1', speed: 2, log: quiet,
      mqtt: { encoding: 'uns', embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false, runDir: dir, accounts: [GATEWAY] } },
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
    const n = { echoes: 0, changes: 0, dropped: 0, delayed: 0, duplicated: 0, corrupted: 0, states: 0 };
    let counting = false;
    let started: () => void = quiet;
    const checking = new Promise<void>((r) => (started = r));
    const run = cli(['gateway', 'check', SCENARIO, '--source', 'gw/relay/#', '--for', '10s', '--broker', broker, '--json'], (err) => {
      if (err.includes('checking ')) started();
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
      if (topic === LEFT_OUT!.unsTopic) return;
      if (!truth.has(topic)) {
        n.states++; // State names no tag of the catalog: unknown to the check
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
    counting = false;
    const r = JSON.parse(res.out) as CheckReport & { source: string };
    console.log(`relay: ${JSON.stringify(n)}; check: loss ${(100 * r.changes.lossRate).toFixed(2)} % (${r.changes.missed}/${r.changes.missed + r.changes.delivered}), ` +
      `latency p50 ${r.latencyMs.p50.toFixed(1)} p99 ${r.latencyMs.p99.toFixed(1)} ms, ooo ${r.outOfOrder}, dup ${r.duplicates}, value errors ${r.valueErrors}, unknown ${r.messages.unattributed}`);
    expect(res.code, res.err).toBe(3); // problems found
    expect(n.changes).toBeGreaterThan(300);
    // the tag left out is the one missing; everything else that changed was delivered
    expect(r.tags.missing).toBe(1);
    expect(r.examples.missing).toEqual(['kiln.energy']);
    expect(r.tags.coverage).toBeGreaterThan(0.9);
    // loss: dropped and corrupted changes never arrive as the twin's value
    // (the check leaves out changes still in flight at its end, so it sees a sample of the relay's
    // decisions: within three standard errors of the rate the relay applied)
    const given = (n.dropped + n.corrupted) / n.changes;
    const tolerance = 3 * Math.sqrt((given * (1 - given)) / n.changes);
    expect(Math.abs(r.changes.lossRate - given)).toBeLessThan(tolerance);
    // latency: most go straight through; the 10 % held back for 250 ms set the p99
    expect(r.latencyMs.p50).toBeLessThan(50);
    expect(r.latencyMs.p99).toBeGreaterThan(230);
    expect(r.latencyMs.p99).toBeLessThan(450);
    expect(r.outOfOrder).toBeGreaterThan(0);
    expect(r.outOfOrder).toBeLessThanOrEqual(n.delayed);
    expect(Math.abs(r.duplicates - n.duplicated - n.echoes)).toBeLessThanOrEqual(3);
    expect(Math.abs(r.valueErrors - n.corrupted)).toBeLessThanOrEqual(2);
    expect(r.messages.unattributed).toBeGreaterThanOrEqual(n.states - 5);
    expect(r.messages.unattributed).toBeLessThanOrEqual(n.states);
  }, 60_000);
});
