/**
 * Security profiles of the OPC UA face. `open` is the classroom: SecurityPolicy None,
 * anonymous sessions, a loud warning. `hardened` offers SignAndEncrypt only with the modern
 * policies, user accounts (scrypt-hashed, in the run directory), no anonymous sessions, a
 * certificate trust list in the run directory (unknown client certificates land in
 * `pki/rejected/` until an operator moves them to `pki/trusted/certs/`) and session limits.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, SecurityPolicy, type OPCUAServerOptions } from 'node-opcua';
import { TwinlineError } from '../../core/errors.ts';

/** A security profile name. */
export type OpcuaProfile = 'open' | 'hardened';

/** One account of `users.json`: scrypt hash of the password, hex. */
interface Account {
  salt: string;
  hash: string;
}

/** What a profile contributes to the server options, and what to tell the operator. */
export interface ProfileSetup {
  options: Partial<OPCUAServerOptions>;
  /** lines to print at startup (warnings, where accounts and trust lists live) */
  notes: string[];
}

const HARDENED_POLICIES = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss];
/** sessions the hardened server accepts at once */
const HARDENED_MAX_SESSIONS = 10;
const OPEN_MAX_SESSIONS = 50;

function hashPassword(password: string, salt: Buffer): Buffer {
  return scryptSync(password, salt, 32);
}

/** Reads `users.json`, creating it with one `operator` account (random password, printed once) when missing. */
function loadAccounts(file: string, notes: string[]): Map<string, Account> {
  if (!existsSync(file)) {
    const password = randomBytes(12).toString('base64url');
    const salt = randomBytes(16);
    const accounts = { operator: { salt: salt.toString('hex'), hash: hashPassword(password, salt).toString('hex') } };
    writeFileSync(file, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
    notes.push(`  OPC UA account "operator" created in ${file}; password (shown once): ${password}`);
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
      if (typeof acc?.salt === 'string' && typeof acc.hash === 'string') out.set(name, { salt: acc.salt, hash: acc.hash });
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

/** The PKI of the server under `dir` (created when missing); `trustAll` accepts unknown client certificates. */
export async function certificateManager(dir: string, trustAll: boolean): Promise<OPCUACertificateManager> {
  mkdirSync(dir, { recursive: true });
  const cm = new OPCUACertificateManager({ rootFolder: dir, automaticallyAcceptUnknownCertificate: trustAll });
  await cm.initialize();
  return cm;
}

/** Server options of a profile; PKI and accounts live in `runDir`. */
export async function profileSetup(profile: OpcuaProfile, runDir: string): Promise<ProfileSetup> {
  const notes: string[] = [];
  mkdirSync(runDir, { recursive: true });
  if (profile === 'open') {
    notes.push(
      '  !!! OPC UA profile "open": no encryption, no signatures, anonymous sessions may read, write and call methods.',
      '  !!! Anyone who reaches this port controls the line. Use it on a classroom network only; use --profile hardened otherwise.',
    );
    return {
      notes,
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
    options: {
      securityPolicies: HARDENED_POLICIES,
      securityModes: [MessageSecurityMode.SignAndEncrypt],
      allowAnonymous: false,
      serverCertificateManager: await certificateManager(pki, false),
      userManager: { isValidUser: (user: string, password: string) => checkPassword(accounts, user, password) },
      serverCapabilities: { maxSessions: HARDENED_MAX_SESSIONS },
      maxConnectionsPerEndpoint: HARDENED_MAX_SESSIONS,
    },
  };
}
