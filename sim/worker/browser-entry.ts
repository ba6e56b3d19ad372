/**
 * Browser Web Worker entry: serves a `SimEngine` to the page through comlink. Pacing blocks
 * in `Atomics.wait`, which Web Workers may do when the page is cross-origin isolated
 * (the dev server sends COOP/COEP headers).
 */
import * as Comlink from 'comlink';
import { SimEngine } from './engine.ts';

Comlink.expose(new SimEngine());
