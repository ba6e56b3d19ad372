/**
 * `twinline serve --resume` on real processes (the kiln cell at 20× real time, open profile):
 * a host is killed with SIGKILL after an operator changed a setpoint over REST; a new host
 * resumes the run from its snapshot (taken at the start, before the change) and the logged
 * commands. The setpoint is back at the operator's value (the command was replayed, the
 * snapshot alone holds the old one), the events it derived again matched the log, the event
 * log runs on with no seq missing or written twice, the historian's history goes on in the same
 * database, and `run.json` records the resume. A clean stop leaves a snapshot of the line as it
 * stopped, and the next resume replays nothing. A run that warmed up (`--warmup`) keeps its
 * KPIs' start across a resume. Bad `--resume` input exits 2.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToEnd } from '../proc.ts';
import { sleep, waitFor } from './opcua-host.ts';
import { startServe, type Ev, type ServeProc } from './serve-proc.ts';

const KILN = 'test/fixtures/scenarios/kiln-cell.yaml';
const PORTS = ['--http-port', '0', '--opcua-port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '0', '--profile', 'open'];
const home = mkdtempSync(join(tmpdir(), 'twinline-resume-'));
const hosts: ServeProc[] = [];
afterAll(async () => {
  for (const h of hosts) await h.stop();
  rmSync(home, { recursive: true, force: true });
});

/** The run's event log on disk, every line parsed. */
const logged = (runDir: string): Ev[] => readFileSync(join(runDir, 'events.ndjson'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Ev);
/** The kiln's setpoint sp1 now, as GET /api/state gives it (tags in GET /api/line's order). */
const kilnSp1 = async (s: ServeProc): Promise<number> => {
  const line = (await s.call('api/line')).body as { stations: { id: string; tags: { name: string }[] }[] };
  const st = (await s.call('api/state')).body as { stations: { id: string; tags: number[] }[] };
  const names = line.stations.find((x) => x.id === 'kiln')!.tags.map((t) => t.name);
  return st.stations.find((x) => x.id === 'kiln')!.tags[names.indexOf('sp1')]!;
};
const powerHistory = async (s: ServeProc): Promise<number[]> => ((await s.call('api/history?tag=kiln.power&limit=10000')).body.values as { ms: number }[]).map((v) => v.ms);

describe('serve --resume', () => {
  let runDir = '';
  let beforeKill: Ev[] = [];
  let killedAt = 0;

  it('resumes a killed run from its snapshot and the commands logged after it', async () => {
    const first = await startServe([KILN, ...PORTS, '--speed', '20', '--snapshot-every', '3600'], { home });
    hosts.push(first);
    runDir = first.runDir;
    expect(first.out()).toContain(`snapshot.bin every 3600 s: twinline serve --resume ${basename(runDir)}`);
    await waitFor('the start snapshot', () => statSync(join(runDir, 'snapshot.bin'), { throwIfNoEntry: false })?.size ?? 0, (n) => n > 0, 20_000);
    expect(await kilnSp1(first)).toBe(900);
    expect((await first.command({ target: 'kiln', command: 'set', args: { field: 'sp1', value: 925 } })).status).toBe(200);
    // more of the line after the command, on disk
    const after = logged(runDir).length;
    await waitFor('events after the command', () => logged(runDir).length, (n) => n > after + 3, 30_000);
    await sleep(500);
    beforeKill = logged(runDir);
    first.proc.kill('SIGKILL');
    await waitFor('the host to die', () => first.proc.exitCode !== null || first.proc.signalCode !== null, (dead) => dead, 10_000);
    killedAt = Date.now();
    beforeKill = logged(runDir);
    const history = await import('better-sqlite3').then(({ default: Database }) => {
      const db = new Database(join(runDir, 'history.sqlite'), { readonly: true });
      const n = (db.prepare("SELECT count(*) AS n FROM samples WHERE tag = (SELECT id FROM tags WHERE name = 'kiln.power')").get() as { n: number }).n;
      db.close();
      return n;
    });
    expect(history).toBeGreaterThan(0);

    const second = await startServe(['--resume', basename(runDir), ...PORTS], { home });
    hosts.push(second);
    expect(second.runDir).toBe(runDir);
    expect(second.out()).toContain('speed 20×');
    const banner = /resumed\s+from the snapshot at tick (\d+) .*?, (\d+) logged commands replayed to tick (\d+) .*?; (\d+) logged events derived again, identical; down [\d.]+ s of wall time/.exec(second.out());
    expect(banner, second.out()).not.toBeNull();
    expect(Number(banner![2])).toBe(1);
    expect(Number(banner![4])).toBeGreaterThan(3);
    // the replayed command, not the snapshot, decides the setpoint
    expect(await kilnSp1(second)).toBe(925);
    // the log runs on: what was there is unchanged, then new events, no seq missing or twice
    await waitFor('new events after the resume', () => logged(runDir).length, (n) => n > beforeKill.length + 2, 30_000);
    const all = logged(runDir);
    expect(all.slice(0, beforeKill.length)).toEqual(beforeKill);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, k) => k));
    expect(all[beforeKill.length]!.tick).toBeGreaterThanOrEqual(beforeKill[beforeKill.length - 1]!.tick);
    // the historian goes on in the same database: values from before the kill and after the resume
    const times = await waitFor('history after the resume', () => powerHistory(second), (t) => t.some((ms) => ms > killedAt), 20_000);
    expect(times.some((ms) => ms < killedAt)).toBe(true);
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { resumes: { commands: number; divergedAt: number | null; loggedThrough: number }[] };
    expect(run.resumes).toHaveLength(1);
    expect(run.resumes[0]).toMatchObject({ commands: 1, divergedAt: null, loggedThrough: beforeKill[beforeKill.length - 1]!.seq });
  });

  it('after a clean stop resumes from the snapshot taken as it stopped, replaying nothing', async () => {
    const second = hosts[hosts.length - 1]!;
    expect(await second.stop('SIGTERM', 30_000)).toBe(0);
    const through = logged(runDir).length;
    const third = await startServe(['--resume', runDir, ...PORTS, '--snapshot-every', '1'], { home });
    hosts.push(third);
    expect(third.out()).toMatch(/resumed\s+from the snapshot at tick \d+ .*?, 0 logged commands replayed .*?; 0 logged events derived again, identical/);
    expect(await kilnSp1(third)).toBe(925);
    // snapshots every second now
    const t0 = statSync(join(runDir, 'snapshot.bin')).mtimeMs;
    await waitFor('a newer snapshot', () => statSync(join(runDir, 'snapshot.bin')).mtimeMs, (t) => t > t0, 15_000);
    await waitFor('new events', () => logged(runDir).length, (n) => n > through, 30_000);
    const all = logged(runDir);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, k) => k));
  });

  it('a run that warmed up keeps its KPIs after the warm-up across a resume', async () => {
    const warm = await startServe([KILN, ...PORTS, '--speed', '20', '--warmup', '0.5'], { home });
    hosts.push(warm);
    const kpis = async (s: ServeProc): Promise<{ fromHours: number; simHours: number }> => (await s.call('api/state')).body.kpis as { fromHours: number; simHours: number };
    expect((await kpis(warm)).fromHours).toBe(0.5);
    await waitFor('the start snapshot', () => statSync(join(warm.runDir, 'snapshot.bin'), { throwIfNoEntry: false })?.size ?? 0, (n) => n > 0, 20_000);
    expect(statSync(join(warm.runDir, 'kpi-start.json')).size).toBeGreaterThan(0);
    warm.proc.kill('SIGKILL');
    await waitFor('the host to die', () => warm.proc.exitCode !== null || warm.proc.signalCode !== null, (dead) => dead, 10_000);
    const resumed = await startServe(['--resume', warm.runDir, ...PORTS], { home });
    hosts.push(resumed);
    const after = await kpis(resumed);
    // without the kept start the KPIs would cover the warm-up again: fromHours 0, simHours past 0.5
    expect(after.fromHours).toBe(0.5);
    expect(after.simHours).toBeLessThan(0.5);
  });

  it('refuses a run it cannot resume, exit 2, saying where it looked', async () => {
    const cli = (args: string[]): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', 'serve', ...args, '--home', home], { timeoutMs: 60_000 });
    const none = await cli(['--resume', 'no-such-run']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`--resume no-such-run: no run there (looked for run.json in`);
    const both = await cli(['--resume', basename(runDir), KILN]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(`continues that run's own line: leave out ${KILN}`);
    const seeded = await cli(['--resume', basename(runDir), '--seed', '3']);
    expect(seeded.code).toBe(2);
    expect(seeded.stderr).toContain('--seed and --warmup do not apply');
  });
});
