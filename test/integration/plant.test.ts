/**
 * `twinline plant` on real processes: three kiln cells (test/fixtures/plants/kiln-plant.yaml),
 * each its own `twinline serve`, on a three-node NATS cluster the plant starts (nats-server with
 * JetStream and MQTT on each node). A subscriber on one node sees the unified namespace of every
 * line, each published to another node; `plant status` finds all up; a line host killed with
 * SIGKILL is started again on its run (serve --resume: the re-derived events matched its log)
 * and publishes again; its JetStream stream (three replicas) holds every event of its run once,
 * in order, as its events.ndjson does, across the kill; SIGTERM stops every host and node. A broken plant file is named with
 * file:line:col.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, type PlantRecord } from '../../sim/plant/plant-up.ts';
import { streamName, subjectOf } from '../../sim/host/streams.ts';
import { own, runToEnd, type Owned } from '../proc.ts';
import { waitFor } from './opcua-host.ts';
import { START_MS } from './serve-proc.ts';

const PLANT = 'test/fixtures/plants/kiln-plant.yaml';
const LINES = ['kiln-cell-1', 'kiln-cell-2', 'kiln-cell-3'];
const home = mkdtempSync(join(tmpdir(), 'twinline-plant-'));
const recordFile = join(home, 'plants', 'kiln-plant', 'plant.json');
const record = (): PlantRecord => JSON.parse(readFileSync(recordFile, 'utf8')) as PlantRecord;
const cli = (args: string[]): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', 'plant', ...args], { timeoutMs: 60_000 });

let up: Owned;
/** line → when its last UNS message arrived [ms], seen by a client of the third node */
const heard = new Map<string, number>();
let sub: mqtt.MqttClient;

beforeAll(async () => {
  up = own(process.execPath, ['bin/twinline.mjs', 'plant', 'up', PLANT, '--home', home]);
  await waitFor('the plant to come up', () => /plant\s+\S+plant\.json/.test(up.out()) || !up.running(), (done) => done, START_MS);
  expect(up.running(), up.out()).toBe(true);
  const third = record().nats[2]!;
  sub = mqtt.connect(third.mqtt, { clientId: 'plant-test-probe', reconnectPeriod: 500 });
  sub.on('connect', () => sub.subscribe('#'));
  sub.on('message', (topic) => {
    const line = LINES.find((l) => topic.includes(`/${l}/`));
    if (line !== undefined) heard.set(line, Date.now());
  });
}, START_MS + 60_000);

afterAll(async () => {
  sub?.end(true);
  await up?.stop('SIGKILL');
  // whatever the plant started, should the test have failed before it stopped them
  try {
    const rec = record();
    for (const pid of [...rec.lines.map((l) => l.pid), ...rec.nats.map((n) => n.pid)]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    // no record
  }
  rmSync(home, { recursive: true, force: true });
});

describe('twinline plant', () => {
  it('runs every line on its own host, each publishing to another node of one cluster', async () => {
    const rec = record();
    expect(rec.state).toBe('up');
    expect(rec.nats).toHaveLength(3);
    expect(rec.lines.map((l) => [l.id, l.node, l.state])).toEqual([
      ['kiln-cell-1', 'kiln-plant-n1', 'up'], ['kiln-cell-2', 'kiln-plant-n2', 'up'], ['kiln-cell-3', 'kiln-plant-n3', 'up'],
    ]);
    expect(new Set(rec.lines.map((l) => l.pid)).size).toBe(3);
    // one subscriber on the third node hears all three lines
    await waitFor('UNS messages of every line on node 3', () => LINES.filter((l) => heard.has(l)), (got) => got.length === 3, 60_000);
    const st = await cli(['status', PLANT, '--home', home, '--json']);
    expect(st.code, st.stdout + st.stderr).toBe(0);
    const body = JSON.parse(st.stdout) as { plantUp: boolean; nats: { up: boolean }[]; lines: { id: string; host: string; simHours: number }[] };
    expect(body.plantUp).toBe(true);
    expect(body.nats.every((n) => n.up)).toBe(true);
    expect(body.lines.map((l) => [l.id, l.host])).toEqual(LINES.map((l) => [l, 'up']));
    expect(body.lines.every((l) => l.simHours > 0)).toBe(true);
  });

  it('starts a killed line host again on its run, which goes on publishing', async () => {
    const before = record().lines[1]!;
    process.kill(before.pid, 'SIGKILL');
    const killedAt = Date.now();
    const after = await waitFor('kiln-cell-2 resumed', () => record().lines[1]!, (l) => l.restarts === 1 && l.state === 'up', START_MS);
    expect(after.pid).not.toBe(before.pid);
    expect(after.runDir).toBe(before.runDir);
    expect(after.lastExit).toBe('killed by SIGKILL');
    expect(up.out()).toContain('line kiln-cell-2: host ended (killed by SIGKILL); resuming its run');
    const run = JSON.parse(readFileSync(join(after.runDir!, 'run.json'), 'utf8')) as { resumes: { divergedAt: number | null }[] };
    expect(run.resumes).toHaveLength(1);
    expect(run.resumes[0]!.divergedAt).toBeNull();
    await waitFor('kiln-cell-2 publishing again', () => heard.get('kiln-cell-2') ?? 0, (t) => t > killedAt + 1000, 60_000);
    const st = await cli(['status', PLANT, '--home', home]);
    expect(st.code, st.stdout).toBe(0);
    expect(st.stdout).toMatch(/kiln-cell-2\s+kiln-plant-n2\s+up\s+\d+\s+1\s/);
  }, START_MS + 60_000);

  it('keeps every event of a line in its JetStream stream once and in order, across the kill', async () => {
    const rec = record();
    const line = rec.lines[1]!;
    const nc = await connect({ servers: rec.nats[0]!.nats });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(streamName(line.id));
      expect(info.config.num_replicas).toBe(3);
      /** the `.events` messages' data, by stream sequence */
      const inStream = async (): Promise<string[]> => {
        const last = (await jsm.streams.info(streamName(line.id))).state.last_seq;
        const out: string[] = [];
        for (let seq = 1; seq <= last; seq++) {
          const m = await jsm.streams.getMessage(streamName(line.id), { seq });
          if (m.subject === `${subjectOf(line.id)}.events`) out.push(new TextDecoder().decode(m.data));
        }
        return out;
      };
      const logged = readFileSync(join(line.runDir!, 'events.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
      const got = await waitFor('the stream to hold the logged events', inStream, (x) => x.length >= logged.length, 30_000);
      expect(got.slice(0, logged.length)).toEqual(logged);
      expect(got.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(got.map((_, k) => k));
    } finally {
      await nc.close();
    }
  }, 120_000);

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

  it('names what is wrong in a plant file, exit 2', async () => {
    const bad = join(home, 'bad-plant.yaml');
    writeFileSync(bad, 'version: 1\nid: bad\ntitle: { en: Bad, zh: 坏 }\nlines:\n  - { scenario: no-such.yaml }\n  - { scenario: ../../scenarios/ceramic-after.yaml, count: 0 }\n');
    const r = await cli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:6:`);
    expect(r.stderr).toContain('must be at least 1');
  });
});
