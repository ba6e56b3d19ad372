/**
 * Zero-copy readers: a `World` laid over the writer's shared buffer, in another thread (the
 * renderer, the protocol faces). Read through `readConsistent()` so a half-written tick is
 * never seen; never call `step()` on a reader.
 */
import { World } from '../core/world.ts';
import { H } from '../core/world-layout.ts';
import { worldDef } from '../line/build.ts';
import { parseScenario } from '../line/parse.ts';
import type { SharedView } from './api.ts';

/** A read-only world over `view.buffer`. */
export function openReader(view: SharedView): World {
  const spec = parseScenario(view.text, view.file);
  return new World(worldDef(spec, view.seed), view.buffer);
}

/** The writer's current tick, read consistently. */
export function readTick(reader: World): number {
  return reader.readConsistent(() => reader.hdr[H.tick] ?? 0).value;
}
