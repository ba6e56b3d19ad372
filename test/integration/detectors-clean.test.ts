/**
 * The detectors' false positives on a clean run, then one attack: the minimal line served
 * (profile hardened) for a few minutes of line time with an operator at work over the REST
 * API raises no alert; the library's REST password guessing is then detected, with its
 * time-to-detect printed by `twinline attack run`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToEnd, scaled } from '../proc.ts';
import { START_MS, startServe, type ServeProc } from './serve-proc.ts';
import { waitFor } from './opcua-host.ts';

let s: ServeProc;

beforeAll(async () => {
  s = await startServe(['test/fixtures/scenarios/minimal.yaml', '--http-port', '0', '--opcua-port', '0', '--no-mqtt', '--speed', '20']);
}, START_MS + 60_000);

afterAll(async () => {
  await s?.stop();
});

const simTime = async (): Promise<number> => Number((await s.call('api/state', {}, 'viewer')).body.simTime);

describe('detectors on a clean run', () => {
  it('a few minutes of the minimal line with an operator stopping, starting and trimming raises no alert', async () => {
    expect(s.out()).toMatch(/detectors .*default\.yaml/);
    expect((await s.command({ target: 'former', command: 'stop' })).status).toBe(200);
    expect((await s.command({ target: 'former', command: 'reset' })).status).toBe(200);
    expect((await s.command({ target: 'former', command: 'start' })).status).toBe(200);
    expect((await s.command({ target: 'belt', command: 'set', args: { field: 'speed', value: 0.45 } })).status).toBe(200);
    await waitFor('three minutes of line time', simTime, (t) => t >= 180, scaled(60_000));
    const { status, body } = await s.call('api/alerts', {}, 'viewer');
    expect(status).toBe(200);
    expect(body.detectors).toEqual(['allow-list', 'rate', 'physics', 'residual']);
    expect(body.alerts).toEqual([]);
    expect(body.raised).toBe(0);
    // hardened: the alerts need a credential like every other route
    expect((await s.call('api/alerts', {}, null)).status).toBe(401);
  }, scaled(120_000));

  it('rest-default-login against the hardened line: the refused logins are detected, and the CLI prints the time-to-detect', async () => {
    const r = await runToEnd(process.execPath, ['bin/twinline.mjs', 'attack', 'run', 'rest-default-login', '--target', s.base, '--home', s.home, '--watch', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^outcome: blocked$/m);
    const m = /^detected by rate\/login-failures after (\d+) ms \(high, T0812 T0859\)/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    console.log(m![0]);
    const alerts = (await s.call('api/alerts', {}, 'viewer')).body.alerts as { rule: string; evidence: { seqs: number[] } }[];
    expect(alerts.map((a) => a.rule)).toEqual(['login-failures']);
    expect(alerts[0]!.evidence.seqs).toHaveLength(3);
  }, scaled(120_000));

  it('a bad detector file stops serve before it starts, with exit 2 and the path of the bad value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinline-detectors-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'physics: { recipeBands: [{ kind: kiln, pairs: { sp1: recipe1 }, band: -5 }] }\n');
      const r = await runToEnd(process.execPath, ['bin/twinline.mjs', 'serve', 'test/fixtures/scenarios/minimal.yaml', '--detectors', join(dir, 'bad.yaml'), '--home', dir, '--http-port', '0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('detectors: physics.recipeBands[0].band: must be a number from 0 to 1000000');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, scaled(60_000));
});
