/**
 * A line's records fail over on a real three-node cluster (sim/host/streams.ts,
 * `startNatsCluster` as `plant up` starts it): the host publishes through node 1, behind a relay
 * (nats-relay.ts) that then swallows every publish of the line, as a node cut off from the
 * others would. After `failoverMs` of failures the host moves to node 2, asks the stream's leader
 * to step down (accepted here: a cluster elects another), and sends what waited; the stream holds
 * the run once and in order, and takes what comes after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineStreams, MAX_STREAM_BYTES, subjectOf } from '../../sim/host/streams.ts';
import { startNatsCluster, type NatsCluster } from '../../sim/plant/nats-cluster.ts';
import { scaled } from '../proc.ts';
import { have, NATS } from './brokers.ts';
import { natsRelay, type NatsRelay } from './nats-relay.ts';
import { readStream, runFolder } from './line-records.ts';
import { waitFor } from './opcua-host.ts';

const LINE = 'stepdown-line';
const folder = runFolder();
const log = folder.log;

describe.runIf(have(NATS))('JetStream failover of a line\'s records on a cluster', () => {
  let dir = '';
  let cluster: NatsCluster;
  let relay: NatsRelay;
  let cut = false;
  let streams: LineStreams | undefined;
  let watcher: NatsConnection | undefined;
  const said: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twinline-streams-stepdown-'));
    cluster = await startNatsCluster('stepdown', 3, dir, 2 * MAX_STREAM_BYTES);
    const subject = Buffer.from(` ${subjectOf(LINE)}.`, 'latin1');
    relay = await natsRelay(cluster.nodes[0]!.nats, (frame) => cut && frame.subarray(0, 64).includes(subject));
  }, scaled(90_000));

  afterAll(async () => {
    await streams?.close(1000);
    await watcher?.close();
    await relay?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** the stream's leader and its events (their seqs) in stream order; null while JetStream does not answer */
  const inStream = async (): Promise<{ leader: string | null; seqs: number[] } | null> => {
    try {
      return await readStream(watcher!, LINE, false);
    } catch {
      return null;
    }
  };

  it('moves to the next node when its node takes nothing, has the stream\'s leader step down, and sends the run once and in order', async () => {
    const [, n2, n3] = cluster.nodes;
    streams = await LineStreams.open({
      url: [relay.url, n2!.nats, n3!.nats].join(','), line: LINE, run: 'run-1', commandsLogged: 0, replicas: 3, failoverMs: 2000,
      loggedEvents: folder.loggedEvents,
      log: (l) => said.push(l),
    });
    await streams.prepared;
    watcher = await connect({ servers: n3!.nats });
    streams.onEvents(log(10));
    await waitFor('the first ten acknowledged through node 1', () => streams!.status(), (s) => s.published === 10 && s.pending === 0, scaled(60_000));
    const before = (await waitFor('the stream and its leader', inStream, (x) => x !== null && x.leader !== null && x.seqs.length === 10, scaled(30_000)))!;
    // node 1 takes the line's publishes no more
    cut = true;
    streams.onEvents(log(10));
    const moved = await waitFor('the streams to move and send what waited', () => streams!.status(), (s) => s.failovers === 1 && s.pending === 0 && s.error === null, scaled(120_000));
    expect(relay.dropped()).toBeGreaterThan(0);
    expect(moved.server).toBe(n2!.nats.replace('nats://', ''));
    expect(said.join('\n')).toMatch(new RegExp(`JetStream: nothing from ${relay.url.replace('nats://', '')} for 2 s \\(.+\\); moved to ${n2!.nats.replace('nats://', '')}, \\d+ records waiting; its stream's leader stepped down`));
    const after = (await waitFor('the stream with a new leader', inStream, (x) => x !== null && x.leader !== null && x.leader !== before.leader, scaled(30_000)))!;
    expect(after.seqs).toEqual([...Array(20).keys()]);
    // and on from there
    streams.onEvents(log(5));
    const more = await waitFor('new events in the stream', inStream, (x) => x !== null && x.seqs.length === 25, scaled(60_000));
    expect(more!.seqs).toEqual([...Array(25).keys()]);
    expect(streams.status().failovers).toBe(1);
  }, scaled(300_000));
});
