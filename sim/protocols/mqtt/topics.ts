/**
 * Topic names of the MQTT face. The unified namespace follows the ISA-95 names of the line
 * (`<enterprise>/<site>/<area>/<line>/<station>/<tag>`), as topic-safe slugs; Sparkplug B
 * uses `spBv1.0/<group>/<verb>/<edge node>[/<device>]`.
 */
import type { Isa95 } from '../../line/types.ts';

/**
 * A topic-safe slug of a name: lower case, letters (any script) and digits kept, everything
 * else (spaces, `/`, `+`, `#`, `$`) folded into single `-`. `Hunan Yinhe Ceramics` →
 * `hunan-yinhe-ceramics`; a name with nothing left becomes `_`.
 */
export function slug(name: string): string {
  const s = name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}_]+/gu, '-').replace(/^-+|-+$/g, '');
  return s === '' ? '_' : s;
}

/** `<enterprise>/<site>/<area>/<line>` as slugs: the prefix of every UNS topic of a line. */
export function unsPrefix(isa: Isa95): string {
  return [isa.enterprise, isa.site, isa.area, isa.line].map(slug).join('/');
}

/** Sparkplug B namespace. */
export const SPB = 'spBv1.0';

/** Sparkplug message types an edge node sends or receives. */
export type SpVerb = 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDEATH' | 'NDATA' | 'DDATA' | 'NCMD' | 'DCMD';

/** `spBv1.0/<group>/<verb>/<edge>[/<device>]` */
export function spTopic(group: string, verb: SpVerb, edge: string, device?: string): string {
  return device === undefined ? `${SPB}/${group}/${verb}/${edge}` : `${SPB}/${group}/${verb}/${edge}/${device}`;
}

/** A command topic taken apart: `<prefix>/<station>/cmd/<command>` or `<prefix>/cmd/<command>` (the line). */
export interface CommandTopic {
  /** station slug, or null for the whole line */
  station: string | null;
  command: string;
}

/** Parses a UNS command topic under `prefix`; null if `topic` is not one. */
export function parseCommandTopic(prefix: string, topic: string): CommandTopic | null {
  if (!topic.startsWith(`${prefix}/`)) return null;
  const rest = topic.slice(prefix.length + 1).split('/');
  if (rest.length === 2 && rest[0] === 'cmd' && rest[1] !== '') return { station: null, command: rest[1]! };
  if (rest.length === 3 && rest[1] === 'cmd' && rest[0] !== '' && rest[2] !== '') return { station: rest[0]!, command: rest[2]! };
  return null;
}

/** Topic filters a face subscribes to for UNS commands (one level each, so replies never loop back). */
export function commandFilters(prefix: string): string[] {
  return [`${prefix}/+/cmd/+`, `${prefix}/cmd/+`];
}
