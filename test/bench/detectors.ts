/**
 * Bench section `detectors`: what the detectors cost the host, as events per second through
 * every detector of the built-in configuration (security/detectors/default.yaml: allow-list,
 * every rate rule, physics) against the event log alone (`RunLog.onEvents`: events.ndjson and
 * audit.ndjson appended as `twinline serve` appends them), on the same events in the same run,
 * in batches the size of one host drain. Two streams:
 *
 * - clean: the default line's own events (parts, states, KPIs) from a run of its world;
 * - attack mix: the same with every fifth event an audit entry or a command as the faces write
 *   them while the attack library runs (sessions in clear, logins, refused publishes,
 *   browse and Modbus counts, takeovers, setpoints and refused writes from the field
 *   protocols) from eight addresses, passed through the world so they are the events the host
 *   drains.
 *
 * Beside the cost, the false positives: each built-in line (scenarios/*.yaml) run clean for
 * `CLEAN_HOURS` simulated hours at its own tick, its events handed to the detectors as the host
 * drains them (every 200 ms of simulated time, the detectors' clock on the simulated time, so
 * windows and cool-downs see the line's real rates), and every alert counted. The built-in lines'
 * scheduled faults and setpoint changes (source `scenario`) are part of a clean run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditCommand, type AuditEntry, type Command } from '../../sim/core/commands.ts';
import type { SimEvent } from '../../sim/core/events.ts';
import { RunLog } from '../../sim/host/run-log.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { loadDetectorConfig } from '../../security/detectors/config.ts';
import { DetectorEngine, type Alert } from '../../security/detectors/engine.ts';
import type { DetectorConfig } from '../../security/detectors/config.ts';
import { fmt, ratio, type BenchRow, type SectionResult } from './common.ts';

const SCENARIO = 'scenarios/ceramic-after.yaml';
/** events per batch: about what one 200 ms drain of a busy host holds */
const BATCH = 200;
/** each figure is measured for at least this long [ms] */
const MEASURE_MS = 1500;
/** events of each stream */
const EVENTS = 60_000;

/** simulated hours of each built-in line's clean run */
const CLEAN_HOURS = 8;

/** A clean run of the line in `file`: its events through the detectors; the alerts raised. */
function cleanRun(file: string, config: DetectorConfig): { events: number; alerts: Alert[]; wallMs: number } {
  const t0 = performance.now();
  const spec = parseScenario(readFileSync(file, 'utf8'), file);
  const w = createWorld(spec);
  let simMs = 0;
  const engine = new DetectorEngine(config, {
    stations: spec.stations.map((s) => ({ id: s.id, kind: s.kind })),
    read: (station, field) => {
      const k = w.indexOf(station);
      const v = k < 0 ? NaN : w.read(k, field);
      return Number.isFinite(v) ? v : null;
    },
    writeLevel: (station, field) => {
      const f = w.fieldSpec(w.indexOf(station), field);
      return f === undefined || f.access !== 'rw' ? null : (f.write ?? 'engineer');
    },
    now: () => simMs,
  });
  const drain = Math.max(1, Math.round(0.2 / spec.dt));
  const total = Math.round((CLEAN_HOURS * 3600) / spec.dt);
  const batch: SimEvent[] = [];
  const alerts: Alert[] = [];
  let events = 0;
  for (let t = 0; t < total; t += drain) {
    w.step(drain);
    simMs = (t + drain) * spec.dt * 1000;
    w.drainEvents((e) => void batch.push(e));
    events += batch.length;
    if (batch.length > 0) alerts.push(...engine.onEvents(batch));
    batch.length = 0;
  }
  return { events, alerts, wallMs: performance.now() - t0 };
}

/** The audit entries and commands of the attack mix, in turn (principals vary as the faces' do). */
function attackEvent(k: number): { audit: AuditEntry } | { command: Command } {
  // a few attacking addresses, each with fresh ports, sessions and client ids
  const ip = `10.0.0.${1 + (k % 8)}`;
  const entries: (() => { audit: AuditEntry } | { command: Command })[] = [
    () => ({ audit: { source: 'opcua', principal: `anonymous@ns=1;g=${k}@${ip}:${40_000 + (k % 999)}`, action: 'session', outcome: 'allowed', reason: 'anonymous over SecurityMode None, policy None' } }),
    () => ({ audit: { source: 'mqtt', principal: `anonymous/mqttx_${k}@${ip}:5${k % 999}`, action: 'login', outcome: 'allowed', reason: 'anonymous over tcp' } }),
    () => ({ audit: { source: 'mqtt', principal: `anonymous/mqttx_${k}@${ip}:5${k % 999}`, action: 'publish', outcome: 'denied', target: 'twinline/a/kiln/cmd/stop', reason: 'commands are not allowed for anonymous clients' } }),
    () => ({ audit: { source: 'opcua', principal: `anonymous@ns=1;g=${k}@${ip}:4${k % 999}`, action: 'browse', outcome: 'allowed', reason: 'references browsed', count: 1 << (k % 10) } }),
    () => ({ audit: { source: 'modbus', principal: `modbus@${ip}`, action: 'identify', outcome: 'allowed', target: `unit ${k % 247}`, count: 1 << (k % 8) } }),
    () => ({ audit: { source: 'mqtt', principal: `anonymous/gw@${ip}:6${k % 999}`, action: 'takeover', outcome: 'allowed', target: `gw-${k % 50}`, count: 1 + (k % 4) } }),
    () => ({ audit: { source: 'api', principal: `admin@${ip}`, action: 'login', outcome: 'denied', reason: 'bad user name or password' } }),
    () => ({ command: { target: 'kiln', command: 'set', args: { field: 'sp1', value: 900 + (k % 300) }, source: 'opcua', principal: `anonymous@ns=1;g=${k}`, role: 'operator' } }),
    // refused by the line (no such field): a stop would halt the line the stream is read from
    () => ({ command: { target: 'kiln', command: 'set', args: { field: 'noSuchField', value: 1 }, source: 'modbus', principal: `modbus@${ip}`, role: 'operator' } }),
    () => ({ command: { target: 'kiln', command: 'ack', source: 'opcua', principal: `anonymous@ns=1;g=${k}`, role: 'operator' } }),
  ];
  return entries[k % entries.length]!();
}

/** `EVENTS` events of the default line; with `mix`, about every fifth an attack event. */
function stream(mix: boolean): SimEvent[] {
  const spec = parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO);
  const w = createWorld(spec);
  const out: SimEvent[] = [];
  let k = 0;
  let next = 0;
  for (let ticks = 0; out.length < EVENTS && ticks < 50_000_000; ticks++) {
    if (mix && out.length >= next) {
      const a = attackEvent(k++);
      w.enqueue('audit' in a ? auditCommand(a.audit) : a.command);
      next = out.length + 5;
    }
    w.step(1);
    w.drainEvents((e) => void out.push(e));
  }
  return out.slice(0, EVENTS);
}

/** Events per second through `fn`, in batches, for at least `MEASURE_MS`. */
function rate(events: readonly SimEvent[], fn: (batch: readonly SimEvent[]) => void): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MEASURE_MS) {
    for (let i = 0; i < events.length; i += BATCH) fn(events.slice(i, i + BATCH));
    n += events.length;
  }
  return (n * 1000) / (performance.now() - t0);
}

/** The `detectors` section. */
export async function detectorsBench(log: (line: string) => void): Promise<SectionResult> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const spec = parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO);
  const config = loadDetectorConfig();
  const host = { stations: spec.stations.map((s) => ({ id: s.id, kind: s.kind })), read: () => 900, writeLevel: () => 'operator' };
  const dir = mkdtempSync(join(tmpdir(), 'twinline-bench-detectors-'));
  try {
    for (const [name, mix] of [['clean run', false], ['attack mix', true]] as const) {
      const events = stream(mix);
      const audit = events.filter((e) => e.type === 'audit' || e.type === 'command' || e.type === 'rejected').length;
      let alerts = 0;
      const engine = new DetectorEngine(config, host);
      const runLog = new RunLog({ dir: join(dir, name.replace(' ', '-')) });
      try {
        const logged = rate(events, (b) => runLog.onEvents(b));
        const detected = rate(events, (b) => void (alerts += engine.onEvents(b).length));
        log(`${name}: ${fmt(events.length)} events (${fmt(audit)} audit entries and commands); event log ${fmt(logged)} events/s, detectors ${fmt(detected)} events/s, ${fmt(alerts)} alerts`);
        rows.push([`detectors, ${name} [events/s]`, fmt(detected), `event log alone, ${name} [events/s]`, fmt(logged), ratio(detected, logged)]);
        if (engine.errors > 0 || engine.malformed > 0) notes.push(`${name}: ${engine.errors} detector errors, ${engine.malformed} malformed events (expected 0)`);
      } finally {
        runLog.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  let falsePositives = 0;
  for (const f of readdirSync('scenarios').filter((n) => n.endsWith('.yaml')).sort()) {
    const r = cleanRun(join('scenarios', f), config);
    falsePositives += r.alerts.length;
    const rules = [...new Set(r.alerts.map((a) => `${a.detector}/${a.rule}`))].join(', ');
    log(`clean ${CLEAN_HOURS} h of ${f}: ${fmt(r.events)} events, ${r.alerts.length} alerts${rules === '' ? '' : ` (${rules})`}, ${fmt(r.wallMs / 1000)} s`);
  }
  notes.push(`false positives: ${falsePositives} alerts over ${CLEAN_HOURS} h clean runs of each built-in line (scenarios/*.yaml)`);
  notes.push(`${config.rates.length} rate rules, ${config.allowList?.entries.length ?? 0} allow-list entries, ${config.physics?.recipeBands.length ?? 0} recipe bands; a ratio above 1× means the detectors keep up with more than the host writes to disk`);
  return { rows, notes };
}
