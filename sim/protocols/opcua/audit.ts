/**
 * The OPC UA face's own audit trail: what node-opcua decides before the line sees anything —
 * secure channels refused (wrong policy, too many; unknown certificates are audited by the
 * certificate manager in security.ts), sessions created, activated or refused
 * (anonymous on the hardened profile, bad passwords), and writes and calls to nodes the line
 * does not route (unknown nodes, other attributes) — goes to the event log as `audit` events,
 * naming user, session, certificate thumbprint and peer. Writes and calls the line decides are
 * logged by the line itself (`command` / `rejected`), so they are not audited twice.
 */
import { createHash } from 'node:crypto';
import { AttributeIds, StatusCodes, type OPCUAServer, type StatusCode } from 'node-opcua';
import type { AuditEntry } from '../../core/commands.ts';

/** What the audit needs to know of the address space. */
export interface AuditScope {
  /** node ids (as `ns=…;s=…` strings) whose Value writes the line decides and logs */
  routedWrites: ReadonlySet<string>;
  /** method node ids the line decides and logs */
  routedCalls: ReadonlySet<string>;
}

type Audit = (a: AuditEntry) => void;

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

/** The user an identity token names. */
function userOf(token: unknown): string {
  const t = token as { userName?: unknown; schema?: { name?: string }; constructor?: { name?: string } } | null | undefined;
  if (t === null || t === undefined) return 'anonymous';
  if (typeof t.userName === 'string' && t.userName !== '') return t.userName;
  const kind = t.schema?.name ?? t.constructor?.name ?? '';
  if (kind.startsWith('Anonymous')) return 'anonymous';
  if (kind.startsWith('X509')) return 'x509-user';
  return kind === '' ? 'unknown' : kind.replace(/IdentityToken$/, '').toLowerCase();
}

const name = (s: StatusCode): string => s.name;

/** Hooks the server's events; call before `server.start()`. */
export function auditServer(server: OPCUAServer, scope: AuditScope, audit: Audit): void {
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

  ev.on('openSecureChannelFailure', (socket: Peer & { reason?: string }, channel: Peer | undefined) => {
    audit({
      source: 'opcua', principal: `?@${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}${channel?.clientCertificate ? `#${thumbprint(channel.clientCertificate)}` : ''}`,
      action: 'channel', outcome: 'denied', reason: String(socket.reason ?? 'secure channel refused'),
    });
  });
  ev.on('connectionRefused', (socket: Peer & { reason?: string }) => {
    audit({ source: 'opcua', principal: `?@${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, action: 'connect', outcome: 'denied', reason: String(socket.reason ?? 'connection refused') });
  });
  ev.on('session_activated', (session: { nodeId?: { toString(): string }; channel?: Peer }, token: unknown) => {
    audit({ source: 'opcua', principal: `${userOf(token)}@${session.nodeId?.toString() ?? '?'}@${peerOf(session.channel)}`, action: 'session', outcome: 'allowed' });
  });
  ev.on('request', (request: { schema?: { name?: string }; requestHeader?: { requestHandle?: number } }, channel: object) => {
    const kind = request.schema?.name ?? '';
    if (kind !== 'CreateSessionRequest' && kind !== 'ActivateSessionRequest' && kind !== 'WriteRequest' && kind !== 'CallRequest') return;
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
    if (req.kind === 'CreateSessionRequest') {
      if (!service.isGood()) audit({ source: 'opcua', principal: `?@${peer}`, action: 'session', outcome: 'denied', reason: name(service) });
      return;
    }
    if (req.kind === 'ActivateSessionRequest') {
      if (service.isGood()) return; // the session_activated event tells it
      const token = (req.body as { userIdentityToken?: unknown }).userIdentityToken;
      audit({ source: 'opcua', principal: `${userOf(token)}@${peer}`, action: 'session', outcome: 'denied', reason: name(service) });
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
