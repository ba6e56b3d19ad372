/**
 * Host side of a Node worker: starts a worker thread that serves the `SimApi` and returns its
 * comlink remote. Node only (the browser twin creates a Web Worker from browser-entry.ts).
 */
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { TwinlineError } from '../core/errors.ts';
import { asyncApi, type AsyncApi, type LoadedInfo, type LoadOptions, type SimApi } from './api.ts';

/** A simulation served from a worker thread. */
export interface NodeSim {
  /** the comlink remote */
  remote: Comlink.Remote<SimApi>;
  /** the same, but every call fails (instead of hanging) if the worker dies */
  api: AsyncApi<SimApi>;
  /** the worker, for exit and error listeners */
  worker: Worker;
  /** Stops the worker; pending calls are abandoned. */
  terminate(): Promise<void>;
}

const BOOTSTRAP = new URL('./node-bootstrap.mjs', import.meta.url);
const ENTRY = new URL('./node-entry.ts', import.meta.url);

/** Starts a worker thread serving a `SimEngine`. */
export function spawnNodeSim(): NodeSim {
  const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY.href } });
  const remote = Comlink.wrap<SimApi>(nodeEndpoint(worker));
  let stopping = false;
  const died = new Promise<never>((_, fail) => {
    worker.once('error', (e) => fail(new Error(`simulation worker failed: ${e.message}`)));
    worker.once('exit', (code) => fail(new Error(`simulation worker exited (code ${code})`)));
  });
  // a rejection nobody awaits yet must not take the process down
  died.catch(() => undefined);
  const guard = <T>(p: Promise<T>): Promise<T> => (stopping ? p : Promise.race([p, died]));
  return {
    remote,
    api: asyncApi(remote, guard),
    worker,
    async terminate() {
      stopping = true;
      remote[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}

/** Loads a scenario into a remote simulation; a bad scenario throws its problems as a `TwinlineError`. */
export async function loadRemote(api: AsyncApi<SimApi>, text: string, file: string, opts: LoadOptions = {}): Promise<LoadedInfo> {
  const r = await api.load(text, file, opts);
  if (!r.ok) throw TwinlineError.of(r.problems);
  return r.info;
}
