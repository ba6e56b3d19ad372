/**
 * The target guard: the range attacks only its own endpoints. A target is allowed when every
 * address its host resolves to is loopback, or an address of a host listed in a range file
 * (`--range FILE`, YAML `targets: [host…]`). Names are resolved before anything is sent, and
 * the checked URL is pinned to the checked address, so a name cannot resolve elsewhere between
 * the check and the connection. Anything else is refused with a message that says why.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { TwinlineError } from '../../sim/core/errors.ts';
import type { Face } from './types.ts';
import { readInput } from '../../sim/host/read-input.ts';

/** The faces by URL scheme (`ws://` and `wss://` are the broker's MQTT over WebSocket; `modbus://` is Modbus/TCP). */
const SCHEMES: Readonly<Record<string, Face>> = {
  'opc.tcp:': 'opcua', 'mqtt:': 'mqtt', 'mqtts:': 'mqtt', 'ws:': 'mqtt', 'wss:': 'mqtt', 'http:': 'rest', 'https:': 'rest', 'modbus:': 'modbus',
};

/** The schemes a target may have, for messages. */
export const TARGET_SCHEMES = 'opc.tcp://, mqtt://, mqtts://, ws://, wss://, http://, https:// or modbus://';

/** Resolves a host name to its addresses (every one, IPv4 and IPv6). */
export type Resolve = (host: string) => Promise<string[]>;

/** The system resolver (`getaddrinfo`, as the clients would use it). */
export const systemResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Hosts a range file allows besides loopback. */
export interface RangeFile {
  file: string;
  /** host names and addresses, as listed */
  targets: readonly string[];
}

/** A checked target. */
export interface Target {
  /** as given */
  given: string;
  face: Face;
  /** the URL with its host replaced by the checked address */
  url: URL;
  /** the checked address */
  address: string;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const family = (a: string): 'ipv4' | 'ipv6' => (isIP(a) === 6 ? 'ipv6' : 'ipv4');

/** Whether an IP address is a loopback address (127.0.0.0/8, ::1, and IPv4-mapped 127.x). */
export function isLoopbackAddress(address: string): boolean {
  return isIP(address) !== 0 && LOOPBACK.check(address, family(address));
}

/** Reads a range file: YAML with `targets:`, a list of host names or addresses. */
export function loadRange(file: string): RangeFile {
  const text = readInput(file, 'range file');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new TwinlineError('BAD_ARGUMENT', `the range file is not YAML: ${(e as Error).message.split('\n')[0]}`, { file });
  }
  const targets = (doc as { targets?: unknown } | null)?.targets;
  if (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string' || t.trim() === '' || /[\s/]/.test(t.trim()))) {
    throw new TwinlineError('BAD_ARGUMENT', 'the range file must have targets: a list of host names or addresses (no schemes, ports or paths)', { file, path: 'targets' });
  }
  return { file, targets: (targets as string[]).map((t) => bare(t.trim())) };
}

/** A host without IPv6 brackets, lower case. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function refuse(given: string, why: string): TwinlineError {
  return new TwinlineError('NOT_ALLOWED', `target ${given} refused: ${why}; the range attacks only its own endpoints (loopback, or hosts listed in a range file: --range FILE with targets: [host…])`);
}

/** The addresses of `host` (itself when it is an address); a resolver error refuses the target. */
async function addressesOf(host: string, given: string, resolve: Resolve): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  let all: string[];
  try {
    all = await resolve(host);
  } catch (e) {
    throw refuse(given, `${host} does not resolve (${(e as { code?: string }).code ?? String(e)})`);
  }
  if (all.length === 0) throw refuse(given, `${host} does not resolve`);
  return all;
}

/** The addresses a range file allows (listed addresses, and what listed names resolve to). */
async function allowedBy(range: RangeFile | null, resolve: Resolve): Promise<BlockList> {
  const list = new BlockList();
  for (const listed of range?.targets ?? []) {
    const host = bare(listed);
    let addresses: string[] = [];
    if (isIP(host) !== 0) addresses = [host];
    else {
      try {
        addresses = await resolve(host);
      } catch {
        // a listed name that does not resolve allows nothing
      }
    }
    for (const a of addresses) list.addAddress(a, family(a));
  }
  return list;
}

/**
 * Checks one target before any packet is sent to it; throws a `NOT_ALLOWED` error naming the
 * reason when it is not the range's own. `resolve` is injectable for tests.
 */
export async function checkTarget(given: string, range: RangeFile | null, resolve: Resolve = systemResolve): Promise<Target> {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new TwinlineError('USAGE', `--target ${given} is not a URL (${TARGET_SCHEMES})`);
  }
  const face = SCHEMES[url.protocol];
  if (face === undefined) throw new TwinlineError('USAGE', `--target ${given}: use ${TARGET_SCHEMES}`);
  if (url.username !== '' || url.password !== '') throw new TwinlineError('USAGE', `--target ${given}: give credentials with --user and --password, not in the URL`);
  const host = bare(url.hostname);
  if (host === '') throw new TwinlineError('USAGE', `--target ${given} names no host`);
  const addresses = await addressesOf(host, given, resolve);
  const outside = addresses.filter((a) => !isLoopbackAddress(a));
  if (outside.length > 0) {
    const listed = await allowedBy(range, resolve);
    const stray = outside.find((a) => !listed.check(a, family(a)));
    if (stray !== undefined) {
      const via = stray === host ? stray : `${host} resolves to ${stray}, which`;
      throw refuse(given, `${via} is neither loopback nor listed${range === null ? ' (no range file given)' : ` in ${range.file}`}`);
    }
  }
  const address = addresses[0]!;
  const pinned = new URL(url.href);
  pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
  return { given, face, url: pinned, address };
}
