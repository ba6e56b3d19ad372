/**
 * The OPC UA face's own audit trail: what node-opcua decides before the line sees anything —
 * secure channels refused (wrong policy, too many; refused client certificates are audited
 * by the face through the seam), sessions created, activated or refused
 * (anonymous on the hardened profile, bad passwords), and writes and calls to nodes the line
 * does not route (unknown nodes, other attributes) — goes to the event log as `audit` events,
 * naming user, session, certificate thumbprint and peer. Writes and calls the line decides are
 * logged by the line itself (`command` / `rejected`), so they are not audited twice.
 *
 * Two observations besides the refusals, for the detectors: a session's entry names the
 * channel it runs over (security mode, policy, kind of identity), so a session in clear or
 * over a deprecated policy is visible; and Browse requests are counted per session, reported
 * at 1, 2, 4, 8 … references handed back (`browse` entries with a `count`), so a walk of the
 * whole address space shows at once and costs a handful of entries.
 */
import { createHash } from 'node:crypto';
import { AnonymousIdentityToken, AttributeIds, MessageSecurityMode, StatusCodes, UserNameIdentityToken, X509IdentityToken, type OPCUAServer, type StatusCode } from 'node-opcua';
import type { AuditEntry } from '../../core/commands.ts';
import { AuditThrottle, Milestones } from '../../host/audit-throttle.ts';
import { capMap } from '../../host/cap.ts';

/** What the audit needs to know of the address space. */
export interface AuditScope {
  /** node ids (as `ns=…;s=…` strings) whose Value writes the line decides and logs */
  routedWrites: ReadonlySet<string>;
  /** method node ids the line decides and logs */
  routedCalls: ReadonlySet<string>;
}

type Audit = (a: AuditEntry) => void;

/** What `auditServer` shares with the rest of the face. */
export interface AuditOptions {
  /** channel ids whose refused certificate is audited already (their channel failure is not audited again) */
  refusedChannels: Set<number>;
  throttle: AuditThrottle;
  /** the user an identity token names (an account for a mapped user certificate, never its CN) */
  userOf: (token: unknown) => string;
}

/** A short SHA-1 thumbprint of a DER certificate, or ''. */
export function thumbprint(cert: Buffer | null | undefined): string {
  return cert !== null && cert !== undefined && cert.length > 0 ? createHash('sha1').update(cert).digest('hex') : '';
}

interface Peer {
  remoteAddress?: string;
  remotePort?: number;
  clientCertificate?: Buffer | null;
}

function peerOf(channel: Peer | undefined): string {
  if (channel === undefined) return '?';
  const thumb = thumbprint(channel.clientCertificate);
  return `${channel.remoteAddress ?? '?'}:${channel.remotePort ?? '?'}${thumb === '' ? '' : `#${thumb}`}`;
}

const name = (s: StatusCode): string => s.name;

/** sessions whose principal is remembered for their browse counts at most */
const MAX_SESSIONS = 10_000;

/** The kind of identity a token carries, in words. */
function identityKind(token: unknown): string {
  if (token instanceof UserNameIdentityToken) return 'user name and password';
  if (token instanceof X509IdentityToken) return 'user certificate';
  if (token === null || token === undefined || token instanceof AnonymousIdentityToken) return 'anonymous';
  return 'unknown identity';
}

/** `SecurityMode None, policy None`: what protects a channel. */
export function channelSecurity(channel: { securityMode?: unknown; securityPolicy?: unknown } | undefined): string {
  const mode = typeof channel?.securityMode === 'number' ? (MessageSecurityMode[channel.securityMode] ?? String(channel.securityMode)) : '?';
  const uri = typeof channel?.securityPolicy === 'string' ? channel.securityPolicy : '';
  return `SecurityMode ${mode}, policy ${uri === '' ? '?' : (uri.split('#').pop() ?? uri)}`;
}

/** Hooks the server's events; call before `server.start()`. */
export function auditServer(server: OPCUAServer, scope: AuditScope, audit: Audit, o: AuditOptions): void {
  const emitter = server as unknown as NodeJS.EventEmitter;
  // an audit that fails must never take the server down: it is reported once and skipped
  let failed = false;
  const ev = {
    on<A extends unknown[]>(event: string, fn: (...a: A) => void): void {
      emitter.on(event, (...a: A) => {
        try {
          fn(...a);
        } catch (e) {
          if (!failed) console.error(`OPC UA audit: ${event}: ${(e as Error).message} (further audit errors are not shown)`);
          failed = true;
        }
      });
    },
  };
  // requests by channel and handle, to pair each refused response with what was asked
  const pending = new WeakMap<object, Map<number, { kind: string; body: unknown }>>();

  // a client that retries must not flood the trail: one entry per peer and certificate per window
  ev.on('openSecureChannelFailure', (socket: Peer & { reason?: string }, channel: (Peer & { channelId?: number }) | undefined) => {
    if (channel?.channelId !== undefined && o.refusedChannels.delete(channel.channelId)) return; // its certificate refusal was audited
    const thumb = thumbprint(channel?.clientCertificate);
    const skipped = o.throttle.pass(`channel:${socket.remoteAddress ?? '?'}#${thumb}`);
    if (skipped === null) return;
    audit({
      source: 'opcua', principal: `?@${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}${thumb === '' ? '' : `#${thumb}`}`,
      action: 'channel', outcome: 'denied', reason: AuditThrottle.note(String(socket.reason ?? 'secure channel refused'), skipped, o.throttle.windowMs),
    });
  });
  ev.on('connectionRefused', (socket: Peer & { reason?: string }) => {
    const skipped = o.throttle.pass(`connect:${socket.remoteAddress ?? '?'}`);
    if (skipped === null) return;
    audit({
      source: 'opcua', principal: `?@${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, action: 'connect', outcome: 'denied',
      reason: AuditThrottle.note(String(socket.reason ?? 'connection refused'), skipped, o.throttle.windowMs),
    });
  });
  // principals of the sessions, by authentication token: a Browse names its session only by that
  const principals = new Map<string, string>();
  const browsed = new Milestones(60 * 60_000);
  ev.on('session_activated', (session: { nodeId?: { toString(): string }; channel?: Peer & { securityMode?: unknown; securityPolicy?: unknown }; authenticationToken?: { toString(): string } }, token: unknown) => {
    const principal = `${o.userOf(token)}@${session.nodeId?.toString() ?? '?'}@${peerOf(session.channel)}`;
    const auth = session.authenticationToken?.toString();
    if (auth !== undefined) {
      principals.set(auth, principal);
      capMap(principals, MAX_SESSIONS);
    }
    audit({ source: 'opcua', principal, action: 'session', outcome: 'allowed', reason: `${identityKind(token)} over ${channelSecurity(session.channel)}` });
  });
  ev.on('session_closed', (session: { authenticationToken?: { toString(): string } }) => {
    const auth = session.authenticationToken?.toString();
    if (auth === undefined) return;
    principals.delete(auth);
    browsed.drop(auth);
  });
  ev.on('request', (request: { schema?: { name?: string }; requestHeader?: { requestHandle?: number } }, channel: object) => {
    const kind = request.schema?.name ?? '';
    if (kind !== 'CreateSessionRequest' && kind !== 'ActivateSessionRequest' && kind !== 'WriteRequest' && kind !== 'CallRequest'
      && kind !== 'BrowseRequest' && kind !== 'BrowseNextRequest') return;
    let m = pending.get(channel);
    if (m === undefined) pending.set(channel, (m = new Map()));
    m.set(request.requestHeader?.requestHandle ?? -1, { kind, body: request });
  });
  ev.on('response', (response: { responseHeader?: { requestHandle?: number; serviceResult?: StatusCode }; results?: unknown[] }, channel: Peer & object) => {
    const handle = response.responseHeader?.requestHandle ?? -1;
    const m = pending.get(channel);
    const req = m?.get(handle);
    if (req === undefined) return;
    m?.delete(handle);
    const service = response.responseHeader?.serviceResult ?? StatusCodes.Good;
    const peer = peerOf(channel);
    if (req.kind === 'BrowseRequest' || req.kind === 'BrowseNextRequest') {
      // what the session learnt of the address space: the references handed back
      let refs = 0;
      for (const r of (response.results ?? []) as { references?: unknown[] | null }[]) refs += r?.references?.length ?? 0;
      const auth = (req.body as { requestHeader?: { authenticationToken?: { toString(): string } } }).requestHeader?.authenticationToken?.toString() ?? '';
      const n = refs > 0 ? browsed.add(auth, refs) : null;
      if (n !== null) {
        audit({ source: 'opcua', principal: principals.get(auth) ?? `?@${peer}`, action: 'browse', outcome: 'allowed', reason: `${n} references browsed in this session`, count: n });
      }
      return;
    }
    if (req.kind === 'CreateSessionRequest') {
      if (!service.isGood()) audit({ source: 'opcua', principal: `?@${peer}`, action: 'session', outcome: 'denied', reason: name(service) });
      return;
    }
    if (req.kind === 'ActivateSessionRequest') {
      if (service.isGood()) return; // the session_activated event tells it
      const token = (req.body as { userIdentityToken?: unknown }).userIdentityToken;
      audit({ source: 'opcua', principal: `${o.userOf(token)}@${peer}`, action: 'session', outcome: 'denied', reason: name(service) });
      return;
    }
    const results = (response.results ?? []) as (StatusCode | { statusCode?: StatusCode })[];
    if (req.kind === 'WriteRequest') {
      const nodes = (req.body as { nodesToWrite?: { nodeId: { toString(): string }; attributeId: number }[] }).nodesToWrite ?? [];
      nodes.forEach((n, k) => {
        const id = n.nodeId.toString();
        if (n.attributeId === AttributeIds.Value && scope.routedWrites.has(id)) return; // the line logged it
        const r = results[k] as StatusCode | undefined;
        const code = service.isGood() ? r : service;
        if (code === undefined || code.isGood()) return;
        audit({ source: 'opcua', principal: peer, action: 'write', outcome: 'denied', target: `${id}#${AttributeIds[n.attributeId] ?? n.attributeId}`, reason: name(code) });
      });
      return;
    }
    const calls = (req.body as { methodsToCall?: { objectId: { toString(): string }; methodId: { toString(): string } }[] }).methodsToCall ?? [];
    calls.forEach((c, k) => {
      const id = c.methodId.toString();
      if (scope.routedCalls.has(id)) return;
      const r = results[k] as { statusCode?: StatusCode } | undefined;
      const code = service.isGood() ? r?.statusCode : service;
      if (code === undefined || code.isGood()) return;
      audit({ source: 'opcua', principal: peer, action: 'call', outcome: 'denied', target: `${c.objectId.toString()}/${id}`, reason: name(code) });
    });
  });
}
