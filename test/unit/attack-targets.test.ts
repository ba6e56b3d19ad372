/**
 * The range's target guard: loopback and hosts listed in a range file pass (pinned to the
 * address that was checked); anything else is refused with the reason, names resolved first.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwinlineError } from '../../sim/core/errors.ts';
import { checkTarget, isLoopbackAddress, loadRange, type RangeFile, type Resolve } from '../../security/attacks/targets.ts';

const dir = mkdtempSync(join(tmpdir(), 'twinline-range-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A resolver from a table; a name not in it does not resolve. Counts its calls. */
function dns(table: Record<string, string[]>): Resolve & { calls: string[] } {
  const calls: string[] = [];
  const f = (async (host: string) => {
    calls.push(host);
    const a = table[host];
    if (a === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a;
  }) as Resolve & { calls: string[] };
  f.calls = calls;
  return f;
}

const range = (...targets: string[]): RangeFile => ({ file: 'range.yaml', targets });

async function refusal(p: Promise<unknown>): Promise<TwinlineError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(TwinlineError);
  return e as TwinlineError;
}

describe('target guard', () => {
  it('allows loopback: localhost, 127.x, [::1], IPv4-mapped 127.x', async () => {
    const localhost = await checkTarget('opc.tcp://localhost:4840', null);
    expect(isLoopbackAddress(localhost.address)).toBe(true);
    expect(localhost.face).toBe('opcua');
    expect(localhost.url.hostname).toBe(localhost.address.includes(':') ? `[${localhost.address}]` : localhost.address);
    expect((await checkTarget('mqtt://127.0.0.1:1883', null)).address).toBe('127.0.0.1');
    expect((await checkTarget('mqtt://127.8.9.10:1883', null)).url.href).toBe('mqtt://127.8.9.10:1883');
    expect((await checkTarget('opc.tcp://[::1]:4840', null)).url.href).toBe('opc.tcp://[::1]:4840');
    expect((await checkTarget('http://[::ffff:127.0.0.1]:8080/', null)).face).toBe('rest');
    expect((await checkTarget('ws://127.0.0.1:8083/mqtt', null)).face).toBe('mqtt');
    const modbus = await checkTarget('modbus://127.0.0.1:5020', null);
    expect(modbus).toMatchObject({ face: 'modbus', address: '127.0.0.1' });
    expect(modbus.url.href).toBe('modbus://127.0.0.1:5020');
    expect((await checkTarget('modbus://[::1]:502', null)).url.href).toBe('modbus://[::1]:502');
  });

  it('refuses 10.0.0.5 and other addresses outside loopback, without resolving anything', async () => {
    const resolve = dns({});
    for (const t of ['opc.tcp://10.0.0.5:4840', 'mqtt://192.168.1.20', 'http://0.0.0.0:8080/', 'opc.tcp://[fe80::1]:4840', 'http://[::ffff:10.0.0.5]/', 'opc.tcp://8.8.8.8:4840', 'modbus://10.0.0.5:502', 'modbus://[fd00::9]']) {
      const e = await refusal(checkTarget(t, null, resolve));
      expect(e.code, t).toBe('NOT_ALLOWED');
      expect(e.message, t).toMatch(/is neither loopback nor listed \(no range file given\); the range attacks only its own endpoints/);
    }
    expect(resolve.calls).toEqual([]);
  });

  it('resolves names first: a name that points outside is refused, naming the address', async () => {
    const resolve = dns({ 'plc.example': ['10.0.0.7'], 'mixed.example': ['127.0.0.1', '10.0.0.8'], 'local.example': ['127.0.0.1'] });
    const e = await refusal(checkTarget('opc.tcp://plc.example:4840', null, resolve));
    expect(e.message).toContain('plc.example resolves to 10.0.0.7, which is neither loopback nor listed');
    // every address of the name must be allowed, not just one
    expect((await refusal(checkTarget('mqtt://mixed.example', null, resolve))).message).toContain('10.0.0.8');
    expect((await refusal(checkTarget('mqtt://nowhere.example', null, resolve))).message).toContain('nowhere.example does not resolve (ENOTFOUND)');
    // a name resolving to loopback is allowed, and pinned to the address checked
    expect((await checkTarget('http://local.example:8080/api', null, resolve)).url.href).toBe('http://127.0.0.1:8080/api');
    expect((await checkTarget('modbus://local.example:5020', null, resolve)).url.href).toBe('modbus://127.0.0.1:5020');
    expect((await refusal(checkTarget('modbus://plc.example:502', null, resolve))).message).toContain('plc.example resolves to 10.0.0.7');
  });

  it('allows a host listed in the range file (by address or by name), and nothing else', async () => {
    const resolve = dns({ 'cell7.plant': ['10.20.0.7'], 'plc.example': ['10.0.0.7'] });
    expect((await checkTarget('opc.tcp://10.0.0.5:4840', range('10.0.0.5'), resolve)).url.href).toBe('opc.tcp://10.0.0.5:4840');
    expect((await checkTarget('mqtt://cell7.plant:1883', range('cell7.plant'), resolve)).url.href).toBe('mqtt://10.20.0.7:1883');
    expect((await checkTarget('modbus://cell7.plant:502', range('cell7.plant'), resolve)).url.href).toBe('modbus://10.20.0.7:502');
    expect((await checkTarget('http://10.20.0.7/', range('cell7.plant'), resolve)).address).toBe('10.20.0.7');
    expect((await checkTarget('opc.tcp://[fd00::5]:4840', range('[fd00::5]'), resolve)).url.href).toBe('opc.tcp://[fd00::5]:4840');
    const e = await refusal(checkTarget('opc.tcp://plc.example:4840', range('10.0.0.5', 'cell7.plant'), resolve));
    expect(e.message).toContain('plc.example resolves to 10.0.0.7, which is neither loopback nor listed in range.yaml');
    expect((await refusal(checkTarget('opc.tcp://10.0.0.6:4840', range('10.0.0.5'), resolve))).message).toContain('10.0.0.6 is neither loopback nor listed in range.yaml');
  });

  it('reads a range file and rejects a malformed one', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'targets:\n  - 10.0.0.5\n  - Cell7.Plant\n  - "[fd00::5]"\n');
    expect(loadRange(good).targets).toEqual(['10.0.0.5', 'cell7.plant', 'fd00::5']);
    for (const [name, text] of [['none.yaml', 'hosts: [10.0.0.5]\n'], ['url.yaml', 'targets: ["opc.tcp://10.0.0.5:4840"]\n'], ['num.yaml', 'targets: [5]\n'], ['bad.yaml', 'targets: [\n']] as const) {
      const f = join(dir, name);
      writeFileSync(f, text);
      expect(() => loadRange(f), name).toThrow(TwinlineError);
    }
    expect(() => loadRange(join(dir, 'missing.yaml'))).toThrow(/cannot read the range file/);
  });

  it('answers a malformed target as bad usage', async () => {
    for (const [t, msg] of [['not a url', 'is not a URL'], ['ftp://127.0.0.1/', 'use opc.tcp://'], ['mqtt://user:pw@127.0.0.1', 'credentials with --user']] as const) {
      const e = await refusal(checkTarget(t, null));
      expect(e.code, t).toBe('USAGE');
      expect(e.message, t).toContain(msg);
    }
  });
});
