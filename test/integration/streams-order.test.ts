/**
 * A line's records keep their order in JetStream when one of them is lost on the way
 * (sim/host/streams.ts): a real nats-server, and between it and the host a TCP relay made here
 * that reads the NATS protocol and drops one publish, the record a leader change or a broken
 * connection would lose. The host learns of it only when its acknowledgement does not come;
 * records sent after it must not be stored ahead of it (with several publishes in flight they
 * were: seen under load in a plant, a line's events 58–60 before 53–57). The stream must hold
 * every record once, in the order the line made them.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimEvent } from '../../sim/core/events.ts';
import { LineStreams, streamName, subjectOf } from '../../sim/host/streams.ts';
import { scaled } from '../proc.ts';
import { have, NATS, startNats, type TestBroker } from './brokers.ts';
import { waitFor } from './opcua-host.ts';

const LINE = 'order-line';
const RUN = 'order';
const RECORDS = 1000;
/** the record whose publish the relay drops, once */
const LOST = 600;
const event = (seq: number): SimEvent => ({ seq, tick: seq * 37, type: 'state', station: 'kiln', data: { from: 'Execute', to: 'Suspending', cause: 'blocked' } });

/**
 * A relay from a free loopback port to `port` that passes the server's side as it is and cuts
 * the client's into protocol operations (`PUB`/`HPUB` with their payloads), forwarding all but
 * the first publish carrying message id `dropId`. Says how many it dropped.
 */
async function dropOnePublish(port: number, dropId: string): Promise<{ server: Server; url: string; dropped: () => number; close: () => Promise<void> }> {
  const marker = Buffer.from(`Nats-Msg-Id: ${dropId}\r\n`, 'latin1');
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ port, host: '127.0.0.1' });
    sockets.add(client).add(upstream);
    upstream.pipe(client);
    let buf = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.subarray(0, eol).toString('latin1').trim();
        const op = line.split(/\s+/, 1)[0]!.toUpperCase();
        let len = eol + 2;
        if (op === 'PUB' || op === 'HPUB') {
          // the last field is the payload's size (with headers, for HPUB), then CRLF
          len += Number(line.split(/\s+/).at(-1)) + 2;
          if (buf.length < len) return;
        }
        const frame = buf.subarray(0, len);
        buf = buf.subarray(len);
        if (op === 'HPUB' && dropped === 0 && frame.includes(marker)) dropped++;
        else upstream.write(frame);
      }
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const url = `nats://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  return {
    server, url, dropped: () => dropped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.runIf(have(NATS))('the order of a line\'s records in JetStream when one publish is lost', () => {
  let nats: TestBroker;
  let relay: Awaited<ReturnType<typeof dropOnePublish>>;
  let streams: LineStreams | undefined;
  let reader: NatsConnection | undefined;

  beforeAll(async () => {
    nats = await startNats();
    relay = await dropOnePublish(Number(new URL(nats.nats!).port), `${RUN}:e:${LOST}`);
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
