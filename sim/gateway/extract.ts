/**
 * What a gateway message says: which tags of the line it carries and their values. Gateways
 * publish in many shapes; the ones understood here cover the exports of `gateway export` and
 * most UNS gateways:
 *  - a topic ending in `<station>/<tag>` with a bare value, or a JSON object carrying it as
 *    `v`, `value`, `Value` or `Value.Value` (UNS gateways, Node-RED, the twin's own UNS);
 *  - Telegraf JSON, `{"fields": {"<station>.<tag>": x, …}, "tags": {…}, …}`;
 *  - OPC Publisher samples, `{"NodeId": "…;s=<station>.<tag>", "Value": {"Value": x}}` (one or
 *    an array), and its PubSub network messages, `{"Messages": [{"Payload": {"<station>.<tag>":
 *    {"Value": x}}}]}`;
 *  - a flat JSON object keyed by `<station>.<tag>`.
 */

/** A value on the wire. */
export type WireValue = number | boolean | string | null;

/** One tag value found in a message. */
export interface Found {
  /** catalog key `<station>.<field>` */
  key: string;
  value: WireValue;
}

/** Resolves names a gateway may use for a tag to its catalog key. */
export interface TagIndex {
  /** catalog key by `<station>.<field>` and by `<station slug>/<field>` */
  byName: ReadonlyMap<string, string>;
}

/** Builds the index of the names of `tags`. */
export function tagIndex(tags: readonly { key: string; slug: string; field: string }[]): TagIndex {
  const byName = new Map<string, string>();
  for (const t of tags) {
    byName.set(t.key, t.key);
    byName.set(`${t.slug}/${t.field}`, t.key);
  }
  return { byName };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The scalar a JSON value stands for, or undefined if it is not one. */
export function scalarOf(x: unknown, depth = 0): WireValue | undefined {
  if (x === null || typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string') return x;
  if (!isObject(x) || depth > 3) return undefined;
  for (const k of ['v', 'value', 'Value', 'val']) if (k in x) return scalarOf(x[k], depth + 1);
  return undefined;
}

/** A bare (non-JSON) payload as a value: numbers, true/false, else the text. */
function bareValue(text: string): WireValue {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  const n = Number(t);
  return t !== '' && Number.isFinite(n) ? n : t;
}

/** The key of an OPC UA node id string `…;s=<station>.<field>` or a plain name. */
function keyOf(name: string, ix: TagIndex): string | undefined {
  const direct = ix.byName.get(name);
  if (direct !== undefined) return direct;
  const s = /(?:^|;)s=(.+)$/.exec(name)?.[1];
  return s === undefined ? undefined : ix.byName.get(s);
}

function fromObject(o: Record<string, unknown>, ix: TagIndex, out: Found[]): void {
  // OPC Publisher sample
  if (typeof o.NodeId === 'string' || typeof o.nodeId === 'string') {
    const key = keyOf(String(o.NodeId ?? o.nodeId), ix);
    const value = scalarOf(o.Value ?? o.value);
    if (key !== undefined && value !== undefined) out.push({ key, value });
    return;
  }
  // OPC Publisher PubSub network message
  if (Array.isArray(o.Messages)) {
    for (const m of o.Messages) if (isObject(m) && isObject(m.Payload)) fromObject(m.Payload, ix, out);
    return;
  }
  // Telegraf
  if (isObject(o.fields)) {
    const before = out.length;
    for (const [name, v] of Object.entries(o.fields)) {
      const key = keyOf(name, ix);
      const value = scalarOf(v);
      if (key !== undefined && value !== undefined) out.push({ key, value });
    }
    // one unnamed field with the node in the tags (opcua_listener's `id` tag)
    if (out.length === before && isObject(o.tags) && typeof o.tags.id === 'string') {
      const key = keyOf(o.tags.id, ix);
      const values = Object.entries(o.fields).filter(([n]) => n !== 'Quality' && n !== 'DataType');
      const value = values.length === 1 ? scalarOf(values[0]?.[1]) : undefined;
      if (key !== undefined && value !== undefined) out.push({ key, value });
    }
    return;
  }
  // flat object keyed by tag name
  for (const [name, v] of Object.entries(o)) {
    const key = keyOf(name, ix);
    const value = key === undefined ? undefined : scalarOf(v);
    if (key !== undefined && value !== undefined) out.push({ key, value });
  }
}

/** The tag values carried by one message on `topic`; empty if it carries none the line knows. */
export function extract(topic: string, payload: Uint8Array | string, ix: TagIndex): Found[] {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  let json: unknown;
  let isJson = true;
  try {
    json = JSON.parse(text);
  } catch {
    isJson = false;
  }
  const levels = topic.split('/');
  const byTopic = levels.length >= 2 ? ix.byName.get(`${levels[levels.length - 2]}/${levels[levels.length - 1]}`) : undefined;
  if (byTopic !== undefined) {
    const value = isJson ? scalarOf(json) : bareValue(text);
    return value === undefined ? [] : [{ key: byTopic, value }];
  }
  const out: Found[] = [];
  if (Array.isArray(json)) {
    for (const x of json) if (isObject(x)) fromObject(x, ix, out);
  } else if (isObject(json)) fromObject(json, ix, out);
  return out;
}
