/**
 * The network overlay: nodes for the PLCs, the host's faces and their clients above the line,
 * links between them as tubes whose thickness grows with the message rate, dots running along
 * each link at a speed that grows with it, and labels with endpoints and rates. A link or node
 * with unusual traffic, the range's attack traffic, or traffic an active security alert names, is red. Three InstancedMeshes (links, nodes, dots) plus a label sprite
 * per face; geometry is rebuilt when a new report arrives (about once a second), and only the
 * dots move per frame, allocation-free.
 */
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { BoxGeometry, Color, CylinderGeometry, Matrix4, MeshBasicMaterial, Quaternion, SphereGeometry, Vector3, type InstancedMesh, type Sprite } from 'three';
import type { Graph, GraphNode, LinkProtocol, NodeKind } from './network-graph.ts';
import { disposeLabel, labelSprite } from './label-sprite.ts';
import { DYNAMIC } from './static-merge.ts';
import type { NetworkDrawn, SceneHandle } from './handle.ts';

/** Link colours by protocol, and the colour of unusual traffic. */
export const PROTOCOL_RGB: Readonly<Record<LinkProtocol, number>> = { opcua: 0x58a6ff, mqtt: 0x3fb950, api: 0xd2a8ff, worker: 0x8b949e };
export const UNUSUAL_RGB = 0xff3b30;
const PLC_RGB = 0xc9d1d9;
const NODE_SIZE: Readonly<Record<NodeKind, number>> = { plc: 0.35, face: 1.1, clients: 0.8 };
/** dots per link */
const DOTS = 3;

/** Tube radius of a link carrying `rate` messages per second [m]. */
export function linkRadius(rate: number): number {
  return 0.03 + 0.05 * Math.log10(1 + Math.max(0, rate));
}

/** Dot speed along a link [link lengths per second]; 0 (no dots) when nothing flows. */
function dotSpeed(rate: number): number {
  return rate > 0 ? 0.2 + 0.3 * Math.log10(1 + rate) : 0;
}

function nodeColour(n: GraphNode): number {
  if (n.unusual || n.attack || n.alert === true) return UNUSUAL_RGB;
  if (n.kind === 'plc') return PLC_RGB;
  const p: LinkProtocol = n.id.startsWith('opcua') ? 'opcua' : n.id.startsWith('api') ? 'api' : n.id === 'worker' || n.id === 'page' ? 'worker' : 'mqtt';
  return PROTOCOL_RGB[p];
}

/** Draws `graph`; what it drew is recorded in `handle.network`. */
export function NetworkOverlay({ graph, handle }: { graph: Graph; handle: SceneHandle }): React.JSX.Element {
  const links = useRef<InstancedMesh>(null);
  const nodes = useRef<InstancedMesh>(null);
  const dots = useRef<InstancedMesh>(null);
  const L = graph.links.length;
  const N = graph.nodes.length;
  const res = useMemo(() => ({
    tube: new CylinderGeometry(1, 1, 1, 8, 1),
    box: new BoxGeometry(1, 1, 1),
    dot: new SphereGeometry(1, 8, 6),
    mat: new MeshBasicMaterial({ color: 0xffffff, toneMapped: false }),
    m: new Matrix4(), q: new Quaternion(), a: new Vector3(), b: new Vector3(), s: new Vector3(), up: new Vector3(0, 1, 0), c: new Color(),
  }), []);
  useEffect(() => () => {
    res.tube.dispose();
    res.box.dispose();
    res.dot.dispose();
    res.mat.dispose();
  }, [res]);
  // per link: endpoints [ax, ay, az, bx, by, bz], dot speed, dot size, phase (kept across reports)
  const flow = useMemo(() => ({ ends: new Float32Array(6 * L), speed: new Float32Array(L), size: new Float32Array(L), phase: new Float32Array(L) }), [L]);

  useLayoutEffect(() => {
    const lm = links.current;
    const nm = nodes.current;
    const dm = dots.current;
    if (lm === null || nm === null || dm === null) return;
    const { m, q, a, b, s, up, c } = res;
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const drawn: NetworkDrawn = { frames: 0, nodes: [], links: [] };
    graph.nodes.forEach((n, k) => {
      const size = NODE_SIZE[n.kind];
      m.makeScale(size, size, size).setPosition(n.x, n.y, n.z);
      nm.setMatrixAt(k, m);
      nm.setColorAt(k, c.setHex(nodeColour(n)));
      drawn.nodes.push({ id: n.id, kind: n.kind, unusual: n.unusual, attack: n.attack, alert: n.alert === true, colour: `#${c.getHexString()}` });
    });
    graph.links.forEach((l, k) => {
      const from = byId.get(l.from);
      const to = byId.get(l.to);
      if (from === undefined || to === undefined) return;
      a.set(from.x, from.y, from.z);
      b.set(to.x, to.y, to.z);
      const r = linkRadius(l.rate);
      const len = a.distanceTo(b);
      q.setFromUnitVectors(up, s.subVectors(b, a).normalize());
      m.compose(s.addVectors(a, b).multiplyScalar(0.5), q, b.set(r, len, r));
      lm.setMatrixAt(k, m);
      lm.setColorAt(k, c.setHex(l.unusual || l.attack || l.alert === true ? UNUSUAL_RGB : PROTOCOL_RGB[l.protocol]));
      for (let j = 0; j < DOTS; j++) dm.setColorAt(DOTS * k + j, c);
      flow.ends.set([from.x, from.y, from.z, to.x, to.y, to.z], 6 * k);
      flow.speed[k] = dotSpeed(l.rate);
      flow.size[k] = 1.6 * r + 0.06;
      drawn.links.push({ id: l.id, from: l.from, to: l.to, protocol: l.protocol, rate: l.rate, unusual: l.unusual, attack: l.attack, alert: l.alert === true, colour: `#${c.getHexString()}` });
    });
    for (const im of [lm, nm]) {
      im.instanceMatrix.needsUpdate = true;
      im.computeBoundingSphere();
    }
    for (const im of [lm, nm, dm]) if (im.instanceColor !== null) im.instanceColor.needsUpdate = true;
    handle.network = drawn;
    return () => {
      handle.network = null;
    };
  }, [graph, res, flow, handle]);

  // labels of the faces and their clients, reused while their text stays the same
  const cache = useRef(new Map<string, Sprite>());
  const labels = useMemo(() => {
    const out: { key: string; sprite: Sprite; n: GraphNode }[] = [];
    for (const n of graph.nodes) {
      // clients sit right above their face: its label already counts them
      if (n.kind !== 'face') continue;
      const red = n.unusual || n.attack || n.alert === true;
      const key = `${red ? 1 : 0}|${n.label.join('\n')}`;
      let sprite = cache.current.get(key);
      if (sprite === undefined) {
        sprite = labelSprite(n.label, red);
        cache.current.set(key, sprite);
      }
      out.push({ key, sprite, n });
    }
    return out;
  }, [graph]);
  useEffect(() => {
    const keep = new Set(labels.map((l) => l.key));
    for (const [key, sprite] of cache.current) {
      if (!keep.has(key)) {
        disposeLabel(sprite);
        cache.current.delete(key);
      }
    }
  }, [labels]);
  useEffect(() => {
    const c = cache.current;
    return () => {
      for (const s of c.values()) disposeLabel(s);
      c.clear();
    };
  }, []);

  useFrame((_, dt) => {
    const dm = dots.current;
    if (dm === null) return;
    const d = Math.min(dt, 0.1);
    const { ends, speed, size, phase } = flow;
    const m = res.m;
    for (let i = 0; i < L; i++) {
      phase[i] = (phase[i]! + d * speed[i]!) % 1;
      const sz = speed[i]! > 0 ? size[i]! : 0;
      const o = 6 * i;
      for (let k = 0; k < DOTS; k++) {
        const f = (phase[i]! + k / DOTS) % 1;
        m.makeScale(sz, sz, sz).setPosition(
          ends[o]! + (ends[o + 3]! - ends[o]!) * f,
          ends[o + 1]! + (ends[o + 4]! - ends[o + 1]!) * f,
          ends[o + 2]! + (ends[o + 5]! - ends[o + 2]!) * f,
        );
        dm.setMatrixAt(i * DOTS + k, m);
      }
    }
    dm.instanceMatrix.needsUpdate = true;
    if (handle.network !== null) handle.network.frames++;
  });

  return (
    <group name="network-overlay" userData={DYNAMIC}>
      <instancedMesh key={`l${L}`} ref={links} args={[res.tube, res.mat, Math.max(1, L)]} count={L} />
      <instancedMesh key={`n${N}`} ref={nodes} args={[res.box, res.mat, Math.max(1, N)]} count={N} />
      <instancedMesh key={`d${L}`} ref={dots} args={[res.dot, res.mat, Math.max(1, DOTS * L)]} count={DOTS * L} frustumCulled={false} />
      {labels.map(({ key, sprite, n }) => (
        <primitive key={key} object={sprite} position={[n.x, n.y + NODE_SIZE[n.kind] / 2 + 0.3, n.z]} />
      ))}
    </group>
  );
}
