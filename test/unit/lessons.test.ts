/**
 * Lesson files: the built-in lessons load against their lines; a broken lesson fails with
 * file:line:col for each problem (unknown step, station, KPI, line; a retrofit that does not
 * apply; a share written as a percentage); checkpoints score as the rules say; the measured
 * bottleneck follows the load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TwinlineError } from '../../sim/core/errors.ts';
import { measuredBottleneck } from '../../sim/core/kpi.ts';
import type { Checkpoint } from '../../sim/line/lesson-schema.ts';
import { answerRight, goalOf, targetMet, type LessonFigures } from '../../sim/line/lesson.ts';
import { lessonIds, loadLesson } from '../../sim/host/lessons.ts';

const dir = mkdtempSync(join(tmpdir(), 'twinline-lessons-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `<dir>/<id>.yaml` and returns the problems loading it gives, one per line. */
function problemsOf(id: string, text: string): string {
  const file = join(dir, `${id}.yaml`);
  writeFileSync(file, text);
  try {
    loadLesson(file);
  } catch (e) {
    if (e instanceof TwinlineError) return e.report();
    throw e;
  }
  return '';
}

const HEAD = `version: 1
title: { en: "T", zh: "T" }
summary: { en: "S", zh: "S" }
minutes: 30
`;

describe('built-in lessons', () => {
  it('the three workshop lessons load against their lines, with the line at each step', () => {
    expect(lessonIds()).toEqual(['automatic-pouring', 'diagnosis-roadmap', 'vision-inspection']);
    const l1 = loadLesson('vision-inspection');
    expect(l1.lesson.line).toBe('ceramic-before');
    expect(l1.lines.map((l) => l.retrofits)).toEqual([[], ['machine-vision-inspection']]);
    expect(l1.lines[1]!.spec.stations.find((s) => s.id === 'inspect')!.kind).toBe('vision');
    const l2 = loadLesson('automatic-pouring');
    expect(l2.lines.map((l) => l.retrofits.length)).toEqual([0, 1, 3]);
    for (const id of lessonIds()) {
      const { lesson } = loadLesson(id);
      // bilingual throughout
      for (const s of lesson.steps) for (const t of [s.title, s.prompt, ...s.checkpoints.map((c) => c.text)]) expect(t.zh).toMatch(/[\u4e00-\u9fff]/);
    }
  });
});

/** A lesson whose checkpoints break one rule each (lines 12–16). */
const RULES = `${HEAD}id: rules
line: steel-ball-before
steps:
  - id: one
    title: { en: "A", zh: "A" }
    prompt: { en: "P", zh: "P" }
    checkpoints:
      - { id: a, text: { en: "x", zh: "x" }, points: 5, kpi: oee, above: 75 }
      - { id: b, text: { en: "x", zh: "x" }, points: 5, kpi: goodPerDay, rise: 0.2 }
      - { id: c, text: { en: "x", zh: "x" }, points: 5, kpi: goodPerDay, above: 1, below: 2 }
      - { id: d, text: { en: "x", zh: "x" }, points: 5, kpi: operators, answer: estimate }
      - { id: a, text: { en: "x", zh: "x" }, points: 5, answer: bottleneck, kpi: oee }
`;

/** A two-step lesson: an unknown station in a fault and a checkpoint, an unknown retrofit step; `before` and `after` the checkpoint on the station. */
const twoSteps = (id: string, before: string, after: string): string => `${HEAD}id: ${id}
line: steel-ball-before
steps:
  - id: one
    title: { en: "A", zh: "A" }
    prompt: { en: "P", zh: "P" }
    faults:
      - { station: furnaec, fault: breakdown }
    checkpoints:
${before}      - { id: b, text: { en: "x", zh: "x" }, points: 5, kpi: utilisation, station: poor, above: 0.5 }
${after}  - id: two
    title: { en: "B", zh: "B" }
    prompt: { en: "P", zh: "P" }
    retrofit: [automatic-poring]
    checkpoints:
      - { id: d, text: { en: "x", zh: "x" }, points: 5, kpi: oee, above: 0.8 }
`;

describe('a broken lesson', () => {
  it('names each problem with file:line:col: unknown retrofit step, station, KPI and indicator', () => {
    const r = problemsOf('broken', twoSteps('broken', '      - { id: a, text: { en: "x", zh: "x" }, points: 5, kpi: oea, above: 0.5 }\n', '      - { id: c, text: { en: "x", zh: "x" }, points: 5, indicator: automation, above: 10 }\n'));
    expect(r).toMatch(/broken\.yaml:14:\d+ steps\[0\]\.checkpoints\[0\]\.kpi: unknown line KPI "oea" \(did you mean "oee"\?\)/);
    expect(r).toMatch(/broken\.yaml:16:\d+ steps\[0\]\.checkpoints\[2\]\.indicator: unknown indicator "automation"/);
    // the line is checked once the file is otherwise right: stations at each step, retrofit steps
    const s = problemsOf('stations', twoSteps('stations', '', ''));
    expect(s).toMatch(/stations\.yaml:12:\d+ steps\[0\]\.faults\[0\]\.station: station "furnaec" is not on the line at step "one" \(steel-ball-before\); did you mean "furnace"\?/);
    expect(s).toMatch(/stations\.yaml:14:\d+ steps\[0\]\.checkpoints\[0\]\.station: station "poor" is not on the line/);
    expect(s).toMatch(/stations\.yaml:18:\d+ steps\[1\]\.retrofit\[0\]: unknown retrofit step "automatic-poring" \(did you mean "automatic-pouring"\?\)/);
  });

  it('a retrofit that does not apply to the line as the earlier steps left it, and an unknown line', () => {
    const r = problemsOf('twice', `${HEAD}id: twice
line: ceramic-before
steps:
  - id: one
    title: { en: "A", zh: "A" }
    prompt: { en: "P", zh: "P" }
    retrofit: [automatic-pouring]
    checkpoints:
      - { id: a, text: { en: "x", zh: "x" }, points: 5, answer: bottleneck }
`);
    expect(r).toMatch(/twice\.yaml:11:\d+ steps\[0\]\.retrofit: automatic-pouring on ceramic-before: retrofit step "automatic-pouring" does not apply/);
    const u = problemsOf('unknown-line', `${HEAD}id: unknown-line
line: ceramic-befor
steps:
  - id: one
    title: { en: "A", zh: "A" }
    prompt: { en: "P", zh: "P" }
    checkpoints:
      - { id: a, text: { en: "x", zh: "x" }, points: 5, answer: bottleneck }
`);
    expect(u).toMatch(/unknown-line\.yaml:6:\d+ line: unknown line "ceramic-befor" \(did you mean "ceramic-before"\?\)/);
  });

  it('a disturbance the line cannot take at that step: off-spec material away from a source, a person away where a machine does the work', () => {
    const text = `${HEAD}id: misfit
line: steel-ball-before
steps:
  - id: one
    title: { en: "A", zh: "A" }
    prompt: { en: "P", zh: "P" }
    faults:
      - { station: pour, fault: absent }
      - { station: furnace, fault: material }
    checkpoints:
      - { id: a, text: { en: "x", zh: "x" }, points: 5, answer: bottleneck }
  - id: two
    title: { en: "B", zh: "B" }
    prompt: { en: "P", zh: "P" }
    retrofit: [automatic-pouring]
    faults:
      - { station: pour, fault: absent }
      - { station: charge, fault: weather }
    checkpoints:
      - { id: b, text: { en: "x", zh: "x" }, points: 5, answer: bottleneck }
`;
    const r = problemsOf('misfit', text);
    // the schema first: an unknown kind is named with what there is
    expect(r).toMatch(/misfit\.yaml:22:\d+ steps\[1\]\.faults\[1\]\.fault: expected one of breakdown, jam, injected, power, sensor, material, absent/);
    const l = problemsOf('misfit', text.replace('fault: weather', 'fault: jam'));
    expect(l).not.toMatch(/steps\[0\]\.faults\[0\]/); // hand pouring: a crew to be away from
    expect(l).toMatch(/misfit\.yaml:13:\d+ steps\[0\]\.faults\[1\]\.fault: off-spec material comes in at a raw-material source \(charge\), not at "furnace" at step "one" \(steel-ball-before\)/);
    expect(l).toMatch(/misfit\.yaml:21:\d+ steps\[1\]\.faults\[0\]\.fault: no crew does the work of "pour" \(pouring\): nobody to be absent at step "two"/);
  });

  it('checkpoint rules: a share written as a percentage, rise on the first step, two goals, an estimate without within, ids used twice, unknown keys', () => {
    // the schema reports the unknown key first; without it the rest is checked
    expect(problemsOf('rules', RULES + '      - { id: e, text: { en: "x", zh: "x" }, points: 5, colour: red, answer: bottleneck }\n')).toMatch(/rules\.yaml:17:\d+ steps\[0\]\.checkpoints\[5\]\.colour: unknown key "colour"/);
    const r = problemsOf('rules', RULES);
    expect(r).toMatch(/rules\.yaml:12:\d+ steps\[0\]\.checkpoints\[0\]\.above: oee is a share written 0…1 \(75 % is 0\.75\); got 75 \[OUT_OF_RANGE\]/);
    expect(r).toMatch(/rules\.yaml:13:\d+ steps\[0\]\.checkpoints\[1\]\.rise: rise is measured against the lesson's first step/);
    expect(r).toMatch(/rules\.yaml:14:\d+ steps\[0\]\.checkpoints\[2\]\.below: a target has exactly one of above, below, rise, fall; got above, below/);
    expect(r).toMatch(/rules\.yaml:15:\d+ steps\[0\]\.checkpoints\[3\]\.answer: answer: estimate needs within/);
    expect(r).toMatch(/rules\.yaml:16:\d+ steps\[0\]\.checkpoints\[4\]\.id: checkpoint id "a" is used twice/);
    expect(r).toMatch(/rules\.yaml:16:\d+ steps\[0\]\.checkpoints\[4\]\.answer: answer: bottleneck is a question on its own/);
  });

  it('a YAML syntax error and a file whose id is not its name', () => {
    expect(problemsOf('syntax', `${HEAD}id: syntax\nline: "steel-ball-before\nsteps: []\n`)).toMatch(/syntax\.yaml:\d+:\d+:? YAML: Missing closing/);
    expect(problemsOf('named', `${HEAD}id: other\nline: steel-ball-before\nsteps:\n  - { id: a, title: { en: a, zh: a }, prompt: { en: a, zh: a }, checkpoints: [{ id: a, text: { en: a, zh: a }, points: 1, answer: bottleneck }] }\n`)).toMatch(/named\.yaml:5:\d+ id: the lesson id "other" must be the file name/);
    expect(() => loadLesson('vision-inspektion')).toThrow(/unknown lesson "vision-inspektion" \(did you mean "vision-inspection"\?\)/);
  });
});

describe('scoring', () => {
  const cp = (c: Partial<Checkpoint>): Checkpoint => ({ id: 'x', text: { en: 'x', zh: 'x' }, points: 1, ...c });
  const figs = (kpis: Record<string, number | null>, bottleneck: string | null = null, extra: Partial<LessonFigures> = {}): LessonFigures => ({ kpis, stations: {}, indicators: {}, bottleneck, ...extra });
  const start = figs({ oee: 0.6, operators: 10, goodPerDay: 1000 });

  it('targets: above and below absolute; rise and fall against the first step', () => {
    expect(targetMet(cp({ kpi: 'oee', above: 0.75 }), figs({ oee: 0.76 }), start)).toBe(true);
    expect(targetMet(cp({ kpi: 'oee', above: 0.75 }), figs({ oee: 0.75 }), start)).toBe(false);
    expect(targetMet(cp({ kpi: 'operators', fall: 0.6 }), figs({ operators: 4 }), start)).toBe(true);
    expect(targetMet(cp({ kpi: 'operators', fall: 0.6 }), figs({ operators: 5 }), start)).toBe(false);
    expect(targetMet(cp({ kpi: 'goodPerDay', rise: 0.3 }), figs({ goodPerDay: 1300 }), start)).toBe(true);
    expect(targetMet(cp({ kpi: 'goodPerDay', rise: 0.3 }), figs({ goodPerDay: 1299 }), start)).toBe(false);
    // a figure not defined yet (no good part, say) meets nothing
    expect(targetMet(cp({ kpi: 'oee', below: 2 }), figs({ oee: null }), start)).toBe(false);
    expect(goalOf(cp({ kpi: 'operators', fall: 0.6 }), 10.000000001)).toBe('−60 % from 10');
  });

  it('questions: the twin holds the answer; an estimate is right within its share', () => {
    const now = figs({ goodPerDay: 5256 }, 'kiln');
    expect(answerRight(cp({ answer: 'bottleneck' }), ' Kiln ', now)).toBe(true);
    expect(answerRight(cp({ answer: 'bottleneck' }), 'inspect', now)).toBe(false);
    expect(answerRight(cp({ answer: 'bottleneck' }), 'kiln', figs({}, null))).toBe(false);
    expect(answerRight(cp({ answer: 'estimate', kpi: 'goodPerDay', within: 0.05 }), 5000, now)).toBe(true);
    expect(answerRight(cp({ answer: 'estimate', kpi: 'goodPerDay', within: 0.05 }), '4990', now)).toBe(false);
    expect(answerRight(cp({ answer: 'estimate', kpi: 'goodPerDay', within: 0.05 }), 'lots', now)).toBe(false);
    expect(answerRight(cp({ answer: 'first-step' }), 'automatic-knockout', figs({}, null, { firstStep: 'automatic-knockout' }))).toBe(true);
  });

  it('the measured bottleneck is the process station with the highest load, and moves with it', () => {
    const st = (id: string, kind: string, availability: number, performance: number | null) => ({ id, kind, availability, performance });
    const line = [st('src', 'source', 0.05, null), st('furnace', 'induction-furnace', 0.75, 0.97), st('pour', 'pouring', 1, 1.02), st('c1', 'conveyor', 1, 0.2), st('quench', 'quench', 1, 0.46)];
    expect(measuredBottleneck(line)).toEqual({ id: 'pour', load: 1.02 });
    // a conveyor always moving, or a station always holding a part, is not the bottleneck: its load is what counts
    line[2] = st('pour', 'pouring', 0.6, 1);
    expect(measuredBottleneck(line)?.id).toBe('furnace');
    expect(measuredBottleneck([st('src', 'source', 1, null)])).toBeNull();
  });
});
