/**
 * A plant's NATS: the rate at which a line's events reach its JetStream stream (streams.ts:
 * acknowledged publishes with message ids, 64 in flight, three replicas on a three-node cluster
 * started here as `plant up` starts it) against core NATS publishes of the same messages to the
 * same node (no acknowledgement, no storage): the price of "nothing acknowledged is lost".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import type { SimEvent } from '../../sim/core/events.ts';
import { eventToJson } from '../../sim/core/events.ts';
import { LineStreams, MAX_STREAM_BYTES } from '../../sim/host/streams.ts';
import { findNatsServer, startNatsCluster } from '../../sim/plant/nats-cluster.ts';
import { fmt, ratio, type BenchRow, type Section } from './common.ts';

const EVENTS = 20_000;

const event = (seq: number): SimEvent => ({ seq, tick: seq * 37, type: 'state', station: 'kiln', data: { from: 'Execute', to: 'Suspending', cause: 'blocked' } });

export const plantBench: Section = async (log) => {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  if (findNatsServer() === null) return { rows, notes: ['nats-server is not installed: the plant figures were not measured'] };
  const dir = mkdtempSync(join(tmpdir(), 'twinline-bench-plant-'));
  const cluster = await startNatsCluster('bench', 3, dir, 2 * MAX_STREAM_BYTES);
  try {
    const url = cluster.nodes[0]!.nats;
    // baseline: core NATS publishes of the same lines, flushed
    const nc = await connect({ servers: url });
    const payloads = Array.from({ length: EVENTS }, (_, k) => new TextEncoder().encode(eventToJson(event(k))));
    const t0 = performance.now();
    for (const p of payloads) nc.publish('bench.core.events', p);
    await nc.flush();
    const core = EVENTS / ((performance.now() - t0) / 1000);
    await nc.close();
    // the line's stream, three replicas
    const streams = await LineStreams.open({ url, line: 'bench-line', run: 'bench', incarnation: 0, replicas: 3 });
    const t1 = performance.now();
    for (let k = 0; k < EVENTS; k += 100) streams.onEvents(Array.from({ length: 100 }, (_, j) => event(k + j)));
    while (streams.status().pending > 0) await new Promise((r) => setTimeout(r, 5));
    const js = EVENTS / ((performance.now() - t1) / 1000);
    const st = streams.status();
    await streams.close();
    log(`JetStream R3 ${fmt(js)} events/s acknowledged, core NATS ${fmt(core)} msgs/s`);
    rows.push([`line events to JetStream, 3 replicas, acknowledged (${fmt(EVENTS)}) [events/s]`, fmt(js), 'core NATS publish, same messages, same node', fmt(core), ratio(js, core)]);
    if (st.published !== EVENTS || st.dropped > 0) notes.push(`!!! JetStream: ${st.published} of ${EVENTS} acknowledged, ${st.dropped} dropped (${st.error ?? 'no error'})`);
    notes.push('a kiln line logs a few events a second, the ceramic line a few hundred at 60× real time: the stream\'s rate over that is its headroom');
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, notes };
};
