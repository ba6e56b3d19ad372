/**
 * `GET /api/live` upgraded to a WebSocket: the host pushes the line's state (the same JSON as
 * `GET /api/state`) at a steady rate and the drained events as they come, so an attached
 * page needs no polling. `?hz=N` (1…50, default 20) sets the state rate; a client that reads
 * too slowly skips frames (the newest state always wins) but never events.
 *
 * Messages (JSON text): `{"type":"state", …state}` and `{"type":"events","events":[…]}`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuditEntry } from '../core/commands.ts';
import type { SimEvent } from '../core/events.ts';
import { identify, LIVE_PROTOCOL, peerOf, tokenOf, type HttpAuth } from './http-auth.ts';
import type { HostNames } from './http-guard.ts';

/** What the socket serves, and to whom. */
export interface LiveSource {
  /** the body of `GET /api/state` */
  state(): Promise<unknown>;
  /** called for each message sent (for the network overlay's rates) */
  sent?(): void;
  /** names and origins the handshake must come from */
  hosts: HostNames;
  /** credentials (the `bearer.<token>` subprotocol, HTTP Basic, or anonymous under `open`) */
  auth: HttpAuth;
  /** a refused handshake, for the audit trail (key: peer and reason, for throttling) */
  refused(key: string, a: AuditEntry): void;
}

/** bytes queued for one client beyond which state frames are skipped */
const MAX_BUFFERED = 1 << 20;
const PATH = '/api/live';
/** a state read younger than this is sent to other clients too [ms] (below the 50 Hz period) */
const SHARE_MS = 15;
/** how often an open feed's token is checked again [ms] */
const RECHECK_MS = 2000;
/** live clients at once; more are refused (503) */
const MAX_CLIENTS = 200;

/** A running live endpoint. */
export interface LiveSocket {
  /** Pushes drained events to every client. */
  onEvents(events: readonly SimEvent[]): void;
  close(): void;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/** The state rate a client asked for [Hz]. */
function liveRate(url: string): number {
  const hz = Number(new URL(url, 'http://localhost').searchParams.get('hz') ?? 20);
  return Number.isFinite(hz) ? Math.min(50, Math.max(1, Math.round(hz))) : 20;
}

/** Serves `/api/live` on `server`; other upgrade requests are refused. */
export function attachLiveSocket(server: Server, source: LiveSource): LiveSocket {
  // the token rides as a second subprotocol; the server answers with the plain one
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, handleProtocols: (protocols) => (protocols.has(LIVE_PROTOCOL) ? LIVE_PROTOCOL : false) });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      path = '';
    }
    if (path !== PATH) return refuseUpgrade(socket, 404, 'Not Found');
    const peer = peerOf(req);
    const front = source.hosts.check(req);
    if (front !== null) {
      source.refused(`${peer}|live|${front.code}`, { source: 'api', principal: `?@${peer}`, action: 'subscribe', outcome: 'denied', target: PATH, reason: front.message });
      return refuseUpgrade(socket, front.status, front.status === 403 ? 'Forbidden' : 'Misdirected Request');
    }
    void identify(req, source.auth).then((who) => {
      if (!who.ok) {
        source.refused(`${peer}|live|${who.status}`, { source: 'api', principal: `?@${peer}`, action: 'subscribe', outcome: 'denied', target: PATH, reason: who.message });
        return refuseUpgrade(socket, who.status, who.status === 401 ? 'Unauthorized' : 'Too Many Requests');
      }
      if (wss.clients.size >= MAX_CLIENTS) return refuseUpgrade(socket, 503, 'Service Unavailable');
      if (socket.destroyed) return undefined;
      const token = tokenOf(req);
      wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws, liveRate(req.url ?? ''), token, who.user));
      return undefined;
    }, () => refuseUpgrade(socket, 500, 'Internal Server Error'));
  });

  // clients whose timers fire close together share one state read and one JSON text (a
  // workshop room of attached pages costs about one reader, not one per page)
  let frame: { at: number; text: Promise<string> } | null = null;
  const stateText = (): Promise<string> => {
    const now = performance.now();
    if (frame === null || now - frame.at > SHARE_MS) {
      const text = source.state().then((st) => JSON.stringify({ type: 'state', ...(st as object) }));
      frame = { at: now, text };
      text.catch(() => (frame = null));
    }
    return frame.text;
  };

  function serveClient(ws: WebSocket, hz: number, token: string | null, user: string): void {
    let busy = false;
    // a logout, revocation, expiry or ban ends the feed too, not only the next REST call
    const recheck = setInterval(() => {
      if (token !== null && source.auth.tokens.check(token) === null) ws.close(4401, 'the token is no longer valid: log in again');
      else if ((source.auth.gate?.account(user) ?? null) !== null) ws.close(4403, 'the account is suspended by incident response');
    }, RECHECK_MS);
    ws.on('close', () => clearInterval(recheck));
    const timer = setInterval(() => {
      // one state read at a time per client, and none while its socket is backed up
      if (busy || ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_BUFFERED) return;
      busy = true;
      stateText().then(
        (text) => {
          busy = false;
          if (ws.readyState !== ws.OPEN) return;
          ws.send(text);
          source.sent?.();
        },
        () => {
          busy = false;
        },
      );
    }, Math.round(1000 / hz));
    ws.on('close', () => clearInterval(timer));
    ws.on('error', () => clearInterval(timer));
    // the socket is one-way: anything a client sends is answered with a close
    ws.on('message', () => ws.close(1003, 'this socket only sends; commands go to POST /api/commands'));
  }

  return {
    onEvents(events) {
      if (events.length === 0 || wss.clients.size === 0) return;
      const text = JSON.stringify({ type: 'events', events });
      for (const c of wss.clients) {
        if (c.readyState !== c.OPEN) continue;
        c.send(text);
        source.sent?.();
      }
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
