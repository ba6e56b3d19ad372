/**
 * A plant file (`plants/*.yaml`): many lines on one NATS cluster.
 *
 * ```yaml
 * version: 1
 * id: liling-ceramics
 * title: { en: Liling ceramics plant, zh: 醴陵陶瓷工厂 }
 * profile: hardened            # of every line host (default hardened)
 * nats: { nodes: 3 }           # a cluster plant up starts (1–5 nodes; JetStream and MQTT on each)
 * network: { subnet: 10.213.9.0/24 }   # the plant network the hosts below sit on (Linux, root)
 * hosts:
 *   - { name: kiln-hall }                        # the first free address: 10.213.9.2
 *   - { name: press-shop, address: 10.213.9.20 }
 * lines:
 *   - { scenario: scenarios/ceramic-after.yaml, count: 2, area: firing, speed: 10, warmup: 3h, host: kiln-hall }
 *   - { scenario: scenarios/steel-ball-after.yaml }
 * ```
 *
 * `warmup` runs a line that long as fast as its host can before it goes live (`serve
 * --warmup`): the plant comes up with its kilns full and its queues settled. A host that is
 * started again resumes its run and is not warmed again.
 *
 * Each copy of a line gets its own id (`<scenario id>-<k>` when `count` > 1), ISA-95 line name
 * and area, its own host process and ports; copies are spread over the cluster's nodes in turn.
 *
 * `hosts` are machines of the plant, each a network namespace of its own on the plant network
 * (plant-net.ts): a line given a `host` runs there, reached at that host's address; the cluster
 * listens on the network's first address (`.1`), so every host reaches it across its link. A
 * line without `host` runs beside the cluster, on loopback. Checked like the other files: every
 * problem with file:line:col.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { TwinlineError } from '../core/errors.ts';
import { checkedYaml } from '../line/checked-yaml.ts';
import type { ProblemList } from '../line/locate.ts';
import { KEBAB_ID, label } from '../line/schema.ts';
import { MAX_SERVE_WARMUP_H, parseWarmup } from '../host/args.ts';

/** copies of lines one plant may run at most (each is a process with its own ports) */
export const MAX_PLANT_LINES = 64;
/** NATS nodes a plant may start */
export const MAX_NATS_NODES = 5;
/** hosts (network namespaces) one plant may declare */
export const MAX_PLANT_HOSTS = 16;

const lineSchema = z.strictObject({
  scenario: z.string().min(1),
  count: z.number().int().min(1).max(MAX_PLANT_LINES).default(1),
  area: z.string().regex(KEBAB_ID, 'expected a kebab-case area name').optional(),
  speed: z.number().positive().max(600).default(1),
  warmup: z.union([z.string(), z.number()]).optional(),
  host: z.string().regex(KEBAB_ID, 'expected the kebab-case name of one of the plant\'s hosts').optional(),
});

const hostSchema = z.strictObject({
  name: z.string().regex(KEBAB_ID, 'expected a kebab-case host name').max(40),
  address: z.string().optional(),
});

const plantSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }),
  id: z.string().regex(KEBAB_ID, 'expected a kebab-case id'),
  title: label('title'),
  profile: z.enum(['hardened', 'open']).default('hardened'),
  nats: z.strictObject({ nodes: z.number().int().min(1).max(MAX_NATS_NODES).default(3) }).default({ nodes: 3 }),
  network: z.strictObject({ subnet: z.string() }).optional(),
  hosts: z.array(hostSchema).max(MAX_PLANT_HOSTS).default([]),
  lines: z.array(lineSchema).min(1, 'a plant has at least one line'),
});

/** One host's line: a copy of a scenario. */
export interface PlantLine {
  /** the copy's id: the scenario's, with `-<k>` when there are several */
  id: string;
  /** the scenario file, resolved */
  scenario: string;
  /** which copy (1…count) */
  copy: number;
  area: string | null;
  speed: number;
  /** simulated time run before the host goes live [s] (0: none) */
  warmupS: number;
  /** the cluster node it publishes to (0-based) */
  node: number;
  /** the plant host it runs on (`hosts[].name`), or null: beside the cluster, on loopback */
  host: string | null;
}

/** A host of the plant: a network namespace on the plant network. */
export interface PlantHost {
  name: string;
  /** its IPv4 address on the plant network */
  address: string;
}

/** The plant network: a bridge the cluster listens on and the hosts are linked to. */
export interface PlantNetwork {
  /** `a.b.c.d/p`, as written */
  subnet: string;
  /** the network's first address: the bridge's, where the NATS nodes listen */
  gateway: string;
  prefix: number;
}

/** A checked plant. */
export interface Plant {
  file: string;
  id: string;
  title: { en: string; zh: string };
  profile: 'hardened' | 'open';
  natsNodes: number;
  /** null: no hosts, everything on loopback */
  network: PlantNetwork | null;
  hosts: PlantHost[];
  lines: PlantLine[];
}

/** The `id:` of a scenario file, read without building the line. */
function scenarioId(file: string): string {
  const m = /^id:\s*["']?([A-Za-z0-9_-]+)/m.exec(readFileSync(file, 'utf8'));
  if (m === null) throw new TwinlineError('SCENARIO_SCHEMA', `${file}: no id: line`);
  return m[1]!;
}

/** Parses and checks a plant file; scenario paths are relative to the plant file. */
export function parsePlant(text: string, file: string): Plant {
  const { data, problems } = checkedYaml(text, file, plantSchema, { shape: 'a plant is a mapping with keys version, id, title, nats, lines' });
  const lines: PlantLine[] = [];
  const ids = new Set<string>();
  data.lines.forEach((l, k) => {
    let warmupS = 0;
    try {
      warmupS = parseWarmup(l.warmup);
      if (warmupS > MAX_SERVE_WARMUP_H * 3600) problems.add('OUT_OF_RANGE', `warmup ${String(l.warmup)} is more than a host's ${MAX_SERVE_WARMUP_H} h`, ['lines', k, 'warmup']);
    } catch (e) {
      problems.add('SCENARIO_SCHEMA', (e instanceof Error ? e.message : String(e)).replace('--warmup', 'warmup'), ['lines', k, 'warmup']);
    }
    const scenario = isAbsolute(l.scenario) ? l.scenario : [resolve(dirname(file), l.scenario), resolve(l.scenario)].find((p) => existsSync(p)) ?? resolve(dirname(file), l.scenario);
    if (!existsSync(scenario)) {
      problems.add('SCENARIO_SCHEMA', `no scenario file ${l.scenario} (looked beside the plant file and in the working folder)`, ['lines', k, 'scenario']);
      return;
    }
    const base = scenarioId(scenario);
    for (let c = 1; c <= l.count; c++) {
      const id = l.count === 1 ? base : `${base}-${c}`;
      if (ids.has(id)) problems.add('SCENARIO_SCHEMA', `line id "${id}" twice: give the copies of a scenario one entry with a count`, ['lines', k, 'scenario']);
      ids.add(id);
      lines.push({ id, scenario, copy: c, area: l.area ?? null, speed: l.speed, warmupS, node: lines.length % data.nats.nodes, host: l.host ?? null });
    }
    if (l.host !== undefined && !data.hosts.some((h) => h.name === l.host)) {
      problems.add('SCENARIO_SCHEMA', `no host "${l.host}" in the plant's hosts (${data.hosts.length === 0 ? 'it has none' : data.hosts.map((h) => h.name).join(', ')})`, ['lines', k, 'host']);
    }
  });
  const { network, hosts } = plantNetwork(data.network, data.hosts, problems);
  if (lines.length > MAX_PLANT_LINES) problems.add('OUT_OF_RANGE', `${lines.length} lines: a plant runs at most ${MAX_PLANT_LINES}`, ['lines']);
  if (problems.items.length > 0) throw TwinlineError.of(problems.sorted());
  return { file, id: data.id, title: data.title, profile: data.profile, natsNodes: data.nats.nodes, network, hosts, lines };
}

/** Reads and checks a plant file. */
export function loadPlant(file: string): Plant {
  if (!existsSync(file)) throw new TwinlineError('USAGE', `no plant file ${file}`);
  return parsePlant(readFileSync(file, 'utf8'), resolve(file));
}

/** `a.b.c.d` as a 32-bit number, or null. */
export function ipv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0 : null;
}

/** A 32-bit number as `a.b.c.d`. */
export function ipv4Text(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** `a.b.c.d/p` as its network and prefix, or null. */
export function cidr(text: string): { net: number; prefix: number } | null {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const a = m === null ? null : ipv4(m[1]!);
  const prefix = Number(m?.[2]);
  if (a === null || !(prefix >= 0 && prefix <= 32)) return null;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { net: (a & mask) >>> 0, prefix };
}

/** The plant network and its hosts' addresses (given, or the next free one from `.2` on). */
function plantNetwork(net: { subnet: string } | undefined, given: readonly { name: string; address?: string | undefined }[], problems: ProblemList): { network: PlantNetwork | null; hosts: PlantHost[] } {
  if (net === undefined) {
    if (given.length > 0) problems.add('SCENARIO_SCHEMA', 'hosts need the plant network they sit on: network: { subnet: 10.213.9.0/24 } (an IPv4 subnet no route of this machine uses)', ['hosts']);
    return { network: null, hosts: [] };
  }
  const c = cidr(net.subnet);
  if (c === null || c.prefix < 16 || c.prefix > 28 || ipv4(net.subnet.split('/')[0]!) !== c.net) {
    problems.add('SCENARIO_SCHEMA', `subnet "${net.subnet}": expected an IPv4 network a.b.c.0/p with p from 16 to 28, its host bits zero (e.g. 10.213.9.0/24)`, ['network', 'subnet']);
    return { network: null, hosts: [] };
  }
  const size = 2 ** (32 - c.prefix);
  const gateway = c.net + 1;
  const taken = new Set<number>([gateway]);
  const names = new Set<string>();
  const fixed = given.map((h, k) => {
    if (names.has(h.name)) problems.add('SCENARIO_SCHEMA', `host "${h.name}" twice`, ['hosts', k, 'name']);
    names.add(h.name);
    if (h.address === undefined) return null;
    const a = ipv4(h.address);
    if (a === null || a <= c.net + 1 || a >= c.net + size - 1) {
      problems.add('SCENARIO_SCHEMA', `address "${h.address}" is not a host address of ${net.subnet} other than its first (${ipv4Text(gateway)}, the cluster's)`, ['hosts', k, 'address']);
      return null;
    }
    if (taken.has(a)) problems.add('SCENARIO_SCHEMA', `address ${h.address} twice`, ['hosts', k, 'address']);
    taken.add(a);
    return a;
  });
  let next = c.net + 2;
  const hosts = given.map((h, k) => {
    let a = fixed[k];
    if (a === null || a === undefined) {
      while (taken.has(next)) next++;
      a = next;
      taken.add(a);
    }
    if (a >= c.net + size - 1) problems.add('OUT_OF_RANGE', `${given.length} hosts do not fit in ${net.subnet}`, ['hosts']);
    return { name: h.name, address: ipv4Text(a) };
  });
  return { network: { subnet: net.subnet, gateway: ipv4Text(gateway), prefix: c.prefix }, hosts };
}
