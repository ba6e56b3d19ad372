/**
 * Incident playbooks and their grading: the built-in folder loads and follows the emergency
 * plan's shape; a broken folder is refused with every problem at its file, line and path;
 * `classify` grades the measured impact (each threshold moves the level, and the deadlines
 * with it) and picks the playbook from alerts the real detectors raise on the attacks' events;
 * the impact meter measures a station's downtime from a real line's event log; action bodies
 * are refused naming the field.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDetectorConfig } from '../../security/detectors/config.ts';
import { DetectorEngine, type Alert } from '../../security/detectors/engine.ts';
import { classify, gradeImpact, principalParts } from '../../security/playbooks/classify.ts';
import { ImpactMeter } from '../../security/playbooks/impact.ts';
import { DEFAULT_PLAYBOOKS, loadBook } from '../../security/playbooks/load.ts';
import { LEVEL_INFO, PHASES, type Impact } from '../../security/playbooks/playbook.ts';
import { checkArgs } from '../../security/respond/actions.ts';
import { TwinlineError } from '../../sim/core/errors.ts';
import { runFor, straightLine } from './world-helpers.ts';

const book = loadBook();
const ZERO: Impact = { downtimeS: 0, stationDowntimeS: 0, scrapped: 0, defective: 0, interlockTrips: 0, alarms: 0, stationsAffected: 0, linesAffected: 0, setpointsOff: 0 };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The alerts the built-in detectors raise on `events` (an attack's trail, as the host drains it). */
function alertsOn(events: readonly Record<string, unknown>[]): Alert[] {
  let ms = 1_000_000;
  const e = new DetectorEngine(loadDetectorConfig(), {
    stations: [{ id: 'kiln', kind: 'kiln' }, { id: 'belt', kind: 'conveyor' }],
    read: (_s, f) => ({ sp1: 900, recipe1: 900, sp2: 1100, recipe2: 1100 } as Record<string, number>)[f] ?? null,
    now: () => (ms += 100),
  });
  return events.flatMap((ev, k) => e.onEvents([{ seq: k, tick: k, station: null, ...ev }]));
}
const cmd = (station: string, source: string, principal: string, command: string, args: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'command', station, data: { command, source, principal, role: 'operator', args: JSON.stringify(args) },
});
const audit = (data: Record<string, string>): Record<string, unknown> => ({ type: 'audit', data: { target: '', reason: '', ...data } });

/** kiln-setpoint-drift through an anonymous OPC UA session; opcua-stop; mqtt-stop with a stolen operator account; modbus-stop. */
const DRIFT = alertsOn([950, 975, 1000, 1100].map((v) => cmd('kiln', 'opcua', 'anonymous@ns=1;g=AB12', 'set', { field: 'sp1', value: v })));
const OPCUA_STOP = alertsOn([cmd('kiln', 'opcua', 'anonymous@ns=1;g=CD34', 'stop')]);
const MQTT_STOP = alertsOn([cmd('kiln', 'mqtt', 'operator/mqttx_01ab', 'stop')]);
const MODBUS_STOP = alertsOn([cmd('kiln', 'modbus', 'modbus@127.0.0.1', 'stop')]);
const GUESSING = alertsOn(['admin', 'root', 'operator'].map((u, k) => audit({ source: 'mqtt', action: 'connect', outcome: 'denied', principal: `${u}/mqttx_9f@10.0.0.7:${4000 + k}`, reason: 'bad user name or password' })));
const FLOOD = alertsOn(Array.from({ length: 20 }, (_, k) => audit({ source: 'opcua', action: 'session', outcome: 'allowed', principal: `anonymous@10.0.0.9:${5000 + k}` })));

describe('the built-in playbooks', () => {
  it('answer the four incident kinds, each with English and Chinese titles and the plan\'s five phases in order', () => {
    expect(book.playbooks.map((p) => p.id).sort()).toEqual(['broker-dos', 'credential-takeover', 'setpoint-tampering', 'unauthorized-command']);
    for (const p of book.playbooks) {
      expect(p.title.en.length).toBeGreaterThan(5);
      expect(p.title.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(p.phases.map((ph) => ph.id)).toEqual([...PHASES]);
      for (const ph of p.phases) {
        expect(p.roles.map((r) => r.id)).toContain(ph.lead);
        expect(ph.steps.length).toBeGreaterThan(0);
        // more serious levels never get more time
        expect(ph.deadlineS.I).toBeLessThanOrEqual(ph.deadlineS.IV);
      }
      // containment acts on the range: at least one step of the contain phase is a range action other than a note
      expect(p.phases[2]!.steps.some((s) => s.do !== null && s.do !== 'note')).toBe(true);
    }
    expect(LEVEL_INFO.I).toMatchObject({ colour: 'red', name: { zh: '特别重大' } });
    expect(LEVEL_INFO.IV).toMatchObject({ colour: 'blue', name: { zh: '一般' } });
  });

  it('a broken folder is refused with every problem at its file, line and path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinline-playbooks-'));
    dirs.push(dir);
    for (const f of readdirSync(DEFAULT_PLAYBOOKS).filter((n) => n.endsWith('.yaml'))) writeFileSync(join(dir, f), readFileSync(join(DEFAULT_PLAYBOOKS, f)));
    const edit = (file: string, from: string, to: string): void => {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text).toContain(from);
      writeFileSync(join(dir, file), text.replace(from, to));
    };
    edit('setpoint-tampering.yaml', '        do: ban\n', '        do: bann\n');
    edit('unauthorized-command.yaml', '  zh: 未授权控制指令（站点停机）', '  zh: unauthorized');
    edit('broker-dos.yaml', '  - phase: report', '  - phase: contain');
    edit('credential-takeover.yaml', 'with: { mqttClient: "${mqttClient}" }', 'with: { mqttClient: "${client}" }');
    edit('levels.yaml', '    downtimeS: 120', '    downtimeS: 1200\n    scraped: 3');
    let err: unknown;
    try {
      loadBook(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TwinlineError);
    const report = (err as TwinlineError).report();
    const lineOf = (file: string, text: string): number => readFileSync(join(dir, file), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
    expect(report).toContain(`${join(dir, 'setpoint-tampering.yaml')}:${lineOf('setpoint-tampering.yaml', 'do: bann')}:13 phases[2].steps[1].do: must be a range action`);
    expect(report).toMatch(/did you mean "ban"\?/);
    expect(report).toContain(`${join(dir, 'unauthorized-command.yaml')}:${lineOf('unauthorized-command.yaml', 'zh: unauthorized')}:7 title.zh: must be Chinese`);
    expect(report).toContain('broker-dos.yaml');
    expect(report).toMatch(/phases\[1\]\.phase: phase 2 must be "report" \(the plan's order: detect → report → contain → recover → review\)/);
    expect(report).toMatch(/credential-takeover\.yaml:\d+:\d+ phases\[2\]\.steps\[1\]\.with\.mqttClient: mqttClient names an unknown placeholder \$\{client\}/);
    expect(report).toMatch(/levels\.yaml:\d+:\d+ levels\.III\.downtimeS: downtimeS 1200 for level III is above level II's 900/);
    expect(report).toMatch(/levels\.yaml:\d+:\d+ levels\.III\.scraped: unknown key "scraped" \(did you mean "scrapped"\?\)/);
    expect(report.split('\n').every((l) => l.endsWith('[PLAYBOOK]'))).toBe(true);
  });
});

describe('classify: the level follows the measured impact', () => {
  const level = (impact: Partial<Impact>): string => classify({ alerts: DRIFT, impact: { ...ZERO, ...impact } }, book).level;

  it('each threshold moves the level: downtime, interlock trips, scrap, defects, stations and lines hit', () => {
    expect(level({})).toBe('IV');
    expect(level({ downtimeS: 119 })).toBe('IV');
    expect(level({ downtimeS: 120 })).toBe('III');
    expect(level({ downtimeS: 899 })).toBe('III');
    expect(level({ downtimeS: 900 })).toBe('II');
    expect(level({ downtimeS: 3600 })).toBe('I');
    expect(level({ interlockTrips: 1 })).toBe('III');
    expect(level({ interlockTrips: 2 })).toBe('II');
    expect(level({ interlockTrips: 3 })).toBe('I');
    expect(level({ scrapped: 9 })).toBe('IV');
    expect(level({ scrapped: 10 })).toBe('III');
    expect(level({ scrapped: 100 })).toBe('II');
    expect(level({ defective: 10 })).toBe('III');
    expect(level({ stationsAffected: 4 })).toBe('II');
    expect(level({ linesAffected: 1 })).toBe('IV');
    expect(level({ linesAffected: 2 })).toBe('I');
    // informational figures grade nothing by themselves
    expect(level({ alarms: 50, setpointsOff: 8, stationDowntimeS: 100 })).toBe('IV');
  });

  it('says why, carries the plan\'s colour, and the deadlines tighten with the level', () => {
    const low = classify({ alerts: DRIFT, impact: ZERO }, book);
    const high = classify({ alerts: DRIFT, impact: { ...ZERO, downtimeS: 950, scrapped: 12 } }, book);
    expect(low).toMatchObject({ incident: true, level: 'IV', colour: 'blue', colourName: { zh: '蓝色' }, reasons: ['no threshold of levels I–III reached'] });
    expect(high).toMatchObject({ level: 'II', colour: 'orange', name: { en: 'serious', zh: '重大' } });
    expect(high.reasons).toEqual(['downtimeS 950 ≥ 900 (level II)']);
    expect(gradeImpact({ ...ZERO, downtimeS: 950, scrapped: 12 }, book.grading).level).toBe('II');
    const contain = (c: typeof low): { deadlineS: number; dueAtMs: number | null } => c.phases.find((p) => p.id === 'contain')!;
    expect(contain(high).deadlineS).toBeLessThan(contain(low).deadlineS);
    // due times count from the detection: the first answered alert
    expect(low.detectedAtMs).toBe(Math.min(...DRIFT.map((a) => a.alertMs)));
    for (const c of [low, high]) expect(contain(c).dueAtMs).toBe(c.detectedAtMs! + contain(c).deadlineS * 1000);
    // without alerts and below level III there is no incident
    expect(classify({ alerts: [], impact: ZERO }, book)).toMatchObject({ incident: false, playbook: null, detectedAtMs: null, phases: [] });
    expect(classify({ alerts: [], impact: { ...ZERO, downtimeS: 200 } }, book)).toMatchObject({ incident: true, level: 'III', playbook: null });
  });
});

describe('classify: the playbook follows the alerts', () => {
  const pick = (alerts: Alert[]): string | undefined => classify({ alerts, impact: ZERO }, book).playbook?.id;

  it('the detectors\' alerts on each attack pick its playbook', () => {
    expect(DRIFT.map((a) => a.rule).sort()).toEqual(['recipe-band', 'write']);
    expect(pick(DRIFT)).toBe('setpoint-tampering');
    expect(pick(OPCUA_STOP)).toBe('unauthorized-command');
    expect(pick(MQTT_STOP)).toBe('unauthorized-command');
    expect(pick(MODBUS_STOP)).toBe('unauthorized-command');
    expect(GUESSING.map((a) => a.rule)).toEqual(['login-failures']);
    expect(pick(GUESSING)).toBe('credential-takeover');
    // twenty anonymous sessions from one address: a burst (and, in passing, anonymous access)
    expect(FLOOD.map((a) => a.rule)).toContain('connection-burst');
    expect(pick(FLOOD)).toBe('broker-dos');
    // the more severe evidence wins when incidents overlap
    expect(pick([...MQTT_STOP, ...DRIFT])).toBe('setpoint-tampering');
  });

  it('fills the steps from the alerts: the account and face that did it, the station; what does not apply is marked', () => {
    const step = (alerts: Alert[], id: string): { do: string | null; with: unknown; applies: boolean; unresolved: string[] } =>
      classify({ alerts, impact: ZERO }, book).phases.flatMap((p) => p.steps).find((s) => s.step === id)!;
    expect(step(DRIFT, 'contain.ban-writer')).toMatchObject({ do: 'ban', with: { account: 'anonymous' }, applies: true });
    expect(step(DRIFT, 'contain.close-sessions')).toMatchObject({ do: 'close-sessions', with: { user: 'anonymous' }, applies: true });
    expect(step(DRIFT, 'contain.isolate-face')).toMatchObject({ with: { face: 'opcua' }, applies: false });
    expect(step(DRIFT, 'recover.restore-setpoints')).toMatchObject({ with: { snapshot: 'start', stations: ['kiln'] }, applies: true });
    expect(step(MQTT_STOP, 'contain.ban-sender')).toMatchObject({ with: { account: 'operator' }, applies: true });
    expect(step(MQTT_STOP, 'recover.resume-station')).toMatchObject({ with: { station: 'kiln' }, applies: true });
    // Modbus names no account: only isolating its face holds
    expect(step(MODBUS_STOP, 'contain.ban-sender')).toMatchObject({ applies: false, unresolved: ['account'] });
    expect(step(MODBUS_STOP, 'contain.isolate-face')).toMatchObject({ do: 'isolate', with: { face: 'modbus' }, applies: true });
    // a rate alert names the peer; the account and client id come from its evidence
    expect(step(GUESSING, 'contain.ban-client')).toMatchObject({ do: 'ban', with: { mqttClient: 'mqttx_9f' }, applies: true });
    expect(principalParts('operator/mqttx_01ab@127.0.0.1:4000')).toEqual({ account: 'operator', mqttClient: 'mqttx_01ab' });
    expect(principalParts('anonymous@ns=1;g=AB12#3fa2')).toEqual({ account: 'anonymous', mqttClient: null });
    expect(principalParts('modbus@127.0.0.1')).toEqual({ account: null, mqttClient: null });
  });
});

describe('the impact meter on a real line', () => {
  it('counts the line time a stopped station loses, inside the window asked for only', () => {
    const dt = 0.01;
    const w = straightLine([{ id: 'belt', kind: 'conveyor', params: { length: 2, speed: 0.5 } }], dt);
    const meter = new ImpactMeter(w.ids, dt);
    // the wall clock of this test runs with line time: 1 s of line = 1,000 ms
    const drain = (): void => {
      const evs: Parameters<ImpactMeter['onEvents']>[0][number][] = [];
      w.drainEvents((e) => void evs.push(e));
      meter.onEvents(evs, w.tick * dt * 1000, w.tick);
    };
    for (let t = 0; t < 60; t++) {
      runFor(w, 1);
      drain();
    }
    expect(meter.measure(0, 60_000).impact).toMatchObject({ downtimeS: 0, stationsAffected: 0 });
    w.enqueue({ target: 'belt', command: 'stop', source: 'scenario', principal: 'test' });
    for (let t = 0; t < 30; t++) {
      runFor(w, 1);
      drain();
    }
    w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
    for (let t = 0; t < 30; t++) {
      runFor(w, 1);
      drain();
    }
    const m = meter.measure(0, 120_000);
    // 30 s stopped, plus the PackML acting states on the way down and back up
    expect(m.stations.belt!.downtimeS).toBeGreaterThanOrEqual(30);
    expect(m.stations.belt!.downtimeS).toBeLessThan(34);
    expect(m.impact).toMatchObject({ downtimeS: m.stations.belt!.downtimeS, stationsAffected: 1, linesAffected: 1 });
    // a window that holds half the stop holds half the downtime; one before it, none
    expect(meter.measure(75_000, 120_000).stations.belt!.downtimeS).toBeGreaterThan(15);
    expect(meter.measure(75_000, 120_000).stations.belt!.downtimeS).toBeLessThan(19);
    expect(meter.measure(0, 59_000).impact.downtimeS).toBe(0);
    expect(meter.measure(0, 120_000, { setpointsOff: 3 }).impact.setpointsOff).toBe(3);
  });
});

describe('action bodies', () => {
  it('a bad body is refused naming the field', () => {
    expect(checkArgs('ban', { account: 'anonymous' })).toEqual({ ok: true, args: { account: 'anonymous' } });
    expect(checkArgs('ban', { acount: 'x' })).toMatchObject({ ok: false, field: 'acount', message: expect.stringContaining('did you mean "account"') });
    expect(checkArgs('ban', { account: 'x', mqttClient: 'y' })).toMatchObject({ ok: false, field: 'mqttClient', message: 'ban needs exactly one of account, mqttClient, not account and mqttClient' });
    expect(checkArgs('ban', {})).toMatchObject({ ok: false, field: 'account' });
    expect(checkArgs('ban', { account: 'a b' })).toMatchObject({ ok: false, field: 'account' });
    expect(checkArgs('isolate', { face: 'http' })).toMatchObject({ ok: false, field: 'face', message: 'face must be one of opcua, mqtt, modbus, not "http"' });
    expect(checkArgs('stop-station', { station: 'kiln', manual: 'yes' })).toMatchObject({ ok: false, field: 'manual' });
    expect(checkArgs('restore-setpoints', { stations: [] })).toMatchObject({ ok: false, field: 'stations' });
    expect(checkArgs('restore-setpoints', { snapshot: 'yesterday' })).toMatchObject({ ok: false, field: 'snapshot' });
    expect(checkArgs('note', { text: 'x', step: 'Contain!' })).toMatchObject({ ok: false, field: 'step' });
    expect(checkArgs('note', [])).toMatchObject({ ok: false, field: '(body)' });
  });
});
