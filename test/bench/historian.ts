/**
 * The historian's insert rate (historian.ts: change detection, batching, one transaction per
 * flush) against a bare insert loop of the same rows into the same table with the same
 * transactions, on SQLite (a temporary file) and on PostgreSQL (a database made and dropped here,
 * when $TWINLINE_TEST_POSTGRES or the local server answers). Every value changes at every
 * sample, so both write every row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Historian } from '../../sim/host/historian.ts';
import { PostgresStore, SqliteStore, type HistorianStore } from '../../sim/host/historian-store.ts';
import type { ValueColumn } from '../../sim/host/value-recorder.ts';
import { fmt, ratio, type BenchRow, type Section } from './common.ts';

/** tags per sample (a line of ~20 stations) */
const TAGS = 200;
/** samples per flush (a second at 100 ms) */
const PER_FLUSH = 10;

const COLUMNS: ValueColumn[] = Array.from({ length: TAGS }, (_, k) => ({ name: `s${k % 20}.f${k}`, station: `s${k % 20}`, field: `f${k}`, unit: '', description: '', access: 'r' }));
const T0 = Date.UTC(2026, 11, 1);

/** Rows per second the historian writes through `store`. */
async function historianRate(store: HistorianStore, samples: number): Promise<number> {
  const h = await Historian.open({ store, run: 'bench', scenario: 'bench', columns: COLUMNS, dt: 0.001, maxPending: 10_000_000 });
  const values = new Array<number>(TAGS);
  const t = performance.now();
  for (let k = 0; k < samples; k++) {
    for (let c = 0; c < TAGS; c++) values[c] = k + c / TAGS;
    h.sample(T0 + k * 100, k * 100, values);
    if (k % PER_FLUSH === PER_FLUSH - 1) await h.flush();
  }
  await h.flush();
  const s = (performance.now() - t) / 1000;
  const n = h.status().written.values;
  await h.close();
  return n / s;
}

/** Rows per second of a bare prepared-insert loop into SQLite's samples table, same transactions. */
function bareSqlite(file: string, samples: number): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE samples (tag INTEGER NOT NULL, ms INTEGER NOT NULL, sim_s REAL NOT NULL, v REAL, PRIMARY KEY (tag, ms)) WITHOUT ROWID');
  const put = db.prepare('INSERT INTO samples (tag, ms, sim_s, v) VALUES (?, ?, ?, ?)');
  const batch = db.transaction((from: number) => {
    for (let k = from; k < from + PER_FLUSH; k++) for (let c = 0; c < TAGS; c++) put.run(c, T0 + k * 100, k / 10, k + c / TAGS);
  });
  const t = performance.now();
  for (let k = 0; k < samples; k += PER_FLUSH) batch(k);
  const s = (performance.now() - t) / 1000;
  db.close();
  return (samples * TAGS) / s;
}

/** Rows per second of a bare insert loop into PostgreSQL (one INSERT per row, one transaction per flush). */
async function barePostgres(url: string, samples: number): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('CREATE TABLE bare_samples (tag INTEGER NOT NULL, ms BIGINT NOT NULL, sim_s DOUBLE PRECISION NOT NULL, v DOUBLE PRECISION, PRIMARY KEY (tag, ms))');
  const t = performance.now();
  for (let k = 0; k < samples; k += PER_FLUSH) {
    await c.query('BEGIN');
    for (let j = k; j < k + PER_FLUSH; j++) {
      for (let col = 0; col < TAGS; col++) await c.query('INSERT INTO bare_samples (tag, ms, sim_s, v) VALUES ($1, $2, $3, $4)', [col, T0 + j * 100, j / 10, j + col / TAGS]);
    }
    await c.query('COMMIT');
  }
  const s = (performance.now() - t) / 1000;
  await c.end();
  return (samples * TAGS) / s;
}

export const historianBench: Section = async (log) => {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'twinline-bench-historian-'));
  try {
    const samples = 2000;
    const bare = bareSqlite(join(dir, 'bare.sqlite'), samples);
    const ours = await historianRate(new SqliteStore(join(dir, 'history.sqlite')), samples);
    log(`sqlite: historian ${fmt(ours)} rows/s, bare loop ${fmt(bare)} rows/s`);
    rows.push([`historian SQLite insert (${TAGS} tags × ${fmt(samples)} samples) [rows/s]`, fmt(ours), 'bare prepared INSERT loop, same transactions', fmt(bare), ratio(ours, bare)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const admin = process.env.TWINLINE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const a = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 });
  try {
    await a.connect();
  } catch (e) {
    notes.push(`PostgreSQL not measured: ${admin} did not answer (${e instanceof Error ? e.message : String(e)})`);
    return { rows, notes };
  }
  const db = `twinline_bench_${process.pid}`;
  await a.query(`CREATE DATABASE ${db}`);
  try {
    const url = new URL(admin);
    url.pathname = `/${db}`;
    const samples = 300;
    const bare = await barePostgres(url.toString(), samples);
    const ours = await historianRate(new PostgresStore(url.toString()), samples);
    log(`postgres: historian ${fmt(ours)} rows/s, bare loop ${fmt(bare)} rows/s`);
    rows.push([`historian PostgreSQL insert (${TAGS} tags × ${fmt(samples)} samples) [rows/s]`, fmt(ours), 'bare INSERT per row, same transactions', fmt(bare), ratio(ours, bare)]);
  } finally {
    await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await a.end();
  }
  notes.push(`a line of ${TAGS} changing tags sampled every 100 ms makes ${fmt(TAGS * 10)} rows/s: the historian's rate over that is its headroom`);
  return { rows, notes };
};
