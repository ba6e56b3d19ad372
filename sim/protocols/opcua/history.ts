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
 *   Maximum, Count) over the same raw values. node-opcua computes them from one raw read of the
 *   whole range, so the range is cut into chunks of whole processing intervals holding at most
 *   MAX_HISTORY_VALUES raw values each, aggregated one after another and joined. Each chunk's raw
 *   read also holds the last value before it and (but for the last chunk) the first after it, as
 *   the whole range's read would around its intervals: the first interval of a chunk interpolates
 *   from the value before it and is not partial, so the answer is the same however it is cut. The
 *   request's own start also gets the value before it (Part 13: a bounding value, not partial).
 *   Refused with Bad_TooManyMatches rather than aggregated from part of the data: more than
 *   MAX_HISTORY_VALUES intervals (node-opcua would step through every one, however many: a 1 ms
 *   interval over years held the host), one interval holding more than MAX_HISTORY_VALUES raw
 *   values, or more than MAX_PROCESSED_RAW raw values in all.
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
import { stationOf, type StationSubtrees } from './subtrees.ts';

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
/** raw values one processed read may aggregate in all (its cost) */
export const MAX_PROCESSED_RAW = 1_000_000;
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

/** A chunk of a processed read, whose raw read node-opcua makes next: its range, its raw values (read to cut it), and whether it takes the value after it. */
interface Chunk {
  fromMs: number;
  toMs: number;
  inside: readonly { ms: number; v: number | null }[];
  after: boolean;
}
/** Chunks being aggregated, by variable: their raw reads come with their bounding values. */
const chunking = new Map<TagHistorian, Chunk[]>();

/** The raw values of a chunk with the value before it and, if asked, after it. */
async function chunkValues(h: OpcuaHistory, historian: TagHistorian, c: Chunk): Promise<DataValue[]> {
  const before = await h.readValues(historian.tag, { toMs: Math.ceil(c.fromMs) - 1, limit: 1, newestFirst: true });
  const after = c.after ? await h.readValues(historian.tag, { fromMs: Math.floor(c.toMs) + 1, limit: 1 }) : [];
  return [...before, ...c.inside, ...after].map((r) => dataValueOf(r.ms, r.v, historian.type));
}

/**
 * The raw read of a historical variable (node-opcua's `_historyReadRaw`, replaced): pages from the
 * database with continuation points of this module's own; a chunk's read for its aggregate
 * (`historyReadProcessed`) comes whole, with its bounding values.
 */
function historyReadRaw(h: OpcuaHistory) {
  return function (this: UAVariable, context: ISessionContext, d: ReadRawModifiedDetails, _indexRange: unknown, _encoding: unknown, cd: ContinuationData, callback: HistoryCallback): void {
    const historian = (this as unknown as { varHistorian: TagHistorian }).varHistorian;
    const pending = chunking.get(historian);
    const from = given(d.startTime);
    const to = given(d.endTime);
    const k = pending?.findIndex((c) => c.fromMs === from && c.toMs === to) ?? -1;
    if (k >= 0 && (d.numValuesPerNode ?? 0) === 0 && (cd.continuationPoint ?? null) === null) {
      const chunk = pending!.splice(k, 1)[0]!;
      chunkValues(h, historian, chunk).then((values) => callback(null, answer(values.length === 0 ? StatusCodes.GoodNoData : StatusCodes.Good, values)),
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))));
      return;
    }
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
 * A historical variable's `_historyRead`, wrapped: a processed read is aggregated by node-opcua
 * chunk by chunk (see the module's comment); the others go straight on.
 */
function historyReadProcessed(h: OpcuaHistory, inner: (...a: unknown[]) => void) {
  return function (this: UAVariable, context: ISessionContext, d: unknown, indexRange: unknown, encoding: unknown, cd: ContinuationData, callback: HistoryCallback): void {
    const from = d instanceof ReadProcessedDetails ? given(d.startTime) : undefined;
    const to = d instanceof ReadProcessedDetails ? given(d.endTime) : undefined;
    // node-opcua answers the rest itself: no start or end, start = end, or an end before the start (no intervals)
    if (!(d instanceof ReadProcessedDetails) || from === undefined || to === undefined || to <= from) {
      inner.call(this, context, d, indexRange, encoding, cd, callback);
      return;
    }
    const historian = (this as unknown as { varHistorian: TagHistorian }).varHistorian;
    const interval = d.processingInterval > 0 ? d.processingInterval : to - from;
    if ((to - from) / interval > MAX_HISTORY_VALUES) {
      callback(null, answer(StatusCodes.BadTooManyMatches));
      return;
    }
    /** node-opcua's aggregate over [cs, ce] (raw values `inside`), its raw read taking the chunk's bounding values */
    const aggregate = (cs: number, ce: number, inside: Chunk['inside']): Promise<HistoryReadResult> => new Promise((resolve, reject) => {
      const list = chunking.get(historian) ?? [];
      chunking.set(historian, list);
      const chunk: Chunk = { fromMs: cs, toMs: ce, inside, after: ce < to };
      list.push(chunk);
      const part = new ReadProcessedDetails({ startTime: new Date(cs), endTime: new Date(ce), processingInterval: interval, aggregateType: d.aggregateType ?? [], aggregateConfiguration: d.aggregateConfiguration });
      inner.call(this, context, part, indexRange, encoding, { continuationPoint: null }, (e: Error | null, r?: HistoryReadResult) => {
        // a chunk node-opcua did not read for (it refused the request) holds nothing
        const k = list.indexOf(chunk);
        if (k >= 0) list.splice(k, 1);
        if (list.length === 0) chunking.delete(historian);
        if (e !== null || r === undefined) reject(e ?? new Error('no HistoryRead result'));
        else resolve(r);
      });
    });
    (async (): Promise<HistoryReadResult> => {
      await h.flush();
      const values: DataValue[] = [];
      let touched = 0;
      let cs = from;
      let k = Math.ceil((to - from) / interval); // intervals in the next chunk: as many as fit
      while (cs < to) {
        const ce = Math.min(to, new Date(cs + k * interval).getTime()); // a DateTime: whole ms
        const inside = await h.readValues(historian.tag, { fromMs: cs, toMs: ce, limit: MAX_HISTORY_VALUES + 1 });
        if (inside.length > MAX_HISTORY_VALUES) {
          if (k === 1) return answer(StatusCodes.BadTooManyMatches); // one interval holds more than one read returns
          k = Math.ceil(k / 2);
          continue;
        }
        touched += inside.length;
        if (touched > MAX_PROCESSED_RAW) return answer(StatusCodes.BadTooManyMatches);
        const r = await aggregate(cs, ce, inside);
        if (!r.statusCode.isGood()) return r;
        values.push(...((r.historyData as HistoryData | null)?.dataValues ?? []));
        cs = ce;
        k *= 2;
      }
      return answer(StatusCodes.Good, values);
    })().then((r) => callback(null, r), (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))));
  };
}

/**
 * Makes the recorded station variables historical and the server a history server; returns how
 * many variables were made historical. With `subtrees`, a variable of a station not made yet
 * is made historical with the station (and counted then, not now).
 */
export function installHistory(as: AddressSpace, ns: Namespace, h: OpcuaHistory, subtrees?: StationSubtrees): number {
  addAggregateSupport(as, [AggregateFunction.Interpolative, AggregateFunction.Average, AggregateFunction.Minimum, AggregateFunction.Maximum, AggregateFunction.Count]);
  // say what the server does: data history, no event history, a bounded answer
  const caps = as.rootFolder.objects.server.serverCapabilities.getChildByName('HistoryServerCapabilities');
  (caps?.getChildByName('AccessHistoryEventsCapability') as UAVariable | null | undefined)?.setValueFromSource({ dataType: DataType.Boolean, value: false });
  (caps?.getChildByName('MaxReturnDataValues') as UAVariable | null | undefined)?.setValueFromSource({ dataType: DataType.UInt32, value: MAX_HISTORY_VALUES });
  (as.rootFolder.objects.server.serverCapabilities.getChildByName('MaxHistoryContinuationPoints') as UAVariable | null | undefined)
    ?.setValueFromSource({ dataType: DataType.UInt16, value: MAX_CONTINUATION_POINTS });
  let n = 0;
  let model: UAVariable | null = null;
  const historize = (c: OpcuaHistory['columns'][number]): boolean => {
    const node = as.findNode(`ns=${ns.index};s=${c.name}`) as UAVariable | null;
    if (node === null || node.nodeClass !== 2) return false; // NodeClass.Variable
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
      // raw reads page from the database; processed reads go in chunks (the others copy both)
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-opcua's internal method, called with its own arguments
      const members = node as unknown as { _historyReadRaw: unknown; _historyRead: (...a: any[]) => void };
      members._historyReadRaw = historyReadRaw(h);
      members._historyRead = historyReadProcessed(h, members._historyRead);
      (node as unknown as { $historicalDataConfiguration?: { maxTimeInterval?: { setValueFromSource(v: { dataType: DataType; value: number }): void } } })
        .$historicalDataConfiguration?.maxTimeInterval?.setValueFromSource({ dataType: DataType.Double, value: MAX_TIME_INTERVAL_MS });
      model = node;
    } else {
      historicalLike(model, node, historian);
    }
    return true;
  };
  for (const c of h.columns) {
    const station = stationOf(c.name);
    if (subtrees?.isPending(station) === true) subtrees.add(station, () => void historize(c));
    else if (historize(c)) n++;
  }
  return n;
}
