/**
 * Engineering units of the OPC UA face: the unit symbols of the machine kinds' field specs
 * mapped to UNECE Recommendation 20 common codes, as OPC UA EUInformation expects
 * (OPC 10000-8 §5.6.3). Symbols without a UNECE code keep their symbol and unitId -1.
 */
import { makeEUInformation, type EUInformation } from 'node-opcua';

/** UNECE common code, short name, long name of each unit symbol used by the machine kinds. */
const UNECE: Readonly<Record<string, readonly [code: string, short: string, long: string]>> = {
  s: ['SEC', 's', 'second'],
  h: ['HUR', 'h', 'hour'],
  m: ['MTR', 'm', 'metre'],
  mm: ['MMT', 'mm', 'millimetre'],
  'm/s': ['MTS', 'm/s', 'metre per second'],
  '°C': ['CEL', '°C', 'degree Celsius'],
  W: ['WTT', 'W', 'watt'],
  J: ['JOU', 'J', 'joule'],
  kN: ['B47', 'kN', 'kilonewton'],
  kg: ['KGM', 'kg', 'kilogram'],
  '1/h': ['H10', '1/h', 'reciprocal hour'],
  '1/min': ['C94', '1/min', 'reciprocal minute'],
  '1/s': ['C97', '1/s', 'reciprocal second'],
  '%': ['P1', '%', 'percent'],
  'J/kg': ['J2', 'J/kg', 'joule per kilogram'],
  'J/kg/K': ['B11', 'J/(kg·K)', 'joule per kilogram kelvin'],
  'W/K': ['D52', 'W/K', 'watt per kelvin'],
  pcs: ['H87', 'pcs', 'piece'],
};

const NO_CODE = -1;

/**
 * EUInformation for a field unit symbol; null for dimensionless fields (unit ''). Units without
 * a UNECE code (`tick`, `°C·s`, `1/km`) get unitId -1 and their symbol as display name.
 */
export function euInformation(unit: string): EUInformation | null {
  let eu = shared.get(unit);
  if (eu === undefined) {
    eu = makeEU(unit);
    shared.set(unit, eu);
  }
  return eu;
}

/** one EUInformation per unit symbol, shared by every variable of that unit (a property value nobody writes) */
const shared = new Map<string, EUInformation | null>();

function makeEU(unit: string): EUInformation | null {
  if (unit === '') return null;
  const known = UNECE[unit];
  if (known !== undefined) return makeEUInformation(known[0], known[1], known[2]);
  // no UNECE code: the symbol stays readable, unitId -1 says "not in the table" (OPC 10000-8 §5.6.3)
  const eu = makeEUInformation('', unit, unit === 'tick' ? 'simulation tick (the line dt, 1 ms by default)' : unit);
  eu.unitId = NO_CODE;
  return eu;
}
