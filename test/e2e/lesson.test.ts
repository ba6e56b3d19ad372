/**
 * A workshop lesson in the web twin, in real headless Chromium against the real built app of a
 * real `twinline serve` of the steel-ball line (hardened profile, warm-started 3 h): the trainer
 * (instructor) and a trainee (viewer) in two browser contexts. The trainer sets the pace,
 * starts the automatic-pouring lesson and injects the step's fault; the trainee sees the same
 * step, answers which station limits the line and is scored; the trainer applies the step's
 * retrofit (the next step), the OEE target is met on the twin's prediction, ends the lesson and
 * saves the scores as CSV; then opens the retrofitted step beside the line of today (both run in
 * the page, on one timeline, their KPIs compared). Screenshots go to test-output/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { allEvents, api, buildWebApp, CHROMIUM, CHROMIUM_ARGS, login, START_MS, startHost, until, type Host } from './host.ts';
import { OUT, pixels, variety } from './pixels.ts';

let host: Host;
let browser: Browser;
let trainerCtx: BrowserContext;
let traineeCtx: BrowserContext;
let trainer: Page;
let trainee: Page;
let downloads = '';
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  mkdirSync(OUT, { recursive: true });
  await buildWebApp();
  downloads = mkdtempSync(join(tmpdir(), 'twinline-downloads-'));
  host = await startHost(['steel-ball-before', '--warmup', '3h', '--speed', '10', '--no-mqtt', '--opcua-port', '0']);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, downloadsPath: downloads });
  trainerCtx = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
  traineeCtx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  trainer = await trainerCtx.newPage();
  trainee = await traineeCtx.newPage();
  for (const p of [trainer, trainee]) p.on('pageerror', (e) => pageErrors.push(e.message));
}, START_MS + 180_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  if (downloads !== '') rmSync(downloads, { recursive: true, force: true });
}, 60_000);

/** Opens the app and logs in through its form as `user`; waits for the twin to be fed. */
async function open(page: Page, user: string, lang: 'en' | 'zh-CN' = 'en'): Promise<void> {
  await page.goto(`${host.base}?lang=${lang}`);
  await page.waitForSelector('[data-testid="login"]', { timeout: 60_000 });
  await page.locator('[data-testid="login"] input[name="user"]').fill(user);
  await page.locator('[data-testid="login"] input[name="password"]').fill(host.passwords[user] ?? '');
  await page.locator('[data-testid="login"] button[type="submit"]').click();
  await page.waitForSelector('.app[data-ready="1"]', { timeout: 60_000 });
  await page.getByTestId('lesson-toggle').click();
  await page.waitForSelector('[data-testid="lesson-panel"]');
}

describe('a workshop lesson in the web twin', () => {
  it('the trainer sets the pace, starts the lesson and injects the step\'s fault; the trainee sees the same step', async () => {
    await open(trainer, 'instructor');
    await open(trainee, 'viewer', 'zh-CN');
    await trainee.waitForSelector('[data-testid="lesson-waiting"]');
    // the pace, from the range panel's trainer controls
    await trainer.getByTestId('range-toggle').click();
    await trainer.getByTestId('trainer-speed-60').click();
    await trainer.waitForSelector('[data-testid="trainer"][data-speed="60"]');
    await trainer.getByTestId('range-toggle').click();
    await trainer.getByTestId('lesson-start-automatic-pouring').click();
    await trainer.waitForSelector('[data-testid="lesson-panel"][data-lesson="automatic-pouring"][data-step="0"]');
    await trainer.getByTestId('lesson-fault-0').click();
    await trainer.waitForSelector('[data-testid="lesson-note"]');
    // the step's third: a pourer away (a disturbance, not a fault: nothing stops)
    await trainer.getByTestId('lesson-fault-2').click();
    await trainer.waitForSelector('[data-testid="lesson-note"]:has-text("Operator absent")');
    await trainee.waitForSelector('[data-testid="lesson-panel"][data-lesson="automatic-pouring"][data-step="0"]', { timeout: 10_000 });
    expect(await trainee.getByTestId('lesson-prompt').textContent()).toMatch(/四名浇注工/);
    const token = await login(host, 'instructor');
    const events = await allEvents(host, token);
    expect(events.some((e) => e.type === 'command' && e.station === 'furnace' && String(e.data.command) === 'fault')).toBe(true);
    expect(events.find((e) => e.type === 'disturbance')).toMatchObject({ station: 'pour', data: { kind: 'absent', people: 1, crew: 'pourers', durationS: 1800 } });
  }, 120_000);

  it('the trainer saves a station\'s trend as CSV (the samples shown, the historian\'s past first) and PNG (the chart, drawn)', async () => {
    const token = await login(host, 'viewer');
    const openedAt = (await api<{ simTime: number }>(host, token, 'api/state')).body.simTime;
    await trainer.locator('.stations button[data-station="furnace"]').click();
    await trainer.waitForSelector('[data-testid="faceplate"][data-station="furnace"]');
    // the chart opens with the stored past (the host samples every second into its historian)
    await trainer.waitForSelector('[data-testid="trend"][data-backfilled]', { timeout: 20_000 });
    await trainer.waitForTimeout(3000); // a few seconds of samples
    const [csvFile] = await Promise.all([trainer.waitForEvent('download'), trainer.getByTestId('trend-csv').click()]);
    expect(csvFile.suggestedFilename()).toMatch(/^furnace-trend-\d+s\.csv$/);
    const rows = readFileSync(await csvFile.path(), 'utf8').trim().split('\n');
    expect(rows[0]).toMatch(/^Sim time \[s\],.+\[°C\]/);
    expect(rows.length).toBeGreaterThan(5);
    const times = rows.slice(1).map((r) => Number(r.split(',')[0]));
    expect(times.every((t, k) => Number.isFinite(t) && (k === 0 || t >= times[k - 1]!))).toBe(true);
    // the file starts before the faceplate was opened: the past came from the host, not from the page
    expect(times[0]!).toBeLessThan(openedAt - 5);
    const [pngFile] = await Promise.all([trainer.waitForEvent('download'), trainer.getByTestId('trend-png').click()]);
    expect(pngFile.suggestedFilename()).toMatch(/^furnace-trend-\d+s\.png$/);
    const png = readFileSync(await pngFile.path());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // what a person sees in the file: the dark panel, the heading's text and the first series' orange line
    const px = await pixels(trainer, png);
    const orange = px.filter((_, k) => k % 4 === 0 && px[k]! > 200 && px[k + 1]! > 90 && px[k + 1]! < 160 && px[k + 2]! < 120).length;
    expect(orange).toBeGreaterThan(50);
    expect(variety(px).dominant).toBeGreaterThan(0.5);
    expect(variety(px).colours).toBeGreaterThan(10);
  }, 60_000);

  it('the trainee answers which station limits the line once the twin has predicted it, and is scored', async () => {
    await trainee.waitForSelector('[data-testid="lesson-source"][data-questions="predicted"]', { timeout: 240_000 });
    // the trainer sees the twin's answer; the trainee does not
    expect(await trainee.getByTestId('lesson-truth').count()).toBe(0);
    expect(await trainer.locator('[data-testid="lesson-cp-find-bottleneck"] [data-testid="lesson-truth"]').textContent()).toMatch(/Pour|pour/i);
    await trainee.getByTestId('lesson-input-find-bottleneck').selectOption('pour');
    await trainee.getByTestId('lesson-answer-find-bottleneck').click();
    await trainee.waitForSelector('[data-testid="lesson-cp-find-bottleneck"] [data-testid="lesson-result"][data-right="1"]');
    await trainee.waitForSelector('[data-testid="lesson-score"][data-you="10"]');
    await trainee.screenshot({ path: join(OUT, 'lesson-trainee-zh-CN.png') });
    await trainer.waitForSelector('[data-testid="lesson-board"] td:text("viewer")', { timeout: 10_000 });
  }, 300_000);

  it('the trainer applies the retrofit: the OEE target is met on the twin\'s prediction; the end exports the scores', async () => {
    await trainer.getByTestId('lesson-next').click();
    await trainer.waitForSelector('[data-testid="lesson-panel"][data-step="1"]');
    await trainee.waitForSelector('[data-testid="lesson-panel"][data-step="1"]', { timeout: 10_000 });
    await trainer.waitForSelector('[data-testid="lesson-cp-oee-75"][data-met="1"]', { timeout: 240_000 });
    await trainer.screenshot({ path: join(OUT, 'lesson-trainer-en.png') });
    await trainer.getByTestId('lesson-end').click();
    await trainer.waitForSelector('[data-testid="lesson-panel"][data-state="ended"]');
    const [download] = await Promise.all([trainer.waitForEvent('download'), trainer.getByTestId('lesson-save-csv').click()]);
    expect(download.suggestedFilename()).toBe('automatic-pouring-scores.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toMatch(/^user,points,find-bottleneck,count-people,new-bottleneck\nviewer,10,right \(1\): pour,,\n$/);
    // once ended, the trainee sees the twin's answers
    await until('the trainee sees the answers', async () => (await trainee.getByTestId('lesson-truth').count()) > 0, 10_000);
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('the trainer opens the retrofitted step beside the line of today: two 3D lines on one timeline, their KPIs compared', async () => {
    const link = trainer.getByTestId('lesson-compare');
    expect(await link.getAttribute('href')).toBe('?mode=compare&before=steel-ball-before&after=steel-ball-before%2Bautomatic-pouring&lang=en');
    const [page] = await Promise.all([trainerCtx.waitForEvent('page'), link.click()]);
    page.on('pageerror', (e) => pageErrors.push(`compare: ${e.message}`));
    // the other pages' 3D views would share the two cores with the two lines' workers
    await trainee.close();
    await trainer.goto('about:blank');
    // both lines warm up 3 h in the page's own workers, then run
    await page.waitForSelector('[data-testid="compare"][data-ready="1"]', { timeout: 180_000 });
    expect(await page.getByTestId('side-before').getAttribute('data-line')).toBe('steel-ball-before');
    expect(await page.getByTestId('side-after').getAttribute('data-line')).toBe('steel-ball-before-automatic-pouring');
    await page.getByTestId('compare-speed-600').click();
    const sim = async (): Promise<number> => Number(await page.getByTestId('compare').getAttribute('data-sim'));
    await until('half an hour after the warm-up', async () => (await sim()) >= 3.5 * 3600, 180_000);
    // one timeline: paused, both lines stand at the clock's simulated second
    await page.getByTestId('compare-pause').click();
    await page.waitForSelector('[data-testid="compare"][data-phase="paused"]');
    await until('both views at the clock', async () => {
      const at = await sim();
      const s = await Promise.all(['before', 'after'].map(async (k) => Number(await page.getByTestId(`side-${k}`).getAttribute('data-sim'))));
      return s.every((x) => Math.abs(x - at) <= 1);
    }, 10_000);
    // the pouring robot takes the pourers' ladles: fewer people, more output, each read off its own line
    const row = async (k: string): Promise<{ before: number; after: number; sense: string | null }> => {
      const r = page.getByTestId(`delta-${k}`);
      return { before: Number(await r.getAttribute('data-before')), after: Number(await r.getAttribute('data-after')), sense: await r.getAttribute('data-sense') };
    };
    const people = await row('operators');
    expect(people.after).toBeLessThan(people.before);
    expect(people.sense).toBe('better');
    const out = await row('throughput');
    expect(out.after).toBeGreaterThan(out.before * 1.1);
    // what a person sees: two drawn lines
    for (const k of ['before', 'after']) {
      const png = await page.locator(`[data-testid="side-${k}"] canvas`).screenshot();
      const v = variety(await pixels(page, png));
      expect(v.colours, k).toBeGreaterThan(20);
      expect(v.dominant, k).toBeLessThan(0.9);
    }
    await page.screenshot({ path: join(OUT, 'compare-en.png') });
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 420_000);
});
