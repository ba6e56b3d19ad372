/**
 * The attached page's login to its host. The host's REST API and live socket take a bearer
 * token from `POST /api/login`; the page keeps it in sessionStorage (gone with the tab, never
 * shared with other tabs or written to disk as localStorage would be) and sends it with every
 * request and as the live socket's `bearer.<token>` subprotocol. A 401 later (token expired or
 * revoked, account removed) signs the page out. Under the host's `open` profile a page without
 * a token acts as the anonymous operator and needs no login.
 */
import { isRole, type Role } from './roles.ts';

/** The host's security profile. */
export type Profile = 'open' | 'hardened';

/** Who the host says the page is (`GET /api/whoami`). */
export interface Who {
  user: string;
  role: Role;
  profile: Profile;
}

/** Where the page stands with its host. */
export type SessionState =
  | { kind: 'checking' }
  /** `expired`: a token the page held was refused */
  | { kind: 'signed-out'; expired: boolean }
  /** `token` null: anonymous under the open profile */
  | { kind: 'signed-in'; who: Who; token: string | null };

/** The outcome of a login attempt. */
export type LoginResult =
  | { ok: true }
  /** status 401 bad credentials, 429 backing off (`retryAfterS`), 0 the host did not answer */
  | { ok: false; status: number; message: string; retryAfterS: number | null };

/** The live socket's subprotocol; the token rides as a second one. */
export const LIVE_PROTOCOL = 'twinline.v1';
/** sessionStorage key of the token */
export const TOKEN_KEY = 'twinline.token';

type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The page's session with the host that served it; a small external store for React. */
export class Session {
  state: SessionState = { kind: 'checking' };
  private readonly listeners = new Set<() => void>();

  /** `base`: the host's path prefix, as served (`/`) */
  constructor(readonly base = '/', private readonly storage: TokenStorage = sessionStorage) {}

  readonly subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  readonly get = (): SessionState => this.state;

  /** the token held, or null */
  token(): string | null {
    return this.storage.getItem(TOKEN_KEY);
  }

  /** Subprotocols for the live socket: the feed's own, and the token if there is one. */
  protocols(): string[] {
    const t = this.token();
    return t === null ? [LIVE_PROTOCOL] : [LIVE_PROTOCOL, `bearer.${t}`];
  }

  /** `fetch` of a path under the host with the token; a 401 signs the page out. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const token = this.token();
    const headers = new Headers(init.headers);
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    const r = await fetch(`${this.base}${path}`, { cache: 'no-store', ...init, headers });
    // only the token this request carried is dropped: a login meanwhile keeps its new one
    if (r.status === 401 && this.token() === token) this.expire(token !== null);
    return r;
  }

  /**
   * Asks the host who the page is; signs in (token or anonymous) or out. Throws if the host
   * does not answer. `expired`: the sign-out, if any, follows a refused token.
   */
  async check(expired = false): Promise<void> {
    const token = this.token();
    const r = await fetch(`${this.base}api/whoami`, { cache: 'no-store', headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    if (r.status === 401) {
      this.storage.removeItem(TOKEN_KEY);
      // a refused token under the open profile: the page may still go on anonymously
      if (token !== null) return this.check(true);
      return this.set({ kind: 'signed-out', expired });
    }
    if (!r.ok) throw new Error(`api/whoami: HTTP ${r.status}`);
    const body = (await r.json()) as { user?: unknown; role?: unknown; profile?: unknown };
    if (typeof body.user !== 'string' || !isRole(body.role)) throw new Error('api/whoami: the host named no user and role');
    this.set({ kind: 'signed-in', who: { user: body.user, role: body.role, profile: body.profile === 'open' ? 'open' : 'hardened' }, token });
  }

  /** Logs in with a user name and password; on success the token is kept and the page signed in. */
  async login(user: string, password: string): Promise<LoginResult> {
    let r: Response;
    try {
      r = await fetch(`${this.base}api/login`, { method: 'POST', cache: 'no-store', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
    } catch (e) {
      return { ok: false, status: 0, message: e instanceof Error ? e.message : String(e), retryAfterS: null };
    }
    const body = (await r.json().catch(() => ({}))) as { token?: unknown; error?: { message?: unknown } };
    if (!r.ok || typeof body.token !== 'string') {
      const retry = Number(r.headers.get('retry-after'));
      return { ok: false, status: r.status, message: typeof body.error?.message === 'string' ? body.error.message : `HTTP ${r.status}`, retryAfterS: Number.isFinite(retry) && retry > 0 ? retry : null };
    }
    this.storage.setItem(TOKEN_KEY, body.token);
    await this.check();
    return { ok: true };
  }

  /** Revokes the token at the host (best effort) and forgets it. */
  async logout(): Promise<void> {
    const token = this.token();
    this.storage.removeItem(TOKEN_KEY);
    if (token !== null) {
      await fetch(`${this.base}api/logout`, { method: 'POST', cache: 'no-store', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    }
    await this.check();
  }

  private expire(hadToken: boolean): void {
    this.storage.removeItem(TOKEN_KEY);
    const open = this.state.kind === 'signed-in' && this.state.who.profile === 'open';
    if (open) void this.check(hadToken).catch(() => this.set({ kind: 'signed-out', expired: hadToken }));
    else this.set({ kind: 'signed-out', expired: hadToken });
  }

  private set(s: SessionState): void {
    this.state = s;
    for (const l of this.listeners) l();
  }
}

/** A REST call of the session that answers JSON; a refusal throws with the host's message. */
export async function apiJson<T>(session: Session, path: string, init?: RequestInit): Promise<T> {
  const r = await session.fetch(path, init);
  const body = (await r.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!r.ok) throw new Error(body.error?.message ?? `${path}: HTTP ${r.status}`);
  return body;
}

/** A POST with a JSON body. */
export const postJson = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
