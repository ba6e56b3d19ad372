/**
 * Bench section `render`: the browser twin's 3D view of the ceramic line with 500 parts in
 * flight, in headless Debian Chromium (SwiftShader, the e2e flags), against the same scene with
 * one mesh per part (no instancing), measured in the same run.
 *
 * The page runs standalone in bench mode (`?mode=standalone&bench=500`): its worker steps the
 * paused line as fast as it can until the WIP is 500, so every part sits where the simulation
 * put it, then leaves the line paused while the scene keeps rendering unpaced (every
 * requestAnimationFrame). Figures per frame: draw calls (renderer.info.render.calls), the JS
 * time from the frame's first useFrame callback to the return of gl.render (scene/BenchProbe),
 * and frames per second; and, as a second baseline, draw calls and JS time with the static station
 * meshes left unmerged (`&merge=0`). Beside the wall-clock JS time, Chrome's own trace gives each
 * frame's animation-frame task (every requestAnimationFrame callback: R3F's loop, all useFrame
 * callbacks and gl.render) with its thread time, the CPU the page's main thread spent on it; on a
 * 2-core machine whose other core SwiftShader keeps busy, wall time also counts the moments the
 * thread was descheduled or waited on the GPU process, thread time only the frame's own work.
 * The app is built first, then served by `twinline serve` (free ports, no MQTT), whose URL the
 * page is opened from.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { fmt, quantile, ratio, type BenchRow, type SectionResult } from './common.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** the flags of test/e2e/twin.test.ts */
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
/** a screenshot of each variant goes here */
const SHOTS = 'test-output/bench';
const PARTS = 500;
const SCENARIO = 'ceramic-after';
/** frames are rendered before measuring (JIT, shader compilation, buffers) [ms] */
const WARM_MS = 3000;
/** each variant is measured in two windows this long, interleaved with the other's [ms] */
const WINDOW_MS = 8000;
const TARGET_CALLS = 100;
const TARGET_P99_MS = 4;

/**
 * Starts `twinline serve` on free ports (no MQTT, OPC UA open) and returns the web app URL it
 * prints: the page is served exactly as users get it, cross-origin isolation headers included.
 * The host's own line keeps running at 1× (a few % of one core); the bench page does not use it.
 */
async function startServe(): Promise<{ proc: ChildProcessWithoutNullStreams; url: string; home: string }> {
  // a home of its own (accounts, PKI, run records): never the checkout's .twinline, so a newcomer's first start still prints its passwords
  const home = mkdtempSync(join(tmpdir(), 'twinline-bench-render-'));
  const proc = spawn(process.execPath, ['bin/twinline.mjs', 'serve', '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--profile', 'open', '--home', home]);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  let url = '';
  while (url === '' && Date.now() < deadline && proc.exitCode === null) {
    url = /web app\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1] ?? '';
    await new Promise((r) => setTimeout(r, 100));
  }
  if (url === '') {
    if (proc.exitCode === null) proc.kill('SIGINT');
    rmSync(home, { recursive: true, force: true });
    throw new Error(`render bench: twinline serve did not start:\n${out}`);
  }
  return { proc, url, home };
}

/** Stops the server and waits for it to exit (at most 10 s); removes its home. */
async function stopServe({ proc, home }: { proc: ChildProcessWithoutNullStreams; home: string }): Promise<void> {
  if (proc.exitCode === null) {
    const done = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGINT');
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
  rmSync(home, { recursive: true, force: true });
}

interface Window {
  js: number[];
  /** per frame from Chrome's trace (FireAnimationFrame): thread CPU time and wall time [ms] */
  cpu: number[];
  wall: number[];
  render: number[];
  frames: number;
  ms: number;
  calls: number;
  triangles: number;
  parts: number;
}
interface Hooks {
  bench(): Omit<Window, 'cpu' | 'wall'> | null;
  benchReset(): void;
  benchRun(on: boolean): void;
}
declare const window: { __twinline?: Hooks };

/** One variant of the scene, open in its own page. */
interface Variant {
  id: string;
  name: string;
  query: string;
  page?: Awaited<ReturnType<BrowserContext['newPage']>>;
  windows: Window[];
  fillMs: number;
}

async function openVariant(ctx: BrowserContext, base: string, v: Variant): Promise<void> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const t0 = performance.now();
  await page.goto(new URL(v.query, base).href);
  try {
    await page.waitForSelector('.app[data-ready="1"]', { timeout: 90_000 });
    await page.waitForFunction((n) => (window.__twinline?.bench()?.parts ?? 0) >= n, PARTS, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`${v.name}: the page did not get ready with ${PARTS} parts (${errors.join('; ') || (e as Error).message})`);
  }
  v.fillMs = performance.now() - t0;
  await page.evaluate(() => window.__twinline!.benchRun(false));
  v.page = page;
}

/** A complete event of Chrome's trace (times in µs; `tdur` is thread CPU time). */
interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
}

/**
 * Records Chrome's `devtools.timeline` trace while `during` runs and returns what it returned
 * with the page's animation frames: the FireAnimationFrame tasks of the thread that ran the most
 * of them (the page in front; the others' frame loops are stopped), as thread time and wall
 * time [ms].
 */
async function traceFrames<T>(page: NonNullable<Variant['page']>, during: () => Promise<T>): Promise<{ result: T; cpu: number[]; wall: number[] }> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const complete = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['devtools.timeline'], recordMode: 'recordAsMuchAsPossible' } });
  let result: T;
  try {
    result = await during();
  } finally {
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
  }
  const frames = events.filter((e) => e.name === 'FireAnimationFrame' && e.ph === 'X' && e.dur !== undefined && e.tdur !== undefined);
  const perThread = new Map<string, TraceEvent[]>();
  for (const e of frames) {
    const key = `${e.pid}/${e.tid}`;
    const list = perThread.get(key);
    if (list === undefined) perThread.set(key, [e]);
    else list.push(e);
  }
  const main = [...perThread.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  return { result, cpu: main.map((e) => e.tdur! / 1000), wall: main.map((e) => e.dur! / 1000) };
}

async function measure(v: Variant): Promise<void> {
  const page = v.page!;
  await page.bringToFront();
  await page.evaluate(() => window.__twinline!.benchRun(true));
  await new Promise((r) => setTimeout(r, WARM_MS));
  const { result: w, cpu, wall } = await traceFrames(page, async () => {
    await page.evaluate(() => window.__twinline!.benchReset());
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    return page.evaluate(() => window.__twinline!.bench());
  });
  if (v.windows.length === 0) await page.screenshot({ path: join(SHOTS, `render-${v.id}.png`) });
  await page.evaluate(() => window.__twinline!.benchRun(false));
  if (w === null) throw new Error(`${v.name}: no bench hook`);
  if (cpu.length === 0) throw new Error(`${v.name}: Chrome's trace holds no animation frame`);
  v.windows.push({ ...w, cpu, wall });
}

/** Pooled figures of a variant's windows. */
function summary(v: Variant): { calls: number; triangles: number; p50: number; p99: number; renderP50: number; fps: number; parts: number; frames: number; cpuP50: number; cpuP99: number; wallP99: number; traced: number } {
  const js = v.windows.flatMap((w) => w.js);
  const cpu = v.windows.flatMap((w) => w.cpu);
  const wall = v.windows.flatMap((w) => w.wall);
  const render = v.windows.flatMap((w) => w.render);
  const frames = v.windows.reduce((a, w) => a + w.frames, 0);
  const ms = v.windows.reduce((a, w) => a + w.ms, 0);
  const last = v.windows[v.windows.length - 1];
  return {
    calls: last?.calls ?? NaN, triangles: last?.triangles ?? NaN, parts: last?.parts ?? NaN, frames,
    p50: quantile(js, 0.5), p99: quantile(js, 0.99), renderP50: quantile(render, 0.5), fps: frames / (ms / 1000),
    cpuP50: quantile(cpu, 0.5), cpuP99: quantile(cpu, 0.99), wallP99: quantile(wall, 0.99), traced: cpu.length,
  };
}

/** The `render` section. */
export async function renderBench(log: (line: string) => void): Promise<SectionResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`render bench: Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const t = performance.now();
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
  log(`built the web app in ${fmt((performance.now() - t) / 1000, 1)} s`);
  mkdirSync(SHOTS, { recursive: true });
  const served = await startServe();
  const { url } = served;
  const profile = mkdtempSync(join(tmpdir(), 'twinline-bench-chromium-'));
  let ctx: BrowserContext | null = null;
  // the full hall (a GPU's default) throughout, and once the simple hall a software renderer gets by itself
  const base = `?mode=standalone&scenario=${SCENARIO}&bench=${PARTS}&lang=en&light=full`;
  const inst: Variant = { id: 'instanced', name: 'one InstancedMesh', query: base, windows: [], fillMs: 0 };
  const simple: Variant = { id: 'simple', name: 'simple light', query: base.replace('light=full', 'light=simple'), windows: [], fillMs: 0 };
  const meshes: Variant = { id: 'meshes', name: 'one mesh per part', query: `${base}&parts=meshes`, windows: [], fillMs: 0 };
  const unmerged: Variant = { id: 'unmerged', name: 'static meshes unmerged', query: `${base}&merge=0`, windows: [], fillMs: 0 };
  try {
    ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 720 } });
    for (const v of [inst, meshes, unmerged, simple]) {
      await openVariant(ctx, url, v);
      log(`${v.name}: page ready with ${PARTS} parts in flight after ${fmt(v.fillMs / 1000, 1)} s`);
    }
    // interleaved windows, so a change in the machine's load hits both variants alike
    for (const v of [inst, meshes, unmerged, simple, inst, meshes]) {
      await measure(v);
      const w = v.windows[v.windows.length - 1]!;
      log(`  ${v.name}: ${w.frames} frames in ${fmt(w.ms)} ms, ${w.calls} draw calls, ${w.parts} parts`);
    }
  } finally {
    await ctx?.close();
    await stopServe(served);
    rmSync(profile, { recursive: true, force: true });
  }
  const a = summary(inst);
  const b = summary(meshes);
  const c = summary(unmerged);
  const d = summary(simple);
  const base0 = 'one mesh per part';
  const base1 = 'static meshes unmerged';
  const rows: BenchRow[] = [
    ['parts drawn', fmt(a.parts), base0, fmt(b.parts), ratio(a.parts, b.parts)],
    ['draw calls per frame', fmt(a.calls), base0, fmt(b.calls), ratio(a.calls, b.calls)],
    ['triangles per frame', fmt(a.triangles), base0, fmt(b.triangles), ratio(a.triangles, b.triangles)],
    ['JS per frame p50 [ms]', fmt(a.p50, 2), base0, fmt(b.p50, 2), ratio(a.p50, b.p50)],
    ['JS per frame p99 [ms]', fmt(a.p99, 2), base0, fmt(b.p99, 2), ratio(a.p99, b.p99)],
    ['  of which gl.render p50 [ms]', fmt(a.renderP50, 2), base0, fmt(b.renderP50, 2), ratio(a.renderP50, b.renderP50)],
    ['frame task CPU (thread time) p50 [ms]', fmt(a.cpuP50, 2), base0, fmt(b.cpuP50, 2), ratio(a.cpuP50, b.cpuP50)],
    ['frame task CPU (thread time) p99 [ms]', fmt(a.cpuP99, 2), base0, fmt(b.cpuP99, 2), ratio(a.cpuP99, b.cpuP99)],
    ['frame task wall time p99 [ms]', fmt(a.wallP99, 2), base0, fmt(b.wallP99, 2), ratio(a.wallP99, b.wallP99)],
    ['frames per second', fmt(a.fps, 1), base0, fmt(b.fps, 1), ratio(a.fps, b.fps)],
    ['draw calls per frame', fmt(a.calls), base1, fmt(c.calls), ratio(a.calls, c.calls)],
    ['JS per frame p50 [ms]', fmt(a.p50, 2), base1, fmt(c.p50, 2), ratio(a.p50, c.p50)],
    ['simple light: frames per second', fmt(d.fps, 1), 'full light', fmt(a.fps, 1), ratio(d.fps, a.fps)],
    ['simple light: JS per frame p99 [ms]', fmt(d.p99, 2), 'full light', fmt(a.p99, 2), ratio(d.p99, a.p99)],
  ];
  const notes = [
    `targets: draw calls ≤ ${TARGET_CALLS}: ${a.calls <= TARGET_CALLS ? 'met' : 'NOT met'}; JS per frame p99 ≤ ${TARGET_P99_MS} ms: ` +
      `${a.cpuP99 <= TARGET_P99_MS ? 'met' : 'NOT met'} in the frame task's CPU time (${fmt(a.cpuP99, 2)} ms), ${a.p99 <= TARGET_P99_MS ? 'met' : 'not met'} in wall time (${fmt(a.p99, 2)} ms)`,
    `scene: ${SCENARIO}, ${PARTS} parts placed by the simulation (line stepped until WIP ${PARTS}, then paused), 1280×720, dpr 1, headless Chromium with SwiftShader`,
    'JS per frame: performance.now() from R3F\'s before-frame effect (ahead of every useFrame callback) to the return of gl.render;',
    'it excludes rasterisation, which SwiftShader does in Chromium\'s GPU process from the queued WebGL commands, unless the',
    'page has to wait on it. Frames per second include that rasterisation (unpaced requestAnimationFrame loop).',
    'The page is served by `twinline serve` (no MQTT), whose own line runs at 1× beside it (a few % of one core).',
    `${fmt(a.frames)} and ${fmt(b.frames)} frames over 2 × ${WINDOW_MS / 1000} s windows each, interleaved, after ${WARM_MS / 1000} s of warm-up per window;`,
    `"static meshes unmerged" (?merge=0: station models as mounted, parts instanced) is one window of ${fmt(c.frames)} frames and shows what merging saves.`,
    `"simple light" (?light=simple: no environment light, no shadows, no antialiasing; what a software renderer gets by itself) is one window of ${fmt(d.frames)} frames.`,
    `Frame task: Chrome's trace (devtools.timeline) of the same windows, ${fmt(a.traced)} and ${fmt(b.traced)} FireAnimationFrame tasks; it holds every`,
    'requestAnimationFrame callback of the frame (R3F\'s loop, useFrame callbacks, gl.render). Its thread time is the CPU the',
    'main thread spent on the frame; its wall time also holds the moments it was descheduled or waited on the GPU process.',
    'A p99 over a few hundred frames is one of the slowest few: on 2 cores shared with SwiftShader\'s raster threads and other',
    'work (see the load averages), the wall-time p99 mostly measures the page being descheduled mid-frame, not the frame\'s own work.',
  ];
  return { rows, notes };
}
