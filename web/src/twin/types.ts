/**
 * What the view needs from a running line, whichever way it runs: in a Web Worker in this page
 * (standalone) or in the host process (attached, over HTTP).
 */
import type { SimApi, SimState, StationState } from '../../../sim/worker/api.ts';
import type { LineInfo } from '../../../sim/worker/twin-view.ts';
import type { NetworkReport } from './network.ts';

export type { LineInfo, StationInfo, TagInfo, AlarmInfo } from '../../../sim/worker/twin-view.ts';
export type { StationState } from '../../../sim/worker/api.ts';

/** How the twin runs. */
export type TwinMode = 'standalone' | 'attached';

/** How the page gets the line's state: shared memory of its own worker, the host's live WebSocket, or REST polls while that is down. */
export type TwinTransport = 'worker' | 'websocket' | 'polling';

/** Line KPIs as `SimState` reports them. */
export type Kpis = SimState['kpis'];

/** One look at the live line, for the HMI (a few times a second). */
export interface LiveFrame {
  tick: number;
  /** [s] */
  simTimeS: number;
  running: boolean;
  stations: StationState[];
  /** tag values per station, in the order of `StationInfo.tags` */
  tags: Float64Array[];
  kpis: Kpis;
}

/** Arguments of a command, e.g. `{ field: 'sp1', value: 1180 }` for `set`. */
export type CommandArgs = NonNullable<Parameters<SimApi['send']>[0]['args']>;

/** Result of a command. */
export type CommandReply = { ok: true } | { ok: false; code: string; reason: string };

/** A running line the view can watch and command. */
/** A stored value of the host's historian: simulated time [s] and value (null: not a number). */
export interface HistoryPoint {
  simS: number;
  v: number | null;
}

export interface TwinSource {
  readonly mode: TwinMode;
  readonly line: LineInfo;
  /** parts the line can hold at most (instance buffer size) */
  readonly partCapacity: number;
  /** How the state arrives now. */
  transport(): TwinTransport;
  /** Fetches the current state. */
  poll(): Promise<LiveFrame>;
  /**
   * Writes part places [station, fraction, serial]… into `out`; returns how many. Standalone
   * reads shared memory live (call per frame); attached returns the last polled places.
   */
  readParts(out: Float64Array): number;
  /** Sends a PackML (or other station) command, e.g. `set` with `{ field, value }`. */
  send(target: string, command: string, args?: CommandArgs): Promise<CommandReply>;
  /** The network around the line now: the host's faces and links, or (standalone) the page's worker only. */
  network(): Promise<NetworkReport>;
  /**
   * The last `limit` stored values of `station.field` from the host's historian (oldest first,
   * at the simulated time they were sampled); absent when there is no historian (standalone).
   */
  history?(tag: string, limit: number): Promise<HistoryPoint[]>;
  close(): void;
}
