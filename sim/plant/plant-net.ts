/**
 * The plant network: a plant file's `hosts` as machines of their own on one machine. Each host is
 * a Linux network namespace (`twl-<plant>-<host>`) with one interface, `eth0`, at its address,
 * the far end of a veth pair whose near end is a port of the plant's bridge (`twl<hash>`); the
 * bridge holds the network's first address, where the plant's NATS nodes listen. A line host in
 * a namespace has its own loopback, ports and interface: what it publishes crosses its link to
 * the bridge, and it is reached at its address, as a host on another machine would be. The
 * namespaces get no default route: nothing in them reaches beyond the plant network.
 *
 * Making namespaces and entering them takes root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and
 * iproute2's `ip`. `plant up` makes what is missing and removes what it made when it stops;
 * `plant net up|down` make and remove the network by hand (after a `plant up` killed with -9,
 * say). A subnet that overlaps a route of this machine is refused before anything is made.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { TwinlineError } from '../core/errors.ts';
import { findProgram } from './nats-cluster.ts';
import { cidr, ipv4, type Plant } from './plant-file.ts';

/** A host of the plant network. */
export interface NetHost {
  name: string;
  address: string;
  /** its network namespace */
  netns: string;
  /** the bridge's end of its veth pair */
  veth: string;
}

/** What `netUp` makes for a plant. */
export interface NetPlan {
  plant: string;
  subnet: string;
  gateway: string;
  prefix: number;
  bridge: string;
  hosts: NetHost[];
}

/** The plant's network, or null when its file declares no hosts. Interface names stay within Linux's 15 characters. */
export function netPlan(plant: Plant): NetPlan | null {
  if (plant.network === null) return null;
  const tag = createHash('sha256').update(plant.id).digest('hex').slice(0, 6);
  return {
    plant: plant.id, ...plant.network, bridge: `twl${tag}`,
    hosts: plant.hosts.map((h, k) => ({ name: h.name, address: h.address, netns: `twl-${plant.id}-${h.name}`, veth: `twl${tag}h${k}` })),
  };
}

/** iproute2's `ip`, or a usage error naming the package. */
export function ipProgram(): string {
  const bin = findProgram('ip');
  if (bin === null) throw new TwinlineError('USAGE', 'the plant network needs iproute2\'s ip (Debian: apt-get install iproute2)');
  return bin;
}

/** Runs `ip args`; a failure throws with the command and what ip said, unless `mayFail`. */
function ip(args: readonly string[], mayFail = false): { ok: boolean; out: string } {
  const r = spawnSync(ipProgram(), args, { encoding: 'utf8', timeout: 15_000 });
  const ok = r.status === 0;
  if (!ok && !mayFail) throw new TwinlineError('USAGE', `ip ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return { ok, out: r.stdout ?? '' };
}

const hasLink = (name: string): boolean => ip(['link', 'show', 'dev', name], true).ok;

/** The network namespaces of this machine. */
export function namespaces(): Set<string> {
  return new Set(ip(['netns', 'list'], true).out.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n !== ''));
}

/** Routes of this machine whose destination overlaps `subnet` (other than the plant bridge's own). */
function overlappingRoutes(plan: NetPlan): string[] {
  const ours = cidr(plan.subnet)!;
  const size = (p: number): number => 2 ** (32 - p);
  return ip(['-4', '-o', 'route', 'show']).out.split('\n').filter((line) => {
    const dst = line.split(' ')[0] ?? '';
    if (dst === '' || dst === 'default' || line.includes(` dev ${plan.bridge} `) || line.endsWith(` dev ${plan.bridge}`)) return false;
    const c = dst.includes('/') ? cidr(dst) : ipv4(dst) === null ? null : { net: ipv4(dst)!, prefix: 32 };
    if (c === null) return false;
    return (c.net >= ours.net && c.net < ours.net + size(ours.prefix)) || (ours.net >= c.net && ours.net < c.net + size(c.prefix));
  });
}

const needRoot = (plan: NetPlan, what: string): void => {
  if (process.getuid?.() !== 0) {
    throw new TwinlineError('USAGE', `plant ${plan.plant}: its hosts are network namespaces, which only root may ${what}: run this as root, or drop the plant file's hosts`);
  }
};

/**
 * Makes what is missing of the plant network; says what it made (`netns NAME`, `bridge NAME`),
 * so that only that is removed again. A namespace there already must hold its host's address.
 * On a failure it removes what it had made, then throws.
 */
export function netUp(plan: NetPlan): string[] {
  needRoot(plan, 'make');
  const clash = overlappingRoutes(plan);
  if (clash.length > 0) throw new TwinlineError('USAGE', `plant ${plan.plant}: network.subnet ${plan.subnet} overlaps a route of this machine (${clash.join('; ')}): choose another subnet`);
  const made: string[] = [];
  try {
    if (!hasLink(plan.bridge)) {
      ip(['link', 'add', plan.bridge, 'type', 'bridge']);
      made.push(`bridge ${plan.bridge}`);
    }
    ip(['addr', 'replace', `${plan.gateway}/${plan.prefix}`, 'dev', plan.bridge]);
    ip(['link', 'set', plan.bridge, 'up']);
    const have = namespaces();
    for (const h of plan.hosts) {
      if (have.has(h.netns)) {
        const addr = ip(['-n', h.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], true).out;
        if (!addr.includes(` ${h.address}/${plan.prefix} `)) {
          throw new TwinlineError('USAGE', `host ${h.name}: network namespace ${h.netns} is there already without ${h.address}/${plan.prefix} on eth0: twinline plant net down removes it`);
        }
        // a host left cut off by an isolate drill joins again
        ip(['link', 'set', h.veth, 'up']);
        continue;
      }
      ip(['netns', 'add', h.netns]);
      made.push(`netns ${h.netns}`);
      // a near end left from a namespace removed by hand
      if (hasLink(h.veth)) ip(['link', 'del', h.veth]);
      ip(['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', `${h.veth}p`]);
      ip(['link', 'set', `${h.veth}p`, 'netns', h.netns]);
      ip(['-n', h.netns, 'link', 'set', `${h.veth}p`, 'name', 'eth0']);
      ip(['-n', h.netns, 'addr', 'add', `${h.address}/${plan.prefix}`, 'dev', 'eth0']);
      ip(['-n', h.netns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', h.netns, 'link', 'set', 'lo', 'up']);
      ip(['link', 'set', h.veth, 'master', plan.bridge]);
      ip(['link', 'set', h.veth, 'up']);
    }
  } catch (e) {
    netDown(plan, made);
    throw e;
  }
  return made;
}

/**
 * Removes the plant network (or only `which`, as `netUp` listed it): the namespaces (their veth
 * pairs go with them), then the bridge. Says what it removed; what is not there is skipped.
 */
export function netDown(plan: NetPlan, which?: readonly string[]): string[] {
  needRoot(plan, 'remove');
  const want = (kind: string, name: string): boolean => which === undefined || which.includes(`${kind} ${name}`);
  const have = namespaces();
  const gone: string[] = [];
  for (const h of plan.hosts) {
    if (want('netns', h.netns) && have.has(h.netns)) {
      ip(['netns', 'del', h.netns]);
      gone.push(`netns ${h.netns}`);
    }
    if (which === undefined && hasLink(h.veth)) ip(['link', 'del', h.veth], true);
  }
  if (want('bridge', plan.bridge) && hasLink(plan.bridge)) {
    ip(['link', 'del', plan.bridge]);
    gone.push(`bridge ${plan.bridge}`);
  }
  return gone;
}

/**
 * Cuts host `name` off the plant network (its link down: the bridge's end of its veth, so its
 * `eth0` loses its carrier) or joins it again, as a failed switch port or pulled cable would.
 * Connections across it are not closed: they stall, and go on once it is up again.
 */
export function setHostLink(plan: NetPlan, name: string, up: boolean): void {
  needRoot(plan, up ? 'join again' : 'cut off');
  const h = plan.hosts.find((x) => x.name === name);
  if (h === undefined) throw new TwinlineError('USAGE', `plant ${plan.plant}: no host "${name}" (${plan.hosts.map((x) => x.name).join(', ')})`);
  ip(['link', 'set', h.veth, up ? 'up' : 'down']);
}

/** The network namespace process `pid` is in, by name (`ip netns identify`), or null. */
export function netnsOf(pid: number): string | null {
  const r = ip(['netns', 'identify', String(pid)], true);
  const name = r.out.trim();
  return r.ok && name !== '' ? name : null;
}
