/**
 * The one account store of a Twinline home (`.twinline/accounts.json`): the same users and
 * roles for REST, the live socket, OPC UA and MQTT. Passwords are scrypt-hashed; OPC UA user
 * certificates are mapped to an account by thumbprint, never by the certificate's name.
 * `twinline accounts` edits the file; a running host re-reads it when it changes, so a revoked
 * account is refused at its next login without a restart.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROLES, type Role } from '../core/commands.ts';
import { TwinlineError } from '../core/errors.ts';

/** One stored account. */
export interface StoredAccount {
  /** scrypt salt and hash of the password, hex */
  salt: string;
  hash: string;
  role: Role;
  /** SHA-1 thumbprints (hex, lower case) of X.509 user certificates that log in as this account */
  certificates: string[];
  /** revoked accounts stay listed (for the audit trail's names) but never log in */
  revoked: boolean;
}

/** An account as listed (no secrets). */
export interface AccountInfo {
  user: string;
  role: Role;
  certificates: string[];
  revoked: boolean;
}

/** A user whose credential was accepted. */
export interface Identity {
  user: string;
  role: Role;
}

/** Accounts a new home gets, one per role a newcomer needs (random passwords). */
export const DEFAULT_ACCOUNTS: readonly { user: string; role: Role }[] = [
  { user: 'viewer', role: 'viewer' },
  { user: 'operator', role: 'operator' },
  { user: 'engineer', role: 'engineer' },
  { user: 'instructor', role: 'instructor' },
  { user: 'gateway', role: 'gateway' },
];

/** file of the accounts in a home folder */
export const ACCOUNTS_FILE = 'accounts.json';
/** file of the passwords the home was created with (mode 0600; deleted or stale once reset) */
export const INITIAL_PASSWORDS_FILE = 'initial-passwords.txt';
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** scrypt cost: N = 2^14 (node's default), about 30–60 ms a check on this class of machine */
const KEY_LEN = 32;

const hashOf = (password: string, salt: Buffer): Buffer => scryptSync(password, salt, KEY_LEN);

/** A new random password: 16 characters of base64url (96 bits). */
export function newPassword(): string {
  return randomBytes(12).toString('base64url');
}

/** SHA-1 thumbprint (hex, lower case) of a DER certificate, as OPC UA names certificates. */
export function thumbprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex');
}

/** The account store of `home`; see the module comment. */
export class AccountStore {
  readonly file: string;
  /** accounts made when the store was created now, with their passwords in clear (to print once) */
  readonly created: { user: string; role: Role; password: string }[] = [];
  private accounts = new Map<string, StoredAccount>();
  private mtimeMs = -1;
  /** a hash to compare against for unknown users, so they take as long as known ones */
  private readonly decoy = { salt: randomBytes(16), hash: randomBytes(KEY_LEN) };

  private constructor(file: string) {
    this.file = file;
  }

  /** Opens (and with `create`, makes when missing) the store of a home folder. */
  static open(home: string, o: { create: boolean }): AccountStore {
    const store = new AccountStore(join(home, ACCOUNTS_FILE));
    if (!existsSync(store.file)) {
      if (!o.create) throw new TwinlineError('BAD_ARGUMENT', `no accounts in ${home}: run \`twinline serve\` once, or \`twinline accounts add <user> <role>\``, { file: store.file });
      mkdirSync(home, { recursive: true, mode: 0o700 });
      for (const a of DEFAULT_ACCOUNTS) {
        const password = newPassword();
        store.accounts.set(a.user, stored(a.role, password));
        store.created.push({ ...a, password });
      }
      store.save();
      const lines = store.created.map((a) => `${a.user}\t${a.role}\t${a.password}`);
      writeFileSync(join(home, INITIAL_PASSWORDS_FILE), `# Twinline accounts as created (user, role, password). \`twinline accounts reset <user>\` sets a new one.\n${lines.join('\n')}\n`, { mode: 0o600 });
    }
    store.load();
    return store;
  }

  /** An in-memory store (tests, `serve` with accounts given in clear). */
  static fromClear(accounts: readonly { user: string; password: string; role: Role }[]): AccountStore {
    const store = new AccountStore('');
    for (const a of accounts) store.accounts.set(a.user, stored(a.role, a.password));
    return store;
  }

  /**
   * The accepted identity for `user`/`password`, or null. Costs one scrypt whether or not the
   * user exists, on libuv's thread pool: a server's event loop keeps serving other clients while
   * a login (or a flood of wrong ones) is being checked.
   */
  async verifyAsync(user: string, password: string): Promise<Identity | null> {
    const c = this.candidate(user);
    const got = await new Promise<Buffer>((resolve, reject) => {
      scrypt(typeof password === 'string' ? password : '', c.salt, KEY_LEN, (e, key) => (e === null ? resolve(key) : reject(e)));
    });
    return this.judge(user, c, got);
  }

  /** the stored salt and hash for `user`, or the decoy's for an unknown user */
  private candidate(user: string): { a: StoredAccount | undefined; salt: Buffer; want: Buffer } {
    this.refresh();
    const a = typeof user === 'string' ? this.accounts.get(user) : undefined;
    return a === undefined ? { a, salt: this.decoy.salt, want: this.decoy.hash } : { a, salt: Buffer.from(a.salt, 'hex'), want: Buffer.from(a.hash, 'hex') };
  }

  private judge(user: string, c: { a: StoredAccount | undefined; want: Buffer }, got: Buffer): Identity | null {
    const same = c.want.length === got.length && timingSafeEqual(c.want, got);
    return c.a !== undefined && same && !c.a.revoked ? { user, role: c.a.role } : null;
  }

  /** The account a user certificate (by SHA-1 thumbprint) is mapped to, or null. */
  byCertificate(thumb: string): Identity | null {
    this.refresh();
    const t = thumb.toLowerCase();
    for (const [user, a] of this.accounts) if (!a.revoked && a.certificates.includes(t)) return { user, role: a.role };
    return null;
  }

  /** The role of an account that may log in, or null. */
  roleOf(user: string): Role | null {
    this.refresh();
    const a = this.accounts.get(user);
    return a === undefined || a.revoked ? null : a.role;
  }

  list(): AccountInfo[] {
    this.refresh();
    return [...this.accounts].map(([user, a]) => ({ user, role: a.role, certificates: [...a.certificates], revoked: a.revoked }));
  }

  /** Adds an account; returns its password (the one given, or a new random one). */
  add(user: string, role: Role, password?: string): string {
    this.refresh();
    if (!USER_NAME.test(user)) throw new TwinlineError('BAD_ARGUMENT', `user name "${user}" is not valid: 1–64 of A–Z a–z 0–9 . _ @ -, starting with a letter or digit`);
    if (!ROLES.includes(role)) throw new TwinlineError('BAD_ARGUMENT', `role "${role}" is not one of ${ROLES.join(', ')}`);
    if (this.accounts.has(user)) throw new TwinlineError('BAD_ARGUMENT', `account "${user}" exists already (reset its password with \`twinline accounts reset ${user}\`)`);
    const pw = password ?? newPassword();
    checkPasswordStrength(pw);
    this.accounts.set(user, stored(role, pw));
    this.save();
    return pw;
  }

  /** Sets a new password (and lifts a revocation); returns it. */
  reset(user: string, password?: string): string {
    const a = this.must(user);
    const pw = password ?? newPassword();
    checkPasswordStrength(pw);
    const fresh = stored(a.role, pw);
    this.accounts.set(user, { ...a, salt: fresh.salt, hash: fresh.hash, revoked: false });
    this.save();
    this.forgetInitial(user, 'reset');
    return pw;
  }

  /** Revokes an account: it stays listed, and never logs in again until reset. */
  revoke(user: string): void {
    this.accounts.set(user, { ...this.must(user), revoked: true });
    this.save();
    this.forgetInitial(user, 'revoked');
  }

  /** Marks a user's line of the initial passwords file as no longer valid. */
  private forgetInitial(user: string, why: string): void {
    if (this.file === '') return;
    const f = join(dirname(this.file), INITIAL_PASSWORDS_FILE);
    if (!existsSync(f)) return;
    const lines = readFileSync(f, 'utf8').split('\n').map((l) => (l.split('\t')[0] === user ? `${user}\t${l.split('\t')[1] ?? ''}\t(${why})` : l));
    writeFileSync(f, lines.join('\n'), { mode: 0o600 });
  }

  /** Changes an account's role. */
  setRole(user: string, role: Role): void {
    if (!ROLES.includes(role)) throw new TwinlineError('BAD_ARGUMENT', `role "${role}" is not one of ${ROLES.join(', ')}`);
    this.accounts.set(user, { ...this.must(user), role });
    this.save();
  }

  /** Maps a user certificate (thumbprint) to an account; a thumbprint belongs to one account only. */
  mapCertificate(user: string, thumb: string): void {
    const t = thumb.toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(t)) throw new TwinlineError('BAD_ARGUMENT', `"${thumb}" is not a SHA-1 thumbprint (40 hex digits)`);
    const a = this.must(user);
    for (const [other, o] of this.accounts) {
      if (other !== user && o.certificates.includes(t)) throw new TwinlineError('BAD_ARGUMENT', `certificate ${t} is mapped to "${other}" already`);
    }
    if (!a.certificates.includes(t)) this.accounts.set(user, { ...a, certificates: [...a.certificates, t] });
    this.save();
  }

  /** Removes a certificate mapping. */
  unmapCertificate(user: string, thumb: string): void {
    const a = this.must(user);
    this.accounts.set(user, { ...a, certificates: a.certificates.filter((c) => c !== thumb.toLowerCase()) });
    this.save();
  }

  private must(user: string): StoredAccount {
    this.refresh();
    const a = this.accounts.get(user);
    if (a === undefined) throw new TwinlineError('BAD_ARGUMENT', `no account "${user}" in ${this.file || 'this store'} (\`twinline accounts list\`)`);
    return a;
  }

  /** Re-reads the file when it changed on disk (another process ran `twinline accounts`). */
  private refresh(): void {
    if (this.file === '') return;
    let m: number;
    try {
      m = statSync(this.file).mtimeMs;
    } catch {
      return; // removed while running: keep what was read
    }
    if (m !== this.mtimeMs) this.load();
  }

  private load(): void {
    const text = readFileSync(this.file, 'utf8');
    this.mtimeMs = statSync(this.file).mtimeMs;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new TwinlineError('BAD_ARGUMENT', `accounts file is not valid JSON: ${(e as Error).message}`, { file: this.file });
    }
    const users = (raw as { users?: unknown } | null)?.users;
    if (typeof users !== 'object' || users === null) throw new TwinlineError('BAD_ARGUMENT', 'accounts file has no "users" object', { file: this.file });
    const out = new Map<string, StoredAccount>();
    for (const [user, v] of Object.entries(users as Record<string, unknown>)) {
      const a = v as Partial<StoredAccount> | null;
      if (typeof a?.salt !== 'string' || typeof a.hash !== 'string' || !ROLES.includes(a.role as Role)) {
        throw new TwinlineError('BAD_ARGUMENT', `account "${user}" needs salt, hash and a role (${ROLES.join(', ')})`, { file: this.file, path: `users.${user}` });
      }
      const certs = Array.isArray(a.certificates) ? a.certificates.filter((c): c is string => typeof c === 'string').map((c) => c.toLowerCase()) : [];
      out.set(user, { salt: a.salt, hash: a.hash, role: a.role as Role, certificates: certs, revoked: a.revoked === true });
    }
    this.accounts = out;
  }

  private save(): void {
    if (this.file === '') return;
    const body = { version: 1, users: Object.fromEntries(this.accounts) };
    // write then rename: a reader never sees half a file
    const tmp = `${this.file}.${process.pid}.tmp`;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    this.mtimeMs = statSync(this.file).mtimeMs;
  }
}

function stored(role: Role, password: string): StoredAccount {
  const salt = randomBytes(16);
  return { salt: salt.toString('hex'), hash: hashOf(password, salt).toString('hex'), role, certificates: [], revoked: false };
}

function checkPasswordStrength(pw: string): void {
  if (pw.length < 10) throw new TwinlineError('BAD_ARGUMENT', 'a password needs at least 10 characters');
  if (pw.length > 256) throw new TwinlineError('BAD_ARGUMENT', 'a password may have at most 256 characters');
}
