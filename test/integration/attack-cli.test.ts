/**
 * `twinline attack` as a process: the library listed, bad input answered with exit 2, and a
 * target outside the range refused before anything is sent. A preloaded tripwire records every
 * TCP connection the process attempts, so "nothing was sent" is observed, not assumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToEnd } from '../proc.ts';

let dir = '';
let tripwire = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-attack-cli-'));
  tripwire = join(dir, 'tripwire.cjs');
  // the range's home: an instructor account the observer would log in with
  writeFileSync(join(dir, 'initial-passwords.txt'), '# accounts\ninstructor\tinstructor\tnot-a-real-one\n');
  // every outgoing TCP connection (net, http, fetch, mqtt.js, node-opcua) goes through Socket#connect;
  // local pipes (the TypeScript loader's own: a path, no port) are not network traffic
  writeFileSync(tripwire, `const net = require('node:net');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let o = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof o !== 'object' || o === null) o = { port: args[0], host: args[1] };
  if (o.port !== undefined && o.port !== null) process.stderr.write('TRIPWIRE connect ' + (o.host ?? 'localhost') + ':' + o.port + '\\n');
  return connect.apply(this, args);
};
`);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Runs `twinline attack …` with the tripwire; exit code, output and wall time. */
async function twinline(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return runToEnd(process.execPath, ['bin/twinline.mjs', 'attack', ...args], {
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${tripwire}`.trim(), TWINLINE_HOME: dir },
  });
}

describe('twinline attack', () => {
  it('list: every attack with its ATT&CK for ICS techniques, face and title', async () => {
    const text = await twinline(['list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^attack\s+techniques\s+face\s+title/);
    expect(text.stdout).toMatch(/opcua-stop\s+T0855\s+opcua\s+OPC UA PackML Stop/);
    const json = await twinline(['list', '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { id: string; techniques: string[]; face: string; title: string }[];
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const r of rows) {
      expect(r.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(['opcua', 'mqtt', 'rest', 'modbus']).toContain(r.face);
      for (const t of r.techniques) expect(t).toMatch(/^T0\d{3}$/);
    }
    expect(new Set(rows.flatMap((r) => r.techniques)).size).toBeGreaterThanOrEqual(8);
    expect(text.stderr).not.toMatch(/TRIPWIRE/);
  });

  it('refuses a target outside the range with exit 2, before any connection', async () => {
    const r = await twinline(['run', 'opcua-stop', '--target', 'opc.tcp://10.1.2.3:4840']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target opc.tcp://10.1.2.3:4840 refused: 10.1.2.3 is neither loopback nor listed (no range file given)');
    expect(r.stderr).not.toMatch(/TRIPWIRE/);
    expect(r.stdout).toBe('');
    const m = await twinline(['run', 'modbus-stop', '--target', 'modbus://10.1.2.3:502']);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('target modbus://10.1.2.3:502 refused: 10.1.2.3 is neither loopback nor listed');
    expect(m.stderr).not.toMatch(/TRIPWIRE/);
  });

  it('checks every target before it sends anything: one bad target stops the run, the good ones are not touched', async () => {
    const r = await twinline(['run', 'rest-stop', '--target', 'http://127.0.0.1:9/', '--target', 'mqtt://10.0.0.5:1883']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target mqtt://10.0.0.5:1883 refused');
    expect(r.stderr).not.toMatch(/TRIPWIRE/);
  });

  it('with a range file, a host it does not list is refused, naming the file', async () => {
    const range = join(dir, 'range.yaml');
    writeFileSync(range, 'targets: [10.9.9.9]\n');
    // 10.1.2.3 is not listed: refused, naming the range file
    const r = await twinline(['run', 'opcua-stop', '--range', range, '--target', 'opc.tcp://10.1.2.3:4840']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`10.1.2.3 is neither loopback nor listed in ${range}`);
    expect(r.stderr).not.toMatch(/TRIPWIRE/);
  });

  it('sends only once the guard passed: a loopback target is connected to (the tripwire sees it), a dead one is a clear error', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const r = await twinline(['run', 'rest-stop', '--target', `http://localhost:${port}/`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reach the range's web address http://127.0.0.1:${port}/ (ECONNREFUSED)`);
    // the name was resolved and pinned: the connection went to the checked address
    expect(r.stderr).toContain(`TRIPWIRE connect 127.0.0.1:${port}`);
  });

  it('answers bad input with exit 2 and says what is wrong', async () => {
    const cases: [string[], string][] = [
      [['run', 'no-such-attack', '--target', 'opc.tcp://127.0.0.1:4840'], 'no attack "no-such-attack"'],
      [['run', 'opcua-stop'], 'opcua-stop needs a --target opc.tcp:// URL'],
      [['run', 'opcua-stop', '--target', 'http://127.0.0.1:9/'], 'opcua-stop goes through opcua: give exactly one --target opc.tcp:// URL'],
      [['run', 'opcua-stop', '--target', 'ftp://127.0.0.1/'], 'use opc.tcp://'],
      [['run', 'opcua-stop', '--target', 'opc.tcp://127.0.0.1:4840', '--user', 'u'], '--user and --password go together'],
      [['run', 'opcua-stop', '--target', 'opc.tcp://127.0.0.1:4840', '--watch', 'soon'], '--watch soon must be seconds'],
      [['launch'], 'unknown attack command "launch"'],
    ];
    for (const [args, message] of cases) {
      const r = await twinline(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
      expect(r.stderr, args.join(' ')).not.toMatch(/TRIPWIRE/);
    }
  });

  it('help names the targets it accepts', async () => {
    const r = await twinline(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Targets: only the range\'s own endpoints');
  });
});
