/**
 * The OPC UA face of a running line: one node-opcua server in the host process. Values are
 * read from a zero-copy reader over the worker's shared buffer on every read, and monitored
 * ones by one sampler that pushes changes (no copy, no message per tick, no poll per
 * monitored item); writes and method calls become commands with
 * `source: 'opcua'`; alarms follow the drained event log.
 */
import { createServer } from 'node:net';
import { MonitoredItem, OPCUAServer, nodesets } from 'node-opcua';
import type { AuditEntry, Command, CommandResult } from '../../core/commands.ts';
import type { SimEvent } from '../../core/events.ts';
import type { LineSpec } from '../../line/types.ts';
import type { AsyncApi, SimApi } from '../../worker/api.ts';
import { openReader } from '../../worker/reader.ts';
import { listen } from '../../host/ports.ts';
import { buildLine, MIN_SAMPLING_MS, type LineLink } from './address-space.ts';
import { buildAlarms } from './alarms.ts';
import { installOnChangeDelivery, ValueSampler } from './sampler.ts';
import { profileSetup, type OpcuaProfile } from './security.ts';
import { auditServer } from './audit.ts';
import { buildMachinery } from './machinery.ts';
import { packmlUpdater } from './packml.ts';
import { buildVision } from './vision.ts';
import { buildRobotics } from './robotics.ts';
import { LINE_NAMESPACE_INDEX, lineNamespaceUri } from './namespaces.ts';
import { principalOf } from './binding.ts';

export type { OpcuaProfile } from './security.ts';

/** Options of `startOpcua`. */
export interface OpcuaOptions {
  spec: LineSpec;
  api: AsyncApi<SimApi>;
  /** port to serve on; 0 = any free port */
  port: number;
  /** the port was given explicitly (a taken port is then an error) */
  explicitPort: boolean;
  /** address to listen on and to name in the endpoint URL */
  host: string;
  profile: OpcuaProfile;
  /** where PKI folders and accounts live (not in the repository), e.g. `.twinline/opcua` */
  runDir: string;
}

/** A running OPC UA face. */
export interface OpcuaFace {
  /** `opc.tcp://host:port` */
  endpoint: string;
  port: number;
  /** set when the default port was taken and a free one was used instead */
  fellBackFrom: number | null;
  /** namespace URI of the line, `urn:twinline:<scenario id>` */
  namespaceUri: string;
  /** wall time from call to listening [ms] */
  startupMs: number;
  /**
   * where the startup time went [ms]: `prepare` (shared-buffer reader, profile and PKI, port,
   * server construction), `initialize` (standard nodeset), station `variables` and methods,
   * `alarms` (conditions), `listen`
   */
  startupParts: { prepare: number; initialize: number; variables: number; alarms: number; listen: number };
  /** lines for the operator (profile warnings, where accounts live) */
  notes: string[];
  /** Feeds drained events (alarms raised, cleared, acknowledged). */
  onEvents(events: readonly SimEvent[]): void;
  close(): Promise<void>;
}

/**
 * node-opcua listens by itself, so the port is settled first with the host's rules
 * (a taken default falls back, a taken explicit port is an error) and then handed over.
 */
async function settlePort(port: number, host: string, explicit: boolean): Promise<{ port: number; fellBackFrom: number | null }> {
  const probe = createServer();
  const bound = await listen(probe, port, host, explicit, '--opcua-port');
  await new Promise<void>((r) => probe.close(() => r()));
  return bound;
}

/** Starts the OPC UA server for the line behind `api`. */
export async function startOpcua(o: OpcuaOptions): Promise<OpcuaFace> {
  const t0 = performance.now();
  const reader = openReader(await o.api.shared());
  installOnChangeDelivery();
  const sampler = new ValueSampler(reader, MIN_SAMPLING_MS);
  const audit = (a: AuditEntry): void => void o.api.audit(a).catch(() => undefined);
  // the profile is settled before the link, which asks it for each session's role
  const profile = await profileSetup(o.profile, o.runDir, audit);
  const link: LineLink = {
    reader,
    sampler,
    send: (target, command, args, principal): Promise<CommandResult> => {
      const cmd: Command = { target, command, args, source: 'opcua', principal };
      return o.api.send(cmd);
    },
    authorize: (ctx, action, target) => {
      let user = 'anonymous';
      try {
        user = ctx.getUserName() || 'anonymous';
      } catch {
        // a context without a session has no user name
      }
      if (profile.roleOf(user) !== 'viewer') return true;
      audit({ source: 'opcua', principal: principalOf(ctx), action, outcome: 'denied', target, reason: `user "${user}" has the viewer role: read and subscribe only` });
      return false;
    },
    routed: { writes: new Set(), calls: new Set() },
  };
  let lap = t0;
  const took = (): number => {
    const now = performance.now();
    const ms = now - lap;
    lap = now;
    return Math.round(ms);
  };
  const bound = await settlePort(o.port, o.host, o.explicitPort);
  // variables read shared memory, so sampling faster than node-opcua's 50 ms default is cheap
  MonitoredItem.minimumSamplingInterval = MIN_SAMPLING_MS;
  const namespaceUri = lineNamespaceUri(o.spec.id);
  const server = new OPCUAServer({
    ...profile.options,
    port: bound.port,
    host: o.host,
    hostname: o.host,
    // Machinery (OPC 40001-1) for the stations' identification and state, which builds on DI and
    // IA, PackML (OPC 30050) for their state machines and commands, Machine Vision (OPC 40100-1)
    // for the vision station, Robotics (OPC 40010-1) for the robot; order as COMPANION_URIS
    nodeset_filename: [nodesets.standard, nodesets.di, nodesets.ia, nodesets.machinery, nodesets.packML, nodesets.machineVision, nodesets.robotics],
    // a None channel for GetEndpoints only: clients fetch the server certificate through it (no sessions)
    disableDiscovery: false,
    serverInfo: {
      // one server certificate per PKI folder serves every scenario, so the application URI
      // must not name the scenario (the namespace does)
      applicationUri: 'urn:twinline:server',
      productUri: 'urn:twinline',
      applicationName: { text: `Twinline ${o.spec.title.en}`, locale: 'en' },
    },
    buildInfo: { productName: 'Twinline', manufacturerName: 'Twinline', productUri: 'urn:twinline', softwareVersion: '0.1.0' },
    serverCapabilities: {
      ...(profile.options.serverCapabilities ?? {}),
      minSupportedSampleRate: MIN_SAMPLING_MS,
    },
  });
  const prepareMs = took();
  await server.initialize();
  const initializeMs = took();
  const as = server.engine.addressSpace;
  if (as === null) throw new Error('OPC UA address space did not initialise');
  const ns = as.registerNamespace(namespaceUri);
  // gateway exports address the line's nodes by this index
  if (ns.index !== LINE_NAMESPACE_INDEX) throw new Error(`OPC UA: the line's namespace got index ${ns.index}, not ${LINE_NAMESPACE_INDEX} (update COMPANION_URIS)`);
  const nodes = buildLine(ns, o.spec, link);
  const variablesMs = took();
  const alarms = buildAlarms(ns, o.spec, nodes, link);
  const machinery = buildMachinery(ns, o.spec, nodes, reader);
  const packml = packmlUpdater(nodes.packml);
  const vision = buildVision(ns, o.spec, nodes, link);
  buildRobotics(ns, o.spec, nodes, link);
  const alarmsMs = took();
  auditServer(server, { routedWrites: link.routed.writes, routedCalls: link.routed.calls }, audit);
  await server.start();
  const listenMs = took();
  sampler.start();
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    endpoint: `opc.tcp://${host}:${bound.port}`,
    port: bound.port,
    fellBackFrom: bound.fellBackFrom,
    namespaceUri,
    startupMs: Math.round(performance.now() - t0),
    startupParts: { prepare: prepareMs, initialize: initializeMs, variables: variablesMs, alarms: alarmsMs, listen: listenMs },
    notes: profile.notes,
    onEvents: (events) => {
      alarms.onEvents(events);
      machinery.onEvents(events);
      packml(events);
      vision.onEvents(events);
    },
    async close() {
      sampler.stop();
      await server.shutdown(0);
    },
  };
}
