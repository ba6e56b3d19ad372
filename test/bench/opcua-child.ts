/**
 * Child process of the `opcua` bench section, one role per process so that memory and CPU
 * figures of one server never include the other's:
 *
 * - `server <ours|whole|bare> <minTags> <runDir>`: loads a generated line into a simulation worker
 *   (paused), starts the face (`startOpcua`, profile open) or the bare baseline server, reports
 *   start time and heap/RSS growth, then obeys the parent: `run` (simulation at a speed; the
 *   bare server's feeder copies changed values every 100 ms), `synthetic` (simulation paused,
 *   every field changed every 50 ms), `stop`.
 * - `client`: one node-opcua client (SecurityPolicy None, anonymous) that subscribes to the
 *   node ids it is sent and counts data-change notifications over the windows asked for.
 *
 * Started with --expose-gc, so the memory figures are taken after full collections.
 */
import { cpuUsage, memoryUsage } from 'node:process';
import {
  AttributeIds, ClientMonitoredItemGroup, ClientSubscription, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn,
  Variant, type ClientSession, type DataValue,
} from 'node-opcua';
import { MODE_NAMES, STATE_NAMES } from '../../sim/plc/packml.ts';
import { startOpcua } from '../../sim/protocols/opcua/server.ts';
import { AccountStore } from '../../sim/host/accounts.ts';
import { loadRemote, spawnNodeSim } from '../../sim/worker/node-host.ts';
import { openReader } from '../../sim/worker/reader.ts';
import { bumpAll, bumpFields, conditionsOf, freePort, generateLine, startBareServer, tagValue } from './opcua-fixtures.ts';

/**
 * The server of a child: the face with each station's nodes made when first needed (`ours`,
 * as `twinline serve` runs it) or all at start (`whole`), or the bare node-opcua server.
 */
export type ServerKind = 'ours' | 'whole' | 'bare';

/** What a server child reports once listening. */
export interface ServerReady {
  kind: ServerKind;
  endpoint: string;
  namespaceUri: string;
  /** variables exposed for the stations */
  tags: number;
  /** node ids (string part) of the tags, in address-space order */
  ids: string[];
  /** construct + initialise + address space + listen [ms] */
  startMs: number;
  /** heap used and RSS growth over the start, after full GCs [bytes] */
  heapDelta: number;
  rssDelta: number;
  /** where the start time went [ms] */
  parts: Record<string, number>;
  /** alarm conditions of the line (the face creates them, the bare server does not) */
  conditions: number;
}

/** What the client reports for one counting window. */
export interface CountResult {
  notifications: number;
  /** items with at least one notification in the window */
  itemsChanged: number;
  wallMs: number;
  /** CPU time of the client process over the window [ms] */
  cpuMs: number;
}

/** Parent → child messages. */
export type ChildCommand =
  | { cmd: 'run'; speed: number; items: number }
  | { cmd: 'synthetic' }
  | { cmd: 'cpu' }
  | { cmd: 'stop' }
  | { cmd: 'subscribe'; endpoint: string; namespaceUri: string; ids: string[]; samplingMs: number; publishingMs: number; queueSize: number }
  | { cmd: 'count'; ms: number };

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const send = (m: unknown): void => {
  process.send?.(m);
};

function settled(): { heap: number; rss: number } {
  for (let k = 0; k < 3; k++) gc();
  const m = memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

async function server(kind: ServerKind, minTags: number, runDir: string): Promise<void> {
  const line = generateLine(minTags);
  const sim = spawnNodeSim();
  await loadRemote(sim.api, line.text, line.file);
  const reader = openReader(await sim.api.shared());
  const namespaceUri = `urn:twinline:${line.spec.id}`;
  const before = settled();
  const t0 = performance.now();
  let endpoint: string;
  let close: () => Promise<void>;
  let feed: ((items: number) => void) | null = null;
  let parts: Record<string, number> = {};
  /** values of the first `items` tags that changed between two passes of the bare feeder */
  let offered = 0;
  if (kind !== 'bare') {
    const face = await startOpcua({
      spec: line.spec, api: sim.api, port: 0, explicitPort: false, host: '127.0.0.1', profile: 'open', runDir, accounts: AccountStore.fromClear([]), lazyStations: kind === 'ours',
    });
    endpoint = face.endpoint;
    parts = face.startupParts;
    close = () => face.close();
  } else {
    const bare = await startBareServer(line.tags, namespaceUri, await freePort(), runDir);
    endpoint = bare.endpoint;
    parts = bare.parts;
    close = () => bare.close();
    const last: (boolean | number | string | null)[] = line.tags.map(() => null);
    // copies what changed since the last copy: the cheaper (stronger) form of copying every value
    feed = (items) => {
      line.tags.forEach((t, i) => {
        // one consistent read per tag, as the face's getters do: a whole pass takes longer than a tick
        const v = reader.readConsistent(() => tagValue(reader, t, STATE_NAMES, MODE_NAMES)).value;
        if (v === last[i]) return;
        if (i < items && last[i] !== null) offered++;
        last[i] = v;
        bare.variables[i]!.setValueFromSource(new Variant({ dataType: t.dataType, value: v }));
      });
    };
  }
  const startMs = performance.now() - t0;
  const after = settled();
  send({
    kind, endpoint, namespaceUri, tags: line.tags.length, ids: line.tags.map((t) => t.id), startMs,
    heapDelta: after.heap - before.heap, rssDelta: after.rss - before.rss, parts, conditions: conditionsOf(line.spec),
  } satisfies ServerReady);
  const timers: NodeJS.Timeout[] = [];
  let items = 0;
  if (feed !== null) {
    const f = feed;
    timers.push(setInterval(() => f(items), 100));
  }
  process.on('message', (m: ChildCommand) => {
    void (async () => {
      if (m.cmd === 'run') {
        items = m.items;
        await sim.api.setSpeed(m.speed);
        await sim.api.start();
        send({ ok: true });
      } else if (m.cmd === 'synthetic') {
        await sim.api.pause();
        const fields = bumpFields(reader, line.tags);
        let k = 0;
        timers.push(setInterval(() => bumpAll(reader, fields, k++), 50));
        send({ ok: true });
      } else if (m.cmd === 'cpu') {
        const c = cpuUsage();
        send({ cpuMs: (c.user + c.system) / 1000, offered });
      } else if (m.cmd === 'stop') {
        for (const t of timers) clearInterval(t);
        await close();
        await sim.terminate();
        send({ ok: true });
        process.exit(0);
      }
    })();
  });
}

async function client(): Promise<void> {
  let session: ClientSession | null = null;
  let counts = new Uint32Array(0);
  let total = 0;
  process.on('message', (m: ChildCommand) => {
    void (async () => {
      if (m.cmd === 'subscribe') {
        const c = OPCUAClient.create({
          endpointMustExist: false, securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None,
          connectionStrategy: { maxRetry: 3, initialDelay: 200 }, requestedSessionTimeout: 120_000,
        });
        await c.connect(m.endpoint);
        session = await c.createSession();
        const nsArray = (await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value })).value.value as string[];
        const ns = nsArray.indexOf(m.namespaceUri);
        const sub = ClientSubscription.create(session, {
          requestedPublishingInterval: m.publishingMs, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 600,
          maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
        });
        await new Promise<void>((r) => sub.once('started', () => r()));
        counts = new Uint32Array(m.ids.length);
        const batch = 2500;
        let bad = 0;
        let revised = 0;
        for (let from = 0; from < m.ids.length; from += batch) {
          const ids = m.ids.slice(from, from + batch);
          const group = ClientMonitoredItemGroup.create(sub, ids.map((id) => ({ nodeId: `ns=${ns};s=${id}`, attributeId: AttributeIds.Value })),
            { samplingInterval: m.samplingMs, queueSize: m.queueSize, discardOldest: true }, TimestampsToReturn.Both);
          await new Promise<void>((resolve, reject) => {
            group.once('initialized', () => resolve());
            group.once('err', (e: string) => reject(new Error(e)));
          });
          group.on('changed', (_item: unknown, _dv: DataValue, index: number) => {
            counts[from + index]!++;
            total++;
          });
          for (const it of group.monitoredItems) {
            if (it.statusCode.isNotGood()) bad++;
            revised = it.monitoringParameters.samplingInterval;
          }
        }
        send({ items: m.ids.length, bad, revisedSamplingMs: revised, revisedPublishingMs: sub.publishingInterval });
      } else if (m.cmd === 'count') {
        counts.fill(0);
        total = 0;
        const c0 = cpuUsage();
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, m.ms));
        const n = total;
        const wallMs = performance.now() - t0;
        const c = cpuUsage(c0);
        let changed = 0;
        for (const x of counts) if (x > 0) changed++;
        send({ notifications: n, itemsChanged: changed, wallMs, cpuMs: (c.user + c.system) / 1000 } satisfies CountResult);
      } else if (m.cmd === 'stop') {
        await session?.close().catch(() => undefined);
        send({ ok: true });
        process.exit(0);
      }
    })();
  });
  send({ ready: true });
}

const [role, kind, minTags, runDir] = process.argv.slice(2);
if (role === 'server' && (kind === 'ours' || kind === 'whole' || kind === 'bare')) await server(kind, Number(minTags), runDir ?? '.');
else if (role === 'client') await client();
else {
  console.error('usage: opcua-child.ts server <ours|whole|bare> <minTags> <runDir> | client');
  process.exit(2);
}
