/**
 * `GET /api/history…`: the historian (historian.ts) over REST, for trend screens and gateways
 * that backfill. Every role may read it, as it may read the event log.
 *
 * - `GET /api/history`: the store, retention, counters and the recorded tags (name, unit, description).
 * - `GET /api/history?tag=kiln.temp1&from=T&to=T&limit=N&order=asc|desc`: one tag's stored values
 *   `{ms, simS, v}` (a value is stored when it changes and at least once a minute while it holds);
 *   T is wall time, ms since the epoch or an ISO 8601 date; `next` pages on (pass it as `from`, or
 *   as `to` with order=desc).
 * - `GET /api/history/events?from=T&to=T&after=SEQ&type=alarm&station=kiln&limit=N`: stored events, by seq.
 */
import type { ServerResponse } from 'node:http';
import { HistoryBusy, type Historian } from './historian.ts';
import type { Refusal } from './http-guard.ts';

/** rows one request returns by default */
const DEFAULT_LIMIT = 1000;
/** rows one request returns at most */
export const MAX_HISTORY_PAGE = 10_000;

type Send = (res: ServerResponse, status: number, body: unknown) => void;
type Refuse = (res: ServerResponse, r: Refusal) => void;

/** A wall time from a query parameter: ms since the epoch or an ISO 8601 date; undefined: absent; null: bad. */
function timeParam(raw: string | null): number | undefined | null {
  if (raw === null || raw === '') return undefined;
  const n = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : Date.parse(raw);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Answers `GET /api/history` and `GET /api/history/events`; too many reads waiting: 429. */
export async function historyRoute(res: ServerResponse, url: URL, h: Historian | undefined, send: Send, refuse: Refuse): Promise<void> {
  try {
    await answer(res, url, h, send, refuse);
  } catch (e) {
    if (!(e instanceof HistoryBusy)) throw e;
    res.setHeader('retry-after', '1');
    refuse(res, { status: 429, code: 'HISTORY_BUSY', message: e.message });
  }
}

async function answer(res: ServerResponse, url: URL, h: Historian | undefined, send: Send, refuse: Refuse): Promise<void> {
  if (h === undefined) return refuse(res, { status: 404, code: 'NO_HISTORIAN', message: 'this host runs no historian (serve --historian off)' });
  const q = url.searchParams;
  const from = timeParam(q.get('from'));
  const to = timeParam(q.get('to'));
  if (from === null) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `from=${(q.get('from') ?? '').slice(0, 40)} is not a wall time (ms since the epoch, or an ISO 8601 date)` });
  if (to === null) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `to=${(q.get('to') ?? '').slice(0, 40)} is not a wall time (ms since the epoch, or an ISO 8601 date)` });
  const limitRaw = q.get('limit');
  const limit = limitRaw === null ? DEFAULT_LIMIT : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
    return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `limit must be a whole number from 1 to ${MAX_HISTORY_PAGE}` });
  }
  const range = { ...(from !== undefined ? { fromMs: from } : {}), ...(to !== undefined ? { toMs: to } : {}) };
  // what the last second sampled is in the answer too
  await h.flush();
  if (url.pathname === '/api/history/events') {
    const afterRaw = q.get('after');
    const after = afterRaw === null ? undefined : Number(afterRaw);
    if (after !== undefined && (!Number.isInteger(after) || after < -1)) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'after must be an event seq (an integer ≥ -1)' });
    const type = q.get('type');
    const station = q.get('station');
    const events = await h.readEvents({ ...range, limit, ...(after !== undefined ? { afterSeq: after } : {}), ...(type !== null ? { type } : {}), ...(station !== null ? { station } : {}) });
    return send(res, 200, { events, next: events.length === limit ? (events[events.length - 1]?.seq ?? null) : null });
  }
  const tag = q.get('tag');
  if (tag === null) {
    return send(res, 200, { ...h.status(), tags: h.columns.map((c) => ({ name: c.name, unit: c.unit, description: c.description })) });
  }
  if (!h.has(tag)) return refuse(res, { status: 404, code: 'UNKNOWN_TAG', message: `the historian records no tag "${tag.slice(0, 100)}" (GET /api/history lists the tags)` });
  const order = q.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'order must be asc or desc' });
  const values = await h.readValues(tag, { ...range, limit, newestFirst: order === 'desc' });
  const col = h.columns.find((c) => c.name === tag);
  const last = values[values.length - 1];
  const next = values.length === limit && last !== undefined ? (order === 'asc' ? last.ms + 1 : last.ms - 1) : null;
  return send(res, 200, { tag, unit: col?.unit ?? '', description: col?.description ?? '', values, next });
}
