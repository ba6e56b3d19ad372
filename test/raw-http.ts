/**
 * A raw HTTP request for tests: status, headers and the bytes as sent, with no decompression
 * (fetch would undo Content-Encoding and set Accept-Encoding itself).
 */
import { request, type IncomingHttpHeaders } from 'node:http';

/** What a raw request got. */
export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** `method` (default GET) of `url` with exactly `headers` (and Host). */
export function rawRequest(url: string | URL, headers: Record<string, string> = {}, method = 'GET'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
