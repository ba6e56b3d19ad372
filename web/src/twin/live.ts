/**
 * The latest `LiveFrame`, shared by the HMI (React re-renders through `useLive`) and the 3D
 * scene (reads `live.frame` inside `useFrame`, no re-render). A 60-line adapter, zustand-style.
 */
import { useSyncExternalStore } from 'react';
import type { LiveFrame } from './types.ts';

/** A holder of the latest frame with change listeners. */
export class LiveStore {
  frame: LiveFrame | null = null;
  /** wall time of the last update [ms], for animations between polls */
  at = 0;
  private readonly listeners = new Set<() => void>();

  set(frame: LiveFrame): void {
    this.frame = frame;
    this.at = performance.now();
    for (const l of this.listeners) l();
  }

  readonly subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  readonly get = (): LiveFrame | null => this.frame;
}

/** The latest frame, re-rendering on every update. */
export function useLive(store: LiveStore): LiveFrame | null {
  return useSyncExternalStore(store.subscribe, store.get);
}

/** Colour class of a PackML state: a stack light shows green, yellow or red. */
export type Lamp = 'green' | 'yellow' | 'red';

/** Which stack-light lamp a station shows. */
export function lampOf(state: string, fault: string): Lamp {
  if (fault !== 'none') return 'red';
  switch (state) {
    case 'Execute':
      return 'green';
    case 'Aborted':
    case 'Aborting':
    case 'Stopped':
    case 'Stopping':
    case 'Clearing':
    case 'Undefined':
      return 'red';
    default:
      return 'yellow';
  }
}

/** Scene colours of the lamps. */
export const LAMP_RGB: Readonly<Record<Lamp, number>> = { green: 0x2ecc40, yellow: 0xffc400, red: 0xff2d2d };
