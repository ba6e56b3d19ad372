/**
 * The attached page's live feed: a WebSocket to the host's `/api/live` that delivers the
 * line's state at a steady rate (and drained events), reconnecting by itself. While it is
 * down, or in a browser without WebSocket, the attached twin polls `GET /api/state` instead.
 * A browser cannot set headers on a WebSocket handshake, so the page's credential rides in
 * the subprotocol list (`twinline.v1`, `bearer.<token>`); the host answers `twinline.v1`.
 */

/** A state message of the feed: the body of `GET /api/state`. */
export type LiveState<T> = T & { type: 'state' };

/** The feed as the attached twin uses it. */
export interface LiveFeed<T> {
  /** the newest state, or null before the first */
  latest(): T | null;
  /** wall time since the newest state arrived [ms]; Infinity before the first */
  ageMs(): number;
  /** states received so far */
  readonly frames: number;
  close(): void;
}

/** The `ws:`/`wss:` URL of `/api/live` on the host that served `base`. */
export function liveUrl(base: string, hz: number, where: Location = location): string {
  const u = new URL(`${base}api/live`, where.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('hz', String(hz));
  return u.href;
}

/** Opens the feed; `retryMs` is the wait before each reconnect, `protocols` the subprotocols offered. */
export function openLiveFeed<T>(url: string, retryMs = 1000, protocols: readonly string[] = []): LiveFeed<T> {
  let latest: T | null = null;
  let at = -Infinity;
  let frames = 0;
  let closed = false;
  let ws: WebSocket | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  const connect = (): void => {
    if (closed || typeof WebSocket === 'undefined') return;
    ws = new WebSocket(url, [...protocols]);
    ws.onmessage = (m: MessageEvent<string>) => {
      if (closed) return; // a frame already under way when the page closed the feed
      let msg: { type?: string } | null = null;
      try {
        msg = JSON.parse(m.data) as { type?: string };
      } catch {
        return; // a frame that is not JSON is skipped; the next one replaces it
      }
      if (msg?.type === 'state') {
        latest = msg as T;
        at = performance.now();
        frames++;
      }
    };
    // a refused handshake (a token the host does not take) is an error, then a close: retried
    ws.onerror = () => undefined;
    ws.onclose = () => {
      ws = null;
      if (!closed) retry = setTimeout(connect, retryMs);
    };
  };
  connect();
  return {
    latest: () => latest,
    ageMs: () => performance.now() - at,
    get frames() {
      return frames;
    },
    close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      ws?.close();
    },
  };
}
