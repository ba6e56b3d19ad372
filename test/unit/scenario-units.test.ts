import { describe, expect, it } from 'vitest';
import { COMMON_FIELDS } from '../../sim/core/station.ts';
import { MACHINE_KINDS } from '../../sim/machines/index.ts';
import { dimensionName, parseUnit, toFieldUnit } from '../../sim/line/units.ts';

function value(raw: number | string, unit: string): number {
  const c = toFieldUnit(raw, unit);
  if (!c.ok) throw new Error(`expected ${JSON.stringify(raw)} → ${unit} to convert, got ${c.message}`);
  return c.value;
}

function failure(raw: string, unit: string): { code: string; message: string } {
  const c = toFieldUnit(raw, unit);
  if (c.ok) throw new Error(`expected ${JSON.stringify(raw)} → ${unit} to fail, got ${c.value}`);
  return c;
}

describe('scenario units', () => {
  it.each([
    // time
    ['12 s', 's', 12], ['250 ms', 's', 0.25], ['5 min', 's', 300], ['2 h', 's', 7200], ['1 d', 's', 86400], ['1.5 h', 'min', 90],
    // length
    ['1200 mm', 'm', 1.2], ['35 cm', 'm', 0.35], ['2 km', 'm', 2000], ['1 m', 'mm', 1000],
    // speed
    ['30 m/min', 'm/s', 0.5], ['500 mm/s', 'm/s', 0.5], ['36 km/h', 'm/s', 10], ['0.5 m/s', 'm/min', 30],
    // power, energy, force, mass
    ['22 kW', 'W', 22000], ['1.5 MW', 'W', 1.5e6], ['3 kJ', 'J', 3000], ['2 MJ', 'J', 2e6], ['1 Wh', 'J', 3600], ['1 kWh', 'J', 3.6e6],
    ['1 MWh', 'kWh', 1000], ['800 kN', 'kN', 800], ['0.8 MN', 'kN', 800], ['5000 N', 'kN', 5], ['500 g', 'kg', 0.5], ['2 t', 'kg', 2000],
    // rates: counts per time
    ['220 1/h', '1/s', 220 / 3600], ['60 1/min', '1/s', 1], ['3600 1/s', '1/h', 3600 * 3600], ['24 1/d', '1/h', 1], ['10 /min', '1/h', 600],
    ['300 pcs/h', '1/h', 300], ['5 pcs/min', '1/h', 300], ['120 parts/h', '1/min', 2], ['30 images/min', '1/s', 0.5], ['2 /h', '1/h', 2],
    ['0.5 1/km', '1/km', 0.5], ['1 1/m', '1/km', 1000],
    // dimensionless and percent
    ['15 %', '', 0.15], ['3 pcs', '', 3], ['0.4', '', 0.4],
    // compound with an interval temperature: no offset inside a product
    ['2000 K·s', '°C·s', 2000], ['1 °C·min', '°C·s', 60],
    // angle
    ['90 deg', 'deg', 90], ['3.141592653589793 rad', 'deg', 180],
  ] as const)('converts %s to %s', (raw, unit, expected) => {
    expect(value(raw, unit)).toBeCloseTo(expected, 9);
  });

  it('treats temperatures as affine', () => {
    expect(value('1250 °C', '°C')).toBe(1250);
    expect(value('1250 degC', '°C')).toBe(1250);
    expect(value('1250 C', '°C')).toBe(1250);
    expect(value('300 K', '°C')).toBeCloseTo(26.85, 9);
    expect(value('212 °F', '°C')).toBeCloseTo(100, 9);
    expect(value('-40 °F', '°C')).toBeCloseTo(-40, 9);
    expect(value('0 °C', 'K')).toBeCloseTo(273.15, 9);
    expect(value('100 °C', '°F')).toBeCloseTo(212, 9);
  });

  it('takes a bare number in the field unit and avoids binary noise', () => {
    expect(value(7.25, 'kN')).toBe(7.25);
    expect(value('7.25', 'kN')).toBe(7.25);
    expect(value('1200 mm', 'm')).toBe(1.2);
    expect(value('1e3 mm', 'm')).toBe(1);
    expect(value('-0.5m/s', 'm/s')).toBe(-0.5);
  });

  it('rejects a value of the wrong dimension, naming the expected unit', () => {
    const f = failure('5 kg', 's');
    expect(f.code).toBe('BAD_UNIT');
    expect(f.message).toContain('mass');
    expect(f.message).toContain('a time in s');
    expect(failure('3 m', 'm/s').message).toContain('a speed in m/s');
    expect(failure('2 h', '1/h').code).toBe('BAD_UNIT');
    expect(failure('5 %', 'm').code).toBe('BAD_UNIT');
  });

  it('rejects unknown units and malformed quantities', () => {
    const f = failure('3 parsec', 'm');
    expect(f.code).toBe('BAD_UNIT');
    expect(f.message).toContain('unknown unit "parsec"');
    expect(failure('12 s s', 's').code).toBe('BAD_UNIT');
    expect(failure('m/s', 'm/s').code).toBe('SCENARIO_SCHEMA');
    expect(failure('fast', 'm/s').code).toBe('SCENARIO_SCHEMA');
    expect(failure('1 kh', 's').code).toBe('BAD_UNIT');
  });

  it('names dimensions', () => {
    expect(dimensionName(parseUnit('km/h')!)).toBe('speed');
    expect(dimensionName(parseUnit('kWh')!)).toBe('energy');
    expect(dimensionName(parseUnit('pcs/min')!)).toBe('rate (count per time)');
  });

  it('converts every unit that a registered field or common field uses, from its own symbol', () => {
    const units = new Map<string, string>();
    for (const [name, f] of Object.entries(COMMON_FIELDS)) units.set(f.unit, `common field ${name}`);
    for (const k of MACHINE_KINDS) for (const [name, f] of Object.entries(k.fields)) units.set(f.unit, `${k.kind}.${name}`);
    expect(units.size).toBeGreaterThan(3);
    const missing: string[] = [];
    for (const [unit, where] of units) {
      const parsed = parseUnit(unit);
      const c = toFieldUnit(`2.5 ${unit}`, unit);
      const ok = parsed !== undefined && c.ok && c.value === 2.5;
      if (!ok) missing.push(`"${unit}" (${where})`);
    }
    expect(missing, `units the converter does not know; add them to sim/line/units.ts: ${missing.join(', ')}`).toEqual([]);
  });
});

describe('temperature differences', () => {
  it('a band or superheat converts by scale only: 45 °F of band is 25 °C, 25 K is 25 °C', () => {
    const conv = (raw: string, unit: string): number => {
      const c = toFieldUnit(raw, unit, true);
      if (!c.ok) throw new Error(c.message);
      return c.value;
    };
    expect(conv('45 °F', '°C')).toBeCloseTo(25, 9);
    expect(conv('25 K', '°C')).toBeCloseTo(25, 9);
    expect(conv('25 °C', '°C')).toBe(25);
  });

  it('machine fields that are differences say so, and a scenario in °F gets the right band', async () => {
    const { machineKind } = await import('../../sim/machines/index.ts');
    expect(machineKind('kiln')?.fields.band?.interval).toBe(true);
    expect(machineKind('induction-furnace')?.fields.band?.interval).toBe(true);
    expect(machineKind('kiln')?.fields.sp1?.interval).toBeUndefined();
    const { parseScenario } = await import('../../sim/line/parse.ts');
    const { readFileSync } = await import('node:fs');
    const original = readFileSync('scenarios/ceramic-after.yaml', 'utf8');
    expect(original).toContain('      sp1: 950 °C\n');
    expect(original).not.toMatch(/^\s+band:/m);
    const text = original.replace('      sp1: 950 °C\n', '      sp1: 1742 °F\n      band: 45 °F\n');
    const spec = parseScenario(text, 'fahrenheit.yaml');
    const kiln = spec.stations.find((s) => s.kind === 'kiln');
    expect(kiln?.params.band).toBeCloseTo(25, 9);
    expect(kiln?.params.sp1).toBeCloseTo(950, 9);
  });
});
