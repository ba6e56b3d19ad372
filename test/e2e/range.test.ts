/**
 * The security range in the web twin, in real headless Chromium against the real built app of
 * a real `twinline serve` (the kiln cell under the open profile, OPC UA on a free port): an
 * operator sees no Range panel; an instructor opens it, runs opcua-stop, and sees the attack's
 * traffic red in the network overlay (handles and the canvas's pixels), the "attack running"
 * label, and the result (outcome, impact, evidence), in English and zh-CN; runs an exercise;
 * and, as a trainer, sets the pace, pauses the line and injects a jam that the kiln's stack
 * light shows. One host and one browser for the file. Screenshots go to test-output/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TwinlineHooks } from '../../web/src/test-hooks.ts';
import { buildWebApp, CHROMIUM, CHROMIUM_ARGS, START_MS, startHost, type Host } from './host.ts';
import { OUT, redShare, shot } from './pixels.ts';

const UNUSUAL = '#ff3b30';

let host: Host;
let ctx: BrowserContext;
let profile = '';
let page: Page;
const pageErrors: string[] = [];

declare const window: { __twinline: TwinlineHooks };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  mkdirSync(OUT, { recursive: true });
  await buildWebApp();
  profile = mkdtempSync(join(tmpdir(), 'twinline-chromium-'));
  // an exercise written for this line, in a folder of the test's own
  const exercises = join(profile, 'exercises');
  mkdirSync(exercises);
  writeFileSync(join(exercises, 'drill.yaml'), [
    'version: 1', 'id: kiln-drill', 'title: { en: Kiln drill, zh: 窑炉演练 }', `scenario: ${resolve('test/fixtures/scenarios/kiln-cell.yaml')}`,
    'durationS: 900', 'attacks:', '  - { atS: 600, attack: opcua-stop, station: kiln }', '',
  ].join('\n'));
  host = await startHost(['test/fixtures/scenarios/kiln-cell.yaml', '--profile', 'open', '--no-mqtt', '--opcua-port', '0', '--exercises', exercises]);
  ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 720 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(host.base);
}, START_MS + 180_000);

afterAll(async () => {
  await ctx?.close();
  await host?.stop();
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
}, 60_000);

/** Waits until the twin is drawn and fed. */
async function ready(): Promise<void> {
  await page.waitForSelector('.app[data-ready="1"]', { timeout: 60_000 });
  await page.waitForFunction(() => window.__twinline !== undefined && window.__twinline.frames() > 5, undefined, { timeout: 60_000 });
}

/** Logs in through the page's form (the open profile's Log in button first) as `user`. */
async function loginAs(user: string): Promise<void> {
  if (await page.getByTestId('logout').count() > 0) {
    await page.getByTestId('logout').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=who]')?.getAttribute('data-user') === 'anonymous', undefined, { timeout: 30_000 });
  }
  await page.getByTestId('login-open').click();
  await page.waitForSelector('[data-testid="login"]', { timeout: 30_000 });
  await page.locator('[data-testid="login"] input[name="user"]').fill(user);
  await page.locator('[data-testid="login"] input[name="password"]').fill(host.passwords[user] ?? '');
  await page.locator('[data-testid="login"] button[type="submit"]').click();
  await page.waitForFunction((u) => document.querySelector('[data-testid=who]')?.getAttribute('data-user') === u, user, { timeout: 30_000 });
  await ready();
}

/** The canvas's share of red pixels, with the network legend hidden (red from the scene only). */
async function sceneRed(name: string): Promise<number> {
  await page.evaluate(() => document.querySelector<HTMLElement>('[data-testid="netpanel"]')!.style.setProperty('visibility', 'hidden'));
  const share = redShare(await shot(page, name));
  await page.evaluate(() => document.querySelector<HTMLElement>('[data-testid="netpanel"]')!.style.removeProperty('visibility'));
  return share;
}

describe('the security range in the web twin', () => {
  it('offers no Range panel to the anonymous operator nor to a signed-in operator', async () => {
    await ready();
    expect(await page.getByTestId('who').getAttribute('data-role')).toBe('operator');
    expect(await page.getByTestId('range-toggle').count()).toBe(0);
    await loginAs('operator');
    expect(await page.getByTestId('who').getAttribute('data-role')).toBe('operator');
    expect(await page.getByTestId('range-toggle').count()).toBe(0);
    expect(await page.getByTestId('range-panel').count()).toBe(0);
  }, 180_000);

  it('an instructor runs opcua-stop from the Range panel: the attack\'s traffic turns red, the label names it, the result shows', async () => {
    await loginAs('instructor');
    await page.getByTestId('range-toggle').click();
    const item = page.locator('[data-testid="range-panel"] li[data-attack="opcua-stop"]');
    await item.waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid="range-panel"] li[data-attack]').count()).toBeGreaterThanOrEqual(15);
    expect(await item.locator('.techniques').innerText()).toContain('T0855');
    expect(await item.locator('[data-testid="range-run"]').innerText()).toBe('Run');

    // the overlay on, the whole line in view; nothing red before the attack
    await page.getByTestId('net-toggle').click();
    await page.waitForFunction(() => (window.__twinline.network()?.frames ?? 0) > 0 && window.__twinline.network()!.links.some((l) => l.id === 'plc:kiln~opcua'), undefined, { timeout: 45_000 });
    await page.evaluate(() => window.__twinline.overview());
    await sleep(2500);
    // zoom out with the wheel, as a person would, so the faces above the line are in view too
    const box = (await page.locator('.view canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 800);
    await sleep(1500);
    const calm = (await page.evaluate(() => window.__twinline.network()))!;
    expect(calm.links.filter((l) => l.unusual || l.attack)).toEqual([]);
    const before = await sceneRed('range-before');

    await item.locator('[data-testid="range-run"]').click();
    // the attacked face and its clients' link are drawn red for the run (and 10 s after), the label names the attack
    // (the detectors' alerts on the stop draw the same links red too: the attack's own mark is what is watched)
    const faceRed = (): Promise<boolean> => page.evaluate((red) => window.__twinline.network()?.links.some((l) => l.id === 'opcua~opcua-clients' && l.attack && l.colour === red) === true, UNUSUAL);
    await page.waitForFunction((red) => window.__twinline.network()?.links.some((l) => l.id === 'opcua~opcua-clients' && l.attack && l.colour === red), UNUSUAL, { timeout: 90_000, polling: 250 });
    // once the stop command reached the kiln through OPC UA, that link is red too (for 10 s): watched meanwhile
    const plcRed = page.waitForFunction((red) => {
      const n = window.__twinline.network();
      return n?.links.some((l) => l.id === 'plc:kiln~opcua' && l.attack && l.colour === red) === true ? n : null;
    }, UNUSUAL, { timeout: 90_000, polling: 250 }).then((h) => h.jsonValue());
    const label = page.getByTestId('net-attack');
    expect(await label.getAttribute('data-attack')).toBe('opcua-stop');
    expect(await label.locator('b').innerText()).toMatch(/^Attack (running|ended): OPC UA PackML Stop/);
    expect(await page.locator('[data-testid="netpanel"] [data-face="opcua"]').getAttribute('data-attack')).toBe('1');
    // what a person sees: more red on the canvas than before the attack (a slow machine may need another shot)
    let during = 0;
    for (let k = 0; k < 4 && during <= before + 0.0005 && (await faceRed()); k++) during = await sceneRed('range-attack');
    expect(during).toBeGreaterThan(before + 0.0005);
    // the overlay as drawn when that link turned red
    const hot = (await plcRed)!;
    expect(hot.links.find((l) => l.id === 'plc:kiln~opcua')).toMatchObject({ attack: true, unusual: false });
    expect(hot.nodes.find((n) => n.id === 'plc:kiln')?.colour).toBe(UNUSUAL);
    expect(hot.links.find((l) => l.id === 'opcua~opcua-clients')).toMatchObject({ attack: true, unusual: false });
    expect(hot.nodes.find((n) => n.id === 'opcua')).toMatchObject({ attack: true, colour: UNUSUAL });
    expect(hot.links.find((l) => l.id === 'api~api-clients')?.colour).not.toBe(UNUSUAL);

    // the result: the open profile let it through; the impact and the twin's own record of it
    const result = item.locator('[data-testid="range-result"]');
    await result.waitFor({ timeout: 90_000 });
    expect(await result.getAttribute('data-outcome')).toBe('succeeded');
    expect(await result.getByTestId('range-outcome').innerText()).toBe('Succeeded: the attack got through');
    expect(await result.getByTestId('range-impact').innerText()).toMatch(/states\s+\[[^\]]*"Stopped"/);
    expect(await result.getByTestId('range-evidence').innerText()).toMatch(/command accepted: opcua stop on kiln by anonymous@\S+ \(operator\)/);
    expect(await item.locator('[data-testid="range-run"]').isDisabled()).toBe(false);
    await page.screenshot({ path: join(OUT, 'range-result.png') });

    // zh-CN
    await page.getByTestId('lang').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    expect(await page.getByTestId('range-toggle').innerText()).toBe('靶场');
    expect(await page.locator('[data-testid="range-panel"] h2').innerText()).toBe('安全靶场');
    expect(await item.locator('[data-testid="range-run"]').innerText()).toBe('运行');
    expect(await result.getByTestId('range-outcome').innerText()).toBe('成功：攻击已得逞');
    if (await label.count() > 0) expect(await label.locator('b').innerText()).toMatch(/^攻击(进行中|已结束): OPC UA/);
    writeFileSync(join(OUT, 'range-result-zh.png'), await page.screenshot());
    await page.getByTestId('lang').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
  }, 300_000);

  it('an instructor starts an exercise from the Range panel, pauses it (the line stands still), resumes and ends it, and opens its report', async () => {
    // signed in as the instructor by the test before; the panel open
    const ex = page.getByTestId('exercise');
    await page.getByTestId('exercise-pick').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid="exercise-pick"] option').allInnerTexts()).toEqual([expect.stringMatching(/^Kiln drill \(1 · 15 min\)$/)]);
    await page.getByTestId('exercise-start').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="exercise"]')?.getAttribute('data-state') === 'running', undefined, { timeout: 30_000 });
    expect(await ex.locator('ol.schedule li').innerText()).toMatch(/^600 s: opcua-stop → kiln waiting$/);
    await page.getByTestId('exercise-pause').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="exercise"]')?.getAttribute('data-state') === 'paused', undefined, { timeout: 30_000 });
    expect(await page.getByTestId('exercise-state').innerText()).toBe('paused: the line stands still');
    // the line paused: its clock in the host stands still
    const simTime = async (): Promise<number> => Number((await (await fetch(new URL('api/state', host.base))).json() as { simTime: number }).simTime);
    const t = await simTime();
    await sleep(1500);
    expect(await simTime()).toBe(t);
    await page.getByTestId('exercise-resume').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="exercise"]')?.getAttribute('data-state') === 'running', undefined, { timeout: 30_000 });
    await page.getByTestId('exercise-end').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="exercise"]')?.getAttribute('data-state') === 'ended', undefined, { timeout: 90_000 });
    expect(await page.getByTestId('exercise-score').innerText()).toMatch(/^Score \d+\s+detection \d+ · containment (\d+|–) · recovery \d+ · production \d+$/);
    const [report] = await Promise.all([ctx.waitForEvent('page', { timeout: 30_000 }), page.getByTestId('exercise-report').click()]);
    await report.waitForLoadState();
    expect(await report.locator('body').innerText()).toContain('Kiln');
    await report.close();
    await page.screenshot({ path: join(OUT, 'range-exercise.png') });
  }, 240_000);

  it('a trainer sets the pace, pauses and resumes the line, and injects a jam that turns the kiln\'s stack light red', async () => {
    // signed in as the instructor, the panel open
    const trainer = page.getByTestId('trainer');
    const run = async (): Promise<{ speed: number; running: boolean; simTime: number }> => (await (await fetch(new URL('api/run', host.base))).json()) as { speed: number; running: boolean; simTime: number };
    await page.getByTestId('trainer-speed-60').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="trainer"]')?.getAttribute('data-speed') === '60', undefined, { timeout: 30_000 });
    expect((await run()).speed).toBe(60);
    expect(await page.getByTestId('trainer-speed-60').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('trainer-pause').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="trainer"]')?.getAttribute('data-running') === '0', undefined, { timeout: 30_000 });
    const t = (await run()).simTime;
    await sleep(1500);
    expect((await run()).simTime).toBe(t);
    await page.getByTestId('trainer-resume').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="trainer"]')?.getAttribute('data-running') === '1', undefined, { timeout: 30_000 });
    // a jam on the kiln for 2 min: the host's kiln is faulted and the page draws its red lamp
    const line = await (await fetch(new URL('api/line', host.base))).json() as { stations: { id: string; name: { en: string } }[] };
    const kiln = line.stations.find((q) => q.id === 'kiln')!.name.en;
    expect(await page.locator('[data-testid="trainer-station"] option').allInnerTexts()).toContain(kiln);
    await page.getByTestId('trainer-station').selectOption('kiln');
    await page.getByTestId('trainer-fault').selectOption('jam');
    await page.getByTestId('trainer-minutes').fill('2');
    await page.getByTestId('trainer-inject').click();
    await page.getByTestId('trainer-note').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('trainer-note').innerText()).toBe(`Jam injected on ${kiln}`);
    await page.waitForFunction(() => window.__twinline.stackLight('kiln') === 'red', undefined, { timeout: 60_000 });
    await trainer.screenshot({ path: join(OUT, 'range-trainer.png') });
    await page.getByTestId('trainer-speed-1').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="trainer"]')?.getAttribute('data-speed') === '1', undefined, { timeout: 30_000 });
    expect(await trainer.locator('h3').innerText()).toBe('Trainer');
  }, 180_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
