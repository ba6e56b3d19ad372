/**
 * A line's records as the JetStream tests see them: a run folder's events as a host would have
 * logged them, and the events a line's stream holds, read back as a consumer reads them.
 */
import type { NatsConnection } from 'nats';
import { eventToJson, type SimEvent } from '../../sim/core/events.ts';
import { streamName, subjectOf } from '../../sim/host/streams.ts';

/** Event `seq` of a line, as its host drains it. */
export const lineEvent = (seq: number): SimEvent => ({ seq, tick: seq * 100, type: 'kpi', station: null, data: { simHours: seq / 36, shipped: seq } });

/** A run folder's events.ndjson: `log(n)` logs the next n events and returns them; `loggedEvents` is the `StreamsOptions` reader of it. */
export function runFolder(): { log(n: number): SimEvent[]; loggedEvents(after: number): { seq: number; line: string; type: string }[] } {
  const folder: SimEvent[] = [];
  return {
    log(n) {
      const evs = Array.from({ length: n }, (_, k) => lineEvent(folder.length + k));
      folder.push(...evs);
      return evs;
    },
    loggedEvents: (after) => folder.filter((e) => e.seq > after).map((e) => ({ seq: e.seq, line: eventToJson(e), type: e.type })),
  };
}

/**
 * What `line`'s stream holds, read straight from the server `nc` is connected to: its leader
 * (null without one, or on a server that is no cluster) and the seqs of its events in stream
 * order (`checkAPI` false: no account check first, which a cluster electing its leaders answers
 * with 503).
 */
export async function readStream(nc: NatsConnection, line: string, checkAPI = true): Promise<{ leader: string | null; seqs: number[] }> {
  const jsm = await nc.jetstreamManager({ checkAPI });
  const info = await jsm.streams.info(streamName(line));
  const seqs: number[] = [];
  for (let s = info.state.first_seq; s <= info.state.last_seq; s++) {
    const m = await jsm.streams.getMessage(streamName(line), { seq: s });
    if (m.subject === `${subjectOf(line)}.events`) seqs.push((JSON.parse(new TextDecoder().decode(m.data)) as SimEvent).seq);
  }
  return { leader: info.cluster?.leader ?? null, seqs };
}

/** The seqs of the events `line`'s stream holds, in stream order (`readStream`). */
export async function eventSeqs(nc: NatsConnection, line: string, checkAPI = true): Promise<number[]> {
  return (await readStream(nc, line, checkAPI)).seqs;
}
