/**
 * The security profiles the matrix runs the attack library under: the two built into `twinline
 * serve` (`open`, `hardened`) and profile files (YAML or JSON) that name one of them as their
 * base and the serve flags they change. Each profile states which attacks it promises to
 * block; the matrix holds it to that. Flags are checked against serve's own flag list, so a
 * profile can only change what serve really has.
 */
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TwinlineError, type Problem } from '../../sim/core/errors.ts';
import { SERVE_FLAGS } from '../../sim/host/serve-flags.ts';
import type { Attack } from '../attacks/types.ts';
import { FACES } from './twin.ts';
import { readInput } from '../../sim/host/read-input.ts';

/** The security profiles `twinline serve --profile` knows. */
export type BaseProfile = 'open' | 'hardened';

/** A profile of the matrix. */
export interface MatrixProfile {
  name: string;
  base: BaseProfile;
  /** serve flags the profile changes (besides `--profile base`), as given to serve */
  flags: readonly string[];
  /** attack ids the profile promises to block */
  blocks: ReadonlySet<string>;
  /** what the promise rests on */
  promise: string;
  /** `built-in`, or the profile file */
  source: string;
}

/**
 * Flags the matrix sets itself: a fresh home, a free port per face, loopback only (attacks
 * aim at the range's own endpoints), the base profile.
 */
export const MATRIX_FLAGS: ReadonlySet<string> = new Set([
  'home', 'host', 'expose-open', 'profile', 'help',
  ...Object.values(FACES).flatMap((f) => f.ports.filter((x) => x.startsWith('--')).map((x) => x.slice(2))),
]);

/**
 * What the embedded faces refuse in every profile, open included (README "Protocol faces" and
 * "Accounts and roles"): MQTT commands from anonymous clients, anyone but the twin publishing
 * the twin's own topics, more than 100 filters in one SUBSCRIBE, and a safety limit written
 * outside unit mode Maintenance (an anonymous client is at most an operator).
 */
const EVERY_PROFILE_BLOCKS = ['mqtt-stop', 'mqtt-spoof', 'mqtt-subscribe-flood', 'mqtt-forged-death', 'kiln-trip-raise'];

/**
 * Modbus/TCP has no authentication: hardened serves it read-only (writes refused and audited),
 * so reading the registers and identifying the devices cannot be refused in any profile.
 */
const MODBUS_READS = ['modbus-discovery', 'modbus-read'];

/** `open` and `hardened`, with the promises their documentation makes. */
export function builtInProfiles(library: readonly Attack[]): Record<BaseProfile, MatrixProfile> {
  const known = new Set(library.map((a) => a.id));
  for (const id of EVERY_PROFILE_BLOCKS) {
    if (!known.has(id)) throw new Error(`the open profile's promise names "${id}", which the attack library does not have`);
  }
  return {
    open: {
      name: 'open', base: 'open', flags: [], source: 'built-in',
      blocks: new Set(EVERY_PROFILE_BLOCKS),
      promise: 'classroom only: anonymous clients may operate the line over REST and OPC UA; what every profile refuses is still refused (MQTT commands and the twin\'s own topics from anonymous clients, oversized SUBSCRIBEs, safety limits outside Maintenance)',
    },
    hardened: {
      name: 'hardened', base: 'hardened', flags: [], source: 'built-in',
      // nothing is anonymous under hardened: every attack of the library, run without an account, is refused, except reading Modbus
      blocks: new Set(library.map((a) => a.id).filter((id) => !MODBUS_READS.includes(id))),
      promise: 'nothing is anonymous: REST logins, OPC UA SignAndEncrypt with a trust list and accounts, MQTT accounts, Modbus/TCP read-only; every attack run without an account is refused and audited, except reading Modbus registers (the protocol cannot authenticate)',
    },
  };
}

const KEYS = ['name', 'base', 'description', 'flags', 'blocks', 'except'] as const;

/** Reads and checks a profile file; every problem is reported at once, naming the file and key. */
export function loadProfileFile(file: string, library: readonly Attack[]): MatrixProfile {
  const text = readInput(file, 'profile file');
  let doc: unknown;
  try {
    doc = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new TwinlineError('USAGE', `not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`, { file });
  }
  const problems: Problem[] = [];
  const bad = (path: string, message: string): void => void problems.push({ code: 'USAGE', message, where: { file, path } });
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new TwinlineError('USAGE', 'a profile file is a mapping: base, flags, blocks (see security/profiles/)', { file });
  }
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(KEYS as readonly string[]).includes(k)) bad(k, `unknown key (keys: ${KEYS.join(', ')})`);
  const name = o.name ?? basename(file, extname(file));
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(name)) bad('name', 'must be kebab-case, up to 64 characters');
  if (name === 'open' || name === 'hardened') bad('name', `"${name}" is a built-in profile: give the file's profile a name of its own`);
  const base = o.base;
  if (base !== 'open' && base !== 'hardened') bad('base', base === undefined ? 'missing: open or hardened' : `${JSON.stringify(base)} is not a base profile: open or hardened`);
  if (o.description !== undefined && typeof o.description !== 'string') bad('description', 'must be text');

  const flags: string[] = [];
  if (o.flags !== undefined && (typeof o.flags !== 'object' || o.flags === null || Array.isArray(o.flags))) bad('flags', 'must be a mapping of serve flags (without --) to values');
  else {
    const specs = SERVE_FLAGS as Readonly<Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>;
    for (const [k, v] of Object.entries((o.flags ?? {}) as Record<string, unknown>)) {
      const spec = specs[k];
      const path = `flags.${k}`;
      if (spec === undefined) {
        bad(path, `twinline serve has no flag --${k} (its flags: ${Object.keys(specs).filter((f) => !MATRIX_FLAGS.has(f)).join(', ')})`);
      } else if (MATRIX_FLAGS.has(k)) {
        bad(path, k === 'profile' ? 'the base profile is set by "base"' : `--${k} is set by the matrix (a fresh home, free ports, loopback)`);
      } else if (spec.type === 'boolean') {
        if (typeof v !== 'boolean') bad(path, `--${k} is a switch: true or false`);
        else if (v) flags.push(`--${k}`);
      } else {
        const values = spec.multiple === true && Array.isArray(v) ? v : [v];
        if (values.length === 0 || values.some((x) => !(typeof x === 'string' && x !== '') && !(typeof x === 'number' && Number.isFinite(x)))) {
          bad(path, `--${k} takes ${spec.multiple === true ? 'a value or a list of values' : 'one value'} (text or a number)`);
        } else for (const x of values) flags.push(`--${k}`, String(x));
      }
    }
  }

  const known = new Set(library.map((a) => a.id));
  const ids = (key: 'blocks' | 'except', v: unknown): string[] | null => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      bad(key, key === 'blocks' ? 'must be "all" or a list of attack ids' : 'must be a list of attack ids');
      return null;
    }
    for (const [k, id] of (v as string[]).entries()) if (!known.has(id)) bad(`${key}[${k}]`, `no attack "${id}" (twinline attack list shows them)`);
    return v as string[];
  };
  let blocks: Set<string> | null = null;
  if (o.blocks === 'all') blocks = new Set(known);
  else if (o.blocks !== undefined) blocks = new Set(ids('blocks', o.blocks) ?? []);
  const except = o.except === undefined ? [] : (ids('except', o.except) ?? []);
  if (problems.length > 0) throw TwinlineError.of(problems);

  const b = base as BaseProfile;
  const inherited = builtInProfiles(library)[b];
  const promised = new Set(blocks ?? inherited.blocks);
  for (const id of except) promised.delete(id);
  const description = typeof o.description === 'string' ? o.description.trim() : '';
  return {
    name: name as string, base: b, flags, source: file, blocks: promised,
    promise: description !== '' ? description : blocks === null ? `as ${b}${except.length > 0 ? `, except ${except.join(', ')}` : ''}` : `the attacks it lists under "blocks"${except.length > 0 ? `, except ${except.join(', ')}` : ''}`,
  };
}

/** `--profiles open,hardened,<file>…` as profiles; a name that is neither built in nor a file is bad input. */
export function resolveProfiles(list: readonly string[], library: readonly Attack[]): MatrixProfile[] {
  const builtIn = builtInProfiles(library);
  const out: MatrixProfile[] = [];
  for (const p of list) {
    const profile = p === 'open' || p === 'hardened' ? builtIn[p] : /[./\\]/.test(p) ? loadProfileFile(p, library) : null;
    if (profile === null) throw new TwinlineError('USAGE', `unknown profile "${p}": open, hardened, or a profile file (a path, e.g. security/profiles/hardened-uns-only.yaml)`);
    if (out.some((x) => x.name === profile.name)) throw new TwinlineError('USAGE', `profile "${profile.name}" is given twice (--profiles ${list.join(',')})`);
    out.push(profile);
  }
  return out;
}
