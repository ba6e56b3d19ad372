/**
 * The historian's rules on a real SQLite file: a value is stored when it changes and once a
 * minute while it holds; a value that is not a finite number is stored as null; events are
 * stored and filtered; rows past the retention are deleted; a database that refuses writes (closed
 * under it)
 * keeps the waiting rows within their bound, counts what it drops and says why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimEvent } from '../../sim/core/events.ts';
import { HEARTBEAT_MS, Historian, HistoryBusy, MAX_WAITING_READS } from '../../sim/host/historian.ts';
import { SqliteStore } from '../../sim/host/historian-store.ts';
import type { ValueColumn } from '../../sim/host/value-recorder.ts';

const dir = mkdtempSync(join(tmpdir(), 'twinline-historian-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const column = (name: string, unit = ''): ValueColumn => ({ name, station: name.split('.')[0]!, field: name.split('.')[1]!, unit, description: name, access: 'r' });
const COLUMNS = [column('kiln.sp1', '°C'), column('kiln.power', 'W'), column('kiln.wear')];
const T0 = Date.UTC(2026, 11, 1, 8);

async function open(file: string, o: { now?: () => number; hours?: number } = {}): Promise<Historian> {
  return Historian.open({ store: new SqliteStore(join(dir, file)), run: 'run-1', scenario: 'kiln-cell', columns: COLUMNS, dt: 0.001, ...o });
}

describe('historian', () => {
  it('stores a value when it changes, once a minute while it holds, and null for what is not finite', async () => {
    const h = await open('change.sqlite');
    for (let k = 0; k < 10; k++) h.sample(T0 + k * 100, k * 100, [900, 1000 + k, k < 5 ? 0.5 : null]);
    // a minute later the setpoint has held: stored again
    h.sample(T0 + HEARTBEAT_MS + 100, 60_100, [900, 2000, null]);
    await h.flush();
    const sp = await h.readValues('kiln.sp1', { limit: 100 });
    expect(sp.map((r) => [r.ms, r.v])).toEqual([[T0, 900], [T0 + HEARTBEAT_MS + 100, 900]]);
    expect(sp[0]!.simS).toBe(0);
    const power = await h.readValues('kiln.power', { limit: 100 });
    expect(power).toHaveLength(11);
    expect(power[3]).toEqual({ ms: T0 + 300, simS: 0.3, v: 1003 });
    const wear = await h.readValues('kiln.wear', { limit: 100 });
    expect(wear.map((r) => r.v)).toEqual([0.5, null]);
    // a range, newest first, and a bounded count
    const last = await h.readValues('kiln.power', { toMs: T0 + 500, limit: 2, newestFirst: true });
    expect(last.map((r) => r.v)).toEqual([1005, 1004]);
    expect(await h.readValues('no.such', { limit: 10 })).toEqual([]);
    expect(h.status()).toMatchObject({ store: 'sqlite', written: { values: 15, events: 0 }, dropped: 0, pending: 0, error: null });
    await h.close();
  });

  it('stores events and filters them by time, seq, type and station', async () => {
    let now = T0;
    const h = await open('events.sqlite', { now: () => now });
    const ev = (seq: number, type: SimEvent['type'], station: string | null): SimEvent => ({ seq, tick: seq * 1000, type, station, data: { n: seq } });
    h.onEvents([ev(0, 'command', null), ev(1, 'alarm', 'kiln')]);
    now += 5000;
    h.onEvents([ev(2, 'alarm', 'belt'), ev(3, 'alarm-clear', 'kiln')]);
    await h.flush();
    expect((await h.readEvents({ limit: 10 })).map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect((await h.readEvents({ type: 'alarm', limit: 10 })).map((e) => e.seq)).toEqual([1, 2]);
    expect((await h.readEvents({ station: 'kiln', limit: 10 })).map((e) => e.seq)).toEqual([1, 3]);
    expect((await h.readEvents({ fromMs: T0 + 1000, limit: 10 })).map((e) => e.seq)).toEqual([2, 3]);
    expect((await h.readEvents({ afterSeq: 2, limit: 10 }))[0]).toEqual({ seq: 3, ms: T0 + 5000, tick: 3000, simS: 3, type: 'alarm-clear', station: 'kiln', data: { n: 3 } });
    await h.close();
  });

  it('deletes rows past the retention', async () => {
    let now = T0;
    const h = await open('prune.sqlite', { now: () => now, hours: 1 });
    h.sample(T0, 0, [900, 1000, 0]);
    h.onEvents([{ seq: 0, tick: 0, type: 'command', station: null, data: {} }]);
    now = T0 + 30 * 60_000;
    h.sample(now, 1_800_000, [910, 1001, 0]);
    await h.flush();
    now = T0 + 90 * 60_000;
    await h.prune();
    expect((await h.readValues('kiln.sp1', { limit: 10 })).map((r) => r.v)).toEqual([910]);
    expect(await h.readEvents({ limit: 10 })).toEqual([]);
    await h.close();
  });

  it('serves a flood of reads one at a time, refuses what is past the bound, and serves again after', async () => {
    const h = await open('flood.sqlite');
    h.sample(T0, 0, [900, 1000, 0]);
    await h.flush();
    const tries = await Promise.allSettled(Array.from({ length: 3 * MAX_WAITING_READS }, () => h.readValues('kiln.sp1', { limit: 10 })));
    const served = tries.filter((t) => t.status === 'fulfilled');
    const refused = tries.filter((t) => t.status === 'rejected');
    expect(served).toHaveLength(MAX_WAITING_READS);
    expect(refused.every((t) => t.status === 'rejected' && t.reason instanceof HistoryBusy)).toBe(true);
    expect((await h.readValues('kiln.sp1', { limit: 10 })).map((r) => r.v)).toEqual([900]);
    await h.close();
  });

  it('keeps the rows a refusing database has not taken, within their bound, counting what it drops', async () => {
    const store = new SqliteStore(join(dir, 'refusing.sqlite'));
    const h = await Historian.open({ store, run: 'run-1', scenario: 'kiln-cell', columns: COLUMNS, dt: 0.001, maxPending: 100 });
    // the database goes away under the historian: every write is refused
    await store.close();
    for (let k = 0; k < 50; k++) h.sample(T0 + k * 100, k, [k, k, k]);
    expect(h.status()).toMatchObject({ pending: 100, dropped: 50 });
    await h.flush();
    const st = h.status();
    expect(st.error).toMatch(/not open/);
    expect(st).toMatchObject({ pending: 100, dropped: 50, written: { values: 0, events: 0 } });
    // the waiting rows are the newest
    h.sample(T0 + 10_000, 100, [-1, -1, -1]);
    expect(h.status()).toMatchObject({ pending: 100, dropped: 53 });
    await h.close().catch(() => undefined);
  });
});
