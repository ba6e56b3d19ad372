/**
 * A line's records in JetStream (sim/host/streams.ts) when the server it publishes to stops
 * taking them: two real nats-servers (not clustered); the line's stream is on the first, which
 * then loses it, so every publish there fails. After `failoverMs` of failures in a row the
 * streams move to the second server, make the stream there, and send the whole run from its
 * folder (the records the first acknowledged and those still waiting), each once, in order.
 * The status says which server they use now and how often they moved; the log says so, and
 * that the stream's leader was asked to step down (refused here: these servers are not a cluster).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { LineStreams, streamName } from '../../sim/host/streams.ts';
import { have, NATS, startNats, type TestBroker } from './brokers.ts';
import { eventSeqs, runFolder } from './line-records.ts';
import { waitFor } from './opcua-host.ts';

const LINE = 'failover-line';
const folder = runFolder();
const log = folder.log;
/** the events (their seqs) the line's stream holds at `nc`, in stream order */
const inStream = (nc: NatsConnection): Promise<number[]> => eventSeqs(nc, LINE);

describe.runIf(have(NATS))('JetStream failover of a line\'s records', () => {
  let a: TestBroker;
  let b: TestBroker;
  let streams: LineStreams;
  const said: string[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([startNats(), startNats()]);
  });

  afterAll(async () => {
    await streams?.close(1000);
    await Promise.all([a?.dispose(), b?.dispose()]);
  });

  it('moves to the next server once publishing has failed for failoverMs, and sends the run there once and in order', async () => {
    streams = await LineStreams.open({
      url: `${a.nats!},${b.nats!}`, line: LINE, run: 'run-1', commandsLogged: 0, replicas: 1, failoverMs: 2000,
      loggedEvents: folder.loggedEvents,
      log: (l) => said.push(l),
    });
    await streams.prepared;
    const onA = await connect({ servers: a.nats! });
    const onB = await connect({ servers: b.nats! });
    try {
      streams.onEvents(log(10));
      await waitFor('the first ten acknowledged on the first server', () => streams.status(), (s) => s.published === 10 && s.pending === 0);
      expect(streams.status().server).toBe(a.nats!.replace('nats://', ''));
      expect(await inStream(onA)).toEqual([...Array(10).keys()]);
      // the first server loses the stream: every publish there fails from now on
      await (await onA.jetstreamManager()).streams.delete(streamName(LINE));
      streams.onEvents(log(10));
      const stuck = await waitFor('publishing to fail', () => streams.status(), (s) => s.error !== null && s.pending > 0);
      expect(stuck.failovers).toBe(0);
      const moved = await waitFor('the streams to move and send what waited', () => streams.status(), (s) => s.failovers === 1 && s.pending === 0 && s.error === null);
      expect(moved.server).toBe(b.nats!.replace('nats://', ''));
      expect(said.join('\n')).toMatch(new RegExp(`JetStream: nothing from ${a.nats!.replace('nats://', '')} for 2 s \\(.+\\); moved to ${b.nats!.replace('nats://', '')}, \\d+ records waiting; its stream's leader did not step down \\(.+\\)`));
      // the run from its folder, each event once (JetStream dropped the copies by their ids), in order
      expect(await inStream(onB)).toEqual([...Array(20).keys()]);
      // and on from there
      streams.onEvents(log(5));
      await waitFor('new events on the second server', () => inStream(onB), (seqs) => seqs.length === 25);
      expect(await inStream(onB)).toEqual([...Array(25).keys()]);
      expect(streams.status().failovers).toBe(1);
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }
  });
});
