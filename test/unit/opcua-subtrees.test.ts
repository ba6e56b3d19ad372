// The stations' nodes made when first needed (sim/protocols/opcua/subtrees.ts): on a real
// node-opcua address space with the companion nodesets, a line whose stations are made by
// looking shows the same nodes and references as one made whole at start, and every way of
// reaching a station's node (browse, child by name, browse path, NodeId) makes it.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  AddressSpace, BrowseDirection, NodeClass, generateAddressSpace, makeBrowsePath, nodesets, resolveNodeId,
  type BaseNode, type Namespace, type UAObject,
} from 'node-opcua';
import type { World } from '../../sim/core/world.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { buildLine, MIN_SAMPLING_MS, type LineLink, type LineNodes } from '../../sim/protocols/opcua/address-space.ts';
import { buildMachinery } from '../../sim/protocols/opcua/machinery.ts';
import { buildRobotics } from '../../sim/protocols/opcua/robotics.ts';
import { ValueSampler } from '../../sim/protocols/opcua/sampler.ts';
import { buildVision, type LineVision } from '../../sim/protocols/opcua/vision.ts';

const NODESETS = [nodesets.standard, nodesets.di, nodesets.ia, nodesets.machinery, nodesets.packML, nodesets.machineVision, nodesets.robotics];

interface Space {
  as: AddressSpace;
  ns: Namespace;
  nodes: LineNodes;
  world: World;
  vision: LineVision;
}

const spaces: AddressSpace[] = [];
afterEach(() => {
  for (const as of spaces.splice(0)) as.dispose();
});

/** The line of `file` in a fresh address space, its stations made by looking (`lazy`) or all at once. */
async function space(file: string, lazy: boolean): Promise<Space> {
  const as = AddressSpace.create();
  spaces.push(as);
  await generateAddressSpace(as, NODESETS);
  const ns = as.registerNamespace('urn:twinline:subtrees-test');
  const spec = parseScenario(readFileSync(file, 'utf8'), file);
  const world = createWorld(spec);
  const link: LineLink = {
    reader: world, sampler: new ValueSampler(world, MIN_SAMPLING_MS), send: () => Promise.resolve({ ok: false, code: 'NOT_ALLOWED', reason: 'test line' }),
    authorize: () => true, roleOf: () => 'operator', refuse: () => undefined, routed: { writes: new Set(), calls: new Set() },
  };
  const nodes = buildLine(ns, spec, link);
  buildMachinery(ns, spec, nodes, world);
  const vision = buildVision(ns, spec, nodes, link);
  buildRobotics(ns, spec, nodes, link);
  if (lazy) nodes.subtrees.install(ns, nodes.stations);
  else nodes.subtrees.buildAll();
  return { as, ns, nodes, world, vision };
}

/**
 * Every node of the line's namespace reached by browsing forward from the line, with its
 * references as a browse returns them (type, direction, target, BrowseName, NodeClass).
 */
function walk(s: Space): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue: BaseNode[] = [s.nodes.line];
  while (queue.length > 0) {
    const node = queue.shift()!;
    const key = node.nodeId.toString();
    if (seen.has(key)) continue;
    const refs = node.browseNode({
      nodeClassMask: 0, resultMask: 0x3f, browseDirection: BrowseDirection.Both, includeSubtypes: true, referenceTypeId: resolveNodeId('References'),
    });
    seen.set(key, refs.map((r) => `${r.referenceTypeId.toString()} ${r.isForward ? '>' : '<'} ${r.nodeId.toString()} ${r.browseName.toString()} ${NodeClass[r.nodeClass]}`).sort());
    for (const r of refs) {
      if (!r.isForward || r.nodeId.namespace !== s.ns.index) continue;
      const next = s.as.findNode(r.nodeId);
      if (next !== null && r.referenceTypeId.toString() !== 'ns=0;i=40') queue.push(next);
    }
  }
  return seen;
}

describe('station subtrees made when first needed', () => {
  it.each(['scenarios/ceramic-after.yaml', 'scenarios/steel-ball-after.yaml'])('show what a line made whole at start shows (%s)', async (file) => {
    const whole = await space(file, false);
    const lazy = await space(file, true);
    const stations = whole.nodes.stations.size;
    expect(whole.nodes.subtrees.built).toBe(stations);
    expect(lazy.nodes.subtrees.built).toBe(0);
    const seen = walk(lazy);
    expect(lazy.nodes.subtrees.built).toBe(stations);
    const expected = walk(whole);
    // the walk covers the stations' fields, PackML and companion parts: hundreds of nodes
    expect(expected.size).toBeGreaterThan(stations * 40);
    expect([...seen.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, refs] of expected) expect(seen.get(id), id).toEqual(refs);
  }, 60_000);

  it('makes a station when a NodeId below it is looked up, a child asked by name or a browse path goes through it', async () => {
    const s = await space('scenarios/ceramic-after.yaml', true);
    const n = s.ns.index;
    expect(s.as.findNode(`ns=${n};s=inspect.VisionSystem-VisionStateMachine-CurrentState`)?.browseName.name).toBe('CurrentState');
    expect(s.nodes.subtrees.built).toBe(1);
    // a NodeId that no station holds makes nothing
    expect(s.as.findNode(`ns=${n};s=nowhere.temp`)).toBeNull();
    expect(s.nodes.subtrees.built).toBe(1);
    const kiln = s.nodes.stations.get('kiln') as UAObject;
    expect(kiln.getChildByName('PackML')?.nodeId.toString()).toBe(`ns=${n};s=kiln.PackML`);
    expect(s.nodes.subtrees.built).toBe(2);
    const path = s.as.browsePath(makeBrowsePath(s.nodes.line.nodeId, `/${n}:glazer/${n}:PackML/${n}:State`));
    expect(path.targets?.[0]?.targetId.toString()).toBe(`ns=${n};s=glazer.PackML.State`);
    expect(s.nodes.subtrees.built).toBe(3);
  }, 60_000);

  it('raises vision results from a station nobody has looked at (the event, bubbling up, makes it)', async () => {
    const s = await space('scenarios/ceramic-after.yaml', true);
    const station = s.nodes.stations.get('inspect')!;
    const events: unknown[] = [];
    station.on('event', (e: unknown) => events.push(e));
    const k = s.world.indexOf('inspect');
    s.world.beginWrite();
    s.world.write(k, 'inspected', s.world.read(k, 'inspected') + 3);
    s.world.endWrite();
    expect(s.nodes.subtrees.built).toBe(0);
    s.vision.onEvents([]);
    expect(events).toHaveLength(3);
    expect(s.nodes.subtrees.built).toBe(1);
  }, 60_000);
});
