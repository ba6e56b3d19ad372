/** A group whose static meshes are merged per material once its children have mounted (see static-merge.ts). */
import { useLayoutEffect, useRef, type ReactNode } from 'react';
import type { Group } from 'three';
import { mergeStatic } from './static-merge.ts';

/**
 * Children are mounted once and never remounted (the stations of one line); a child mounted
 * later is drawn as it is, unmerged.
 */
export function StaticMerge({ enabled = true, children }: { enabled?: boolean; children: ReactNode }): React.JSX.Element {
  const root = useRef<Group>(null);
  useLayoutEffect(() => {
    const g = root.current;
    if (g === null || !enabled) return;
    return mergeStatic(g);
  }, [enabled]);
  return <group ref={root}>{children}</group>;
}
