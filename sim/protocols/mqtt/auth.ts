/**
 * Who may connect to the embedded broker: accounts of the shared `AccountStore`, the twin's
 * own per-run publisher account, and (profile `open` only) anonymous clients. Failed logins
 * back off through the `LoginGuard` (per user name and per peer address): while blocked, an
 * attempt is refused without checking the password (return code 5), and that refusal is
 * audited once per back-off period, not per attempt. The twin's client ids are reserved for
 * its publisher account, so nobody can take over its session.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuditEntry } from '../../core/commands.ts';
import type { AccountStore } from '../../host/accounts.ts';
import type { LoginGuard } from '../../host/login-guard.ts';
import type { BrokerRole } from './acl.ts';
import type { AuditThrottle } from '../../host/audit-throttle.ts';
import { capMap } from '../../host/cap.ts';

/** Security profile of the embedded broker: `open` admits anonymous subscribers (a classroom); `hardened` does not. */
export type BrokerProfile = 'open' | 'hardened';

/** MQTT 3.1.1 CONNACK return codes used here. */
export const IDENTIFIER_REJECTED = 2;
export const BAD_CREDENTIALS = 4;
export const NOT_AUTHORIZED = 5;

/** A refused login: the CONNACK return code and the reason (audited). */
export interface Refusal {
  returnCode: 2 | 4 | 5;
  reason: string;
}

/** Who a client is, once accepted. */
export interface Accepted {
  /** account name; null for anonymous */
  user: string | null;
  role: BrokerRole | null;
}

/** What `Authenticator` needs. */
export interface AuthOptions {
  accounts: AccountStore;
  profile: BrokerProfile;
  guard: LoginGuard;
  /** the twin's own account (per run, never printed) */
  publisher: { user: string; password: string };
  /** client ids only the twin's publisher account may use */
  reserved(clientId: string): boolean;
  /** throttle of free-to-repeat refusals (anonymous, reserved ids), per peer and kind */
  once: AuditThrottle;
  audit(a: AuditEntry): void;
  now(): number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** See the module comment. */
export class Authenticator {
  private readonly publisherDigest: Buffer;
  /** end of the back-off period last audited, by the key that blocks */
  private readonly blockAudited = new Map<string, number>();

  constructor(private readonly o: AuthOptions) {
    this.publisherDigest = digest(o.publisher.password);
  }

  /** Checks a CONNECT; `who` is `clientId@ip:port` for the audit trail. */
  async check(clientId: string, ip: string, who: string, username: string | undefined, password: Buffer | undefined): Promise<Accepted | Refusal> {
    const pw = password?.toString('utf8') ?? '';
    if (username === undefined || username === '') {
      if (this.o.reserved(clientId)) return this.throttled(ip, 'reserved|', `anonymous/${who}`, IDENTIFIER_REJECTED, 'client id reserved for the twin');
      if (this.o.profile !== 'open') return this.throttled(ip, 'anonymous', `anonymous/${who}`, NOT_AUTHORIZED, `anonymous connections are refused (profile ${this.o.profile}); log in with an account`);
      return { user: null, role: null };
    }
    // the twin's own account; a wrong guess at it is a failed login like any other
    if (username === this.o.publisher.user && timingSafeEqual(digest(pw), this.publisherDigest)) return { user: username, role: 'publisher' };
    const userKey = `user:${username}`;
    const peerKey = `peer:${ip}`;
    const wait = this.o.guard.blockedFor(userKey, peerKey);
    if (wait > 0) {
      // a blocked attempt costs no password check; say so once per back-off period
      const key = this.o.guard.blockedFor(peerKey) > 0 ? peerKey : userKey;
      const now = this.o.now();
      if ((this.blockAudited.get(key) ?? -Infinity) <= now) {
        this.blockAudited.delete(key);
        this.blockAudited.set(key, now + wait);
        capMap(this.blockAudited, 10_000);
        this.o.audit({ source: 'mqtt', principal: `${username}/${who}`, action: 'connect', outcome: 'denied', reason: `too many failed logins (${key}); refused for ${Math.ceil(wait / 1000)} s` });
      }
      return { returnCode: NOT_AUTHORIZED, reason: 'too many failed logins; try again later' };
    }
    // scrypt on the thread pool: a flood of wrong passwords does not stall the broker or the host
    const id = await this.o.accounts.verifyAsync(username, pw);
    if (id === null) {
      this.o.guard.failed(userKey, peerKey);
      return this.denied(`${username}/${who}`, BAD_CREDENTIALS, 'bad user name or password');
    }
    if (this.o.reserved(clientId)) return this.throttled(ip, `reserved|${username}`, `${username}/${who}`, IDENTIFIER_REJECTED, 'client id reserved for the twin');
    this.o.guard.succeeded(userKey);
    return { user: id.user, role: id.role };
  }

  private denied(principal: string, returnCode: Refusal['returnCode'], reason: string): Refusal {
    this.o.audit({ source: 'mqtt', principal, action: 'connect', outcome: 'denied', reason });
    return { returnCode, reason };
  }

  /** A refusal that costs nothing to repeat: audited once per period per peer and kind (with the account, if any). */
  private throttled(ip: string, kind: string, principal: string, returnCode: Refusal['returnCode'], reason: string): Refusal {
    const held = this.o.once.pass(`${kind}|${ip}`);
    if (held !== null) this.o.audit({ source: 'mqtt', principal, action: 'connect', outcome: 'denied', reason: held > 0 ? `${reason} (and ${held} more from ${ip} since the last entry)` : reason });
    return { returnCode, reason };
  }
}
