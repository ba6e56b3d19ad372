/** The registry of machine kinds, by scenario id. */
import type { MachineKind } from '../core/types.ts';
import { assembly } from './assembly.ts';
import { buffer } from './buffer.ts';
import { coiler } from './coiler.ts';
import { conveyor } from './conveyor.ts';
import { cooling } from './cooling.ts';
import { dryer } from './dryer.ts';
import { extruder } from './extruder.ts';
import { glazer } from './glazer.ts';
import { grinder } from './grinder.ts';
import { inductionFurnace } from './induction-furnace.ts';
import { manualInspection } from './manual-inspection.ts';
import { manualStation } from './manual-station.ts';
import { packer } from './packer.ts';
import { pouring } from './pouring.ts';
import { quench } from './quench.ts';
import { releaseTest } from './release-test.ts';
import { robot } from './robot.ts';
import { shakeout } from './shakeout.ts';
import { sorter } from './sorter.ts';
import { vision } from './vision.ts';
import { kiln } from './kiln.ts';
import { press } from './press.ts';
import { sink } from './sink.ts';
import { source } from './source.ts';

/** Every machine kind, in a stable order. */
export const MACHINE_KINDS: readonly MachineKind[] = [
  source, conveyor, buffer, press, dryer, glazer, kiln, inductionFurnace, pouring, cooling, shakeout, quench,
  extruder, coiler, grinder, assembly, vision, manualInspection, releaseTest, manualStation, robot, sorter, packer, sink,
];

const BY_ID: ReadonlyMap<string, MachineKind> = new Map(MACHINE_KINDS.map((k) => [k.kind, k]));

/** The kind with id `id`, or undefined. */
export function machineKind(id: string): MachineKind | undefined {
  return BY_ID.get(id);
}
