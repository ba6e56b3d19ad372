/**
 * A real gateway against the twin: the flow `twinline gateway export --format node-red` writes,
 * run in Node-RED with node-red-contrib-opcua (installed from the npm registry into the tools
 * folder, test/tools.ts) against `twinline serve` (open OPC UA profile, embedded broker with a
 * `gateway` account), checked by `twinline gateway check`. Two Node-REDs run side by side: the
 * flow as exported must pass (exit 0); the same flow with a ×10 scaling on an integer and on a
 * float tag must fail, naming those two tags; a mapping that leaves out a station is named with
 * all its tags, and a gateway killed for 15 s shows a loss window and stale tags. On the hardened profile the server refuses
 * Node-RED's certificate until `twinline opcua trust --last-rejected`, then the flow passes as
 * the read-only viewer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { AccountStore } from '../../sim/host/accounts.ts';
import { startServer, type Served } from '../../sim/host/serve.ts';
import type { CheckReport } from '../../sim/gateway/check.ts';
import { lineCatalog } from '../../sim/gateway/catalog.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { findNodeRed } from '../tools.ts';
import { own, scaled, type Owned } from '../proc.ts';

const SCENARIO = 'scenarios/ceramic-after.yaml';
const RED = findNodeRed();
// under CI the tools folder is filled by bin/check-prereqs.mjs: missing is a failure, not a skip
if (RED === null && process.env.CI === 'true') throw new Error('Node-RED with node-red-contrib-opcua is not in the tools folder: `CI=true node bin/check-prereqs.mjs` installs it into ~/.cache/twinline-tools/node-red');
const quiet = (): void => undefined;
const GATEWAY = { user: 'gw', password: 'gw-secret-1', role: 'gateway' as const };
const VIEWER = { user: 'check', password: 'check-secret-1', role: 'viewer' as const };
/** an integer and a float tag that are never zero: ×10 shows on their first value */
const SCALED = ['kiln.mode', 'kiln.t4'];
/** the station a faulty mapping leaves out */
const DROPPED = 'c1';

/** Runs the CLI; resolves with its exit code and output; `onErr` sees stderr as it comes. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, onErr: (text: string) => void = quiet): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = own(process.execPath, ['bin/twinline.mjs', ...args], { env: { ...process.env, ...env } });
    p.proc.stderr.on('data', () => onErr(p.stderr()));
    void p.exited.then((code) => resolve({ code, out: p.stdout(), err: p.stderr() }));
  });
}

/** Node-RED headless: no editor, credentials in plain `<flows>_cred.json`, nothing sent home. */
function settings(dir: string): string {
  const file = join(dir, 'settings.js');
  writeFileSync(file, `module.exports = ${JSON.stringify({
    uiHost: '127.0.0.1', uiPort: 0, httpAdminRoot: false, httpNodeRoot: false, flowFile: 'flows.json', credentialSecret: false,
    diagnostics: { enabled: false }, telemetry: { enabled: false }, runtimeState: { enabled: false }, logging: { console: { level: 'warn' } },
  })};\n`);
  return file;
}

/** The twin and the Node-RED processes of one describe: `twinline serve` with `profile`, shared by its tests. */
function gatewayHost(profile: 'open' | 'hardened'): { served: Served; dir: string; reds: Owned[] } {
  const h = { served: undefined as unknown as Served, dir: '', reds: [] as Owned[] };
  beforeAll(async () => {
    h.dir = mkdtempSync(join(tmpdir(), `twinline-gw-nr-${profile}-`));
    h.served = await startServer({
      file: SCENARIO, httpPort: 0, explicitPort: false, host: '127.0.0.1', speed: 1, log: quiet, profile,
      home: h.dir, accounts: AccountStore.fromClear([GATEWAY, VIEWER]), opcua: { port: 0, explicitPort: true },
      mqtt: { encoding: 'uns', embedded: { host: '127.0.0.1', port: 0, explicitPort: true, wsPort: null, explicitWsPort: false } },
    });
  }, 60_000);
  afterAll(async () => {
    for (const r of h.reds) await r.stop('SIGTERM', 5000);
    await (h.served as Served | undefined)?.close();
    if (h.dir !== '') rmSync(h.dir, { recursive: true, force: true });
  });
  return h;
}

describe.runIf(RED !== null)('a real Node-RED gateway, checked', () => {
  const h = gatewayHost('open');

  /** `gateway check --json` on `root/#` for `forS` seconds; `started` gains a promise kept once its window has begun. */
  function checkFor(root: string, forS: number, started: Promise<void>[]): ReturnType<typeof cli> {
    let go: () => void = quiet;
    started.push(new Promise<void>((r) => (go = r)));
    return cli(['gateway', 'check', SCENARIO, '--source', `${root}/#`, '--for', `${forS}s`, '--broker', h.served.mqtt!.url, '--user', VIEWER.user, '--password', VIEWER.password, '--json'], {}, (err) => {
      if (err.includes('checking ')) go();
    });
  }

  /** Exports the flow for topic root `root` into its own user folder; `edit` may change it. */
  async function flowFor(root: string, edit: (flow: { type: string; func?: string }[]) => void = quiet): Promise<string> {
    const user = join(h.dir, root.replace(/\W/g, '-'));
    mkdirSync(user, { recursive: true });
    const out = join(user, 'flows.json');
    const r = await cli(['gateway', 'export', '--format', 'node-red', SCENARIO, '--profile', 'open', '--endpoint', h.served.opcua!, '--broker', h.served.mqtt!.url,
      '--mqtt-user', GATEWAY.user, '--topic', root, '--out', out], { TWINLINE_MQTT_PASSWORD: GATEWAY.password });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`node-red ${out}`);
    expect(r.err).toContain(join(user, 'flows_cred.json'));
    const flow = JSON.parse(readFileSync(out, 'utf8')) as { type: string; func?: string }[];
    edit(flow);
    writeFileSync(out, JSON.stringify(flow));
    return user;
  }

  function startRed(user: string): Owned {
    // HOME too: node-red-contrib-opcua keeps its client certificate under it
    const p = own(process.execPath, [RED!, '--settings', settings(user), '--userDir', user, join(user, 'flows.json')], { cwd: user, env: { ...process.env, HOME: user } });
    h.reds.push(p);
    return p;
  }

  it('the exported flow passes; with ×10 on an integer and a float tag, both are named', async () => {
    const good = await flowFor('gw/nr');
    const bad = await flowFor('gw/x10', (flow) => {
      const fn = flow.find((n) => n.type === 'function' && n.func?.includes('const topics'))!;
      // the gateway's mapping with a scaling mistake on two tags
      fn.func = fn.func!.replace('return { topic:', `if (${JSON.stringify(SCALED)}.includes(key) && typeof v === 'number') v = v * 10;\nreturn { topic:`)
        .replace('const v =', 'let v =');
    });
    // a fixed window: the gateways' start-up is inside it (Node-RED loading node-opcua takes
    // seconds on a quiet machine, far longer on a busy one)
    const forS = Math.round(scaled(30_000) / 1000);
    const started: Promise<void>[] = [];
    const check = (root: string): ReturnType<typeof cli> => checkFor(root, forS, started);
    // the checks listen first, so the gateways' first values (every tag) fall in their window
    const runs = [check('gw/nr'), check('gw/x10')];
    await Promise.all(started);
    const nr = [startRed(good), startRed(bad)];
    const [ok, x10] = await Promise.all(runs);
    const log = nr.map((p) => p.out().split('\n').filter((l) => /error|warn/i.test(l)).slice(0, 5).join('\n')).join('\n');
    const a = JSON.parse(ok!.out) as CheckReport;
    const b = JSON.parse(x10!.out) as CheckReport;
    console.log(`node-red: ${a.messages.values} values, ${a.changes.delivered}/${a.changes.published} changes, p50 ${a.latencyMs.p50} ms, problems ${JSON.stringify(a.problems)} ${JSON.stringify(a.neverDelivered)} ${JSON.stringify(a.lossWindows)} stale ${JSON.stringify(a.stale.slice(0, 5))} dup ${JSON.stringify(a.duplicatesByTag.slice(0, 5))} ve ${JSON.stringify(a.valueErrorsByTag.slice(0, 3))}; ×10: ${JSON.stringify(b.valueErrorsByTag.map((e) => [e.tag, e.count]))}`);
    expect(a.messages.values, `Node-RED delivered nothing:\n${log}`).toBeGreaterThan(300);
    expect(a.problems, `${ok!.err}\n${log}`).toEqual([]);
    expect(ok!.code).toBe(0);
    expect(a.tags.coverage).toBe(1);
    // a re-sent value now and then is within the duplicates limit (problems above); never a wrong one
    expect(a.valueErrors).toBe(0);
    expect(x10!.code).toBe(3);
    expect(b.valueErrorsByTag.map((e) => e.tag).sort()).toEqual(SCALED);
  }, scaled(120_000));

  it('a dropped station is named with all its tags; a gateway stopped for 15 s shows a loss window and stale tags', async () => {
    // a gateway whose mapping leaves out one station; a correct one that is killed and restarted
    const dropped = await flowFor('gw/drop', (flow) => {
      const fn = flow.find((n) => n.type === 'function' && n.func?.includes('const topics'))!;
      fn.func = fn.func!.replace('const v =', `if (key.startsWith('${DROPPED}.')) return null;\nconst v =`);
    });
    const killed = await flowFor('gw/kill');
    const forS = Math.round(scaled(75_000) / 1000);
    const started: Promise<void>[] = [];
    const check = (root: string): ReturnType<typeof cli> => checkFor(root, forS, started);
    const runs = [check('gw/drop'), check('gw/kill')];
    await Promise.all(started);
    startRed(dropped);
    const first = startRed(killed);
    // the killed gateway delivers for a while first: wait for its values on the broker
    const watcher = await mqtt.connectAsync(h.served.mqtt!.url, { username: VIEWER.user, password: VIEWER.password, reconnectPeriod: 0 });
    let seen = 0;
    watcher.on('message', () => seen++);
    await watcher.subscribeAsync('gw/kill/#');
    for (const end = Date.now() + scaled(40_000); seen < 200 && Date.now() < end;) await new Promise((r) => setTimeout(r, 200));
    await watcher.endAsync();
    expect(seen, first.out().slice(-2000)).toBeGreaterThanOrEqual(200);
    await first.stop('SIGKILL');
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 15_000));
    startRed(killed);
    const [drop, kill] = await Promise.all(runs);
    // the window must have held the whole gap and some delivery after it
    expect(Date.now() - stoppedAt).toBeGreaterThan(20_000);
    const d = JSON.parse(drop!.out) as CheckReport;
    const k = JSON.parse(kill!.out) as CheckReport;
    console.log(`dropped: never delivered ${JSON.stringify(d.neverDelivered.map((g) => [g.station, g.all, g.changed.length + g.quiet.length]))}; killed: loss windows ${JSON.stringify(k.lossWindows.map((w) => [w.startS, w.endS, w.missed, w.tags.length]))}, stale ${k.stale.length} tags`);
    expect(drop!.code).toBe(3);
    expect(d.neverDelivered.map((g) => g.station)).toEqual([DROPPED]);
    const station = d.neverDelivered[0]!;
    expect(station.all).toBe(true);
    const tagsOfStation = lineCatalog(parseScenario(readFileSync(SCENARIO, 'utf8'), SCENARIO)).tags.filter((t) => t.station === DROPPED).length;
    expect(station.changed.length + station.quiet.length).toBe(tagsOfStation);
    expect(kill!.code).toBe(3);
    // one window of missed changes about the 15 s the gateway was down, with the tags that changed meanwhile
    const gap = k.lossWindows.find((w) => w.endS - w.startS >= 10);
    expect(gap, JSON.stringify(k.lossWindows)).toBeDefined();
    expect(gap!.tags.length).toBeGreaterThan(5);
    expect(k.stale.filter((t) => t.staleS >= 10).length, JSON.stringify(k.stale.slice(0, 5))).toBeGreaterThan(0);
  }, scaled(200_000));
});

describe.runIf(RED !== null)('a real Node-RED gateway on the hardened profile, trusted, checked', () => {
  const h = gatewayHost('hardened');

  it('refused at first, trusted with `twinline opcua trust --last-rejected`, then it passes as the viewer', async () => {
    const user = join(h.dir, 'nr');
    mkdirSync(user, { recursive: true });
    const out = join(user, 'flows.json');
    const e = await cli(['gateway', 'export', '--format', 'node-red', SCENARIO, '--endpoint', h.served.opcua!, '--broker', h.served.mqtt!.url, '--user', VIEWER.user,
      '--mqtt-user', GATEWAY.user, '--topic', 'gw/nrh', '--out', out], { TWINLINE_OPCUA_PASSWORD: VIEWER.password, TWINLINE_MQTT_PASSWORD: GATEWAY.password });
    expect(e.code, e.err).toBe(0);
    expect(e.err).toContain('twinline opcua trust --last-rejected');
    const cred = JSON.parse(readFileSync(join(user, 'flows_cred.json'), 'utf8')) as Record<string, { user: string; password: string }>;
    expect(Object.values(cred).map((c) => c.user).sort()).toEqual([VIEWER.user, GATEWAY.user].sort());
    const start = (): Owned => {
      const p = own(process.execPath, [RED!, '--settings', settings(user), '--userDir', user, out], { cwd: user, env: { ...process.env, HOME: user } });
      h.reds.push(p);
      return p;
    };
    const first = start();
    const rejected = join(h.dir, 'opcua', 'pki', 'rejected');
    const until = Date.now() + scaled(30_000);
    while (Date.now() < until && (!existsSync(rejected) || readdirSync(rejected).length === 0)) await new Promise((r) => setTimeout(r, 250));
    expect(readdirSync(rejected).length, first.out().slice(-2000)).toBeGreaterThan(0);
    const t = await cli(['opcua', 'trust', '--last-rejected', '--home', h.dir]);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/^trusted .*\(SHA-1 [0-9a-f]{40}, valid to .*\): .*trusted\/certs\//);
    await first.stop('SIGTERM', 5000);
    let go: () => void = quiet;
    const listening = new Promise<void>((r) => (go = r));
    // Node-RED may re-create a monitored item when its secure session reconnects on a busy
    // machine, and then sends that tag's changes twice: a real duplicate, allowed up to 5 % here
    const run = cli(['gateway', 'check', SCENARIO, '--source', 'gw/nrh/#', '--for', `${Math.round(scaled(30_000) / 1000)}s`, '--broker', h.served.mqtt!.url, '--user', VIEWER.user, '--password', VIEWER.password, '--json',
      '--max-duplicates', '5%'], {}, (err) => {
      if (err.includes('checking ')) go();
    });
    await listening;
    const again = start();
    const res = await run;
    const r = JSON.parse(res.out) as CheckReport;
    console.log(`node-red hardened: ${r.messages.values} values, ${r.changes.delivered}/${r.changes.published} changes, problems ${JSON.stringify(r.problems)}, duplicates ${JSON.stringify(r.duplicatesByTag.slice(0, 8))}`);
    expect(r.messages.values, again.out().slice(-2000)).toBeGreaterThan(300);
    expect(r.problems).toEqual([]);
    expect(res.code).toBe(0);
    expect(r.tags.coverage).toBe(1);
    expect(r.valueErrors).toBe(0);
  }, scaled(150_000));
});
