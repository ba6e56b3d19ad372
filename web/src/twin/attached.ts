/**
 * Attached twin: the line runs in the `twinline serve` host; the page polls `GET /api/state`
 * (tags and part places included) and posts commands to `POST /api/commands`; the network
 * overlay reads `GET /api/network`.
 */
import type { CommandReply, LineInfo, LiveFrame, StationState, TwinSource, Kpis } from './types.ts';
import type { NetworkReport } from './network.ts';

interface HostState {
  tick: number;
  simTime: number;
  running: boolean;
  kpis: Kpis;
  stations: (StationState & { tags: number[] })[];
  parts: number[];
}

async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** Connects to the host that served this page. */
export async function startAttached(base = '/'): Promise<TwinSource> {
  const line = await getJson<LineInfo>(`${base}api/line`);
  let parts: number[] = [];
  return {
    mode: 'attached',
    line,
    partCapacity: 4096,
    async poll(): Promise<LiveFrame> {
      const s = await getJson<HostState>(`${base}api/state`);
      parts = s.parts;
      return {
        tick: s.tick, simTimeS: s.simTime, running: s.running, kpis: s.kpis,
        stations: s.stations,
        tags: s.stations.map((st) => Float64Array.from(st.tags)),
      };
    },
    readParts(out) {
      const n = Math.min(parts.length, out.length - (out.length % 3));
      for (let k = 0; k < n; k++) out[k] = parts[k]!;
      return Math.floor(n / 3);
    },
    async send(target, command): Promise<CommandReply> {
      const r = await fetch(`${base}api/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twinline-user': 'hmi@browser' },
        body: JSON.stringify({ target, command }),
      });
      const body = (await r.json()) as { ok?: boolean; error?: { code: string; message: string } };
      return body.ok === true ? { ok: true } : { ok: false, code: body.error?.code ?? `HTTP_${r.status}`, reason: body.error?.message ?? '' };
    },
    network: () => getJson<NetworkReport>(`${base}api/network`),
    close() {
      parts = [];
    },
  };
}
