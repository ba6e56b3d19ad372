/**
 * The side-by-side page's pieces that run without a browser: the lines it builds
 * (web/src/twin/lines.ts: a built-in scenario, or one with retrofit steps applied by the same
 * pure code as the host) and the KPI comparison (web/src/twin/kpi-delta.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/line/parse.ts';
import { buildRetrofit } from '../../sim/host/retrofits.ts';
import type { LineKpis } from '../../sim/core/kpi.ts';
import { builtInPair, compareHref, lineText, retrofittedLines } from '../../web/src/twin/lines.ts';
import { kpiDeltas } from '../../web/src/twin/kpi-delta.ts';

describe('lines the browser builds', () => {
  it('runs a built-in scenario as its file, and a retrofitted line exactly as the host builds it', () => {
    const base = lineText('steel-ball-before');
    const text = readFileSync('scenarios/steel-ball-before.yaml', 'utf8');
    expect(base).toEqual({ id: 'steel-ball-before', text, file: 'scenarios/steel-ball-before.yaml' });
    const after = lineText('steel-ball-before+automatic-pouring+robot-handling');
    const host = buildRetrofit(text, parseScenario(text, base.file), ['automatic-pouring', 'robot-handling']);
    expect(after.text).toBe(host.text);
    expect(after.id).toBe(host.spec.id);
    const kinds = (t: string): string[] => parseScenario(t, 'x.yaml').stations.map((s) => s.kind);
    expect(kinds(base.text)).toContain('pouring');
    expect(kinds(after.text).filter((k) => k === 'robot').length).toBeGreaterThan(kinds(base.text).filter((k) => k === 'robot').length);
  });

  it('names what it does not know, with what it knows, and the step that does not apply', () => {
    expect(() => lineText('no-such-line')).toThrow(/unknown scenario "no-such-line"; scenarios: .*steel-ball-before/);
    expect(() => lineText('steel-ball-before+no-such-step')).toThrow(/unknown retrofit step "no-such-step"; steps: .*automatic-pouring/);
    expect(() => lineText('ceramic-after+machine-vision-inspection')).toThrow(/machine-vision-inspection/);
    expect(() => lineText('steel-ball-before+automatic-pouring+automatic-pouring')).toThrow(/listed twice/);
  });

  it('offers the steps that apply to a scenario, and pairs a scenario with its counterpart', () => {
    expect(retrofittedLines('ceramic-before')).toEqual(['ceramic-before+energy-management', 'ceramic-before+machine-vision-inspection', 'ceramic-before+predictive-maintenance']);
    expect(retrofittedLines('steel-ball-before')).toEqual(['steel-ball-before+automatic-knockout', 'steel-ball-before+automatic-pouring', 'steel-ball-before+energy-management', 'steel-ball-before+predictive-maintenance', 'steel-ball-before+robot-handling']);
    // energy management and predictive maintenance apply to a line retrofitted already too; nothing else does
    expect(retrofittedLines('ceramic-after')).toEqual(['ceramic-after+energy-management', 'ceramic-after+predictive-maintenance']);
    expect(builtInPair('ceramic-after')).toEqual(['ceramic-before', 'ceramic-after']);
    expect(builtInPair('steel-ball-before')).toEqual(['steel-ball-before', 'steel-ball-after']);
    expect(builtInPair('my-line')).toBeNull();
    expect(compareHref('steel-ball-before', 'steel-ball-before+automatic-pouring', 'zh-CN')).toBe('?mode=compare&before=steel-ball-before&after=steel-ball-before%2Bautomatic-pouring&lang=zh-CN');
  });
});

/** KPIs with every figure the comparison reads, the rest from `k`. */
function kpis(k: Partial<LineKpis>): LineKpis {
  return { throughputPerHour: 40, oee: 0.6, firstPassYield: 0.9, energyPerGoodPartKWh: 20, operators: 10, shipped: 60, scrapped: 5, escaped: 2, ...k } as LineKpis;
}

describe('before against after', () => {
  it('gives each KPI its change and whether it is better for the line, by the KPI\'s sense', () => {
    const rows = kpiDeltas(kpis({}), kpis({ throughputPerHour: 60, oee: 0.5, energyPerGoodPartKWh: 15, operators: 12, scrapped: 5, escaped: 0 }));
    const by = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(rows.map((r) => r.key)).toEqual(['throughput', 'oee', 'yield', 'energy', 'operators', 'shipped', 'scrapped', 'escaped']);
    expect(by.throughput).toEqual({ key: 'throughput', before: 40, after: 60, delta: 20, relative: 0.5, sense: 'better' });
    expect(by.oee?.sense).toBe('worse');
    expect(by.oee?.delta).toBeCloseTo(-0.1, 12);
    expect(by.energy).toMatchObject({ delta: -5, relative: -0.25, sense: 'better' });
    expect(by.operators).toMatchObject({ delta: 2, sense: 'worse' });
    expect(by.scrapped).toMatchObject({ delta: 0, sense: 'same' });
    expect(by.escaped).toMatchObject({ delta: -2, relative: -1, sense: 'better' });
  });

  it('leaves the change out where a figure is missing, and the relative change where before is 0', () => {
    const rows = kpiDeltas(kpis({ energyPerGoodPartKWh: null, escaped: 0 }), kpis({ escaped: 3 }));
    const by = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(by.energy).toEqual({ key: 'energy', before: null, after: 20, delta: null, relative: null, sense: null });
    expect(by.escaped).toEqual({ key: 'escaped', before: 0, after: 3, delta: 3, relative: null, sense: 'worse' });
  });
});
