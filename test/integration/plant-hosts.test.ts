/**
 * A plant whose lines run on hosts of their own: `plant up` makes a network namespace per host of
 * the plant file on a bridge (sim/plant/plant-net.ts; root and iproute2, as CI runs), the NATS
 * node listens on the bridge's address, and each line host runs inside its namespace, listening
 * on its host's address. What is checked is what another machine would see: each host process
 * is in its namespace (`ip netns identify`), its web app answers at its host's address and not
 * on this machine's loopback, its unified namespace reaches a subscriber of the cluster across
 * its veth (the link's byte counters), a namespace has no route beyond the plant network. A line
 * moved to another host (`plant drill move`) resumes its run there, publishing the same topics,
 * and its JetStream stream still holds its run's events once and in order; a host killed there
 * is resumed there. A host cut off the plant network (`isolate`: its link down) sends nothing
 * until it rejoins, then every record it held, in order, while a local line goes on. SIGTERM,
 * with a host cut off, stops every line without killing one and removes the namespaces and
 * bridge the plant made. `plant net up` refuses a subnet that overlaps a route of this machine.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type mqtt from 'mqtt';
import { connect } from 'nats';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebApp, CHROMIUM, CHROMIUM_ARGS } from '../e2e/host.ts';
import { portOpen } from '../../sim/plant/nats-cluster.ts';
import { alive, type PlantRecord } from '../../sim/plant/plant-up.ts';
import { streamName, subjectOf } from '../../sim/host/streams.ts';
import { runToEnd, type Owned } from '../proc.ts';
import { findTool } from '../tools.ts';
import { waitFor } from './opcua-host.ts';
import { hearLines, killWhatPlantStarted, startPlantUp } from './plant-proc.ts';
import { START_MS } from './serve-proc.ts';

const IP = findTool('ip', '/usr/sbin/ip');
/** namespaces take root: elsewhere the file does not run; under CI (root) not being root is a failure */
const runs = process.getuid?.() === 0;
if (!runs && process.env.CI === 'true') throw new Error('the plant-hosts test makes network namespaces: under CI=true it runs as root, as .ci/run does');
const ID = `halls-${process.pid}`;
/** a /24 of 10.213/16 of this run's own (plant net up refuses one a route of this machine uses) */
const NET = `10.213.${100 + (process.pid % 150)}`;
const home = mkdtempSync(join(tmpdir(), 'twinline-plant-hosts-'));
const PLANT = join(home, 'halls.yaml');
const recordFile = join(home, 'plants', ID, 'plant.json');
const record = (): PlantRecord => JSON.parse(readFileSync(recordFile, 'utf8')) as PlantRecord;
const cli = (args: string[], ms = 60_000): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', 'plant', ...args], { timeoutMs: ms });
const ip = async (args: string[]): Promise<string> => (await runToEnd(IP, args, { timeoutMs: 15_000 })).stdout;
const fixture = (f: string): string => resolve('test/fixtures/scenarios', f);
const LINES = ['kiln-cell', 'minimal', 'vision-cell'];

let up: Owned;
/** line → when its last UNS message reached the cluster's node */
const heard = new Map<string, number>();
let sub: mqtt.MqttClient;

/** bytes the bridge's end of a host's veth received (what the host sent) */
const sentBy = (veth: string): number => Number(readFileSync(`/sys/class/net/${veth}/statistics/rx_bytes`, 'utf8'));


beforeAll(async () => {
  if (!runs) return;
  await buildWebApp();
  writeFileSync(PLANT, [
    'version: 1', `id: ${ID}`, 'title: { en: Two halls, zh: 两个车间 }', 'profile: open', 'nats: { nodes: 1 }',
    `network: { subnet: ${NET}.0/24 }`,
    'hosts:', '  - { name: hall-a }', `  - { name: hall-b, address: ${NET}.20 }`,
    'lines:',
    `  - { scenario: ${fixture('kiln-cell.yaml')}, speed: 10, host: hall-a }`,
    `  - { scenario: ${fixture('minimal.yaml')}, host: hall-b }`,
    `  - { scenario: ${fixture('vision-cell.yaml')} }`,
    '',
  ].join('\n'));
  up = await startPlantUp(PLANT, home);
  sub = hearLines(record().nats[0]!.mqtt, 'plant-hosts-probe', LINES, heard);
}, START_MS + 60_000);

afterAll(async () => {
  if (!runs) return;
  sub?.end(true);
  await up?.stop('SIGKILL');
  killWhatPlantStarted(recordFile);
  // whatever of the network a failed test left
  await cli(['net', 'down', PLANT, '--home', home]);
  rmSync(home, { recursive: true, force: true });
});

describe.runIf(runs)('a plant on hosts of its own (network namespaces)', () => {
  it('runs each line in its host\'s namespace, reached at its address, publishing across its link to the cluster', async () => {
    const rec = record();
    expect(rec.network).toMatchObject({ subnet: `${NET}.0/24`, gateway: `${NET}.1` });
    expect(rec.nats[0]!.mqtt).toMatch(new RegExp(`^mqtt://${NET.replaceAll('.', '\\.')}\\.1:\\d+$`));
    expect(rec.hosts.map((h) => [h.name, h.address])).toEqual([['hall-a', `${NET}.2`], ['hall-b', `${NET}.20`]]);
    expect(rec.lines.map((l) => [l.id, l.host, l.address])).toEqual([['kiln-cell', 'hall-a', `${NET}.2`], ['minimal', 'hall-b', `${NET}.20`], ['vision-cell', null, '127.0.0.1']]);
    for (const l of rec.lines) {
      // the host process itself is in its host's namespace (the local line in none of the plant's)
      expect((await ip(['netns', 'identify', String(l.pid)])).trim(), l.id).toBe(l.netns ?? '');
      const url = new URL(l.url!);
      expect(url.hostname, l.id).toBe(l.address);
      expect(await portOpen(url.hostname, Number(url.port)), l.id).toBe(true);
      // a host's loopback is its own: this machine's 127.0.0.1 does not have its port
      if (l.netns !== null) expect(await portOpen('127.0.0.1', Number(url.port)), l.id).toBe(false);
    }
    // nothing in a namespace reaches beyond the plant network: no default route
    for (const h of rec.hosts) expect(await ip(['-n', h.netns, 'route', 'show', 'default'])).toBe('');
    // the cluster's node hears every line; what the hosts send crosses their veths
    const veths = (await ip(['-o', 'link', 'show', 'master', rec.network!.bridge])).split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((v): v is string => v !== undefined);
    expect(veths).toHaveLength(2);
    const before = veths.map(sentBy);
    await waitFor('UNS messages of every line at the cluster', () => LINES.filter((l) => heard.has(l)), (got) => got.length === LINES.length, 60_000);
    await waitFor('traffic from both hosts across their links', () => veths.map((v, k) => sentBy(v) - before[k]!), (d) => d.every((x) => x > 2000), 30_000);
    const st = await cli(['status', PLANT, '--home', home, '--json']);
    expect(st.code, st.stdout + st.stderr).toBe(0);
    const body = JSON.parse(st.stdout) as { lines: { id: string; host: string; machine: string | null }[] };
    expect(body.lines.map((l) => [l.id, l.host, l.machine])).toEqual([['kiln-cell', 'up', 'hall-a'], ['minimal', 'up', 'hall-b'], ['vision-cell', 'up', null]]);
    const table = await cli(['status', PLANT, '--home', home]);
    expect(table.stdout).toMatch(/kiln-cell\s+hall-a\s/);
    // its network stays while it runs
    const down = await cli(['net', 'down', PLANT, '--home', home]);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain(`plant ${ID} is up (plant up pid ${rec.pid}): stop it before removing its network`);
    // the plant view says where each line runs
    const view = (await (await fetch(new URL('/api/plant', rec.view!))).json()) as { lines: { id: string; machine: string | null }[] };
    expect(view.lines.map((l) => [l.id, l.machine])).toEqual([['kiln-cell', 'hall-a'], ['minimal', 'hall-b'], ['vision-cell', null]]);
  }, 180_000);

  it('moves a line to another host: its run resumes there, on the same topics, its stream whole; killed there, it resumes there', async () => {
    const was = record().lines.find((l) => l.id === 'kiln-cell')!;
    const hoursBefore = await simHours('kiln-cell');
    const moved = await cli(['drill', PLANT, 'move', 'kiln-cell', 'hall-b', '--home', home], 300_000);
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    const at = Date.now();
    const now = record().lines.find((l) => l.id === 'kiln-cell')!;
    expect([now.host, now.address, now.runDir]).toEqual(['hall-b', `${NET}.20`, was.runDir]);
    expect(now.pid).not.toBe(was.pid);
    expect((await ip(['netns', 'identify', String(now.pid)])).trim()).toBe(now.netns);
    expect(new URL(now.url!).hostname).toBe(`${NET}.20`);
    expect(await simHours('kiln-cell')).toBeGreaterThanOrEqual(hoursBefore);
    await waitFor('kiln-cell heard again after its move', () => heard.get('kiln-cell') ?? 0, (t) => t > at, 60_000);
    expect(up.out()).toContain('drill: line kiln-cell moved from hall-a to hall-b');
    // killed on its new host, it is resumed there
    const kill = await cli(['drill', PLANT, 'kill-line', 'kiln-cell', '--home', home]);
    expect(kill.code, kill.stderr).toBe(0);
    const again = await waitFor('kiln-cell up again', () => record().lines.find((l) => l.id === 'kiln-cell')!, (l) => l.pid !== now.pid && l.state === 'up', START_MS);
    expect((await ip(['netns', 'identify', String(again.pid)])).trim()).toBe(now.netns);
    await streamHoldsRun(again);
  }, START_MS + 300_000);

  it('cuts a host off the plant network: nothing of its lines reaches the cluster until it rejoins, then all of it, in order', async () => {
    const nc = await connect({ servers: record().nats[0]!.nats });
    try {
      const jsm = await nc.jetstreamManager();
      const lastSeq = async (line: string): Promise<number> => (await jsm.streams.info(streamName(line))).state.last_seq;
      const cut = await cli(['drill', PLANT, 'isolate', 'hall-b', '--home', home]);
      expect(cut.code, cut.stdout + cut.stderr).toBe(0);
      const at = Date.now();
      expect(record().hosts.map((h) => [h.name, h.isolated])).toEqual([['hall-a', false], ['hall-b', true]]);
      // what was on the wire at the cut has landed after a second; from then on nothing comes from hall-b
      await new Promise((r) => setTimeout(r, 1000));
      const held = await lastSeq('kiln-cell');
      // plant status waits out its requests to the cut host's lines (5 s), says so and fails
      const st = await cli(['status', PLANT, '--home', home]);
      expect(st.code).toBe(1);
      expect(st.stdout).toContain(`hall-b ${NET}.20 (cut off)`);
      expect(await lastSeq('kiln-cell')).toBe(held);
      expect(heard.get('kiln-cell')!).toBeLessThan(at + 1000);
      expect(heard.get('minimal')!).toBeLessThan(at + 1000);
      // the local line went on publishing meanwhile
      expect(heard.get('vision-cell')!).toBeGreaterThan(at + 1000);
      // what a person sees in the plant view: the host cut off, and which lines are on it
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
        await page.goto(record().view!);
        await page.waitForSelector('[data-testid=plant][data-ready="1"]', { timeout: 60_000 });
        expect((await page.getByTestId('plant-nodes').innerText()).replace(/\s+/g, ' ')).toContain(`hosts: hall-a ${NET}.2, hall-b ${NET}.20 (cut off)`);
        expect(await page.getByTestId('plant-tile-kiln-cell').innerText()).toContain('hall-b →');
        expect(await page.getByTestId('plant-tile-vision-cell').innerText()).not.toContain('hall-');
      } finally {
        await browser.close();
      }
      const back = await cli(['drill', PLANT, 'rejoin', 'hall-b', '--home', home]);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      const rejoined = Date.now();
      await waitFor('kiln-cell and minimal heard again', () => [heard.get('kiln-cell') ?? 0, heard.get('minimal') ?? 0], (t) => t.every((x) => x > rejoined), 60_000);
      await waitFor('kiln-cell\'s stream growing again', () => lastSeq('kiln-cell'), (n) => n > held, 60_000);
    } finally {
      await nc.close();
    }
    for (const l of record().lines.filter((x) => x.host === 'hall-b')) await streamHoldsRun(l);
    expect((await cli(['status', PLANT, '--home', home])).code).toBe(0);
  }, 240_000);

  it('stops every host and node on SIGTERM, a host cut off among them, and removes the namespaces and bridge it made', async () => {
    // the hosts on a cut-off host stop cleanly too: their connections to the cluster stall, and must not hold them
    expect((await cli(['drill', PLANT, 'isolate', 'hall-b', '--home', home])).code).toBe(0);
    const rec = record();
    const pids = [...rec.lines.map((l) => l.pid), ...rec.nats.map((n) => n.pid)];
    expect(await up.stop('SIGTERM', 90_000)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(up.out()).not.toContain('did not stop within');
    expect(up.out()).toContain(`plant network: removed netns twl-${ID}-hall-a, netns twl-${ID}-hall-b, bridge ${rec.network!.bridge}`);
    const left = await ip(['netns', 'list']);
    expect(left).not.toContain(`twl-${ID}-`);
    expect((await runToEnd(IP, ['link', 'show', 'dev', rec.network!.bridge], { timeoutMs: 15_000 })).code).not.toBe(0);
  }, 120_000);

  it('makes and removes the network by hand, and refuses a subnet a route of this machine uses', async () => {
    const made = await cli(['net', 'up', PLANT]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain(`made bridge `);
    expect(made.stdout).toContain(`host hall-b   ${NET}.20   netns twl-${ID}-hall-b`);
    expect((await cli(['net', 'up', PLANT])).stdout).toContain('all there already');
    const gone = await cli(['net', 'down', PLANT]);
    expect(gone.stdout).toContain(`removed netns twl-${ID}-hall-a, netns twl-${ID}-hall-b, bridge`);
    // a route of this machine on the plant's subnet: a link of the test's own (an empty bridge) holding an address there
    const dummy = `twlt${process.pid % 100_000}`;
    await ip(['link', 'add', dummy, 'type', 'bridge']);
    try {
      await ip(['addr', 'add', `${NET}.250/24`, 'dev', dummy]);
      await ip(['link', 'set', dummy, 'up']);
      const clash = await cli(['net', 'up', PLANT]);
      expect(clash.code).toBe(2);
      expect(clash.stderr).toContain(`network.subnet ${NET}.0/24 overlaps a route of this machine (${NET}.0/24 dev ${dummy}`);
      expect(await ip(['netns', 'list'])).not.toContain(`twl-${ID}-`);
    } finally {
      await ip(['link', 'del', dummy]);
    }
  }, 120_000);
});

/** A line's simulated hours, as `plant status` reads them from its host. */
async function simHours(line: string): Promise<number> {
  const st = await cli(['status', PLANT, '--home', home, '--json']);
  return (JSON.parse(st.stdout) as { lines: { id: string; simHours: number }[] }).lines.find((l) => l.id === line)!.simHours;
}

/** The line's JetStream stream holds its run's logged events once, in order (what it had not acknowledged when it stopped, sent when it resumed). */
async function streamHoldsRun(line: PlantRecord['lines'][number]): Promise<void> {
  const nc = await connect({ servers: record().nats[0]!.nats });
  try {
    const jsm = await nc.jetstreamManager();
    const events = async (): Promise<string[]> => {
      const info = await jsm.streams.info(streamName(line.id));
      const out: string[] = [];
      for (let seq = 1; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(streamName(line.id), { seq });
        if (m.subject === `${subjectOf(line.id)}.events`) out.push(new TextDecoder().decode(m.data));
      }
      return out;
    };
    const logged = readFileSync(join(line.runDir!, 'events.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
    const got = await waitFor(`${line.id}'s stream to hold its logged events`, events, (x) => x.length >= logged.length, 60_000);
    expect(got.slice(0, logged.length)).toEqual(logged);
    expect(got.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(got.map((_, k) => k));
  } finally {
    await nc.close();
  }
}
