/**
 * Station names over the 3D view as HTML, placed at each station's projected position every
 * frame. HTML rather than textures in the scene: the page's own font stack draws them (Chinese
 * included, with whatever CJK font the page has), they cost no draw call, and they stay sharp
 * at any zoom. Belts are left unnamed to keep the overview readable.
 */
import { useEffect, useMemo } from 'react';
import { useFrame, useThree } from '@react-three/fiber';
import { Vector3 } from 'three';
import type { Placed } from './layout.ts';

/** Height above the floor a name is shown at [m] (above the stack lights). */
const LABEL_Y = 3;

/** Props of `StationLabels`. */
export interface StationLabelsProps {
  placed: readonly Placed[];
  /** a station's name in the page's language */
  name(p: Placed): string;
}

/** The names of the stations, as DOM elements over the canvas. */
export function StationLabels({ placed, name }: StationLabelsProps): null {
  const gl = useThree((s) => s.gl);
  const camera = useThree((s) => s.camera);
  const shown = useMemo(() => placed.filter((p) => p.info.kind !== 'conveyor'), [placed]);
  const els = useMemo(() => shown.map(() => document.createElement('div')), [shown]);
  // per label: width, height [px]; and where each is drawn this frame: left, top [px]
  const sizes = useMemo(() => new Float32Array(2 * shown.length), [shown]);
  const at = useMemo(() => new Float32Array(2 * shown.length), [shown]);
  useEffect(() => {
    const parent = gl.domElement.parentElement;
    if (parent === null) return;
    const layer = document.createElement('div');
    layer.className = 'station-labels';
    els.forEach((el, k) => {
      const p = shown[k]!;
      el.className = 'station-label';
      el.dataset.stationLabel = p.info.id;
      el.textContent = name(p);
      layer.appendChild(el);
    });
    parent.appendChild(layer);
    // sizes read once per set of names (not per frame): the overlap check below needs them
    els.forEach((el, k) => {
      el.style.display = ''; // a label left out last frame measures 0
      sizes[2 * k] = el.offsetWidth;
      sizes[2 * k + 1] = el.offsetHeight;
    });
    return () => layer.remove();
  }, [gl, els, shown, name, sizes]);
  const v = useMemo(() => new Vector3(), []);
  useFrame(() => {
    const w = gl.domElement.clientWidth;
    const h = gl.domElement.clientHeight;
    for (let k = 0; k < els.length; k++) {
      const p = shown[k]!;
      const el = els[k]!;
      // every other name a little higher: neighbours on a long line overlap less
      v.set(p.x, LABEL_Y + (k % 2) * 0.9, p.z).project(camera);
      const bw = sizes[2 * k]!;
      const bh = sizes[2 * k + 1]!;
      const left = ((v.x + 1) / 2) * w - bw / 2;
      const top = ((1 - v.y) / 2) * h - bh;
      at[2 * k] = left;
      at[2 * k + 1] = top;
      let off = v.z > 1 || Math.abs(v.x) > 1.05 || Math.abs(v.y) > 1.05;
      // a name that would cover one already placed is left out (the line's order decides)
      for (let j = 0; j < k && !off; j++) {
        if (els[j]!.style.display === 'none') continue;
        off = left < at[2 * j]! + sizes[2 * j]! && at[2 * j]! < left + bw && top < at[2 * j + 1]! + sizes[2 * j + 1]! && at[2 * j + 1]! < top + bh;
      }
      el.style.display = off ? 'none' : '';
      if (!off) el.style.transform = `translate(${left.toFixed(1)}px, ${top.toFixed(1)}px)`;
    }
  });
  return null;
}
