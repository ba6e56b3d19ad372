/**
 * A line's records keep their order in JetStream when one of them is lost on the way
 * (sim/host/streams.ts): a real nats-server, and between it and the host a relay that reads the
 * NATS protocol (nats-relay.ts) and drops one publish, the record a leader change or a broken
 * connection would lose. The host learns of it only when its acknowledgement does not come;
 * records sent after it must not be stored ahead of it (with several publishes in flight they
 * were: seen under load in a plant, a line's events 58–60 before 53–57). The stream must hold
 * every record once, in the order the line made them. And while the relay swallows all of a
 * line's publishes, what waits is bounded: past `maxOutbox` the oldest go, counted, and the rest
 * follow in order once publishes pass again.
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineStreams, subjectOf } from '../../sim/host/streams.ts';
import { scaled } from '../proc.ts';
import { have, NATS, startNats, type TestBroker } from './brokers.ts';
import { natsRelay, type NatsRelay } from './nats-relay.ts';
import { eventSeqs, lineEvent } from './line-records.ts';
import { waitFor } from './opcua-host.ts';

const LINE = 'order-line';
const BOUNDED = 'bounded-line';
const RUN = 'order';
const RECORDS = 1000;
/** the record whose publish the relay drops, once */
const LOST = 600;

describe.runIf(have(NATS))('the order of a line\'s records in JetStream when publishes are lost', () => {
  let nats: TestBroker;
  let relay: NatsRelay;
  let lost = 0;
  /** the bounded line's publishes are swallowed while true */
  let swallow = false;
  const opened: LineStreams[] = [];
  let reader: NatsConnection | undefined;

  beforeAll(async () => {
    nats = await startNats();
    // the first publish of record LOST of LINE goes nowhere; BOUNDED's go nowhere while `swallow`
    const marker = Buffer.from(`Nats-Msg-Id: ${RUN}:e:${LOST}\r\n`, 'latin1');
    const bounded = Buffer.from(` ${subjectOf(BOUNDED)}.`, 'latin1');
    relay = await natsRelay(nats.nats!, (frame) => {
      if (swallow && frame.subarray(0, 64).includes(bounded)) return true;
      if (lost === 0 && frame.includes(marker)) return ++lost > 0;
      return false;
    });
    reader = await connect({ servers: nats.nats! });
  }, scaled(60_000));

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close(1000)));
    await reader?.close();
    await relay?.close();
    await nats?.dispose();
  });

  const open = async (line: string, maxOutbox?: number): Promise<LineStreams> => {
    const s = await LineStreams.open({ url: relay.url, line, run: RUN, commandsLogged: 0, replicas: 1, ...(maxOutbox !== undefined ? { maxOutbox } : {}) });
    opened.push(s);
    await s.prepared;
    return s;
  };

  it('stores the lost record again in its place: every record once, in the order the line made them', async () => {
    const streams = await open(LINE);
    for (let k = 0; k < RECORDS; k += 100) streams.onEvents(Array.from({ length: 100 }, (_, j) => lineEvent(k + j)));
    const st = await waitFor('every record acknowledged', () => streams.status(), (s) => s.pending === 0, scaled(120_000));
    expect(lost, 'the relay dropped the publish').toBe(1);
    expect(st.published).toBe(RECORDS);
    expect(st.dropped).toBe(0);
    const seqs = await eventSeqs(reader!, LINE);
    const firstOut = seqs.findIndex((q, k) => q !== k);
    expect(firstOut, firstOut < 0 ? '' : `stream position ${firstOut} holds record ${seqs[firstOut]}, not ${firstOut}: … ${seqs.slice(Math.max(0, firstOut - 2), firstOut + 4).join(', ')} …`).toBe(-1);
    expect(seqs).toHaveLength(RECORDS);
  }, scaled(180_000));

  it('bounds what waits while nothing is acknowledged: the oldest go past maxOutbox, counted; the rest follow in order', async () => {
    const streams = await open(BOUNDED, 200);
    streams.onEvents(Array.from({ length: 10 }, (_, k) => lineEvent(k)));
    await waitFor('the first ten acknowledged', () => streams.status(), (s) => s.published === 10 && s.pending === 0, scaled(30_000));
    swallow = true;
    // record 10 goes out and is swallowed; 210 more wait behind it, ten over the bound
    for (let k = 10; k < 220; k += 10) streams.onEvents(Array.from({ length: 10 }, (_, j) => lineEvent(k + j)));
    const full = streams.status();
    expect(full.pending).toBe(200);
    expect(full.dropped).toBe(10);
    await waitFor('the relay to swallow record 10', () => relay.dropped(), (n) => n > lost, scaled(30_000));
    swallow = false;
    const st = await waitFor('what waited acknowledged', () => streams.status(), (s) => s.pending === 0 && s.error === null, scaled(120_000));
    expect(st.dropped).toBe(10);
    expect(st.published).toBe(210);
    // records 10-19 were dropped from the outbox (the run folder still has them): a gap, the rest in order
    expect(await eventSeqs(reader!, BOUNDED)).toEqual([...Array(220).keys()].filter((q) => q < 10 || q >= 20));
  }, scaled(180_000));
});
