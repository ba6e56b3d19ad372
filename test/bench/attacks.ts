/**
 * Bench section `attacks`: how well a real `twinline serve` (hardened, every face on, a fresh
 * home) keeps answering while it is attacked on loopback, against the same figures measured
 * unattacked in the five seconds just before each attack (the UNS rate follows what the line
 * is doing, so one baseline at the start would drift).
 *
 * A probe process (`attacks-probe.ts`) measures what a viewer sees: REST `GET /api/state`
 * latency (one request every 50 ms, open loop), the longest stretch without any REST answer,
 * and UNS messages per second on the embedded broker. Each attack runs inside one probe
 * window, and the host's RSS (/proc VmRSS) is read before, during and after it:
 *
 * 1. one MQTT SUBSCRIBE carrying 10,000 topic filters, anonymously and as `viewer`;
 * 2. 2,000 idle TCP connections each to the HTTP and MQTT ports, held for the window;
 * 3. MQTT CONNECTs as `operator` with a wrong password, 20 at a time, for the window;
 * 4. 20,000 `POST /api/commands` as `operator`, 64 in flight, each refused by the line (an
 *    unknown field; every 4th with the largest args the API accepts); the window is the flood
 *    itself, cut at 40 s (BENCH_FLOOD_S) so that the section stays near two minutes; its
 *    baseline is the same commands sent one at a time.
 *
 * Everything is bounded in count and time; the host and probe processes are killed at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { startServe, type ServeProc } from '../integration/serve-proc.ts';
import type { MqttCred, ProbeCommand, ProbeReply, ProbeWindow } from './attacks-probe.ts';
import { badLogins, commandFlood, holdConnections, login, rssMb, subscribeFlood, watchRss } from './attacks-floods.ts';
import { fmt, quantile, ratio, type BenchRow, type SectionResult } from './common.ts';

const SCENARIO = 'scenarios/ceramic-after.yaml';
/** station the refused commands name */
const STATION = 'kiln';
/** length of each measuring window [ms] */
const WINDOW_MS = 5000;
/** after the host is up, before the first window [ms] */
const WARM_UP_MS = 6000;
const FILTERS = 10_000;
const CONNECTIONS = 2000;
const BAD_LOGINS = 200;
const BAD_LOGINS_IN_FLIGHT = 20;
const COMMANDS = 20_000;
const IN_FLIGHT = 64;
/** commands sent one at a time for the flood's baseline */
const SINGLE_COMMANDS = 100;
/** the command flood stops sending after this long, done or not [ms]; BENCH_FLOOD_S=300 lets all 20,000 through on a slow host */
const FLOOD_LIMIT_MS = 1000 * (Number(process.env.BENCH_FLOOD_S) > 0 ? Number(process.env.BENCH_FLOOD_S) : 40);
/** how long the host may take to answer again after an attack before the next one starts [ms] */
const RECOVERY_LIMIT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The probe child, driven over IPC. */
class Probe {
  /** `mqttAs`: how the subscriber logged in; `cred`: the index of the credential it used */
  private constructor(readonly proc: ChildProcess, readonly mqttAs: string, readonly cred: number) {}

  static async start(init: Extract<ProbeCommand, { cmd: 'init' }>): Promise<Probe> {
    const proc = fork('bin/run-ts.mjs', ['test/bench/attacks-probe.ts'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    try {
      const ready = Probe.next(proc, 60_000);
      proc.send(init);
      const r = await ready;
      if (r.kind !== 'ready') throw new Error(`probe: ${r.kind === 'error' ? r.message : r.kind}`);
      return new Probe(proc, r.mqttAs, r.cred);
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
  }

  private static next(proc: ChildProcess, timeoutMs: number): Promise<ProbeReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('probe did not answer')), timeoutMs);
      const onExit = (): void => reject(new Error('probe exited'));
      proc.once('exit', onExit);
      proc.once('message', (m: ProbeReply) => {
        clearTimeout(timer);
        proc.off('exit', onExit);
        resolve(m);
      });
    });
  }

  /** Measures while `during` runs. */
  async window<T>(during: () => Promise<T>): Promise<{ w: ProbeWindow; value: T }> {
    this.proc.send({ cmd: 'start' } satisfies ProbeCommand);
    const value = await during();
    const reply = Probe.next(this.proc, 60_000);
    this.proc.send({ cmd: 'stop' } satisfies ProbeCommand);
    const r = await reply;
    if (r.kind !== 'window') throw new Error(`probe: ${r.kind === 'error' ? r.message : r.kind}`);
    return { w: r.w, value };
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGKILL');
    await once(this.proc, 'exit');
  }
}

/** What the banner says of the MQTT face: broker URL, UNS prefix, and the viewer's MQTT password if the broker keeps its own. */
function mqttOf(out: string): { url: string; prefix: string; ownViewerPassword: string | null } {
  const url = /MQTT\s+(mqtt:\/\/\S+)/.exec(out)?.[1];
  const prefix = /UNS (\S+)\/<station>\/<tag>/.exec(out)?.[1];
  if (url === undefined || prefix === undefined) throw new Error(`serve printed no MQTT broker and UNS prefix:\n${out}`);
  const own = /MQTT account "viewer".*password \(shown once\): (\S+)/.exec(out)?.[1] ?? null;
  return { url, prefix, ownViewerPassword: own };
}

/** simulated time of the line [s], read as a viewer; NaN when the host does not answer in 10 s */
async function simTime(base: string, token: string): Promise<number> {
  try {
    const r = await fetch(new URL('api/state', base), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    return ((await r.json()) as { simTime?: number }).simTime ?? NaN;
  } catch {
    return NaN;
  }
}

/** Waits until the host answers GET /api/state within 1 s again; how long that took [ms], or null if it never did. */
async function recovered(base: string, token: string): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < RECOVERY_LIMIT_MS) {
    const t = performance.now();
    if (Number.isFinite(await simTime(base, token)) && performance.now() - t < 1000) return performance.now() - t0;
    await sleep(250);
  }
  return null;
}

/** One attack's figures. */
interface Attacked {
  name: string;
  /** the unattacked window just before, and the window during the attack */
  before: ProbeWindow;
  w: ProbeWindow;
  /** longest stretch without an HTTP answer from the start of the attack until the host answered again [ms] */
  silenceMs: number;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  notes: string[];
}

const rate = (w: ProbeWindow): number => w.messages / w.seconds;
const failures = (w: ProbeWindow): string => {
  const f = Object.entries(w.failures).map(([k, v]) => `${v}× ${k}`).join(', ');
  return f === '' ? 'all 200' : `not 200: ${f}`;
};
const describe = (w: ProbeWindow): string => `${w.requests} probes, p50 ${fmt(w.p50, 1)} ms, p99 ${fmt(w.p99, 1)} ms, max ${fmt(w.max)} ms, ${failures(w)}; ${fmt(w.messages)} UNS msgs in ${fmt(w.seconds, 1)} s${w.drops > 0 ? `, subscriber dropped ${w.drops}×` : ''}; probe's own event-loop lag ≤ ${fmt(w.probeLagMs)} ms`;
const counts = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${fmt(v)}× ${k}`).join(', ');
/** RSS samples at a quarter, half, three quarters and the end of a window [MB] */
const course = (xs: readonly number[]): string => [0.25, 0.5, 0.75, 1].map((q) => fmt(xs[Math.min(xs.length - 1, Math.round(q * (xs.length - 1)))] ?? NaN)).join(' → ');

/** The `attacks` section. */
export async function attacksBench(log: (line: string) => void): Promise<SectionResult> {
  const t0 = performance.now();
  const serve: ServeProc = await startServe([SCENARIO, '--http-port', '0', '--opcua-port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '0']);
  let probe: Probe | null = null;
  try {
    const pid = serve.proc.pid!;
    const base = serve.base;
    const mqtt = mqttOf(serve.out());
    log(`host: twinline serve ${SCENARIO} (pid ${pid}, hardened), ${base}, ${mqtt.url}; up in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const viewer = await login(base, 'viewer', serve.passwords.viewer ?? '');
    const operator = await login(base, 'operator', serve.passwords.operator ?? '');
    // the viewer's MQTT credential: the account store's once the broker uses it, else the broker's own file
    const creds: MqttCred[] = [{ label: 'viewer (account store)', user: 'viewer', password: serve.passwords.viewer ?? '' }];
    if (mqtt.ownViewerPassword !== null) creds.push({ label: 'viewer (broker users.json)', user: 'viewer', password: mqtt.ownViewerPassword });
    probe = await Probe.start({ cmd: 'init', base, token: viewer, mqttUrl: mqtt.url, prefix: mqtt.prefix, creds });
    const p = probe;
    log(`probe: MQTT subscriber as ${p.mqttAs}`);
    // the first seconds carry every tag's first value (a burst): the line's steady UNS rate comes after
    await sleep(WARM_UP_MS);

    const attacked: Attacked[] = [];
    const attack = async (name: string, run: () => Promise<string[]>): Promise<void> => {
      const waited = await recovered(base, viewer);
      if (waited === null) throw new Error(`before "${name}": the host did not answer within ${RECOVERY_LIMIT_MS / 1000} s`);
      // the UNS rate follows what the line is doing, so each attack is held against the minute it happens in
      const before = (await p.window(() => sleep(WINDOW_MS))).w;
      const sim0 = await simTime(base, viewer);
      const rssBefore = rssMb(pid);
      const watch = watchRss(pid);
      const { w, value: notes } = await p.window(run);
      const rss = watch.stop();
      const back = await recovered(base, viewer);
      // a window that ended in silence lasts until the host answers again
      const silenceMs = Math.max(w.silenceMs, w.endSilenceMs > 1000 ? w.endSilenceMs + (back ?? RECOVERY_LIMIT_MS) : 0);
      const ticked = (await simTime(base, viewer)) - sim0;
      const rssAfter = rssMb(pid);
      if (serve.proc.exitCode !== null || serve.proc.signalCode !== null) throw new Error(`the host exited during "${name}":\n${serve.out().slice(-2000)}`);
      notes.push(`host RSS over the window ${course(rss.samples)} MB (peak ${fmt(rss.peak)})`);
      notes.push(back === null ? `host still not answering ${RECOVERY_LIMIT_MS / 1000} s after the attack` : `the line advanced ${fmt(ticked, 1)} simulated s from the start of the attack until the host answered again (${fmt(back / 1000, 1)} s after the window)`);
      attacked.push({ name, before, w, silenceMs, rssBefore, rssPeak: rss.peak, rssAfter, notes });
      log(`${name}: unattacked just before: ${describe(before)}`);
      log(`${name}: during: ${describe(w)}; RSS ${fmt(rssBefore)} → ${fmt(rssAfter)} MB; ${notes.join('; ')}`);
    };

    for (const cred of [null, creds[p.cred]!] as const) {
      await attack(`10k-filter subscribe (${cred === null ? 'anonymous' : 'viewer'})`, async () => [
        `one SUBSCRIBE of ${fmt(FILTERS)} filters (<UNS prefix>/f<i>/+/#) as ${cred === null ? 'anonymous' : cred.label}: ${await subscribeFlood(mqtt.url, mqtt.prefix, FILTERS, cred, WINDOW_MS)}`,
      ]);
    }

    await attack('connection flood', async () => {
      const tOpen = performance.now();
      const [http, broker] = await Promise.all([holdConnections(Number(new URL(base).port), CONNECTIONS), holdConnections(Number(new URL(mqtt.url).port), CONNECTIONS)]);
      const openMs = performance.now() - tOpen;
      await sleep(WINDOW_MS);
      const closed = [http.closedByServer(), broker.closedByServer()];
      http.close();
      broker.close();
      return [`${fmt(CONNECTIONS)} idle TCP connections each to the HTTP and MQTT ports, opened in ${fmt(openMs)} ms (HTTP ${http.opened} open, ${http.failed} failed; MQTT ${broker.opened} open, ${broker.failed} failed), then held ${WINDOW_MS / 1000} s: the host closed ${closed[0]} HTTP and ${closed[1]} MQTT ones meanwhile`];
    });

    await attack('wrong-password CONNECTs', async () => {
      const bad = await badLogins(mqtt.url, 'operator', BAD_LOGINS, BAD_LOGINS_IN_FLIGHT, performance.now() + WINDOW_MS);
      return [`up to ${BAD_LOGINS} MQTT CONNECTs as operator with a wrong password, ${BAD_LOGINS_IN_FLIGHT} at a time, for ${WINDOW_MS / 1000} s: ${counts(bad) || 'none sent'}`];
    });

    // what one client gets one command at a time, unattacked: the flood's baseline
    const single = await commandFlood(base, operator, STATION, SINGLE_COMMANDS, 1, performance.now() + 30_000);
    const singlePerS = single.answered / (single.ms / 1000);
    const flood = { perS: NaN };
    await attack('20k-command flood', async () => {
      const r = await commandFlood(base, operator, STATION, COMMANDS, IN_FLIGHT, performance.now() + FLOOD_LIMIT_MS);
      flood.perS = r.answered / (r.ms / 1000);
      return [
        `${fmt(r.answered)} POST /api/commands as operator (set ${STATION}.noSuchField; every 4th with 16 × 256-character args), ${IN_FLIGHT} in flight, in ${fmt(r.ms / 1000, 1)} s${r.unsent > 0 ? ` (stopped at the ${FLOOD_LIMIT_MS / 1000} s limit with ${fmt(r.unsent)} not sent: all ${fmt(COMMANDS)} would take about ${fmt(COMMANDS / flood.perS)} s at this rate)` : ''}: ${counts(r.statuses)}`,
        `a command was answered in p50 ${fmt(quantile(r.latencies, 0.5))} ms, p99 ${fmt(quantile(r.latencies, 0.99))} ms (one at a time unattacked: p50 ${fmt(quantile(single.latencies, 0.5), 1)} ms; ${counts(single.statuses)})`,
      ];
    });

    const rows: BenchRow[] = [];
    for (const a of attacked) {
      rows.push(
        [`REST p99 during ${a.name} [ms]`, fmt(a.w.p99, 1), 'REST p99 unattacked, just before [ms]', fmt(a.before.p99, 1), ratio(a.w.p99, a.before.p99)],
        [`longest REST silence during ${a.name} [s]`, fmt(a.silenceMs / 1000, 1), 'the same, unattacked just before [s]', fmt(a.before.silenceMs / 1000, 1), ratio(a.silenceMs, a.before.silenceMs)],
        [`UNS msgs/s during ${a.name}`, fmt(rate(a.w)), 'UNS msgs/s unattacked, just before', fmt(rate(a.before)), ratio(rate(a.w), rate(a.before))],
        [`host RSS after ${a.name} [MB]`, fmt(a.rssAfter), 'host RSS before it [MB]', fmt(a.rssBefore), ratio(a.rssAfter, a.rssBefore)],
      );
    }
    rows.push([`commands/s answered in the 20k-command flood (${IN_FLIGHT} in flight)`, fmt(flood.perS), 'one at a time, unattacked', fmt(singlePerS), ratio(flood.perS, singlePerS)]);
    return {
      rows,
      notes: [
        `probe: GET /api/state as viewer (bearer token, a new connection each) every 50 ms, open loop, in ${WINDOW_MS / 1000} s windows (an answer not there 20 s after the request counts as 20 s; "REST silence" = the longest stretch without any answer, until the host answered again); UNS = messages on <UNS prefix>/# to one subscriber (${p.mqttAs}); UNS prefix ${mqtt.prefix}`,
        ...attacked.flatMap((a) => [`${a.name}: ${a.notes.join('; ')}`, `${a.name}: probes during: ${describe(a.w)}`, `${a.name}: probes just before: ${describe(a.before)}`]),
        `host RSS at the end ${fmt(rssMb(pid))} MB; section took ${fmt((performance.now() - t0) / 1000)} s`,
      ],
    };
  } finally {
    await probe?.stop();
    await serve.stop();
  }
}
