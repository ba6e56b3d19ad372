/**
 * What a newcomer sees on the first `twinline serve` and the ones after: one banner block with
 * the ports actually taken (a default MQTT port held by another program — a system Mosquitto —
 * moves the embedded broker, and the banner says where), where the accounts and their
 * passwords are on every start, and how to get a new password once the file is gone
 * (`twinline accounts reset`). Real serve processes on one temporary home, restarted on it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as mqttConnect } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNTS } from '../../sim/host/accounts.ts';
import { runToEnd } from '../proc.ts';
import { readPasswords, START_MS, startServe, type ServeProc } from './serve-proc.ts';

const SCENARIO = 'test/fixtures/scenarios/minimal.yaml';
const home = mkdtempSync(join(tmpdir(), 'twinline-first-run-'));
let blocker: Server | null = null;
let s: ServeProc | null = null;

/** Holds 127.0.0.1:1883 as another program would; null when something else holds it already. */
function hold1883(): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(null) : reject(e)));
    srv.listen(1883, '127.0.0.1', () => resolve(srv));
  });
}

/** the banner: from "Twinline serving" to the line before the first that is not part of it */
function bannerLines(out: string): string[] {
  const lines = out.split('\n');
  return lines.slice(lines.findIndex((l) => l.startsWith('Twinline serving')));
}

async function login(p: ServeProc, user: string, password: string): Promise<number> {
  const r = await p.call('api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) }, null);
  return r.status;
}

beforeAll(async () => {
  blocker = await hold1883();
});

afterAll(async () => {
  await s?.stop('SIGINT');
  await new Promise((r) => (blocker === null ? r(null) : blocker.close(r)));
  rmSync(home, { recursive: true, force: true });
});

describe('first run of twinline serve', () => {
  it('prints the ports it took, the accounts and where their passwords are, in one block; a taken MQTT default moves and says where', async () => {
    s = await startServe([SCENARIO, '--http-port', '0', '--opcua-port', '0', '--mqtt-ws-port', '0', '--speed', '5'], { home });
    const lines = bannerLines(s.out());
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    // one block: endpoints, accounts, passwords, records, in this order and next to each other
    const order = [/^ {2}web app /, /^ {2}REST API /, /^ {2}OPC UA /, /^ {2}MQTT /, /^ {2}MQTT\/TLS /, /^ {4}UNS /, /^ {2}accounts /, /^ {2}passwords /, /^ {2}records /].map(at);
    expect(order.every((i) => i > 0)).toBe(true);
    expect(order).toEqual(order.map((_, k) => order[0]! + k));
    const initial = join(home, 'initial-passwords.txt');
    expect(lines[at(/^ {2}accounts /)]).toContain(join(home, 'accounts.json'));
    expect(lines[at(/^ {2}passwords /)]).toBe(`  passwords ${initial}   (created now for ${DEFAULT_ACCOUNTS.map((a) => a.user).join(', ')}; readable by you only; a new one: twinline accounts reset <user> --home ${home})`);
    // 1883 is held by another program: the embedded broker is elsewhere, and the banner says where and why
    const mqttLine = lines[at(/^ {2}MQTT /)]!;
    const port = Number(/mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(mqttLine)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(1883);
    expect(mqttLine).toContain(`(port 1883 was taken; using ${port})`);
    expect(lines).toContain(`  !!! port 1883 (MQTT) is used by another program (a system Mosquitto?): MQTT is on ${port} instead; point clients there, or free 1883, or choose a port with --mqtt-port`);
    // the moved broker is really there, and the printed password is the account's
    const c = mqttConnect(`mqtt://127.0.0.1:${port}`, { username: 'viewer', password: s.passwords.viewer!, reconnectPeriod: 0, connectTimeout: 20_000 });
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    await new Promise<void>((r) => c.end(true, {}, () => r()));
    expect(await login(s, 'operator', s.passwords.operator!)).toBe(200);
  }, START_MS + 60_000);

  it('on the next start still says where the passwords are', async () => {
    const first = readPasswords(home);
    expect(await s!.stop('SIGINT')).toBe(0);
    s = await startServe([SCENARIO, '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--speed', '5'], { home });
    const lines = bannerLines(s.out());
    expect(lines).toContain(`  passwords ${join(home, 'initial-passwords.txt')}   (as the accounts were created; a reset account is marked there; a new one: twinline accounts reset <user> --home ${home})`);
    expect(s.out()).not.toContain('created now');
    expect(s.passwords).toEqual(first);
    expect(await login(s, 'operator', first.operator!)).toBe(200);
  }, START_MS + 60_000);

  it('once the passwords file is gone, says how to get a new password, and the reset one logs in', async () => {
    expect(await s!.stop('SIGINT')).toBe(0);
    rmSync(join(home, 'initial-passwords.txt'));
    const reset = await runToEnd(process.execPath, ['bin/twinline.mjs', 'accounts', 'reset', 'operator', '--home', home]);
    expect(reset.code).toBe(0);
    const pw = /^new password for "operator": (\S+)$/m.exec(reset.stdout)?.[1];
    expect(pw).toBeDefined();
    s = await startServe([SCENARIO, '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--speed', '5'], { home });
    expect(bannerLines(s.out())).toContain(`  passwords not kept (${join(home, 'initial-passwords.txt')} was removed): twinline accounts reset <user> --home ${home} prints a new one`);
    expect(await login(s, 'operator', pw!)).toBe(200);
    expect(readFileSync(join(home, 'accounts.json'), 'utf8')).not.toContain(pw!);
  }, START_MS + 60_000);
});
