/**
 * Node `worker_threads` entry: serves a `SimEngine` to the parent thread through comlink.
 * Started by node-bootstrap.mjs (which registers the TypeScript loader first).
 */
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { SimEngine } from './engine.ts';

if (parentPort === null) throw new Error('node-entry.ts must run in a worker thread');
// setImmediate runs after pending port messages, so commands are served between slices.
Comlink.expose(new SimEngine({ defer: (fn) => setImmediate(fn) }), nodeEndpoint(parentPort));
