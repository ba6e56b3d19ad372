/**
 * A lesson on the running twin (`/api/lesson…`): a real `twinline serve` of the steel-ball line,
 * warm-started 3 h so its KPIs mean something at once. The instructor starts the
 * automatic-pouring lesson; trainees (other accounts) answer its questions and are scored
 * against what the live twin measures; the next step's retrofitted line is predicted in a worker
 * and its targets are read from the prediction; the end writes the session report. Other roles
 * cannot run the lesson; bad answers are refused with a reason; the trail records the lesson.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaled } from '../proc.ts';
import { waitFor } from './opcua-host.ts';
import { START_MS, startServe, type ServeProc } from './serve-proc.ts';

let s: ServeProc;

beforeAll(async () => {
  s = await startServe(['steel-ball-before', '--warmup', '3h', '--speed', '10', '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--record-values', '0']);
}, START_MS + 120_000);

afterAll(async () => {
  await s?.stop();
});

type Cp = { id: string; kind: string; value: number | null; met: boolean | null; truth: unknown; yours: { right: boolean; attempts: number } | null; start: number | null };
type View = {
  id: string; state: string; step: number; current: { id: string; figures: string; questions: string; retrofits: string[]; checkpoints: Cp[]; faults: { station: string; fault: string }[] };
  score: { you: { points: number; of: number }; class: { points: number; of: number } }; board?: { user: string; points: number }[];
};

const post = (path: string, body: unknown, user = 'instructor'): ReturnType<ServeProc['call']> =>
  s.call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, user);
const view = async (user: string): Promise<View> => (await s.call('api/lesson', {}, user)).body.current as View;
const cp = (v: View, id: string): Cp => v.current.checkpoints.find((c) => c.id === id)!;

describe('a lesson on the running twin', () => {
  it('the warm start: the line is full and its KPIs count from the end of the warm-up', async () => {
    const st = (await s.call('api/state', {}, 'viewer')).body as { simTime: number; kpis: { shipped: number; simHours: number; fromHours: number } };
    expect(st.simTime).toBeGreaterThanOrEqual(3 * 3600);
    expect(st.kpis.fromHours).toBeCloseTo(3, 3);
    expect(st.kpis.simHours).toBeLessThan(1);
  });

  it('lists the lessons for this line to every role; only the instructor runs one', async () => {
    const list = await s.call('api/lesson', {}, 'viewer');
    expect(list.status).toBe(200);
    expect((list.body.lessons as { id: string }[]).map((l) => l.id)).toEqual(['automatic-pouring', 'diagnosis-roadmap']);
    expect(list.body.current).toBeNull();
    expect('problems' in list.body).toBe(false);
    expect((await post('api/lesson/start', { id: 'automatic-pouring' }, 'operator')).status).toBe(403);
    expect((await post('api/lesson/start', { id: 'vision-inspection' })).status).toBe(404);
    expect((await post('api/lesson/answer', { checkpoint: 'find-bottleneck', answer: 'pour' }, 'viewer')).status).toBe(409);
  });

  it('trainees answer the questions of the step, judged on the line\'s predicted steady state; the twin\'s answer stays hidden from them', async () => {
    const started = await post('api/lesson/start', { id: 'automatic-pouring' });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect((await post('api/lesson/start', { id: 'automatic-pouring' })).status).toBe(409);
    expect((await view('viewer')).current).toMatchObject({ questions: 'predicting' });
    // the questions are judged on the line's steady state: its prediction, made in a worker
    const early = await post('api/lesson/answer', { checkpoint: 'find-bottleneck', answer: 'pour' }, 'viewer');
    expect(early.status).toBe(409);
    expect(JSON.stringify(early.body)).toContain('the twin is still working out this step');
    const v = await waitFor('the prediction of the steel-ball line', () => view('viewer'), (x) => x.current.questions === 'predicted', 240_000);
    expect(v).toMatchObject({ id: 'automatic-pouring', state: 'running', step: 0, current: { id: 'find-the-constraint', figures: 'live', retrofits: [] } });
    expect(v.current.faults.map((f) => `${f.fault}@${f.station}`)).toEqual(['power@furnace', 'breakdown@pour', 'absent@pour']);
    expect(cp(v, 'find-bottleneck').truth).toBeNull();
    expect(v.board).toBeUndefined();
    // the instructor sees the twin's answer: the bottleneck the live line measures
    const truth = cp(await view('instructor'), 'find-bottleneck').truth;
    expect(truth).toBe('pour');
    const wrong = await post('api/lesson/answer', { checkpoint: 'find-bottleneck', answer: 'furnace' }, 'viewer');
    expect(wrong.status).toBe(200);
    expect(wrong.body).toMatchObject({ right: false, attempts: 1, attemptsLeft: 2 });
    const right = await post('api/lesson/answer', { checkpoint: 'find-bottleneck', answer: 'Pour' }, 'viewer');
    expect(right.body).toMatchObject({ right: true, attempts: 2 });
    expect((await post('api/lesson/answer', { checkpoint: 'find-bottleneck', answer: 'pour' }, 'viewer')).status).toBe(409);
    // an estimate: the operators the line needs, within 10 %
    const people = await post('api/lesson/answer', { checkpoint: 'count-people', answer: 11 }, 'operator');
    expect(people.body).toMatchObject({ right: true });
    // bad answers are refused with the reason
    expect((await post('api/lesson/answer', { checkpoint: 'find-bottleneck' }, 'engineer')).status).toBe(400);
    expect((await post('api/lesson/answer', { checkpoint: 'oee-75', answer: 1 }, 'engineer')).status).toBe(404);
    expect((await post('api/lesson/answer', { checkpoint: 'new-bottleneck', answer: 'shake' }, 'engineer')).status).toBe(409);
    const mine = await view('viewer');
    expect(mine.score.you).toEqual({ points: 10, of: 30 });
    const board = (await view('instructor')).board!;
    expect(board).toEqual([{ user: 'operator', points: 10, right: 1, answered: 1 }, { user: 'viewer', points: 10, right: 1, answered: 1 }]);
  }, scaled(300_000));

  it('the retrofitted step is predicted in a worker; its targets and questions read the prediction', async () => {
    const moved = await post('api/lesson/step', { step: 1 });
    expect(moved.status).toBe(200);
    expect((moved.body.current as View).current).toMatchObject({ id: 'automatic-pouring', retrofits: ['automatic-pouring'] });
    const v = await waitFor('the prediction of the automatic-pouring line', () => view('instructor'), (x) => x.current.figures === 'predicted' && x.current.questions === 'predicted', 240_000);
    expect(cp(v, 'oee-75')).toMatchObject({ met: true });
    expect(cp(v, 'oee-75').value).toBeGreaterThan(0.75);
    expect(cp(v, 'output-up').met).toBe(true);
    const next = cp(v, 'new-bottleneck').truth as string;
    expect(next).not.toBe('pour');
    expect((await post('api/lesson/answer', { checkpoint: 'new-bottleneck', answer: next }, 'viewer')).body).toMatchObject({ right: true });
    expect((await view('viewer')).score).toMatchObject({ you: { points: 20 }, class: { points: 35, of: 70 } });
  }, scaled(300_000));

  it('the end writes the session report (JSON and CSV) and the trail records the lesson', async () => {
    expect((await s.call('api/lesson/report', {}, 'instructor')).status).toBe(404);
    const ended = await post('api/lesson/end', {});
    expect(ended.status).toBe(200);
    expect((ended.body.current as View).state).toBe('ended');
    // once ended, every trainee sees the twin's answers
    expect(cp(await view('viewer'), 'new-bottleneck').truth).not.toBeNull();
    const csv = await s.request('api/lesson/report?format=csv', {}, 'instructor');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await csv.text();
    expect(text.split('\n')[0]).toBe('user,points,find-bottleneck,count-people,new-bottleneck');
    expect(text).toMatch(/^viewer,20,right \(2\): Pour,,right \(1\): \w+$/m);
    const report = JSON.parse(readFileSync(join(s.runDir, 'lessons', '1-automatic-pouring', 'report.json'), 'utf8')) as { targets: { id: string; met: boolean }[]; trainees: unknown[] };
    expect(report.targets.filter((t) => t.met).map((t) => t.id)).toEqual(['oee-75', 'output-up']);
    expect(report.trainees).toHaveLength(2);
    expect((await s.call('api/lesson/report', {}, 'viewer')).status).toBe(403);
    const trail = readFileSync(join(s.runDir, 'audit.ndjson'), 'utf8');
    expect(trail).toMatch(/"action":"lesson","outcome":"allowed","target":"automatic-pouring","reason":"started"/);
    expect(trail).toMatch(/"action":"lesson","outcome":"allowed","target":"automatic-pouring","reason":"step 2: automatic-pouring"/);
    expect(trail).toMatch(/"action":"lesson","outcome":"denied"/);
  });
});
