/**
 * Incident response against a real `twinline serve` of the kiln cell (open profile, every face
 * on a free port, Modbus writable, 50 × real time): attacks of the library change the line and
 * are left in place; the twin grades the incident from its alerts and the impact it measured;
 * the responders carry out the contain and recover steps of the playbook the twin picked, as
 * it filled them in, through the REST API and `twinline respond`; the line is read back from
 * the host, and the attacker's next attempt is refused. One host for the whole file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeOf, openSession, writeDouble, type Foothold } from '../../security/attacks/clients/opcua.ts';
import { runAttack, type AttackReport } from '../../security/attacks/run.ts';
import type { AttackContext, Credentials } from '../../security/attacks/types.ts';
import type { Classification } from '../../security/playbooks/classify.ts';
import { LEVEL_INFO, type Impact } from '../../security/playbooks/playbook.ts';
import type { ActionRecord } from '../../security/respond/action-log.ts';
import { runToEnd, scaled } from '../proc.ts';
import { producing, startRange, type Range } from './attack-harness.ts';
import { waitFor } from './opcua-host.ts';
import { START_MS } from './serve-proc.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/host.ts';
import { OUT } from '../e2e/pixels.ts';

let r: Range;
/** when the Modbus incident began (its report is made last) */
let modbusT0 = 0;
const work = mkdtempSync(join(tmpdir(), 'twinline-respond-'));
const releases: (() => Promise<void>)[] = [];

beforeAll(async () => {
  r = await startRange('open', ['--speed', '50', '--modbus-port', '0']);
}, START_MS + 30_000);

afterAll(async () => {
  // a client whose session the twin closed may wait on its repair: the attacker's tools get a while to let go
  for (const release of releases) await Promise.race([release().catch(() => undefined), new Promise((res) => setTimeout(res, 5000))]);
  await r?.stop();
  rmSync(work, { recursive: true, force: true });
});

type Answer = { status: number; body: Record<string, unknown> };
const post = (action: string, body: unknown, user: string | null = 'engineer', headers: Record<string, string> = {}): Promise<Answer> =>
  r.call(`api/respond/${action}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }, user);
const error = (a: Answer): { code?: string; field?: string; message?: string } => (a.body.error ?? {}) as { code?: string; field?: string; message?: string };

/** The kiln as the host shows it: state, unit mode and tags by name. */
async function kiln(): Promise<{ state: string; mode: string; tags: Record<string, number> }> {
  const line = (await r.call('api/line', {}, 'viewer')).body as { stations: { id: string; tags: { name: string }[] }[] };
  const st = (await r.call('api/state', {}, 'viewer')).body as { stations: { id: string; state: string; mode: string; tags: number[] }[] };
  const s = st.stations.find((x) => x.id === 'kiln')!;
  const names = line.stations.find((x) => x.id === 'kiln')!.tags.map((t) => t.name);
  return { state: s.state, mode: s.mode, tags: Object.fromEntries(names.map((n, k) => [n, s.tags[k]!])) };
}

/** Runs an attack of the library against the host and leaves the line as the attack left it. */
function attack(id: string, face: 'opcua' | 'mqtt' | 'modbus', o: { credentials?: Credentials; watchMs?: number } = {}): Promise<AttackReport> {
  const target = face === 'opcua' ? r.opcua : face === 'mqtt' ? r.mqtt : r.modbus;
  return runAttack({ id, targets: [target, r.base], home: r.home, watchMs: o.watchMs ?? 1500, cleanup: false, ...(o.credentials !== undefined ? { credentials: o.credentials } : {}) });
}

interface Incident {
  impact: Impact;
  classification: Classification;
}
const incident = async (from: number, to?: number): Promise<Incident> => (await r.call(`api/incident?from=${from}${to === undefined ? '' : `&to=${to}`}`, {}, 'viewer')).body as unknown as Incident;

/** Carries out the applicable range steps of `phases` as the twin filled them in; the action records. */
async function follow(c: Classification, phases: readonly string[]): Promise<ActionRecord[]> {
  const out: ActionRecord[] = [];
  for (const p of c.phases.filter((x) => phases.includes(x.id))) {
    for (const s of p.steps.filter((x) => x.applies && x.do !== null && x.do !== 'note')) {
      const a = await post(s.do!, { ...s.with, step: s.step });
      expect(a.status, `${s.step}: ${JSON.stringify(a.body)}`).toBe(200);
      out.push(a.body.action as ActionRecord);
    }
  }
  return out;
}

/** An anonymous OPC UA session the attacker keeps open (a second tool), released after the file. */
async function foothold(): Promise<{ f: Foothold | null; evidence: string[] }> {
  const evidence: string[] = [];
  const ctx = {
    target: new URL(r.opcua), credentials: null, station: 'kiln', observer: null, workDir: work, watchMs: 0, memo: new Map(),
    log: () => undefined, atEnd: (release: () => Promise<void>) => void releases.push(release),
  } satisfies AttackContext;
  const f = await openSession(ctx, evidence);
  if (f !== null) releases.push(() => f.close());
  return { f, evidence };
}

describe('the responders\' REST plane', () => {
  it('engineer and instructor act; other roles are refused and audited; bad input is a 4xx naming the field', async () => {
    for (const user of ['viewer', 'operator', null]) {
      const a = await post('isolate', { face: 'opcua' }, user);
      expect([a.status, error(a).code], String(user)).toEqual([403, 'NOT_AUTHORIZED']);
    }
    // every role reads what is shut and the incident
    const state = await r.call('api/respond', {}, 'viewer');
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ bans: [], isolated: [], snapshots: [{ id: 1, label: 'start' }] });
    // the operator on shift may record a report made
    const note = await post('note', { text: 'shift log checked', step: 'detect.confirm-alert' }, 'operator');
    expect(note.status).toBe(200);
    expect(note.body.action).toMatchObject({ action: 'note', step: 'detect.confirm-alert', user: 'operator', role: 'operator', result: 'done', did: ['shift log checked'] });
    const bad: [string, unknown, number, string, string?][] = [
      ['ban', { acount: 'x' }, 400, 'acount', 'did you mean "account"'],
      ['ban', { account: 'x', mqttClient: 'y' }, 400, 'mqttClient'],
      ['isolate', { face: 'http' }, 400, 'face', 'face must be one of opcua, mqtt, modbus'],
      ['stop-station', { station: 'kil' }, 400, 'station', 'the line has no station "kil"'],
      ['restore-setpoints', { snapshot: '7' }, 400, 'snapshot', 'no snapshot "7"'],
      ['restore-setpoints', { stations: ['kiln', 'oven'] }, 400, 'stations[1]'],
      ['ban', { account: 'engineer' }, 409, 'account', 'would lock out the responder asking'],
      ['ban', { account: 'instructor' }, 403, 'account', '"instructor" is an instructor\'s account: an engineer may not ban it'],
      ['ban', [], 400, '(body)'],
    ];
    for (const [action, body, status, field, text] of bad) {
      const a = await post(action, body);
      expect([a.status, error(a).field], `${action} ${JSON.stringify(body)}`).toEqual([status, field]);
      if (text !== undefined) expect(error(a).message).toContain(text);
    }
    expect((await post('blockade', {})).status).toBe(404);
    // the plane's own rules: JSON bodies only, and no other origin's page may act
    expect((await post('isolate', '{"face":"opcua"}', 'engineer', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('isolate', { face: 'opcua' }, 'engineer', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await r.call('api/respond', {}, 'engineer')).body).toMatchObject({ isolated: [] });
    await waitFor('the refusals in the audit trail', async () => (await r.events('instructor')).filter((e) => e.type === 'audit' && e.data.action === 'respond isolate' && e.data.outcome === 'denied').length, (n) => n >= 1);
  }, scaled(30_000));
});

describe('playbooks carried out on the live range', () => {
  it('unauthorized stop over MQTT with a stolen account: the level rises with the downtime; the account is banned everywhere, the kiln resumed, the next connect refused', async () => {
    const creds = { user: 'operator', password: r.passwords.operator! };
    const t0 = Date.now();
    const stop = await attack('mqtt-stop', 'mqtt', { credentials: creds });
    expect(stop.outcome).toBe('succeeded');
    expect((await kiln()).state).toMatch(/^Stopp/);
    // the attacker keeps a second client connected under the same account
    const kept = await connectAsync(r.mqtt, { clientId: 'hmi-panel-7', username: creds.user, password: creds.password, reconnectPeriod: 0 });
    kept.on('error', () => undefined);
    const dropped = new Promise<void>((res) => kept.once('close', () => res()));
    releases.push(() => kept.endAsync(true));

    // the longer the kiln stands, the more serious the incident: level III once it lost 120 s of line time
    const graded = await waitFor('level III from the downtime', () => incident(t0), (i) => i.classification.level === 'III', 30_000);
    expect(graded.classification).toMatchObject({ colour: 'yellow', playbook: { id: 'unauthorized-command' } });
    expect(graded.classification.reasons.join()).toMatch(/downtimeS [\d.]+ ≥ 120 \(level III\)/);
    // the same incident measured up to just after its detection: less downtime, level IV
    const early = await incident(t0, graded.classification.detectedAtMs! + 300);
    expect(early.impact.downtimeS).toBeLessThan(graded.impact.downtimeS);
    expect(early.classification).toMatchObject({ level: 'IV', colour: 'blue', reasons: ['no threshold of levels I–III reached'], playbook: { id: 'unauthorized-command' } });

    const done = await follow(graded.classification, ['contain', 'recover']);
    expect(done.map((d) => [d.action, d.target, d.result])).toEqual([
      ['ban', 'account operator', 'done'],
      ['close-sessions', 'OPC UA sessions of operator', 'no-op'],
      ['resume-station', 'station kiln', 'done'],
      ['restore-setpoints', 'snapshot 1 → kiln', 'no-op'],
    ]);
    expect(done[0]!.did.join('\n')).toMatch(/^mqtt: connection operator\/hmi-panel-7@127\.0\.0\.1:\d+ closed$/m);
    await dropped;
    expect(done[2]!.did).toContain('kiln Execute in Production');
    await producing(r);

    // the attacker's next connect is refused (CONNACK 5), the stolen password no longer works on REST either
    await expect(connectAsync(r.mqtt, { clientId: 'mqttx_again', username: creds.user, password: creds.password, reconnectPeriod: 0, connectTimeout: scaled(10_000) })).rejects.toMatchObject({ code: 5 });
    expect((await r.call('api/state', {}, 'operator')).status).toBe(401);

    // a client id ban closes that client whatever its account, and refuses it at its next CONNECT
    const tool = await connectAsync(r.mqtt, { clientId: 'tool-x', username: 'engineer', password: r.passwords.engineer!, reconnectPeriod: 0 });
    tool.on('error', () => undefined);
    const toolDropped = new Promise<void>((res) => tool.once('close', () => res()));
    const ban = await post('ban', { mqttClient: 'tool-x', reason: 'unknown tool' }, 'instructor');
    expect(ban.body.action).toMatchObject({ result: 'done', did: ['MQTT client id tool-x refused on MQTT from now on', expect.stringMatching(/^mqtt: connection engineer\/tool-x@/)] });
    await toolDropped;
    let again: MqttClient | null = null;
    await expect(connectAsync(r.mqtt, { clientId: 'tool-x', username: 'engineer', password: r.passwords.engineer!, reconnectPeriod: 0 }).then((c) => (again = c))).rejects.toMatchObject({ code: 5 });
    await (again as MqttClient | null)?.endAsync(true);
    expect((await post('unban', { mqttClient: 'tool-x' }, 'instructor')).body.action).toMatchObject({ result: 'done' });
  }, scaled(60_000));

  it('setpoint tampering over OPC UA: graded, the writer closed out, the setpoints restored from the start snapshot, the next attempt refused', async () => {
    const before = await kiln();
    const held = await foothold();
    expect(held.f, held.evidence.join('\n')).not.toBeNull();
    const t0 = Date.now();
    const drift = await attack('kiln-setpoint-drift', 'opcua');
    expect(drift.outcome).toBe('succeeded');
    const hit = await kiln();
    expect(hit.tags.sp1).toBeGreaterThan(before.tags.sp1! + 100);
    expect(hit.tags.sp2).toBeGreaterThan(before.tags.sp2! + 100);

    const inc = await waitFor('the incident graded with its playbook', () => incident(t0), (i) => i.classification.playbook?.id === 'setpoint-tampering');
    const c = inc.classification;
    expect(c).toMatchObject({ incident: true, colour: LEVEL_INFO[c.level].colour, name: LEVEL_INFO[c.level].name });
    expect(c.reasons.length).toBeGreaterThan(0);
    // measured, not typed in: the two zone setpoints are off the start snapshot
    expect(inc.impact.setpointsOff).toBeGreaterThanOrEqual(2);
    const contain = c.phases.find((p) => p.id === 'contain')!;
    expect(contain.dueAtMs).toBe(c.detectedAtMs! + contain.deadlineS * 1000);

    const done = await follow(c, ['contain', 'recover']);
    expect(done.map((d) => [d.action, d.step, d.target])).toEqual([
      ['close-sessions', 'contain.close-sessions', 'OPC UA sessions of anonymous'],
      ['ban', 'contain.ban-writer', 'account anonymous'],
      ['restore-setpoints', 'recover.restore-setpoints', 'snapshot 1 → kiln'],
    ]);
    // the attacker's open session was closed by the first step
    expect(done[0]!.did.join('\n')).toMatch(/^session anonymous@ns=1;g=\S+ closed$/m);
    expect(done[2]!.did).toEqual(expect.arrayContaining([`kiln.sp1 ${hit.tags.sp1} → ${before.tags.sp1}`, `kiln.sp2 ${hit.tags.sp2} → ${before.tags.sp2}`]));
    for (const d of done) expect(d).toMatchObject({ result: 'done', principal: 'engineer@127.0.0.1', role: 'engineer', problems: [] });
    const after = await kiln();
    expect([after.tags.sp1, after.tags.sp2]).toEqual([before.tags.sp1, before.tags.sp2]);

    // the attacker's next attempts: the old session (its client tries to repair it and is refused:
    // it may wait for that longer than the attacker does), and a new one; the setpoints hold
    const write = await Promise.race([
      writeDouble(held.f!, nodeOf(held.f!, 'kiln.sp1'), before.tags.sp1! + 300).catch((e: unknown) => `threw ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`),
      new Promise<string>((res) => setTimeout(() => res('no answer'), 5000)),
    ]);
    expect(write).not.toBe('Good');
    const again = await foothold();
    expect(again.f).toBeNull();
    expect(again.evidence.join('\n')).toMatch(/refused: BadUserAccessDenied/);
    expect((await kiln()).tags.sp1).toBe(before.tags.sp1);

    // the record: the audit trail and the action log (wall time, principal, target, result)
    const trail = await waitFor('the ban and the refused session in the audit trail', () => r.events('instructor'), (evs) => evs.some((e) => e.type === 'audit' && e.data.action === 'session' && e.data.outcome === 'denied' && /suspended by incident response/.test(String(e.data.reason))));
    expect(trail.some((e) => e.type === 'audit' && e.data.action === 'respond ban' && e.data.outcome === 'allowed' && e.data.target === 'account anonymous')).toBe(true);
    expect(trail.some((e) => e.type === 'command' && e.data.command === 'set' && e.data.source === 'api' && String(e.data.principal).startsWith('engineer@'))).toBe(true);
    const log = (await r.call('api/respond/log?since=0', {}, 'viewer')).body as { actions: ActionRecord[] };
    const ban = log.actions.find((a) => a.step === 'contain.ban-writer')!;
    expect(ban.atMs).toBeGreaterThanOrEqual(t0);
    expect(ban.doneMs).toBeGreaterThanOrEqual(ban.atMs);
    expect(ban.tick).toBeGreaterThan(0);
    const file = readFileSync(join(r.runDir, 'respond.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ActionRecord);
    expect(file.map((a) => a.seq)).toEqual(log.actions.map((a) => a.seq));
  }, scaled(60_000));

  it('Modbus has no account: the playbook isolates its face (twinline respond), the next write is refused, the kiln is resumed', async () => {
    const t0 = Date.now();
    modbusT0 = t0;
    const stop = await attack('modbus-stop', 'modbus', { watchMs: 1000 });
    expect(stop.outcome).toBe('succeeded');
    const inc = await waitFor('the incident graded', () => incident(t0), (i) => i.classification.playbook?.id === 'unauthorized-command');
    const steps = inc.classification.phases.flatMap((p) => p.steps);
    expect(steps.find((s) => s.step === 'contain.ban-sender')).toMatchObject({ applies: false, unresolved: ['account'] });
    const isolate = steps.find((s) => s.step === 'contain.isolate-face')!;
    expect(isolate).toMatchObject({ do: 'isolate', with: { face: 'modbus' }, applies: true });

    const respond = (...args: string[]): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', 'respond', ...args, '--url', r.base, '--user', 'engineer', '--password', r.passwords.engineer!], { timeoutMs: 60_000 });
    const cli = await respond(isolate.do!, '--face', String(isolate.with.face), '--step', isolate.step);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^isolate face modbus: done {3}\(#\d+ \S+, engineer@127\.0\.0\.1, step contain\.isolate-face\)\n {2}- modbus takes no writes or commands from now on/);

    const resumed = await post('resume-station', { station: 'kiln', step: 'recover.resume-station' });
    expect(resumed.body.action).toMatchObject({ result: 'done' });
    await producing(r);
    const next = await attack('modbus-stop', 'modbus', { watchMs: 0 });
    expect(next.outcome).toBe('blocked');
    expect(next.evidence.join('\n')).toMatch(/exception 01/);
    expect(next.evidence.join('\n')).toMatch(/audit: modbus write denied .*the modbus face is isolated by incident response/);
    expect((await kiln()).state).toBe('Execute');

    const status = await r.call('api/respond', {}, 'viewer');
    expect(status.body).toMatchObject({ isolated: [{ face: 'modbus', by: 'engineer@127.0.0.1' }], bans: expect.arrayContaining([expect.objectContaining({ kind: 'account', id: 'anonymous' })]) });
  }, scaled(60_000));

  it('the Modbus incident\'s report: one HTML file with the level, the playbook phases scored against their deadlines, and the timeline command → line → alert → response, rendered in Chromium', async () => {
    expect(modbusT0).toBeGreaterThan(0);
    const report = (...args: string[]): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', 'respond', 'report', ...args, '--url', r.base, '--user', 'engineer', '--password', r.passwords.engineer!], { timeoutMs: 60_000 });
    const en = join(work, 'report-en.html');
    const a = await report('--out', en, '--from', String(modbusT0), '--json');
    expect(a.code, a.stderr).toBe(0);
    const got = JSON.parse(a.stdout) as { file: string; level: string; rows: number; phases: { id: string; status: string; steps: { step: string; applies: boolean; doneMs: number | null }[] }[] };
    expect(got.file).toBe(en);
    expect(['I', 'II', 'III', 'IV']).toContain(got.level);
    const contain = got.phases.find((p) => p.id === 'contain')!;
    expect(contain.steps.find((x) => x.step === 'contain.isolate-face')!.doneMs).toBeGreaterThanOrEqual(modbusT0);
    expect(got.phases.find((p) => p.id === 'recover')!.steps.find((x) => x.step === 'recover.resume-station')!.doneMs).toBeGreaterThan(0);
    // the responders noted nothing: the detect phase's note steps are open or overdue, not on time
    expect(['open', 'overdue']).toContain(got.phases.find((p) => p.id === 'detect')!.status);

    const html = readFileSync(en, 'utf8');
    expect(html).not.toMatch(/<script|src=|href=/);
    const lanes = [...html.matchAll(/<tr data-lane="(\w+)"><td>(≈?)(\d{2}:\d{2}:\d{2})<\/td><td>[^<]*<\/td><td>([^<]*)<\/td><td class="[\w-]+">([^<]*)<\/td>/g)].map((m) => ({ lane: m[1]!, time: m[3]!, station: m[4]!, text: m[5]! }));
    expect(lanes.length).toBe(got.rows);
    const first = (lane: string, re: RegExp, after = -1): number => lanes.findIndex((x, k) => k > after && x.lane === lane && re.test(x.text));
    const command = first('command', /^stop kiln .*by modbus@127\.0\.0\.1 \(modbus\)/);
    const stopped = first('line', /^kiln Execute → Stopping/);
    const alert = first('alert', /modbus-write/);
    const isolate = first('response', /^isolate face modbus: done \[contain\.isolate-face\] by engineer@127\.0\.0\.1/);
    const resumed = first('response', /^resume-station station kiln: done \[recover\.resume-station\]/, isolate);
    expect([command, stopped, alert, isolate, resumed].every((k) => k >= 0), JSON.stringify(lanes.map((x) => `${x.lane} ${x.text}`), null, 1)).toBe(true);
    expect(command).toBeLessThan(alert);
    expect(alert).toBeLessThan(isolate);
    expect(isolate).toBeLessThan(resumed);

    // in Chinese, by the instructor (who may read the range's runs), and seen in Chromium
    const zh = join(work, 'report-zh.html');
    const b = await runToEnd(process.execPath, ['bin/twinline.mjs', 'respond', 'report', '--out', zh, '--lang', 'zh', '--from', String(modbusT0), '--url', r.base, '--user', 'instructor', '--password', r.passwords.instructor!], { timeoutMs: 60_000 });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^wrote .*report-zh\.html: level (I|II|III|IV); \d+ timeline rows; detect \w+/);
    expect(readFileSync(zh, 'utf8')).toContain('<h1>安全事件报告</h1>');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      for (const [file, shot] of [[en, 'incident-report-en'], [zh, 'incident-report-zh']] as const) {
        await page.goto(pathToFileURL(file).href);
        const badge = page.getByTestId('level');
        expect(await badge.isVisible()).toBe(true);
        expect(await badge.evaluate((e) => getComputedStyle(e).backgroundColor)).toMatch(/^rgb\((208, 2, 27|245, 130, 11|212, 168, 0|31, 95, 191)\)$/);
        expect(await page.locator('[data-testid="lanes"] circle').count()).toBeGreaterThanOrEqual(5);
        expect(await page.locator('[data-testid="timeline"] tr[data-lane="response"]').count()).toBeGreaterThanOrEqual(2);
        mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: join(OUT, `${shot}.png`), fullPage: true });
      }
    } finally {
      await browser.close();
    }

    const badLang = await report('--lang', 'fr');
    expect(badLang.code).toBe(2);
    expect(badLang.stderr).toMatch(/--lang fr must be en or zh/);
  }, scaled(120_000));
});
