/**
 * Security profiles of the OPC UA face. `open` is the classroom: SecurityPolicy None,
 * anonymous sessions, a loud warning. `hardened` offers SignAndEncrypt only with the modern
 * policies, user accounts (scrypt-hashed, in the run directory; role `operator` may write and
 * call methods, role `viewer` may only read and subscribe), no anonymous sessions, a
 * certificate trust list in the run directory (unknown client certificates land in
 * `pki/rejected/` until an operator moves them to `pki/trusted/certs/`) and session limits.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, SecurityPolicy, type OPCUAServerOptions, type StatusCode } from 'node-opcua';
import type { AuditEntry } from '../../core/commands.ts';
import { TwinlineError } from '../../core/errors.ts';

/** A security profile name. */
export type OpcuaProfile = 'open' | 'hardened';

/** What an OPC UA account may do: `operator` writes and calls methods, `viewer` only reads. */
export type OpcuaRole = 'operator' | 'viewer';

/** One account of `users.json`: scrypt hash of the password, hex, and its role (default operator). */
interface Account {
  salt: string;
  hash: string;
  role: OpcuaRole;
}

/** What a profile contributes to the server options, and what to tell the operator. */
export interface ProfileSetup {
  options: Partial<OPCUAServerOptions>;
  /** lines to print at startup (warnings, where accounts and trust lists live) */
  notes: string[];
  /** the role of a session's user (`anonymous` in the open profile is an operator) */
  roleOf(user: string): OpcuaRole;
}

const HARDENED_POLICIES = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss];
/** sessions the hardened server accepts at once */
const HARDENED_MAX_SESSIONS = 10;
const OPEN_MAX_SESSIONS = 50;

function hashPassword(password: string, salt: Buffer): Buffer {
  return scryptSync(password, salt, 32);
}

/** Reads `users.json`, creating it with an `operator` and a `viewer` account (random passwords, printed once) when missing. */
function loadAccounts(file: string, notes: string[]): Map<string, Account> {
  if (!existsSync(file)) {
    const accounts: Record<string, Account> = {};
    for (const role of ['operator', 'viewer'] as const) {
      const password = randomBytes(12).toString('base64url');
      const salt = randomBytes(16);
      accounts[role] = { salt: salt.toString('hex'), hash: hashPassword(password, salt).toString('hex'), role };
      notes.push(`  OPC UA account "${role}" created in ${file}; password (shown once): ${password}`);
    }
    writeFileSync(file, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TwinlineError('BAD_ARGUMENT', `OPC UA accounts file is not valid JSON: ${(e as Error).message}`, { file });
  }
  const out = new Map<string, Account>();
  if (typeof parsed === 'object' && parsed !== null) {
    for (const [name, a] of Object.entries(parsed)) {
      const acc = a as Partial<Account> | null;
      if (typeof acc?.salt === 'string' && typeof acc.hash === 'string') out.set(name, { salt: acc.salt, hash: acc.hash, role: acc.role === 'viewer' ? 'viewer' : 'operator' });
    }
  }
  if (out.size === 0) throw new TwinlineError('BAD_ARGUMENT', 'OPC UA accounts file has no account with salt and hash', { file });
  return out;
}

function checkPassword(accounts: Map<string, Account>, user: string, password: string): boolean {
  const a = accounts.get(user);
  if (a === undefined || typeof password !== 'string') return false;
  const want = Buffer.from(a.hash, 'hex');
  const got = hashPassword(password, Buffer.from(a.salt, 'hex'));
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * The PKI of the server under `dir` (created when missing); `trustAll` accepts unknown client
 * certificates. Every certificate it refuses is audited (the secure channel fails before any
 * session or event names the client).
 */
export async function certificateManager(dir: string, trustAll: boolean, audit: (a: AuditEntry) => void = () => undefined): Promise<OPCUACertificateManager> {
  mkdirSync(dir, { recursive: true });
  const cm = new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: trustAll });
  await cm.initialize();
  const check = cm.checkCertificate.bind(cm) as (chain: Buffer) => Promise<StatusCode>;
  const checked = (chain: Buffer, cb?: (err: Error | null, s?: StatusCode) => void): Promise<StatusCode> | undefined => {
    const p = check(chain).then((s) => {
      if (s.isNotGood()) {
        const thumb = createHash('sha1').update(chain).digest('hex');
        audit({ source: 'opcua', principal: `?#${thumb}`, action: 'channel', outcome: 'denied', reason: `client certificate refused: ${s.name} (kept in ${join(dir, 'rejected')} until trusted)` });
      }
      return s;
    });
    if (typeof cb !== 'function') return p;
    p.then((s) => cb(null, s), (e: Error) => cb(e));
    return undefined;
  };
  (cm as unknown as { checkCertificate: typeof checked }).checkCertificate = checked;
  return cm;
}

/** Server options of a profile; PKI and accounts live in `runDir`. */
export async function profileSetup(profile: OpcuaProfile, runDir: string, audit: (a: AuditEntry) => void = () => undefined): Promise<ProfileSetup> {
  const notes: string[] = [];
  mkdirSync(runDir, { recursive: true });
  if (profile === 'open') {
    notes.push(
      '  !!! OPC UA profile "open": no encryption, no signatures, anonymous sessions may read, write and call methods.',
      '  !!! Anyone who reaches this port controls the line. Use it on a classroom network only; use --profile hardened otherwise.',
    );
    return {
      notes,
      roleOf: () => 'operator',
      options: {
        securityPolicies: [SecurityPolicy.None],
        securityModes: [MessageSecurityMode.None],
        allowAnonymous: true,
        serverCertificateManager: await certificateManager(join(runDir, 'pki'), true),
        serverCapabilities: { maxSessions: OPEN_MAX_SESSIONS },
        maxConnectionsPerEndpoint: OPEN_MAX_SESSIONS,
      },
    };
  }
  const usersFile = join(runDir, 'users.json');
  const accounts = loadAccounts(usersFile, notes);
  const pki = join(runDir, 'pki');
  notes.push(`  OPC UA hardened: SignAndEncrypt only, user accounts in ${usersFile}, trusted client certificates in ${join(pki, 'trusted', 'certs')}`);
  return {
    notes,
    roleOf: (user) => accounts.get(user)?.role ?? 'viewer',
    options: {
      securityPolicies: HARDENED_POLICIES,
      securityModes: [MessageSecurityMode.SignAndEncrypt],
      allowAnonymous: false,
      serverCertificateManager: await certificateManager(pki, false, audit),
      userManager: {
        isValidUser: (user: string, password: string) => {
          const ok = checkPassword(accounts, user, password);
          if (!ok) audit({ source: 'opcua', principal: `${String(user)}@opcua`, action: 'login', outcome: 'denied', reason: 'bad user name or password' });
          return ok;
        },
      },
      serverCapabilities: { maxSessions: HARDENED_MAX_SESSIONS },
      maxConnectionsPerEndpoint: HARDENED_MAX_SESSIONS,
    },
  };
}
