/**
 * Who an OPC UA session is, from the one account store (sim/host/accounts.ts): a user name
 * and password checked against the store, or an X.509 user certificate that is trusted (in
 * the user-certificate trust list) AND mapped to an account by thumbprint. A certificate's
 * CN names nobody. The role is the account's, looked up again at every write and call, so a
 * revoked account or a changed role takes effect without a new session. Failed logins back
 * off through the shared `LoginGuard`, per user and per peer address; refusals are audited.
 */
import { AnonymousIdentityToken, StatusCodes, UserNameIdentityToken, X509IdentityToken, type ISessionContext, type StatusCode } from 'node-opcua';
import type { AuditEntry, Role } from '../../core/commands.ts';
import type { AccountStore, Identity } from '../../host/accounts.ts';
import type { LoginGuard } from '../../host/login-guard.ts';
import { AuditThrottle } from '../../host/audit-throttle.ts';
import type { IdentityAttempt } from './seam.ts';
import { leafThumbprint } from './pki-files.ts';

/** What the face needs to know about identities. */
export interface Identities {
  /** who the session of `ctx` is now; null: no session, or its account is revoked or unmapped since */
  of(ctx: ISessionContext | null | undefined): Identity | null;
  /** the user an identity token names, for the audit trail: the account of a mapped certificate, never its CN */
  userOf(token: unknown): string;
}

function certificateOf(token: X509IdentityToken): Buffer {
  const data = token.certificateData as Buffer | Buffer[] | null;
  return Array.isArray(data) ? (data[0] ?? Buffer.alloc(0)) : (data ?? Buffer.alloc(0));
}

/** Identities over `accounts`; `anonymous` is the role of anonymous sessions (null: none may open). */
export function identities(accounts: AccountStore, anonymous: Role | null): Identities {
  const byToken = (token: unknown): Identity | null => {
    if (token instanceof AnonymousIdentityToken) return anonymous === null ? null : { user: 'anonymous', role: anonymous };
    if (token instanceof UserNameIdentityToken) {
      const user = typeof token.userName === 'string' ? token.userName : '';
      const role = user === '' ? null : accounts.roleOf(user);
      return role === null ? null : { user, role };
    }
    if (token instanceof X509IdentityToken) {
      const thumb = leafThumbprint(certificateOf(token));
      return thumb === '' ? null : accounts.byCertificate(thumb);
    }
    return null;
  };
  return {
    of(ctx) {
      const token = ctx?.session?.userIdentityToken;
      return token === undefined ? null : byToken(token);
    },
    userOf(token) {
      if (token === null || token === undefined || token instanceof AnonymousIdentityToken) return 'anonymous';
      if (token instanceof UserNameIdentityToken) return typeof token.userName === 'string' && token.userName !== '' ? token.userName : '?';
      if (token instanceof X509IdentityToken) {
        const thumb = leafThumbprint(certificateOf(token));
        return accounts.byCertificate(thumb)?.user ?? `x509:${thumb.slice(0, 16) || '?'}`;
      }
      return 'unknown';
    },
  };
}

/** How long a refusal of a blocked login is logged once per key [ms]. */
const BLOCKED_AUDIT_MS = 10_000;

/** Login checks of the hardened profile: passwords, user certificates, the back-off. */
export interface LoginChecks {
  /** node-opcua's user manager: checks a user name and password (`this` is the session) */
  userManager: { isValidUserAsync(this: unknown, user: string, password: string, done: (err: Error | null, ok?: boolean) => void): void };
  /** before node-opcua checks an identity token: refuses peers and users in back-off */
  before(a: IdentityAttempt): StatusCode | null;
  /** after it: a user certificate logs in only if node-opcua trusts it and it is mapped to an account */
  after(a: IdentityAttempt): StatusCode;
}

/** The login checks over `accounts` and `guard`; `userPki` names the user-certificate trust list in messages. */
export function loginChecks(accounts: AccountStore, guard: LoginGuard, audit: (a: AuditEntry) => void, userPki: string): LoginChecks {
  const blockedAudits = new AuditThrottle(BLOCKED_AUDIT_MS);
  const denied = (principal: string, reason: string): void => audit({ source: 'opcua', principal, action: 'login', outcome: 'denied', reason });
  const peerKey = (address: string): string => `peer:${address}`;
  const userName = (token: unknown): string | null =>
    token instanceof UserNameIdentityToken && typeof token.userName === 'string' ? token.userName : null;
  return {
    userManager: {
      // scrypt on the thread pool (as on REST and MQTT): a flood of wrong passwords does not stall the host
      isValidUserAsync(this: unknown, user: string, password: string, done: (err: Error | null, ok?: boolean) => void): void {
        const channel = (this as { channel?: { remoteAddress?: string; remotePort?: number } } | null)?.channel;
        const address = channel?.remoteAddress ?? '?';
        const keys = [`user:${String(user)}`, peerKey(address)];
        accounts.verifyAsync(user, password).then((id) => {
          if (id === null) {
            guard.failed(...keys);
            denied(`${String(user)}@${address}:${channel?.remotePort ?? '?'}`, 'bad user name or password');
            done(null, false);
            return;
          }
          guard.succeeded(...keys);
          done(null, true);
        }, (e: unknown) => done(e instanceof Error ? e : new Error(String(e))));
      },
    },
    before(a) {
      if (a.token instanceof AnonymousIdentityToken || a.token === null || a.token === undefined) return null;
      const user = userName(a.token);
      const keys = user === null ? [peerKey(a.remoteAddress)] : [`user:${user}`, peerKey(a.remoteAddress)];
      const wait = guard.blockedFor(...keys);
      if (wait === 0) return null;
      const skipped = blockedAudits.pass(keys.join('|'));
      if (skipped !== null) {
        const who = user ?? `x509:${a.token instanceof X509IdentityToken ? leafThumbprint(certificateOf(a.token)).slice(0, 16) : '?'}`;
        denied(`${who}@${a.remoteAddress}:${a.remotePort}`, AuditThrottle.note(`too many failed logins: refused without checking for ${Math.ceil(wait / 1000)} s more`, skipped, BLOCKED_AUDIT_MS));
      }
      return StatusCodes.BadUserAccessDenied;
    },
    after(a) {
      if (!(a.token instanceof X509IdentityToken) || a.status === null) return a.status ?? StatusCodes.BadInternalError;
      const thumb = leafThumbprint(certificateOf(a.token));
      const principal = `x509:${thumb.slice(0, 16) || '?'}@${a.remoteAddress}:${a.remotePort}`;
      if (a.status.isNotGood()) {
        guard.failed(peerKey(a.remoteAddress));
        denied(principal, `user certificate ${thumb} refused (${a.status.name}): not in the user-certificate trust list, or not valid (to trust it, move it from ${userPki}/rejected to ${userPki}/trusted/certs and map it to an account)`);
        return a.status;
      }
      const id = accounts.byCertificate(thumb);
      if (id === null) {
        guard.failed(peerKey(a.remoteAddress));
        denied(principal, `user certificate ${thumb} is trusted but mapped to no account (\`twinline accounts map-cert <user> ${thumb}\`); its subject names nobody`);
        return StatusCodes.BadIdentityTokenRejected;
      }
      guard.succeeded(peerKey(a.remoteAddress), `user:${id.user}`);
      return a.status;
    },
  };
}
