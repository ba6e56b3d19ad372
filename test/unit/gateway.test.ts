// The gateway kit without a network: the delivery check on fake time, the payload shapes it
// reads, topic filters, durations, and the exported configurations of a real line.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { parseScenario } from '../../sim/line/parse.ts';
import { lineCatalog, type Catalog } from '../../sim/gateway/catalog.ts';
import { DEFAULT_LIMITS, DeliveryCheck, type CheckTag } from '../../sim/gateway/check.ts';
import { extract, tagIndex } from '../../sim/gateway/extract.ts';
import { EXPORT_FORMATS, credentialsFile, exportConfig, queueSize, type ExportOptions } from '../../sim/gateway/export.ts';
import { checkFilter, topicMatches } from '../../sim/gateway/live-check.ts';
import { hasProblems, limitsOf, parseDuration, reportTable } from '../../sim/gateway/cli.ts';
import type { GatewayTag } from '../../sim/gateway/catalog.ts';
import { catalog, play, record, type Gateway } from './gateway-trace.ts';

const T: CheckTag[] = [
  { key: 'kiln.temp', dataType: 'Double', deadband: 5, relative: false },
  { key: 'kiln.count', dataType: 'Int32', deadband: 0, relative: false },
  { key: 'kiln.on', dataType: 'Boolean', deadband: 0, relative: false },
  { key: 'press.force', dataType: 'Double', deadband: 1, relative: false },
];
const tuning = { windowMs: 60_000, lookaheadMs: 300, graceMs: 2000, staleMs: 5000, warmupMs: 1000, binMs: 1000, lossShare: 0.5 };

function fresh(): DeliveryCheck {
  const c = new DeliveryCheck(T, tuning);
  c.begin(0);
  return c;
}

function deliver(c: DeliveryCheck, key: string, v: number | boolean | string, at: number): void {
  c.message(false);
  c.delivered(key, v, at);
}

describe('delivery check on fake time', () => {
  it('counts missed changes, out-of-order and duplicate deliveries, and value errors per tag', () => {
    const c = fresh();
    c.truth('kiln.count', 0, 0, true);
    for (let k = 1; k <= 10; k++) c.truth('kiln.count', k, 2000 + k * 100, false);
    deliver(c, 'kiln.count', 1, 2110); // k=1
    // k=2 dropped
    deliver(c, 'kiln.count', 4, 2410); // k=4, overtaking k=3
    deliver(c, 'kiln.count', 3, 2450); // k=3, late: out of order
    deliver(c, 'kiln.count', 3, 2460); // k=3 again, no change since: a duplicate
    deliver(c, 'kiln.count', 77, 2600); // never the twin's value
    for (let k = 5; k <= 10; k++) deliver(c, 'kiln.count', k, 2000 + k * 100 + 5);
    const r = c.report(30_000);
    expect(r.changes).toMatchObject({ published: 10, delivered: 9, missed: 1 });
    expect(r.outOfOrder).toBe(1);
    expect(r.duplicates).toBe(1);
    expect(r.duplicatesByTag).toEqual([{ tag: 'kiln.count', count: 1 }]);
    expect(r.valueErrors).toBe(1);
    expect(r.valueErrorsByTag).toEqual([{ tag: 'kiln.count', count: 1, worst: [{ atS: 2.6, delivered: 77, twin: 6 }] }]);
    expect(hasProblems(r)).toBe(true);
  });

  it('waits for a twin stream that runs behind the gateway: a counter read ahead of it is no error, a value the twin never has still is', () => {
    const c = fresh();
    c.truth('kiln.temp', 1000, 0, true);
    c.truth('kiln.temp', 1010, 1000, false);
    deliver(c, 'kiln.temp', 1010, 1100);
    // the gateway reads 1021 over OPC UA at 2000; the busy twin publishes 1020 only at 4500
    deliver(c, 'kiln.temp', 1021, 2000);
    deliver(c, 'kiln.temp', 1200, 2100); // never the twin's
    c.tick(3000);
    c.truth('kiln.temp', 1020, 4500, false);
    c.tick(8000);
    c.truth('kiln.temp', 1030, 9000, false);
    deliver(c, 'kiln.temp', 1031, 9100);
    const r = c.report(20_000);
    expect(r.valueErrorsByTag).toEqual([{ tag: 'kiln.temp', count: 1, worst: [{ atS: 2.1, delivered: 1200, twin: 1010 }] }]);
    expect(r.changes).toMatchObject({ published: 3, delivered: 3, missed: 0 });
    // with no wait (the old judgement at 300 ms), the counter ahead of the twin was an error too
    const strict = new DeliveryCheck(T, { ...tuning, catchUpMs: 300 });
    strict.begin(0);
    strict.truth('kiln.temp', 1000, 0, true);
    strict.truth('kiln.temp', 1010, 1000, false);
    deliver(strict, 'kiln.temp', 1021, 2000);
    strict.tick(3000);
    strict.truth('kiln.temp', 1020, 4500, false);
    expect(strict.report(20_000).valueErrors).toBe(1);
  });

  it('after its window it hears the twin only for the deliveries still waiting: their errors are named, the twin\'s later changes are not counted', () => {
    const c = fresh();
    c.truth('kiln.temp', 1000, 0, true);
    c.truth('kiln.temp', 1010, 1000, false);
    deliver(c, 'kiln.temp', 1010, 1100);
    // in the window's last second: a counter read ahead of the twin, and a value ten times the twin's
    deliver(c, 'kiln.temp', 1021, 9500);
    deliver(c, 'press.force', 10, 9600);
    c.truth('press.force', 1, 9550, false);
    c.close(10_000);
    expect(c.waiting()).toBe(true);
    // heard after the window: the twin's 1020, a gateway message (not counted)
    c.truth('kiln.temp', 1020, 11_000, false);
    deliver(c, 'kiln.temp', 1020, 11_050);
    c.tick(11_000);
    expect(c.waiting()).toBe(true); // press.force's 10 still waits
    c.tick(14_600);
    expect(c.waiting()).toBe(false);
    const r = c.report(15_000);
    expect(r.valueErrorsByTag).toEqual([{ tag: 'press.force', count: 1, worst: [{ atS: 9.6, delivered: 10, twin: 1 }] }]);
    expect(r.messages).toMatchObject({ truth: 3, values: 3, unjudged: 0 });
    expect(r.changes).toMatchObject({ published: 2 });
    expect(r.durationS).toBe(10);
  });

  it('a float within the twin\'s values over its interval plus the deadband is right; outside it is not', () => {
    const c = fresh();
    c.truth('kiln.temp', 1000, 0, true);
    c.truth('kiln.temp', 1030, 2000, false);
    deliver(c, 'kiln.temp', 1017.3, 1950); // on the way from 1000 to 1030, read before the twin published
    deliver(c, 'kiln.temp', 1034.9, 2100); // within the deadband (5) of 1030
    deliver(c, 'kiln.temp', 1040, 2200); // 10 past it: the twin never had it
    c.truth('kiln.on', true, 0, true);
    deliver(c, 'kiln.on', 1, 2050); // a boolean as 0/1
    c.truth('kiln.count', 7, 0, true);
    c.truth('kiln.count', 9, 2000, false);
    deliver(c, 'kiln.count', 8, 1990); // an integer change the twin's sampling passed over
    deliver(c, 'kiln.count', 10, 2150); // never
    const r = c.report(10_000);
    expect(r.valueErrorsByTag.map((e) => e.tag).sort()).toEqual(['kiln.count', 'kiln.temp']);
    expect(r.valueErrors).toBe(2);
    expect(r.changes).toMatchObject({ published: 2, delivered: 2, missed: 0 });
  });

  it('strings match exactly', () => {
    const c = new DeliveryCheck([{ key: 'kiln.State', dataType: 'String', deadband: 0, relative: false }], tuning);
    c.begin(0);
    c.truth('kiln.State', 'Idle', 0, true);
    c.truth('kiln.State', 'Execute', 2000, false);
    deliver(c, 'kiln.State', 'Execute', 2030);
    deliver(c, 'kiln.State', 'execute', 2500);
    const r = c.report(10_000);
    expect(r.valueErrorsByTag).toEqual([{ tag: 'kiln.State', count: 1, worst: [{ atS: 2.5, delivered: 'execute', twin: 'Execute' }] }]);
    expect(r.changes.delivered).toBe(1);
  });

  it('never-delivered tags are named by station, quiet or not; coverage is over the whole catalog', () => {
    const c = fresh();
    c.truth('kiln.on', false, 2000, false); // changes, never delivered: missing
    c.truth('kiln.temp', 1000, 2000, false);
    deliver(c, 'kiln.temp', 1000, 2050);
    const r = c.report(10_000);
    expect(r.tags).toMatchObject({ total: 4, delivered: 1, coverage: 0.25, missing: 1, quiet: 2 });
    expect(r.neverDelivered).toEqual([
      { station: 'kiln', all: false, changed: ['kiln.on'], quiet: ['kiln.count'] },
      { station: 'press', all: true, changed: [], quiet: ['press.force'] },
    ]);
    expect(r.problems).toEqual(['1 tags changed but were never delivered (limit 0)']);
    expect(c.report(10_000, { ...DEFAULT_LIMITS, missingTags: 1 }).problems).toEqual([]);
  });

  it('stale: the delivered value older than the twin\'s by more than the limit, with when', () => {
    const c = fresh();
    c.truth('kiln.count', 1, 0, true);
    deliver(c, 'kiln.count', 1, 1100);
    c.truth('kiln.count', 2, 3000, false); // never delivered
    c.truth('kiln.count', 3, 4000, false);
    const r = c.report(12_000);
    expect(r.stale).toEqual([{ tag: 'kiln.count', staleS: 4, fromS: 8, toS: 12, delivered: 1, twin: 3 }]);
    // a change in the last seconds: lagging, not stale yet
    const d = fresh();
    d.truth('kiln.count', 1, 0, true);
    deliver(d, 'kiln.count', 1, 1100);
    d.truth('kiln.count', 2, 9000, false);
    expect(d.report(12_000).stale).toEqual([]);
  });

  it('values from before the check began and those whose twin value is not in yet at the end are not judged', () => {
    const c = fresh();
    deliver(c, 'kiln.count', 555, 300);
    c.truth('kiln.count', 1, 500, true);
    deliver(c, 'kiln.count', 556, 1500);
    deliver(c, 'kiln.count', 2, 7900); // the twin's 2 comes after the end
    const r = c.report(8000);
    expect(r.valueErrors).toBe(1);
    expect(r.messages.unjudged).toBe(2);
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

  it('limits come from flags; bad ones are named', () => {
    expect(limitsOf({ 'max-loss': '2%', 'max-value-errors': '3', 'max-duplicates': '0.05' })).toEqual({ ...DEFAULT_LIMITS, lossRate: 0.02, valueErrors: 3, duplicateRate: 0.05 });
    expect(() => limitsOf({ 'max-loss': '150%' })).toThrow(/--max-loss 150% is not a share/);
    expect(() => limitsOf({ 'max-stale': '-1' })).toThrow(/--max-stale -1 must be a whole number/);
  });
});

describe('delivery check on recorded sequences of the real line', () => {
  // 40 s of the ceramic line after two minutes of start-up, every tag every 10 ms
  const trace = record(40, 120);
  const faithful: Gateway = { samplingMs: 100, phaseMs: 50, deadband: 0, latencyMs: 15 };
  const key = (k: string): GatewayTag => catalog.tags.find((t) => t.key === k)!;

  it('the recording moves: integer and float tags change, State is a tag of every station', () => {
    const changes = (k: string): number => {
      const i = catalog.tags.indexOf(key(k));
      return trace.values.filter((r, n) => n > 0 && r[i] !== trace.values[n - 1]![i]).length;
    };
    expect(changes('former.strokes')).toBeGreaterThanOrEqual(2);
    // the kiln's zones are heat balances updated every second: up to 40 changes in 40 s
    expect(changes('kiln.t4')).toBeGreaterThan(30);
    expect(catalog.tags.filter((t) => t.field === 'State').length).toBe(new Set(catalog.tags.map((t) => t.station)).size);
  });

  it('faithful gateways pass: in-between values at the twin\'s rate, every 10 ms, or with the twin\'s deadband', () => {
    for (const gw of [faithful, { ...faithful, samplingMs: 10, phaseMs: 0 }, { ...faithful, phaseMs: 30, deadband: 1 }]) {
      const r = play(trace, gw);
      expect(r.problems, JSON.stringify(gw)).toEqual([]);
      expect(r.valueErrors + r.duplicates + r.outOfOrder + r.changes.missed + r.tags.stale).toBe(0);
      expect(r.tags.coverage).toBe(1);
      expect(r.changes.delivered).toBeGreaterThan(500);
      expect(r.latencyMs.p50).toBeLessThanOrEqual(15);
    }
  });

  it('×10 on an integer tag and on a float tag: value errors named per tag, nothing else', () => {
    const times10 = new Set(['former.strokes', 'kiln.t4']);
    const r = play(trace, { ...faithful, map: (t, v) => (times10.has(t.key) && typeof v === 'number' ? v * 10 : v) });
    expect(r.valueErrorsByTag.map((e) => e.tag).sort()).toEqual(['former.strokes', 'kiln.t4']);
    const t4 = r.valueErrorsByTag.find((e) => e.tag === 'kiln.t4')!;
    expect(t4.count).toBeGreaterThan(25);
    for (const w of t4.worst) expect(Number(w.delivered) / Number(w.twin)).toBeCloseTo(10, 0);
    expect(r.stale.filter((x) => !times10.has(x.tag))).toEqual([]);
    expect(r.duplicates + r.outOfOrder).toBe(0);
    expect(r.problems.some((p) => p.includes('value errors in 2 tags'))).toBe(true);
    expect(reportTable(r)).toMatch(/kiln\.t4 ×\d+ \(\d/);
  });

  it('a dropped station is named with all its tags', () => {
    const r = play(trace, { ...faithful, map: (t, v) => (t.station === 'c1' ? undefined : v) });
    const c1 = catalog.tags.filter((t) => t.station === 'c1').map((t) => t.key);
    expect(r.neverDelivered).toHaveLength(1);
    const g = r.neverDelivered[0]!;
    expect(g).toMatchObject({ station: 'c1', all: true });
    expect([...g.changed, ...g.quiet].sort()).toEqual([...c1].sort());
    expect(g.changed.length).toBeGreaterThan(0);
    expect(r.tags.coverage).toBeCloseTo((catalog.tags.length - c1.length) / catalog.tags.length, 10);
    expect(r.valueErrors + r.tags.stale + r.lossWindows.length).toBe(0);
    expect(reportTable(r)).toContain(`c1: all ${c1.length} tags`);
  });

  it('a gateway killed for 15 s: one loss window over the gap, stale tags, nothing else wrong', () => {
    const down = (at: number): boolean => at >= 10_000 && at < 25_000;
    const r = play(trace, { ...faithful, map: (_t, v, at) => (down(at) ? undefined : v) });
    expect(r.lossWindows).toHaveLength(1);
    const w = r.lossWindows[0]!;
    expect(w.startS).toBeGreaterThanOrEqual(9.9);
    expect(w.startS).toBeLessThan(11);
    expect(w.endS).toBeGreaterThan(24);
    expect(w.endS).toBeLessThanOrEqual(25.2);
    expect(w.tags).toContain('kiln.t4');
    expect(r.tags.stale).toBeGreaterThan(3);
    const t4 = r.stale.find((s) => s.tag === 'kiln.t4')!;
    // its last value stayed within the twin's deadband for a while, then 5 s more
    expect(t4.fromS).toBeGreaterThan(14);
    expect(t4.fromS).toBeLessThan(20);
    expect(t4.toS).toBeCloseTo(25, 0);
    expect(r.valueErrors).toBe(0);
    expect(r.problems.length).toBeGreaterThan(0);
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
    endpoint: 'opc.tcp://127.0.0.1:4840', profile: 'hardened', user: 'viewer', namespaceIndex: 2, broker: 'mqtt://127.0.0.1:1883',
    topic: 'gw/x', samplingMs: 100, publishingMs: 1000,
  };
  const keys = cat.tags.map((t) => t.key).sort();
  const nodeIds = cat.tags.map((t) => t.nodeId).sort();

  it('are deterministic and never carry a password', () => {
    for (const f of EXPORT_FORMATS) {
      const a = exportConfig(f, cat, opts).text;
      expect(exportConfig(f, cat, opts).text).toBe(a);
      expect(a).not.toMatch(/"password":\s*"[^"]+"/);
    }
  });

  const bands = new Map(cat.tags.filter((t) => t.dataType === 'Double' && !t.relative && t.deadband > 0).map((t) => [t.nodeId, t.deadband]));

  it('State of every station is exported, and floats carry the twin\'s deadband', () => {
    expect(cat.tags.filter((t) => t.field === 'State').map((t) => t.nodeId)).toContain('kiln.PackML.StateName');
    expect(bands.size).toBeGreaterThan(50);
    const ranged = cat.tags.find((t) => bands.has(t.nodeId))!;
    expect(bands.get(ranged.nodeId)).toBeCloseTo(0.005 * (ranged.max! - ranged.min!), 9);
  });

  it('Node-RED: credentials in <flows>_cred.json, never inline; hints name the files written and the broker', () => {
    expect(credentialsFile('/x/flows.json')).toBe('/x/flows_cred.json');
    expect(credentialsFile('flows')).toBe('flows_cred');
    const e = exportConfig('node-red', cat, { ...opts, out: '/x/line.json', broker: 'mqtt://broker.example:1884' });
    const flow = JSON.parse(e.text) as { id: string; type: string; credentials?: unknown }[];
    expect(flow.filter((n) => 'credentials' in n)).toEqual([]);
    const endpoint = flow.find((n) => n.type === 'OpcUa-Endpoint')!;
    expect(e.extra).toEqual([{ file: '/x/line_cred.json', text: `${JSON.stringify({ [endpoint.id]: { user: 'viewer', password: '' } }, null, 2)}\n` }]);
    expect(e.hint).toContain('node-red /x/line.json');
    expect(e.hint).toContain('/x/line_cred.json');
    expect(e.hint).toContain('mqtt://broker.example:1884');
    expect(e.hint).toContain('twinline opcua trust --last-rejected');
    const withPw = exportConfig('node-red', cat, { ...opts, out: '/x/line.json', password: 'pw-1' });
    expect(JSON.parse(withPw.extra[0]!.text)).toEqual({ [endpoint.id]: { user: 'viewer', password: 'pw-1' } });
    expect(withPw.text).not.toContain('pw-1');
    const toStdout = exportConfig('node-red', cat, { ...opts, profile: 'open' });
    expect(toStdout.extra).toEqual([]);
    expect(toStdout.hint).not.toMatch(/\.node-red\.json|_cred/);
  });

  it('OPC Publisher: queue sized to the sampling/publishing ratio, the broker in the hint', () => {
    expect(queueSize(100, 1000)).toBe(10);
    expect(queueSize(250, 1000)).toBe(4);
    expect(queueSize(1000, 1000)).toBe(1);
    const e = exportConfig('opc-publisher', cat, { ...opts, broker: 'mqtt://10.1.2.3:1999', out: 'pn.json' });
    const nodes = (JSON.parse(e.text) as { OpcNodes: { Id: string; QueueSize: number; DeadbandType?: string; DeadbandValue?: number }[] }[]).flatMap((w) => w.OpcNodes);
    for (const n of nodes) expect(n.QueueSize).toBe(10);
    const [id, band] = [...bands][0]!;
    expect(nodes.find((n) => n.Id.endsWith(`;s=${id}`))).toMatchObject({ DeadbandType: 'Absolute', DeadbandValue: band });
    expect(nodes.filter((n) => n.DeadbandType !== undefined).length).toBe(bands.size);
    expect(e.hint).toContain('--pf=pn.json --mqc=HostName=10.1.2.3;Port=1999');
  });

  it('a Node-RED flow whose wires all lead somewhere, monitoring every tag once', () => {
    const flow = JSON.parse(exportConfig('node-red', cat, opts).text) as { id: string; type: string; wires?: string[][]; func?: string; endpoint?: string; broker?: string }[];
    const ids = new Set(flow.map((n) => n.id));
    expect(ids.size).toBe(flow.length);
    for (const n of flow) for (const w of n.wires?.flat() ?? []) expect(ids.has(w)).toBe(true);
    const client = flow.find((n) => n.type === 'OpcUa-Client' && (n as { action?: string }).action === 'monitor');
    expect(ids.has(client?.endpoint ?? '')).toBe(true);
    expect(flow.find((n) => n.type === 'OpcUa-Endpoint')).toMatchObject({ secpol: 'Basic256Sha256', secmode: 'SignAndEncrypt', login: true });
    const items = flow.find((n) => n.type === 'function' && n.func?.includes('const items'))?.func ?? '';
    const subscribed = [...items.matchAll(/"topic":"ns=2;s=([^"]+)"/g)].map((m) => m[1]).sort();
    expect(subscribed).toEqual(nodeIds);
    expect(client).toMatchObject({ action: 'monitor' });
    const listed = JSON.parse(/const items = (\[.*\]);/.exec(items)![1]!) as { topic: string; deadbandType?: string; deadbandValue?: number }[];
    for (const i of listed) expect(i.deadbandValue).toBe(bands.get(i.topic.slice('ns=2;s='.length)));
  });

  it('a Telegraf config that parses as TOML and lists every tag', () => {
    const toml = parseToml(exportConfig('telegraf', cat, opts).text) as {
      inputs: { opcua_listener: { endpoint: string; security_mode: string; password: string; group: { namespace: string; nodes: { name: string; identifier: string; monitoring_params: { data_change_filter?: { deadband_value: number } } }[] }[] }[] };
      outputs: { mqtt: { servers: string[]; data_format: string }[] };
    };
    const l = toml.inputs.opcua_listener[0]!;
    expect(l).toMatchObject({ endpoint: opts.endpoint, security_mode: 'SignAndEncrypt', password: '${TWINLINE_OPCUA_PASSWORD}' });
    expect(l.group.flatMap((g) => g.nodes.map((n) => n.identifier)).sort()).toEqual(nodeIds);
    for (const n of l.group.flatMap((g) => g.nodes)) expect(n.monitoring_params.data_change_filter?.deadband_value).toBe(bands.get(n.identifier));
    expect(new Set(l.group.map((g) => g.namespace))).toEqual(new Set(['2']));
    expect(toml.outputs.mqtt[0]).toMatchObject({ servers: ['tcp://127.0.0.1:1883'], data_format: 'json' });
  });

  it('an OPC Publisher file with one writer per station and every tag by namespace URI', () => {
    const pn = JSON.parse(exportConfig('opc-publisher', cat, { ...opts, profile: 'open' }).text) as { UseSecurity: boolean; OpcAuthenticationMode: string; OpcNodes: { Id: string; DataSetFieldId: string }[] }[];
    expect(pn.length).toBe(new Set(cat.tags.map((t) => t.station)).size);
    expect(pn[0]).toMatchObject({ UseSecurity: false, OpcAuthenticationMode: 'Anonymous' });
    expect(pn.flatMap((w) => w.OpcNodes.map((n) => n.DataSetFieldId)).sort()).toEqual(keys);
    for (const n of pn.flatMap((w) => w.OpcNodes)) expect(n.Id).toBe(`nsu=urn:twinline:ceramic-after;s=${cat.tags.find((t) => t.key === n.DataSetFieldId)?.nodeId ?? ''}`);
  });
});
