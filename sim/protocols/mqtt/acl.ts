/**
 * Topic ACLs of the embedded broker, by role. Only the twin (its per-run `publisher` account)
 * publishes its own UNS and Sparkplug topics. `operator`, `engineer` and `instructor` may
 * publish command topics (the line then decides by the role the command carries); `gateway`
 * may publish anywhere outside the twin's namespace and its Sparkplug node, never commands;
 * `viewer` and anonymous clients subscribe only. `$SYS` (client ids, load) is for the
 * instructor alone.
 */
import type { Role } from '../../core/commands.ts';
import { SPB } from './topics.ts';

/** A role on the embedded broker: an account's, or the twin's own publisher. */
export type BrokerRole = Role | 'publisher';

/** The twin's namespace: UNS prefix, Sparkplug group and edge node ids. */
export interface Namespace {
  prefix: string;
  group: string;
  edge: string;
}

/** Roles that may publish command topics. */
const COMMANDERS: ReadonlySet<BrokerRole> = new Set<BrokerRole>(['operator', 'engineer', 'instructor']);

/** Whether `topic` is a UNS command of the twin (`<prefix>/cmd/<c>`, `<prefix>/<station>/cmd/<c>`). */
export function isUnsCommand(topic: string, prefix: string): boolean {
  if (!topic.startsWith(`${prefix}/`)) return false;
  const rest = topic.slice(prefix.length + 1).split('/');
  return (rest.length === 2 && rest[0] === 'cmd') || (rest.length === 3 && rest[1] === 'cmd');
}

/** Whether `topic` is a Sparkplug command (NCMD or DCMD, to any edge node). */
export function isSparkplugCommand(topic: string): boolean {
  const sp = topic.split('/');
  return sp[0] === SPB && (sp[2] === 'NCMD' || sp[2] === 'DCMD');
}

/** Whether `topic` is one of the twin's own Sparkplug topics (any verb of its group and edge node). */
function isTwinSparkplug(topic: string, ns: Namespace): boolean {
  const sp = topic.split('/');
  return sp[0] === SPB && sp[1] === ns.group && sp[3] === ns.edge;
}

/** Why `role` (null: anonymous) may not publish to `topic`, or null if it may. */
export function publishDenied(role: BrokerRole | null, topic: string, ns: Namespace): string | null {
  if (role === 'publisher') return null;
  const who = `${role ?? 'anonymous'} clients`;
  const own = topic === ns.prefix || topic.startsWith(`${ns.prefix}/`) || isTwinSparkplug(topic, ns);
  const command = isUnsCommand(topic, ns.prefix) || isSparkplugCommand(topic);
  if (command) return role !== null && COMMANDERS.has(role) ? null : `commands are not allowed for ${who}`;
  if (own) return 'only the twin publishes its own UNS and Sparkplug topics';
  // a gateway publishes its own topics, never the broker's `$` topics
  if (role === 'gateway') return topic.startsWith('$') ? `$ topics are not allowed for ${who}` : null;
  return `not allowed for ${who}`;
}

/** Whether `role` (null: anonymous) may publish to `topic`. */
export function mayPublish(role: BrokerRole | null, topic: string, ns: Namespace): boolean {
  return publishDenied(role, topic, ns) === null;
}

/** The filter a shared subscription (`$share/<group>/<filter>`) stands for. */
function unshared(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const i = filter.indexOf('/', '$share/'.length);
  return i < 0 ? '' : filter.slice(i + 1);
}

/** Why `role` (null: anonymous) may not subscribe to `filter`, or null if it may. */
export function subscribeDenied(role: BrokerRole | null, filter: string): string | null {
  const f = unshared(filter);
  // `#` and `+/…` never match `$` topics, so only a filter that names `$SYS` reaches them
  if (f === '$SYS' || f.startsWith('$SYS/')) return role === 'instructor' || role === 'publisher' ? null : `$SYS is for the instructor role, not for ${role ?? 'anonymous'} clients`;
  return null;
}
