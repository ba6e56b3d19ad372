/**
 * Attached twin: the line runs in the `twinline serve` host. The page takes the line's state
 * (tags and part places included) from the host's live WebSocket `/api/live`, and polls
 * `GET /api/state` only while that feed is down or stale; commands go to `POST /api/commands`
 * the network overlay reads `GET /api/network` and trends backfill from `GET /api/history`. Every request carries the session's
 * credential; the host takes the sender's name and role from it.
 */
import type { CommandArgs, CommandReply, HistoryPoint, LineInfo, LiveFrame, StationState, TwinSource, Kpis } from './types.ts';
import type { NetworkReport } from './network.ts';
import { liveUrl, openLiveFeed } from './live-feed.ts';
import type { Session } from './session.ts';

/** state frames per second asked of the host (parts move this often) */
const LIVE_HZ = 20;
/** a feed state older than this is stale; the twin polls REST instead [ms] */
const STALE_MS = 1000;

interface HostState {
  tick: number;
  simTime: number;
  running: boolean;
  kpis: Kpis;
  stations: (StationState & { tags: number[] })[];
  parts: number[];
}

/** Connects to the session's host as the session's user. */
export async function startAttached(session: Session): Promise<TwinSource> {
  const getJson = async <T>(path: string): Promise<T> => {
    const r = await session.fetch(path);
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  };
  const line = await getJson<LineInfo>('api/line');
  const feed = openLiveFeed<HostState>(liveUrl(session.base, LIVE_HZ), 1000, session.protocols());
  let polled: number[] = [];
  const live = (): HostState | null => (feed.ageMs() < STALE_MS ? feed.latest() : null);
  return {
    mode: 'attached',
    line,
    partCapacity: 4096,
    transport: () => (live() !== null ? 'websocket' : 'polling'),
    async poll(): Promise<LiveFrame> {
      const s = live() ?? (await getJson<HostState>('api/state'));
      polled = s.parts;
      return {
        tick: s.tick, simTimeS: s.simTime, running: s.running, kpis: s.kpis,
        stations: s.stations,
        tags: s.stations.map((st) => Float64Array.from(st.tags)),
      };
    },
    readParts(out) {
      // the newest pushed places each frame; the last polled ones while the feed is down
      const parts = live()?.parts ?? polled;
      const n = Math.min(parts.length, out.length - (out.length % 3));
      for (let k = 0; k < n; k++) out[k] = parts[k]!;
      return Math.floor(n / 3);
    },
    async send(target, command, args?: CommandArgs): Promise<CommandReply> {
      const r = await session.fetch('api/commands', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ target, command, ...(args !== undefined ? { args } : {}) }),
      });
      const body = (await r.json().catch(() => ({}))) as { ok?: boolean; error?: { code: string; message: string } };
      return body.ok === true ? { ok: true } : { ok: false, code: body.error?.code ?? `HTTP_${r.status}`, reason: body.error?.message ?? `HTTP ${r.status}` };
    },
    network: () => getJson<NetworkReport>('api/network'),
    async history(tag, limit): Promise<HistoryPoint[]> {
      const page = await getJson<{ values: HistoryPoint[] }>(`api/history?tag=${encodeURIComponent(tag)}&order=desc&limit=${limit}`);
      return page.values.map((p) => ({ simS: p.simS, v: p.v })).reverse();
    },
    close() {
      feed.close();
      polled = [];
    },
  };
}
