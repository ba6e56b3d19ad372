/**
 * Where the historian (historian.ts) keeps its rows: SQLite embedded (better-sqlite3, one file,
 * WAL) or PostgreSQL (pg, a small pool). Both hold the same four tables:
 *
 * - runs (run, scenario, started_ms)
 * - tags (id, run, name, unit, description), unique (run, name)
 * - samples (tag, ms, sim_s, v), primary key (tag, ms): `v` is null where the line held no finite number
 * - events (run, seq, ms, tick, sim_s, type, station, data), primary key (run, seq)
 *
 * `ms` is wall time [ms since the epoch] (what OPC UA's source timestamps are), `sim_s` the
 * simulated time of the same sample. In PostgreSQL the tables are prefixed `twinline_`.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { join } from 'node:path';
import { TwinlineError } from '../core/errors.ts';

/** A value to store. */
export interface ValueRow {
  tag: number;
  ms: number;
  simS: number;
  v: number | null;
}

/** An event to store (`data` as JSON text). */
export interface EventRow {
  seq: number;
  ms: number;
  tick: number;
  simS: number;
  type: string;
  station: string | null;
  data: string;
}

/** A stored value as read back. */
export interface StoredValue {
  ms: number;
  simS: number;
  v: number | null;
}

/** A stored event as read back (`data` parsed). */
export type StoredEvent = Omit<EventRow, 'data'> & { data: Record<string, unknown> };

/** A tag to register. */
export interface TagInfo {
  name: string;
  unit: string;
  description: string;
}

/** A range of one tag's stored values. */
export interface StoreValueQuery {
  /** from this wall time [ms], inclusive; omitted: the start */
  fromMs?: number;
  /** to this wall time [ms], inclusive; omitted: now */
  toMs?: number;
  /** rows at most (the historian bounds it) */
  limit: number;
  /** newest first (with `toMs` and no `fromMs`: the `limit` last values before `toMs`) */
  newestFirst?: boolean;
}

/** A range of stored events. */
export interface StoreEventQuery {
  fromMs?: number;
  toMs?: number;
  /** events after this seq */
  afterSeq?: number;
  type?: string;
  station?: string;
  limit: number;
}

/** A historian's database. */
export interface HistorianStore {
  readonly kind: 'sqlite' | 'postgres';
  /** the file, or the URL without its password */
  readonly where: string;
  /** Makes the tables when missing, registers the run and its tags; the tags' ids, in order. */
  init(run: string, scenario: string, tags: readonly TagInfo[]): Promise<number[]>;
  /** Stores values and events in one transaction (a row already stored is kept as it is). */
  write(run: string, values: readonly ValueRow[], events: readonly EventRow[]): Promise<void>;
  readValues(tag: number, q: StoreValueQuery): Promise<StoredValue[]>;
  readEvents(run: string, q: StoreEventQuery): Promise<StoredEvent[]>;
  /** Deletes the run's rows older than `beforeMs`. */
  prune(run: string, beforeMs: number): Promise<void>;
  close(): Promise<void>;
}

const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (run TEXT PRIMARY KEY, scenario TEXT NOT NULL, started_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, run TEXT NOT NULL, name TEXT NOT NULL, unit TEXT NOT NULL, description TEXT NOT NULL, UNIQUE (run, name));
CREATE TABLE IF NOT EXISTS samples (tag INTEGER NOT NULL, ms INTEGER NOT NULL, sim_s REAL NOT NULL, v REAL, PRIMARY KEY (tag, ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (run TEXT NOT NULL, seq INTEGER NOT NULL, ms INTEGER NOT NULL, tick INTEGER NOT NULL, sim_s REAL NOT NULL, type TEXT NOT NULL, station TEXT, data TEXT NOT NULL, PRIMARY KEY (run, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_time ON events (run, ms);
`;

/** The conditions and parameters of an event query (`?` or `$n` placeholders). */
function eventWhere(run: string, q: StoreEventQuery, mark: (k: number) => string): { sql: string; args: unknown[] } {
  const args: unknown[] = [run];
  const parts = [`run = ${mark(1)}`];
  const add = (cond: (m: string) => string, v: unknown): void => {
    args.push(v);
    parts.push(cond(mark(args.length)));
  };
  if (q.fromMs !== undefined) add((m) => `ms >= ${m}`, q.fromMs);
  if (q.toMs !== undefined) add((m) => `ms <= ${m}`, q.toMs);
  if (q.afterSeq !== undefined) add((m) => `seq > ${m}`, q.afterSeq);
  if (q.type !== undefined) add((m) => `type = ${m}`, q.type);
  if (q.station !== undefined) add((m) => `station = ${m}`, q.station);
  return { sql: parts.join(' AND '), args };
}

/** The conditions and parameters of a value query. */
function valueWhere(tag: number, q: StoreValueQuery, mark: (k: number) => string): { sql: string; args: unknown[] } {
  const args: unknown[] = [tag];
  const parts = [`tag = ${mark(1)}`];
  if (q.fromMs !== undefined) {
    args.push(q.fromMs);
    parts.push(`ms >= ${mark(args.length)}`);
  }
  if (q.toMs !== undefined) {
    args.push(q.toMs);
    parts.push(`ms <= ${mark(args.length)}`);
  }
  return { sql: parts.join(' AND '), args };
}

interface EventRecord { seq: number; ms: number; tick: number; sim_s: number; type: string; station: string | null; data: string | Record<string, unknown> }

function eventOf(r: EventRecord): StoredEvent {
  return { seq: r.seq, ms: r.ms, tick: r.tick, simS: r.sim_s, type: r.type, station: r.station, data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data };
}

/** SQLite embedded: one file, WAL, synchronous NORMAL (a crash keeps every committed transaction but the last few ms). */
export class SqliteStore implements HistorianStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  constructor(readonly where: string) {
    try {
      this.db = new Database(where);
    } catch (e) {
      throw new TwinlineError('USAGE', `historian: cannot open the SQLite file ${where}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SQLITE_SCHEMA);
  }

  init(run: string, scenario: string, tags: readonly TagInfo[]): Promise<number[]> {
    const db = this.db;
    const ids = db.transaction(() => {
      db.prepare('INSERT OR IGNORE INTO runs (run, scenario, started_ms) VALUES (?, ?, ?)').run(run, scenario, Date.now());
      const put = db.prepare('INSERT OR IGNORE INTO tags (run, name, unit, description) VALUES (?, ?, ?, ?)');
      const get = db.prepare<[string, string], { id: number }>('SELECT id FROM tags WHERE run = ? AND name = ?');
      return tags.map((t) => {
        put.run(run, t.name, t.unit, t.description);
        return get.get(run, t.name)!.id;
      });
    })();
    return Promise.resolve(ids);
  }

  write(run: string, values: readonly ValueRow[], events: readonly EventRow[]): Promise<void> {
    const db = this.db;
    const putValue = db.prepare('INSERT OR IGNORE INTO samples (tag, ms, sim_s, v) VALUES (?, ?, ?, ?)');
    const putEvent = db.prepare('INSERT OR IGNORE INTO events (run, seq, ms, tick, sim_s, type, station, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const r of values) putValue.run(r.tag, r.ms, r.simS, r.v);
      for (const e of events) putEvent.run(run, e.seq, e.ms, e.tick, e.simS, e.type, e.station, e.data);
    })();
    return Promise.resolve();
  }

  readValues(tag: number, q: StoreValueQuery): Promise<StoredValue[]> {
    const w = valueWhere(tag, q, () => '?');
    const rows = this.db.prepare(`SELECT ms, sim_s, v FROM samples WHERE ${w.sql} ORDER BY ms ${q.newestFirst === true ? 'DESC' : 'ASC'} LIMIT ?`)
      .all(...w.args, q.limit) as { ms: number; sim_s: number; v: number | null }[];
    return Promise.resolve(rows.map((r) => ({ ms: r.ms, simS: r.sim_s, v: r.v })));
  }

  readEvents(run: string, q: StoreEventQuery): Promise<StoredEvent[]> {
    const w = eventWhere(run, q, () => '?');
    const rows = this.db.prepare(`SELECT seq, ms, tick, sim_s, type, station, data FROM events WHERE ${w.sql} ORDER BY seq LIMIT ?`).all(...w.args, q.limit) as EventRecord[];
    return Promise.resolve(rows.map(eventOf));
  }

  prune(run: string, beforeMs: number): Promise<void> {
    this.db.prepare('DELETE FROM samples WHERE tag IN (SELECT id FROM tags WHERE run = ?) AND ms < ?').run(run, beforeMs);
    this.db.prepare('DELETE FROM events WHERE run = ? AND ms < ?').run(run, beforeMs);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

const PG_SCHEMA = `
CREATE TABLE IF NOT EXISTS twinline_runs (run TEXT PRIMARY KEY, scenario TEXT NOT NULL, started_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS twinline_tags (id SERIAL PRIMARY KEY, run TEXT NOT NULL, name TEXT NOT NULL, unit TEXT NOT NULL, description TEXT NOT NULL, UNIQUE (run, name));
CREATE TABLE IF NOT EXISTS twinline_samples (tag INTEGER NOT NULL, ms BIGINT NOT NULL, sim_s DOUBLE PRECISION NOT NULL, v DOUBLE PRECISION, PRIMARY KEY (tag, ms));
CREATE TABLE IF NOT EXISTS twinline_events (run TEXT NOT NULL, seq BIGINT NOT NULL, ms BIGINT NOT NULL, tick BIGINT NOT NULL, sim_s DOUBLE PRECISION NOT NULL, type TEXT NOT NULL, station TEXT, data JSONB NOT NULL, PRIMARY KEY (run, seq));
CREATE INDEX IF NOT EXISTS twinline_events_by_time ON twinline_events (run, ms);
`;

/** The URL with its password left out (for banners and status). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** PostgreSQL: a pool of two connections; values go in with one `unnest` insert per write. */
export class PostgresStore implements HistorianStore {
  readonly kind = 'postgres';
  readonly where: string;
  private readonly pool: pg.Pool;
  constructor(url: string) {
    this.where = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
    // an idle connection that drops is replaced on the next query; it must not take the host down
    this.pool.on('error', () => undefined);
  }

  async init(run: string, scenario: string, tags: readonly TagInfo[]): Promise<number[]> {
    const c = await this.pool.connect().catch((e: unknown) => {
      throw new TwinlineError('USAGE', `historian: cannot connect to ${this.where}: ${e instanceof Error ? e.message : String(e)}`);
    });
    try {
      await c.query('BEGIN');
      // hosts sharing the database make the tables one at a time
      await c.query("SELECT pg_advisory_xact_lock(hashtext('twinline_historian'))");
      await c.query(PG_SCHEMA);
      await c.query('INSERT INTO twinline_runs (run, scenario, started_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [run, scenario, Date.now()]);
      await c.query(
        `INSERT INTO twinline_tags (run, name, unit, description) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
        [run, tags.map((t) => t.name), tags.map((t) => t.unit), tags.map((t) => t.description)],
      );
      const got = await c.query<{ id: number; name: string }>('SELECT id, name FROM twinline_tags WHERE run = $1', [run]);
      await c.query('COMMIT');
      const byName = new Map(got.rows.map((r) => [r.name, r.id]));
      return tags.map((t) => byName.get(t.name)!);
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e instanceof TwinlineError ? e : new TwinlineError('USAGE', `historian: ${this.where}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      c.release();
    }
  }

  async write(run: string, values: readonly ValueRow[], events: readonly EventRow[]): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      if (values.length > 0) {
        await c.query(
          'INSERT INTO twinline_samples (tag, ms, sim_s, v) SELECT * FROM unnest($1::int[], $2::bigint[], $3::float8[], $4::float8[]) ON CONFLICT DO NOTHING',
          [values.map((r) => r.tag), values.map((r) => r.ms), values.map((r) => r.simS), values.map((r) => r.v)],
        );
      }
      if (events.length > 0) {
        await c.query(
          `INSERT INTO twinline_events (run, seq, ms, tick, sim_s, type, station, data)
           SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::text[], $7::text[], $8::jsonb[]) ON CONFLICT DO NOTHING`,
          [run, events.map((e) => e.seq), events.map((e) => e.ms), events.map((e) => e.tick), events.map((e) => e.simS), events.map((e) => e.type), events.map((e) => e.station), events.map((e) => e.data)],
        );
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async readValues(tag: number, q: StoreValueQuery): Promise<StoredValue[]> {
    const w = valueWhere(tag, q, (k) => `$${k}`);
    const r = await this.pool.query<{ ms: number; sim_s: number; v: number | null }>(
      `SELECT ms::float8 AS ms, sim_s, v FROM twinline_samples WHERE ${w.sql} ORDER BY ms ${q.newestFirst === true ? 'DESC' : 'ASC'} LIMIT $${w.args.length + 1}`,
      [...w.args, q.limit],
    );
    return r.rows.map((x) => ({ ms: x.ms, simS: x.sim_s, v: x.v }));
  }

  async readEvents(run: string, q: StoreEventQuery): Promise<StoredEvent[]> {
    const w = eventWhere(run, q, (k) => `$${k}`);
    const r = await this.pool.query<EventRecord>(
      `SELECT seq::float8 AS seq, ms::float8 AS ms, tick::float8 AS tick, sim_s, type, station, data FROM twinline_events WHERE ${w.sql} ORDER BY seq LIMIT $${w.args.length + 1}`,
      [...w.args, q.limit],
    );
    return r.rows.map(eventOf);
  }

  async prune(run: string, beforeMs: number): Promise<void> {
    await this.pool.query('DELETE FROM twinline_samples WHERE tag IN (SELECT id FROM twinline_tags WHERE run = $1) AND ms < $2', [run, beforeMs]);
    await this.pool.query('DELETE FROM twinline_events WHERE run = $1 AND ms < $2', [run, beforeMs]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** What `--historian` accepts, for its usage line and errors. */
export const HISTORIAN_CHOICES = 'sqlite (the run folder\'s history.sqlite, the default), a file ending .sqlite or .db, postgres://user@host:port/database, or off';

/** Whether `spec` is a value `--historian` accepts. */
export function isStoreSpec(spec: string): boolean {
  return spec === 'off' || spec === 'sqlite' || /^postgres(ql)?:\/\/./.test(spec) || /\.(sqlite|db)$/.test(spec);
}

/** The store `--historian` names (see HISTORIAN_CHOICES); null: off. */
export function openStore(spec: string, runDir: string): HistorianStore | null {
  if (spec === 'off') return null;
  if (spec === 'sqlite') return new SqliteStore(join(runDir, 'history.sqlite'));
  if (/^postgres(ql)?:\/\//.test(spec)) return new PostgresStore(spec);
  return new SqliteStore(spec);
}
