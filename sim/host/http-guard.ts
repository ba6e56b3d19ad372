/**
 * The HTTP plane's front door, before any route runs: the `Host` header must name this server
 * (a DNS-rebinding page names its own domain), a browser's `Origin` must be this server's own
 * (a page on another origin may not post commands or open the live socket), and request bodies
 * are JSON of bounded size (a form or text/plain body, which a browser sends cross-origin
 * without asking, is 415).
 */
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

/** largest accepted request body [bytes] */
export const MAX_BODY = 64 * 1024;

/** A refusal: HTTP status and a plain reason. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** Names this server answers to, as `host:port` (lower case). */
export class HostNames {
  private readonly names = new Set<string>();
  private readonly origins = new Set<string>();

  /**
   * `bindHost` is the address listened on; a wildcard (0.0.0.0, ::) adds every interface's
   * address and the machine's name. `extraHosts` are more names (`name` or `name:port`);
   * `extraOrigins` are more allowed browser origins (`http://name:port`).
   */
  constructor(bindHost: string, port: number, extraHosts: readonly string[] = [], extraOrigins: readonly string[] = []) {
    const hosts = new Set(['127.0.0.1', 'localhost', '[::1]']);
    const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '[::]';
    if (!wildcard) hosts.add(bracket(bindHost));
    else {
      hosts.add(hostname().toLowerCase());
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) hosts.add(bracket(a.address));
    }
    for (const h of hosts) this.names.add(`${h.toLowerCase()}:${port}`);
    for (const e of extraHosts) this.names.add(e.includes(':') && !e.startsWith('[') ? e.toLowerCase() : `${e.toLowerCase()}:${port}`);
    for (const n of this.names) this.origins.add(`http://${n}`);
    for (const o of extraOrigins) this.origins.add(o.toLowerCase().replace(/\/+$/, ''));
  }

  /** Why the request's Host or Origin is not acceptable, or null. */
  check(req: IncomingMessage): Refusal | null {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.names.has(host)) {
      return { status: 421, code: 'BAD_HOST', message: `Host "${host.slice(0, 100)}" is not a name of this server (add it with --allow-host)` };
    }
    const origin = req.headers.origin;
    // browsers send Origin on POST, on cross-origin fetches and on WebSocket handshakes;
    // tools (curl, scripts) send none and are judged by their credential alone
    if (origin !== undefined && !this.origins.has(origin.toLowerCase())) {
      return { status: 403, code: 'BAD_ORIGIN', message: `requests from origin ${origin.slice(0, 100)} are refused (add it with --allow-origin)` };
    }
    return null;
  }
}

function bracket(h: string): string {
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

/** Whether a listen address reaches beyond this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** The JSON body of a request, or the refusal (415 not JSON, 413 too large, 400 malformed). */
export async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; refusal: Refusal }> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    return { ok: false, refusal: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: `the body must be application/json, not ${type === '' ? 'untyped' : type}` } };
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) {
    // a body announced past what is dropped is refused at once
    if (declared <= MAX_DISCARD) await discardBody(req);
    else req.pause();
    return { ok: false, refusal: tooLarge() };
  }
  const text = await new Promise<string | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > MAX_BODY) {
        // stop buffering at once; the rest is read and dropped (bounded) before the 413
        req.off('data', onData);
        chunks.length = 0;
        void discardBody(req).then(() => resolve(null));
      } else chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  if (text === null) return { ok: false, refusal: tooLarge() };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, refusal: { status: 400, code: 'BAD_ARGUMENT', message: `request body is not JSON: ${(e as Error).message}` } };
  }
}

/** At most this much of a body over MAX_BODY is read and dropped before its 413 [bytes]. */
export const MAX_DISCARD = 32 * 1024 * 1024;
/** …and for at most this long [ms]. */
export const DISCARD_MS = 10_000;

/**
 * Reads what is left of a refused body and drops it, up to MAX_DISCARD bytes or DISCARD_MS,
 * so a client that sends its whole body before reading the answer (fetch does) gets the 413
 * rather than a broken pipe. Nothing is kept; past either bound the 413 goes out at once and
 * the connection is closed after it.
 */
function discardBody(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let dropped = 0;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.off('error', done);
      req.pause();
      resolve();
    };
    const onData = (c: Buffer): void => {
      dropped += c.length;
      if (dropped > MAX_DISCARD) done();
    };
    const timer = setTimeout(done, DISCARD_MS);
    if (req.readableEnded) return done();
    req.on('data', onData);
    req.on('end', done);
    req.on('error', done);
    req.resume();
  });
}

function tooLarge(): Refusal {
  return { status: 413, code: 'TOO_LARGE', message: `request body larger than ${MAX_BODY} bytes` };
}
