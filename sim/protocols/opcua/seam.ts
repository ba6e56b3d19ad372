/**
 * The one seam around node-opcua's internals (pinned to node-opcua ^2.182): where the face
 * needs a decision node-opcua does not offer as an option, it replaces a method on one
 * instance here, and nowhere else. test/unit/opcua-seam.test.ts fails loudly when an upgrade
 * moves any of them.
 *
 * - `reportRefusedCertificates`: an untrusted client certificate is answered with
 *   BadCertificateUntrusted (node-opcua says BadSecurityChecksFailed, which clients such as
 *   open62541 take for a transient failure and retry), and reported once per channel; a
 *   channel refused for anything else (a security policy or mode the server does not offer: a
 *   downgrade attempt) is reported too, since node-opcua emits no failure for it.
 * - `screenUserIdentity`: every user identity token passes the face's own check around
 *   node-opcua's (login back-off, user certificates mapped to an account).
 * - `routeValueWrites`: a variable's Value writes go to the face before node-opcua's checks.
 * - `userAccessLevelBy`: a variable's UserAccessLevel follows the session's role.
 * - `historicalLike`: a variable becomes historical like one node-opcua made so, sharing its
 *   `HA Configuration` (node-opcua instantiates one per variable: ~20 kB of heap each).
 * - `buildOnFirstLook`: a node's children are made the first time anything looks at its
 *   references (a browse, a browse path, a child lookup, a reference added to it).
 * - `buildOnMissingNodeId`: a NodeId not found in a namespace gets one chance to be made.
 */
import {
  AccessLevelFlag, AttributeIds, DataType, DataValue, ServerSecureChannelLayer, StatusCodes,
  type BaseNode, type ISessionContext, type IVariableHistorian, type Namespace, type NodeId, type OPCUAServer, type StatusCode, type UAVariable,
} from 'node-opcua';

/** What the seam tells about a refused client (application) certificate. */
export interface RefusedCertificate {
  status: StatusCode;
  /** DER of the certificate (chain) the client sent */
  certificate: Buffer;
  remoteAddress: string;
  remotePort: number;
  channelId: number;
}

/** What the seam tells about a secure channel refused for another reason than its certificate. */
export interface RefusedChannel {
  status: StatusCode;
  /** node-opcua's description (`This server doesn't not support Basic256 2`), or '' */
  detail: string;
  remoteAddress: string;
  remotePort: number;
  channelId: number;
}

interface ChannelInternals {
  channelId: number;
  remoteAddress: string;
  remotePort: number;
  checkCertificate(certificate: Buffer | null): Promise<StatusCode>;
  send_response(msgType: string, response: { schema?: { name?: string }; responseHeader?: { serviceResult: StatusCode; stringTable?: string[] | null } }, ...rest: unknown[]): void;
}

interface EndpointInternals {
  _preregisterChannel(channel: ChannelInternals): void;
}

/** Fails with a clear message when node-opcua no longer has what the seam replaces. */
function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`OPC UA: node-opcua changed: ${what} is gone (update sim/protocols/opcua/seam.ts)`);
}

/**
 * After `server.initialize()`: every new secure channel of the server's endpoints reports a
 * refused client certificate to `refused` and answers the client with BadCertificateUntrusted
 * (in the secured ServiceFault node-opcua sends) instead of BadSecurityChecksFailed, so the
 * client stops at once with the reason (OPC 10000-6 lists Bad_CertificateUntrusted among the
 * OpenSecureChannel errors). Any other refused OpenSecureChannel (policy or mode not offered)
 * goes to `refusedChannel`.
 */
export function reportRefusedCertificates(server: OPCUAServer, refused: (r: RefusedCertificate) => void, refusedChannel: (r: RefusedChannel) => void = () => undefined): void {
  // checked here, at startup: a check failing inside a connection would take the host down
  const channelProto = ServerSecureChannelLayer.prototype as unknown as Partial<ChannelInternals>;
  must(typeof channelProto.checkCertificate === 'function' && typeof channelProto.send_response === 'function', 'ServerSecureChannelLayer.checkCertificate/send_response');
  for (const ep of server.endpoints) {
    const endpoint = ep as unknown as EndpointInternals;
    must(typeof endpoint._preregisterChannel === 'function', 'OPCUAServerEndPoint._preregisterChannel');
    const preregister = endpoint._preregisterChannel.bind(endpoint);
    endpoint._preregisterChannel = (channel) => {
      preregister(channel);
      let untrusted: StatusCode | null = null;
      /** the certificate's refusal was reported: the channel's is not reported again */
      let certificateRefused = false;
      const check = channel.checkCertificate.bind(channel);
      channel.checkCertificate = async (certificate) => {
        const status = await check(certificate);
        if (status.isNotGood() && certificate !== null && certificate.length > 0) {
          if (status.equals(StatusCodes.BadCertificateUntrusted)) untrusted = status;
          certificateRefused = true;
          try {
            refused({ status, certificate, remoteAddress: channel.remoteAddress, remotePort: channel.remotePort, channelId: channel.channelId });
          } catch {
            // a report that fails must not change the answer
          }
        }
        return status;
      };
      const send = channel.send_response.bind(channel);
      channel.send_response = (msgType, response, ...rest) => {
        if ((msgType === 'OPN' || msgType === 'ERR') && response.schema?.name === 'ServiceFault' && response.responseHeader !== undefined) {
          if (untrusted !== null) response.responseHeader.serviceResult = untrusted;
          else if (!certificateRefused && response.responseHeader.serviceResult.isNotGood()) {
            try {
              const detail = String(response.responseHeader.stringTable?.[0] ?? '').trim();
              refusedChannel({ status: response.responseHeader.serviceResult, detail, remoteAddress: channel.remoteAddress, remotePort: channel.remotePort, channelId: channel.channelId });
            } catch {
              // a report that fails must not change the answer
            }
          }
        }
        send(msgType, response, ...rest);
      };
    };
  }
}

/** What `screenUserIdentity` passes to the face's check. */
export interface IdentityAttempt {
  /** the identity token as the client sent it (AnonymousIdentityToken, UserNameIdentityToken, X509IdentityToken) */
  token: unknown;
  remoteAddress: string;
  remotePort: number;
  /** node-opcua's verdict on the token (signature, user certificate trust), or null before it has looked */
  status: StatusCode | null;
}

type IdentityCallback = (err: Error | null, statusCode?: StatusCode) => void;
type IsValidToken = (channel: { remoteAddress?: string; remotePort?: number }, session: unknown, token: unknown, signature: unknown, endpoint: unknown, cb: IdentityCallback) => void;

/**
 * Wraps the server's check of ActivateSession identity tokens: `before` may refuse a token
 * before node-opcua looks at it (a peer or user in back-off); `after` sees node-opcua's verdict
 * and may turn a Good into a refusal (a trusted user certificate mapped to no account).
 */
export function screenUserIdentity(
  server: OPCUAServer,
  before: (a: IdentityAttempt) => StatusCode | null,
  after: (a: IdentityAttempt) => StatusCode,
): void {
  const s = server as unknown as { isValidUserIdentityToken?: IsValidToken };
  must(typeof s.isValidUserIdentityToken === 'function', 'OPCUAServer.isValidUserIdentityToken');
  const inner = s.isValidUserIdentityToken!.bind(server);
  s.isValidUserIdentityToken = (channel, session, token, signature, endpoint, cb) => {
    const attempt: IdentityAttempt = { token, remoteAddress: channel.remoteAddress ?? '?', remotePort: channel.remotePort ?? 0, status: null };
    let early: StatusCode | null;
    try {
      early = before(attempt);
    } catch {
      early = StatusCodes.BadInternalError;
    }
    if (early !== null) {
      cb(null, early);
      return;
    }
    inner(channel, session, token, signature, endpoint, (err, status) => {
      if (err !== null || status === undefined) {
        cb(err, status);
        return;
      }
      let final: StatusCode;
      try {
        final = after({ ...attempt, status });
      } catch {
        final = StatusCodes.BadInternalError;
      }
      cb(null, final);
    });
  };
}

type WriteCallback = (err: Error | null, statusCode?: StatusCode) => void;

/** Decides a Value write (`v` is the variable written, so one handler can serve many). */
export type ValueWrite = (ctx: ISessionContext, dv: DataValue, indexRange: boolean, v: UAVariable) => Promise<StatusCode>;

/** The UserAccessLevel of `v` for a session (`v` is the variable, so one function can serve many). */
export type AccessLevelOf = (ctx: ISessionContext, v: UAVariable) => number;

type ReadAttribute = (this: UAVariable, ctx: ISessionContext | null, attributeId: AttributeIds, ...rest: unknown[]) => DataValue;

/** the write handler of each routed variable */
const valueWrites = new WeakMap<UAVariable, ValueWrite>();
/** the access level of each variable with a per-session UserAccessLevel, and the readAttribute it had */
const accessLevels = new WeakMap<UAVariable, { level: AccessLevelOf; inner: ReadAttribute }>();

/** `writeValue` of every routed variable: one function for all (`this` is the variable), no closure per variable. */
function routedWriteValue(this: UAVariable, ctx: ISessionContext, dv: DataValue, ...rest: unknown[]): void {
  const cb = rest[rest.length - 1] as WriteCallback;
  const write = valueWrites.get(this);
  if (write === undefined) {
    cb(null, StatusCodes.BadInternalError);
    return;
  }
  const range = rest.length === 2 ? (rest[0] as { isEmpty?: () => boolean } | null) : null;
  const ranged = range !== null && typeof range === 'object' && typeof range.isEmpty === 'function' && !range.isEmpty();
  write(ctx, dv, ranged, this).then((s) => cb(null, s), () => cb(null, StatusCodes.BadInternalError));
}

/** `readAttribute` of every variable with a per-session UserAccessLevel: one function for all. */
function readAttributeBySession(this: UAVariable, ctx: ISessionContext | null, attributeId: AttributeIds, ...rest: unknown[]): DataValue {
  const e = accessLevels.get(this)!;
  if (attributeId !== AttributeIds.UserAccessLevel || ctx?.session === undefined) return e.inner.call(this, ctx, attributeId, ...rest);
  // a historical variable (history.ts) is history-readable by every session that may read it
  const history = this.historizing ? 0x04 : 0;
  return new DataValue({ statusCode: StatusCodes.Good, value: { dataType: DataType.Byte, value: e.level(ctx, this) | history } });
}

/**
 * Every Value write of `v` goes to `write` (with the session context, the DataValue,
 * whether an index range was asked, and `v`), before node-opcua's own checks (AccessLevel,
 * DataType, ranges), which would refuse bad writes before the face could decide and log them.
 */
export function routeValueWrites(v: UAVariable, write: ValueWrite): void {
  const target = v as unknown as { writeValue?: unknown };
  must(typeof target.writeValue === 'function', 'UAVariable.writeValue');
  valueWrites.set(v, write);
  target.writeValue = routedWriteValue;
}

/**
 * The UserAccessLevel attribute of `v` (read by clients to grey out what they may not write)
 * becomes `level(ctx, v)` for each session (with HistoryRead when the variable is historical);
 * contexts without a session keep node-opcua's answer.
 */
export function userAccessLevelBy(v: UAVariable, level: AccessLevelOf): void {
  const node = v as unknown as { readAttribute: ReadAttribute };
  must(typeof node.readAttribute === 'function', 'UAVariable.readAttribute');
  if (node.readAttribute === readAttributeBySession) {
    accessLevels.get(v)!.level = level;
    return;
  }
  accessLevels.set(v, { level, inner: node.readAttribute });
  node.readAttribute = readAttributeBySession;
}

/** node-opcua's own history behaviour of a variable made historical by `installHistoricalDataNode` */
const HISTORY_MEMBERS = ['_historyRead', '_historyPush', '_historyReadRawModify', '_historyReadModify', '_historyReadRaw', '_historyReadRawAsync'] as const;

/**
 * Makes `v` historical as `model` (made so by `addressSpace.installHistoricalDataNode`) is: the
 * same HistoryRead behaviour over `historian`, Historizing, the HistoryRead access level, and a
 * HasHistoricalConfiguration reference to `model`'s `HA Configuration`, shared (processed reads
 * take their aggregate configuration from it). Value changes are not pushed to `historian`
 * (the host's historian stores what it samples).
 */
export function historicalLike(model: UAVariable, v: UAVariable, historian: IVariableHistorian): void {
  const from = model as unknown as Record<string, unknown>;
  const to = v as unknown as Record<string, unknown>;
  for (const k of HISTORY_MEMBERS) {
    must(typeof from[k] === 'function', `UAVariable.${k}`);
    to[k] = from[k];
  }
  const config = from.$historicalDataConfiguration as { nodeId: NodeId } | undefined;
  must(config !== undefined, 'UAVariable.$historicalDataConfiguration');
  to.varHistorian = historian;
  to.$historicalDataConfiguration = config;
  v.historizing = true;
  const bits = AccessLevelFlag.CurrentRead | AccessLevelFlag.HistoryRead;
  v.accessLevel = v.accessLevel | bits;
  if (v.userAccessLevel !== undefined) v.userAccessLevel = v.userAccessLevel | bits;
  v.addReference({ referenceType: 'HasHistoricalConfiguration', nodeId: config!.nodeId, isForward: true });
}

/**
 * A node's forward references (node-opcua keeps them in one Map per node, read by every browse,
 * browse path, child lookup and reference added) that runs `build` before the first read.
 */
class BuildOnRead<K, V> extends Map<K, V> {
  private pending: (() => void) | null;

  constructor(entries: Iterable<readonly [K, V]>, build: () => void) {
    super(entries);
    this.pending = build;
  }

  /** runs the build once; reads during the build see the map as it grows */
  private ready(): void {
    const build = this.pending;
    if (build === null) return;
    this.pending = null;
    build();
  }

  override get(k: K): V | undefined {
    this.ready();
    return super.get(k);
  }

  override has(k: K): boolean {
    this.ready();
    return super.has(k);
  }

  override get size(): number {
    this.ready();
    return super.size;
  }

  override values(): MapIterator<V> {
    this.ready();
    return super.values();
  }

  override keys(): MapIterator<K> {
    this.ready();
    return super.keys();
  }

  override entries(): MapIterator<[K, V]> {
    this.ready();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    this.ready();
    return super[Symbol.iterator]();
  }

  override forEach(fn: (v: V, k: K, m: Map<K, V>) => void, self?: unknown): void {
    this.ready();
    super.forEach(fn, self);
  }

  override delete(k: K): boolean {
    this.ready();
    return super.delete(k);
  }
}

/**
 * node-opcua's private part of a node (a symbol-keyed field): the Map of its forward
 * references, and the index of its children by BrowseName made from them (kept up to date as
 * references are added, or made again from the references when absent)
 */
interface NodePrivate {
  _referenceIdx: Map<unknown, unknown>;
  _childByNameMap: Map<unknown, unknown> | undefined;
}

function privateOf(node: BaseNode): NodePrivate {
  const key = Object.getOwnPropertySymbols(node).find((k) => k.description === 'BaseNodePrivate');
  const priv = key === undefined ? undefined : (node as unknown as Record<symbol, Partial<NodePrivate> | undefined>)[key];
  must(priv?._referenceIdx instanceof Map, 'BaseNode[BaseNodePrivate]._referenceIdx');
  return priv as NodePrivate;
}

/**
 * `build` runs (once) the first time anything reads `node`'s forward references: a Browse or
 * TranslateBrowsePathsToNodeIds reaching it, a child looked up by name, a reference added to
 * it. Until then the node holds the references it has now.
 */
export function buildOnFirstLook(node: BaseNode, build: () => void): void {
  const priv = privateOf(node);
  priv._referenceIdx = new BuildOnRead(priv._referenceIdx, build);
  // a child index made already would answer a lookup by name without reading the references
  priv._childByNameMap = undefined;
}

/**
 * A NodeId that `ns` does not hold is passed to `make` (which may create it) and looked up
 * once more: Read, Write, Call, monitored items and HistoryRead of a node not made yet.
 */
export function buildOnMissingNodeId(ns: Namespace, make: (nodeId: NodeId) => boolean): void {
  const target = ns as unknown as { findNode2?: (nodeId: NodeId) => BaseNode | null };
  must(typeof target.findNode2 === 'function', 'Namespace.findNode2');
  const find = target.findNode2!.bind(ns);
  target.findNode2 = (nodeId) => find(nodeId) ?? (make(nodeId) ? find(nodeId) : null);
}
