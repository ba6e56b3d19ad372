/**
 * `twinline lesson check` plays a lesson's own steps on the twin and scores its checkpoints:
 * the built-in lessons (their lines copied at a 10 ms tick) are sound, their answers come out
 * of the runs (the bottleneck moves when the pouring is automated); a lesson whose target is
 * met before its step, or never, is named and exits 3; a broken lesson exits 2 with
 * file:line:col.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLesson, type LessonCheckResult } from '../../sim/host/lessons.ts';
import { ROOT, scaled, twinlineCli } from '../proc.ts';

let dir = '';
let sound: LessonCheckResult;
let others: LessonCheckResult[];
let unsound: LessonCheckResult;

const STEP = (id: string, extra: string, checkpoints: string): string => `  - id: ${id}
    title: { en: "${id}", zh: "${id}" }
    prompt: { en: "p", zh: "p" }
${extra}    checkpoints:
${checkpoints}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-lesson-'));
  const lines = join(dir, 'lines');
  mkdirSync(lines);
  for (const line of ['steel-ball-before', 'ceramic-before']) {
    const text = readFileSync(join(ROOT, `scenarios/${line}.yaml`), 'utf8');
    expect(text).toMatch(/^dt: 1 ms$/m);
    writeFileSync(join(lines, `${line}.yaml`), text.replace(/^dt: 1 ms$/m, 'dt: 10 ms'));
  }
  for (const id of ['automatic-pouring', 'vision-inspection', 'diagnosis-roadmap']) copyFileSync(join(ROOT, `scenarios/lessons/${id}.yaml`), join(dir, `${id}.yaml`));
  writeFileSync(join(dir, 'unsound.yaml'), `version: 1
id: unsound
title: { en: "U", zh: "U" }
summary: { en: "U", zh: "U" }
line: steel-ball-before
minutes: 30
steps:
${STEP('start', '', '      - { id: find, text: { en: "x", zh: "x" }, points: 5, answer: bottleneck }\n')}${STEP('pouring', '    retrofit: [automatic-pouring]\n', '      - { id: already, text: { en: "x", zh: "x" }, points: 5, kpi: goodPerDay, above: 100 }\n      - { id: never, text: { en: "x", zh: "x" }, points: 5, kpi: oee, above: 1.4 }\n')}`);
  const o = { linesDir: lines, hours: 2, warmupS: 3 * 3600, seeds: 2, json: true };
  const check = (id: string) => checkLesson({ ...o, lesson: join(dir, `${id}.yaml`), workers: 1 });
  [sound, unsound, ...others] = await Promise.all([check('automatic-pouring'), check('unsound'), check('vision-inspection'), check('diagnosis-roadmap')]);
}, scaled(300_000));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('twinline lesson check', () => {
  it('the automatic-pouring lesson is sound: every target met at its step and not before, every question answered', () => {
    expect(sound.problems).toEqual([]);
    expect(sound.points.reached).toBe(sound.points.total);
    expect(sound.steps.map((s) => s.retrofits.length)).toEqual([0, 1, 3]);
    const cp = (id: string) => sound.checkpoints.find((c) => c.id === id)!;
    expect(cp('oee-75').start).toBeLessThan(0.75);
    expect(cp('oee-75').value).toBeGreaterThan(0.75);
    expect(cp('operators-down').value!).toBeLessThanOrEqual(cp('operators-down').start! * 0.4);
    expect(cp('count-people').answer).toBe(cp('count-people').start);
  });

  it('so are the vision-inspection and diagnosis-to-roadmap lessons; the step that pays first is diagnose\'s', () => {
    for (const r of others) expect(r.problems, r.lesson).toEqual([]);
    const [l1, l3] = others as [LessonCheckResult, LessonCheckResult];
    expect(l1.steps[0]!.bottleneck).toBe('kiln');
    expect(l1.checkpoints.find((c) => c.id === 'fewer-escapes')!.value).toBeLessThan(l1.checkpoints.find((c) => c.id === 'fewer-escapes')!.start! / 2);
    expect(l3.steps[0]!.firstStep).toBe('automatic-knockout');
  });

  it('the bottleneck is measured, not written: hand pouring limits the line, and once it is automatic another station does', () => {
    expect(sound.steps[0]!.bottleneck).toBe('pour');
    expect(sound.checkpoints.find((c) => c.id === 'find-bottleneck')!.answer).toBe('pour');
    const after = sound.checkpoints.find((c) => c.id === 'new-bottleneck')!;
    expect(after.answer).not.toBeNull();
    expect(after.answer).not.toBe('pour');
    expect(after.agreement).toBe(1);
  });

  it('names a target met before its step and one the steps never reach', () => {
    expect(unsound.problems).toHaveLength(2);
    expect(unsound.problems[0]).toMatch(/checkpoint "already" \(step "pouring"\): goodPerDay is [\d,]+ at the lesson's start, already > 100: the target does not measure the step/);
    expect(unsound.problems[1]).toMatch(/checkpoint "never" \(step "pouring"\): oee is 0\.\d+, goal > 1\.4: the lesson's own steps do not reach it/);
    expect(unsound.points).toEqual({ total: 15, reached: 5 });
  });

  it('exits 3 naming the checkpoint, and 2 with file:line:col for a broken lesson', async () => {
    const r = await twinlineCli(['lesson', 'check', join(dir, 'unsound.yaml'), '--hours', '0.25', '--warmup', '0', '--seeds', '1']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/problem: checkpoint "never" \(step "pouring"\)/);
    writeFileSync(join(dir, 'broken.yaml'), readFileSync(join(dir, 'unsound.yaml'), 'utf8').replace('kpi: oee', 'kpi: oea'));
    const b = await twinlineCli(['lesson', 'validate', join(dir, 'broken.yaml')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/broken\.yaml:\d+:\d+ steps\[1\]\.checkpoints\[1\]\.kpi: unknown line KPI "oea" \(did you mean "oee"\?\)/);
    const l = await twinlineCli(['lesson', 'list', '--json']);
    expect(l.code, l.stderr).toBe(0);
    expect((JSON.parse(l.stdout) as { id: string; points: number }[]).map((x) => x.id)).toEqual(['automatic-pouring', 'diagnosis-roadmap', 'vision-inspection']);
  });
});
