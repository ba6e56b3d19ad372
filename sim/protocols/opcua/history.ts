/**
 * OPC UA Historical Access (Part 11) from the host's historian: every station variable the
 * historian records is a HistoricalDataNode (Historizing, the HistoryRead access level, and a
 * HasHistoricalConfiguration reference to one `HA Configuration` the line's variables share,
 * since they are all stored alike), and HistoryRead is answered from the database:
 *
 * - raw (ReadRawModifiedDetails, isReadModified false): start and end (end before start: newest
 *   first), start and a count, or end and a count (newest first). One answer holds at most
 *   MAX_HISTORY_VALUES values per node (or the client's numValuesPerNode); what is left comes with
 *   a continuation point that reads on from the database where the answer stopped (node-opcua's
 *   own continuation points page only what the first read returned, so a range longer than the
 *   limit was cut short without one). A session holds at most MAX_CONTINUATION_POINTS; a new one
 *   frees its oldest, as Part 4 allows.
 * - processed (ReadProcessedDetails): node-opcua's aggregates (Interpolative, Average, Minimum,
 *   Maximum, Count) over the same raw values. node-opcua computes them from one raw read, so a
 *   range holding more than MAX_HISTORY_VALUES raw values is refused with Bad_TooManyMatches
 *   rather than aggregated from part of it.
 *
 * Not offered: modified values (none are kept: history is never edited), at-time reads, event
 * history (events are in `GET /api/history/events`), and writing history. A value stored as not
 * finite comes back with a Bad status and a null value.
 */
import { randomBytes } from 'node:crypto';
import {
  AggregateFunction, DataType, DataValue, HistoryData, HistoryReadResult, ReadProcessedDetails, StatusCodes, Variant, addAggregateSupport,
  type AddressSpace, type ContinuationData, type ISessionContext, type IVariableHistorian, type Namespace, type ReadRawModifiedDetails, type StatusCode, type UAVariable,
} from 'node-opcua';
import { historicalLike } from './seam.ts';

/** What the face reads from the historian. */
export interface OpcuaHistory {
  /** the recorded tags, `station.field` */
  readonly columns: readonly { name: string }[];
  /** writes what waits, so a read includes the last samples */
  flush(): Promise<void>;
  readValues(tag: string, q: { fromMs?: number; toMs?: number; limit: number; newestFirst?: boolean }): Promise<{ ms: number; v: number | null }[]>;
}

/**
 * values one HistoryRead returns at most per node (a longer range is cut there: ask again from
 * the last timestamp); with HISTORY_LIMITS.maxNodesPerHistoryReadData nodes per request this
 * bounds what one request makes the server hold (about 500,000 values)
 */
export const MAX_HISTORY_VALUES = 10_000;
/** continuation points one session may hold (ServerCapabilities.MaxHistoryContinuationPoints) */
export const MAX_CONTINUATION_POINTS = 20;
/** how often a value that holds is stored (the HA Configuration's MaxTimeInterval) [ms] */
const MAX_TIME_INTERVAL_MS = 60_000;

const MIN_DATE = Date.UTC(1601, 0, 1);
/** OPC UA's DateTime.MinValue (or no date) stands for "not specified" */
function given(d: Date | null | undefined): number | undefined {
  if (d === null || d === undefined) return undefined;
  const t = d.getTime();
  return Number.isFinite(t) && t > MIN_DATE ? t : undefined;
}

function dataValueOf(ms: number, v: number | null, type: DataType): DataValue {
  const at = new Date(ms);
  if (v === null) return new DataValue({ sourceTimestamp: at, serverTimestamp: at, statusCode: StatusCodes.BadNoData });
  const value = type === DataType.Boolean ? new Variant({ dataType: type, value: v !== 0 })
    : type === DataType.Int32 ? new Variant({ dataType: type, value: Math.round(v) })
      : new Variant({ dataType: DataType.Double, value: v });
  return new DataValue({ value, sourceTimestamp: at, serverTimestamp: at, statusCode: StatusCodes.Good });
}

/** A variable's history: its tag and how its values read as DataValues. */
interface TagHistorian extends IVariableHistorian {
  readonly tag: string;
  readonly type: DataType;
}

/** Where a raw read goes on: the range left, its order, and how many values the client still wants. */
interface Cursor {
  historian: TagHistorian;
  fromMs: number | undefined;
  toMs: number | undefined;
  newestFirst: boolean;
  /** values per answer the client asked for (0: as many as the server gives) */
  perCall: number;
  /** values the request may still return (Infinity: all in the range) */
  remaining: number;
}

/** Open continuation points by session, oldest first (the session object is the key: they go with it). */
const cursors = new WeakMap<object, Map<string, Cursor>>();

type HistoryCallback = (err: Error | null, result?: HistoryReadResult) => void;
const answer = (statusCode: StatusCode, dataValues: DataValue[] = [], continuationPoint?: Buffer): HistoryReadResult =>
  new HistoryReadResult({ statusCode, ...(continuationPoint !== undefined ? { continuationPoint } : {}), historyData: new HistoryData({ dataValues }) });

/** The cursor a first raw read starts, or the status refusing it. */
function firstCursor(h: TagHistorian, d: ReadRawModifiedDetails): Cursor | HistoryReadResult {
  const from = given(d.startTime);
  const to = given(d.endTime);
  const n = d.numValuesPerNode ?? 0;
  const base = { historian: h, perCall: n };
  if (from === undefined && to === undefined) return answer(StatusCodes.BadHistoryOperationUnsupported);
  if (from === undefined) {
    // an end time and a count: the last n before it, newest first (a count is required then)
    if (n === 0) return answer(StatusCodes.BadHistoryOperationUnsupported);
    return { ...base, fromMs: undefined, toMs: to, newestFirst: true, remaining: n };
  }
  if (to === undefined) return { ...base, fromMs: from, toMs: undefined, newestFirst: false, remaining: n === 0 ? Infinity : n };
  return to < from
    ? { ...base, fromMs: to, toMs: from, newestFirst: true, remaining: Infinity }
    : { ...base, fromMs: from, toMs: to, newestFirst: false, remaining: Infinity };
}

/** One answer of a raw read from `c`, and the cursor after it when values are left. */
async function readPage(h: OpcuaHistory, c: Cursor): Promise<{ values: DataValue[]; next: Cursor | null }> {
  const limit = Math.min(c.perCall > 0 ? c.perCall : MAX_HISTORY_VALUES, MAX_HISTORY_VALUES, c.remaining);
  await h.flush();
  const rows = await h.readValues(c.historian.tag, {
    ...(c.fromMs !== undefined ? { fromMs: c.fromMs } : {}), ...(c.toMs !== undefined ? { toMs: c.toMs } : {}), limit: limit + 1, newestFirst: c.newestFirst,
  });
  const page = rows.slice(0, limit);
  const values = page.map((r) => dataValueOf(r.ms, r.v, c.historian.type));
  if (rows.length <= limit || c.remaining <= limit) return { values, next: null };
  // a tag has one value per millisecond at most (the store's key), so the next answer starts past the last
  const last = page[page.length - 1]!.ms;
  return { values, next: { ...c, remaining: c.remaining - limit, ...(c.newestFirst ? { toMs: last - 1 } : { fromMs: last + 1 }) } };
}

/**
 * The raw read of a historical variable (node-opcua's `_historyReadRaw`, replaced): pages from the
 * database with continuation points of this module's own.
 */
function historyReadRaw(h: OpcuaHistory) {
  return function (this: UAVariable, context: ISessionContext, d: ReadRawModifiedDetails, _indexRange: unknown, _encoding: unknown, cd: ContinuationData, callback: HistoryCallback): void {
    const historian = (this as unknown as { varHistorian: TagHistorian }).varHistorian;
    const session = (context.session ?? {}) as object;
    const open = cursors.get(session) ?? new Map<string, Cursor>();
    cursors.set(session, open);
    let cursor: Cursor;
    if (cd.continuationPoint !== null && cd.continuationPoint !== undefined && cd.continuationPoint.length > 0) {
      const key = cd.continuationPoint.toString('hex');
      const c = open.get(key);
      if (c === undefined || c.historian !== historian) {
        callback(null, answer(StatusCodes.BadContinuationPointInvalid));
        return;
      }
      open.delete(key);
      if (cd.releaseContinuationPoints === true) {
        callback(null, answer(StatusCodes.Good));
        return;
      }
      cursor = c;
    } else {
      if (cd.releaseContinuationPoints === true) {
        callback(null, answer(StatusCodes.Good)); // nothing held, nothing to free
        return;
      }
      const first = firstCursor(historian, d);
      if (first instanceof HistoryReadResult) {
        callback(null, first);
        return;
      }
      cursor = first;
    }
    readPage(h, cursor).then(({ values, next }) => {
      let cp: Buffer | undefined;
      if (next !== null) {
        while (open.size >= MAX_CONTINUATION_POINTS) open.delete(open.keys().next().value!);
        cp = randomBytes(16);
        open.set(cp.toString('hex'), next);
      }
      callback(null, answer(values.length === 0 && cp === undefined ? StatusCodes.GoodNoData : StatusCodes.Good, values, cp));
    }, (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))));
  };
}

/**
 * A historical variable's `_historyRead`, wrapped: a processed read over more raw values than one
 * raw read returns is refused (node-opcua aggregates one raw read) instead of computed from part.
 */
function historyReadChecked(h: OpcuaHistory, inner: (...a: unknown[]) => void) {
  return function (this: UAVariable, context: ISessionContext, d: unknown, indexRange: unknown, encoding: unknown, cd: ContinuationData, callback: HistoryCallback): void {
    if (!(d instanceof ReadProcessedDetails)) {
      inner.call(this, context, d, indexRange, encoding, cd, callback);
      return;
    }
    const historian = (this as unknown as { varHistorian: TagHistorian }).varHistorian;
    const from = given(d.startTime);
    const to = given(d.endTime);
    const lo = from !== undefined && to !== undefined ? Math.min(from, to) : from ?? to;
    const hi = from !== undefined && to !== undefined ? Math.max(from, to) : undefined;
    h.flush()
      .then(() => h.readValues(historian.tag, { ...(lo !== undefined ? { fromMs: lo } : {}), ...(hi !== undefined ? { toMs: hi } : {}), limit: MAX_HISTORY_VALUES + 1 }))
      .then((rows) => {
        if (rows.length > MAX_HISTORY_VALUES) callback(null, answer(StatusCodes.BadTooManyMatches));
        else inner.call(this, context, d, indexRange, encoding, cd, callback);
      }, (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))));
  };
}

/**
 * Makes the recorded station variables historical and the server a history server; returns how
 * many variables were made historical.
 */
export function installHistory(as: AddressSpace, ns: Namespace, h: OpcuaHistory): number {
  addAggregateSupport(as, [AggregateFunction.Interpolative, AggregateFunction.Average, AggregateFunction.Minimum, AggregateFunction.Maximum, AggregateFunction.Count]);
  // say what the server does: data history, no event history, a bounded answer
  const caps = as.rootFolder.objects.server.serverCapabilities.getChildByName('HistoryServerCapabilities');
  (caps?.getChildByName('AccessHistoryEventsCapability') as UAVariable | null | undefined)?.setValueFromSource({ dataType: DataType.Boolean, value: false });
  (caps?.getChildByName('MaxReturnDataValues') as UAVariable | null | undefined)?.setValueFromSource({ dataType: DataType.UInt32, value: MAX_HISTORY_VALUES });
  (as.rootFolder.objects.server.serverCapabilities.getChildByName('MaxHistoryContinuationPoints') as UAVariable | null | undefined)
    ?.setValueFromSource({ dataType: DataType.UInt16, value: MAX_CONTINUATION_POINTS });
  let n = 0;
  let model: UAVariable | null = null;
  for (const c of h.columns) {
    const node = as.findNode(`ns=${ns.index};s=${c.name}`) as UAVariable | null;
    if (node === null || node.nodeClass !== 2) continue; // NodeClass.Variable
    const type = node.getBasicDataType();
    const historian: TagHistorian = {
      tag: c.name,
      type,
      // the historian stores what the host samples; node-opcua's own value changes are not kept twice
      push: () => Promise.resolve(),
      // node-opcua calls this only from the `_historyReadRaw` that historyReadRaw replaces: raw reads page through readPage
      extractDataValues(_d: ReadRawModifiedDetails, _max: number, _newestFirst: boolean, _reverse: boolean, done: (err: Error | null, values?: DataValue[]) => void): void {
        done(new Error(`${c.name}: raw history is read through historyReadRaw (sim/protocols/opcua/history.ts), not extractDataValues`));
      },
    };
    if (model === null) {
      // the first one the way node-opcua makes it, with the HA Configuration the others share
      as.installHistoricalDataNode(node, { historian });
      // raw reads page from the database; processed reads are checked first (the others copy both)
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-opcua's internal method, called with its own arguments
      const members = node as unknown as { _historyReadRaw: unknown; _historyRead: (...a: any[]) => void };
      members._historyReadRaw = historyReadRaw(h);
      members._historyRead = historyReadChecked(h, members._historyRead);
      (node as unknown as { $historicalDataConfiguration?: { maxTimeInterval?: { setValueFromSource(v: { dataType: DataType; value: number }): void } } })
        .$historicalDataConfiguration?.maxTimeInterval?.setValueFromSource({ dataType: DataType.Double, value: MAX_TIME_INTERVAL_MS });
      model = node;
    } else {
      historicalLike(model, node, historian);
    }
    n++;
  }
  return n;
}
