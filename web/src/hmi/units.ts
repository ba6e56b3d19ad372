/**
 * Display units of the HMI: the simulation keeps SI (W, J, m/s), a plant floor reads kW, kWh
 * and m/min. A display unit is the unit shown and the factor from the SI value to it; values
 * typed into a faceplate are divided by the same factor before they are sent.
 */

/** A unit as shown: `shown = si × scale`. */
export interface DisplayUnit {
  unit: string;
  scale: number;
}

/** SI unit of a tag → how the HMI shows it. */
const DISPLAY: Readonly<Record<string, DisplayUnit>> = {
  W: { unit: 'kW', scale: 1e-3 },
  J: { unit: 'kWh', scale: 1 / 3.6e6 },
  'J/kg': { unit: 'kJ/kg', scale: 1e-3 },
  'J/kg/K': { unit: 'kJ/(kg·K)', scale: 1e-3 },
  'W/K': { unit: 'kW/K', scale: 1e-3 },
  'm/s': { unit: 'm/min', scale: 60 },
  '1/h': { unit: '/h', scale: 1 },
};

/** How a tag of SI unit `unit` is shown (unchanged when the HMI has no better unit for it). */
export function displayUnit(unit: string): DisplayUnit {
  return DISPLAY[unit] ?? { unit, scale: 1 };
}
