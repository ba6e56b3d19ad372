/**
 * The OPC UA face of a running line: one node-opcua server in the host process. Values are
 * read from a zero-copy reader over the worker's shared buffer on every read, and monitored
 * ones by one sampler that pushes changes (no copy, no message per tick, no poll per
 * monitored item); writes and method calls become commands with `source: 'opcua'` and the
 * principal and role of the session's account (identity.ts); alarms follow the drained event
 * log. On close, clients are told the server is shutting down before the connections drop.
 */
// first: filters node-opcua's load-time PKCS#1 warning (see the module)
import './warnings.ts';
import { createServer } from 'node:net';
import { DataType, MonitoredItem, OPCUAServer, StatusCodes, Variant, nodesets, type ISessionContext, type UAVariable } from 'node-opcua';
import { reject, type AuditEntry, type Command, type CommandResult } from '../../core/commands.ts';
import type { SimEvent } from '../../core/events.ts';
import type { LineSpec } from '../../line/types.ts';
import type { AsyncApi, SimApi } from '../../worker/api.ts';
import { openReader } from '../../worker/reader.ts';
import { listen } from '../../host/ports.ts';
import type { AccountStore } from '../../host/accounts.ts';
import type { LoginGuard } from '../../host/login-guard.ts';
import { buildLine, MIN_SAMPLING_MS, type LineLink } from './address-space.ts';
import { buildAlarms } from './alarms.ts';
import { installOnChangeDelivery, ValueSampler } from './sampler.ts';
import { MAX_REJECTED, profileSetup, SERVER_NAME, type OpcuaProfile, type ProfileSetup } from './security.ts';
import { auditServer } from './audit.ts';
import { AuditThrottle } from '../../host/audit-throttle.ts';
import { leafThumbprint } from './pki-files.ts';
import { reportRefusedCertificates, screenUserIdentity } from './seam.ts';
import { buildMachinery } from './machinery.ts';
import { packmlUpdater } from './packml.ts';
import { buildVision } from './vision.ts';
import { buildRobotics } from './robotics.ts';
import { LINE_NAMESPACE_INDEX, lineNamespaceUri } from './namespaces.ts';
import { principalOf } from './binding.ts';
import { installHistory, type OpcuaHistory } from './history.ts';

export type { OpcuaProfile } from './security.ts';

/**
 * Operation limits the server advertises and enforces (per request: nodes to read, write,
 * browse …). The line has a few thousand nodes, so one request may read or monitor them all.
 * Without a historian, history is not offered and its limits are 0 (not exposed); with one,
 * `HISTORY_LIMITS` replaces them.
 */
export const OPERATION_LIMITS = {
  maxNodesPerRead: 10_000, maxNodesPerWrite: 10_000, maxNodesPerMethodCall: 1000, maxNodesPerBrowse: 10_000, maxNodesPerRegisterNodes: 10_000,
  maxNodesPerTranslateBrowsePathsToNodeIds: 10_000, maxMonitoredItemsPerCall: 10_000, maxNodesPerNodeManagement: 0,
  maxNodesPerHistoryReadData: 0, maxNodesPerHistoryReadEvents: 0, maxNodesPerHistoryUpdateData: 0, maxNodesPerHistoryUpdateEvents: 0,
} as const;

/** History's operation limits when the host runs a historian (data only: events are not served as history). */
export const HISTORY_LIMITS = { maxNodesPerHistoryReadData: 50, maxNodesPerHistoryReadEvents: 0, maxNodesPerHistoryUpdateData: 0, maxNodesPerHistoryUpdateEvents: 0 } as const;

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
  /** where the PKI folders live (not in the repository), e.g. `.twinline/opcua` */
  runDir: string;
  /** the one account store: user names, passwords, roles, mapped user certificates */
  accounts: AccountStore;
  /** the login back-off shared with the other faces (default: one of this face alone) */
  guard?: LoginGuard;
  /** how long clients see the Shutdown server state before the server closes [ms] (default 1000) */
  shutdownMs?: number;
  /** incident response (sim/host/containment.ts): banned accounts get no session, write or call; an isolated face takes no write or call */
  gate?: OpcuaGate;
  /** the host's historian: recorded variables answer HistoryRead (history.ts); omitted: no history */
  history?: OpcuaHistory;
  /**
   * make what lies below each station (variables, PackML, companions) when a client first
   * needs it (default), or everything at start (`false`: a fixed memory from the start, and
   * the start time of the whole address space)
   */
  lazyStations?: boolean;
}

/** What incident response has shut, as the OPC UA face asks it. Each answer is a refusal's reason, or null. */
export interface OpcuaGate {
  /** an account (`anonymous`: anonymous sessions) */
  account(user: string): string | null;
  /** writes and method calls through this face */
  writes(): string | null;
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
   * server construction), `initialize` (standard nodeset), `stations` (the ISA-95 levels and
   * station objects), `companions` (alarms active at start, Machinery, Machine Vision,
   * Robotics, history: what they make now), `subtrees` (the stations' nodes made at start:
   * all with `lazyStations: false`, else none), `listen`
   */
  startupParts: { prepare: number; initialize: number; stations: number; companions: number; subtrees: number; listen: number };
  /** lines for the operator (profile warnings, where the trust lists live) */
  notes: string[];
  /** Feeds drained events (alarms raised, cleared, acknowledged). */
  onEvents(events: readonly SimEvent[]): void;
  /** Closes the sessions of an account (`anonymous` too) or one session by id (`ns=1;g=…`); a line per session closed. */
  closeSessions(match: { user?: string; session?: string }): string[];
  /** Tells clients the server is shutting down (ServerStatus.State Shutdown, SecondsTillShutdown), then closes. */
  close(): Promise<void>;
}

/** a client that retries with a refused certificate is audited once per this long [ms] */
const REFUSAL_AUDIT_MS = 60_000;
const DEFAULT_SHUTDOWN_MS = 1000;

/** How the address space reaches the line on behalf of each session. */
function lineLink(o: OpcuaOptions, profile: ProfileSetup, reader: LineLink['reader'], sampler: ValueSampler, audit: (a: AuditEntry) => void): LineLink {
  const who = (ctx: ISessionContext): { principal: string; id: ReturnType<ProfileSetup['identities']['of']> } => {
    const id = profile.identities.of(ctx);
    return { id, principal: principalOf(ctx, id?.user ?? 'unknown') };
  };
  const denied = (principal: string, action: string, target: string, reason: string): void =>
    audit({ source: 'opcua', principal, action, outcome: 'denied', target, reason });
  /** why incident response refuses this session's writes and calls now, or null */
  const shut = (user: string): string | null => o.gate?.account(user) ?? o.gate?.writes() ?? null;
  return {
    reader,
    sampler,
    send: (target, command, args, ctx): Promise<CommandResult> => {
      const { id, principal } = who(ctx);
      if (id === null) {
        denied(principal, command, target, 'the session has no account now (revoked, or its certificate unmapped)');
        return Promise.resolve(reject('NOT_AUTHORIZED', 'the session has no account now'));
      }
      const why = shut(id.user);
      if (why !== null) {
        denied(principal, command, target, why);
        return Promise.resolve(reject('NOT_AUTHORIZED', why));
      }
      const cmd: Command = { target, command, args, source: 'opcua', principal, role: id.role };
      return o.api.send(cmd);
    },
    authorize: (ctx, action, target) => {
      const { id, principal } = who(ctx);
      if (id === null) {
        denied(principal, action, target, 'the session has no account now (revoked, or its certificate unmapped)');
        return false;
      }
      const why = shut(id.user);
      if (why !== null) {
        denied(principal, action, target, why);
        return false;
      }
      if (id.role !== 'viewer' && id.role !== 'gateway') return true;
      denied(principal, action, target, `user "${id.user}" has the ${id.role} role: read and subscribe only`);
      return false;
    },
    roleOf: (ctx) => profile.identities.of(ctx)?.role ?? null,
    refuse: (ctx, action, target, reason) => denied(who(ctx).principal, action, target, reason),
    routed: { writes: new Set(), calls: new Set() },
  };
}

/**
 * Audits refused client certificates once per certificate per minute (a client retrying with
 * one writes one entry, not one per retry), and channels refused for their security policy or
 * mode once per peer address per minute; returns what `auditServer` needs to leave those
 * channels' failures out.
 */
function auditRefusedCertificates(server: OPCUAServer, profile: ProfileSetup, audit: (a: AuditEntry) => void): { refusedChannels: Set<number>; throttle: AuditThrottle } {
  const throttle = new AuditThrottle(REFUSAL_AUDIT_MS);
  const refusedChannels = new Set<number>();
  reportRefusedCertificates(server, (r) => {
    if (refusedChannels.size > 10_000) refusedChannels.clear(); // failures that never came: forget them
    refusedChannels.add(r.channelId);
    const thumb = leafThumbprint(r.certificate);
    const skipped = throttle.pass(`certificate:${thumb}`);
    if (skipped === null) return;
    audit({
      source: 'opcua', principal: `?@${r.remoteAddress}:${r.remotePort}#${thumb}`, action: 'channel', outcome: 'denied',
      reason: AuditThrottle.note(`client certificate refused: ${r.status.name} (kept in ${profile.rejectedDir} until trusted, the newest ${MAX_REJECTED})`, skipped, REFUSAL_AUDIT_MS),
    });
  }, (r) => {
    // a security policy or mode the server does not offer (a downgrade attempt): once per peer address per minute
    if (refusedChannels.size > 10_000) refusedChannels.clear();
    refusedChannels.add(r.channelId);
    const skipped = throttle.pass(`policy:${r.remoteAddress}`);
    if (skipped === null) return;
    audit({
      source: 'opcua', principal: `?@${r.remoteAddress}:${r.remotePort}`, action: 'channel', outcome: 'denied',
      reason: AuditThrottle.note(`${r.status.name}${r.detail === '' ? '' : `: ${r.detail.replace(/\s+/g, ' ')}`}`, skipped, REFUSAL_AUDIT_MS),
    });
  });
  return { refusedChannels, throttle };
}

/** a banned account's session attempts are audited once per account and peer per this long [ms] */
const BANNED_AUDIT_MS = 10_000;

/**
 * Every identity token passes the face's checks around node-opcua's: incident response's bans
 * first (any profile: `anonymous` is banned like an account), then the hardened profile's
 * login back-off and user-certificate mapping.
 */
function screenIdentities(server: OPCUAServer, profile: ProfileSetup, gate: OpcuaGate | undefined, audit: (a: AuditEntry) => void): void {
  const logins = profile.logins;
  if (gate === undefined && logins === null) return;
  const throttle = new AuditThrottle(BANNED_AUDIT_MS);
  screenUserIdentity(server, (a) => {
    const user = profile.identities.userOf(a.token);
    const why = gate?.account(user) ?? null;
    if (why !== null) {
      const skipped = throttle.pass(`${user}|${a.remoteAddress}`);
      if (skipped !== null) audit({ source: 'opcua', principal: `${user}@${a.remoteAddress}:${a.remotePort}`, action: 'session', outcome: 'denied', reason: AuditThrottle.note(why, skipped, BANNED_AUDIT_MS) });
      return StatusCodes.BadUserAccessDenied;
    }
    return logins?.before(a) ?? null;
  }, (a) => (logins === null ? (a.status ?? StatusCodes.BadInternalError) : logins.after(a)));
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
  const profile = await profileSetup({ profile: o.profile, runDir: o.runDir, accounts: o.accounts, audit, ...(o.guard !== undefined ? { guard: o.guard } : {}) });
  const link = lineLink(o, profile, reader, sampler, audit);
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
      // discovery answers anyone, and the server certificate's subject is made from the
      // application name: neither names the scenario (the namespace, behind a session, does)
      applicationUri: 'urn:twinline:server',
      productUri: 'urn:twinline',
      applicationName: { text: SERVER_NAME, locale: 'en' },
    },
    buildInfo: { productName: 'Twinline', manufacturerName: 'Twinline', productUri: 'urn:twinline', softwareVersion: '0.1.0' },
    serverCapabilities: {
      ...(profile.options.serverCapabilities ?? {}),
      minSupportedSampleRate: MIN_SAMPLING_MS,
      // what the server does (node-opcua refuses larger requests with BadTooManyOperations);
      // without a historian, history's limits are 0, so the properties are not exposed
      operationLimits: o.history === undefined ? OPERATION_LIMITS : { ...OPERATION_LIMITS, ...HISTORY_LIMITS },
    },
  });
  const prepareMs = took();
  await server.initialize();
  const initializeMs = took();
  const as = server.engine.addressSpace;
  if (as === null) throw new Error('OPC UA address space did not initialise');
  // node-opcua advertises at least 100 ms whatever it grants: say what the server samples at
  (as.findNode('ns=0;i=2272') as UAVariable | null)?.bindVariable({ get: () => new Variant({ dataType: DataType.Double, value: MIN_SAMPLING_MS }) }, true);
  const ns = as.registerNamespace(namespaceUri);
  // gateway exports address the line's nodes by this index
  if (ns.index !== LINE_NAMESPACE_INDEX) throw new Error(`OPC UA: the line's namespace got index ${ns.index}, not ${LINE_NAMESPACE_INDEX} (update COMPANION_URIS)`);
  const nodes = buildLine(ns, o.spec, link);
  const stationsMs = took();
  const alarms = buildAlarms(ns, o.spec, nodes, link);
  const machinery = buildMachinery(ns, o.spec, nodes, reader);
  const packml = packmlUpdater(nodes.packml);
  const vision = buildVision(ns, o.spec, nodes, link);
  buildRobotics(ns, o.spec, nodes, link);
  if (o.history !== undefined) installHistory(as, ns, o.history, nodes.subtrees);
  const companionsMs = took();
  if (o.lazyStations === false) nodes.subtrees.buildAll();
  else nodes.subtrees.install(ns, nodes.stations);
  const subtreesMs = took();
  const refusals = auditRefusedCertificates(server, profile, audit);
  screenIdentities(server, profile, o.gate, audit);
  auditServer(server, { routedWrites: link.routed.writes, routedCalls: link.routed.calls }, audit, { ...refusals, userOf: profile.identities.userOf });
  await server.start();
  const listenMs = took();
  sampler.start();
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closing = false;
  return {
    endpoint: `opc.tcp://${host}:${bound.port}`,
    port: bound.port,
    fellBackFrom: bound.fellBackFrom,
    namespaceUri,
    startupMs: Math.round(performance.now() - t0),
    startupParts: { prepare: prepareMs, initialize: initializeMs, stations: stationsMs, companions: companionsMs, subtrees: subtreesMs, listen: listenMs },
    notes: profile.notes,
    closeSessions: (match) => {
      const out: string[] = [];
      for (const session of server.engine.getSessions()) {
        const ctx = { session } as unknown as ISessionContext;
        const user = profile.identities.userOf(session.userIdentityToken);
        const sid = session.getSessionId().toString();
        if ((match.user !== undefined && user !== match.user) || (match.session !== undefined && sid !== match.session)) continue;
        try {
          server.engine.closeSession(session.authenticationToken, true, 'Terminated');
          out.push(`session ${principalOf(ctx, user)} closed`);
        } catch (e) {
          out.push(`session ${sid} of ${user}: not closed (${e instanceof Error ? e.message : String(e)})`);
        }
      }
      return out;
    },
    onEvents: (events) => {
      // the address space goes away during shutdown: events drained meanwhile are not shown
      if (closing) return;
      alarms.onEvents(events);
      machinery.onEvents(events);
      packml(events);
      vision.onEvents(events);
    },
    async close() {
      closing = true;
      sampler.stop();
      // node-opcua looks at every node while it takes the address space down: make nothing more
      nodes.subtrees.close();
      server.engine.setShutdownReason({ text: 'the Twinline host is stopping', locale: 'en' });
      await server.shutdown(o.shutdownMs ?? DEFAULT_SHUTDOWN_MS);
    },
  };
}
