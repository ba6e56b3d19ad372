/**
 * The built app's file server (sim/host/static-files.ts) behind a real HTTP server over a
 * temporary folder: Accept-Encoding negotiation, compression at run time when the build left
 * no pre-compressed sibling (and the sibling when it did), the memory it holds bounded, a file
 * rebuilt under it served fresh, and the byte-range parser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { byteRange, negotiate, StaticFiles } from '../../sim/host/static-files.ts';
import { rawRequest, type RawReply } from '../raw-http.ts';

let dir = '';
let server: Server;
let files: StaticFiles;
let base = '';
/** text that compresses well, distinct per file */
const text = (seed: string, n: number): string => Array.from({ length: n }, (_, k) => `${seed} line ${k} ${k % 7}\n`).join('');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-static-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  for (let k = 0; k < 6; k++) writeFileSync(join(dir, 'assets', `a${k}.js`), text(`a${k}`, 4000));
  // a pre-compressed sibling: its bytes are sent as they are (marked so the test can tell)
  writeFileSync(join(dir, 'assets', 'p.css'), text('p', 2000));
  writeFileSync(join(dir, 'assets', 'p.css.gz'), gzipSync(Buffer.from(`/* from the sibling */\n${text('p', 2000)}`)));
  files = new StaticFiles(dir, 400_000);
  server = createServer((req, res) => {
    void files.serve(req, res, new URL(req.url ?? '/', 'http://x').pathname, { 'x-extra': '1' }).then((ok) => {
      if (!ok) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET (no decompression): status, headers and the bytes sent. */
const get = (path: string, headers: Record<string, string> = {}): Promise<RawReply> => rawRequest(`${base}${path}`, headers);

describe('Accept-Encoding', () => {
  it('prefers brotli, then gzip, honours q=0 and *, and falls back to identity', () => {
    expect(negotiate(undefined)).toBe('identity');
    expect(negotiate('')).toBe('identity');
    expect(negotiate('gzip, deflate, br, zstd')).toBe('br');
    expect(negotiate('gzip')).toBe('gzip');
    expect(negotiate('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(negotiate('BR ; Q=0 , GZIP ; q=0')).toBe('identity');
    expect(negotiate('*')).toBe('br');
    expect(negotiate('*;q=0, identity')).toBe('identity');
    expect(negotiate('x-gzip')).toBe('gzip');
    expect(negotiate('identity')).toBe('identity');
    expect(negotiate('br;q=abc')).toBe('identity');
  });
});

describe('byte ranges', () => {
  it('reads one range, a suffix, an open end; null for several or garbage; unsatisfiable past the end', () => {
    expect(byteRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(byteRange('bytes=990-2000', 1000)).toEqual({ start: 990, end: 999 });
    expect(byteRange('bytes=-10', 1000)).toEqual({ start: 990, end: 999 });
    expect(byteRange('bytes=500-', 1000)).toEqual({ start: 500, end: 999 });
    expect(byteRange('bytes=0-1,5-6', 1000)).toBeNull();
    expect(byteRange('items=0-1', 1000)).toBeNull();
    expect(byteRange('bytes=9-3', 1000)).toBeNull();
    expect(byteRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(byteRange('bytes=-0', 1000)).toBe('unsatisfiable');
  });
});

describe('StaticFiles over HTTP', () => {
  it('compresses at run time when there is no sibling: same bytes as identity, smaller, own ETag', async () => {
    const id = await get('/assets/a0.js');
    const br = await get('/assets/a0.js', { 'accept-encoding': 'br' });
    const gz = await get('/assets/a0.js', { 'accept-encoding': 'gzip' });
    expect(id.headers['content-encoding']).toBeUndefined();
    expect(br.headers['content-encoding']).toBe('br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(brotliDecompressSync(br.body).equals(id.body)).toBe(true);
    expect(gunzipSync(gz.body).equals(id.body)).toBe(true);
    expect(br.body.length).toBeLessThan(id.body.length / 4);
    for (const r of [id, br, gz]) {
      expect(r.headers['content-length']).toBe(String(r.body.length));
      expect(r.headers.vary).toBe('Accept-Encoding');
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(r.headers['x-extra']).toBe('1');
    }
    expect(new Set([id, br, gz].map((r) => r.headers.etag)).size).toBe(3);
  });

  it('sends a fresh pre-compressed sibling as it is, and ignores a stale one', async () => {
    const gz = await get('/assets/p.css', { 'accept-encoding': 'gzip' });
    expect(gunzipSync(gz.body).toString()).toMatch(/^\/\* from the sibling \*\//);
    // the file rebuilt after its sibling: compressed here from the file itself
    const later = new Date(Date.now() + 60_000);
    writeFileSync(join(dir, 'assets', 'p.css'), text('q', 2000));
    utimesSync(join(dir, 'assets', 'p.css'), later, later);
    const fresh = await get('/assets/p.css', { 'accept-encoding': 'gzip' });
    expect(gunzipSync(fresh.body).toString()).toBe(text('q', 2000));
    expect(fresh.headers.etag).not.toBe(gz.headers.etag);
  });

  it('revalidates: 304 on a matching ETag, index.html no-cache, HEAD without a body, 404 outside the folder', async () => {
    const first = await get('/', { 'accept-encoding': 'br' });
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(first.headers['content-encoding']).toBeUndefined(); // too small to compress
    const again = await get('/index.html', { 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const other = await get('/index.html', { 'if-none-match': '"nope"' });
    expect(other.status).toBe(200);
    expect((await get('/../../etc/passwd')).status).toBe(404);
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await get('/%E0%A4%A')).status).toBe(404);
    expect((await get('/assets')).status).toBe(404);
  });

  it('holds at most its bound in memory, least recently used out first', async () => {
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 6; k++) {
        for (const enc of ['identity', 'gzip', 'br']) {
          const r = await get(`/assets/a${k}.js`, { 'accept-encoding': enc });
          expect(r.status).toBe(200);
          expect(files.cachedBytes()).toBeLessThanOrEqual(400_000);
        }
      }
    }
    // six files of ~90 kB each in identity alone exceed the 400 kB bound: some were let go
    expect(files.cachedBytes()).toBeGreaterThan(0);
  });
});
