/**
 * Situational awareness in the web twin (态势感知), in real headless Chromium against the real
 * built app of a real `twinline serve` with its detectors (the kiln cell, open profile, OPC UA
 * on a free port). The range runs opcua-stop for real and an engineer writes a kiln setpoint
 * out of its recipe band over REST; what a person sees is asserted: the alert panel lists the
 * alerts live, newest first, with time, severity, station, ATT&CK ids and time-to-detect, in
 * English and Chinese; the kiln is ringed in the canvas's pixels in the alert's colour; the
 * network overlay draws the OPC UA path to the kiln red; the severity filter; a viewer may read
 * but not acknowledge; an operator acknowledges and the ring goes. A standalone page says the
 * detectors need the host. One host and one browser for the file; screenshots in test-output/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TwinlineHooks } from '../../web/src/test-hooks.ts';
import { scaled } from '../proc.ts';
import { api, buildWebApp, CHROMIUM, CHROMIUM_ARGS, login, START_MS, startHost, type Host } from './host.ts';
import { keepShot, OUT, type Shots } from './pixels.ts';

declare const window: { __twinline: TwinlineHooks };

const RED = '#ff3b30';
const ORANGE = '#ff8a1f';

let host: Host;
let ctx: BrowserContext;
let profile = '';
let page: Page;
const pageErrors: string[] = [];
/** the kiln's name as the page shows it, per language */
let kilnName = { en: '', zh: '' };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  mkdirSync(OUT, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'twinline-chromium-'));
  // the app's build, the host and the browser start side by side (the page is opened once all are up)
  const [build, started, browser] = await Promise.allSettled([
    buildWebApp(),
    startHost(['test/fixtures/scenarios/kiln-cell.yaml', '--profile', 'open', '--no-mqtt', '--opcua-port', '0']),
    chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 720 } }),
  ]);
  if (started.status === 'fulfilled') host = started.value;
  if (browser.status === 'fulfilled') ctx = browser.value;
  for (const r of [build, started, browser]) if (r.status === 'rejected') throw r.reason;
  const line = await (await fetch(new URL('api/line', host.base))).json() as { stations: { id: string; name: { en: string; zh: string } }[] };
  kilnName = line.stations.find((s) => s.id === 'kiln')!.name;
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(new URL('?lang=en', host.base).href);
  await ready();
}, START_MS + scaled(60_000));

afterAll(async () => {
  await ctx?.close();
  await host?.stop();
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
}, 60_000);

/** Waits until the twin is drawn and fed. */
async function ready(p: Page = page): Promise<void> {
  await p.waitForSelector('.app[data-ready="1"]', { timeout: scaled(60_000) });
  await p.waitForFunction(() => window.__twinline !== undefined && window.__twinline.frames() > 5, undefined, { timeout: scaled(60_000) });
}

/** Waits until `n` more frames are drawn. */
async function frames(n = 4): Promise<void> {
  const f0 = await page.evaluate(() => window.__twinline.frames());
  await page.waitForFunction(([f, k]) => window.__twinline.frames() > f! + k!, [f0, n], { timeout: scaled(30_000) });
}

/** A shot of the canvas kept in the page (`near` counts its pixels there). */
const snap = (name: string): Promise<void> => keepShot(page, name);

/**
 * Pixels within `r` px of (x, y) [canvas px] of shot `a` that are the warning orange of a high
 * alert (`b` null), or that differ clearly from shot `b`.
 */
function near(a: string, b: string | null, x: number, y: number, r: number): Promise<number> {
  return page.evaluate((q) => {
    const shots = (window as unknown as { __shots: Shots }).__shots;
    const A = shots[q.a]!;
    const B = q.b === null ? null : shots[q.b]!;
    const d = A.data;
    let n = 0;
    for (let dy = -q.r; dy <= q.r; dy++) {
      for (let dx = -q.r; dx <= q.r; dx++) {
        const px = Math.round(q.x + dx);
        const py = Math.round(q.y + dy);
        if (px < 0 || py < 0 || px >= A.width || py >= A.height) continue;
        const k = 4 * (py * A.width + px);
        if (B === null) {
          if (d[k]! > 200 && d[k + 1]! > 100 && d[k + 1]! < 170 && d[k + 2]! < 90) n++;
        } else if (Math.abs(d[k]! - B.data[k]!) + Math.abs(d[k + 1]! - B.data[k + 1]!) + Math.abs(d[k + 2]! - B.data[k + 2]!) > 40) {
          n++;
        }
      }
    }
    return n;
  }, { a, b, x, y, r });
}

const list = (): ReturnType<Page['locator']> => page.locator('[data-testid="alert-list"] > li');

describe('situational awareness in the web twin', () => {
  it('standalone: the panel says the detectors need the host, in both languages', async () => {
    const alone = await ctx.newPage();
    alone.on('pageerror', (e) => pageErrors.push(`standalone: ${e.message}`));
    try {
      await alone.goto(new URL('?mode=standalone&scenario=steel-ball-before&lang=en', host.base).href);
      await alone.getByTestId('alerts-toggle').click();
      const panel = alone.getByTestId('alert-panel');
      expect(await panel.getAttribute('data-status')).toBe('standalone');
      expect(await panel.getByTestId('alert-note').innerText()).toMatch(/^The detectors run in the host \(twinline serve\)\. This page runs the line by itself/);
      await alone.getByTestId('lang').click();
      expect(await panel.getByTestId('alert-note').innerText()).toMatch(/^检测器运行在主机（twinline serve）上。/);
      expect(await alone.getByTestId('alerts-toggle').innerText()).toBe('告警');
    } finally {
      await alone.close();
    }
  }, scaled(60_000));

  it('before any alert: an empty panel, no marks on the line', async () => {
    const fits = await page.evaluate(() => window.__twinline.fits());
    await page.getByTestId('alerts-toggle').click();
    const panel = page.getByTestId('alert-panel');
    await page.waitForSelector('[data-testid="alert-panel"][data-status="ok"]', { timeout: scaled(20_000) });
    expect(await panel.getByTestId('alert-none').innerText()).toBe('No alerts: the detectors have found nothing so far.');
    expect(await page.getByTestId('alerts-count').count()).toBe(0);
    // the panel narrows the view: the whole line is fitted again
    await page.waitForFunction((n) => window.__twinline.fits() > n, fits, { timeout: scaled(20_000) });
    await frames();
    expect(await page.evaluate(() => window.__twinline.alertMarks())).toEqual([]);
    await snap('alerts-before');
  }, scaled(60_000));

  it('opcua-stop from the range: the alerts appear live with time, severity, station, ATT&CK ids and time-to-detect; the kiln is ringed; the overlay draws its OPC UA path red', async () => {
    const instructor = await login(host, 'instructor');
    const run = await api<{ run: number }>(host, instructor, 'api/attacks/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'opcua-stop' }) });
    expect(run.status).toBe(202);
    // no reload: the panel's poll brings them
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="alert-list"] > li[data-station="kiln"]').length >= 2, undefined, { timeout: scaled(90_000) });
    const items = await list().all();
    const ids = await Promise.all(items.map(async (li) => Number(await li.getAttribute('data-alert-id'))));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    for (const li of items.slice(0, 2)) {
      expect(await li.getAttribute('data-severity')).toBe('high');
      expect(await li.locator('.sev').innerText()).toBe('High');
      expect(await li.getByTestId('alert-station').innerText()).toBe(kilnName.en);
      expect(await li.locator('time').innerText()).toMatch(/^\d{2}:\d{2}:\d{2}$/);
      expect(await li.locator('.techniques').innerText()).toContain('T0855');
      expect(await li.locator('.techniques abbr', { hasText: 'T0855' }).getAttribute('title')).toBe('Unauthorized Command Message (Impair Process Control) → T1692.001');
      expect(await li.locator('.title').innerText()).toMatch(/stop .*kiln|kiln stop/);
      expect(await li.getByTestId('alert-ttd').innerText()).toMatch(/^ · Detected in (at once|[\d.]+ s) from the start of range run \d+ \(opcua-stop\)$/);
    }
    expect(await page.getByTestId('alerts-count').innerText()).toBe(String(items.length));
    expect(await page.getByTestId('alerts-count').getAttribute('data-severity')).toBe('high');

    // on the line: the kiln's ring and beacon in the alert's orange
    await page.waitForFunction(() => window.__twinline.alertMarks().some((m) => m.station === 'kiln'), undefined, { timeout: scaled(20_000) });
    const marks = await page.evaluate(() => window.__twinline.alertMarks());
    expect(marks.map((m) => [m.station, m.severity, m.colour])).toEqual([['kiln', 'high', ORANGE]]);
    await frames();
    await snap('alerts-kiln-ringed');
    await page.evaluate(() => window.__twinline.showAlertMarks(false));
    await frames();
    await snap('alerts-kiln-unmarked');
    await page.evaluate(() => window.__twinline.showAlertMarks(true));
    const m = marks[0]!;
    expect(m.beacon).not.toBeNull();
    const bx = m.beacon!.x;
    const by = m.beacon!.y;
    expect(await near('alerts-kiln-ringed', 'alerts-kiln-unmarked', bx, by, 8), 'the beacon is drawn over the kiln').toBeGreaterThan(20);
    let ringHits = 0;
    for (const p of m.ring) if (p !== null && (await near('alerts-kiln-ringed', 'alerts-kiln-unmarked', p.x, p.y, 3)) >= 4) ringHits++;
    // 12 points around it: the kiln hides those behind it, the near side shows
    expect(ringHits, `the ring is drawn around the kiln (${JSON.stringify(m.ring)})`).toBeGreaterThanOrEqual(3);
    // and against the frame before any alert: orange where there was none
    const was = await near('alerts-before', null, bx, by, 10);
    const now = await near('alerts-kiln-ringed', null, bx, by, 10);
    expect(now, `orange pixels at the kiln's beacon: ${was} before the alert, ${now} after`).toBeGreaterThan(was + 15);

    // the network overlay: the OPC UA face, its clients and its link to the kiln's PLC red for the alert
    await page.getByTestId('net-toggle').click();
    const hot = await page.waitForFunction(() => {
      const n = window.__twinline.network();
      return n !== null && n.links.some((l) => l.id === 'plc:kiln~opcua' && l.alert) ? n : null;
    }, undefined, { timeout: scaled(45_000), polling: 250 }).then((h) => h.jsonValue());
    expect(hot!.links.find((l) => l.id === 'plc:kiln~opcua')).toMatchObject({ alert: true, colour: RED });
    expect(hot!.links.find((l) => l.id === 'opcua~opcua-clients')).toMatchObject({ alert: true, colour: RED });
    expect(hot!.nodes.find((n) => n.id === 'opcua')).toMatchObject({ alert: true, colour: RED });
    expect(hot!.nodes.find((n) => n.id === 'plc:kiln')).toMatchObject({ alert: true, colour: RED });
    expect(hot!.links.find((l) => l.id === 'api~api-clients')?.alert).toBe(false);
    expect(hot!.links.find((l) => l.id === 'plc:belt~opcua')?.alert).toBe(false);
    const face = page.locator('[data-testid="netpanel"] li[data-face="opcua"]');
    expect(await face.getAttribute('data-alert')).toBe('high');
    expect(await face.getByTestId('net-alert').innerText()).toMatch(/^Alert \(High\): (command|stop-source)$/);
    await page.screenshot({ path: join(OUT, 'alerts-overlay.png') });
    await page.getByTestId('net-toggle').click();
    // the run watches the stopped kiln, then restarts the line: the next test's alert must not fall inside it
    const deadline = Date.now() + scaled(60_000);
    let status = 'running';
    while (status === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await api<{ status: string }>(host, instructor, `api/attacks/runs/${run.body.run}`)).body.status;
    }
    expect(status, `range run ${run.body.run}`).toBe('done');
  }, scaled(210_000));

  it('a setpoint out of its recipe band: a critical alert on top, the filter, and the panel in Chinese', async () => {
    const engineer = await login(host, 'engineer');
    const write = await api(host, engineer, 'api/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'kiln', command: 'set', args: { field: 'sp1', value: 1000 } }) });
    expect(write.status).toBe(200);
    await page.waitForSelector('[data-testid="alert-list"] > li:first-child[data-severity="critical"]', { timeout: scaled(30_000) });
    const top = list().first();
    expect(await top.getAttribute('data-station')).toBe('kiln');
    expect(await top.locator('.sev').innerText()).toBe('Critical');
    expect(await top.locator('.title').innerText()).toMatch(/^kiln\.sp1 1000 is 100 above the recipe recipe1 900 \(band ±50\); written by engineer@127\.0\.0\.1 \(api\)$/);
    expect(await top.locator('.techniques').innerText()).toMatch(/T0836[\s\S]*T0831/);
    // not during a range run: measured from its first evidence
    expect(await top.getByTestId('alert-ttd').innerText()).toMatch(/^ · Detected in (at once|[\d.]+ s) from its first evidence$/);
    await page.waitForFunction(() => window.__twinline.alertMarks().find((m) => m.station === 'kiln')?.severity === 'critical', undefined, { timeout: scaled(10_000) });
    expect((await page.evaluate(() => window.__twinline.alertMarks()))[0]!.colour).toBe(RED);
    expect(await page.getByTestId('alerts-count').getAttribute('data-severity')).toBe('critical');
    const total = await list().count();
    expect(total).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-testid="alert-timeline"] circle').count()).toBe(total);

    // the filter: high ones hidden, then shown again
    const high = page.locator('[data-testid="alert-filter"][data-severity="high"]');
    const highs = await page.locator('[data-testid="alert-list"] > li[data-severity="high"]').count();
    // opcua-stop's command and stop source (its session in clear is a medium alert of its own)
    expect(highs).toBeGreaterThanOrEqual(2);
    expect(await high.innerText()).toBe(`High ${highs}`);
    // (the list renders after the click's state change: read it once it has)
    await high.click();
    expect(await high.getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => list().count(), { timeout: scaled(5_000) }).toBe(total - highs);
    expect(await list().first().getAttribute('data-severity')).toBe('critical');
    expect(await page.locator('[data-testid="alert-list"] > li[data-severity="high"]').count()).toBe(0);
    expect(await page.locator('[data-testid="alert-timeline"] circle').count()).toBe(total - highs);
    await high.click();
    await expect.poll(() => list().count(), { timeout: scaled(5_000) }).toBe(total);

    await page.getByTestId('lang').click();
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    expect(await page.locator('[data-testid="alert-panel"] h2').innerText()).toBe('安全告警 · 态势感知');
    expect(await page.getByTestId('alerts-toggle').innerText()).toBe(`告警${total}`);
    expect(await list().first().locator('.sev').innerText()).toBe('严重');
    expect(await list().nth(1).locator('.sev').innerText()).toBe('高');
    expect(await list().first().getByTestId('alert-station').innerText()).toBe(kilnName.zh);
    expect(await list().first().getByTestId('alert-ttd').innerText()).toMatch(/^ · 检测用时 (即时|[\d.]+ 秒) （自首个证据起计）$/);
    expect(await list().nth(1).getByTestId('alert-ttd').innerText()).toMatch(/^ · 检测用时 (即时|[\d.]+ 秒) （自靶场第 \d+ 次运行 opcua-stop 开始计）$/);
    expect(await list().first().getByTestId('alert-ack').innerText()).toBe('确认');
    expect(await page.locator('[data-testid="alert-filter"][data-severity="critical"]').innerText()).toBe('严重 1');
    expect(await page.getByTestId('alert-summary').innerText()).toMatch(new RegExp(`^${total} 未处理 · ${total} 条（主机启动以来）$`));
    await page.screenshot({ path: join(OUT, 'alerts-zh.png') });
    await page.getByTestId('lang').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
  }, scaled(90_000));

  it('a viewer reads the alerts but may not acknowledge them; an operator acknowledges, and the ring goes', async () => {
    // a viewer's tab (its token from a REST login, as the login form would keep it): the alerts, no acknowledging
    const viewer = await login(host, 'viewer');
    const tab = await ctx.newPage();
    tab.on('pageerror', (e) => pageErrors.push(`viewer: ${e.message}`));
    try {
      await tab.addInitScript((token) => sessionStorage.setItem('twinline.token', token), viewer);
      await tab.goto(new URL('?lang=en', host.base).href);
      await tab.waitForFunction(() => document.querySelector('[data-testid=who]')?.getAttribute('data-role') === 'viewer', undefined, { timeout: scaled(30_000) });
      await tab.getByTestId('alerts-toggle').click();
      await tab.waitForFunction(() => document.querySelectorAll('[data-testid="alert-list"] > li').length >= 3, undefined, { timeout: scaled(30_000) });
      const ack = tab.locator('[data-testid="alert-list"] > li').first().getByTestId('alert-ack');
      expect(await ack.isDisabled()).toBe(true);
      expect(await ack.getAttribute('title')).toBe('Needs the operator role (signed in as viewer)');
    } finally {
      await tab.close();
    }
    const id = Number(await list().first().getAttribute('data-alert-id'));
    const refused = await api<{ error: { code: string } }>(host, viewer, 'api/alerts/ack', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('NOT_AUTHORIZED');

    // the open profile's anonymous operator acknowledges every alert
    await list().first().getByTestId('alert-ack').click();
    await page.waitForSelector('[data-testid="alert-list"] > li:first-child[data-acked="1"]', { timeout: scaled(10_000) });
    expect(await list().first().getByTestId('alert-acked').innerText()).toMatch(/^Acknowledged by anonymous@127\.0\.0\.1 at \d{2}:\d{2}:\d{2}$/);
    // the kiln's mark falls back to its most severe unacknowledged alert
    await page.waitForFunction(() => window.__twinline.alertMarks().find((m) => m.station === 'kiln')?.severity === 'high', undefined, { timeout: scaled(10_000) });
    while (await page.locator('[data-testid="alert-ack"]').count() > 0) {
      const n = await page.locator('[data-testid="alert-ack"]').count();
      await page.locator('[data-testid="alert-ack"]').first().click();
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid="alert-ack"]').length < k, n, { timeout: scaled(10_000) });
    }
    await page.waitForFunction(() => window.__twinline.alertMarks().length === 0, undefined, { timeout: scaled(10_000) });
    expect(await page.getByTestId('alerts-count').count()).toBe(0);
    // the host holds the acknowledgements: who, for every alert
    const held = await api<{ alerts: { ack: { by: string } | null }[] }>(host, viewer, 'api/alerts');
    expect(held.body.alerts.map((a) => a.ack?.by)).toEqual(held.body.alerts.map(() => 'anonymous@127.0.0.1'));
  }, scaled(90_000));

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
