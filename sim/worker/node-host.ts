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

/**
 * Makes calls fail once the worker has died instead of hanging. `guard(p)` settles as `p` does, or
 * rejects with the death's error if that comes first. It keeps a call only while it is pending:
 * racing each call against one long-lived "died" promise (`Promise.race([p, died])`) would leave a
 * reaction on `died` per call, holding every result ever returned (a host polling the state leaked
 * about a gigabyte an hour that way).
 */
export function deathGuard(): { guard: <T>(p: Promise<T>) => Promise<T>; die(e: Error): void; pending(): number } {
  const waiting = new Set<(e: Error) => void>();
  let dead: Error | null = null;
  return {
    guard: <T>(p: Promise<T>): Promise<T> => {
      if (dead !== null) return Promise.reject(dead);
      return new Promise<T>((resolve, reject) => {
        waiting.add(reject);
        p.then(
          (v) => {
            waiting.delete(reject);
            resolve(v);
          },
          (e: unknown) => {
            waiting.delete(reject);
            reject(e);
          },
        );
      });
    },
    die(e) {
      if (dead !== null) return;
      dead = e;
      for (const fail of waiting) fail(e);
      waiting.clear();
    },
    pending: () => waiting.size,
  };
}

/** Starts a worker thread serving a `SimEngine`. */
export function spawnNodeSim(): NodeSim {
  const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY.href } });
  const remote = Comlink.wrap<SimApi>(nodeEndpoint(worker));
  let stopping = false;
  const death = deathGuard();
  worker.once('error', (e) => death.die(new Error(`simulation worker failed: ${e.message}`)));
  worker.once('exit', (code) => death.die(new Error(`simulation worker exited (code ${code})`)));
  const guard = <T>(p: Promise<T>): Promise<T> => (stopping ? p : death.guard(p));
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
