/**
 * Unit conversion for scenario values. A value is a bare number (already in the field's unit)
 * or a string "<number> <unit>", converted to the field's unit. Units are parsed into a
 * dimension vector and a scale, so compound symbols (`m/min`, `°C·s`, `1/km`, `kWh`) work
 * without listing each one, and a value of the wrong dimension is caught.
 */

/**
 * Exponents of the base dimensions, in this order: time [s], length [m], mass [kg],
 * temperature [K], electric current [A], angle [rad], simulation tick. Counts (pieces, parts,
 * images) are dimensionless, so `pcs/h` is a rate like `1/h`.
 */
export type Dims = readonly [number, number, number, number, number, number, number];

/** A parsed unit: value_in_base = value × factor + offset. */
export interface Unit {
  dims: Dims;
  factor: number;
  /** non-zero only for a lone affine temperature (°C, °F) */
  offset: number;
}

const DIM_SYMBOLS = ['s', 'm', 'kg', 'K', 'A', 'rad', 'tick'] as const;

const d = (t = 0, l = 0, m = 0, k = 0, a = 0, r = 0, tick = 0): Dims => [t, l, m, k, a, r, tick];
const NONE = d();
const POWER = d(-3, 2, 1);
const ENERGY = d(-2, 2, 1);

interface BaseUnit {
  dims: Dims;
  factor: number;
  /** affine offset to kelvin, used only when the unit stands alone */
  offset?: number;
  /** accepts SI prefixes (k, M, m, µ …) */
  prefix?: boolean;
}

const CELSIUS: BaseUnit = { dims: d(0, 0, 0, 1), factor: 1, offset: 273.15 };
const FAHRENHEIT: BaseUnit = { dims: d(0, 0, 0, 1), factor: 5 / 9, offset: (459.67 * 5) / 9 };
const COUNT: BaseUnit = { dims: NONE, factor: 1 };

const BASE: ReadonlyMap<string, BaseUnit> = new Map<string, BaseUnit>([
  ['s', { dims: d(1), factor: 1, prefix: true }],
  ['min', { dims: d(1), factor: 60 }],
  ['h', { dims: d(1), factor: 3600 }],
  ['d', { dims: d(1), factor: 86400 }],
  ['tick', { dims: d(0, 0, 0, 0, 0, 0, 1), factor: 1 }],
  ['m', { dims: d(0, 1), factor: 1, prefix: true }],
  ['g', { dims: d(0, 0, 1), factor: 1e-3, prefix: true }],
  ['t', { dims: d(0, 0, 1), factor: 1000 }],
  ['K', { dims: d(0, 0, 0, 1), factor: 1, prefix: true }],
  ['°C', CELSIUS],
  ['degC', CELSIUS],
  ['C', CELSIUS],
  ['℃', CELSIUS],
  ['°F', FAHRENHEIT],
  ['degF', FAHRENHEIT],
  ['℉', FAHRENHEIT],
  ['W', { dims: POWER, factor: 1, prefix: true }],
  ['J', { dims: ENERGY, factor: 1, prefix: true }],
  ['Wh', { dims: ENERGY, factor: 3600, prefix: true }],
  ['N', { dims: d(-2, 1, 1), factor: 1, prefix: true }],
  ['Pa', { dims: d(-2, -1, 1), factor: 1, prefix: true }],
  ['bar', { dims: d(-2, -1, 1), factor: 1e5, prefix: true }],
  ['Hz', { dims: d(-1), factor: 1, prefix: true }],
  ['rpm', { dims: d(-1), factor: 1 / 60 }],
  ['A', { dims: d(0, 0, 0, 0, 1), factor: 1, prefix: true }],
  ['V', { dims: d(-3, 2, 1, 0, -1), factor: 1, prefix: true }],
  ['L', { dims: d(0, 3), factor: 1e-3, prefix: true }],
  ['l', { dims: d(0, 3), factor: 1e-3, prefix: true }],
  ['rad', { dims: d(0, 0, 0, 0, 0, 1), factor: 1, prefix: true }],
  ['deg', { dims: d(0, 0, 0, 0, 0, 1), factor: Math.PI / 180 }],
  ['°', { dims: d(0, 0, 0, 0, 0, 1), factor: Math.PI / 180 }],
  ['%', { dims: NONE, factor: 0.01 }],
  ['ppm', { dims: NONE, factor: 1e-6 }],
  ['1', COUNT],
  ['pcs', COUNT],
  ['pc', COUNT],
  ['pieces', COUNT],
  ['piece', COUNT],
  ['parts', COUNT],
  ['part', COUNT],
  ['images', COUNT],
  ['image', COUNT],
  ['items', COUNT],
  ['item', COUNT],
]);

const PREFIX: ReadonlyMap<string, number> = new Map([
  ['n', 1e-9], ['µ', 1e-6], ['u', 1e-6], ['m', 1e-3], ['c', 1e-2], ['k', 1e3], ['M', 1e6], ['G', 1e9],
]);

/**
 * A number with an optional unit after it: "12 s", "-0.5m/s", "1e3 mm", "90°". Greedy and
 * anchored, so a long line costs linear time.
 */
export const QUANTITY_PATTERN = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(\S(?:.*\S)?)?\s*$/;

const MAX_UNIT_LENGTH = 40;
const SUPERSCRIPT: Readonly<Record<string, number>> = { '²': 2, '³': 3 };
const cache = new Map<string, Unit | null>();

function factorTerm(term: string): { base: BaseUnit; scale: number } | undefined {
  const direct = BASE.get(term);
  if (direct !== undefined) return { base: direct, scale: 1 };
  for (const [p, scale] of PREFIX) {
    if (!term.startsWith(p)) continue;
    const base = BASE.get(term.slice(p.length));
    if (base?.prefix === true) return { base, scale };
  }
  return undefined;
}

/** One factor of a compound unit, with an optional exponent: `m`, `m2`, `m^2`, `s^-1`, `m²`. */
function parseTerm(raw: string): { dims: Dims; factor: number; offset: number } | undefined {
  let term = raw;
  let exp = 1;
  const sup = SUPERSCRIPT[term.slice(-1)];
  const pow = /^(.*?[^\d^-])\^?(-?\d+)$/.exec(term);
  if (sup !== undefined) {
    exp = sup;
    term = term.slice(0, -1);
  } else if (pow !== null && BASE.get(term) === undefined) {
    term = pow[1] ?? '';
    exp = Number(pow[2]);
  }
  const found = factorTerm(term);
  if (found === undefined || exp === 0) return undefined;
  const dims = found.base.dims.map((x) => x * exp) as unknown as Dims;
  return { dims, factor: (found.base.factor * found.scale) ** exp, offset: exp === 1 ? (found.base.offset ?? 0) : 0 };
}

/**
 * Parses a unit symbol. Factors are joined by `·`, `*` or `⋅` and divided by `/`, read left
 * to right (`m/s/s` is m/s²); a leading `/` means "per" (`/h`). Returns undefined for an
 * unknown symbol. '' is dimensionless.
 */
export function parseUnit(symbol: string): Unit | undefined {
  const key = symbol.trim().replace(/μ/g, 'µ');
  // No real unit is this long; the cap keeps hostile input from costing quadratic time.
  if (key.length > MAX_UNIT_LENGTH) return undefined;
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  const unit = parseUncached(key);
  if (cache.size < 1000) cache.set(key, unit ?? null);
  return unit;
}

function parseUncached(key: string): Unit | undefined {
  if (key === '') return { dims: NONE, factor: 1, offset: 0 };
  const tokens = key.split(/\s*([/·*⋅])\s*/);
  const dims = [0, 0, 0, 0, 0, 0, 0];
  let factor = 1;
  let offset = 0;
  let terms = 0;
  for (let k = 0; k < tokens.length; k += 2) {
    const text = tokens[k] ?? '';
    const divide = k > 0 && tokens[k - 1] === '/';
    if (text === '' && k === 0 && tokens.length > 1 && tokens[1] === '/') continue;
    const t = parseTerm(text);
    if (t === undefined) return undefined;
    const sign = divide ? -1 : 1;
    t.dims.forEach((x, j) => (dims[j] = (dims[j] ?? 0) + sign * x));
    factor = divide ? factor / t.factor : factor * t.factor;
    offset = t.offset;
    terms++;
  }
  // An offset means "absolute temperature" only for a lone °C or °F; in °C·s it is an interval.
  return { dims: dims as unknown as Dims, factor, offset: terms === 1 && tokens.length === 1 ? offset : 0 };
}

const DIM_NAMES: ReadonlyMap<string, string> = new Map([
  [NONE.join(), 'dimensionless number'],
  [d(1).join(), 'time'],
  [d(0, 1).join(), 'length'],
  [d(-1, 1).join(), 'speed'],
  [d(-2, 1).join(), 'acceleration'],
  [d(0, 0, 1).join(), 'mass'],
  [d(0, 0, 0, 1).join(), 'temperature'],
  [d(1, 0, 0, 1).join(), 'temperature × time'],
  [POWER.join(), 'power'],
  [ENERGY.join(), 'energy'],
  [d(-2, 1, 1).join(), 'force'],
  [d(-2, -1, 1).join(), 'pressure'],
  [d(-1).join(), 'rate (count per time)'],
  [d(0, -1).join(), 'count per length'],
  [d(0, 3).join(), 'volume'],
  [d(-1, 3).join(), 'volume flow'],
  [d(0, 0, 0, 0, 0, 1).join(), 'angle'],
  [d(0, 0, 0, 0, 0, 0, 1).join(), 'tick count'],
]);

/** A plain name for a unit's dimension, e.g. "time" or "speed"; SI base symbols otherwise. */
export function dimensionName(u: Unit): string {
  const named = DIM_NAMES.get(u.dims.join());
  if (named !== undefined) return named;
  return u.dims.map((x, j) => (x === 0 ? '' : `${DIM_SYMBOLS[j]}${x === 1 ? '' : `^${x}`}`)).filter((s) => s !== '').join('·');
}

/** Every plain symbol the converter knows (prefixed and compound forms are derived). */
export function knownUnitSymbols(): string[] {
  return [...BASE.keys()];
}

/** Symbols with the same dimension as `u`, for "expected a time like s, min, h". */
function examplesFor(u: Unit, own: string): string[] {
  const out = own === '' ? [] : [own];
  for (const [sym, b] of BASE) {
    if (out.length >= 4) break;
    if (sym !== own && sym !== '1' && b.dims.join() === u.dims.join()) out.push(sym);
  }
  return out;
}

/** Formats a number in a unit for messages: `0 m/s`, `1e-6 s`, `0.5` (dimensionless). */
export function formatQuantity(value: number, unit: string): string {
  const n = Number.isFinite(value) ? String(Number(value.toPrecision(12))) : String(value);
  return unit === '' ? n : `${n} ${unit}`;
}

/** Result of converting a scenario value into a field's unit. */
export type Converted =
  | { ok: true; value: number }
  | { ok: false; code: 'BAD_UNIT' | 'SCENARIO_SCHEMA'; message: string };

/** Splits a quantity string into its number and unit, or undefined if it is not one. */
export function splitQuantity(text: string): { value: number; unit: string } | undefined {
  const m = QUANTITY_PATTERN.exec(text);
  if (m === null) return undefined;
  return { value: Number(m[1]), unit: m[2] ?? '' };
}

/**
 * Converts a scenario value to `fieldUnit`. A number is taken in the field's unit; a string
 * "<number> <unit>" is converted (temperatures affinely, unless the field is an `interval`, a
 * difference of temperatures: 45 °F of band is 25 °C of band). The result may be non-finite
 * when the input is huge; range checks are the caller's.
 */
export function toFieldUnit(raw: number | string, fieldUnit: string, interval = false): Converted {
  if (typeof raw === 'number') return { ok: true, value: raw };
  const q = splitQuantity(raw);
  if (q === undefined) {
    return { ok: false, code: 'SCENARIO_SCHEMA', message: `${JSON.stringify(raw)} is not a quantity: expected a number or "<number> <unit>" in ${describeUnit(fieldUnit)}` };
  }
  if (q.unit === '' || q.unit === fieldUnit) return { ok: true, value: q.value };
  const to = parseUnit(fieldUnit);
  const from = parseUnit(q.unit);
  if (to === undefined) {
    return { ok: false, code: 'BAD_UNIT', message: `this field's unit "${fieldUnit}" cannot be converted to; give a bare number in ${fieldUnit}` };
  }
  if (from === undefined) {
    return { ok: false, code: 'BAD_UNIT', message: `unknown unit "${q.unit}" in ${JSON.stringify(raw)}; expected ${describeUnit(fieldUnit)}` };
  }
  if (from.dims.join() !== to.dims.join()) {
    return { ok: false, code: 'BAD_UNIT', message: `${JSON.stringify(raw)} is a ${dimensionName(from)}, but this field expects ${describeUnit(fieldUnit)}` };
  }
  if (from.factor === to.factor && (interval || from.offset === to.offset)) return { ok: true, value: q.value };
  const value = interval ? (q.value * from.factor) / to.factor : (q.value * from.factor + from.offset - to.offset) / to.factor;
  // Scale factors like 1e-3 are inexact in binary; 15 digits drop the noise (1.2000000000000002 → 1.2).
  return { ok: true, value: Number.isFinite(value) ? Number(value.toPrecision(15)) : value };
}

/** "a time in s (or ms, min, h)" for messages. */
export function describeUnit(fieldUnit: string): string {
  const u = parseUnit(fieldUnit);
  if (u === undefined) return fieldUnit === '' ? 'a plain number' : `a value in ${fieldUnit}`;
  if (fieldUnit === '') return 'a plain number (or %)';
  const others = examplesFor(u, fieldUnit).filter((s) => s !== fieldUnit);
  return `a ${dimensionName(u)} in ${fieldUnit}${others.length > 0 ? ` (or ${others.join(', ')})` : ''}`;
}
