/**
 * A line's records keep their order in JetStream when one of them is lost on the way
 * (sim/host/streams.ts): a real nats-server, and between it and the host a relay that reads the
 * NATS protocol (nats-relay.ts) and drops one publish, the record a leader change or a broken
 * connection would lose. The host learns of it only when its acknowledgement does not come;
 * records sent after it must not be stored ahead of it (with several publishes in flight they
 * were: seen under load in a plant, a line's events 58–60 before 53–57). The stream must hold
 * every record once, in the order the line made them.
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimEvent } from '../../sim/core/events.ts';
import { LineStreams, streamName, subjectOf } from '../../sim/host/streams.ts';
import { scaled } from '../proc.ts';
import { have, NATS, startNats, type TestBroker } from './brokers.ts';
import { natsRelay, type NatsRelay } from './nats-relay.ts';
import { waitFor } from './opcua-host.ts';

const LINE = 'order-line';
const RUN = 'order';
const RECORDS = 1000;
/** the record whose publish the relay drops, once */
const LOST = 600;
const event = (seq: number): SimEvent => ({ seq, tick: seq * 37, type: 'state', station: 'kiln', data: { from: 'Execute', to: 'Suspending', cause: 'blocked' } });

describe.runIf(have(NATS))('the order of a line\'s records in JetStream when one publish is lost', () => {
  let nats: TestBroker;
  let relay: NatsRelay;
  let streams: LineStreams | undefined;
  let reader: NatsConnection | undefined;

  beforeAll(async () => {
    nats = await startNats();
    // the first publish of record LOST goes nowhere
    const marker = Buffer.from(`Nats-Msg-Id: ${RUN}:e:${LOST}\r\n`, 'latin1');
    relay = await natsRelay(nats.nats!, (frame) => relay.dropped() === 0 && frame.includes(marker));
  }, scaled(60_000));

  afterAll(async () => {
    await streams?.close(1000);
    await reader?.close();
    await relay?.close();
    await nats?.dispose();
  });

  it('stores the lost record again in its place: every record once, in the order the line made them', async () => {
    streams = await LineStreams.open({ url: relay.url, line: LINE, run: RUN, commandsLogged: 0, replicas: 1 });
    await streams.prepared;
    for (let k = 0; k < RECORDS; k += 100) streams.onEvents(Array.from({ length: 100 }, (_, j) => event(k + j)));
    const st = await waitFor('every record acknowledged', () => streams!.status(), (s) => s.pending === 0, scaled(120_000));
    expect(relay.dropped(), 'the relay dropped the publish').toBe(1);
    expect(st.published).toBe(RECORDS);
    expect(st.dropped).toBe(0);
    // the stream as a consumer reads it back, straight from the server
    reader = await connect({ servers: nats.nats! });
    const jsm = await reader.jetstreamManager();
    const info = await jsm.streams.info(streamName(LINE));
    const seqs: number[] = [];
    for (let s = info.state.first_seq; s <= info.state.last_seq; s++) {
      const m = await jsm.streams.getMessage(streamName(LINE), { seq: s });
      if (m.subject === `${subjectOf(LINE)}.events`) seqs.push((JSON.parse(new TextDecoder().decode(m.data)) as SimEvent).seq);
    }
    const firstOut = seqs.findIndex((q, k) => q !== k);
    expect(firstOut, firstOut < 0 ? '' : `stream sequence ${info.state.first_seq + firstOut} holds record ${seqs[firstOut]}, not ${firstOut}: … ${seqs.slice(Math.max(0, firstOut - 2), firstOut + 4).join(', ')} …`).toBe(-1);
    expect(seqs).toHaveLength(RECORDS);
  }, scaled(180_000));
});
