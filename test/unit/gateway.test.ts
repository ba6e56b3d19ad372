// The gateway kit without a network: the delivery check on fake time, the payload shapes it
// reads, topic filters, durations, and the exported configurations of a real line.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { parseScenario } from '../../sim/line/parse.ts';
import { lineCatalog, type Catalog } from '../../sim/gateway/catalog.ts';
import { DeliveryCheck, type CheckTag } from '../../sim/gateway/check.ts';
import { extract, tagIndex } from '../../sim/gateway/extract.ts';
import { EXPORT_FORMATS, exportConfig, type ExportOptions } from '../../sim/gateway/export.ts';
import { checkFilter, topicMatches } from '../../sim/gateway/live-check.ts';
import { hasProblems, parseDuration, reportTable } from '../../sim/gateway/cli.ts';

const T: CheckTag[] = [
  { key: 'kiln.temp', dataType: 'Double', deadband: 5, relative: false },
  { key: 'kiln.count', dataType: 'Int32', deadband: 0, relative: false },
  { key: 'kiln.on', dataType: 'Boolean', deadband: 0, relative: false },
  { key: 'press.force', dataType: 'Double', deadband: 1, relative: false },
];
const tuning = { windowMs: 60_000, lookaheadMs: 300, graceMs: 2000, staleMs: 5000, warmupMs: 1000 };

function fresh(): DeliveryCheck {
  const c = new DeliveryCheck(T, tuning);
  c.begin(0);
  return c;
}

function deliver(c: DeliveryCheck, key: string, v: number | boolean, at: number): void {
  c.message(false);
  c.delivered(key, v, at);
}

describe('delivery check', () => {
  it('a gateway that forwards everything at once: full coverage, no loss, latency as given', () => {
    const c = fresh();
    for (let k = 0; k < 100; k++) {
      c.truth('kiln.temp', 1000 + k * 10, 2000 + k * 100, false);
      deliver(c, 'kiln.temp', 1000 + k * 10, 2000 + k * 100 + 40);
    }
    const r = c.report(30_000);
    expect(r.tags).toMatchObject({ covered: 1, missing: 0, quiet: 3, stale: 0, coverage: 1 });
    expect(r.changes).toMatchObject({ published: 100, delivered: 100, missed: 0, lossRate: 0 });
    expect(r.latencyMs.p50).toBe(40);
    expect(r.latencyMs.p99).toBe(40);
    expect(r.outOfOrder + r.duplicates + r.valueErrors).toBe(0);
    expect(hasProblems(r)).toBe(false);
  });

  it('counts missed changes, out-of-order and duplicate deliveries, and value errors', () => {
    const c = fresh();
    for (let k = 0; k < 10; k++) c.truth('kiln.temp', 100 * k, 2000 + k * 100, false);
    deliver(c, 'kiln.temp', 0, 2010); // k=0
    // k=1 dropped
    deliver(c, 'kiln.temp', 300, 2310); // k=3, overtaking k=2
    deliver(c, 'kiln.temp', 200, 2500); // k=2, late: out of order, latency 300
    deliver(c, 'kiln.temp', 300, 2510); // k=3 again: duplicate
    deliver(c, 'kiln.temp', 7777, 2600); // never the twin's value
    for (let k = 4; k < 10; k++) deliver(c, 'kiln.temp', 100 * k, 2000 + k * 100 + 5);
    const r = c.report(30_000);
    expect(r.changes).toMatchObject({ published: 10, delivered: 9, missed: 1 });
    expect(r.changes.lossRate).toBeCloseTo(0.1, 10);
    expect(r.outOfOrder).toBe(1);
    expect(r.duplicates).toBe(1);
    expect(r.valueErrors).toBe(1);
    expect(r.examples.valueErrors[0]).toMatchObject({ tag: 'kiln.temp', delivered: 7777 });
    expect(r.latencyMs.max).toBe(300);
    expect(hasProblems(r)).toBe(true);
  });

  it('numbers match within half the deadband; integers and booleans exactly; booleans may come as 0/1', () => {
    const c = fresh();
    c.truth('kiln.temp', 1000, 2000, false);
    deliver(c, 'kiln.temp', 1002.4, 2050); // within 2.5
    c.truth('kiln.count', 7, 2000, false);
    deliver(c, 'kiln.count', 7.2, 2050); // an integer carried as a float
    c.truth('kiln.on', true, 2000, false);
    deliver(c, 'kiln.on', 1, 2050);
    c.truth('press.force', 10, 2000, false);
    deliver(c, 'press.force', 10.6, 2050); // outside 0.5
    const r = c.report(3000);
    expect(r.changes.delivered).toBe(3);
    expect(r.valueErrors).toBe(1);
  });

  it('a delivery ahead of the twin waits for its change (a gateway sampling between the twin\'s samples)', () => {
    const c = fresh();
    c.truth('kiln.temp', 1000, 2000, false);
    deliver(c, 'kiln.temp', 1000, 2010);
    deliver(c, 'kiln.temp', 1050, 2080); // the gateway read the new value first
    c.truth('kiln.temp', 1050, 2100, false);
    const r = c.report(10_000);
    expect(r.valueErrors).toBe(0);
    expect(r.changes).toMatchObject({ delivered: 2, missed: 0 });
    expect(r.latencyMs.max).toBe(10); // clamped at zero for the early one
  });

  it('missing, quiet and stale tags; in-flight changes at the end are not counted as missed', () => {
    const c = fresh();
    c.truth('kiln.count', 1, 1500, true); // retained: current value, never a change
    c.truth('kiln.on', false, 2000, false); // changes, never delivered: missing
    c.truth('kiln.temp', 1000, 2000, false);
    deliver(c, 'kiln.temp', 1000, 2050);
    c.truth('kiln.temp', 1100, 3000, false); // not delivered, 7 s before the end: missed and stale
    c.truth('press.force', 5, 9000, false); // never delivered but covered? no: press never delivered
    const r = c.report(10_000);
    expect(r.tags).toMatchObject({ total: 4, covered: 1, missing: 2, quiet: 1, stale: 1 });
    expect(r.examples.missing).toEqual(['kiln.on', 'press.force']);
    expect(r.examples.stale).toEqual([{ tag: 'kiln.temp', delivered: 1000, twin: 1100 }]);
    expect(r.changes.missed).toBe(1);
    const late = fresh();
    late.truth('kiln.temp', 1, 2000, false);
    deliver(late, 'kiln.temp', 1, 2001);
    late.truth('kiln.temp', 2, 9500, false);
    expect(late.report(10_000).changes).toMatchObject({ missed: 0, inFlight: 1 });
  });

  it('values from before the check began are no errors during the warm-up', () => {
    const c = fresh();
    deliver(c, 'kiln.temp', 555, 300);
    deliver(c, 'kiln.temp', 556, 1500);
    const r = c.report(3000);
    expect(r.valueErrors).toBe(1);
  });

  it('retained gateway messages and unknown topics are counted apart', () => {
    const c = fresh();
    c.message(true);
    c.noTag('gw/somewhere/else');
    c.noTag('gw/somewhere/else');
    const r = c.report(3000);
    expect(r.messages).toMatchObject({ delivered: 3, retainedIgnored: 1, unattributed: 2 });
    expect(r.examples.unattributed).toEqual(['gw/somewhere/else']);
    expect(reportTable(r)).toContain('unknown messages');
  });
});

describe('gateway payloads', () => {
  const ix = tagIndex([
    { key: 'kiln.temp', slug: 'kiln', field: 'temp' },
    { key: 'kiln-2.on', slug: 'kiln-2', field: 'on' },
  ]);

  it('reads UNS-shaped topics with bare or wrapped values', () => {
    expect(extract('gw/kiln/temp', '1234.5', ix)).toEqual([{ key: 'kiln.temp', value: 1234.5 }]);
    expect(extract('a/b/c/kiln/temp', '{"v":12,"t":3}', ix)).toEqual([{ key: 'kiln.temp', value: 12 }]);
    expect(extract('gw/kiln/temp', '{"value":12,"sourceTimestamp":null}', ix)).toEqual([{ key: 'kiln.temp', value: 12 }]);
    expect(extract('gw/kiln/temp', '{"Value":{"Value":13}}', ix)).toEqual([{ key: 'kiln.temp', value: 13 }]);
    expect(extract('gw/kiln-2/on', 'true', ix)).toEqual([{ key: 'kiln-2.on', value: true }]);
  });

  it('reads Telegraf JSON, OPC Publisher samples and network messages, flat objects', () => {
    expect(extract('gw/telegraf/kiln', JSON.stringify({ fields: { 'kiln.temp': 1, Quality: 'OK (0x0)' }, name: 'twinline', tags: { station: 'kiln' }, timestamp: 1 }), ix))
      .toEqual([{ key: 'kiln.temp', value: 1 }]);
    expect(extract('gw/telegraf', JSON.stringify({ fields: { value: 2, Quality: 'OK' }, tags: { id: 'ns=2;s=kiln.temp' } }), ix)).toEqual([{ key: 'kiln.temp', value: 2 }]);
    expect(extract('gw/pub', JSON.stringify([{ NodeId: 'nsu=urn:twinline:x;s=kiln.temp', Value: { Value: 3, SourceTimestamp: 'x' } }]), ix)).toEqual([{ key: 'kiln.temp', value: 3 }]);
    expect(extract('gw/pub', JSON.stringify({ MessageId: '1', Messages: [{ DataSetWriterId: 1, Payload: { 'kiln.temp': { Value: 4 }, 'kiln-2.on': { Value: false } } }] }), ix))
      .toEqual([{ key: 'kiln.temp', value: 4 }, { key: 'kiln-2.on', value: false }]);
    expect(extract('gw/flat', '{"kiln.temp":5,"other":6}', ix)).toEqual([{ key: 'kiln.temp', value: 5 }]);
    expect(extract('gw/none', '{"other":6}', ix)).toEqual([]);
  });

  it('never throws and names only known tags, whatever arrives', () => {
    fc.assert(
      fc.property(fc.string(), fc.oneof(fc.string(), fc.json(), fc.uint8Array()), (topic, payload) => {
        const found = extract(topic, payload, ix);
        for (const f of found) expect(['kiln.temp', 'kiln-2.on']).toContain(f.key);
      }),
      { numRuns: 500 },
    );
  });
});

describe('topic filters and durations', () => {
  it('matches MQTT filters like a broker', () => {
    expect(topicMatches('gw/#', 'gw/a/b')).toBe(true);
    expect(topicMatches('gw/#', 'gw')).toBe(true);
    expect(topicMatches('gw/+/b', 'gw/a/b')).toBe(true);
    expect(topicMatches('gw/+/b', 'gw/a/c')).toBe(false);
    expect(topicMatches('gw/+', 'gw/a/b')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(checkFilter('gw/#/x')).toMatch(/last level/);
    expect(checkFilter('gw/a+')).toMatch(/whole level/);
    expect(checkFilter('gw/+/#')).toBeNull();
  });

  it('parses durations', () => {
    expect(parseDuration('60s', '--for')).toBe(60_000);
    expect(parseDuration('2m', '--for')).toBe(120_000);
    expect(parseDuration('500ms', '--for')).toBe(500);
    expect(parseDuration('1.5', '--for')).toBe(1500);
    expect(() => parseDuration('soon', '--for')).toThrow(/--for soon is not a duration/);
    expect(() => parseDuration('0s', '--for')).toThrow(/longer than zero/);
  });
});

describe('gateway exports', () => {
  const file = 'scenarios/ceramic-after.yaml';
  const cat: Catalog = lineCatalog(parseScenario(readFileSync(file, 'utf8'), file));
  const opts: ExportOptions = {
    endpoint: 'opc.tcp://127.0.0.1:4840', profile: 'hardened', user: 'operator', namespaceIndex: 2, broker: 'mqtt://127.0.0.1:1883',
    topic: 'gw/x', samplingMs: 100, publishingMs: 1000,
  };
  const keys = cat.tags.map((t) => t.key).sort();

  it('are deterministic and never carry a password', () => {
    for (const f of EXPORT_FORMATS) {
      const a = exportConfig(f, cat, opts).text;
      expect(exportConfig(f, cat, opts).text).toBe(a);
      expect(a).not.toMatch(/"password":\s*"[^"]+"/);
    }
  });

  it('a Node-RED flow whose wires all lead somewhere, subscribing every tag once', () => {
    const flow = JSON.parse(exportConfig('node-red', cat, opts).text) as { id: string; type: string; wires?: string[][]; func?: string; endpoint?: string; broker?: string }[];
    const ids = new Set(flow.map((n) => n.id));
    expect(ids.size).toBe(flow.length);
    for (const n of flow) for (const w of n.wires?.flat() ?? []) expect(ids.has(w)).toBe(true);
    const client = flow.find((n) => n.type === 'OpcUa-Client');
    expect(ids.has(client?.endpoint ?? '')).toBe(true);
    expect(flow.find((n) => n.type === 'OpcUa-Endpoint')).toMatchObject({ secpol: 'Basic256Sha256', secmode: 'SignAndEncrypt', login: true });
    const items = flow.find((n) => n.type === 'function' && n.func?.includes('const items'))?.func ?? '';
    const subscribed = [...items.matchAll(/"topic":"ns=2;s=([^"]+)"/g)].map((m) => m[1]).sort();
    expect(subscribed).toEqual(keys);
  });

  it('a Telegraf config that parses as TOML and lists every tag', () => {
    const toml = parseToml(exportConfig('telegraf', cat, opts).text) as {
      inputs: { opcua_listener: { endpoint: string; security_mode: string; password: string; group: { namespace: string; nodes: { name: string; identifier: string }[] }[] }[] };
      outputs: { mqtt: { servers: string[]; data_format: string }[] };
    };
    const l = toml.inputs.opcua_listener[0]!;
    expect(l).toMatchObject({ endpoint: opts.endpoint, security_mode: 'SignAndEncrypt', password: '${TWINLINE_OPCUA_PASSWORD}' });
    expect(l.group.flatMap((g) => g.nodes.map((n) => n.identifier)).sort()).toEqual(keys);
    expect(new Set(l.group.map((g) => g.namespace))).toEqual(new Set(['2']));
    expect(toml.outputs.mqtt[0]).toMatchObject({ servers: ['tcp://127.0.0.1:1883'], data_format: 'json' });
  });

  it('an OPC Publisher file with one writer per station and every tag by namespace URI', () => {
    const pn = JSON.parse(exportConfig('opc-publisher', cat, { ...opts, profile: 'open' }).text) as { UseSecurity: boolean; OpcAuthenticationMode: string; OpcNodes: { Id: string; DataSetFieldId: string }[] }[];
    expect(pn.length).toBe(new Set(cat.tags.map((t) => t.station)).size);
    expect(pn[0]).toMatchObject({ UseSecurity: false, OpcAuthenticationMode: 'Anonymous' });
    expect(pn.flatMap((w) => w.OpcNodes.map((n) => n.DataSetFieldId)).sort()).toEqual(keys);
    for (const n of pn.flatMap((w) => w.OpcNodes)) expect(n.Id).toBe(`nsu=urn:twinline:ceramic-after;s=${n.DataSetFieldId}`);
  });
});
