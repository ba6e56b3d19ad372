/**
 * The detectors over synthetic event and audit sequences: each family fires on what it is for,
 * stays quiet on the legitimate neighbour of it, cools down, keeps its memory bounded, and
 * never throws on garbage. The built-in configuration is the one loaded.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDetectorConfig, parseDetectorConfig } from '../../security/detectors/config.ts';
import { DetectorEngine, MAX_KEYS, type Alert } from '../../security/detectors/engine.ts';
import { globMatch, peerOfPrincipal } from '../../security/detectors/rules.ts';
import { AlertLog } from '../../security/detectors/alert-log.ts';
import { errorOf } from '../errors.ts';

const STATIONS = [{ id: 'kiln', kind: 'kiln' }, { id: 'furnace', kind: 'induction-furnace' }, { id: 'belt', kind: 'conveyor' }];
const FIELDS: Record<string, number> = { 'kiln.sp1': 900, 'kiln.recipe1': 900, 'kiln.sp2': 1100, 'kiln.recipe2': 1100, 'furnace.tapSp': 1500, 'furnace.recipeTapTemp': 1500 };

/** An engine with the built-in configuration over a line of the stations above and a settable clock. */
function engine(file?: string): { e: DetectorEngine; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  const e = new DetectorEngine(loadDetectorConfig(file), { stations: STATIONS, read: (s, f) => FIELDS[`${s}.${f}`] ?? null, now: () => clock.ms });
  return { e, clock };
}

let seq = 0;
const audit = (data: Record<string, string>): unknown => ({ seq: seq++, tick: seq, type: 'audit', station: null, data: { action: '', outcome: '', target: '', reason: '', source: 'api', principal: '', ...data } });
const command = (station: string | null, data: Record<string, string>, args: Record<string, unknown> = {}): unknown => ({
  seq: seq++, tick: seq, type: 'command', station, data: { command: 'set', source: 'hmi', principal: 'operator@127.0.0.1', role: 'operator', args: JSON.stringify(args), ...data },
});

describe('allow-lists', () => {
  it('a write from a face the role does not use is an alert with T0836; the same write from the HMI is not', () => {
    const { e } = engine();
    expect(e.onEvents([command('kiln', {}, { field: 'sp1', value: 905 })])).toEqual([]);
    const [a, ...more] = e.onEvents([command('kiln', { source: 'opcua', principal: 'anonymous@ns=1;g=X' }, { field: 'sp1', value: 905 })]);
    expect(more).toEqual([]);
    expect(a).toMatchObject({ detector: 'allow-list', rule: 'write', severity: 'high', techniques: ['T0836'], station: 'kiln', principal: 'anonymous@ns=1;g=X' });
    expect(a!.title).toContain('no allow-list entry for role operator from opcua');
    expect(a!.evidence.seqs).toEqual([seq - 1]);
  });

  it('a field outside the role\'s entry, and a command outside it, are alerts (T0855 for commands)', () => {
    const { e } = engine();
    expect(e.onEvents([command('kiln', {}, { field: 'tripTemp', value: 1300 })])[0]).toMatchObject({ rule: 'write', techniques: ['T0836'] });
    expect(e.onEvents([command('kiln', { command: 'repair' })])[0]).toMatchObject({ rule: 'command', techniques: ['T0855'] });
    // the line's own sources and the instructor act with full authority
    expect(e.onEvents([command(null, { command: 'start', source: 'scenario', principal: 'scenario:x', role: '' })])).toEqual([]);
    expect(e.onEvents([command('kiln', { command: 'fault', source: 'api', role: 'instructor' })])).toEqual([]);
  });

  it('cools down: the same write by the same principal alerts once a minute', () => {
    const { e, clock } = engine();
    const w = (): Alert[] => e.onEvents([command('kiln', { source: 'mqtt', principal: 'x/y' }, { field: 'sp1', value: 901 })]);
    expect(w()).toHaveLength(1);
    expect(w()).toHaveLength(0);
    expect(e.suppressed).toBe(1);
    clock.ms += 61_000;
    expect(w()).toHaveLength(1);
  });
});

describe('rates over the audit trail', () => {
  it('three refused logins from one address within a minute: login-failures, with the three seqs and the first evidence time', () => {
    const { e, clock } = engine();
    const first = clock.ms;
    const fail = (user: string, port: number): Alert[] => e.onEvents([audit({ action: 'login', outcome: 'denied', principal: `${user}@127.0.0.1:${port}`, reason: 'wrong password' })]);
    expect(fail('admin', 1)).toEqual([]);
    clock.ms += 1000;
    expect(fail('operator', 2)).toEqual([]);
    clock.ms += 1000;
    const [a] = fail('instructor', 3);
    // counted per face and address: the REST API's refusals apart from the broker's
    expect(a).toMatchObject({ detector: 'rate', rule: 'login-failures', principal: 'api 127.0.0.1', techniques: ['T0812', 'T0859'], firstEvidenceMs: first, alertMs: first + 2000 });
    expect(a!.evidence.seqs).toEqual([seq - 3, seq - 2, seq - 1]);
  });

  it('refusals spread wider than the window, or from different addresses, raise nothing; allowed logins count for nothing', () => {
    const { e, clock } = engine();
    for (let k = 0; k < 6; k++) {
      expect(e.onEvents([audit({ action: 'login', outcome: 'denied', principal: `u@10.0.0.${k}` })])).toEqual([]);
      expect(e.onEvents([audit({ action: 'login', outcome: 'denied', principal: 'u@127.0.0.1' })])).toEqual([]);
      clock.ms += 31_000;
      expect(e.onEvents([audit({ action: 'login', outcome: 'allowed', principal: 'u@127.0.0.1' })])).toEqual([]);
    }
  });

  it('a subscription to every topic is an alert (T0861); a subscription to one station is not', () => {
    const { e } = engine();
    expect(e.onEvents([audit({ source: 'mqtt', action: 'subscribe', outcome: 'allowed', target: 'twinline/a/kiln/t1', principal: 'anonymous/c1@127.0.0.1:5' })])).toEqual([]);
    const [a] = e.onEvents([audit({ source: 'mqtt', action: 'subscribe', outcome: 'allowed', target: '#', principal: 'anonymous/c1@127.0.0.1:5', reason: 'every topic' })]);
    expect(a).toMatchObject({ rule: 'subscribe-everything', techniques: ['T0861', 'T0801'] });
  });

  it('an oversized packet and a connection burst', () => {
    const { e } = engine();
    expect(e.onEvents([audit({ source: 'mqtt', action: 'packet', outcome: 'denied', principal: '127.0.0.1:9', reason: 'packet too large (1048576 bytes); disconnected' })])[0]).toMatchObject({ rule: 'oversized-payload', techniques: ['T0814'] });
    const burst: Alert[] = [];
    for (let k = 0; k < 20; k++) burst.push(...e.onEvents([audit({ source: 'opcua', action: 'session', outcome: 'allowed', principal: `viewer@ns=1;g=${k}@127.0.0.2:${k}`, reason: 'user name and password over SecurityMode SignAndEncrypt, policy Basic256Sha256' })]));
    expect(burst.map((a) => a.rule)).toEqual(['connection-burst']);
  });

  it('memory is bounded: a new key for every event keeps at most MAX_KEYS windows', () => {
    const { e } = engine();
    for (let k = 0; k < MAX_KEYS * 3; k++) e.onEvents([audit({ action: 'login', outcome: 'denied', principal: `u@10.${k >> 16}.${(k >> 8) & 255}.${k & 255}` })]);
    const windows = (e as unknown as { detectors: { windows?: Map<string, unknown>[] }[] }).detectors.find((d) => d.windows !== undefined)!.windows!;
    expect(Math.max(...windows.map((m) => m.size))).toBe(MAX_KEYS);
  });
});

describe('physics', () => {
  it('a kiln setpoint written out of its recipe band is critical (T0836, T0831); within the band it is not', () => {
    const { e } = engine();
    expect(e.onEvents([command('kiln', {}, { field: 'sp1', value: 940 })])).toEqual([]);
    const [a] = e.onEvents([command('kiln', {}, { field: 'sp1', value: 975 })]);
    expect(a).toMatchObject({ detector: 'physics', rule: 'recipe-band', severity: 'critical', techniques: ['T0836', 'T0831'], station: 'kiln' });
    expect(a!.title).toContain('kiln.sp1 975 is 75 above the recipe recipe1 900 (band ±50)');
    // within the cool-down: the same setpoint again is the same finding; the recipe moved off the setpoint is another
    expect(e.onEvents([command('kiln', {}, { field: 'sp1', value: 980 })])).toEqual([]);
    expect(e.onEvents([command('kiln', {}, { field: 'recipe1', value: 750 })]).map((x) => x.rule)).toEqual(['recipe-band']);
  });

  it('the band moves with the cause: a recipe written far from the setpoint, and a furnace tap setpoint; the band is the file\'s', () => {
    const { e } = engine();
    expect(e.onEvents([command('kiln', {}, { field: 'recipe2', value: 1000 })])[0]).toMatchObject({ rule: 'recipe-band' });
    expect(e.onEvents([command('furnace', {}, { field: 'tapSp', value: 1530 })])).toEqual([]);
    expect(e.onEvents([command('furnace', {}, { field: 'tapSp', value: 1545 })])[0]).toMatchObject({ rule: 'recipe-band', station: 'furnace' });
    // a wider band in the file: the same write is quiet
    const wide = new DetectorEngine(parseDetectorConfig('physics: { recipeBands: [{ kind: induction-furnace, pairs: { tapSp: recipeTapTemp }, band: 100 }] }'), { stations: STATIONS, read: (s, f) => FIELDS[`${s}.${f}`] ?? null });
    expect(wide.onEvents([command('furnace', {}, { field: 'tapSp', value: 1545 })])).toEqual([]);
  });

  it('a stop from OPC UA, MQTT or Modbus is an alert; from the HMI or the REST API it is not', () => {
    const { e } = engine();
    expect(e.onEvents([command('kiln', { command: 'stop' }), command('kiln', { command: 'stop', source: 'api' })]).filter((a) => a.detector === 'physics')).toEqual([]);
    for (const source of ['opcua', 'mqtt', 'modbus']) {
      const found = e.onEvents([command('kiln', { command: 'stop', source, principal: `p-${source}` })]).filter((a) => a.detector === 'physics');
      expect(found).toMatchObject([{ rule: 'stop-source', techniques: ['T0855', 'T0831'] }]);
    }
  });
});

describe('garbage', () => {
  it('malformed events and lines never throw; they are counted and skipped', () => {
    const { e } = engine();
    const junk: unknown[] = [null, 7, 'x', [], {}, { seq: 'a', type: 'audit', data: {} }, { seq: 1, type: 'audit', data: null }, { seq: 2, type: 'audit', data: [] },
      { seq: 3, type: 'command', station: 'kiln', data: { command: 'set', args: '{not json' } }, { seq: 4, type: 'command', station: 'nope', data: { command: 'set', args: '{"field":"sp1","value":"hot"}' } },
      { seq: 5, type: 'audit', station: 42, data: { action: { x: 1 }, principal: ['a'], target: 'x'.repeat(100_000) } }, { seq: Infinity, type: 'audit', data: {} }];
    expect(() => e.onEvents(junk)).not.toThrow();
    // five non-objects, a non-number seq, a null and a list as data, an infinite seq
    expect(e.malformed).toBe(9);
    expect(() => e.onEvents('not a list' as unknown as unknown[])).not.toThrow();
    for (const line of ['', '{', 'null', '[1,2]', '{"seq":1}', '\u0000\u00ff', '{"seq":1,"type":"audit","data":{"action":"login","outcome":"denied","principal":"a@1.2.3.4"}}']) expect(() => e.onLine(line)).not.toThrow();
    expect(e.errors).toBe(0);
  });

  it('a bad configuration is refused with the path of the bad value', () => {
    const bad = (text: string): string => errorOf(() => parseDetectorConfig(text, 'x.yaml'));
    expect(bad('rates: [{ id: a, count: 0, windowS: 1 }]')).toContain('rates[0].count: must be a number from 1 to 10000');
    expect(bad('rates: [{ id: a, count: 1, windowS: 1, techniques: [noSuch] }]')).toContain('rates[0].techniques[0]: no technique "noSuch"');
    expect(bad('allowList: { entries: [{ rol: operator }] }')).toContain('allowList.entries[0].rol: unknown key');
    expect(bad('rates: [{ id: a, count: 1, windowS: 1, match: { target: "(" } }]')).toContain('rates[0].match.target: is not a valid regular expression');
    expect(bad(': : :')).toContain('not valid YAML');
    expect(() => loadDetectorConfig('/no/such/file.yaml')).toThrow(/cannot read the file \(ENOENT\)/);
  });

  it('helpers: globs and the address in a principal', () => {
    expect(globMatch('sp*', 'sp1')).toBe(true);
    expect(globMatch('sp*', 'tripTemp')).toBe(false);
    expect(globMatch('a.b', 'aXb')).toBe(false);
    expect(peerOfPrincipal('anonymous@ns=1;g=X@127.0.0.1:42644')).toBe('127.0.0.1');
    expect(peerOfPrincipal('?@[::1]:5#thumb')).toBe('::1');
    expect(peerOfPrincipal('10.0.0.5:1883')).toBe('10.0.0.5');
  });
});

describe('the alert log', () => {
  it('writes alerts.ndjson, pages by id and time, and caps the file and the ring', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinline-alerts-'));
    try {
      const log = new AlertLog(dir, ['rate'], 3, 4);
      const mk = (id: number): Alert => ({ id, detector: 'rate', rule: 'r', severity: 'low', techniques: [], title: 't', station: null, principal: 'p', evidence: { seqs: [id], lines: [] }, firstEvidenceMs: id * 10, alertMs: id * 10 });
      log.add([1, 2, 3, 4, 5, 6].map(mk));
      expect(log.page(0, 10).alerts.map((a) => a.id)).toEqual([4, 5, 6]);
      expect(log.page(4, 10).alerts.map((a) => a.id)).toEqual([5, 6]);
      expect(log.page(0, 10, 60).alerts.map((a) => a.id)).toEqual([6]);
      expect(log.page(0, 10)).toMatchObject({ raised: 6, dropped: 3 });
      log.close();
      const lines = readFileSync(join(dir, 'alerts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.slice(0, 4).map((l) => l.id)).toEqual([1, 2, 3, 4]);
      expect(lines[4]).toEqual({ truncated: true, moreAlerts: 2, limit: 4 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('acknowledges an alert once, pages acknowledgements by seq, drops them with their alert, and marks alerts raised during a range run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinline-alerts-'));
    try {
      const log = new AlertLog(dir, ['rate'], 3, 100);
      const mk = (id: number): Alert => ({ id, detector: 'rate', rule: 'r', severity: 'high', techniques: [], title: 't', station: 'kiln', principal: 'p', evidence: { seqs: [id], lines: [] }, firstEvidenceMs: id * 10, alertMs: id * 10 });
      log.add([1, 2, 3].map(mk));
      expect(log.page(0, 10).alerts.map((a) => a.ack)).toEqual([null, null, null]);
      const first = log.ack(2, 'operator@127.0.0.1', 5000);
      expect(first).toEqual({ ack: { id: 2, by: 'operator@127.0.0.1', ms: 5000, seq: 1 }, first: true });
      // a second acknowledgement keeps the first one's who and when
      expect(log.ack(2, 'engineer@127.0.0.1', 6000)).toEqual({ ack: first!.ack, first: false });
      expect(log.ack(99, 'operator@127.0.0.1', 6000)).toBeNull();
      log.ack(3, 'engineer@127.0.0.1', 7000);
      const page = log.page(0, 10);
      expect(page.alerts.map((a) => a.ack?.by ?? null)).toEqual([null, 'operator@127.0.0.1', 'engineer@127.0.0.1']);
      expect(page.acks.map((a) => a.id)).toEqual([2, 3]);
      expect(page.ackNext).toBe(2);
      // incrementally: only the acknowledgements after the seq the caller has
      expect(log.page(3, 10, 0, 1)).toMatchObject({ alerts: [], acks: [{ id: 3, seq: 2 }], ackNext: 2 });
      expect(log.page(3, 10, 0, 2)).toMatchObject({ acks: [], ackNext: 2 });
      // alerts 1 and 2 leave the ring: 2's acknowledgement goes with it
      log.add([4, 5].map(mk), { run: 7, attack: 'opcua-stop', startedAtMs: 35 });
      expect(log.page(0, 10).acks.map((a) => a.id)).toEqual([3]);
      expect(log.ack(2, 'operator@127.0.0.1', 8000)).toBeNull();
      const during = log.page(3, 10).alerts.map((a) => a.during);
      expect(during).toEqual([{ run: 7, attack: 'opcua-stop', startedAtMs: 35, ttdMs: 5 }, { run: 7, attack: 'opcua-stop', startedAtMs: 35, ttdMs: 15 }]);
      expect(log.page(0, 10).alerts.map((a) => a.id)).toEqual([3, 4, 5]);
      expect(log.page(0, 10).alerts[0]!.during).toBeUndefined();
      log.close();
      const lines = readFileSync(join(dir, 'alerts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l.during === undefined ? null : (l.during as { run: number }).run)).toEqual([null, null, null, 7, 7]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
