/**
 * The built web app's files as `twinline serve` sends them: compressed with brotli or gzip as
 * the client's Accept-Encoding allows (the build's pre-compressed `.br` / `.gz` siblings when
 * they are there and fresh, else compressed once here), `Vary: Accept-Encoding`, cached for a
 * year when hashed (`assets/`), revalidated otherwise (`no-cache`), an ETag per representation
 * with 304 on a match, HEAD, and one byte range of the uncompressed file. What is held in memory
 * (files read and compressed) is bounded in bytes, least recently used out first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zc, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Content type by file extension. */
export const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.wasm': 'application/wasm', '.map': 'application/json; charset=utf-8', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2', '.woff': 'font/woff',
};
/** extensions worth compressing (fonts, PNG and the favicon's PNG entries are compressed already) */
export const COMPRESSIBLE: ReadonlySet<string> = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map', '.txt', '.wasm']);
/** files smaller than this are sent as they are [bytes] */
export const MIN_COMPRESS = 1024;
/** what the memory cache holds at most [bytes]; a file larger than a quarter of it is not cached */
export const CACHE_BYTES = 48 * 1024 * 1024;
/** brotli quality when compressing at run time (the build uses 11; 5 is ~20× faster for ~13 % more bytes) */
const RUNTIME_BROTLI_QUALITY = 5;
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A representation's encoding. */
export type Encoding = 'br' | 'gzip' | 'identity';

/**
 * The encoding to send for an Accept-Encoding header: brotli, then gzip, when acceptable
 * (q > 0, named or by `*`), else identity.
 */
export function negotiate(header: string | undefined): Encoding {
  if (header === undefined || header === '') return 'identity';
  const q = new Map<string, number>();
  for (const part of header.slice(0, 1000).split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (name === '') continue;
    let weight = 1;
    for (const p of params) {
      // a malformed weight counts as q=0 (not acceptable)
      const m = /^\s*q\s*=\s*(.*?)\s*$/.exec(p);
      if (m !== null) weight = /^[0-9.]+$/.test(m[1] ?? '') ? Number(m[1]) : 0;
    }
    q.set(name.trim(), Number.isFinite(weight) ? weight : 0);
  }
  const star = q.get('*');
  const ok = (e: string): boolean => (q.get(e) ?? star ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip') || (q.get('x-gzip') ?? 0) > 0) return 'gzip';
  return 'identity';
}

interface Held {
  bytes: Buffer;
  /** the source file's mtime and size it was made from */
  mtimeMs: number;
  size: number;
}

/** Serves the files under one folder (the built app). */
export class StaticFiles {
  private readonly dir: string;
  private readonly held = new Map<string, Held>();
  private heldBytes = 0;
  private readonly pending = new Map<string, Promise<Buffer>>();

  constructor(dir: string, private readonly maxBytes = CACHE_BYTES) {
    this.dir = dir.endsWith(sep) ? dir : dir + sep;
  }

  /** bytes held in memory now (for tests and the bench) */
  cachedBytes(): number {
    return this.heldBytes;
  }

  /**
   * Answers a GET or HEAD of `pathname` with the file it names, with `headers` added to every
   * answer; false (nothing sent) when no file of the folder has that name.
   */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string, headers: Readonly<Record<string, string>>): Promise<boolean> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    } catch {
      return false; // a malformed escape names no file
    }
    const rel = normalize(decoded).replace(/^([/\\])+/, '');
    const file = join(this.dir, rel);
    if (!file.startsWith(this.dir) || rel.split(sep).includes('..')) return false;
    const st = await stat(file).catch(() => null);
    if (st === null || !st.isFile()) return false;
    const ext = extname(file);
    const compressible = COMPRESSIBLE.has(ext) && st.size >= MIN_COMPRESS;
    const range = req.headers.range;
    // a byte range is served from the uncompressed file (a representation every client can use)
    const enc: Encoding = compressible && range === undefined ? negotiate(req.headers['accept-encoding']) : 'identity';
    const tag = `${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}`;
    const etag = `"${tag}${enc === 'identity' ? '' : `-${enc}`}"`;
    const head: Record<string, string> = {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': rel.startsWith(`assets${sep}`) ? IMMUTABLE : 'no-cache',
      etag,
      'accept-ranges': 'bytes',
      'cross-origin-resource-policy': 'same-origin',
      ...headers,
    };
    if (COMPRESSIBLE.has(ext)) head.vary = 'Accept-Encoding';
    if (matches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, head);
      res.end();
      return true;
    }
    let body: Buffer;
    try {
      body = await this.bytes(file, enc, st.mtimeMs, st.size);
    } catch {
      return false; // removed or rebuilt between stat and read
    }
    if (enc !== 'identity') head['content-encoding'] = enc;
    let status = 200;
    if (range !== undefined && (req.headers['if-range'] === undefined || req.headers['if-range'] === etag)) {
      const r = byteRange(range, body.length);
      if (r === 'unsatisfiable') {
        res.writeHead(416, { ...head, 'content-range': `bytes */${body.length}`, 'content-length': '0' });
        res.end();
        return true;
      }
      if (r !== null) {
        status = 206;
        head['content-range'] = `bytes ${r.start}-${r.end}/${body.length}`;
        body = body.subarray(r.start, r.end + 1);
      }
    }
    head['content-length'] = String(body.length);
    res.writeHead(status, head);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  /** The file's bytes in `enc`: from memory, a fresh pre-compressed sibling, or compressed now (once). */
  private async bytes(file: string, enc: Encoding, mtimeMs: number, size: number): Promise<Buffer> {
    const key = `${enc}\u0000${file}`;
    const hit = this.held.get(key);
    if (hit !== undefined && hit.mtimeMs === mtimeMs && hit.size === size) {
      this.held.delete(key);
      this.held.set(key, hit); // most recently used last
      return hit.bytes;
    }
    const busy = this.pending.get(key);
    if (busy !== undefined) return busy;
    const made = this.make(file, enc, mtimeMs);
    this.pending.set(key, made);
    try {
      const bytes = await made;
      this.keep(key, { bytes, mtimeMs, size });
      return bytes;
    } finally {
      this.pending.delete(key);
    }
  }

  private async make(file: string, enc: Encoding, mtimeMs: number): Promise<Buffer> {
    if (enc === 'identity') return readFile(file);
    const sibling = `${file}.${enc === 'br' ? 'br' : 'gz'}`;
    const s = await stat(sibling).catch(() => null);
    if (s !== null && s.isFile() && s.mtimeMs >= mtimeMs) return readFile(sibling);
    const raw = await readFile(file);
    return enc === 'br'
      ? brotli(raw, { params: { [zc.BROTLI_PARAM_QUALITY]: RUNTIME_BROTLI_QUALITY, [zc.BROTLI_PARAM_SIZE_HINT]: raw.length } })
      : gz(raw, { level: 9 });
  }

  private keep(key: string, h: Held): void {
    const old = this.held.get(key);
    if (old !== undefined) {
      this.held.delete(key);
      this.heldBytes -= old.bytes.length;
    }
    if (h.bytes.length > this.maxBytes / 4) return;
    this.held.set(key, h);
    this.heldBytes += h.bytes.length;
    for (const [k, v] of this.held) {
      if (this.heldBytes <= this.maxBytes) break;
      this.held.delete(k);
      this.heldBytes -= v.bytes.length;
    }
  }
}

/** Whether an If-None-Match header names `etag` (weakly compared, or `*`). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.slice(0, 2000).split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag;
  });
}

/**
 * The one byte range a Range header asks of `length` bytes; null to send the whole file
 * (not a bytes range, or several ranges); 'unsatisfiable' for a range past the end.
 */
export function byteRange(header: string, length: number): { start: number; end: number } | null | 'unsatisfiable' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, length - n);
    end = length - 1;
  } else {
    start = Number(a);
    end = b === '' ? length - 1 : Math.min(Number(b), length - 1);
    if (b !== '' && Number(b) < start) return null;
  }
  if (start >= length || length === 0) return 'unsatisfiable';
  return { start, end };
}
