/**
 * OPC UA HistoryRead over more values than one answer holds, on a real address space and a real
 * SQLite historian: a raw read pages through the whole range with continuation points that read
 * on from the database (numValuesPerNode 0 included), in either order; continuation points are
 * released, bounded per session and refused when unknown; a processed read over more raw values
 * than one read returns is aggregated in chunks that join seamlessly, and refused where it cannot
 * be answered whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddressSpace, AggregateFunction, DataType, NodeId, ReadProcessedDetails, ReadRawModifiedDetails, SessionContext, generateAddressSpace, nodesets,
  type HistoryData, type HistoryReadResult, type ISessionContext, type UAVariable,
} from 'node-opcua';
import { Historian } from '../../sim/host/historian.ts';
import { SqliteStore } from '../../sim/host/historian-store.ts';
import { MAX_CONTINUATION_POINTS, MAX_HISTORY_VALUES, installHistory } from '../../sim/protocols/opcua/history.ts';

const dir = mkdtempSync(join(tmpdir(), 'twinline-history-paging-'));
const T0 = Date.UTC(2026, 11, 1, 8);
const N = 25_000;
/** sample k is at T0 + 100 k ms with the value k */
const at = (k: number): number => T0 + k * 100;

let as: AddressSpace;
let historian: Historian;
let power: UAVariable;

beforeAll(async () => {
  historian = await Historian.open({
    store: new SqliteStore(join(dir, 'h.sqlite')), run: 'run-1', scenario: 'kiln-cell', dt: 0.001,
    columns: [{ name: 'kiln.power', station: 'kiln', field: 'power', unit: 'W', description: 'power', access: 'r' }],
  });
  for (let k = 0; k < N; k++) historian.sample(at(k), k * 100, [k]);
  await historian.flush();
  as = AddressSpace.create();
  await generateAddressSpace(as, [nodesets.standard]);
  const ns = as.registerNamespace('urn:twinline:history-paging');
  power = ns.addVariable({ organizedBy: as.rootFolder.objects, browseName: 'power', nodeId: 's=kiln.power', dataType: 'Double', value: { dataType: DataType.Double, value: 0 } });
  expect(installHistory(as, ns, historian)).toBe(1);
}, 120_000);

afterAll(async () => {
  as?.dispose();
  await historian?.close();
  rmSync(dir, { recursive: true, force: true });
});

const session = (): ISessionContext => new SessionContext({ session: { getSessionId: () => new NodeId(), continuationPointManager: {} } as never }) as ISessionContext;
const valuesOf = (r: HistoryReadResult): number[] => ((r.historyData as HistoryData | null)?.dataValues ?? []).map((d) => d.value.value as number);
const timesOf = (r: HistoryReadResult): number[] => ((r.historyData as HistoryData | null)?.dataValues ?? []).map((d) => d.sourceTimestamp!.getTime());

async function raw(ctx: ISessionContext, d: ConstructorParameters<typeof ReadRawModifiedDetails>[0], cp: Buffer | null = null, release = false): Promise<HistoryReadResult> {
  return power.historyRead(ctx, new ReadRawModifiedDetails({ isReadModified: false, ...d }), null, null, { continuationPoint: cp, releaseContinuationPoints: release });
}

/** Every answer of a read, following its continuation points. */
async function all(ctx: ISessionContext, d: ConstructorParameters<typeof ReadRawModifiedDetails>[0]): Promise<{ sizes: number[]; values: number[] }> {
  const sizes: number[] = [];
  const values: number[] = [];
  let cp: Buffer | null = null;
  for (let k = 0; k < 100; k++) {
    const r = await raw(ctx, d, cp);
    expect(r.statusCode.name).toBe('Good');
    sizes.push(valuesOf(r).length);
    values.push(...valuesOf(r));
    cp = r.continuationPoint;
    if (cp === null || cp.length === 0) break;
  }
  return { sizes, values };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

describe('HistoryRead raw past one answer', () => {
  it('numValuesPerNode 0 over the whole range: answers of MAX_HISTORY_VALUES with continuation points, every value once, in order', async () => {
    const got = await all(session(), { startTime: new Date(at(0)), endTime: new Date(at(N - 1)), numValuesPerNode: 0 });
    expect(got.sizes).toEqual([MAX_HISTORY_VALUES, MAX_HISTORY_VALUES, N - 2 * MAX_HISTORY_VALUES]);
    expect(got.values).toEqual(range(0, N));
  });

  it("the client's own page size, and a start after the end reads newest first", async () => {
    const pages = await all(session(), { startTime: new Date(at(0)), endTime: new Date(at(N - 1)), numValuesPerNode: 7000 });
    expect(pages.sizes).toEqual([7000, 7000, 7000, 4000]);
    expect(pages.values).toEqual(range(0, N));
    const back = await all(session(), { startTime: new Date(at(N - 1)), endTime: new Date(at(100)), numValuesPerNode: 0 });
    expect(back.values).toEqual(range(100, N).reverse());
  });

  it('an end and a count larger than one answer: that many values, newest first, then no continuation point', async () => {
    const got = await all(session(), { endTime: new Date(at(N - 1)), numValuesPerNode: 12_000 });
    expect(got.sizes).toEqual([MAX_HISTORY_VALUES, 2000]);
    expect(got.values).toEqual(range(N - 12_000, N).reverse());
    // a start and a count within one answer: exactly that many, and no continuation point though more follow
    const few = await raw(session(), { startTime: new Date(at(500)), numValuesPerNode: 3 });
    expect(valuesOf(few)).toEqual([500, 501, 502]);
    expect(few.continuationPoint ?? null).toBeNull();
  });

  it('a released continuation point is gone; an unknown one is refused; a session holds a bounded number', async () => {
    const ctx = session();
    const whole = { startTime: new Date(at(0)), endTime: new Date(at(N - 1)), numValuesPerNode: 10 };
    const first = await raw(ctx, whole);
    expect(timesOf(first)).toEqual(range(0, 10).map(at));
    const released = await raw(ctx, whole, first.continuationPoint, true);
    expect(released.statusCode.name).toBe('Good');
    expect(valuesOf(released)).toEqual([]);
    expect((await raw(ctx, whole, first.continuationPoint)).statusCode.name).toBe('BadContinuationPointInvalid');
    expect((await raw(ctx, whole, Buffer.from('not one of ours'))).statusCode.name).toBe('BadContinuationPointInvalid');
    // another session cannot use this session's continuation point
    const mine = await raw(ctx, whole);
    expect((await raw(session(), whole, mine.continuationPoint)).statusCode.name).toBe('BadContinuationPointInvalid');
    // more reads than the bound: the oldest continuation points are freed for the new ones
    const cps = [mine.continuationPoint!];
    for (let k = 0; k < MAX_CONTINUATION_POINTS; k++) cps.push((await raw(ctx, whole)).continuationPoint!);
    expect((await raw(ctx, whole, cps[0]!)).statusCode.name).toBe('BadContinuationPointInvalid');
    const newest = await raw(ctx, whole, cps.at(-1)!);
    expect(valuesOf(newest)).toEqual(range(10, 20));
  });

  it('an empty range says Good_NoData', async () => {
    const r = await raw(session(), { startTime: new Date(at(N) + 1000), endTime: new Date(at(N) + 5000), numValuesPerNode: 0 });
    expect(r.statusCode.name).toBe('GoodNoData');
    expect(valuesOf(r)).toEqual([]);
  });
});

describe('HistoryRead processed', () => {
  const processed = (from: number, to: number, intervalMs: number): Promise<HistoryReadResult> =>
    power.historyRead(session(), new ReadProcessedDetails({
      startTime: new Date(from), endTime: new Date(to), processingInterval: intervalMs, aggregateType: [as.findNode(AggregateFunction.Average)!.nodeId],
    }), null, null, { continuationPoint: null });

  it('averages a range within one raw read', async () => {
    const r = await processed(at(0), at(100), 1000);
    expect(r.statusCode.name).toBe('Good');
    // each second holds samples 10 j … 10 j + 9
    expect(valuesOf(r).slice(0, 3)).toEqual([4.5, 14.5, 24.5]);
  });

  it('aggregates a range holding more raw values than one read returns, in chunks that join seamlessly', async () => {
    const of = (fn: number, from: number, to: number, intervalMs: number): Promise<HistoryReadResult> =>
      power.historyRead(session(), new ReadProcessedDetails({ startTime: new Date(from), endTime: new Date(to), processingInterval: intervalMs, aggregateType: [as.findNode(fn)!.nodeId] }), null, null, { continuationPoint: null });
    // 2,500 one-second intervals over 25,000 raw values: interval j holds samples 10 j … 10 j + 9
    const seconds = N / 10;
    const j = range(0, seconds);
    const average = await of(AggregateFunction.Average, at(0), at(N), 1000);
    expect(average.statusCode.name).toBe('Good');
    expect(valuesOf(average)).toEqual(j.map((x) => 10 * x + 4.5));
    expect(timesOf(average)).toEqual(j.map((x) => at(10 * x)));
    // the status of every interval, at the chunks' edges too, is that of the intervals within one
    const statuses = new Set(((average.historyData as HistoryData).dataValues ?? []).map((v) => v.statusCode.name));
    expect([...statuses]).toEqual(['Good#HistorianCalculated']);
    expect(valuesOf(await of(AggregateFunction.Minimum, at(0), at(N), 1000))).toEqual(j.map((x) => 10 * x));
    expect(valuesOf(await of(AggregateFunction.Maximum, at(0), at(N), 1000))).toEqual(j.map((x) => 10 * x + 9));
    expect(valuesOf(await of(AggregateFunction.Count, at(0), at(N), 1000))).toEqual(j.map(() => 10));
    // interpolated at each interval's start, where a raw value lies; in the middle of a range too
    expect(valuesOf(await of(AggregateFunction.Interpolative, at(0), at(N), 1000))).toEqual(j.map((x) => 10 * x));
    expect(valuesOf(await of(AggregateFunction.Average, at(5), at(N - 5), 1000))).toEqual(range(0, seconds - 1).map((x) => 10 * x + 9.5));
    // between raw values: each interval's start, a chunk's and the request's too, interpolates from the value before it
    expect(valuesOf(await of(AggregateFunction.Interpolative, at(0) + 50, at(N - 1), 1000))).toEqual(j.map((x) => 10 * x + 0.5));
  });

  it('refuses an interval holding more raw values than one read returns, and more intervals than one answer holds, instead of answering part', async () => {
    const r = await processed(at(0), at(N - 1), 3_600_000);
    expect(r.statusCode.name).toBe('BadTooManyMatches');
    expect(valuesOf(r)).toEqual([]);
    // a millisecond interval over ten years: refused at once, not stepped through
    const t = Date.now();
    const many = await processed(at(0) - 10 * 365 * 86_400_000, at(0), 1);
    expect(many.statusCode.name).toBe('BadTooManyMatches');
    expect(Date.now() - t).toBeLessThan(5000);
  });
});
