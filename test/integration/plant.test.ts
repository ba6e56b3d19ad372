/**
 * `twinline plant` on real processes: six kiln cells (test/fixtures/plants/kiln-plant.yaml),
 * each its own `twinline serve`, on a three-node NATS cluster the plant starts (nats-server with
 * JetStream and MQTT on each node). A subscriber on one node sees the unified namespace of every
 * line, each published to another node; `plant status` finds all up. Drills through `plant
 * drill`: a NATS node and a line host publishing to it killed at once (SIGKILL) are both started
 * again (the host on its run: serve --resume, the re-derived events matched its log), and the
 * line publishes again; a node cut off from the others (its routes stopped) passes nothing across
 * until healed, and a line publishing to it holds the records JetStream could not acknowledge
 * meanwhile (GET /api/streams), also when its host is killed and resumed during the cut (from its
 * run folder), then sends them. After both, every line's JetStream stream (three
 * replicas) holds every event of its run once, in order, as its events.ndjson does. SIGTERM stops
 * every host and node, also while the plant is still starting. A broken plant file is named with
 * file:line:col.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mqtt from 'mqtt';
import { connect } from 'nats';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebApp, CHROMIUM, CHROMIUM_ARGS } from '../e2e/host.ts';
import type { PlantView } from '../../sim/plant/plant-view.ts';
import { alive, type PlantRecord } from '../../sim/plant/plant-up.ts';
import { streamName, subjectOf } from '../../sim/host/streams.ts';
import { own, runToEnd, type Owned } from '../proc.ts';
import { waitFor } from './opcua-host.ts';
import { hearLines, killWhatPlantStarted, startPlantUp } from './plant-proc.ts';
import { START_MS } from './serve-proc.ts';

const PLANT = 'test/fixtures/plants/kiln-plant.yaml';
const LINES = ['kiln-cell-1', 'kiln-cell-2', 'kiln-cell-3', 'kiln-cell-4', 'kiln-cell-5', 'kiln-cell-6'];
const home = mkdtempSync(join(tmpdir(), 'twinline-plant-'));
const recordFile = join(home, 'plants', 'kiln-plant', 'plant.json');
const record = (): PlantRecord => JSON.parse(readFileSync(recordFile, 'utf8')) as PlantRecord;
const cli = (args: string[]): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', 'plant', ...args], { timeoutMs: 60_000 });

let up: Owned;
let browser: Browser | null = null;
/** the plant view in Chromium, open from the first test on */
let view: Page;
const nodesText = async (): Promise<string> => (await view.getByTestId('plant-nodes').innerText()).replace(/\s+/g, ' ');
/** line → when its last UNS message arrived [ms], seen by a client of the third node */
const heard = new Map<string, number>();
let sub: mqtt.MqttClient;

/** `wait()`, failing with what the NATS nodes logged of routes and JetStream last (plant-up keeps their logs) */
async function withNodeLogs<T>(wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (e) {
    const tails = [1, 2, 3].map((k) => {
      const lines = readFileSync(join(home, 'plants', 'kiln-plant', `nats-${k}`, 'nats.log'), 'utf8').split('\n');
      return `nats-${k}:\n${lines.filter((l) => /JetStream|RAFT|[Rr]oute|Reloaded|WRN|ERR/.test(l)).slice(-25).join('\n')}`;
    });
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${tails.join('\n')}`);
  }
}

beforeAll(async () => {
  await buildWebApp();
  up = await startPlantUp(PLANT, home);
  sub = hearLines(record().nats[2]!.mqtt, 'plant-test-probe', LINES, heard);
}, START_MS + 60_000);

afterAll(async () => {
  await browser?.close();
  sub?.end(true);
  await up?.stop('SIGKILL');
  killWhatPlantStarted(recordFile);
  rmSync(home, { recursive: true, force: true });
});

describe('twinline plant', () => {
  it('runs every line on its own host, each publishing to another node of one cluster', async () => {
    const rec = record();
    expect(rec.state).toBe('up');
    expect(rec.nats).toHaveLength(3);
    expect(rec.lines.map((l) => [l.id, l.node, l.state])).toEqual(LINES.map((l, k) => [l, `kiln-plant-n${(k % 3) + 1}`, 'up']));
    expect(new Set(rec.lines.map((l) => l.pid)).size).toBe(LINES.length);
    // one subscriber on the third node hears every line
    await waitFor('UNS messages of every line on node 3', () => LINES.filter((l) => heard.has(l)), (got) => got.length === LINES.length, 60_000);
    const st = await cli(['status', PLANT, '--home', home, '--json']);
    expect(st.code, st.stdout + st.stderr).toBe(0);
    const body = JSON.parse(st.stdout) as { plantUp: boolean; nats: { up: boolean }[]; lines: { id: string; host: string; simHours: number }[] };
    expect(body.plantUp).toBe(true);
    expect(body.nats.every((n) => n.up)).toBe(true);
    expect(body.lines.map((l) => [l.id, l.host])).toEqual(LINES.map((l) => [l, 'up']));
    // each line went live after its 30 min warm-up (the file's `warmup`)
    expect(body.lines.filter((l) => !(l.simHours >= 0.5)), JSON.stringify(body.lines)).toEqual([]);
  });

  it('shows the plant in the web app: a tile per line with its KPIs from the cluster, plant totals, and a way into each line\'s 3D twin', async () => {
    const rec = record();
    expect(rec.view).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?mode=plant$/);
    expect(up.out()).toContain(`view      ${rec.view}`);
    const api = new URL('/api/plant', rec.view!);
    // every line's first KPIs (5 simulated minutes, 30 s at 10×) came through the cluster
    const plant = await waitFor('KPIs of every line in the plant view', async () => (await (await fetch(api)).json()) as PlantView, (p) => p.totals.reporting === LINES.length, 120_000);
    expect(plant.cluster.connected).toBe(true);
    expect(plant.lines.map((l) => l.id)).toEqual(LINES);
    expect(plant.lines.every((l) => Object.keys(l.stations).length === 4 && l.kpi !== null && l.events > 0)).toBe(true);
    expect(plant.totals.energyKWh).toBeCloseTo(plant.lines.reduce((a, l) => a + (l.kpi?.energyKWh ?? 0), 0), 6);
    // read-only, and only for its own address
    expect((await fetch(api, { method: 'POST' })).status).toBe(405);
    const rebound = await new Promise<number>((res, rej) => {
      get({ host: api.hostname, port: api.port, path: api.pathname, headers: { host: 'plant.example' } }, (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      }).once('error', rej);
    });
    expect(rebound).toBe(421);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    view = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await view.goto(rec.view!);
    await view.waitForSelector('[data-testid=plant][data-ready="1"]', { timeout: 60_000 });
    // what a person reads: six tiles, each named, up, with an OEE; the totals say 6 / 6
    const tiles = view.locator('[data-testid^=plant-tile-]');
    expect(await tiles.count()).toBe(LINES.length);
    for (const l of LINES) {
      const text = await view.getByTestId(`plant-tile-${l}`).innerText();
      expect(text).toContain(l);
      expect(text).toContain('up');
      expect(text).toMatch(/OEE \(A×P×Q\)\s+\d+(\.\d)? %/);
    }
    expect(await view.getByTestId('plant-up').innerText()).toBe('6 / 6');
    await view.getByTestId('lang').click();
    expect(await view.getByTestId('plant-totals').innerText()).toContain('运行中的产线');
    await view.getByTestId('lang').click();
    // a tile opens its line's own web app with the 3D twin
    const line2 = rec.lines[1]!;
    expect(await view.getByTestId('plant-tile-kiln-cell-2').getAttribute('href')).toBe(`${line2.url}?lang=en`);
    const twin = await browser.newPage({ viewport: { width: 1024, height: 640 } });
    await twin.goto(`${line2.url}?lang=en`);
    await twin.waitForSelector('canvas', { timeout: 60_000 });
    expect(await twin.title()).toContain('Twinline');
    await twin.close();
  }, 240_000);

  it('starts a killed NATS node and a killed line host of that node again; the line resumes its run and goes on publishing', async () => {
    const before = record();
    const line = before.lines[1]!;
    expect(line.node).toBe('kiln-plant-n2');
    // a command an operator gave before the kill: logged, replayed on resume, in the stream once
    const held = await fetch(new URL('api/commands', line.url!), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'src', command: 'hold' }) });
    expect(held.status, await held.text()).toBe(200);
    const [node, host] = await Promise.all([cli(['drill', PLANT, 'kill-node', '2', '--home', home]), cli(['drill', PLANT, 'kill-line', 'kiln-cell-2', '--home', home])]);
    expect(node.code, node.stderr).toBe(0);
    expect(node.stdout).toContain(`killed NATS node kiln-plant-n2 (pid ${before.nats[1]!.pid})`);
    expect(host.code, host.stderr).toBe(0);
    const killedAt = Date.now();
    const after = await waitFor('node 2 and kiln-cell-2 up again', record, (r) => r.nats[1]!.restarts === 1 && r.lines[1]!.restarts === 1 && r.lines[1]!.state === 'up', START_MS);
    expect(after.nats[1]!.pid).not.toBe(before.nats[1]!.pid);
    expect(up.out()).toContain('nats node kiln-plant-n2 ended (killed by SIGKILL); starting it again');
    const l = after.lines[1]!;
    expect(l.pid).not.toBe(line.pid);
    expect(l.runDir).toBe(line.runDir);
    expect(l.lastExit).toBe('killed by SIGKILL');
    expect(up.out()).toContain('line kiln-cell-2: host ended (killed by SIGKILL); resuming its run');
    const run = JSON.parse(readFileSync(join(l.runDir!, 'run.json'), 'utf8')) as { resumes: { divergedAt: number | null }[] };
    expect(readFileSync(join(l.runDir!, 'commands.ndjson'), 'utf8')).toMatch(/"target":"src","command":"hold"/);
    expect(run.resumes).toHaveLength(1);
    expect(run.resumes[0]!.divergedAt).toBeNull();
    // what both said, before and after the kill, is in their logs
    const hostLog = readFileSync(join(l.home, 'host.log'), 'utf8');
    expect(hostLog).toMatch(/--- \S+ twinline serve \S+kiln-cell-2\.yaml \(pid \d+\) ---\n/);
    expect(hostLog).toContain('Twinline serving "');
    expect(hostLog).toContain(`twinline serve --resume ${l.runDir!} (pid ${l.pid})`);
    const nodeLog = readFileSync(join(home, 'plants', 'kiln-plant', 'nats-2', 'nats.log'), 'utf8');
    expect(nodeLog.match(/--- \S+ nats-server node 2 \(pid \d+\) ---/g)).toHaveLength(2);
    expect(nodeLog).toContain(`nats-server node 2 (pid ${after.nats[1]!.pid})`);
    // through the restarted node 2 and the cluster to the subscriber on node 3
    await waitFor('kiln-cell-2 publishing again', () => heard.get('kiln-cell-2') ?? 0, (t) => t > killedAt + 1000, 60_000);
    const st = await cli(['status', PLANT, '--home', home]);
    expect(st.code, st.stdout).toBe(0);
    expect(st.stdout).toContain('kiln-plant-n2 up (restarts 1)');
    expect(st.stdout).toMatch(/kiln-cell-2\s+local\s+kiln-plant-n2\s+up\s+\d+\s+1\s/);
    // the plant view says so too
    await waitFor('the view to show the restarts', nodesText, (t) => t.includes('kiln-plant-n2 (restarted 1×)'), 10_000);
    expect(await view.getByTestId('plant-tile-kiln-cell-2').innerText()).toContain('restarted 1×');
  }, START_MS + 60_000);

  it('cuts node 1 off from the others: nothing crosses until healed; its lines, one killed and resumed meanwhile, hold what JetStream has not acknowledged, then send it', async () => {
    const rec = record();
    const routes = async (k: number): Promise<number> => ((await (await fetch(`${rec.nats[k]!.monitor}/routez`)).json()) as { num_routes: number }).num_routes;
    expect(await routes(0)).toBe(2);
    // probes: what is published on one node and reaches a subscriber on another
    const [n1, n2, n3] = await Promise.all(rec.nats.map((n) => connect({ servers: n.nats })));
    const got: string[] = [];
    const probe = n3!.subscribe('plant-test.probe', { callback: (_e, m) => got.push(new TextDecoder().decode(m.data)) });
    await n3!.flush();
    const line1 = { ...rec.lines[0]! };
    const streams = async (): Promise<{ pending: number; error: string | null }> => ((await (await fetch(new URL('api/streams', line1.url!))).json()) as { streams: { pending: number; error: string | null } }).streams;
    const cut = await cli(['drill', PLANT, 'partition', '1', '--home', home]);
    let heal: Awaited<ReturnType<typeof cli>>;
    try {
      expect(cut.code, cut.stderr).toBe(0);
      expect(cut.stdout).toContain('NATS node kiln-plant-n1 is cut off');
      expect(up.out()).toContain('drill: NATS node kiln-plant-n1 cut off from the other nodes');
      await waitFor('node 1 without routes', () => routes(0), (n) => n === 0, 10_000);
      expect(await routes(1)).toBe(1);
      const st = await cli(['status', PLANT, '--home', home]);
      expect(st.code).toBe(1);
      expect(st.stdout).toContain('kiln-plant-n1 up (cut off)');
      await waitFor('the view to show the cut', nodesText, (t) => t.includes('kiln-plant-n1 (cut off)'), 10_000);
      // kiln-cell-1 (on node 1) logs a refused command now: its stream cannot acknowledge it across the cut
      const refused = await fetch(new URL('api/commands', line1.url!), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'no-such-station', command: 'start' }) });
      expect(refused.status).toBe(409);
      const stuck = await waitFor('kiln-cell-1 waiting for JetStream', streams, (s) => s.pending > 0 && s.error !== null, 30_000);
      expect(stuck.pending).toBeGreaterThan(0);
      // an operator's command, then its host killed before JetStream could acknowledge any of it:
      // the run folder has them, and the resumed host (up while the cut lasts) sends them after it
      const held = await fetch(new URL('api/commands', line1.url!), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'src', command: 'hold' }) });
      expect(held.status, await held.text()).toBe(200);
      expect((await streams()).pending).toBeGreaterThan(stuck.pending);
      const killed = await cli(['drill', PLANT, 'kill-line', 'kiln-cell-1', '--home', home]);
      expect(killed.code, killed.stderr).toBe(0);
      await waitFor('kiln-cell-1 resumed during the cut', record, (r) => r.lines[0]!.restarts === 1 && r.lines[0]!.state === 'up', START_MS);
      line1.url = record().lines[0]!.url;
      await waitFor('the resumed kiln-cell-1 to say JetStream does not answer', streams, (x) => /not reachable yet/.test(x.error ?? ''), 30_000);
      for (let k = 0; k < 10; k++) {
        n1!.publish('plant-test.probe', 'n1');
        n2!.publish('plant-test.probe', 'n2');
        await new Promise((r) => setTimeout(r, 100));
      }
      await Promise.all([n1!.flush(), n2!.flush()]);
      // a message published on node 1 no longer reaches the subscriber on node 3; one from node 2 does
      await waitFor('node 2\'s probes on node 3', () => got.filter((g) => g === 'n2').length, (n) => n === 10, 10_000);
      expect(got.filter((g) => g === 'n1')).toEqual([]);
    } finally {
      // whatever failed above, the following tests need the whole mesh
      heal = await cli(['drill', PLANT, 'heal', '--home', home]);
    }
    expect(heal.code, heal.stderr).toBe(0);
    await waitFor('node 1 in the mesh again', () => routes(0), (n) => n === 2, 20_000);
    await waitFor('node 1\'s probes on node 3 again', async () => {
      n1!.publish('plant-test.probe', 'n1 healed');
      await n1!.flush();
      await new Promise((r) => setTimeout(r, 200));
      return got.includes('n1 healed');
    }, (ok) => ok, 20_000);
    // what waited is acknowledged now (the next test finds it in the stream, in order)
    await withNodeLogs(() => waitFor('kiln-cell-1 sent what waited', streams, (s) => s.pending === 0 && s.error === null, 60_000));
    probe.unsubscribe();
    await Promise.all([n1!.close(), n2!.close(), n3!.close()]);
  }, START_MS + 180_000);

  it('keeps every event of every line in its JetStream stream once and in order, across the kills and the cut', async () => {
    const rec = record();
    const nc = await connect({ servers: rec.nats[2]!.nats });
    try {
      // no account check here: right after the cut heals, JetStream's API answers 503 until the
      // cluster has a meta leader, and inStream waits that out
      const jsm = await nc.jetstreamManager({ checkAPI: false });
      for (const line of rec.lines) {
        /** the stream's replicas and its `.events` messages' data, by stream sequence; null while a healed cluster elects its leaders (503) */
        const inStream = async (): Promise<{ replicas: number; events: string[]; commands: string[] } | null> => {
          try {
            const info = await jsm.streams.info(streamName(line.id));
            const events: string[] = [];
            const commands: string[] = [];
            for (let seq = 1; seq <= info.state.last_seq; seq++) {
              const m = await jsm.streams.getMessage(streamName(line.id), { seq });
              if (m.subject === `${subjectOf(line.id)}.events`) events.push(new TextDecoder().decode(m.data));
              if (m.subject === `${subjectOf(line.id)}.commands`) commands.push(new TextDecoder().decode(m.data));
            }
            return { replicas: info.config.num_replicas, events, commands };
          } catch {
            return null;
          }
        };
        const logged = readFileSync(join(line.runDir!, 'events.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
        const held = await withNodeLogs(() => waitFor(`${line.id}'s stream to hold its logged events`, inStream, (x) => x !== null && x.events.length >= logged.length, 60_000));
        expect(held!.replicas).toBe(3);
        const got = held!.events;
        expect(got.slice(0, logged.length), line.id).toEqual(logged);
        expect(got.map((l) => (JSON.parse(l) as { seq: number }).seq), line.id).toEqual(got.map((_, k) => k));
        // the command log too, each once: kiln-cell-2's commands from before its kill among them
        const commands = readFileSync(join(line.runDir!, 'commands.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
        const cmds = (await waitFor(`${line.id}'s stream to hold its logged commands`, inStream, (x) => x !== null && x.commands.length >= commands.length, 30_000))!.commands;
        expect(cmds, line.id).toEqual(commands);
      }
    } finally {
      await nc.close();
    }
  }, 180_000);

  it('stops every host and node on SIGTERM', async () => {
    const rec = record();
    const pids = [...rec.lines.map((l) => l.pid), ...rec.nats.map((n) => n.pid)];
    expect(await up.stop('SIGTERM', 90_000)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(record().state).toBe('stopped');
    const st = await cli(['status', PLANT, '--home', home]);
    expect(st.code).toBe(1);
    expect(st.stdout).toContain('plant kiln-plant: not running');
  }, 120_000);

  it('stops what it started when stopped while it starts: no NATS node or line host outlives it', async () => {
    const other = join(home, 'stopped-while-starting');
    const starting = own(process.execPath, ['bin/twinline.mjs', 'plant', 'up', PLANT, '--home', other]);
    const file = join(other, 'plants', 'kiln-plant', 'plant.json');
    const mid = await waitFor('a line host starting', () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as PlantRecord : null), (r) => r !== null && r.lines.some((l) => l.pid > 0), START_MS);
    expect(mid!.state).toBe('starting');
    expect(await starting.stop('SIGTERM', 90_000)).toBe(0);
    expect(starting.out()).toContain('stopped while starting');
    const last = JSON.parse(readFileSync(file, 'utf8')) as PlantRecord;
    expect(last.state).toBe('stopped');
    const pids = [...last.lines.map((l) => l.pid), ...last.nats.map((n) => n.pid)].filter((p) => p > 0);
    expect(pids.length).toBeGreaterThan(3);
    expect(pids.filter(alive)).toEqual([]);
  }, START_MS + 120_000);

  it('names what is wrong in a plant file, exit 2', async () => {
    const bad = join(home, 'bad-plant.yaml');
    writeFileSync(bad, 'version: 1\nid: bad\ntitle: { en: Bad, zh: 坏 }\nlines:\n  - { scenario: no-such.yaml }\n  - { scenario: ../../scenarios/ceramic-after.yaml, count: 0 }\n');
    const r = await cli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:6:`);
    expect(r.stderr).toContain('must be at least 1');
    writeFileSync(bad, `version: 1\nid: bad\ntitle: { en: Bad, zh: 坏 }\nlines:\n  - { scenario: ${join(process.cwd(), 'scenarios', 'ceramic-after.yaml')}, warmup: soon }\n`);
    const w = await cli(['validate', bad]);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain(`${bad}:5:`);
    expect(w.stderr).toContain('lines[0].warmup: warmup must be a duration');
    // a partition on a plant of one node is refused at once (the record of a running one-node plant, this process standing in for plant up)
    const one = join(home, 'one-node');
    mkdirSync(join(one, 'plants', 'kiln-plant'), { recursive: true });
    writeFileSync(join(one, 'plants', 'kiln-plant', 'plant.json'), JSON.stringify({
      id: 'kiln-plant', title: { en: 'Kiln plant', zh: '窑炉工厂' }, file: PLANT, pid: process.pid, state: 'up', startedAtMs: Date.now(),
      nats: [{ name: 'kiln-plant-n1', nats: 'nats://127.0.0.1:1', mqtt: 'mqtt://127.0.0.1:2', routePort: 3, monitor: 'http://127.0.0.1:4', pid: process.pid, restarts: 0, partitioned: false }], lines: [],
    }));
    const cut = await cli(['drill', PLANT, 'partition', '1', '--home', one]);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain('plant kiln-plant has one NATS node, nothing to cut it off from');
  });
});
