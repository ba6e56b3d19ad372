/**
 * Exercises started, paused and ended on a running twin (`/api/exercises…`, what the web twin's
 * range panel calls): the instructor lists the exercises written for this line, starts one,
 * pauses it (the line and the exercise's clock stop: the attack due waits), resumes it, sees the
 * attack launched, ends it early and reads the report and the score; other roles are refused.
 * And the trainer's run control (`/api/run`): the instructor sets the pace, pauses the line and
 * jumps it ahead (to the end of the shift), refused to others and while an exercise holds the
 * pace, every change in the audit trail.
 * A real `twinline serve` of the kiln cell (open profile, 10× real time).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExerciseState } from '../../sim/host/exercises.ts';
import { scaled } from '../proc.ts';
import { waitFor } from './opcua-host.ts';
import { START_MS, startServe, type ServeProc } from './serve-proc.ts';

const dir = mkdtempSync(join(tmpdir(), 'twinline-exercises-'));
let s: ServeProc;

beforeAll(async () => {
  const kiln = resolve('test/fixtures/scenarios/kiln-cell.yaml');
  writeFileSync(join(dir, 'drill.yaml'), [
    'version: 1', 'id: kiln-stop-drill', 'title: { en: A stop from OPC UA, zh: 来自 OPC UA 的停机 }',
    `scenario: ${kiln}`, 'profile: open', 'durationS: 600', 'attacks:', '  - { atS: 15, attack: opcua-stop, station: kiln }', '',
  ].join('\n'));
  // another line's exercise is not offered here; a broken file is named, not fatal
  writeFileSync(join(dir, 'other-line.yaml'), ['version: 1', 'id: other', 'title: { en: x, zh: x }', `scenario: ${resolve('test/fixtures/scenarios/minimal.yaml')}`, 'attacks:', '  - { atS: 1, attack: opcua-stop, station: former }', ''].join('\n'));
  writeFileSync(join(dir, 'broken.yaml'), 'version: 1\nid: Broken!\n');
  s = await startServe([kiln, '--profile', 'open', '--speed', '10', '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--exercises', dir]);
}, START_MS + 60_000);

afterAll(async () => {
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown = {}, user: string | null = 'instructor'): ReturnType<ServeProc['call']> =>
  s.call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, user);
const current = async (): Promise<ExerciseState> => (await s.call('api/exercises/current', {}, 'instructor')).body.current as ExerciseState;
const simTime = async (): Promise<number> => Number((await s.call('api/state', {}, 'viewer')).body.simTime);

describe('exercises on the running twin', () => {
  it('lists this line\'s exercises for the instructor only, naming a file that does not load', async () => {
    expect((await s.call('api/exercises', {}, 'engineer')).status).toBe(403);
    expect((await post('api/exercises/start', { id: 'kiln-stop-drill' }, 'operator')).status).toBe(403);
    const { status, body } = await s.call('api/exercises', {}, 'instructor');
    expect(status).toBe(200);
    expect((body.exercises as { id: string }[]).map((e) => e.id)).toEqual(['kiln-stop-drill']);
    expect(body.exercises).toMatchObject([{ title: { en: 'A stop from OPC UA' }, durationS: 600, attacks: [{ atS: 15, attack: 'opcua-stop', station: 'kiln' }] }]);
    expect((body.problems as string[]).join('\n')).toMatch(/^broken\.yaml: /m);
    expect(body.current).toBeNull();
    const unknown = await post('api/exercises/start', { id: 'other' });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(unknown.body)).toContain('no exercise \\"other\\" for this line (kiln-stop-drill');
    expect((await post('api/exercises/pause')).status).toBe(409);
  });

  it('starts, pauses (the line and the schedule stop), resumes, launches the attack on time, ends early with score and report', async () => {
    const started = await post('api/exercises/start', { id: 'kiln-stop-drill' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect((await post('api/exercises/start', { id: 'kiln-stop-drill' })).status).toBe(409);
    // the exercise holds the pace: run control waits
    const held = await post('api/run', { speed: 60 });
    expect(held.status).toBe(409);
    expect(JSON.stringify(held.body)).toContain('a scripted exercise paces the line');
    expect((await s.call('api/run', {}, 'viewer')).body).toMatchObject({ speed: 10, exercise: true });
    const paused = await post('api/exercises/pause');
    expect(paused.status).toBe(200);
    const at = (paused.body.current as ExerciseState).elapsedS;
    expect(at).toBeLessThan(15);
    // paused: nothing launched, the line and the exercise's clock stand still
    const t = await simTime();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await simTime()).toBe(t);
    const still = await current();
    expect(still).toMatchObject({ state: 'paused', elapsedS: at });
    expect(still.attacks[0]!.launched).toBeNull();
    expect((await post('api/exercises/resume')).status).toBe(200);
    expect(await waitFor('the line running again', simTime, (x) => x > t, 10_000)).toBeGreaterThan(t);
    // resumed: the attack goes at its exercise second, and runs through the range
    const launched = await waitFor('the attack launched and done', current, (c) => c.attacks[0]!.launched?.status === 'done', 60_000);
    expect(launched.attacks[0]!.launched).toMatchObject({ attack: 'opcua-stop', status: 'done', outcome: 'succeeded' });
    expect(launched.log.join('\n')).toMatch(/opcua-stop launched \(range run \d+\)/);
    // the instructor ends it early: report and score
    expect((await post('api/exercises/end')).status).toBe(200);
    const ended = await waitFor('the exercise concluded', current, (c) => c.state === 'ended' || c.state === 'failed', 60_000);
    expect(ended, JSON.stringify(ended)).toMatchObject({ state: 'ended', ended: 'interrupted', report: true });
    expect(ended.score?.total).toBeGreaterThanOrEqual(0);
    expect(ended.detection?.detected).toBe(true);
    const report = await s.request('api/exercises/report?lang=zh', {}, 'instructor');
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await report.text()).toContain('opcua-stop');
    expect((await s.request('api/exercises/report', {}, 'viewer')).status).toBe(403);
    // the trail: who started, paused, resumed and ended it
    // (the host drains the log every 200 ms: the last entry may follow the state by a drain)
    const reasons = await waitFor('the exercise\'s end in the trail', async () => (await s.events('instructor')).filter((e) => e.type === 'audit' && e.data.action === 'exercise').map((e) => String(e.data.reason)),
      (r) => r.some((x) => x.startsWith('ended (')), 20_000);
    expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^started: A stop from OPC UA/), 'paused (the line paused)', 'resumed', 'ended by the instructor', expect.stringMatching(/^ended \(interrupted\): score \d+/)]));
  }, scaled(180_000));
});

describe('run control', () => {
  it('refuses other roles and bad bodies, naming what is wrong', async () => {
    expect((await s.call('api/run', {}, 'viewer')).body).toMatchObject({ speed: 10, running: true, exercise: false });
    const operator = await post('api/run', { speed: 60 }, 'operator');
    expect(operator.status).toBe(403);
    expect(JSON.stringify(operator.body)).toContain('run control is the instructor\'s (operator is operator)');
    // the refusal is in the trail
    await waitFor('the refused run control in the trail', async () => (await s.events('instructor')).filter((e) => e.type === 'audit' && e.data.action === 'run' && e.data.outcome === 'denied'),
      (r) => r.some((e) => String(e.data.principal).startsWith('operator@')), 20_000);
    const bad: [unknown, string][] = [
      [{ speed: 0.5 }, 'speed must be a number from 1 to 600 (× real time), got 0.5'],
      [{ speed: 601 }, 'got 601'],
      [{ speed: '60' }, 'got \\"60\\"'],
      [{ running: 'yes' }, 'running must be true or false, got \\"yes\\"'],
      [{}, 'the body must be {\\"speed\\"?'],
      [{ speed: 60, pace: 2 }, 'unknown key \\"pace\\"'],
      [[60], 'the body must be'],
    ];
    for (const [body, message] of bad) {
      const r = await post('api/run', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(r.body), JSON.stringify(body)).toContain(message);
    }
    expect((await s.call('api/run', {}, 'viewer')).body).toMatchObject({ speed: 10, running: true });
  });

  it('sets the pace and pauses and resumes the line for the instructor; each change is in the trail', async () => {
    const fast = await post('api/run', { speed: 60 });
    expect(fast.status, JSON.stringify(fast.body)).toBe(200);
    expect(fast.body).toMatchObject({ speed: 60, running: true, changed: ['speed 10× → 60×'] });
    // the line runs well past its old pace (60× asked; more than 15× is plenty on a busy machine)
    const t0 = await simTime();
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    expect((await simTime() - t0) / ((Date.now() - w0) / 1000)).toBeGreaterThan(15);
    const paused = await post('api/run', { running: false });
    expect(paused.body).toMatchObject({ speed: 60, running: false, changed: ['paused'] });
    const t = await simTime();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await simTime()).toBe(t);
    // asking for what is already so changes nothing and leaves no entry
    expect((await post('api/run', { running: false })).body).toMatchObject({ changed: [] });
    const back = await post('api/run', { speed: 10, running: true });
    expect(back.body).toMatchObject({ speed: 10, running: true, changed: ['speed 60× → 10×', 'resumed'] });
    expect(await waitFor('the line running again', simTime, (x) => x > t, 10_000)).toBeGreaterThan(t);
    const trail = await waitFor('run control in the trail', async () => (await s.events('instructor')).filter((e) => e.type === 'audit' && e.data.action === 'run' && e.data.outcome === 'allowed'),
      (r) => r.length >= 3, 20_000);
    expect(trail.map((e) => e.data)).toEqual([
      expect.objectContaining({ principal: expect.stringMatching(/^instructor@/), outcome: 'allowed', target: 'line', reason: 'speed 10× → 60×' }),
      expect.objectContaining({ reason: 'paused' }),
      expect.objectContaining({ reason: 'speed 60× → 10×, resumed' }),
    ]);
  }, scaled(60_000));

  it('jumps S seconds on, or to the end of the shift, as fast as the line steps, then goes on at its pace; refused to others and with a bad target; in the trail', async () => {
    expect((await post('api/run', { jump: 60 }, 'operator')).status).toBe(403);
    const bad: [unknown, string][] = [
      [{ jump: 'week' }, 'jump must be \\"shift\\" (to the end of the current shift) or simulated seconds in (0, 86400], got \\"week\\"'],
      [{ jump: 0 }, 'got 0'],
      [{ jump: 86_401 }, 'got 86401'],
      [{ jump: 60, speed: 10 }, 'jump goes alone'],
    ];
    for (const [body, message] of bad) {
      const r = await post('api/run', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(r.body), JSON.stringify(body)).toContain(message);
    }
    const t0 = await simTime();
    const on = await post('api/run', { jump: 600 });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body).toMatchObject({ speed: 10, running: true, changed: [expect.stringMatching(/^jumped 0:10:00 from \d+:\d\d:\d\d to \d+:\d\d:\d\d in [\d.]+ s$/)], jumped: { shift: null } });
    expect(Number(on.body.simTime)).toBeGreaterThanOrEqual(t0 + 600);
    // the fixture's day: three 8-hour shifts
    const shift = await post('api/run', { jump: 'shift' });
    expect(shift.status, JSON.stringify(shift.body)).toBe(200);
    expect((shift.body.changed as string[])[0]).toMatch(/ to 8:00:00 \(end of shift 1\) in /);
    // and as figures, for a page to say in its own language
    expect(shift.body.jumped).toMatchObject({ toS: 8 * 3600, shift: 1 });
    expect((shift.body.jumped as { fromS: number }).fromS).toBeGreaterThanOrEqual(t0 + 600);
    const t = Number(shift.body.simTime);
    expect(t).toBeGreaterThanOrEqual(8 * 3600);
    expect(t).toBeLessThan(8 * 3600 + 120);
    // and on at 10×
    expect(await waitFor('the line going on after the jump', simTime, (x) => x > t + 5, 20_000)).toBeGreaterThan(t);
    const trail = await waitFor('the jumps in the trail', async () => (await s.events('instructor')).filter((e) => e.type === 'audit' && e.data.action === 'run' && String(e.data.reason).startsWith('jumped')),
      (r) => r.length >= 2, 20_000);
    expect(String(trail[1]!.data.reason)).toContain('(end of shift 1)');
  }, scaled(120_000));
});
