/**
 * Sparkplug B (spBv1.0) encoding: the line is one edge node (group = site slug, edge node =
 * line slug), each station a device. NBIRTH carries bdSeq and `Node Control/Rebirth`; DBIRTH
 * every metric with name, alias, datatype and `engUnit`; DDATA only changed metrics, by alias.
 * NDEATH is the MQTT will, its bdSeq matching the session's NBIRTH. `seq` counts 0…255 over
 * every node message. After a reconnect the node is born again and the DDATA held during
 * the outage follow, flagged historical (Sparkplug 3.0 store-and-forward).
 */
import * as sparkplug from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { MqttClient } from 'mqtt';
import type { CommandArgs } from '../../core/commands.ts';
import { Exceptions, stateName, wireValue, type Sample, type StationTags } from './tags.ts';
import { spTopic } from './topics.ts';

const SP = sparkplug.get('spBv1.0')!;

/** Metric names of the node. */
export const BDSEQ = 'bdSeq';
export const REBIRTH = 'Node Control/Rebirth';
/** Per-device metrics besides the tags: the PackML state and a writable PackML command. */
export const STATE_METRIC = 'State';
export const COMMAND_METRIC = 'Command';

/** DDATA held for sending: metrics with values and sample time. */
export interface DeviceData {
  device: string;
  /** wall time of the sample [ms since epoch] */
  timestamp: number;
  metrics: UMetric[];
  historical: boolean;
}

/** Encodes a payload (seq and timestamps are numbers; the library widens them). */
export function encode(p: UPayload): Uint8Array {
  return SP.encodePayload(p);
}

/** Decodes a payload; throws on garbage. */
export function decode(b: Uint8Array): UPayload {
  return SP.decodePayload(b);
}

/** A number from a decoded Sparkplug value (Long or number). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return NaN;
}

/** The edge node's message builder: aliases, seq and bdSeq live here. */
export class SparkplugNode {
  /** birth/death sequence of the MQTT session (0…255) */
  bdSeq = 0;
  private seq = 0;
  private readonly exceptions: Exceptions;
  /** alias of tag k of station s: flat index + first device alias */
  private readonly aliasBase = 16;
  private readonly stateAlias: number;
  /** rebirths sent on request */
  rebirths = 0;

  constructor(
    readonly group: string,
    readonly edge: string,
    private readonly stations: readonly StationTags[],
    private readonly tagCount: number,
    private readonly now: () => number,
  ) {
    this.exceptions = new Exceptions(stations, tagCount);
    this.stateAlias = this.aliasBase + tagCount;
  }

  /** The next message's seq: 0…255, wrapping. */
  nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    return s;
  }

  /** The will for the next connection: NDEATH with the current bdSeq. */
  death(): { topic: string; payload: Buffer } {
    return { topic: spTopic(this.group, 'NDEATH', this.edge), payload: Buffer.from(encode({ timestamp: this.now(), metrics: [{ name: BDSEQ, type: 'Int64', value: this.bdSeq }] })) };
  }

  /** NBIRTH and every DBIRTH with current values; seq restarts at 0. */
  births(sample: Sample): { topic: string; payload: Buffer }[] {
    this.seq = 0;
    const ts = this.now();
    const out = [{
      topic: spTopic(this.group, 'NBIRTH', this.edge),
      payload: Buffer.from(encode({
        timestamp: ts, seq: this.nextSeq(),
        metrics: [
          { name: BDSEQ, type: 'Int64', value: this.bdSeq, timestamp: ts },
          { name: REBIRTH, alias: 1, type: 'Boolean', value: false, timestamp: ts },
        ],
      })),
    }];
    this.exceptions.reset();
    const metrics = new Map<number, UMetric[]>();
    this.exceptions.changed(sample, (st, k, i) => {
      const t = st.tags[k]!;
      const m: UMetric = {
        name: t.name, alias: this.aliasBase + i, type: t.dataType, value: wireValue(t, sample.values[i] ?? NaN), timestamp: ts,
        properties: { engUnit: { type: 'String', value: t.unit }, readOnly: { type: 'Boolean', value: t.access !== 'rw' } },
      };
      if (t.min !== null) m.properties!.engLow = { type: 'Double', value: t.min };
      if (t.max !== null) m.properties!.engHigh = { type: 'Double', value: t.max };
      (metrics.get(st.index) ?? metrics.set(st.index, []).get(st.index)!).push(m);
    }, () => undefined);
    for (const st of this.stations) {
      const list = metrics.get(st.index) ?? [];
      list.push({ name: STATE_METRIC, alias: this.stateAlias + 2 * st.index, type: 'String', value: stateName(sample.states[st.index] ?? 0), timestamp: ts });
      list.push({ name: COMMAND_METRIC, alias: this.stateAlias + 2 * st.index + 1, type: 'String', value: '', timestamp: ts, properties: { readOnly: { type: 'Boolean', value: false } } });
      out.push({ topic: spTopic(this.group, 'DBIRTH', this.edge, st.slug), payload: Buffer.from(encode({ timestamp: ts, seq: this.nextSeq(), metrics: list })) });
    }
    return out;
  }

  /** DDATA contents for what changed since the last call, one per device with changes. */
  changes(sample: Sample, out: (d: DeviceData) => void): void {
    const ts = this.now();
    const by = new Map<number, UMetric[]>();
    const add = (s: number, m: UMetric): void => void (by.get(s) ?? by.set(s, []).get(s)!).push(m);
    this.exceptions.changed(
      sample,
      (st, k, i) => add(st.index, { alias: this.aliasBase + i, type: st.tags[k]!.dataType, value: wireValue(st.tags[k]!, sample.values[i] ?? NaN), timestamp: ts }),
      (st, n) => add(st.index, { alias: this.stateAlias + 2 * st.index, type: 'String', value: stateName(n), timestamp: ts }),
    );
    for (const st of this.stations) {
      const metrics = by.get(st.index);
      if (metrics !== undefined) out({ device: st.slug, timestamp: ts, metrics, historical: false });
    }
  }

  /** Encodes held DDATA with the next seq. */
  ddata(d: DeviceData): { topic: string; payload: Buffer } {
    const metrics = d.historical ? d.metrics.map((m) => ({ ...m, isHistorical: true })) : d.metrics;
    return { topic: spTopic(this.group, 'DDATA', this.edge, d.device), payload: Buffer.from(encode({ timestamp: d.timestamp, seq: this.nextSeq(), metrics })) };
  }

  /** An NCMD: whether it asks for a rebirth, or what is wrong with it. */
  ncmd(payload: Buffer): { rebirth: boolean } | string {
    let p: UPayload;
    try {
      p = decode(payload);
    } catch (e) {
      return `NCMD payload is not a Sparkplug B payload: ${(e as Error).message}`;
    }
    let rebirth = false;
    for (const m of p.metrics ?? []) {
      if (m.name === REBIRTH || num(m.alias) === 1) rebirth ||= m.value === true;
      else return `unknown node metric ${JSON.stringify(m.name ?? num(m.alias))}`;
    }
    return { rebirth };
  }

  /** A DCMD for `station`: `Command` → a PackML command, a writable tag → `set`; or what is wrong. */
  dcmd(payload: Buffer, stationSlug: string): { command: string; args: CommandArgs }[] | string {
    let p: UPayload;
    try {
      p = decode(payload);
    } catch (e) {
      return `DCMD payload is not a Sparkplug B payload: ${(e as Error).message}`;
    }
    const st = this.stations.find((s) => s.slug === stationSlug);
    if (st === undefined) return `no device ${JSON.stringify(stationSlug)}`;
    const out: { command: string; args: CommandArgs }[] = [];
    for (const m of p.metrics ?? []) {
      const alias = m.alias === undefined || m.alias === null ? NaN : num(m.alias);
      const isCommand = m.name === COMMAND_METRIC || alias === this.stateAlias + 2 * st.index + 1;
      if (isCommand) {
        if (typeof m.value !== 'string' || m.value === '') return 'Command must be a non-empty String (a PackML command: start, stop, reset …)';
        out.push({ command: m.value.toLowerCase(), args: {} });
        continue;
      }
      const k = m.name !== undefined && m.name !== null ? st.tags.findIndex((t) => t.name === m.name) : alias - this.aliasBase - st.offset;
      const tag = st.tags[k];
      if (tag === undefined) return `device ${stationSlug} has no metric ${JSON.stringify(m.name ?? alias)}`;
      const v = typeof m.value === 'boolean' ? (m.value ? 1 : 0) : num(m.value);
      // the line decides ranges and access; a value it cannot take is passed as text so it refuses and logs it
      out.push({ command: 'set', args: { field: tag.name, value: Number.isFinite(v) ? v : String(m.value) } });
    }
    return out;
  }
}

/** Publishes held DDATA (QoS 0, as Sparkplug B requires for data). */
export function deliverSparkplug(node: SparkplugNode): (client: MqttClient, d: DeviceData, done: (err?: Error) => void) => void {
  return (client, d, done) => {
    const m = node.ddata(d);
    client.publish(m.topic, m.payload, { qos: 0 }, (err) => done(err ?? undefined));
  };
}

/** Size of held DDATA for the store-and-forward bound [bytes], roughly. */
export function sparkplugSize(d: DeviceData): number {
  return 48 + 24 * d.metrics.length;
}
