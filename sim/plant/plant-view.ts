/**
 * The plant view `plant up` serves: the web app's plant page (`/?mode=plant`, web/src/PlantPage.tsx)
 * and `GET /api/plant`, on loopback only. What it shows comes from the cluster: one NATS
 * connection (every node known, so it rides out a node's death) subscribes to every line's
 * `twinline.<line>.events`, and keeps per line the latest `kpi` event, each station's PackML
 * state from the `state` events, and when the last event came; `plant.json` adds what runs
 * where. Plant totals aggregate the lines: parts, energy and parts per hour are sums, OEE the
 * mean of the lines that reported one.
 *
 * The page and the API are read-only and carry what any client of the cluster can read (the
 * cluster takes anyone on this machine); the server answers only requests addressed to its
 * loopback host (a page elsewhere cannot rebind a name to it) and only GET and HEAD.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { serveApp } from '../host/rest.ts';
import { subjectOf } from '../host/streams.ts';
import type { PlantRecord } from './plant-up.ts';

/** What the cluster said of one line. */
export interface LineFeed {
  /** the latest `kpi` event's data (simHours, good, shipped, oee, availability, …) */
  kpi: Record<string, number> | null;
  /** station → its PackML state, from the `state` events */
  stations: Record<string, string>;
  /** events seen */
  events: number;
  /** when the last one came [ms since the epoch] */
  lastEventAtMs: number | null;
}

/** One line in `GET /api/plant`. */
export interface PlantViewLine extends LineFeed {
  id: string;
  node: string;
  /** the plant host it runs on (null: beside the cluster) */
  machine: string | null;
  host: PlantRecord['lines'][number]['state'];
  restarts: number;
  url: string | null;
  /** good parts per simulated hour (from the latest KPIs) */
  goodPerHour: number | null;
}

/** The body of `GET /api/plant`. */
export interface PlantView {
  id: string;
  title: { en: string; zh: string };
  state: PlantRecord['state'];
  nats: { name: string; restarts: number; partitioned: boolean }[];
  /** the plant's hosts (plant-net.ts); `isolated`: cut off the plant network by a drill */
  hosts: { name: string; address: string; isolated: boolean }[];
  lines: PlantViewLine[];
  totals: { lines: number; up: number; good: number; shipped: number; energyKWh: number; goodPerHour: number; oee: number | null; reporting: number };
  /** the view's own connection to the cluster */
  cluster: { connected: boolean; server: string | null };
}

const emptyFeed = (): LineFeed => ({ kpi: null, stations: {}, events: 0, lastEventAtMs: null });

/** Keeps what the events of every line said (a line's events in, its feed out). */
export class PlantFeed {
  private readonly feeds = new Map<string, LineFeed>();

  constructor(lines: readonly string[]) {
    for (const l of lines) this.feeds.set(l, emptyFeed());
  }

  /** One event of `line` as JSON (as events.ndjson and the stream carry it); one that is not JSON is skipped. */
  onEvent(line: string, json: string, nowMs: number): void {
    const f = this.feeds.get(line);
    if (f === undefined) return;
    let e: { type?: unknown; station?: unknown; data?: unknown };
    try {
      e = JSON.parse(json) as typeof e;
    } catch {
      return;
    }
    f.events++;
    f.lastEventAtMs = nowMs;
    const data = e.data as Record<string, unknown> | null | undefined;
    if (e.type === 'kpi' && data !== null && typeof data === 'object') {
      const kpi: Record<string, number> = {};
      for (const [k, v] of Object.entries(data)) if (typeof v === 'number') kpi[k] = v;
      f.kpi = kpi;
    } else if (e.type === 'state' && typeof e.station === 'string' && typeof data?.to === 'string') {
      f.stations[e.station] = data.to;
    }
  }

  feed(line: string): LineFeed {
    return this.feeds.get(line) ?? emptyFeed();
  }
}

/** The plant view of `rec` with what `feed` holds. */
export function plantView(rec: PlantRecord, feed: PlantFeed, cluster: PlantView['cluster']): PlantView {
  const lines = rec.lines.map((l): PlantViewLine => {
    const f = feed.feed(l.id);
    const h = f.kpi?.simHours;
    const good = f.kpi?.good;
    return {
      id: l.id, node: l.node, machine: l.host ?? null, host: l.state, restarts: l.restarts, url: l.url, ...f, stations: { ...f.stations },
      goodPerHour: h !== undefined && good !== undefined && h > 0 ? good / h : null,
    };
  });
  const reporting = lines.filter((l) => l.kpi !== null);
  const sum = (f: (l: PlantViewLine) => number | undefined | null): number => lines.reduce((a, l) => a + (f(l) ?? 0), 0);
  const oees = reporting.map((l) => l.kpi?.oee).filter((x): x is number => x !== undefined);
  return {
    id: rec.id, title: rec.title, state: rec.state,
    nats: rec.nats.map((n) => ({ name: n.name, restarts: n.restarts, partitioned: n.partitioned })),
    hosts: (rec.hosts ?? []).map((h) => ({ name: h.name, address: h.address, isolated: h.isolated === true })),
    lines,
    totals: {
      lines: lines.length, up: lines.filter((l) => l.host === 'up').length, good: sum((l) => l.kpi?.good), shipped: sum((l) => l.kpi?.shipped),
      energyKWh: sum((l) => l.kpi?.energyKWh), goodPerHour: sum((l) => l.goodPerHour), oee: oees.length > 0 ? oees.reduce((a, b) => a + b, 0) / oees.length : null,
      reporting: reporting.length,
    },
    cluster,
  };
}

/** A running plant view. */
export interface PlantViewServer {
  /** `http://127.0.0.1:PORT/?mode=plant` */
  url: string;
  close(): Promise<void>;
}

/** Starts the view of the plant whose record `record()` gives, on 127.0.0.1:`port` (0: a free one). */
export async function startPlantView(record: () => PlantRecord, port: number): Promise<PlantViewServer> {
  const rec0 = record();
  const feed = new PlantFeed(rec0.lines.map((l) => l.id));
  const bySubject = new Map(rec0.lines.map((l) => [`${subjectOf(l.id)}.events`, l.id]));
  let nc: NatsConnection | null = null;
  let sub: Subscription | null = null;
  try {
    nc = await connect({ servers: rec0.nats.map((n) => n.nats), name: `twinline plant view ${rec0.id}`, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
    sub = nc.subscribe('twinline.*.events', {
      callback: (err, m) => {
        if (err !== null) return;
        const line = bySubject.get(m.subject);
        if (line !== undefined) feed.onEvent(line, new TextDecoder().decode(m.data), Date.now());
      },
    });
  } catch {
    // the view still shows what runs where; the cluster part stays empty
    nc = null;
  }
  let host = '';
  const server = createServer((req, res) => void handle(req, res));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const plain = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
      res.end(text);
    };
    if (req.headers.host !== host && req.headers.host !== host.replace('127.0.0.1', 'localhost')) return plain(421, `this plant view answers requests to ${host} only\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'the plant view is read-only: GET and HEAD\n');
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/api/plant') {
      const body = JSON.stringify(plantView(record(), feed, { connected: nc !== null && !nc.isClosed(), server: nc?.getServer() ?? null }));
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (url.pathname === '/' && url.searchParams.get('mode') !== 'plant') {
      res.writeHead(302, { location: `/?mode=plant${url.searchParams.has('lang') ? `&lang=${encodeURIComponent(url.searchParams.get('lang') ?? '')}` : ''}` });
      res.end();
      return;
    }
    if (!(await serveApp(req, res, url.pathname).catch(() => false))) plain(404, `no ${url.pathname} here: the plant view is at /?mode=plant, its data at /api/plant\n`);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const a = server.address();
  host = `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : port}`;
  return {
    url: `http://${host}/?mode=plant`,
    async close() {
      sub?.unsubscribe();
      await nc?.close().catch(() => undefined);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
