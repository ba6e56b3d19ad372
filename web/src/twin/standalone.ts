/**
 * Standalone twin: the scenario's line runs in a Web Worker in this page (the same
 * `SimEngine` the host runs), served through comlink. The page reads tags and parts
 * zero-copy from the worker's `SharedArrayBuffer` (cross-origin isolation is required for it;
 * without it the page refreshes a copy on every poll).
 */
import * as Comlink from 'comlink';
import type { SimApi } from '../../../sim/worker/api.ts';
import { openTwinView, partCapacity, readPartPlaces, readTags } from '../../../sim/worker/twin-view.ts';
import { SCENARIOS, scenarioFile } from './scenarios.ts';
import type { LineText } from './lines.ts';
import type { CommandArgs, CommandReply, LiveFrame, TwinSource } from './types.ts';
import { STANDALONE_ROLE } from './roles.ts';
import type { NetworkReport } from './network.ts';

function spawnWorker(): { worker: Worker; api: Comlink.Remote<SimApi> } {
  const worker = new Worker(new URL('../../../sim/worker/browser-entry.ts', import.meta.url), { type: 'module', name: 'twinline-sim' });
  return { worker, api: Comlink.wrap<SimApi>(worker) };
}

/** Options of `startStandalone`. */
export interface StandaloneOptions {
  /**
   * Bench mode: instead of running in real time, step the paused line as fast as possible until
   * this many parts are in flight, then leave it paused (the scene keeps rendering them).
   */
  fillParts?: number;
}

/** Ticks per step while far from the fill target, and near it (overshoot stays ≤ ~1 part). */
const FILL_COARSE_TICKS = 300_000;
const FILL_FINE_TICKS = 1_000;

/**
 * Steps the paused line until its WIP reaches `parts`, so parts sit where the simulation puts
 * them; gives up after a bounded number of steps (a line that never holds that many).
 */
async function fillLine(api: Comlink.Remote<SimApi>, parts: number): Promise<void> {
  for (let k = 0; k < 20_000; k++) {
    const missing = parts - (await api.state()).kpis.wip;
    if (missing <= 0) return;
    await api.step(missing > 40 ? FILL_COARSE_TICKS : FILL_FINE_TICKS);
  }
}

/** A line loaded in its own worker, paused at tick 0: the view's source and the worker's API. */
export interface WorkerLine {
  source: TwinSource;
  api: Comlink.Remote<SimApi>;
  /** tick length [s] */
  dt: number;
}

/** Starts scenario `id` in a worker at 1× real time (or fills it and leaves it paused, see options). */
export async function startStandalone(id: string, opts: StandaloneOptions = {}): Promise<TwinSource> {
  const text = SCENARIOS[id];
  if (text === undefined) throw new Error(`unknown scenario "${id}"`);
  const { source, api } = await openWorkerLine({ id, text, file: scenarioFile(id) });
  if (opts.fillParts !== undefined) await fillLine(api, opts.fillParts);
  else {
    await api.setSpeed(1);
    await api.start();
  }
  return source;
}

/** Loads `what` in a new worker and leaves it paused; a line that does not load is an error with the loader's problems. */
export async function openWorkerLine(what: LineText): Promise<WorkerLine> {
  const { worker, api } = spawnWorker();
  const loaded = await api.load(what.text, what.file, {});
  if (!loaded.ok) {
    worker.terminate();
    throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  }
  const shared = await api.shared();
  const { reader, line } = openTwinView(shared);
  const isShared = typeof SharedArrayBuffer !== 'undefined' && shared.buffer instanceof SharedArrayBuffer;
  const bytes = new Uint8Array(reader.buffer);
  const tags = line.stations.map((s) => new Float64Array(s.tags.length));
  // messages to the worker (comlink calls), for the network overlay's only link
  let calls = 0;
  let lastCalls = 0;
  let lastAt = performance.now();
  // made once: readParts runs every frame and must not allocate a closure
  let partsOut: Float64Array = new Float64Array(0);
  const readInto = (): number => readPartPlaces(reader, partsOut);
  const source: TwinSource = {
    mode: 'standalone',
    line,
    partCapacity: partCapacity(reader),
    transport: () => 'worker',
    async poll(): Promise<LiveFrame> {
      calls += isShared ? 1 : 2;
      const st = await api.state();
      if (!isShared) bytes.set(new Uint8Array((await api.shared()).buffer));
      reader.readConsistent(() => line.stations.forEach((s, k) => readTags(reader, k, s.tags, tags[k]!)));
      return { tick: st.tick, simTimeS: st.simTimeS, running: st.running, stations: st.stations, tags: tags.map((a) => a.slice()), kpis: st.kpis };
    },
    readParts(out) {
      partsOut = out;
      return reader.readConsistent(readInto, 20).value;
    },
    async send(target, command, args?: CommandArgs): Promise<CommandReply> {
      calls++;
      // the page's HMI is a network-style source, so it names its role like every other
      return api.send({ target, command, ...(args !== undefined ? { args } : {}), source: 'hmi', principal: 'hmi@browser', role: STANDALONE_ROLE });
    },
    async network(): Promise<NetworkReport> {
      const now = performance.now();
      const rate = Math.round(((calls - lastCalls) / Math.max(0.001, (now - lastAt) / 1000)) * 100) / 100;
      lastCalls = calls;
      lastAt = now;
      return {
        rateWindowS: 1, unusualWindowS: 10, local: true, links: [], attack: null,
        faces: [{ id: 'worker', protocol: 'comlink', endpoint: 'Web Worker', ws: null, broker: null, clients: 1, ownClients: 0, rate, rates: { messages: rate }, rejected: 0, unusual: false, attack: false }],
      };
    },
    close() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
  return { source, api, dt: loaded.info.dt };
}

/**
 * Event-log hash of scenario `id` after `ticks` ticks stepped as fast as possible (the real-time
 * loop never runs), computed in a fresh worker so the running twin is not disturbed: the
 * browser's half of the determinism check.
 */
export async function standaloneHash(id: string, ticks: number, seed?: number): Promise<string> {
  const text = SCENARIOS[id];
  if (text === undefined) throw new Error(`unknown scenario "${id}"`);
  const { worker, api } = spawnWorker();
  try {
    const loaded = await api.load(text, scenarioFile(id), seed !== undefined ? { seed } : {});
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
    await api.step(ticks);
    return await api.eventLogHash();
  } finally {
    api[Comlink.releaseProxy]();
    worker.terminate();
  }
}
