/** Field specs that several machine kinds share, so their units and ranges stay the same. */
import type { FieldSpec } from '../core/types.ts';

/** Surrounding (or cold-charge) temperature [°C], a parameter. */
export function ambientField(description = 'surrounding temperature'): FieldSpec {
  return { unit: '°C', description, access: 'rw', default: 25, min: -40, max: 60 };
}

/** The read-only counters of an inspection station; `detection` starts at the nominal rate. */
export function inspectionCounters(nominalDetection: number): Record<'detection' | 'inspected' | 'rejected', FieldSpec> {
  return {
    detection: { unit: '', description: 'detection rate now', access: 'r', default: nominalDetection },
    inspected: { unit: '', description: 'parts inspected', access: 'r', default: 0, integer: true },
    rejected: { unit: '', description: 'parts flagged rejected', access: 'r', default: 0, integer: true },
  };
}
