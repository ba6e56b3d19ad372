// Worker-thread bootstrap: module hooks registered by the parent do not reach a worker on
// every Node version, so the worker registers the TypeScript loader itself, then loads the
// entry named in workerData.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
