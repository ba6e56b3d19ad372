/**
 * The browser twin end to end, in real headless Chromium against the real built app served
 * by a real `twinline serve`: attached to the host's line, and standalone (the line in a Web
 * Worker in the page). Screenshots go to test-output/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SimEngine } from '../../sim/worker/engine.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
const OUT = 'test-output/e2e';
const SCENARIO = 'ceramic-after';

let proc: ChildProcessWithoutNullStreams;
let base = '';
let log = '';
let ctx: BrowserContext;
let profile = '';
const pageErrors: string[] = [];

interface Hooks {
  mode: string;
  frames(): number;
  tick(): number;
  screenOf(id: string): { x: number; y: number } | null;
  parts(): { serial: number; x: number; y: number; z: number }[];
  stackLight(id: string): string;
  focus(id: string): void;
  overview(): void;
  hash(ticks: number, seed?: number): Promise<string>;
  network(): NetDrawn | null;
}
interface NetDrawn {
  frames: number;
  nodes: { id: string; kind: string; unusual: boolean; colour: string }[];
  links: { id: string; from: string; to: string; protocol: string; rate: number; unusual: boolean; colour: string }[];
}
declare const window: { __twinline: Hooks; crossOriginIsolated: boolean };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  mkdirSync(OUT, { recursive: true });
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
  proc = spawn(process.execPath, ['bin/twinline.mjs', 'serve', `scenarios/${SCENARIO}.yaml`, '--http-port', '0']);
  proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 30_000;
  while (base === '' && Date.now() < deadline) {
    base = /web app\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(log)?.[1] ?? '';
    if (proc.exitCode !== null) break;
    await sleep(100);
  }
  if (base === '') throw new Error(`serve did not start:\n${log}`);
  profile = mkdtempSync(join(tmpdir(), 'twinline-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1024, height: 640 } });
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  if (proc !== undefined && proc.exitCode === null) proc.kill('SIGINT');
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
});

async function open(query: string): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${query}: ${e.message}`));
  await page.goto(new URL(query, base).href);
  await page.waitForSelector('.app[data-ready="1"]', { timeout: 30_000 });
  await page.waitForFunction(() => window.__twinline !== undefined && window.__twinline.frames() > 5, undefined, { timeout: 30_000 });
  return page;
}

/** Decodes a PNG screenshot in the page and returns its RGBA pixels within `box`. */
async function pixels(page: Page, png: Buffer): Promise<number[]> {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d')!;
    g.drawImage(img, 0, 0);
    return Array.from(g.getImageData(0, 0, c.width, c.height).data);
  }, png.toString('base64'));
}

async function shot(page: Page, name: string): Promise<number[]> {
  const png = await page.locator('.view canvas').screenshot();
  writeFileSync(join(OUT, `${name}.png`), png);
  return pixels(page, png);
}

/** Share of pixels that are clearly red (the overlay's unusual traffic). */
function redShare(px: number[]): number {
  let n = 0;
  for (let k = 0; k < px.length; k += 4) if (px[k]! > 170 && px[k + 1]! < 110 && px[k + 2]! < 110) n++;
  return n / (px.length / 4);
}

/** Distinct colours (quantised) and the share of the most common one. */
function variety(px: number[]): { colours: number; dominant: number } {
  const counts = new Map<number, number>();
  for (let k = 0; k < px.length; k += 4) {
    const key = ((px[k]! >> 4) << 8) | ((px[k + 1]! >> 4) << 4) | (px[k + 2]! >> 4);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { colours: counts.size, dominant: Math.max(...counts.values()) / (px.length / 4) };
}

/** Share of pixels that differ noticeably between two shots of the same size. */
function changed(a: number[], b: number[]): number {
  let n = 0;
  for (let k = 0; k < a.length; k += 4) {
    const d = Math.abs(a[k]! - b[k]!) + Math.abs(a[k + 1]! - b[k + 1]!) + Math.abs(a[k + 2]! - b[k + 2]!);
    if (d > 30) n++;
  }
  return n / (a.length / 4);
}

/** Waits until some part drawn in the scene moves between two looks 1 s apart; returns the largest move [m]. */
async function partMoves(page: Page): Promise<number> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    const a = await page.evaluate(() => window.__twinline.parts());
    await sleep(1000);
    const b = await page.evaluate(() => window.__twinline.parts());
    let best = 0;
    for (const p of a) {
      const q = b.find((x) => x.serial === p.serial);
      if (q !== undefined) best = Math.max(best, Math.hypot(q.x - p.x, q.z - p.z));
    }
    if (best > 0.05) return best;
  }
  return 0;
}

/** Clicks station `id` in the canvas (a real pointer click on its projected centre). */
async function clickStation(page: Page, id: string): Promise<void> {
  const at = await page.evaluate((s) => window.__twinline.screenOf(s), id);
  expect(at, `station ${id} is on screen`).not.toBeNull();
  await page.mouse.click(at!.x, at!.y);
  await page.waitForSelector(`[data-testid="faceplate"][data-station="${id}"]`, { timeout: 10_000 });
}

/** The faceplate's text of tag `name`. */
const tagText = (page: Page, name: string): Promise<string> => page.locator(`[data-testid="faceplate"] [data-tag="${name}"]`).innerText();

/** The faceplate flow every mode must pass: click, live values, Stop, language. */
async function faceplateFlow(page: Page, mode: string, id: string, apiState?: () => Promise<string>): Promise<void> {
  await clickStation(page, id);
  const e1 = await tagText(page, 'energy');
  await page.waitForFunction(([t]) => document.querySelector('[data-testid="faceplate"] [data-tag="energy"]')?.textContent !== t, [e1], { timeout: 15_000 });
  const before = await page.evaluate((s) => window.__twinline.stackLight(s), id);
  expect(before).not.toBe('red');
  await page.locator('[data-testid="faceplate"] [data-command="stop"]').click();
  await page.waitForFunction(() => /Stopp/.test(document.querySelector('[data-testid="fp-state"]')?.getAttribute('data-state') ?? ''), undefined, { timeout: 10_000 });
  await page.waitForFunction((s) => window.__twinline.stackLight(s) === 'red', id, { timeout: 10_000 });
  expect(await page.locator('[data-testid="fp-state"]').innerText()).toMatch(/Stopping|Stopped/);
  if (apiState !== undefined) expect(await apiState()).toMatch(/Stopping|Stopped/);
  await shot(page, `${mode}-stopped`);
  expect(await page.locator('[data-command="stop"]').innerText()).toBe('Stop');
  await page.getByTestId('lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  expect(await page.locator('[data-command="stop"]').innerText()).toBe('停止');
  expect(await page.locator('[data-testid="fp-state"]').innerText()).toMatch(/停止中|已停止/);
  expect(await page.getByTestId('mode').innerText()).toContain(mode === 'attached' ? '联机模式' : '单机模式');
  expect(await page.locator('[data-kpi="oee"] span').innerText()).toContain('可用率');
  await page.getByTestId('lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
}

describe('browser twin, attached to twinline serve', () => {
  let page: Page;
  beforeAll(async () => {
    page = await open('/');
  }, 60_000);

  it('serves the built app cross-origin isolated and renders the line', async () => {
    const r = await fetch(base);
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await r.text()).toContain('<div id="root">');
    expect(await page.getByTestId('mode').innerText()).toContain('Attached');
    // the state arrives pushed over the host's live WebSocket, not by polling
    await page.waitForFunction(() => document.querySelector('[data-testid=mode]')?.getAttribute('data-transport') === 'websocket', undefined, { timeout: 10_000 });
    expect(await page.getByTestId('mode').innerText()).toContain('live over WebSocket');
    const v = variety(await shot(page, 'attached-overview'));
    expect(v.colours).toBeGreaterThan(20);
    expect(v.dominant).toBeLessThan(0.9);
  });

  it('draws the host line\'s parts where the host says they are, moving', async () => {
    expect(await partMoves(page)).toBeGreaterThan(0.05);
  }, 60_000);

  it('opens a faceplate by clicking a station; Stop reaches the host; 中文 switches labels', async () => {
    const hostState = async (): Promise<string> => {
      const s = (await (await fetch(new URL('api/state', base))).json()) as { stations: { id: string; state: string }[] };
      return s.stations.find((x) => x.id === 'kiln')?.state ?? '';
    };
    await faceplateFlow(page, 'attached', 'kiln', hostState);
  }, 120_000);

  it('draws the network overlay with live rates; a rejected command turns the API link red', async () => {
    const UNUSUAL = '#ff3b30';
    await page.getByTestId('net-toggle').click();
    await page.waitForFunction(() => (window.__twinline.network()?.frames ?? 0) > 0, undefined, { timeout: 15_000 });
    const n = (await page.evaluate(() => window.__twinline.network()))!;
    const nodeIds = n.nodes.map((x) => x.id);
    for (const id of ['opcua', 'mqtt', 'broker', 'api', 'plc:kiln', 'plc:clay']) expect(nodeIds).toContain(id);
    const linkIds = n.links.map((x) => x.id);
    for (const id of ['plc:kiln~opcua', 'plc:kiln~mqtt', 'mqtt~broker', 'opcua~opcua-clients', 'api~api-clients']) expect(linkIds).toContain(id);
    // the host runs with its MQTT face on: the publisher's link to the broker carries messages
    await page.waitForFunction(() => (window.__twinline.network()?.links.find((l) => l.id === 'mqtt~broker')?.rate ?? 0) > 0, undefined, { timeout: 20_000 });
    const live = (await page.evaluate(() => window.__twinline.network()))!;
    expect(live.links.find((l) => l.id === 'api~api-clients')?.rate).toBeGreaterThan(0); // this page's own polls
    expect(live.links.find((l) => l.id === 'api~api-clients')?.colour).not.toBe(UNUSUAL);
    expect(live.links.filter((l) => l.unusual)).toEqual([]);
    expect(await page.locator('[data-testid="netpanel"] [data-face="mqtt"] .rate').innerText()).toMatch(/^[1-9][\d.,]* msg\/s$/);
    // the whole line in view, the faceplate closed and the legend hidden: red pixels come from the scene
    await page.locator('[data-testid="faceplate"] header button').click();
    await page.evaluate(() => window.__twinline.overview());
    await sleep(2500);
    const sceneShot = async (name: string): Promise<number> => {
      await page.evaluate(() => document.querySelector<HTMLElement>('[data-testid="netpanel"]')!.style.setProperty('visibility', 'hidden'));
      const share = redShare(await shot(page, name));
      await page.evaluate(() => document.querySelector<HTMLElement>('[data-testid="netpanel"]')!.style.removeProperty('visibility'));
      return share;
    };
    const before = await sceneShot('attached-network');
    // an out-of-range setpoint through the REST API is rejected by the line: that link turns red
    const r = await fetch(new URL('api/commands', base), {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-twinline-user': 'e2e' },
      body: JSON.stringify({ target: 'kiln', command: 'set', args: { field: 'sp1', value: -1e9 } }),
    });
    expect(r.status).toBe(409);
    await page.waitForFunction((red) => window.__twinline.network()?.links.find((l) => l.id === 'api~api-clients')?.colour === red, UNUSUAL, { timeout: 10_000 });
    const bad = (await page.evaluate(() => window.__twinline.network()))!;
    expect(bad.links.find((l) => l.id === 'api~api-clients')?.unusual).toBe(true);
    expect(bad.nodes.find((x) => x.id === 'api')?.colour).toBe(UNUSUAL);
    expect(bad.links.find((l) => l.id === 'mqtt~broker')?.unusual).toBe(false);
    expect(await page.locator('[data-testid="netpanel"] [data-face="api"]').getAttribute('data-unusual')).toBe('1');
    await sleep(300);
    expect(await sceneShot('attached-network-unusual')).toBeGreaterThan(before + 0.0005);
    await page.getByTestId('lang').click();
    expect(await page.getByTestId('net-toggle').innerText()).toBe('网络');
    expect(await page.locator('[data-testid="netpanel"] h3').innerText()).toBe('网络叠加层');
    await page.getByTestId('lang').click();
    await page.getByTestId('net-toggle').click();
    await page.waitForFunction(() => window.__twinline.network() === null, undefined, { timeout: 5000 });
  }, 90_000);
});

describe('browser twin, standalone (line in a Web Worker)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await open(`/?mode=standalone&scenario=${SCENARIO}`);
  }, 60_000);

  it('runs cross-origin isolated in the page and renders the line', async () => {
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    expect(await page.getByTestId('mode').innerText()).toContain('Standalone');
    const t0 = await page.evaluate(() => window.__twinline.tick());
    await sleep(1000);
    const t1 = await page.evaluate(() => window.__twinline.tick());
    expect(t1 - t0).toBeGreaterThan(500); // 1 ms ticks at 1× real time
    expect(t1 - t0).toBeLessThan(2000);
    const v = variety(await shot(page, 'standalone-overview'));
    expect(v.colours).toBeGreaterThan(20);
    expect(v.dominant).toBeLessThan(0.9);
  });

  it('moves parts: positions of a drawn part change, and the focused scene changes on screen', async () => {
    expect(await partMoves(page)).toBeGreaterThan(0.05);
    await page.evaluate(() => window.__twinline.focus('former'));
    await sleep(2500);
    const a = await shot(page, 'standalone-former-1');
    await sleep(2000);
    const b = await shot(page, 'standalone-former-2');
    expect(changed(a, b)).toBeGreaterThan(0.0005);
  }, 180_000);

  it('opens a faceplate by clicking a station; Stop changes its state and stack light; 中文 switches labels', async () => {
    await page.evaluate(() => window.__twinline.focus('kiln'));
    await sleep(2000);
    await faceplateFlow(page, 'standalone', 'kiln');
  }, 120_000);

  it('has no network: the overlay says so and draws only the page\'s link to its worker', async () => {
    await page.getByTestId('net-toggle').click();
    await page.waitForSelector('[data-testid="net-none"]', { timeout: 10_000 });
    await page.waitForFunction(() => (window.__twinline.network()?.frames ?? 0) > 0, undefined, { timeout: 10_000 });
    const n = (await page.evaluate(() => window.__twinline.network()))!;
    expect(n.links.map((l) => l.id)).toEqual(['worker~page']);
    expect(n.nodes.some((x) => x.id.startsWith('plc:') || x.id === 'opcua' || x.id === 'mqtt')).toBe(false);
    await page.getByTestId('net-toggle').click();
  }, 30_000);

  it('computes the same event-log hash in the browser worker as in Node', async () => {
    const ticks = 120_000;
    const seed = 11;
    const browser = await page.evaluate(([n, s]) => window.__twinline.hash(n!, s), [ticks, seed]);
    const node = new SimEngine();
    const loaded = node.load(readFileSync(`scenarios/${SCENARIO}.yaml`, 'utf8'), `scenarios/${SCENARIO}.yaml`, { seed });
    expect(loaded.ok).toBe(true);
    node.step(ticks);
    expect(node.state().events).toBeGreaterThan(5);
    expect(browser).toMatch(/^[0-9a-f]{16}$/);
    expect(browser).toBe(node.eventLogHash());
    const other = new SimEngine();
    other.load(readFileSync(`scenarios/${SCENARIO}.yaml`, 'utf8'), `scenarios/${SCENARIO}.yaml`, { seed: seed + 1 });
    other.step(ticks);
    expect(other.eventLogHash()).not.toBe(browser); // the hash depends on the run, so equality means something
  }, 60_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
