/** The registry of machine kinds, by scenario id. */
import type { MachineKind } from '../core/types.ts';
import { conveyor } from './conveyor.ts';
import { kiln } from './kiln.ts';
import { press } from './press.ts';
import { sink } from './sink.ts';
import { source } from './source.ts';

/** Every machine kind, in a stable order. */
export const MACHINE_KINDS: readonly MachineKind[] = [source, conveyor, press, kiln, sink];

const BY_ID: ReadonlyMap<string, MachineKind> = new Map(MACHINE_KINDS.map((k) => [k.kind, k]));

/** The kind with id `id`, or undefined. */
export function machineKind(id: string): MachineKind | undefined {
  return BY_ID.get(id);
}
