/**
 * The browser twin end to end, in real headless Chromium against the real built app served
 * by a real `twinline serve` (hardened, its own temporary home): attached to the host's line
 * after logging in through the page's form, with controls greyed out by role; attached to a
 * host under the open profile (no login); and standalone (the line in a Web Worker in the
 * page). Screenshots go to test-output/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SimEngine } from '../../sim/worker/engine.ts';
import type { TwinlineHooks } from '../../web/src/test-hooks.ts';
import { api, buildWebApp, CHROMIUM, CHROMIUM_ARGS, login, START_MS, startHost, type Host } from './host.ts';
import { changed, OUT, redShare, shot, variety } from './pixels.ts';

const SCENARIO = 'ceramic-after';

let host: Host;
let openHost: Host;
let base = '';
let viewerToken = '';
let ctx: BrowserContext;
let profile = '';
const pageErrors: string[] = [];

declare const window: { __twinline: TwinlineHooks; crossOriginIsolated: boolean };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  mkdirSync(OUT, { recursive: true });
  await buildWebApp();
  // explicit port 0: free ports, so files running side by side never contend for the defaults
  const ports = ['--opcua-port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '0'];
  [host, openHost] = await Promise.all([
    startHost([`scenarios/${SCENARIO}.yaml`, ...ports]),
    startHost([`scenarios/${SCENARIO}.yaml`, '--profile', 'open', '--no-mqtt', '--opcua-port', '0']),
  ]);
  base = host.base;
  viewerToken = await login(host, 'viewer');
  profile = mkdtempSync(join(tmpdir(), 'twinline-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1024, height: 640 } });
}, START_MS + 120_000);

afterAll(async () => {
  await ctx?.close();
  await Promise.all([host?.stop(), openHost?.stop()]);
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
}, 60_000);

/** A new tab at `query` of `at` (default: the hardened host); not yet logged in. */
async function newTab(query: string, at = base): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${query}: ${e.message}`));
  await page.goto(new URL(query, at).href);
  return page;
}

/** Logs in through the page's form as `user` (password from the host's initial-passwords.txt). */
async function formLogin(page: Page, user: string, password = host.passwords[user] ?? ''): Promise<void> {
  await page.waitForSelector('[data-testid="login"]', { timeout: 30_000 });
  await page.locator('[data-testid="login"] input[name="user"]').fill(user);
  await page.locator('[data-testid="login"] input[name="password"]').fill(password);
  await page.locator('[data-testid="login"] button[type="submit"]').click();
}

/** Waits until the twin is drawn and fed. */
async function ready(page: Page): Promise<void> {
  await page.waitForSelector('.app[data-ready="1"]', { timeout: 60_000 });
  await page.waitForFunction(() => window.__twinline !== undefined && window.__twinline.frames() > 5, undefined, { timeout: 60_000 });
}

/** A tab at `query`, logged in as `user` when the host asks for a login (attached, hardened). */
async function open(query: string, user = 'operator'): Promise<Page> {
  const page = await newTab(query);
  if (!query.includes('mode=standalone')) await formLogin(page, user);
  await ready(page);
  return page;
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
  await page.waitForSelector(`[data-testid="faceplate"][data-station="${id}"]`, { timeout: 30_000 });
}

/** The faceplate's text of tag `name`. */
const tagText = (page: Page, name: string): Promise<string> => page.locator(`[data-testid="faceplate"] [data-tag="${name}"]`).innerText();

/** The faceplate flow every mode must pass: click, live values, Stop, language. */
async function faceplateFlow(page: Page, mode: string, id: string, apiState?: () => Promise<string>): Promise<void> {
  await clickStation(page, id);
  const e1 = await tagText(page, 'energy');
  await page.waitForFunction(([t]) => document.querySelector('[data-testid="faceplate"] [data-tag="energy"]')?.textContent !== t, [e1], { timeout: 30_000 });
  const before = await page.evaluate((s) => window.__twinline.stackLight(s), id);
  expect(before).not.toBe('red');
  await page.locator('[data-testid="faceplate"] [data-command="stop"]').click();
  await page.waitForFunction(() => /Stopp/.test(document.querySelector('[data-testid="fp-state"]')?.getAttribute('data-state') ?? ''), undefined, { timeout: 30_000 });
  await page.waitForFunction((s) => window.__twinline.stackLight(s) === 'red', id, { timeout: 30_000 });
  expect(await page.locator('[data-testid="fp-state"]').innerText()).toMatch(/Stopping|Stopped/);
  if (apiState !== undefined) expect(await apiState()).toMatch(/Stopping|Stopped/);
  await shot(page, `${mode}-stopped`);
  expect(await page.locator('button[data-command="stop"]').innerText()).toBe('Stop');
  await page.getByTestId('lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  expect(await page.locator('button[data-command="stop"]').innerText()).toBe('停止');
  expect(await page.locator('[data-testid="fp-state"]').innerText()).toMatch(/停止中|已停止/);
  expect(await page.getByTestId('mode').innerText()).toContain(mode === 'attached' ? '联机模式' : '单机模式');
  expect(await page.locator('[data-kpi="oee"] span').innerText()).toContain('可用率');
  await page.getByTestId('lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
}

/**
 * Checks by pixels that a page whose parts stand still (a paused line) draws them where they
 * are: the whole line in view, it compares two shots with the parts shown (the noise) and one
 * with them left out, at each part on a belt (inside a kiln or dryer tunnel a part is rightly
 * hidden), of which there must be `minSpots`. Shots are named `prefix` + parts-shown,
 * parts-shown-again, parts-left-out.
 */
async function partsSeenByPixels(still: Page, prefix: string, minSpots: number): Promise<void> {
  // the whole line in view (the default camera); wait until the camera has settled (it glides in)
  const where = (): Promise<{ x: number; y: number }[]> => still.evaluate(() => window.__twinline.partsOnCanvas(['conveyor']));
  let before = await where();
  for (const end = Date.now() + 60_000; Date.now() < end;) {
    await sleep(1000);
    const now = await where();
    if (JSON.stringify(now) === JSON.stringify(before)) break;
    before = now;
  }
  const canvasPx = async (): Promise<{ w: number; h: number }> => still.evaluate(() => {
    const r = document.querySelector('.view canvas')!.getBoundingClientRect();
    return { w: r.width, h: r.height };
  });
  const view = await canvasPx();
  // parts on belts: inside a kiln or dryer tunnel a part is rightly hidden
  const spots = await where();
  const withParts = await shot(still, `${prefix}parts-shown`);
  const again = await shot(still, `${prefix}parts-shown-again`);
  await still.evaluate(() => window.__twinline.showParts(false));
  const f0 = await still.evaluate(() => window.__twinline.frames());
  await still.waitForFunction((n) => window.__twinline.frames() > n + 3, f0, { timeout: 60_000 });
  const without = await shot(still, `${prefix}parts-left-out`);
  await still.evaluate(() => window.__twinline.showParts(true));
  expect(await where(), 'the camera and the parts stood still during the shots').toEqual(spots);
  // the PNG's own width (its IHDR), and device pixels per CSS pixel
  const width = readFileSync(join(OUT, `${prefix}parts-shown.png`)).readUInt32BE(16);
  const scale = width / view.w;
  /** share of parts with a changed pixel within 3 px of where the part is drawn */
  const seen = (a: number[], b: number[]): number => spots.filter(({ x, y }) => {
    for (let dy = -3; dy <= 3; dy++) {
      for (let dx = -3; dx <= 3; dx++) {
        const k = 4 * (Math.round(y * scale + dy) * width + Math.round(x * scale + dx));
        if (k < 0 || k + 2 >= a.length) continue;
        if (Math.abs(a[k]! - b[k]!) + Math.abs(a[k + 1]! - b[k + 1]!) + Math.abs(a[k + 2]! - b[k + 2]!) > 30) return true;
      }
    }
    return false;
  }).length / spots.length;
  expect(spots.length).toBeGreaterThanOrEqual(minSpots);
  const parts = seen(withParts, without);
  const noise = seen(withParts, again);
  expect(parts, `parts visible at their places: ${parts.toFixed(2)} (noise ${noise.toFixed(2)})`).toBeGreaterThan(0.5);
  expect(parts - noise).toBeGreaterThan(0.3);
}

describe('browser twin, attached to twinline serve', () => {
  let page: Page;
  beforeAll(async () => {
    page = await newTab('/');
  }, 120_000);

  it('asks for a login; refuses a wrong password; keeps the token in sessionStorage only; shows user and role', async () => {
    await page.waitForSelector('[data-testid="login"]', { timeout: 30_000 });
    expect(await page.locator('.app').getAttribute('data-ready')).toBe('0');
    await page.getByTestId('lang').click();
    expect(await page.locator('[data-testid="login"] h2').innerText()).toBe('登录数字孪生');
    await page.getByTestId('lang').click();
    await formLogin(page, 'operator', 'not-the-password');
    await page.waitForSelector('[data-testid="login-error"]', { timeout: 30_000 });
    expect(await page.getByTestId('login-error').innerText()).toBe('Wrong user name or password');
    await formLogin(page, 'operator');
    await ready(page);
    const who = page.getByTestId('who');
    expect(await who.getAttribute('data-user')).toBe('operator');
    expect(await who.getAttribute('data-role')).toBe('operator');
    expect(await who.innerText()).toMatch(/operator · operator\s*Log out/);
    const stored = await page.evaluate(() => ({ token: sessionStorage.getItem('twinline.token'), local: localStorage.length }));
    expect(stored.token).toMatch(/^[\w-]{20,}$/);
    expect(stored.local).toBe(0);
    // the page's credential is the operator's token, as the host sees it
    expect((await api(host, stored.token!, 'api/whoami')).body).toEqual({ user: 'operator', role: 'operator', profile: 'hardened' });
  }, 180_000);

  it('serves the built app cross-origin isolated and renders the line', async () => {
    const r = await fetch(base);
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await r.text()).toContain('<div id="root">');
    expect(await page.getByTestId('mode').innerText()).toContain('Attached');
    // the state arrives pushed over the host's live WebSocket, not by polling
    await page.waitForFunction(() => document.querySelector('[data-testid=mode]')?.getAttribute('data-transport') === 'websocket', undefined, { timeout: 30_000 });
    expect(await page.getByTestId('mode').innerText()).toContain('live over WebSocket');
    const v = variety(await shot(page, 'attached-overview'));
    expect(v.colours).toBeGreaterThan(20);
    expect(v.dominant).toBeLessThan(0.9);
  }, 180_000);

  it('draws the host line\'s parts where the host says they are, moving', async () => {
    expect(await partMoves(page)).toBeGreaterThan(0.05);
  }, 120_000);

  it('draws the host line\'s parts where they are, by pixels: with the line paused, each part on a belt changes the picture when parts are left out', async () => {
    const instructor = await login(host, 'instructor');
    const run = (body: object): Promise<{ status: number }> => api(host, instructor, 'api/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // paused, so parts stand still for the shots; then twenty minutes on, and on in two-minute
    // jumps until the belts in view carry three parts (the line at 1× holds three or four on them,
    // the dryer and the kiln hide the rest; how far the host ran before depends on the machine)
    expect((await run({ running: false })).status).toBe(200);
    try {
      const onBelts = async (jumpS: number): Promise<number> => {
        expect((await run({ jump: jumpS })).status).toBe(200);
        // the page shows the paused line once it has the host's last tick (on a busy machine its
        // updates may come more than a second apart, so parts standing still for a second is no sign)
        const paused = (await api<{ tick: number; running: boolean }>(host, instructor, 'api/state')).body;
        expect(paused.running).toBe(false);
        await page.waitForFunction((t) => window.__twinline.tick() === t, paused.tick, { timeout: 120_000 });
        return page.evaluate(() => window.__twinline.partsOnCanvas(['conveyor']).length);
      };
      let n = await onBelts(1200);
      for (let k = 0; k < 15 && n < 3; k++) n = await onBelts(120);
      await partsSeenByPixels(page, 'attached-', 3);
    } finally {
      expect((await run({ running: true })).status).toBe(200);
    }
  }, 300_000);

  it('opens a faceplate by clicking a station; Stop reaches the host; 中文 switches labels', async () => {
    const hostState = async (): Promise<string> => {
      const s = (await api<{ stations: { id: string; state: string }[] }>(host, viewerToken, 'api/state')).body;
      return s.stations.find((x) => x.id === 'kiln')?.state ?? '';
    };
    await faceplateFlow(page, 'attached', 'kiln', hostState);
  }, 240_000);

  it('draws the network overlay with live rates; a rejected command turns the API link red', async () => {
    const UNUSUAL = '#ff3b30';
    await page.getByTestId('net-toggle').click();
    await page.waitForFunction(() => (window.__twinline.network()?.frames ?? 0) > 0, undefined, { timeout: 45_000 });
    const n = (await page.evaluate(() => window.__twinline.network()))!;
    const nodeIds = n.nodes.map((x) => x.id);
    for (const id of ['opcua', 'mqtt', 'broker', 'api', 'plc:kiln', 'plc:clay']) expect(nodeIds).toContain(id);
    const linkIds = n.links.map((x) => x.id);
    for (const id of ['plc:kiln~opcua', 'plc:kiln~mqtt', 'mqtt~broker', 'opcua~opcua-clients', 'api~api-clients']) expect(linkIds).toContain(id);
    // the host runs with its MQTT face on: the publisher's link to the broker carries messages
    await page.waitForFunction(() => (window.__twinline.network()?.links.find((l) => l.id === 'mqtt~broker')?.rate ?? 0) > 0, undefined, { timeout: 60_000 });
    // the first test's refused login is unusual API traffic for the overlay's window (10 s): wait it out
    await page.waitForFunction((red) => {
      const links = window.__twinline.network()?.links ?? [];
      return links.length > 0 && links.every((l) => !l.unusual && l.colour !== red);
    }, UNUSUAL, { timeout: 45_000 });
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
    // an out-of-range setpoint through the REST API (by an engineer, who may write it) is rejected by the line: that link turns red
    const r = await api(host, await login(host, 'engineer'), 'api/commands', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'kiln', command: 'set', args: { field: 'sp1', value: -1e9 } }),
    });
    expect(r.status).toBe(409);
    await page.waitForFunction((red) => window.__twinline.network()?.links.find((l) => l.id === 'api~api-clients')?.colour === red, UNUSUAL, { timeout: 45_000 });
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
    await page.waitForFunction(() => window.__twinline.network() === null, undefined, { timeout: 20_000 });
  }, 240_000);

  it('greys out what the role may not do, naming the role it needs; the host agrees', async () => {
    type Param = { name: string; level: string; disabled: boolean; title: string | null };
    const params = (p: Page): Promise<Param[]> => p.locator('[data-testid="faceplate"] form.param').evaluateAll((fs) => fs.map((f) => ({
      name: f.getAttribute('data-param') ?? '', level: f.getAttribute('data-level') ?? '', disabled: (f.querySelector('input') as HTMLInputElement).disabled, title: f.getAttribute('title'),
    })));
    const faceplate = async (p: Page): Promise<void> => {
      await p.locator('.stations [data-station="kiln"]').click();
      await p.waitForSelector('[data-testid="faceplate"][data-station="kiln"]', { timeout: 30_000 });
    };
    // the operator (this page): PackML commands on; parameters above setpoints off, saying so
    await faceplate(page);
    expect(await page.locator('[data-testid="faceplate"] [data-command="stop"]').isDisabled()).toBe(false);
    const asOperator = await params(page);
    expect(asOperator.length).toBeGreaterThan(5);
    for (const q of asOperator) {
      if (q.level === 'operator') expect(q.disabled, q.name).toBe(false);
      else expect([q.name, q.disabled, q.title]).toEqual([q.name, true, 'Needs the engineer role (signed in as operator)']);
    }

    // a viewer: every command and field off, each naming the role it needs
    const viewer = await open('/', 'viewer');
    await faceplate(viewer);
    for (const c of ['start', 'stop', 'hold', 'unhold', 'reset', 'abort', 'clear']) {
      const b = viewer.locator(`[data-testid="faceplate"] [data-command="${c}"]`);
      expect(await b.isDisabled(), c).toBe(true);
      expect(await b.getAttribute('title')).toBe('Needs the operator role (signed in as viewer)');
    }
    for (const q of await params(viewer)) {
      expect([q.name, q.disabled, q.title]).toEqual([q.name, true, `Needs the ${q.level === 'operator' ? 'operator' : 'engineer'} role (signed in as viewer)`]);
    }
    await viewer.getByTestId('lang').click();
    expect(await viewer.locator('[data-testid="faceplate"] [data-command="stop"]').getAttribute('title')).toBe('需要操作员角色（当前登录为查看者）');
    await viewer.getByTestId('lang').click();
    // what the page greys out, the host refuses: the viewer's own token may not command
    const vt = await viewer.evaluate(() => sessionStorage.getItem('twinline.token'));
    const refused = await api<{ ok: boolean; error: { code: string } }>(host, vt!, 'api/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"target":"kiln","command":"hold"}' });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'NOT_AUTHORIZED']);

    // Log out: back to the form, the token forgotten by the page and revoked at the host
    await viewer.getByTestId('logout').click();
    await viewer.waitForSelector('[data-testid="login"]', { timeout: 30_000 });
    expect(await viewer.evaluate(() => sessionStorage.getItem('twinline.token'))).toBeNull();
    expect((await api(host, vt!, 'api/whoami')).status).toBe(401);
    await viewer.close();
  }, 300_000);

  it('an engineer writes a parameter through the faceplate; a token revoked later sends the page back to the form', async () => {
    const eng = await open('/', 'engineer');
    await eng.locator('.stations [data-station="kiln"]').click();
    await eng.waitForSelector('[data-testid="faceplate"][data-station="kiln"]', { timeout: 30_000 });
    const band = eng.locator('[data-testid="faceplate"] form.param[data-param="band"]');
    expect(await band.locator('input').isDisabled()).toBe(false);
    await band.locator('input').fill('30');
    await band.locator('button').click();
    await eng.waitForFunction(() => /band/.test(document.querySelector('[data-testid="fp-reply"]')?.textContent ?? ''), undefined, { timeout: 45_000 });
    expect(await eng.getByTestId('fp-reply').getAttribute('class')).toBe('ok');
    const line = (await api<{ stations: { id: string; tags: { name: string }[] }[] }>(host, viewerToken, 'api/line')).body;
    const k = line.stations.find((x) => x.id === 'kiln')!.tags.findIndex((g) => g.name === 'band');
    const bandNow = async (): Promise<number> => (await api<{ stations: { id: string; tags: number[] }[] }>(host, viewerToken, 'api/state')).body.stations.find((x) => x.id === 'kiln')!.tags[k]!;
    expect(await bandNow()).toBe(30);
    for (const q of await eng.locator('[data-testid="faceplate"] form.param[data-level="safety"]').evaluateAll((fs) => fs.map((f) => f.getAttribute('title')))) {
      expect(q).toBe('A safety limit: changed only in unit mode Maintenance');
    }
    // the account's token is revoked elsewhere: the page's next request (this Set, or its periodic
    // whoami if that comes first) is refused, and the page asks for a login again
    const token = await eng.evaluate(() => sessionStorage.getItem('twinline.token'));
    expect((await api(host, token!, 'api/logout', { method: 'POST' })).status).toBe(200);
    await band.locator('input').fill('31', { timeout: 5000 }).then(() => band.locator('button').click({ timeout: 5000 })).catch(() => undefined);
    await eng.waitForSelector('[data-testid="login-expired"]', { timeout: 60_000 });
    expect(await eng.locator('.app').getAttribute('data-ready')).toBe('0');
    expect(await bandNow()).toBe(30);
    await formLogin(eng, 'engineer');
    await ready(eng);
    await eng.waitForFunction(() => document.querySelector('[data-testid=mode]')?.getAttribute('data-transport') === 'websocket', undefined, { timeout: 45_000 });
    await eng.close();
  }, 300_000);
});

describe('browser twin, attached to a host under the open profile', () => {
  it('needs no login: the page is the anonymous operator, and may log in as someone else', async () => {
    const page = await newTab('/', openHost.base);
    await ready(page);
    expect(await page.locator('[data-testid="login"]').count()).toBe(0);
    const who = page.getByTestId('who');
    expect([await who.getAttribute('data-user'), await who.getAttribute('data-role'), await who.getAttribute('data-profile')]).toEqual(['anonymous', 'operator', 'open']);
    await page.locator('.stations [data-station="kiln"]').click();
    expect(await page.locator('[data-testid="faceplate"] [data-command="stop"]').isDisabled()).toBe(false);
    await page.getByTestId('login-open').click();
    await formLogin(page, 'engineer', openHost.passwords.engineer);
    await page.waitForFunction(() => document.querySelector('[data-testid=who]')?.getAttribute('data-user') === 'engineer', undefined, { timeout: 30_000 });
    await ready(page);
    await page.close();
  }, 180_000);
});

describe('browser twin, standalone (line in a Web Worker)', () => {
  let page: Page;
  beforeAll(async () => {
    page = await open(`/?mode=standalone&scenario=${SCENARIO}`);
  }, 180_000);

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
  }, 180_000);

  it('moves parts: positions of a drawn part change, and the focused scene changes on screen', async () => {
    expect(await partMoves(page)).toBeGreaterThan(0.05);
    await page.evaluate(() => window.__twinline.focus('former'));
    await sleep(2500);
    const a = await shot(page, 'standalone-former-1');
    await sleep(2000);
    const b = await shot(page, 'standalone-former-2');
    expect(changed(a, b)).toBeGreaterThan(0.0005);
  }, 180_000);

  it('draws the parts where the line has them: the pixels at each part change when parts are left out', async () => {
    // a filled, paused line (the render bench's page): parts sit still; only belt cleats move.
    // 250 parts: the dryer holds 160, so the belts after it carry a few dozen
    const still = await newTab(`/?mode=standalone&scenario=${SCENARIO}&bench=250`);
    try {
      // filling the line steps the worker hard: on a busy machine that takes minutes, not seconds
      await still.waitForFunction(() => window.__twinline !== undefined && window.__twinline.parts().length >= 200, undefined, { timeout: 300_000 });
      await partsSeenByPixels(still, '', 5);
    } finally {
      await still.close();
    }
  }, 480_000);

  it('opens a faceplate by clicking a station; Stop changes its state and stack light; 中文 switches labels', async () => {
    await page.evaluate(() => window.__twinline.focus('kiln'));
    await sleep(2000);
    await faceplateFlow(page, 'standalone', 'kiln');
  }, 240_000);

  it('has no network: the overlay says so and draws only the page\'s link to its worker', async () => {
    await page.getByTestId('net-toggle').click();
    await page.waitForSelector('[data-testid="net-none"]', { timeout: 30_000 });
    await page.waitForFunction(() => (window.__twinline.network()?.frames ?? 0) > 0, undefined, { timeout: 30_000 });
    const n = (await page.evaluate(() => window.__twinline.network()))!;
    expect(n.links.map((l) => l.id)).toEqual(['worker~page']);
    expect(n.nodes.some((x) => x.id.startsWith('plc:') || x.id === 'opcua' || x.id === 'mqtt')).toBe(false);
    await page.getByTestId('net-toggle').click();
  }, 90_000);

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
  }, 120_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
