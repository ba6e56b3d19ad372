// Physics residuals (security/detectors/residual.ts): a two-sided CUSUM of reported values
// against the model, scaled by each tag's noise; through the engine, with its cool-downs.
import { describe, expect, it } from 'vitest';
import { DetectorEngine } from '../../security/detectors/engine.ts';
import { loadDetectorConfig, parseDetectorConfig } from '../../security/detectors/config.ts';
import { ResidualDetector, type ResidualConfig, type Report } from '../../security/detectors/residual.ts';
import { errorOf } from '../errors.ts';

const CFG: ResidualConfig = { k: 0.5, h: 5, relativeFloor: 0.005, absoluteFloor: 0.01, severity: 'high', techniques: ['T0856'], cooldownS: 60 };

/** A kiln zone held at `model` °C by the twin; its deadband 2 °C. */
function setup(model = 1000): { det: ResidualDetector; report: (value: number, k?: number) => Report } {
  const host = { stations: [{ id: 'kiln', kind: 'kiln' }], read: (s: string, f: string) => (s === 'kiln' && f === 't1' ? model : null) };
  const det = new ResidualDetector(CFG, host);
  const report = (value: number, k = 0): Report => ({ station: 'kiln', field: 't1', value, unit: '°C', deadband: 2, source: 'mqtt', principal: 'unverified@127.0.0.1:1883', where: 'p/kiln/t1', ms: 1000 + k });
  return { det, report };
}

/** Messages a steady bias of `bias` (in units of the tag's scale) takes to be detected. */
function messagesToDetect(bias: number, limit = 1000): number | null {
  const { det, report } = setup();
  const scale = det.scale({ deadband: 2 }, 1000);
  for (let n = 1; n <= limit; n++) if (det.observe(report(1000 + bias * scale, n)).length > 0) return n;
  return null;
}

describe('physics residuals', () => {
  it('scales a residual by the tag\'s noise: the deadband, a share of the value, an absolute floor', () => {
    const { det } = setup();
    expect(det.scale({ deadband: 2 }, 1000)).toBe(5); // 0.5 % of 1000 °C
    expect(det.scale({ deadband: 8 }, 1000)).toBe(8);
    expect(det.scale({ deadband: 0 }, 0)).toBe(0.01);
  });

  it('catches one forged value far off the model at its first message, naming value, model and sender', () => {
    const { det, report } = setup();
    const [f] = det.observe(report(20));
    expect(f).toMatchObject({ detector: 'residual', rule: 'residual', station: 'kiln', principal: 'unverified@127.0.0.1:1883', severity: 'high', techniques: ['T0856'] });
    expect(f!.title).toBe('kiln.t1 reported below what the model predicts (20 °C against 1000 °C, CUSUM over 1 message)');
    expect(f!.evidence.lines[0]).toMatch(/^p\/kiln\/t1 = 20 °C from unverified@127\.0\.0\.1:1883 \(mqtt\); the model holds 1000 °C; 1 message below it by up to 196× the tag's noise$/);
  });

  it('sums a small steady bias until it passes h: the bigger the bias, the fewer messages (h / (bias − k))', () => {
    expect(messagesToDetect(4)).toBe(2); // 3.5, 7
    expect(messagesToDetect(2)).toBe(4); // 1.5, 3, 4.5, 6
    expect(messagesToDetect(1)).toBe(11); // 0.5 a message past the allowance
    expect(messagesToDetect(-2)).toBe(4); // below the model: the other sum
    // inside the allowance the sum never grows, however long it is kept up
    expect(messagesToDetect(0.45, 10_000)).toBeNull();
  });

  it('lets noise inside the allowance through: a faithful relay jittering around the model raises nothing', () => {
    const { det, report } = setup();
    const scale = det.scale({ deadband: 2 }, 1000);
    let found = 0;
    for (let n = 0; n < 5000; n++) found += det.observe(report(1000 + scale * 0.9 * Math.sin(n * 0.7), n)).length;
    expect(found).toBe(0);
  });

  it('ignores what it cannot compare: not a number, a tag the model has not', () => {
    const { det, report } = setup();
    expect(det.observe(report(Number.NaN))).toEqual([]);
    expect(det.observe({ ...report(20), field: 'nope' })).toEqual([]);
    expect(det.observe({ ...report(20), station: 'ghost' })).toEqual([]);
    expect(det.compared).toBe(0);
  });

  it('runs in the engine from the built-in file: one alert, then the cool-down; listed among the detectors', () => {
    const config = loadDetectorConfig();
    expect(config.residuals).toMatchObject({ k: 0.5, h: 5, techniques: ['T0856', 'T0832'] });
    let now = 10_000;
    const engine = new DetectorEngine(config, { stations: [{ id: 'kiln', kind: 'kiln' }], read: () => 1000, now: () => now });
    expect(engine.names).toContain('residual');
    expect(engine.watchesReports).toBe(true);
    const forged = { station: 'kiln', field: 't1', value: 20, unit: '°C', deadband: 2, source: 'mqtt', principal: 'x', where: 'p/kiln/t1', ms: now };
    const [a] = engine.onReports([forged]);
    expect(a).toMatchObject({ id: 1, detector: 'residual', rule: 'residual', alertMs: 10_000 });
    expect(engine.onReports([forged, forged])).toEqual([]);
    expect(engine.suppressed).toBe(2);
    now += 61_000;
    expect(engine.onReports([forged])).toHaveLength(1);
  });

  it('refuses a bad residuals section naming the value', () => {
    expect(errorOf(() => parseDetectorConfig('residuals: { k: -1 }\n'))).toBe('detectors: residuals.k: must be a number from 0 to 100');
    expect(errorOf(() => parseDetectorConfig('residuals: { h: 5, hh: 1 }\n'))).toMatch(/^detectors: residuals\.hh: unknown key/);
    expect(errorOf(() => parseDetectorConfig('residuals: { techniques: [nope] }\n'))).toMatch(/^detectors: residuals\.techniques\[0\]: no technique "nope"/);
    expect(parseDetectorConfig('rates: []\n').residuals).toBeNull();
  });
});
