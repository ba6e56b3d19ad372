/**
 * The built-in rules that read the faces' own observations and the process commands: each
 * fires on the event sequence of what it is for (as the faces write it: the same principals,
 * actions and reasons), stays quiet on the legitimate neighbour, and keys its cool-down so
 * that one burst is one alert. Garbage of every shape (fuzzed) never throws and never fires a
 * rule that needs a well-formed event. The configuration's new keys are checked with the path
 * of a bad value.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { DEFAULT_DETECTORS, loadDetectorConfig, parseDetectorConfig } from '../../security/detectors/config.ts';
import { DetectorEngine, type Alert } from '../../security/detectors/engine.ts';
import { identityOfPrincipal } from '../../security/detectors/rules.ts';
import { Milestones } from '../../sim/host/audit-throttle.ts';
import { errorOf } from '../errors.ts';

const STATIONS = [{ id: 'kiln', kind: 'kiln' }, { id: 'belt', kind: 'conveyor' }];
const LEVELS: Record<string, string> = { sp1: 'operator', recipe1: 'operator', tripTemp: 'safety', maxPower: 'engineer' };

/** An engine with the configuration `text` (default: the built-in file) and a settable clock. */
function engine(text?: string): { e: DetectorEngine; clock: { ms: number } } {
  const clock = { ms: 5_000_000 };
  const config = text === undefined ? loadDetectorConfig() : parseDetectorConfig(text);
  const e = new DetectorEngine(config, {
    stations: STATIONS, read: (_s, f) => (f === 'sp1' || f === 'recipe1' ? 900 : null), writeLevel: (_s, f) => LEVELS[f] ?? null, now: () => clock.ms,
  });
  return { e, clock };
}

let seq = 0;
const audit = (data: Record<string, string | number>): unknown => ({ seq: seq++, tick: seq, type: 'audit', station: null, data: { action: '', outcome: '', target: '', reason: '', source: 'mqtt', principal: '', ...data } });
const command = (type: 'command' | 'rejected', station: string, data: Record<string, string>, args: Record<string, unknown> = {}): unknown => ({
  seq: seq++, tick: seq, type, station, data: { command: 'set', source: 'hmi', principal: 'operator@10.0.0.9', role: 'operator', args: JSON.stringify(args), ...data },
});
const rules = (alerts: readonly Alert[]): string[] => alerts.map((a) => a.rule);

describe('logins and identities on every face', () => {
  it('anonymous-access: an anonymous client let in; a burst from one address is one alert, the same address 6 s later another; an account is quiet', () => {
    const { e, clock } = engine();
    const login = (who: string, port: number): Alert[] => e.onEvents([audit({ action: 'login', outcome: 'allowed', principal: `${who}@10.0.0.7:${port}`, reason: 'anonymous over tcp' })]);
    expect(rules(login('viewer/hmi', 1))).toEqual([]);
    expect(rules(login('anonymous/mqttx_1', 2))).toEqual(['anonymous-access']);
    for (let k = 3; k < 10; k++) expect(login(`anonymous/mqttx_${k}`, k)).toEqual([]);
    clock.ms += 6000;
    const [a] = login('anonymous/mqttx_10', 10);
    expect(a).toMatchObject({ rule: 'anonymous-access', severity: 'low', techniques: ['T0886'], principal: 'mqtt 10.0.0.7' });
    expect(a!.title).toContain('a client let in without any credential: mqtt login allowed by anonymous/mqttx_10@10.0.0.7:10');
    // REST under open: the face's own observation of an address served without credentials is
    // what the twin's own page does there (reads, alert acknowledgements): audited, no alert
    const rest = (target: string): Alert[] => e.onEvents([audit({ source: 'api', action: 'login', outcome: 'allowed', principal: 'anonymous@10.0.0.8', target, reason: 'no credentials: served as an anonymous operator (profile open)' })]);
    expect(rules(rest('GET /api/whoami'))).toEqual([]);
    expect(rules(rest('POST /api/alerts/ack'))).toEqual([]);
  });

  it('anonymous-refused: an anonymous CONNECT or an unauthenticated REST command refused; a refused publish of an anonymous client is not this rule\'s', () => {
    const { e } = engine();
    expect(rules(e.onEvents([audit({ action: 'connect', outcome: 'denied', principal: 'anonymous/c1@10.0.0.7:5', reason: 'anonymous connections are refused (profile hardened); log in with an account' })]))).toEqual(['anonymous-refused']);
    expect(rules(e.onEvents([audit({ source: 'api', action: 'command', outcome: 'denied', principal: '?@10.0.0.7', target: '/api/commands', reason: 'log in first: POST /api/login' })]))).toEqual(['anonymous-refused']);
    // another client id is another identity: its own alert, though the address is the same
    expect(rules(e.onEvents([audit({ action: 'connect', outcome: 'denied', principal: 'anonymous/c2@10.0.0.7:6', reason: 'anonymous connections are refused' })]))).toEqual(['anonymous-refused']);
    expect(rules(e.onEvents([audit({ action: 'publish', outcome: 'denied', principal: 'anonymous/c3@10.0.0.7:7', target: 'x/y', reason: 'not allowed for anonymous clients' })]))).toEqual(['publish-refused']);
  });

  it('anonymous-command and cleartext-login', () => {
    const { e } = engine();
    expect(rules(e.onEvents([command('command', 'kiln', { command: 'stop', source: 'api', principal: 'anonymous@10.0.0.7' })]))).toEqual(['anonymous-command']);
    expect(rules(e.onEvents([command('command', 'kiln', { command: 'stop', source: 'api', principal: 'operator@10.0.0.7' })]))).toEqual([]);
    expect(rules(e.onEvents([audit({ action: 'login', outcome: 'allowed', principal: 'gateway/gw-1@10.0.0.7:9', reason: 'user name and password in clear over tcp, role gateway' })]))).toEqual(['cleartext-login']);
    expect(rules(e.onEvents([audit({ action: 'login', outcome: 'allowed', principal: 'gateway/gw-2@10.0.0.7:9', reason: 'user name and password over tls, role gateway' })]))).toEqual([]);
    expect(rules(e.onEvents([audit({ source: 'opcua', action: 'session', outcome: 'allowed', principal: 'operator@ns=1;g=A@10.0.0.8:9', reason: 'user name and password over SecurityMode None, policy None' })])))
      .toEqual(['cleartext-login', 'insecure-session']);
  });
});

describe('OPC UA', () => {
  const session = (principal: string, reason: string): unknown => audit({ source: 'opcua', action: 'session', outcome: 'allowed', principal, reason });

  it('insecure-session: in clear or over a deprecated policy; SignAndEncrypt with a current policy is quiet; a flood is one alert per 5 s', () => {
    const { e, clock } = engine();
    expect(rules(e.onEvents([session('viewer@ns=1;g=A@10.0.0.8:1', 'user name and password over SecurityMode SignAndEncrypt, policy Basic256Sha256')]))).toEqual([]);
    expect(rules(e.onEvents([session('viewer@ns=1;g=B@10.0.0.8:2', 'user name and password over SecurityMode Sign, policy Basic256')]))).toEqual(['insecure-session']);
    const flood: Alert[] = [];
    for (let k = 0; k < 50; k++) flood.push(...e.onEvents([session(`anonymous@ns=1;g=${k}@10.0.0.9:${k}`, 'anonymous over SecurityMode None, policy None')]));
    // a flood is one insecure-session alert (and the burst of sessions is one of its own)
    expect(rules(flood)).toEqual(['insecure-session', 'connection-burst']);
    expect(flood[0]!.principal).toBe('anonymous@10.0.0.9');
    clock.ms += 5001;
    expect(rules(e.onEvents([session('anonymous@ns=1;g=Z@10.0.0.9:99', 'anonymous over SecurityMode None, policy None')]))).toEqual(['insecure-session']);
  });

  it('downgrade-attempt, untrusted-certificate (per certificate), session-flood', () => {
    const { e } = engine();
    expect(rules(e.onEvents([audit({ source: 'opcua', action: 'channel', outcome: 'denied', principal: '?@10.0.0.8:5', reason: 'BadSecurityPolicyRejected: This server doesn\'t not support Basic256' })]))).toEqual(['downgrade-attempt']);
    const cert = (thumb: string): Alert[] => e.onEvents([audit({ source: 'opcua', action: 'channel', outcome: 'denied', principal: `?@10.0.0.8:6#${thumb}`, reason: 'client certificate refused: BadCertificateUntrusted' })]);
    expect(rules(cert('aa11'))).toEqual(['untrusted-certificate']);
    expect(rules(cert('aa11'))).toEqual([]);
    expect(rules(cert('bb22'))).toEqual(['untrusted-certificate']);
    expect(rules(e.onEvents([audit({ source: 'opcua', action: 'session', outcome: 'denied', principal: '?@10.0.0.8:7', reason: 'BadTooManySessions' })]))).toEqual(['session-flood']);
  });

  it('browse-sweep: a session whose browsed references reach 100 (reported at 1, 2, 4 …), once per session', () => {
    const { e } = engine();
    const browse = (principal: string, count: number): Alert[] => e.onEvents([audit({ source: 'opcua', action: 'browse', outcome: 'allowed', principal, reason: `${count} references browsed in this session`, count })]);
    for (const n of [1, 2, 4, 8, 16, 32, 64]) expect(browse('anonymous@ns=1;g=S@10.0.0.8:1', n)).toEqual([]);
    const [a] = browse('anonymous@ns=1;g=S@10.0.0.8:1', 128);
    expect(a).toMatchObject({ rule: 'browse-sweep', techniques: ['T0861'] });
    expect(a!.title).toContain('(count 128)');
    expect(browse('anonymous@ns=1;g=S@10.0.0.8:1', 256)).toEqual([]);
    expect(rules(browse('anonymous@ns=1;g=T@10.0.0.8:2', 300))).toEqual(['browse-sweep']);
  });
});

describe('MQTT', () => {
  const denied = (action: string, principal: string, target: string, reason: string): unknown => audit({ action, outcome: 'denied', principal, target, reason });

  it('commands, the twin\'s topics, forged deaths, rebirths and refused publishes each have their rule', () => {
    const { e } = engine();
    const p = 'anonymous/x@10.0.0.7:1';
    expect(rules(e.onEvents([denied('publish', p, 'tl/a/kiln/cmd/stop', 'commands are not allowed for anonymous clients')]))).toEqual(['unauthorized-command-publish']);
    expect(rules(e.onEvents([denied('publish', p, 'tl/a/kiln/t1', 'only the twin publishes its own UNS and Sparkplug topics')]))).toEqual(['twin-topic-publish']);
    expect(rules(e.onEvents([denied('connect', p, 'spBv1.0/g/NDEATH/edge', 'will on spBv1.0/g/NDEATH/edge refused: only the twin publishes its own UNS and Sparkplug topics')]))).toEqual(['forged-death']);
    expect(rules(e.onEvents([denied('NCMD', 'operator/op@10.0.0.7:2', 'spBv1.0/g/NCMD/edge', 'rebirth requests beyond one per 5 s are ignored (next in 3 s)')]))).toEqual(['rebirth-flood']);
    expect(rules(e.onEvents([denied('publish', p, 'attack/qos2/x', 'not allowed for anonymous clients')]))).toEqual(['publish-refused']);
    expect(rules(e.onEvents([denied('publish', 'gateway/g@10.0.0.7:3', '', 'more than 100 QoS 2 messages awaiting PUBREL; disconnected')]))).toEqual(['qos-exhaustion']);
    expect(rules(e.onEvents([denied('command reset', 'operator/op-2', 'tl/a/kiln/cmd/reset', 'payload is not JSON: Unexpected token; payload: 7b ff')]))).toEqual(['malformed-message']);
  });

  it('floods and garbage at the framing guard: too many filters, an oversized packet, a malformed one, a malformed Modbus frame', () => {
    const { e } = engine();
    expect(rules(e.onEvents([denied('packet', '10.0.0.7:1', '', 'SUBSCRIBE with 10000 topic filters; at most 100; disconnected')]))).toEqual(['subscription-flood']);
    expect(rules(e.onEvents([denied('packet', '10.0.0.8:1', '', 'packet of 307227 bytes announced; at most 262144; disconnected')]))).toEqual(['oversized-payload']);
    expect(rules(e.onEvents([denied('packet', '10.0.0.9:1', '', 'malformed packet (Invalid protocolId); disconnected')]))).toEqual(['oversized-payload']);
    expect(rules(e.onEvents([audit({ source: 'modbus', action: 'frame', outcome: 'denied', principal: 'modbus@10.0.0.6', reason: 'connection closed: protocol id 1 is not Modbus (0)' })]))).toEqual(['oversized-payload']);
  });

  it('client-id-takeover: one takeover is a reconnect, the second in a row a fight; a refused takeover of another account\'s id', () => {
    const { e } = engine();
    const take = (count: number): Alert[] => e.onEvents([audit({ action: 'takeover', outcome: 'allowed', principal: `anonymous/line-gw-1@10.0.0.7:${count}`, target: 'line-gw-1', reason: 'client id line-gw-1 was held by …', count })]);
    expect(take(1)).toEqual([]);
    const [a] = take(2);
    expect(a).toMatchObject({ rule: 'client-id-takeover', principal: 'line-gw-1', techniques: ['T0848', 'T0829'] });
    expect(take(4)).toEqual([]);
    expect(rules(e.onEvents([audit({ action: 'connect', outcome: 'denied', principal: 'viewer/line-gw-1@10.0.0.7:9', target: 'line-gw-1', reason: 'client id line-gw-1 is held by another account\'s session; takeover refused' })])))
      .toEqual(['client-id-takeover-refused']);
  });
});

describe('Modbus/TCP: who is known is who is listed', () => {
  const mb = (action: string, outcome: string, extra: Record<string, string | number> = {}, peer = '10.0.0.5'): unknown => audit({ source: 'modbus', action, outcome, principal: `modbus@${peer}`, ...extra });

  it('an unknown master, a unit scan (16 unit ids), a read, a write and a refused write', () => {
    const { e } = engine();
    expect(rules(e.onEvents([mb('connect', 'allowed', { reason: 'writes enabled, no authentication' })]))).toEqual(['modbus-unknown-master']);
    for (const n of [1, 2, 4, 8]) expect(e.onEvents([mb('identify', 'allowed', { count: n, target: `unit ${n}` })])).toEqual([]);
    expect(rules(e.onEvents([mb('identify', 'allowed', { count: 16, target: 'unit 16' })]))).toEqual(['modbus-unit-scan']);
    expect(rules(e.onEvents([mb('read', 'allowed', { count: 1, target: 'unit 3' })]))).toEqual(['modbus-read']);
    expect(rules(e.onEvents([command('command', 'kiln', { command: 'stop', source: 'modbus', principal: 'modbus@10.0.0.5' })]))).toEqual(['allow-list', 'modbus-write', 'stop-source'].map((r) => (r === 'allow-list' ? 'command' : r)));
    expect(rules(e.onEvents([mb('write', 'denied', { target: 'unit 3 (kiln) coil 000002', reason: 'the Modbus face is read-only' })]))).toEqual(['modbus-write-refused']);
    expect(rules(e.onEvents([mb('write', 'denied', { target: 'unit 3 (kiln) holding 400047 +2', reason: 'the Modbus face is read-only' })]))).toEqual(['modbus-write-refused']);
  });

  it('a master listed under unless.peer is quiet; any other address is not', () => {
    const text = readFileSync(DEFAULT_DETECTORS, 'utf8').replaceAll('unless: { peer: [] }', 'unless: { peer: [10.0.0.5] }');
    const { e } = engine(text);
    expect(e.onEvents([mb('connect', 'allowed'), mb('identify', 'allowed', { count: 32 }), mb('read', 'allowed', { count: 1 })])).toEqual([]);
    expect(rules(e.onEvents([mb('read', 'allowed', { count: 1 }, '10.0.0.66')]))).toEqual(['modbus-read']);
  });
});

describe('the process: modes, alarms, safety limits', () => {
  it('a unit mode and an alarm acknowledgement from OPC UA are alerts (T0858, T0878); from the HMI they are not', () => {
    const { e } = engine();
    expect(rules(e.onEvents([command('command', 'kiln', { command: 'mode', args: '{"mode":3}' })]))).toEqual([]);
    expect(rules(e.onEvents([command('command', 'kiln', { command: 'ack' })]))).toEqual([]);
    const mode = e.onEvents([command('command', 'kiln', { command: 'mode', source: 'opcua', principal: 'anonymous@ns=1;g=Q' }, { mode: 3 })]);
    expect(mode.find((a) => a.rule === 'mode-change')).toMatchObject({ techniques: ['T0858', 'T0831'], station: 'kiln' });
    // a mode change is no stop: the stop rule leaves it to mode-change
    expect(rules(mode)).not.toContain('stop-source');
    const ack = e.onEvents([command('command', 'kiln', { command: 'ack', source: 'opcua', principal: 'anonymous@ns=1;g=Q' })]);
    expect(ack.find((a) => a.rule === 'alarm-ack-source')).toMatchObject({ techniques: ['T0878'] });
  });

  it('safety-limit-write: a safety limit written or refused from anywhere but the line\'s own sources; an operator setpoint is not one', () => {
    const { e, clock } = engine();
    expect(rules(e.onEvents([command('rejected', 'kiln', { source: 'opcua', principal: 'anonymous@ns=1;g=R' }, { field: 'tripTemp', value: 2000 })]))).toEqual(['safety-limit-write']);
    // the same station and field within the minute: one incident
    expect(rules(e.onEvents([command('rejected', 'kiln', { source: 'opcua', principal: 'anonymous@ns=1;g=R' }, { field: 'tripTemp', value: 2000 })]))).toEqual([]);
    clock.ms += 61_000;
    expect(rules(e.onEvents([command('command', 'kiln', { source: 'hmi', principal: 'engineer@10.0.0.2', role: 'engineer' }, { field: 'tripTemp', value: 1350 })]))).toEqual(['safety-limit-write']);
    expect(rules(e.onEvents([command('command', 'kiln', { source: 'scenario', principal: 'scenario:x', role: '' }, { field: 'tripTemp', value: 1300 })]))).toEqual([]);
    expect(rules(e.onEvents([command('command', 'kiln', {}, { field: 'sp1', value: 910 })]))).toEqual([]);
  });
});

describe('garbage', () => {
  it('events of any shape through every built-in rule: never a throw, no detector error, no alert from a rule that needs a well-formed event', () => {
    const { e } = engine();
    const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(Infinity), fc.constant(NaN));
    const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 3 }));
    const keys = fc.constantFrom('action', 'outcome', 'source', 'principal', 'target', 'reason', 'command', 'role', 'args', 'count', '__proto__', 'constructor');
    const event = fc.record({
      seq: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 4 })),
      tick: value,
      type: fc.oneof(fc.constantFrom('audit', 'command', 'rejected', 'mode', 'alarm-ack', 'part-created'), fc.string({ maxLength: 10 })),
      station: fc.oneof(fc.constantFrom('kiln', 'belt', 'nope'), value),
      data: fc.oneof(fc.dictionary(keys, value, { maxKeys: 8 }), value),
    }, { requiredKeys: [] });
    fc.assert(fc.property(fc.array(fc.oneof(event, value), { maxLength: 20 }), (evs) => {
      const alerts = e.onEvents(evs);
      // every alert names a rule of the file and evidence of a numbered event
      for (const a of alerts) expect(a.evidence.seqs.every((s) => typeof s === 'number')).toBe(true);
    }), { numRuns: 500 });
    for (const line of ['{"seq":1,"type":"audit","data":{"action":"browse","count":"1e9"}}', '{"seq":2,"type":"audit","data":{"count":1e400}}', '\u0000', '{"seq":3,"type":"command","station":"kiln","data":{"command":"set","args":"{\\"field\\":{}}"}}']) {
      expect(() => e.onLine(line)).not.toThrow();
    }
    // a count that is no number counts as none: a "sweep" of garbage is no sweep
    expect(e.onEvents([audit({ source: 'opcua', action: 'browse', outcome: 'allowed', principal: 'x@1.2.3.4:5', count: 'many' as unknown as number })])).toEqual([]);
    expect(e.errors).toBe(0);
  });
});

describe('configuration and helpers', () => {
  const bad = (text: string): string => errorOf(() => parseDetectorConfig(text, 'x.yaml'));

  it('new keys are checked with the path of the bad value', () => {
    expect(bad('rates: [{ id: a, by: [peer, nope] }]')).toContain('rates[0].by[1]: must be one of peer, principal, identity, source, station, target, command');
    expect(bad('rates: [{ id: a, by: [] }]')).toContain('rates[0].by: must be one of');
    expect(bad('rates: [{ id: a, match: { type: [audit, alarms] } }]')).toContain('rates[0].match.type[1]: no event type "alarms"');
    expect(bad('rates: [{ id: a, match: { minCount: -1 } }]')).toContain('rates[0].match.minCount: must be a number from 0 to 1000000000');
    expect(bad('rates: [{ id: a, unless: { peers: [x] } }]')).toContain('rates[0].unless.peers: unknown key');
    expect(bad('rates: [{ id: a, unless: { field: "[" } }]')).toContain('rates[0].unless.field: is not a valid regular expression');
    expect(bad('rates: [{ id: a, cooldownS: -5 }]')).toContain('rates[0].cooldownS: must be a number from 0 to 86400');
    expect(bad('rates: [{ id: a, title: [x] }]')).toContain('rates[0].title: must be a string');
    // the defaults: count 1, a minute's window, the cool-down the window's
    expect(parseDetectorConfig('rates: [{ id: a }]').rates[0]).toMatchObject({ count: 1, windowS: 60, cooldownS: 60, by: ['peer'], unless: null });
  });

  it('identity: the principal without port or session; milestones at 1, 2, 4 … per key, bounded', () => {
    expect(identityOfPrincipal('anonymous@ns=1;g=ABC@127.0.0.1:4711')).toBe('anonymous@127.0.0.1');
    expect(identityOfPrincipal('viewer/hmi-1@10.0.0.5:5000')).toBe('viewer/hmi-1@10.0.0.5');
    expect(identityOfPrincipal('?@10.0.0.5:4711#ab12')).toBe('?@10.0.0.5#ab12');
    expect(identityOfPrincipal('modbus@10.0.0.5')).toBe('modbus@10.0.0.5');
    expect(identityOfPrincipal('scenario:x')).toBe('scenario:x');
    let t = 0;
    const m = new Milestones(1000, () => t, 3);
    expect([1, 1, 1, 1, 1].map(() => m.add('a'))).toEqual([1, 2, null, 4, null]);
    expect(m.add('a', 100)).toBe(105);
    t += 1001;
    expect(m.add('a')).toBe(1);
    for (const k of ['b', 'c', 'd', 'e']) m.add(k);
    // 'a' was forgotten (the oldest of more than 3 keys): it starts again
    expect(m.add('a')).toBe(1);
  });
});
