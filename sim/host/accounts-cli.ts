/**
 * `twinline accounts`: list, add, reset, revoke and re-role the accounts of a home folder, and
 * map OPC UA user certificates to them. A running host picks the change up at the next login.
 */
import { readFileSync } from 'node:fs';
import { parseOptions } from './args.ts';
import { ROLES, type Role } from '../core/commands.ts';
import { TwinlineError } from '../core/errors.ts';
import { AccountStore, thumbprint } from './accounts.ts';
import { homeDir } from './home.ts';

/** Where the CLI writes. */
export interface AccountsIo {
  stdout: { write(s: string): unknown };
  /** the whole of standard input (for --password-stdin) */
  readStdin(): string;
}

export const ACCOUNTS_USAGE = `usage: twinline accounts <list|add|reset|revoke|role|map-cert|unmap-cert> … [--home DIR]

  list [--json]                         accounts, roles, mapped certificates, revoked or not
  add <user> <role> [--password-stdin]  new account; prints its password (random unless given on stdin)
  reset <user> [--password-stdin]       new password (also lifts a revocation); prints it
  revoke <user>                         the account never logs in again (until reset); kept for the audit trail
  role <user> <role>                    change the role
  map-cert <user> <cert.pem|cert.der|thumbprint>   an OPC UA user certificate logs in as <user>
                                        (the certificate must also be trusted: <home>/opcua/pki-users/trusted/certs)
  unmap-cert <user> <thumbprint>

Roles (the same on REST, the live socket, OPC UA and MQTT):
  viewer      reads state, events, tags; subscribes
  gateway     reads; on MQTT also publishes its own topics outside the twin's namespace
  operator    PackML commands, unit mode, alarm acknowledge, setpoints
  engineer    operator + parameters, repair, maintenance; safety limits in unit mode Maintenance only
  instructor  engineer + fault injection and the range's controls; MQTT $SYS
Accounts live in <home>/accounts.json (default ./.twinline, or $TWINLINE_HOME).`;

const role = (r: string | undefined): Role => {
  if (r === undefined || !ROLES.includes(r as Role)) throw new TwinlineError('USAGE', `role must be one of ${ROLES.join(', ')}${r === undefined ? '' : `, got "${r}"`}`);
  return r as Role;
};

/** A certificate's thumbprint from a PEM or DER file, or the thumbprint itself. */
function certThumb(arg: string): string {
  if (/^[0-9a-fA-F]{40}$/.test(arg)) return arg.toLowerCase();
  let bytes: Buffer;
  try {
    bytes = readFileSync(arg);
  } catch (e) {
    throw new TwinlineError('IO', `cannot read the certificate (${(e as { code?: string }).code ?? String(e)})`, { file: arg });
  }
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(bytes.toString('latin1'));
  return thumbprint(pem === null ? bytes : Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64'));
}

/** Runs `twinline accounts …`; returns the exit code. */
export function accountsCommand(argv: readonly string[], io: AccountsIo): number {
  const a = parseOptions({ args: [...argv], allowPositionals: true, options: { home: { type: 'string' }, json: { type: 'boolean' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }, 'accounts', ACCOUNTS_USAGE);
  const [verb, ...args] = a.positionals;
  if (a.values.help === true || verb === undefined || verb === 'help') {
    io.stdout.write(`${ACCOUNTS_USAGE}\n`);
    return 0;
  }
  const home = homeDir(a.values.home);
  const need = (n: number): string[] => {
    if (args.length !== n) throw new TwinlineError('USAGE', `accounts ${verb} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}\n${ACCOUNTS_USAGE}`);
    return args;
  };
  const password = (): string | undefined => (a.values['password-stdin'] === true ? io.readStdin().replace(/\r?\n$/, '') : undefined);
  const store = (): AccountStore => AccountStore.open(home, { create: verb === 'add' });
  switch (verb) {
    case 'list': {
      need(0);
      const list = store().list();
      if (a.values.json === true) io.stdout.write(`${JSON.stringify({ accounts: list })}\n`);
      else for (const x of list) io.stdout.write(`${x.user.padEnd(16)} ${x.role.padEnd(11)}${x.revoked ? ' revoked' : ''}${x.certificates.length > 0 ? `  certificates ${x.certificates.join(', ')}` : ''}\n`);
      return 0;
    }
    case 'add': {
      const [user, r] = need(2);
      const rl = role(r);
      const s = store();
      const pw = s.add(user!, rl, password());
      io.stdout.write(`account "${user}" (${r}) added to ${s.file}\npassword: ${pw}\n`);
      return 0;
    }
    case 'reset': {
      const [user] = need(1);
      const pw = store().reset(user!, password());
      io.stdout.write(`new password for "${user}": ${pw}\n`);
      return 0;
    }
    case 'revoke': {
      const [user] = need(1);
      store().revoke(user!);
      io.stdout.write(`account "${user}" revoked: it can no longer log in on any face (twinline accounts reset ${user} restores it)\n`);
      return 0;
    }
    case 'role': {
      const [user, r] = need(2);
      const rl = role(r);
      store().setRole(user!, rl);
      io.stdout.write(`account "${user}" is now ${r}\n`);
      return 0;
    }
    case 'map-cert': {
      const [user, cert] = need(2);
      const t = certThumb(cert!);
      store().mapCertificate(user!, t);
      io.stdout.write(`certificate ${t} now logs in as "${user}" (trust it too: copy it to ${home}/opcua/pki-users/trusted/certs/)\n`);
      return 0;
    }
    case 'unmap-cert': {
      const [user, t] = need(2);
      store().unmapCertificate(user!, t!);
      io.stdout.write(`certificate ${t} no longer maps to "${user}"\n`);
      return 0;
    }
    default:
      throw new TwinlineError('USAGE', `unknown accounts command "${verb}"\n${ACCOUNTS_USAGE}`);
  }
}
