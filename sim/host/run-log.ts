/**
 * A served line's durable record: every event (`events.ndjson`), the audit trail alone
 * (`audit.ndjson`: audit events and rejected commands) and the command log
 * (`commands.ndjson`) are appended to `<home>/runs/<run id>/` as they are drained, with
 * synchronous writes, so once the host has answered a request the record of it survives a
 * kill -9. Files rotate by size (`events.1.ndjson` is the previous one) and only the newest
 * few are kept, so the disk is bounded too. In memory the host keeps a ring of recent events
 * for `GET /api/events`, which pages forward from a sequence number and says when the asked-for
 * events have left the ring (they are still in the files).
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { LoggedCommand } from '../core/commands.ts';
import { eventToJson, type SimEvent } from '../core/events.ts';
import { keepNonFinite } from '../core/world.ts';

/** Options of a `RunLog`. */
export interface RunLogOptions {
  /** the run's folder (created) */
  dir: string;
  /** events kept in memory for `GET /api/events` */
  ringSize?: number;
  /** a file rotates past this size [bytes] */
  rotateBytes?: number;
  /** rotated files kept per log (older ones are deleted) */
  keep?: number;
}

/** One page of `GET /api/events`. */
export interface EventPage {
  /** the oldest `limit` events with seq > since, in order */
  events: SimEvent[];
  /** pass as `since` for the next page */
  next: number;
  /** more events after this page are in the ring */
  more: boolean;
  /** events between `since` and the ring's oldest are no longer in memory (see `file`) */
  gap: { from: number; to: number } | null;
  /** where every event is kept */
  file: string;
}

/** `events.ndjson` → `events.<k>.ndjson`, `nats.log` → `nats.<k>.log`: the k-th older file of a rotating log. */
function rotatedName(path: string, k: number): string {
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}.${k}${ext}`;
}

/**
 * An append-only file that rotates by size: past `rotateBytes` it becomes `<name>.1.<ext>`
 * (`events.1.ndjson`), the older ones move up, and those past `keep` are deleted.
 */
export class Rotating {
  private fd: number;
  private size: number;
  constructor(private readonly path: string, private readonly rotateBytes: number, private readonly keep: number) {
    this.fd = openSync(path, 'a', 0o600);
    // a file appended to again (a resumed run, a plant started again) counts what it holds
    this.size = fstatSync(this.fd).size;
  }

  write(text: string): void {
    if (text === '') return;
    const buf = Buffer.from(text, 'utf8');
    if (this.size > 0 && this.size + buf.length > this.rotateBytes) this.rotate();
    writeSync(this.fd, buf);
    this.size += buf.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(rotatedName(this.path, this.keep), { force: true });
    for (let k = this.keep - 1; k >= 1; k--) if (existsSync(rotatedName(this.path, k))) renameSync(rotatedName(this.path, k), rotatedName(this.path, k + 1));
    renameSync(this.path, rotatedName(this.path, 1));
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }
}

/** See the module comment. */
export class RunLog {
  readonly dir: string;
  private readonly ring: SimEvent[] = [];
  private readonly ringSize: number;
  private readonly events: Rotating;
  private readonly audit: Rotating;
  private readonly commands: Rotating;
  /** position in the line's command log written so far */
  commandsWritten = 0;
  private closed = false;

  constructor(o: RunLogOptions) {
    this.dir = o.dir;
    this.ringSize = o.ringSize ?? 10_000;
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    const rot = o.rotateBytes ?? 64 * 1024 * 1024;
    const keep = o.keep ?? 8;
    this.events = new Rotating(join(o.dir, 'events.ndjson'), rot, keep);
    this.audit = new Rotating(join(o.dir, 'audit.ndjson'), rot, keep);
    this.commands = new Rotating(join(o.dir, 'commands.ndjson'), rot, keep);
  }

  /** Appends drained events (to disk first, then to the ring). */
  onEvents = (evs: readonly SimEvent[]): void => {
    if (this.closed || evs.length === 0) return;
    let all = '';
    let audit = '';
    for (const e of evs) {
      const line = `${eventToJson(e)}\n`;
      all += line;
      if (e.type === 'audit' || e.type === 'rejected') audit += line;
    }
    this.events.write(all);
    this.audit.write(audit);
    for (const e of evs) this.ring.push(e);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
  };

  /** Appends commands fetched from the line's log (from position `commandsWritten`). */
  onCommands(cmds: readonly LoggedCommand[]): void {
    if (this.closed || cmds.length === 0) return;
    let text = '';
    for (const c of cmds) text += `${JSON.stringify(c, keepNonFinite)}\n`;
    this.commands.write(text);
    this.commandsWritten += cmds.length;
  }

  /** Events with seq > since, oldest first, at most `limit`. */
  page(since: number, limit: number): EventPage {
    const first = this.ring[0]?.seq ?? Infinity;
    // the ring is ordered by seq: binary search for the first event after `since`
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ring[mid]?.seq ?? Infinity) > since) hi = mid;
      else lo = mid + 1;
    }
    const events = this.ring.slice(lo, lo + limit);
    const last = events[events.length - 1];
    return {
      events,
      next: last?.seq ?? since,
      more: lo + limit < this.ring.length,
      gap: first !== Infinity && since + 1 < first ? { from: since + 1, to: first - 1 } : null,
      file: join(this.dir, 'events.ndjson'),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.events.close();
    this.audit.close();
    this.commands.close();
  }
}

/**
 * An append-only NDJSON file capped by line count: past `maxLines` lines one last line says how
 * many more were not written (`{"truncated":true,"<moreKey>":N,"limit":…}`, on close). For
 * records that must not rotate away: the range's attack runs (which label a dataset), the
 * alerts, the responders' actions.
 */
export class CappedLog {
  private fd: number | null;
  private written = 0;
  private over = 0;

  constructor(readonly file: string, private readonly maxLines = 100_000, private readonly moreKey = 'more') {
    this.fd = openSync(file, 'a', 0o600);
  }

  /** Appends one record (synchronously); counts it instead once the cap is reached. */
  write(record: unknown): void {
    this.writeAll([record]);
  }

  /** Appends records in one synchronous write; those past the cap are counted instead. */
  writeAll(records: readonly unknown[]): void {
    if (this.fd === null) return;
    let text = '';
    for (const r of records) {
      if (this.written >= this.maxLines) {
        this.over++;
        continue;
      }
      text += `${JSON.stringify(r, keepNonFinite)}\n`;
      this.written++;
    }
    if (text !== '') writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd === null) return;
    if (this.over > 0) writeSync(this.fd, `${JSON.stringify({ truncated: true, [this.moreKey]: this.over, limit: this.maxLines })}\n`);
    closeSync(this.fd);
    this.fd = null;
  }
}

/** A run folder name: UTC time and the scenario id, safe on every file system. */
export function runId(scenarioId: string, now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${scenarioId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60)}`;
}
