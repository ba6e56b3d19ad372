/**
 * Types for comlink's Node adapter: the package ships `node-adapter.d.ts` beside the `.mjs`,
 * which NodeNext resolution does not pair up.
 */
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';

  /** What a `worker_threads` Worker or MessagePort offers. */
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void;
    on(type: string, listener: (value: unknown) => void): void;
    off(type: string, listener: (value: unknown) => void): void;
    start?: () => void;
  }

  /** Wraps a Node endpoint as a comlink endpoint. */
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
