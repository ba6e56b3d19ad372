/**
 * Security profiles of the OPC UA face. `open` is the classroom: SecurityPolicy None,
 * anonymous sessions acting as an `operator`, a loud warning. `hardened` offers
 * SignAndEncrypt only with the modern policies, user name logins and X.509 user certificates
 * over the one account store (identity.ts), no anonymous sessions, session limits, and two
 * trust lists in the run directory, both empty at first: client application certificates in
 * `pki/` (unknown ones land in `pki/rejected/` until moved to `pki/trusted/certs/`) and user
 * certificates in `pki-users/` (a trusted user certificate also needs an account mapped to
 * its thumbprint). Nothing falls back to node-opcua's per-machine default PKI folder.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, SecurityPolicy, type OPCUAServerOptions } from 'node-opcua';
import type { AuditEntry, Role } from '../../core/commands.ts';
import type { AccountStore } from '../../host/accounts.ts';
import { LoginGuard } from '../../host/login-guard.ts';
import { identities, loginChecks, type Identities, type LoginChecks } from './identity.ts';
import { filesHolding, leafThumbprint } from './pki-files.ts';
import { thumbprint } from '../../host/accounts.ts';

/** A security profile name. */
export type OpcuaProfile = 'open' | 'hardened';

/** The application name the server shows in discovery and in its certificate: it names no scenario. */
export const SERVER_NAME = 'Twinline OPC UA server';

/** What a profile contributes to the server, and what to tell the operator. */
export interface ProfileSetup {
  options: Partial<OPCUAServerOptions>;
  /** lines to print at startup (warnings, where trust lists live) */
  notes: string[];
  /** who a session is, and with which role */
  identities: Identities;
  /** login checks (hardened only: the open profile has anonymous sessions only) */
  logins: LoginChecks | null;
  /** where refused client certificates are kept */
  rejectedDir: string;
}

/** Options of `profileSetup`. */
export interface ProfileOptions {
  profile: OpcuaProfile;
  /** PKI folders live here, e.g. `.twinline/opcua` */
  runDir: string;
  accounts: AccountStore;
  /** the login back-off (default: a guard of this face alone) */
  guard?: LoginGuard;
  audit?: (a: AuditEntry) => void;
}

const HARDENED_POLICIES = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss];
/** sessions the hardened server accepts at once */
const HARDENED_MAX_SESSIONS = 10;
const OPEN_MAX_SESSIONS = 50;
/** the role of anonymous sessions in the open profile */
const OPEN_ANONYMOUS_ROLE: Role = 'operator';

/** What node-opcua's certificate check answers. */
type Verification = Awaited<ReturnType<OPCUACertificateManager['verifyCertificate']>>;

/**
 * node-opcua decides trust from an index its folder watchers build, and a watcher can miss a
 * file: a certificate copied into the trusted folder read while still being written, or a
 * refused copy removed from the rejected folder before its watcher saw it (which then stays
 * refused for the life of the server). The operator's word is the trusted folder
 * (`twinline opcua trust` puts the certificate there), so a certificate refused as untrusted
 * is looked up there too: found, it is accepted while within its validity dates. Only a
 * refused client pays the look-up, in a folder of a few files. And refused certificates are
 * kept for the operator up to a limit, the newest ones (`rejectCertificate`).
 */
class FolderTrustingCertificateManager extends OPCUACertificateManager {
  /** refused certificates kept in the rejected folder at most */
  readonly maxRejected: number;

  constructor(options: ConstructorParameters<typeof OPCUACertificateManager>[0], maxRejected: number) {
    super(options);
    this.maxRejected = maxRejected;
  }

  /**
   * Keeps a refused certificate for the operator to trust, the oldest ones going when the
   * rejected folder holds its limit: anyone who reaches the port may present certificates, and
   * each would otherwise add a file and an entry in node-opcua's index for the life of the
   * server. The newest refusal is always kept, so `opcua trust --last-rejected` still finds a
   * gateway refused a moment ago (and prints what it trusts).
   */
  override async rejectCertificate(certificate: Buffer | Buffer[]): Promise<void> {
    const dir = this.rejectedFolder;
    if (existsSync(dir)) {
      const files = readdirSync(dir);
      // node-opcua names the file after the thumbprint: one refused again is kept already
      // ('' when it does not parse: node-opcua judges a certificate it cannot read)
      const thumb = leafThumbprint(Array.isArray(certificate) ? certificate[0]! : certificate);
      if (files.length >= this.maxRejected && (thumb === '' || !files.some((f) => f.includes(thumb)))) {
        const aged = files.map((f) => {
          try {
            return { f, t: statSync(join(dir, f)).mtimeMs };
          } catch {
            return { f, t: -Infinity }; // gone meanwhile
          }
        });
        aged.sort((a, b) => a.t - b.t);
        for (const { f } of aged.slice(0, files.length - this.maxRejected + 1)) rmSync(join(dir, f), { force: true });
      }
    }
    await super.rejectCertificate(certificate);
  }

  protected override async verifyCertificateAsync(certificate: Buffer | Buffer[], options: Parameters<OPCUACertificateManager['verifyCertificate']>[1] & object): Promise<Verification> {
    const status = await super.verifyCertificateAsync(certificate, options);
    if (String(status) !== 'BadCertificateUntrusted') return status;
    let cert: X509Certificate;
    try {
      // the leaf of a DER chain
      cert = new X509Certificate(Array.isArray(certificate) ? certificate[0]! : certificate);
    } catch {
      return status;
    }
    if (filesHolding(this.trustedFolder, thumbprint(cert.raw)).length === 0) return status;
    const now = Date.now();
    return (Date.parse(cert.validFrom) <= now && now < Date.parse(cert.validTo) ? 'Good' : 'BadCertificateTimeInvalid') as Verification;
  }
}

/** refused client certificates a PKI folder keeps for the operator to trust, at most */
export const MAX_REJECTED = 1000;

/**
 * A PKI folder (created when missing); `trustAll` accepts unknown certificates, otherwise the
 * newest `maxRejected` refused ones are kept in its rejected folder.
 */
export async function certificateManager(dir: string, trustAll: boolean, maxRejected = MAX_REJECTED): Promise<OPCUACertificateManager> {
  mkdirSync(dir, { recursive: true });
  const options = { rootFolder: dir, automaticallyAcceptUnknownCertificate: trustAll };
  const cm = trustAll ? new OPCUACertificateManager(options) : new FolderTrustingCertificateManager(options, maxRejected);
  await cm.initialize();
  return cm;
}

/**
 * An existing server certificate made when the application name still named the scenario is
 * set aside (node-opcua then makes a new one with the neutral name, same key); returns a note.
 */
function retireRevealingCertificate(pki: string): string | null {
  const file = join(pki, 'own', 'certs', 'certificate.pem');
  if (!existsSync(file)) return null;
  let subject = '';
  try {
    subject = new X509Certificate(readFileSync(file)).subject;
  } catch {
    return null; // not ours to judge: node-opcua reports a broken certificate itself
  }
  const cn = /^CN=(.*)$/m.exec(subject)?.[1] ?? '';
  if (cn.startsWith(`${SERVER_NAME}@`)) return null;
  const aside = join(pki, 'own', `certificate-retired-${Date.now()}.pem`);
  renameSync(file, aside);
  return `  OPC UA: the server certificate named "${cn}"; a new one names "${SERVER_NAME}" (the old one is in ${aside}): clients that trusted the old one must trust the new one`;
}

/** Server options of a profile; PKI lives in `runDir`. */
export async function profileSetup(o: ProfileOptions): Promise<ProfileSetup> {
  const notes: string[] = [];
  const audit = o.audit ?? (() => undefined);
  mkdirSync(o.runDir, { recursive: true });
  const pki = join(o.runDir, 'pki');
  const userPki = join(o.runDir, 'pki-users');
  const retired = retireRevealingCertificate(pki);
  if (retired !== null) notes.push(retired);
  // both trust lists are ours: node-opcua would otherwise use a per-machine folder shared by every server
  const userCertificateManager = await certificateManager(userPki, false);
  if (o.profile === 'open') {
    notes.push(
      '  !!! OPC UA profile "open": no encryption, no signatures; anonymous sessions act as an operator (PackML commands, setpoints).',
      '  !!! Anyone who reaches this port operates the line. Use it on a classroom network only; use --profile hardened otherwise.',
    );
    return {
      notes,
      identities: identities(o.accounts, OPEN_ANONYMOUS_ROLE),
      logins: null,
      rejectedDir: join(pki, 'rejected'),
      options: {
        securityPolicies: [SecurityPolicy.None],
        securityModes: [MessageSecurityMode.None],
        allowAnonymous: true,
        serverCertificateManager: await certificateManager(pki, true),
        userCertificateManager,
        serverCapabilities: { maxSessions: OPEN_MAX_SESSIONS },
        maxConnectionsPerEndpoint: OPEN_MAX_SESSIONS,
      },
    };
  }
  notes.push(
    `  OPC UA hardened: SignAndEncrypt only; logins from the account store; trusted client certificates in ${join(pki, 'trusted', 'certs')}`,
    `    user certificates log in only when trusted (${join(userPki, 'trusted', 'certs')}) and mapped to an account (twinline accounts map-cert)`,
  );
  const logins = loginChecks(o.accounts, o.guard ?? new LoginGuard(), audit, userPki);
  return {
    notes,
    identities: identities(o.accounts, null),
    logins,
    rejectedDir: join(pki, 'rejected'),
    options: {
      securityPolicies: HARDENED_POLICIES,
      securityModes: [MessageSecurityMode.SignAndEncrypt],
      allowAnonymous: false,
      serverCertificateManager: await certificateManager(pki, false),
      userCertificateManager,
      userManager: logins.userManager,
      serverCapabilities: { maxSessions: HARDENED_MAX_SESSIONS },
      maxConnectionsPerEndpoint: HARDENED_MAX_SESSIONS,
    },
  };
}
