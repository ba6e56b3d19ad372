/**
 * A served line's records in NATS JetStream (`serve --nats URL`), beside its run folder: one
 * stream per line, `TWINLINE_<LINE>`, file storage, with subjects
 *
 * - `twinline.<line>.events`: every event as drained (JSON, as in events.ndjson);
 * - `twinline.<line>.audit`: the audit trail alone (audit events and rejected commands);
 * - `twinline.<line>.commands`: the applied command log (as in commands.ndjson).
 *
 * Every message carries a message id (`<run>:e:<seq>`, `<run>:a:<seq>`, `<run>:c:<n>`, n the
 * command's line in the run's commands.ndjson, which a resumed run continues), so JetStream drops
 * a message published twice within its duplicate window, and a consumer can read a line back from
 * any stream sequence.
 * Publishing waits for JetStream's acknowledgement (with R replicas, once a majority has it),
 * one record at a time: with several in flight, one lost in a leader change or a reconnect while
 * a later one is stored would put the later one first, and the stream would no longer hold the
 * line in order (the expected-last-message-id check that could refuse the later one is not safe
 * on nats-server 2.9's clustered streams, whose refused messages can set the replicas apart).
 * What is not yet acknowledged waits in a bounded outbox (`MAX_OUTBOX` messages; past it the
 * oldest are dropped and counted, the run folder still has them) and is sent again after a
 * failure, in order, while the host runs. The stream keeps at most `MAX_STREAM_BYTES` (oldest
 * discarded first). Should publishing fail for `FAILOVER_MS` in a row, the streams move to the
 * next server of their list (`failover`).
 */
import { connect, RetentionPolicy, StorageType, DiscardPolicy, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { LoggedCommand } from '../core/commands.ts';
import { TwinlineError } from '../core/errors.ts';
import { eventToJson, type SimEvent } from '../core/events.ts';
import { keepNonFinite } from '../core/world.ts';

/** messages waiting for JetStream at most */
export const MAX_OUTBOX = 100_000;
/** bytes a line's stream keeps at most (a JetStream server reserves this per replica it holds) */
export const MAX_STREAM_BYTES = 256 * 1024 ** 2;
/** JetStream's duplicate window [ns] (10 min) */
const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;
/** encodes every record's JSON (one, not one per publish) */
const encoder = new TextEncoder();
/** wait before sending again after a failure [ms] */
const RETRY_MS = 1000;
/** how long a publish waits for JetStream's acknowledgement [ms] */
const ACK_MS = 10_000;
/** how long publishing may fail in a row before the streams move to the next server [ms] */
export const FAILOVER_MS = 30_000;
/** how long a leader step-down request waits for its answer [ms] */
const STEP_DOWN_MS = 5000;
/** how long a closing host waits for the server to answer its drain [ms] */
const DRAIN_MS = 2000;

/** host:port of a server URL (`nats://user@host:4222/` → `host:4222`), as `NatsConnection.getServer()` names it. */
function hostPort(url: string): string {
  return url.trim().replace(/^[a-z]+:\/\//i, '').replace(/^[^@/]*@/, '').replace(/\/.*$/, '');
}

/**
 * Where a failover goes after `current` (host:port): the server after it in `servers`, or after
 * `fallback` when it is not one of them (a server the cluster told the client of). An index.
 */
export function nextServer(servers: readonly string[], current: string, fallback: number): number {
  const at = servers.findIndex((s) => hostPort(s) === current);
  return ((at >= 0 ? at : fallback) + 1) % servers.length;
}

/** A connection to the first of `servers` that answers (and to the others in turn should it drop). */
function dial(servers: readonly string[], line: string): Promise<NatsConnection> {
  return connect({ servers: [...servers], noRandomize: true, name: `twinline ${line}`, maxReconnectAttempts: -1, reconnectTimeWait: 1000, timeout: 10_000 });
}

/** `p`, or a rejection once `ms` passed without it settling (a client caught mid-reconnect must not stall the outbox). */
function settles<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`no acknowledgement within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The stream name of a line id. */
export function streamName(line: string): string {
  return `TWINLINE_${line.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/** The subject prefix of a line id (NATS tokens: no dots or wildcards). */
export function subjectOf(line: string): string {
  return `twinline.${line.replace(/[.*>\s]/g, '_')}`;
}

interface Pending {
  subject: string;
  id: string;
  data: string;
}

/**
 * The records waiting for JetStream, oldest first: an array read from a moving head, so taking
 * or dropping the oldest costs the same with a hundred thousand waiting as with ten (an array's
 * `shift` moves every record behind it); compacted once the head has passed half of it.
 */
class Outbox {
  private items: Pending[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** The oldest record, undefined when none waits. */
  first(): Pending | undefined {
    return this.items[this.head];
  }

  push(p: Pending): void {
    this.items.push(p);
  }

  /** Takes the oldest record when it is `p`; false when `p` was dropped past the bound meanwhile. */
  take(p: Pending): boolean {
    if (this.items[this.head] !== p) return false;
    this.drop(1);
    return true;
  }

  /** Drops the `n` oldest records. */
  drop(n: number): void {
    this.head = Math.min(this.items.length, this.head + n);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Puts `list` ahead of what waits. */
  prepend(list: readonly Pending[]): void {
    this.items = list.concat(this.items.slice(this.head));
    this.head = 0;
  }
}

/** What `GET /api/history`'s sibling status (and the banner) say of the streams. */
export interface StreamsStatus {
  url: string;
  stream: string;
  published: number;
  pending: number;
  dropped: number;
  error: string | null;
  /** the server the streams are connected to now (host:port) */
  server: string;
  /** times the streams moved to the next server after publishing failed for `FAILOVER_MS` */
  failovers: number;
}

/** Options of `LineStreams.open`. */
export interface StreamsOptions {
  url: string;
  line: string;
  run: string;
  /** how many lines the run's commands.ndjson holds already (a resumed run's next command has this position) */
  commandsLogged: number;
  replicas: number;
  /** the run folder's events after seq `after`, oldest first (resume.ts `loggedEventsAfter`) */
  loggedEvents?: (after: number) => readonly { seq: number; line: string; type: string }[];
  /** the run folder's commands after position `after`, `total` the lines it holds now (resume.ts `loggedCommandsAfter`) */
  loggedCommands?: (after: number, total: number) => readonly { at: number; line: string }[];
  /** how long publishing may fail in a row before moving to the next server [ms] (`FAILOVER_MS`) */
  failoverMs?: number;
  /** records that may wait for JetStream at most (`MAX_OUTBOX`) */
  maxOutbox?: number;
  /** where a move to another server is told */
  log?: (line: string) => void;
}

/** JetStream's answer when a stream holds no message on a subject. */
const isNoMessage = (e: unknown): boolean => e instanceof Error && /no message found/i.test(e.message);

/** See the module comment. */
export class LineStreams {
  private readonly outbox = new Outbox();
  private published = 0;
  private dropped = 0;
  private error: string | null = null;
  private sending = false;
  private closed = false;
  /** the stream is there and the run folder's catch-up is queued: publishing may start */
  private ready = false;
  private js: JetStreamClient;
  /** since when publishing has failed in a row [ms], null while it succeeds */
  private failingSince: number | null = null;
  private failovers = 0;
  /** the index in the server list of the server the last failover dialled first */
  private first = 0;
  private commandsSeen: number;
  readonly stream: string;
  private readonly subject: string;
  /** settles once the stream is there (or the streams closed first) */
  readonly prepared: Promise<void>;

  private constructor(private nc: NatsConnection, private readonly o: StreamsOptions) {
    this.stream = streamName(o.line);
    this.subject = subjectOf(o.line);
    this.commandsSeen = o.commandsLogged;
    this.js = nc.jetstream();
    this.prepared = this.prepare();
  }

  /**
   * Connects to the first server that answers (`url`: one or several, comma-separated) and
   * returns at once; the stream is made (or found) in the background, asked again every second
   * while JetStream does not answer (a cluster electing its leader, a node cut off from the
   * others), and what the run folder holds that the stream lacks is queued first. Meanwhile
   * the line runs and its records wait in the outbox. No server answering is an error.
   */
  static async open(o: StreamsOptions): Promise<LineStreams> {
    let nc: NatsConnection;
    try {
      nc = await dial(o.url.split(','), o.line);
    } catch (e) {
      throw new TwinlineError('USAGE', `--nats ${o.url}: cannot connect (${e instanceof Error ? e.message : String(e)})`);
    }
    return new LineStreams(nc, o);
  }

  private async prepare(): Promise<void> {
    const config = {
      name: this.stream, subjects: [`${this.subject}.>`], storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old,
      max_bytes: MAX_STREAM_BYTES, num_replicas: this.o.replicas, duplicate_window: DUPLICATE_WINDOW_NS,
    };
    while (!this.closed) {
      try {
        const jsm = await this.nc.jetstreamManager();
        await jsm.streams.info(config.name).catch(async () => jsm.streams.add(config));
        // what the run folder holds beyond the stream (a host killed before JetStream acknowledged it), ahead of what came since
        const events = this.o.loggedEvents?.(await this.lastEventSeq(jsm)) ?? [];
        // every command appended to commands.ndjson since the start was counted here too
        const commands = this.o.loggedCommands?.(await this.lastCommandAt(jsm), this.commandsSeen) ?? [];
        const first: Pending[] = [];
        for (const l of events) {
          first.push({ subject: `${this.subject}.events`, id: `${this.o.run}:e:${l.seq}`, data: l.line });
          if (l.type === 'audit' || l.type === 'rejected') first.push({ subject: `${this.subject}.audit`, id: `${this.o.run}:a:${l.seq}`, data: l.line });
        }
        for (const l of commands) first.push({ subject: `${this.subject}.commands`, id: `${this.o.run}:c:${l.at}`, data: l.line });
        // a record queued since and also in the folder goes twice: JetStream keeps the first (same
        // id); past the outbox's bound the oldest go (counted: the folder still has them)
        this.outbox.prepend(first);
        this.bound();
        this.ready = true;
        this.error = null;
        this.failingSince = null;
        this.kick();
        return;
      } catch (e) {
        this.error = `JetStream stream ${config.name} not reachable yet: ${e instanceof Error ? e.message : String(e)}`;
        await this.failed();
      }
    }
  }

  /** The seq of the last event the stream holds of this run (-1: none); throws when JetStream does not answer. */
  private async lastEventSeq(jsm: JetStreamManager): Promise<number> {
    try {
      const m = await jsm.streams.getMessage(this.stream, { last_by_subj: `${this.subject}.events` });
      const e = JSON.parse(new TextDecoder().decode(m.data)) as SimEvent;
      return typeof e.seq === 'number' ? e.seq : -1;
    } catch (e) {
      if (isNoMessage(e)) return -1;
      throw e;
    }
  }

  /** The position of the last command the stream holds of this run (-1: none), from its message id; throws when JetStream does not answer. */
  private async lastCommandAt(jsm: JetStreamManager): Promise<number> {
    try {
      const m = await jsm.streams.getMessage(this.stream, { last_by_subj: `${this.subject}.commands` });
      const id = m.header.get('Nats-Msg-Id');
      const prefix = `${this.o.run}:c:`;
      return id.startsWith(prefix) ? Number(id.slice(prefix.length)) : -1;
    } catch (e) {
      if (isNoMessage(e)) return -1;
      throw e;
    }
  }

  /** Drained events: all to `.events`, the audit trail also to `.audit`. */
  onEvents = (evs: readonly SimEvent[]): void => {
    for (const e of evs) {
      const data = eventToJson(e);
      this.push({ subject: `${this.subject}.events`, id: `${this.o.run}:e:${e.seq}`, data });
      if (e.type === 'audit' || e.type === 'rejected') this.push({ subject: `${this.subject}.audit`, id: `${this.o.run}:a:${e.seq}`, data });
    }
    this.kick();
  };

  /** Commands as the run log appends them. */
  onCommands(cmds: readonly LoggedCommand[]): void {
    for (const c of cmds) {
      this.push({ subject: `${this.subject}.commands`, id: `${this.o.run}:c:${this.commandsSeen++}`, data: JSON.stringify(c, keepNonFinite) });
    }
    this.kick();
  }

  private push(p: Pending): void {
    if (this.closed) return;
    this.outbox.push(p);
    this.bound();
  }

  /** Drops the oldest records past `maxOutbox` (counted; the run folder still has them). */
  private bound(): void {
    const max = this.o.maxOutbox ?? MAX_OUTBOX;
    if (this.outbox.length > max) {
      const over = this.outbox.length - max;
      this.outbox.drop(over);
      this.dropped += over;
    }
  }

  private kick(): void {
    if (this.ready && !this.sending) void this.send();
  }

  /** Sends the outbox in order, one record at a time; after a failure waits and sends the same record again. */
  private async send(): Promise<void> {
    this.sending = true;
    try {
      while (this.outbox.length > 0 && !this.nc.isClosed()) {
        const p = this.outbox.first()!;
        try {
          // a record sent again after its acknowledgement was lost is dropped by JetStream (same id within the window)
          await settles(this.js.publish(p.subject, encoder.encode(p.data), { msgID: p.id, timeout: ACK_MS }), ACK_MS + 5000);
        } catch (e) {
          this.error = e instanceof Error ? e.message : String(e);
          if (this.closed) return;
          // on another server, make sure of the stream first
          if (await this.failed()) await this.prepare();
          continue;
        }
        // dropped past the bound while in flight (and counted so), yet JetStream has it
        if (!this.outbox.take(p)) this.dropped--;
        this.published++;
        this.error = null;
        this.failingSince = null;
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * After a failure: waits `RETRY_MS`, or, once JetStream has failed for `FAILOVER_MS` in a
   * row, moves to the next server (`failover`); true when it moved.
   */
  private async failed(): Promise<boolean> {
    this.failingSince ??= Date.now();
    if (Date.now() - this.failingSince >= (this.o.failoverMs ?? FAILOVER_MS) && await this.failover()) return true;
    await new Promise((r) => setTimeout(r, RETRY_MS));
    return false;
  }

  /**
   * JetStream has failed for `FAILOVER_MS` in a row while a server answers: what holds it up
   * there (a node back from a partition whose routes or replica of the stream have not caught
   * up, a node cut off from the others, a stream lost with its node) need not hold at another.
   * Connects to the next server of the list (the others after it, in turn, should it not
   * answer), closes the old connection and asks the stream's leader to step down; true when it
   * moved. The caller then makes sure of the stream there as at the start (the run folder's
   * records the stream lacks queued first; JetStream drops those it holds already by their ids),
   * and sending goes on from the oldest record not acknowledged. With one server it dials that
   * one again.
   */
  private async failover(): Promise<boolean> {
    const servers = this.o.url.split(',');
    const was = this.nc.getServer();
    const why = this.error;
    // the one after the server in use: after a start on the second server, the third (or the first)
    this.first = nextServer(servers, was, this.first);
    let nc: NatsConnection;
    try {
      nc = await dial([...servers.slice(this.first), ...servers.slice(0, this.first)], this.o.line);
    } catch (e) {
      this.error = `${why ?? 'no acknowledgement'}; no other server answers (${e instanceof Error ? e.message : String(e)})`;
      return false;
    }
    const old = this.nc;
    this.nc = nc;
    this.js = nc.jetstream();
    this.failovers++;
    this.failingSince = null;
    this.ready = false;
    void old.close().catch(() => undefined);
    const leader = await this.stepDown();
    this.o.log?.(`  JetStream: nothing from ${was} for ${(this.o.failoverMs ?? FAILOVER_MS) / 1000} s (${why ?? 'no answer'}); moved to ${nc.getServer()}, ${this.outbox.length} records waiting; ${leader}`);
    return true;
  }

  /**
   * Asks the stream's leader to step down (best effort), so the replicas elect another: a leader
   * that cannot reach the others' replicas (after a partition) would otherwise keep the stream
   * from taking anything. Says what came of it.
   */
  private async stepDown(): Promise<string> {
    try {
      const m = await this.nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${this.stream}`, undefined, { timeout: STEP_DOWN_MS });
      const r = JSON.parse(new TextDecoder().decode(m.data)) as { success?: boolean; error?: { description?: string } };
      return r.success === true ? 'its stream\'s leader stepped down' : `its stream's leader did not step down (${r.error?.description ?? 'no reason given'})`;
    } catch (e) {
      return `its stream's leader did not step down (${e instanceof Error ? e.message : String(e)})`;
    }
  }

  status(): StreamsStatus {
    return { url: this.o.url, stream: this.stream, published: this.published, pending: this.outbox.length, dropped: this.dropped, error: this.error, server: this.nc.getServer(), failovers: this.failovers };
  }

  /**
   * Sends what waits (for at most `ms`), then closes the connection: drained when the server
   * answers within `DRAIN_MS`, closed outright when it does not (a server cut off leaves the
   * connection stalled, and a drain waits on its answer until the client's pings give up, minutes).
   * What was not acknowledged stays in the run folder and is sent when the run resumes.
   */
  async close(ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while ((this.outbox.length > 0 || this.sending) && Date.now() < end && !this.nc.isClosed()) {
      this.kick();
      await new Promise((r) => setTimeout(r, 50));
    }
    this.closed = true;
    await settles(this.nc.drain(), DRAIN_MS).catch(() => this.nc.close().catch(() => undefined));
  }
}
