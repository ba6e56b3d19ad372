/**
 * Who is asking, for the REST API and the live socket. Credentials come from the account
 * store, never from a header that names a user: a bearer token from `POST /api/login`, or HTTP
 * Basic for scripts (`curl -u operator:…`). A browser cannot attach either to a request another
 * origin makes, so with the Origin and Host checks (`http-guard.ts`) the plane resists CSRF
 * and DNS rebinding. Under the `open` profile a request without a credential acts as an
 * anonymous operator (a classroom only, as the banner says).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Role } from '../core/commands.ts';
import type { AccountStore, Identity } from './accounts.ts';
import type { LoginGuard } from './login-guard.ts';
import { capMap } from './cap.ts';

/** The security profile of every face: `open` (classroom) or `hardened`. */
export type Profile = 'open' | 'hardened';

/** how long a token lives [ms] */
const TOKEN_TTL_MS = 12 * 3600_000;
/** tokens kept at most; the oldest is dropped first */
const MAX_TOKENS = 1000;
/** the live socket's subprotocol; a token rides as a second one, `bearer.<token>` */
export const LIVE_PROTOCOL = 'twinline.v1';

/** Bearer tokens issued by `POST /api/login`, in memory (a restart logs everyone out). */
export class TokenStore {
  private readonly tokens = new Map<string, { user: string; expires: number }>();
  constructor(private readonly accounts: AccountStore, private readonly now: () => number = Date.now) {}

  issue(id: Identity): { token: string; expiresAt: string } {
    const token = randomBytes(24).toString('base64url');
    const expires = this.now() + TOKEN_TTL_MS;
    this.tokens.set(token, { user: id.user, expires });
    capMap(this.tokens, MAX_TOKENS);
    return { token, expiresAt: new Date(expires).toISOString() };
  }

  /** The identity behind a token; the role is read from the store now, so a revocation or role change takes effect at once. */
  check(token: string): Identity | null {
    const t = this.tokens.get(token);
    if (t === undefined) return null;
    if (t.expires <= this.now()) {
      this.tokens.delete(token);
      return null;
    }
    const role = this.accounts.roleOf(t.user);
    if (role === null) {
      this.tokens.delete(token);
      return null;
    }
    return { user: t.user, role };
  }

  revoke(token: string): boolean {
    return this.tokens.delete(token);
  }

  /** Revokes every token of `user`; how many there were. */
  revokeUser(user: string): number {
    let n = 0;
    for (const [token, t] of this.tokens) {
      if (t.user === user && this.tokens.delete(token)) n++;
    }
    return n;
  }
}

/** What the REST plane needs to decide who is asking. */
export interface HttpAuth {
  profile: Profile;
  accounts: AccountStore;
  guard: LoginGuard;
  tokens: TokenStore;
  /** incident response's bans (containment.ts): why an account (or `anonymous`) is refused now, or null */
  gate?: { account(user: string): string | null };
}

/** The outcome of looking at a request's credential. */
export type Who =
  | { ok: true; user: string; role: Role; principal: string }
  | { ok: false; status: 401 | 429; message: string; retryAfterS?: number; audit?: string; /** the user name of a refused password */ user?: string };

/** The peer address of a request (for principals and back-off keys). */
export function peerOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '?';
}

/** The bearer token of a request: `Authorization: Bearer …`, or for the live socket the `bearer.…` subprotocol. */
export function tokenOf(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^bearer /i.test(h)) return h.slice(7).trim();
  const proto = req.headers['sec-websocket-protocol'];
  if (typeof proto === 'string') {
    for (const p of proto.split(',')) {
      const t = p.trim();
      if (t.startsWith('bearer.')) return t.slice(7);
    }
  }
  return null;
}

/** Checks a user name and password through the back-off guard; audits what it refuses. */
export async function login(auth: HttpAuth, user: string, password: string, peer: string): Promise<Who> {
  const keys = [`peer:${peer}`, `user:${user}`];
  const wait = auth.guard.blockedFor(...keys);
  if (wait > 0) return { ok: false, status: 429, message: `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`, retryAfterS: Math.ceil(wait / 1000), audit: 'login refused while backing off' };
  const id = await auth.accounts.verifyAsync(user, password);
  if (id === null) {
    auth.guard.failed(...keys);
    return { ok: false, status: 401, message: 'bad user name or password', audit: 'bad user name or password', user };
  }
  const banned = auth.gate?.account(id.user) ?? null;
  if (banned !== null) {
    // a banned account's logins back off like wrong passwords (per user only: its peer may be a responder's too)
    auth.guard.failed(`user:${user}`);
    return { ok: false, status: 401, message: banned, audit: banned, user };
  }
  auth.guard.succeeded(...keys);
  return { ok: true, user: id.user, role: id.role, principal: `${id.user}@${peer}` };
}

/** Who sent `req`: its token or Basic credential, else anonymous under `open`, else 401. */
export async function identify(req: IncomingMessage, auth: HttpAuth): Promise<Who> {
  const peer = peerOf(req);
  const token = tokenOf(req);
  if (token !== null) {
    const id = auth.tokens.check(token);
    if (id === null) return { ok: false, status: 401, message: 'the token is unknown, expired or its account revoked: log in again' };
    const banned = auth.gate?.account(id.user) ?? null;
    if (banned !== null) {
      auth.tokens.revoke(token);
      return { ok: false, status: 401, message: banned, audit: banned };
    }
    return { ok: true, user: id.user, role: id.role, principal: `${id.user}@${peer}` };
  }
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^basic /i.test(h)) {
    const text = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return { ok: false, status: 401, message: 'Basic credentials must be user:password' };
    return login(auth, text.slice(0, colon), text.slice(colon + 1), peer);
  }
  if (auth.profile === 'open') {
    const banned = auth.gate?.account('anonymous') ?? null;
    if (banned !== null) return { ok: false, status: 401, message: `${banned}: log in with an account`, audit: banned };
    return { ok: true, user: 'anonymous', role: 'operator', principal: `anonymous@${peer}` };
  }
  return { ok: false, status: 401, message: 'log in first: POST /api/login {"user","password"} and send Authorization: Bearer <token> (or HTTP Basic)' };
}
