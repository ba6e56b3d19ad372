/**
 * OPC UA Historical Access (Part 11) from the host's historian: every station variable the
 * historian records is a HistoricalDataNode (Historizing, the HistoryRead access level, and a
 * HasHistoricalConfiguration reference to one `HA Configuration` the line's variables share,
 * since they are all stored alike), and HistoryRead is answered from the database:
 *
 * - raw (ReadRawModifiedDetails, isReadModified false): start and end, start and a count, or end
 *   and a count (newest first), with continuation points when a client asks for fewer per call;
 * - processed (ReadProcessedDetails): node-opcua's aggregates (Interpolative, Average, Minimum,
 *   Maximum, Count) over the same raw values.
 *
 * Not offered: modified values (none are kept: history is never edited), at-time reads, event
 * history (events are in `GET /api/history/events`), and writing history. A value stored as not
 * finite comes back with a Bad status and a null value.
 */
import { DataType, DataValue, StatusCodes, Variant, AggregateFunction, addAggregateSupport, type AddressSpace, type IVariableHistorian, type Namespace, type UAVariable } from 'node-opcua';
import { historicalLike } from './seam.ts';
import type { ReadRawModifiedDetails } from 'node-opcua';

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
  let n = 0;
  let model: UAVariable | null = null;
  for (const c of h.columns) {
    const node = as.findNode(`ns=${ns.index};s=${c.name}`) as UAVariable | null;
    if (node === null || node.nodeClass !== 2) continue; // NodeClass.Variable
    const type = node.getBasicDataType();
    const historian: IVariableHistorian = {
      // the historian stores what the host samples; node-opcua's own value changes are not kept twice
      push: () => Promise.resolve(),
      extractDataValues(d: ReadRawModifiedDetails, max: number, newestFirst: boolean, reverse: boolean, done: (err: Error | null, values?: DataValue[]) => void): void {
        const fromMs = given(d.startTime);
        const toMs = given(d.endTime);
        const limit = max > 0 ? Math.min(max, MAX_HISTORY_VALUES) : MAX_HISTORY_VALUES;
        h.flush()
          .then(() => h.readValues(c.name, { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}), limit, newestFirst }))
          .then((rows) => {
            const values = rows.map((r) => dataValueOf(r.ms, r.v, type));
            done(null, reverse ? values.reverse() : values);
          }, (e: unknown) => done(e instanceof Error ? e : new Error(String(e))));
      },
    };
    if (model === null) {
      // the first one the way node-opcua makes it, with the HA Configuration the others share
      as.installHistoricalDataNode(node, { historian });
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
