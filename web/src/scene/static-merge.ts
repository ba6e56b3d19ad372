/**
 * Fewer draw calls for the line: after the stations mount, every mesh that never moves is baked
 * into one merged mesh per material (the station models share a handful of materials), so the
 * renderer issues one draw per material instead of one per roller, leg and panel. A material
 * that changes colour (a glowing melt, a scrap bin) still works: its meshes merge into one
 * mesh with that same material.
 *
 * What moves is left alone: instanced meshes, hidden meshes, and any subtree whose root has
 * `userData.dynamic = true` (a press ram, a turning robot, kiln zone windows, the selection ring).
 * The originals stay in the tree, hidden and frozen, so clicking a station still hits them
 * (three's raycaster ignores `visible`).
 */
import { Matrix4, Mesh, type BufferGeometry, type InstancedMesh, type Material, type Object3D } from 'three';
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';

/** Marks an object whose transform changes after mount, so `mergeStatic` leaves its subtree alone. */
export const DYNAMIC = { dynamic: true } as const;

function isStaticMesh(o: Object3D): o is Mesh {
  const m = o as Mesh;
  return m.isMesh === true && (o as InstancedMesh).isInstancedMesh !== true && !Array.isArray(m.material) && o.visible;
}

/**
 * Merges the static meshes under `root` (in root's space) and hides the originals; returns the
 * function that undoes it. Meshes whose geometries cannot merge (different attributes) stay as
 * they are.
 */
export function mergeStatic(root: Object3D): () => void {
  root.updateWorldMatrix(true, true);
  const toRoot = new Matrix4().copy(root.matrixWorld).invert();
  const groups = new Map<Material, { meshes: Mesh[]; geos: BufferGeometry[] }>();
  const visit = (o: Object3D): void => {
    if (o.userData.dynamic === true || !o.visible) return;
    if (isStaticMesh(o)) {
      const mat = o.material as Material;
      let g = groups.get(mat);
      if (g === undefined) groups.set(mat, (g = { meshes: [], geos: [] }));
      const geo = o.geometry.clone();
      // all indexed or none: mergeGeometries refuses a mix
      if (geo.index === null) geo.setIndex(Array.from({ length: geo.getAttribute('position').count }, (_, k) => k));
      geo.applyMatrix4(new Matrix4().multiplyMatrices(toRoot, o.matrixWorld));
      // keep what lighting needs (no scene material has a texture); other attributes would make geometries unmergeable
      for (const name of Object.keys(geo.attributes)) if (name !== 'position' && name !== 'normal') geo.deleteAttribute(name);
      g.meshes.push(o);
      g.geos.push(geo);
    }
    for (const c of o.children) visit(c);
  };
  for (const c of root.children) visit(c);

  const merged: Mesh[] = [];
  const hidden: Mesh[] = [];
  for (const [mat, g] of groups) {
    const geo = g.geos.length > 1 ? mergeGeometries(g.geos, false) : null;
    for (const x of g.geos) x.dispose();
    if (geo === null) continue;
    const m = new Mesh(geo, mat);
    m.name = `merged:${mat.name || mat.uuid.slice(0, 8)}`;
    m.matrixAutoUpdate = false;
    merged.push(m);
    for (const o of g.meshes) {
      o.visible = false;
      // frozen: their world matrices stay valid for picking and cost nothing per frame
      o.matrixAutoUpdate = false;
      o.matrixWorldAutoUpdate = false;
      hidden.push(o);
    }
  }
  if (merged.length > 0) root.add(...merged);
  return () => {
    if (merged.length > 0) root.remove(...merged);
    for (const m of merged) m.geometry.dispose();
    for (const o of hidden) {
      o.visible = true;
      o.matrixAutoUpdate = true;
      o.matrixWorldAutoUpdate = true;
    }
  };
}
