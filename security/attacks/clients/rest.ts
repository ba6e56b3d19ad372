/**
 * HTTP to the twin's REST API: the attacker's client (anonymous, or HTTP Basic with an account
 * it holds or guesses) and the range observer's. Every request goes on a connection of its
 * own: a kept-alive connection that the server closes while idle would fail the next request
 * sent on it, and an attack pauses for seconds between requests.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Credentials } from '../types.ts';

/** An answer: status and JSON body (or `{ text }`). */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** What a request carries. */
export interface Ask {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** how long one request may take [ms] */
const REQUEST_MS = 15_000;
/** answer bytes read at most */
const MAX_BODY = 8 * 1024 * 1024;

function parse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return { text: text.slice(0, 300) };
  }
}

/** Sends `ask` to `path` under `base`, with `creds` as HTTP Basic when given. */
export function restCall(base: URL, path: string, ask: Ask = {}, creds: Credentials | null = null): Promise<Answer> {
  const url = new URL(path, base);
  const headers: Record<string, string> = { accept: 'application/json', ...ask.headers };
  if (creds !== null) headers.authorization = `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
  if (ask.body !== undefined) headers['content-length'] = String(Buffer.byteLength(ask.body));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve, reject) => {
    const req = send(url, { method: ask.method ?? 'GET', headers, agent: false, timeout: REQUEST_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parse(Buffer.concat(chunks).toString('utf8')) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${REQUEST_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(ask.body);
  });
}

/** POSTs a JSON command to `/api/commands`. */
export function restCommand(base: URL, cmd: Record<string, unknown>, creds: Credentials | null = null): Promise<Answer> {
  return restCall(base, 'api/commands', { method: 'POST', body: JSON.stringify(cmd), headers: { 'content-type': 'application/json' } }, creds);
}

/** The error message of a refusal, or the status. */
export function why(a: Answer): string {
  const e = a.body.error as { code?: string; message?: string } | undefined;
  return e === undefined ? `HTTP ${a.status}` : `HTTP ${a.status} ${e.code ?? ''}: ${e.message ?? ''}`;
}
