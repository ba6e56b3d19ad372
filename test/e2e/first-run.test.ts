/**
 * A new user's first load, against a real `twinline serve` (open profile, small fixture line)
 * and real headless Chromium: the favicon and SVG icon are served (no 404 in the browser's
 * console or responses); the built app goes out compressed (brotli or gzip by Accept-Encoding,
 * the same bytes as the uncompressed file once decompressed), with Vary, cache headers, ETag /
 * 304, HEAD and a byte range; an unknown `?scenario=` is an error the page shows, in English
 * and Chinese; a faceplate acknowledges one alarm at a time or all at once, and a command's
 * reply expires (at once when the station aborts after it). Prints the bundle's transferred
 * size uncompressed, gzip and brotli.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TwinlineHooks } from '../../web/src/test-hooks.ts';
import { scaled } from '../proc.ts';
import { rawRequest, type RawReply } from '../raw-http.ts';
import { allEvents, api, buildWebApp, CHROMIUM, CHROMIUM_ARGS, login, START_MS, startHost, type Host } from './host.ts';
import { OUT } from './pixels.ts';

declare const window: { __twinline: TwinlineHooks };

const FIXTURE = 'test/fixtures/scenarios/minimal.yaml';

let host: Host;
let ctx: BrowserContext;
let profile = '';
let indexHtml = '';
let bundle = '';

/** A raw request to the host: status, headers and the bytes sent (no decompression, unlike fetch). */
const raw = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawReply> => rawRequest(new URL(path, host.base), headers, method);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  mkdirSync(OUT, { recursive: true });
  await buildWebApp();
  // 50× real time: a pushed frame a little older than a polled state is many ticks behind it,
  // which must not read as a restarted run
  host = await startHost([FIXTURE, '--profile', 'open', '--no-mqtt', '--opcua-port', '0', '--speed', '50']);
  indexHtml = (await raw('/')).body.toString('utf8');
  bundle = /<script type="module" crossorigin src="\.?\/?(assets\/index-[^"]+\.js)"/.exec(indexHtml)?.[1] ?? '';
  profile = mkdtempSync(join(tmpdir(), 'twinline-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1024, height: 640 } });
}, START_MS + 180_000);

afterAll(async () => {
  await ctx?.close();
  await host?.stop();
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
}, 60_000);

describe('icons', () => {
  it('serves favicon.ico (an ICO of PNGs) and the SVG icon index.html links', async () => {
    expect(indexHtml).toContain('<link rel="icon" href="./icon.svg" type="image/svg+xml">');
    expect(indexHtml).toMatch(/<link rel="icon" href="\.\/favicon\.ico"/);
    const ico = await raw('/favicon.ico');
    expect(ico.status).toBe(200);
    expect(ico.headers['content-type']).toBe('image/x-icon');
    expect([...ico.body.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // ICONDIR: reserved 0, type 1 (icon)
    const count = ico.body.readUInt16LE(4);
    expect(count).toBeGreaterThanOrEqual(2);
    for (let k = 0; k < count; k++) {
      const at = ico.body.readUInt32LE(6 + 16 * k + 12);
      expect(ico.body.subarray(at + 1, at + 4).toString('latin1')).toBe('PNG');
    }
    expect(ico.headers['cache-control']).toBe('no-cache');
    const svg = await raw('/icon.svg');
    expect(svg.status).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.body.toString('utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('Chromium loads the app with no 404 and no console error; its icon links resolve', async () => {
    const page = await ctx.newPage();
    const failed: string[] = [];
    const consoleErrors: string[] = [];
    const encodings = new Map<string, string>();
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      encodings.set(new URL(r.url()).pathname, r.headers()['content-encoding'] ?? 'identity');
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(host.base);
    await page.waitForSelector('.app[data-ready="1"]', { timeout: scaled(60_000) });
    await page.waitForFunction(() => window.__twinline !== undefined && window.__twinline.frames() > 5, undefined, { timeout: scaled(60_000) });
    // the page moved from its first polled state to the live feed: no restarted run is announced
    await page.waitForSelector('[data-testid="mode"][data-transport="websocket"]', { timeout: scaled(30_000) });
    const at = await page.evaluate(() => window.__twinline.frames());
    await page.waitForFunction((n) => window.__twinline.frames() > n + 20, at, { timeout: scaled(30_000) });
    expect(await page.getByTestId('restarted').count()).toBe(0);
    const icons = await page.evaluate(async () => {
      const out: { href: string; status: number; type: string; bytes: number }[] = [];
      for (const l of Array.from(document.querySelectorAll<HTMLLinkElement>('link[rel="icon"]'))) {
        const r = await fetch(l.href);
        out.push({ href: new URL(l.href).pathname, status: r.status, type: r.headers.get('content-type') ?? '', bytes: (await r.arrayBuffer()).byteLength });
      }
      return out;
    });
    expect(icons.map((i) => i.href).sort()).toEqual(['/favicon.ico', '/icon.svg']);
    for (const i of icons) {
      expect(i.status, i.href).toBe(200);
      expect(i.bytes, i.href).toBeGreaterThan(100);
    }
    expect(icons.find((i) => i.href === '/icon.svg')?.type).toBe('image/svg+xml');
    expect(failed).toEqual([]);
    expect(consoleErrors).toEqual([]);
    // the browser asked for and got the bundle brotli-compressed
    expect(encodings.get(`/${bundle}`)).toBe('br');
    await page.close();
  }, scaled(150_000));
});

describe('compressed static assets', () => {
  it('sends the main bundle as brotli and gzip that decompress to the identity bytes', async () => {
    expect(bundle).toMatch(/^assets\/index-.+\.js$/);
    const id = await raw(`/${bundle}`, { 'accept-encoding': 'identity' });
    const none = await raw(`/${bundle}`);
    const br = await raw(`/${bundle}`, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    const gz = await raw(`/${bundle}`, { 'accept-encoding': 'gzip' });
    const notBr = await raw(`/${bundle}`, { 'accept-encoding': 'br;q=0, gzip;q=0.8' });
    for (const r of [id, none, br, gz, notBr]) expect(r.status).toBe(200);
    expect(none.body.equals(id.body)).toBe(true);
    expect(id.headers['content-encoding']).toBeUndefined();
    expect(br.headers['content-encoding']).toBe('br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(notBr.headers['content-encoding']).toBe('gzip');
    expect(brotliDecompressSync(br.body).equals(id.body)).toBe(true);
    expect(gunzipSync(gz.body).equals(id.body)).toBe(true);
    expect(br.body.length).toBeLessThan(gz.body.length);
    expect(gz.body.length).toBeLessThan(id.body.length / 2);
    for (const r of [id, br, gz]) {
      expect(r.headers['content-length']).toBe(String(r.body.length));
      expect(r.headers.vary).toBe('Accept-Encoding');
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    }
    const tags = [id, br, gz].map((r) => String(r.headers.etag));
    expect(new Set(tags).size).toBe(3);
    const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`main bundle ${bundle} transferred: uncompressed ${kb(id.body.length)} (${id.body.length} B), gzip ${kb(gz.body.length)} (${gz.body.length} B), brotli ${kb(br.body.length)} (${br.body.length} B): ${(100 * br.body.length / id.body.length).toFixed(1)} % of before`);
  });

  it('index.html is revalidated (no-cache) and answers 304 to its ETag; so does the bundle', async () => {
    const index = await raw('/', { 'accept-encoding': 'br' });
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-length']).toBe(String(index.body.length));
    const again = await raw('/', { 'accept-encoding': 'br', 'if-none-match': String(index.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const br = await raw(`/${bundle}`, { 'accept-encoding': 'br' });
    const notModified = await raw(`/${bundle}`, { 'accept-encoding': 'br', 'if-none-match': `"other", ${String(br.headers.etag)}` });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.etag).toBe(br.headers.etag);
    expect(notModified.headers.vary).toBe('Accept-Encoding');
    // the brotli ETag does not validate the gzip representation
    expect((await raw(`/${bundle}`, { 'accept-encoding': 'gzip', 'if-none-match': String(br.headers.etag) })).status).toBe(200);
  });

  it('HEAD sends the headers of GET and no body; a byte range is a 206 of the identity bytes; past the end is 416', async () => {
    const get = await raw(`/${bundle}`, { 'accept-encoding': 'br' });
    const head = await raw(`/${bundle}`, { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const h of ['content-length', 'content-encoding', 'etag', 'vary', 'cache-control', 'content-type']) expect(head.headers[h], h).toBe(get.headers[h]);
    const id = await raw(`/${bundle}`);
    const part = await raw(`/${bundle}`, { range: 'bytes=100-199', 'accept-encoding': 'br' });
    expect(part.status).toBe(206);
    expect(part.headers['content-encoding']).toBeUndefined();
    expect(part.headers['content-range']).toBe(`bytes 100-199/${id.body.length}`);
    expect(part.headers['content-length']).toBe('100');
    expect(part.body.equals(id.body.subarray(100, 200))).toBe(true);
    const tail = await raw(`/${bundle}`, { range: 'bytes=-16' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(id.body.subarray(id.body.length - 16))).toBe(true);
    const past = await raw(`/${bundle}`, { range: `bytes=${id.body.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${id.body.length}`);
    // a stale If-Range: the whole file
    expect((await raw(`/${bundle}`, { range: 'bytes=0-9', 'if-range': '"old"' })).status).toBe(200);
    expect((await raw('/no-such-file.js')).status).toBe(404);
  });
});

describe('unknown scenario', () => {
  async function openUnknown(lang: string): Promise<Page> {
    const page = await ctx.newPage();
    await page.goto(new URL(`?mode=standalone&scenario=no-such-line&lang=${lang}`, host.base).href);
    await page.waitForSelector('[data-testid="error"]', { timeout: scaled(30_000) });
    return page;
  }

  it('is an error naming it and the built-in scenarios, with links to them (en)', async () => {
    const page = await openUnknown('en');
    const text = await page.getByTestId('error').innerText();
    expect(text).toContain('Could not start the twin');
    expect(text).toContain('unknown scenario "no-such-line"');
    expect(text).toContain('ceramic-after');
    expect(text).toContain('steel-ball-before');
    const links = await page.locator('[data-testid="scenario-choices"] a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).search));
    expect(links).toContain('?mode=standalone&scenario=ceramic-after&lang=en');
    // one link per built-in scenario (scenarios/*.yaml, all bundled in the web app)
    expect(links.length).toBe(readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).length);
    // the line was not started on a fallback
    expect(await page.locator('.app').getAttribute('data-ready')).toBe('0');
    expect(await page.locator('canvas').count()).toBe(0);
    await page.screenshot({ path: join(OUT, 'first-run-unknown-scenario-en.png') });
    // a link starts the scenario it names
    await page.locator('[data-testid="scenario-choices"] a', { hasText: 'ceramic-after' }).click();
    await page.waitForSelector('.app[data-ready="1"]', { timeout: scaled(60_000) });
    expect(await page.getByTestId('error').count()).toBe(0);
    await page.close();
  }, scaled(120_000));

  it('is shown in Chinese too', async () => {
    const page = await openUnknown('zh-CN');
    const text = await page.getByTestId('error').innerText();
    expect(text).toContain('无法启动数字孪生');
    expect(text).toContain('场景“no-such-line”');
    expect(text).toContain('内置场景');
    expect(await page.getByTestId('scenario-choices').innerText()).toContain('运行其中之一');
    expect(await page.locator('.app').getAttribute('data-ready')).toBe('0');
    await page.screenshot({ path: join(OUT, 'first-run-unknown-scenario-zh.png') });
    await page.close();
  }, scaled(60_000));
});

describe('faceplate alarms and command replies', () => {
  /** Faceplate.tsx's REPLY_MS: how long a reply stays */
  const REPLY_MS = 8000;
  const FORCE = 1;
  const BREAKDOWN = 1 << 24;

  it('an accepted reply goes when the station aborts; one alarm acknowledged at a time, then all; replies expire', async () => {
    const instructor = await login(host, 'instructor');
    const command = async (body: unknown): Promise<void> => {
      const r = await api(host, instructor, 'api/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    };
    const page = await ctx.newPage();
    await page.goto(host.base);
    await page.waitForSelector('.app[data-ready="1"]', { timeout: scaled(60_000) });
    await page.locator('button[data-station="former"]').click();
    await page.waitForSelector('[data-testid="faceplate"][data-station="former"] [data-testid="fp-state"][data-state="Execute"]', { timeout: scaled(30_000) });
    const fp = page.locator('[data-testid="faceplate"]');
    const reply = fp.getByTestId('fp-reply');
    const gone = (): Promise<void> => page.waitForFunction(() => document.querySelector('[data-testid="fp-reply"]') === null, undefined, { timeout: scaled(REPLY_MS + 20_000) }).then(() => undefined);

    // an accepted Hold, then the station breaks down and aborts: the reply goes before it would expire
    await fp.locator('[data-command="hold"]').click();
    await reply.waitFor({ timeout: scaled(20_000) });
    expect(await reply.innerText()).toBe('Command accepted: hold');
    const shown = Date.now();
    await command({ target: 'former', command: 'fault', args: { code: 'breakdown', duration: 1e6 } });
    await gone();
    expect(Date.now() - shown).toBeLessThan(REPLY_MS);
    expect(['Aborting', 'Aborted']).toContain(await fp.getByTestId('fp-state').getAttribute('data-state'));

    // a second alarm: force off the recipe
    await command({ target: 'former', command: 'set', args: { field: 'force', value: 1200 } });
    const alarm = (code: string): ReturnType<typeof fp.locator> => fp.locator(`[data-testid="fp-alarms"] li[data-alarm="${code}"]`);
    await page.waitForSelector('li[data-alarm="FORCE_DEVIATION"].unacked', { timeout: scaled(20_000) });
    await page.waitForSelector('li[data-alarm="BREAKDOWN"].unacked', { timeout: scaled(20_000) });
    expect(await fp.getByTestId('ack-all').innerText()).toBe('Acknowledge all (2)');

    // acknowledge one: the other stays unacknowledged, "all" goes (one left)
    // (the reply comes after this click, so it cannot expire sooner than REPLY_MS after it)
    const clicked = Date.now();
    await alarm('FORCE_DEVIATION').getByRole('button').click();
    await page.waitForSelector('li[data-alarm="FORCE_DEVIATION"].acked', { timeout: scaled(20_000) });
    expect(await alarm('BREAKDOWN').getAttribute('class')).toBe('unacked');
    expect(await fp.getByTestId('ack-all').count()).toBe(0);
    await reply.waitFor({ timeout: scaled(20_000) });
    expect(await reply.innerText()).toBe('Command accepted: ack FORCE_DEVIATION');
    // the reply expires by itself, not sooner than REPLY_MS after it came (a slow frame rate may show it late)
    await gone();
    expect(Date.now() - clicked).toBeGreaterThanOrEqual(REPLY_MS - 1500);

    // the force alarm clears and comes back unacknowledged: two wait again; acknowledge all, in Chinese
    await command({ target: 'former', command: 'set', args: { field: 'force', value: 800 } });
    await page.waitForSelector('li[data-alarm="FORCE_DEVIATION"]', { state: 'detached', timeout: scaled(20_000) });
    await command({ target: 'former', command: 'set', args: { field: 'force', value: 1200 } });
    await page.waitForSelector('li[data-alarm="FORCE_DEVIATION"].unacked', { timeout: scaled(20_000) });
    await page.getByTestId('lang').click();
    expect(await fp.getByTestId('ack-all').innerText()).toBe('全部确认（2）');
    expect(await alarm('BREAKDOWN').getByRole('button').innerText()).toBe('确认');
    await fp.getByTestId('ack-all').click();
    // the reply first: it expires after REPLY_MS, and a slow frame rate may take longer to show the acknowledgements
    await reply.waitFor({ timeout: scaled(20_000) });
    expect(await reply.innerText()).toBe('指令已接受: ack');
    await page.waitForSelector('li[data-alarm="FORCE_DEVIATION"].acked', { timeout: scaled(20_000) });
    await page.waitForSelector('li[data-alarm="BREAKDOWN"].acked', { timeout: scaled(20_000) });

    // what the line logged: one bit, then both (the host drains its log every 200 ms: wait for it)
    const end = Date.now() + scaled(20_000);
    let acks: unknown[] = [];
    do {
      acks = (await allEvents(host, instructor)).filter((e) => e.type === 'alarm-ack' && e.station === 'former').map((e) => e.data.bits);
      if (acks.at(-1) === (FORCE | BREAKDOWN)) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < end);
    expect(acks.slice(-2)).toEqual([FORCE, FORCE | BREAKDOWN]);
    await page.getByTestId('lang').click();
    await page.close();
  }, scaled(240_000));
});
