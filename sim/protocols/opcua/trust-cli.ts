/**
 * `twinline opcua trust <file> | --last-rejected`: the trust step of the hardened OPC UA
 * profile. A client application certificate the server does not know is refused and kept in
 * `<home>/opcua/pki/rejected/`; this moves it (the newest with `--last-rejected`, or a given
 * certificate file, PEM or DER) to `<home>/opcua/pki/trusted/certs/`, where the running server
 * picks it up: the client's next attempt is accepted. Exit codes: 0 trusted, 2 bad input.
 *
 * The running server indexes both folders by watching them, and a certificate in its rejected
 * index stays refused even when it is trusted too. So the certificate is copied into the
 * trusted folder first, and only once the server has had time to index it are its copies in
 * the rejected folder removed; a client retrying in between may be refused once more and its
 * certificate written to the rejected folder again, so that folder is swept for a few seconds.
 * The certificate reaches the trusted folder whole (written beside it, then moved in), and the
 * server also looks a refused certificate up in that folder (security.ts), so a watcher that
 * missed a file does not keep a trusted client out.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TwinlineError } from '../../core/errors.ts';
import { parseOptions } from '../../host/args.ts';
import { homeDir } from '../../host/home.ts';
import { thumbprint } from '../../host/accounts.ts';
import { filesHolding } from './pki-files.ts';

export const OPCUA_USAGE = `usage: twinline opcua trust <certificate file> | --last-rejected [--home DIR]

trust: a client application (a gateway, an HMI) the hardened server refused is kept in
<home>/opcua/pki/rejected; this trusts it (moves it to <home>/opcua/pki/trusted/certs), the
newest refused one with --last-rejected, or a certificate file (PEM or DER). The running
server accepts the client's next attempt (some clients only retry when restarted).
  --home DIR    the twin's home (default ./.twinline, or $TWINLINE_HOME)`;

/** Where the command writes. */
export interface OpcuaIo {
  stdout: NodeJS.WritableStream;
}

const usage = (message: string): TwinlineError => new TwinlineError('USAGE', message);

/** The certificate in `file`, or why it is none. */
function certificateOf(file: string): X509Certificate {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new TwinlineError('BAD_ARGUMENT', `cannot read the certificate (${(e as { code?: string }).code ?? String(e)})`, { file });
  }
  try {
    return new X509Certificate(bytes);
  } catch {
    throw new TwinlineError('BAD_ARGUMENT', 'not an X.509 certificate (PEM or DER)', { file });
  }
}

/** time the running server is given to index a newly trusted certificate before it leaves the rejected folder [ms] */
const INDEX_MS = 1000;
/** how long the rejected folder is swept for the certificate refused again meanwhile [ms] */
const SWEEP_MS = 4000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Removes the files in `dir` that hold the certificate with thumbprint `thumb`; how many. */
function removeCopies(dir: string, thumb: string): number {
  const copies = filesHolding(dir, thumb);
  for (const path of copies) rmSync(path, { force: true });
  return copies.length;
}

/** The newest file in the rejected folder, or null. */
function newestRejected(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => /\.(pem|der)$/i.test(f)).map((f) => join(dir, f));
  files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? null;
}

/** Runs `twinline opcua <sub> …`; returns the exit code. */
export async function opcuaCommand(argv: readonly string[], io: OpcuaIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    io.stdout.write(`${OPCUA_USAGE}\n`);
    return 0;
  }
  if (sub !== 'trust') throw usage(`unknown opcua command "${sub}": trust`);
  const parsed = parseOptions({ args: [...rest], allowPositionals: true, options: { 'last-rejected': { type: 'boolean' }, home: { type: 'string' } } }, 'opcua trust');
  const last = parsed.values['last-rejected'] === true;
  if (last === (parsed.positionals.length > 0)) throw usage('trust takes a certificate file or --last-rejected (one of them)');
  if (parsed.positionals.length > 1) throw usage(`one certificate file at a time, got ${parsed.positionals.length}`);
  const pki = join(homeDir(parsed.values.home), 'opcua', 'pki');
  const rejected = join(pki, 'rejected');
  const file = last ? newestRejected(rejected) : parsed.positionals[0]!;
  if (file === null) throw new TwinlineError('BAD_ARGUMENT', `no refused certificate in ${rejected} (has the client tried to connect to the hardened server of this home?)`);
  const cert = certificateOf(file);
  const trusted = join(pki, 'trusted', 'certs');
  mkdirSync(trusted, { recursive: true });
  const target = join(trusted, basename(file));
  const thumb = thumbprint(cert.raw);
  // written beside the watched folders and moved in whole: the server's watcher never reads half a file
  const part = join(pki, `.trusting-${process.pid}.tmp`);
  copyFileSync(file, part);
  renameSync(part, target);
  // then out of the rejected folder (a file given by the user elsewhere stays where it is)
  await sleep(INDEX_MS);
  removeCopies(rejected, thumb);
  for (const end = Date.now() + SWEEP_MS; Date.now() < end;) {
    await sleep(250);
    removeCopies(rejected, thumb);
  }
  io.stdout.write(`trusted ${cert.subject.replace(/\n/g, ', ')} (SHA-1 ${thumb}, valid to ${cert.validTo}): ${target}\n`);
  return 0;
}
