/** The incident report's parts: ticks on the wall clock, phases against the action log, the HTML's escaping and bounds. */
import { describe, expect, it } from 'vitest';
import type { Classification } from '../../security/playbooks/classify.ts';
import type { ActionRecord } from '../../security/respond/action-log.ts';
import { incidentReport, MAX_ROWS, scorePhases, wallOfTick, type ReportInput } from '../../security/report/incident-report.ts';

const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);

const phase = (id: string, dueAtMs: number | null, steps: { step: string; applies?: boolean }[]): Classification['phases'][number] => ({
  id: id as Classification['phases'][number]['id'], title: { en: id, zh: id }, lead: 'x', deadlineS: 60, dueAtMs,
  steps: steps.map((s) => ({ id: s.step.split('.')[1]!, step: s.step, by: 'x', title: { en: s.step, zh: s.step }, do: 'note', with: {}, unresolved: [], applies: s.applies ?? true })),
});

const classification = (phases: Classification['phases']): Classification => ({
  incident: true, level: 'III', name: { en: 'Major', zh: '较大' }, colour: 'yellow', colourName: { en: 'yellow', zh: '黄色' }, reasons: ['downtime 60 s'],
  impact: {} as Classification['impact'], playbook: { id: 'p', title: { en: 'P', zh: 'P' }, file: 'p.yaml' }, matched: 1, alerts: 1, detectedAtMs: T0, phases,
});

const action = (step: string, doneMs: number, result: ActionRecord['result'] = 'done', tick = 0): ActionRecord => ({
  seq: 1, action: 'note', step, atMs: doneMs - 10, at: new Date(doneMs - 10).toISOString(), doneMs, tick, principal: 'engineer@127.0.0.1', user: 'engineer',
  role: 'engineer', target: 'note', args: {}, result, did: [], problems: [],
});

describe('the incident report', () => {
  it('puts ticks on the wall clock between anchors, beyond them along the nearest pair, and from the pace with one anchor', () => {
    const w = wallOfTick([{ tick: 1000, ms: T0 + 1000 }, { tick: 0, ms: T0 }, { tick: 3000, ms: T0 + 2000 }], 1);
    expect(w(500)).toBe(T0 + 500);
    expect(w(2000)).toBe(T0 + 1500);
    expect(w(5000)).toBe(T0 + 3000);
    expect(w(-1000)).toBe(T0 - 1000);
    expect(wallOfTick([{ tick: 100, ms: T0 }], 0.1)(200)).toBe(T0 + 10);
    expect(wallOfTick([], 1)(5)).toBeNaN();
  });

  it('scores each phase: on time, late, overdue or open; a failed action is no step done; steps that do not apply are not waited for', () => {
    const c = classification([
      phase('detect', T0 + 60_000, [{ step: 'detect.a' }, { step: 'detect.b', applies: false }]),
      phase('report', T0 + 60_000, [{ step: 'report.a' }]),
      phase('contain', T0 + 60_000, [{ step: 'contain.a' }]),
      phase('recover', T0 + 600_000, [{ step: 'recover.a' }]),
    ]);
    // an earlier incident's action is not this one's
    const actions = [action('recover.a', T0 - 5000), action('detect.a', T0 + 30_000), action('report.a', T0 + 90_000), action('contain.a', T0 + 20_000, 'failed')];
    const s = scorePhases(c, actions, T0, T0 + 120_000, 'en');
    expect(s.map((p) => p.status)).toEqual(['on time', 'late', 'overdue', 'open']);
    expect(s[0]!.steps.map((x) => x.doneMs)).toEqual([T0 + 30_000, null]);
    expect(scorePhases(null, actions, T0, T0, 'en')).toEqual([]);
  });

  it('escapes what clients wrote, stays one file without script, bounds its rows, and embeds the Chinese glyphs it uses', () => {
    const input: ReportInput = {
      lang: 'en', line: { id: 'kiln-cell', title: 'Kiln <cell>' }, clock: { tick: 1_000_000, dt: 0.001, speed: 1, atMs: T0 + 1_000_000 },
      incident: { window: { fromMs: T0, toMs: T0 + 1_000_000 }, impact: { downtimeS: 12 }, classification: classification([phase('detect', T0 + 60_000, [{ step: 'detect.a' }])]) },
      alerts: [{ id: 1, detector: 'rate', rule: 'x', severity: 'high', title: '<script>alert(1)</script>', techniques: ['T0855'], station: 'kiln', alertMs: T0 + 5000, firstEvidenceMs: T0 + 4000 }],
      actions: [], runs: null,
      events: Array.from({ length: MAX_ROWS + 50 }, (_, k) => ({ seq: k, tick: 10_000 + k, type: 'command', station: 'kiln', data: { command: 'set', principal: `"><img src=x>${k}`, source: 'opcua' } })),
    };
    const r = incidentReport(input);
    expect(r.html).not.toMatch(/<script|<img/);
    expect(r.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(r.rows).toHaveLength(MAX_ROWS);
    expect(r.cut).toBe(51);
    expect(r.html).toContain('51 more rows not listed');
    expect(r.rows[0]).toMatchObject({ lane: 'alert', atMs: T0 + 5000, approx: false });
    // the events' ticks at 1 ms and speed 1 from the report's clock
    expect(r.rows[1]).toMatchObject({ lane: 'command', atMs: T0 + 10_000, approx: true });
    expect(r.html).toContain('attack runs: the account may not read them');
    // the English report has no Chinese and embeds no font; the Chinese one carries its glyphs
    expect(r.html).not.toContain('@font-face');
    const zh = incidentReport({ ...input, lang: 'zh' }).html;
    expect(zh).toContain('<h1>安全事件报告</h1>');
    expect(zh).toMatch(/<style>@font-face\{font-family:'Noto Sans SC'[^}]*data:font\/woff2;base64,/);
  });
});
