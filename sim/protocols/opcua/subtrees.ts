/**
 * Station subtrees made when first needed. A station object (Objects/…/<line>/<station>) exists
 * from the start; what lies below it (its field variables, its PackML or Control object, its
 * Machinery, Machine Vision and Robotics parts, its history) is made the first time a client
 * or the face itself reaches it: a browse of the station, a browse path through it, a Read,
 * Write, Call or monitored item on a NodeId `<station>.…`, an event raised on the station (an
 * alarm, a vision result: node-opcua looks at the station's references to pass it on).
 * A client sees the same address space as if it had all been made at start; a line of 100,000
 * tags starts in a fraction of the time and memory, and pays for a station when it is used.
 *
 * `install` hooks the namespace and the station objects (seam.ts) once every part of the face
 * has added its steps; before it, nothing is made by looking.
 */
import { NodeIdType, type Namespace, type NodeId, type UAObject } from 'node-opcua';
import { buildOnFirstLook, buildOnMissingNodeId } from './seam.ts';

/** The station a node of the line belongs to, from the string part of its NodeId: `<station>.<path>` (station ids hold no '.'). */
export function stationOf(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

export class StationSubtrees {
  /** steps of the stations not made yet, in the order the face added them */
  private readonly pending = new Map<string, (() => void)[]>();
  private made = 0;

  /** stations whose subtree is made */
  get built(): number {
    return this.made;
  }

  /** Whether the station's subtree is still to be made. */
  isPending(station: string): boolean {
    return this.pending.has(station);
  }

  /** Declares a station whose subtree is made later (by `build`). */
  declare(station: string): void {
    if (!this.pending.has(station)) this.pending.set(station, []);
  }

  /** Adds a step to the station's subtree; runs it now if the station is made already. */
  add(station: string, step: () => void): void {
    const steps = this.pending.get(station);
    if (steps === undefined) step();
    else steps.push(step);
  }

  /**
   * Makes the station's subtree now (once; a station being made is not made again). A step
   * that fails does not stop the others; the first failure is thrown once all have run.
   */
  build(station: string): void {
    const steps = this.pending.get(station);
    if (steps === undefined) return;
    this.pending.delete(station);
    this.made++;
    let failure: unknown = null;
    for (const step of steps) {
      try {
        step();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== null) throw new Error(`OPC UA: station ${station}'s nodes: ${failure instanceof Error ? failure.message : String(failure)}`, { cause: failure });
  }

  /** `build` inside a client's request, which must not fail for it: a failure is reported. */
  private buildForClient(station: string): void {
    try {
      this.build(station);
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
    }
  }

  /** Makes every station's subtree now. */
  buildAll(): void {
    for (const station of [...this.pending.keys()]) this.build(station);
  }

  /** Makes nothing more: the stations not made yet stay as they are (the server is closing). */
  close(): void {
    this.pending.clear();
  }

  /** From now on, looking at a station or at a NodeId below it makes its subtree. */
  install(ns: Namespace, stations: ReadonlyMap<string, UAObject>): void {
    for (const [id, node] of stations) {
      if (this.pending.has(id)) buildOnFirstLook(node, () => this.buildForClient(id));
    }
    buildOnMissingNodeId(ns, (nodeId: NodeId) => {
      if (nodeId.identifierType !== NodeIdType.STRING) return false;
      const station = stationOf(String(nodeId.value));
      if (!this.pending.has(station)) return false;
      this.buildForClient(station);
      return true;
    });
  }
}
