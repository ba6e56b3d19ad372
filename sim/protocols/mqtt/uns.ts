/**
 * The unified namespace encoding: one JSON message per tag change on
 * `<enterprise>/<site>/<area>/<line>/<station>/<tag>` as `{"v", "t", "u", "seq"}` (value, sim
 * time [s], unit, a per-publisher message counter that lets subscribers see gaps), the PackML
 * state as `<station>/State`, and retained `<tag>/$meta` descriptions. Values are retained so a
 * late subscriber sees the current state at once.
 */
import type { MqttClient } from 'mqtt';
import { Exceptions, stateName, wireValue, type Sample, type StationTags, type Tag } from './tags.ts';

/** One queued UNS message. */
export interface UnsMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** The `$meta` document of a tag. */
export function metaOf(t: Tag): Record<string, unknown> {
  return {
    unit: t.unit, range: t.min === null && t.max === null ? null : [t.min, t.max], description: t.description,
    access: t.access, dataType: t.dataType, deadband: t.relative ? { relative: t.deadband } : { absolute: t.deadband },
  };
}

/** Builds UNS messages from samples. */
export class UnsEncoder {
  private readonly exceptions: Exceptions;
  /** next message counter */
  seq = 0;

  constructor(readonly prefix: string, private readonly stations: readonly StationTags[], tagCount: number) {
    this.exceptions = new Exceptions(stations, tagCount);
  }

  /** Retained metadata of every tag and of the State topics. */
  meta(): UnsMessage[] {
    const out: UnsMessage[] = [];
    for (const st of this.stations) {
      for (const t of st.tags) out.push({ topic: `${this.prefix}/${st.slug}/${t.name}/$meta`, payload: JSON.stringify(metaOf(t)), retain: true });
      out.push({
        topic: `${this.prefix}/${st.slug}/State/$meta`,
        payload: JSON.stringify({ unit: '', range: null, description: 'PackML state (ISA-TR88.00.02 name)', access: 'r', dataType: 'String' }),
        retain: true,
      });
    }
    return out;
  }

  /** Messages for everything that moved past its deadband since the last call. */
  changes(sample: Sample, out: (m: UnsMessage) => void): void {
    const t = sample.simTime;
    this.exceptions.changed(
      sample,
      (st, k, i) => {
        const tag = st.tags[k]!;
        const payload = `{"v":${JSON.stringify(wireValue(tag, sample.values[i] ?? NaN))},"t":${t},"u":${JSON.stringify(tag.unit)},"seq":${this.seq++}}`;
        out({ topic: `${this.prefix}/${st.slug}/${tag.name}`, payload, retain: true });
      },
      (st, n) => {
        out({ topic: `${this.prefix}/${st.slug}/State`, payload: `{"v":${JSON.stringify(stateName(n))},"t":${t},"u":"","seq":${this.seq++}}`, retain: true });
      },
    );
  }
}

/** Publishes one UNS message (QoS 1: the client keeps it until acknowledged, across reconnects). */
export function deliverUns(client: MqttClient, m: UnsMessage, done: (err?: Error) => void): void {
  client.publish(m.topic, m.payload, { qos: 1, retain: m.retain }, (err) => done(err ?? undefined));
}

/** Size of a queued UNS message for the store-and-forward bound [bytes]. */
export function unsSize(m: UnsMessage): number {
  return m.topic.length + m.payload.length + 8;
}
