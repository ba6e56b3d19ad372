/**
 * `twinline security matrix` as a process: one run of the whole library under `open` and
 * `hardened` (each a real `twinline serve` the matrix starts and reaps, at speed 10, with the
 * default detectors) shared by the assertions on its rows, the detection of every attack among
 * them; beside it, while that runs, a profile file promising more than its
 * open base keeps (exit 3, the attack named) and a matrix interrupted by SIGINT (its twin
 * reaped). Bad input is answered with exit 2 before any twin starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACKS } from '../../security/attacks/index.ts';
import { T } from '../../security/attacks/techniques.ts';
import type { MatrixRow } from '../../security/matrix/matrix.ts';
import { KILN } from './attack-harness.ts';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `twinline security <args…>`; `onErr` sees stderr as it grows (and may signal the process). */
function twinline(args: readonly string[], onErr?: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Run> {
  const t0 = Date.now();
  const p = spawn(process.execPath, ['bin/twinline.mjs', 'security', ...args]);
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onErr?.(stderr, (s) => p.kill(s));
  });
  running.add(p);
  return new Promise((resolve) => p.on('close', (code, signal) => {
    running.delete(p);
    resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
  }));
}

const running = new Set<ReturnType<typeof spawn>>();
/** web addresses of twins the matrix processes started (from their progress lines) */
const webOf = (stderr: string): string[] => [...stderr.matchAll(/ up in [\d.]+ s at (http:\/\/\S+\/)/g)].map((m) => m[1]!);
/** whether anything still answers at `url` */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(new URL('api/state', url), { signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * The rule expected to fire on each attack, per profile: under open most attacks get through
 * and leave their own footprint; under hardened they are refused at the door (an untrusted
 * OPC UA certificate, an anonymous CONNECT, a login), and the refusal is what is detected.
 * Nothing is expected of two: mqtt-sniff under hardened relays TLS the twin cannot see, and
 * rest-default-login under open is one anonymous read of the API, which is what the twin's own
 * page does under that profile (the rule for anonymous access leaves the REST plane out).
 */
const EXPECTED: Record<'open' | 'hardened', Record<string, string | null>> = {
  open: {
    'opcua-discovery': 'insecure-session', 'opcua-browse': 'browse-sweep', 'mqtt-wildcard': 'subscribe-everything',
    'opcua-default-login': 'insecure-session', 'mqtt-default-login': 'anonymous-access', 'rest-default-login': null,
    'opcua-stop': 'stop-source', 'mqtt-stop': 'unauthorized-command-publish', 'rest-stop': 'anonymous-command', 'opcua-manual-mode': 'mode-change',
    'kiln-setpoint-drift': 'recipe-band', 'kiln-trip-raise': 'safety-limit-write', 'mqtt-spoof': 'twin-topic-publish',
    'opcua-session-flood': 'session-flood', 'mqtt-subscribe-flood': 'subscription-flood', 'opcua-downgrade': 'downgrade-attempt',
    'opcua-mitm': 'insecure-session', 'opcua-alarm-suppression': 'alarm-ack-source', 'opcua-recipe': 'recipe-band',
    'mqtt-sniff': 'cleartext-login', 'mqtt-client-takeover': 'client-id-takeover', 'mqtt-forged-death': 'forged-death',
    'mqtt-qos-exhaustion': 'publish-refused', 'mqtt-oversized': 'oversized-payload',
    'modbus-discovery': 'modbus-unit-scan', 'modbus-read': 'modbus-read', 'modbus-stop': 'modbus-write', 'modbus-setpoint': 'modbus-write',
  },
  hardened: {
    ...Object.fromEntries(ATTACKS.map((a) => [a.id, a.face === 'opcua' ? 'untrusted-certificate' : a.face === 'mqtt' ? 'anonymous-refused' : null])),
    'opcua-downgrade': 'downgrade-attempt', 'rest-default-login': 'login-failures', 'rest-stop': 'anonymous-refused', 'mqtt-sniff': null,
    'modbus-discovery': 'modbus-unit-scan', 'modbus-read': 'modbus-read', 'modbus-stop': 'modbus-write-refused', 'modbus-setpoint': 'modbus-write-refused',
  },
};

let dir = '';
let full: Run;
let rows: MatrixRow[] = [];
let broken: Run;
let interrupted: Run;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinline-matrix-test-'));
  const promiseTooMuch = join(dir, 'promise-too-much.yaml');
  let sent = false;
  writeFileSync(promiseTooMuch, 'base: open\ndescription: open, but claiming REST commands are refused\nblocks: [rest-stop]\n');
  [full, broken, interrupted] = await Promise.all([
    twinline(['matrix', '--json', '--profiles', 'open,hardened', '--scenario', KILN, '--watch', '2', '--ready', '1200', '--out', join(dir, 'out')]),
    twinline(['matrix', '--json', '--profiles', promiseTooMuch, '--attacks', 'rest-stop', '--scenario', KILN, '--watch', '1', '--ready', '1200']),
    // interrupted once its twin is up: Ctrl-C must leave no twin behind
    twinline(['matrix', '--profiles', 'hardened', '--scenario', KILN, '--ready', '1200'], (text, kill) => {
      if (!sent && webOf(text).length > 0) {
        sent = true;
        kill('SIGINT');
      }
    }),
  ]);
  console.log(`matrix run: exit ${full.code} in ${(full.ms / 1000).toFixed(0)} s\n${full.stderr.slice(-6000)}`);
  rows = (JSON.parse(full.stdout) as { rows: MatrixRow[] }).rows;
}, 2_400_000);

afterAll(() => {
  for (const p of running) p.kill('SIGKILL');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('twinline security matrix: the whole library under open and hardened', () => {
  it('exits 0 (every promise held), one row per attack and profile, with the technique ids of the table', () => {
    expect(full.code).toBe(0);
    expect(rows).toHaveLength(2 * ATTACKS.length);
    const ids = new Set<string>(Object.values(T).map((t) => t.id));
    for (const a of ATTACKS) {
      for (const profile of ['open', 'hardened']) {
        const of = rows.filter((r) => r.attack === a.id && r.profile === profile);
        expect(of, `${a.id} under ${profile}`).toHaveLength(1);
        expect(of[0]!.techniques).toEqual(a.techniques.map((t) => t.id));
        for (const t of of[0]!.techniques) expect(ids.has(t)).toBe(true);
        expect(of[0]!.durationMs).toBeGreaterThan(0);
      }
    }
    expect(rows.filter((r) => r.outcome === 'error' || r.outcome === 'skipped')).toEqual([]);
  });

  it('under open most attacks get through, with an impact measured on the line', () => {
    const open = rows.filter((r) => r.profile === 'open');
    const through = open.filter((r) => r.outcome === 'succeeded');
    expect(through.length).toBeGreaterThan(open.length / 2);
    for (const r of through) expect(Object.keys(r.impact).length, r.attack).toBeGreaterThan(0);
    // the physical effects: stations stopped for line seconds, setpoints moved
    for (const id of ['opcua-stop', 'rest-stop']) {
      const r = open.find((x) => x.attack === id)!;
      expect(r.outcome).toBe('succeeded');
      expect(r.impact.downtimeS as number).toBeGreaterThan(0);
    }
    expect(Object.keys(open.find((x) => x.attack === 'kiln-setpoint-drift')!.impact.setpoints as object).length).toBeGreaterThan(0);
    // what open promises (what every profile refuses) is blocked, and audited
    for (const r of open.filter((x) => x.promised)) {
      expect(r.outcome, r.attack).toBe('blocked');
      expect(r.audit.length, r.attack).toBeGreaterThan(0);
    }
    // the line was put back after each attack without the matrix stepping in
    expect(open.filter((r) => r.lineAfter !== 'running').map((r) => `${r.attack}: ${r.lineAfter}`)).toEqual([]);
  });

  it('under hardened every attack it promises to block is blocked, with the twin\'s audit entry as evidence', () => {
    const hard = rows.filter((r) => r.profile === 'hardened');
    // all but reading Modbus, which cannot authenticate anyone: hardened serves it read-only
    const unpromised = hard.filter((r) => !r.promised);
    expect(unpromised.map((r) => r.attack).sort()).toEqual(['modbus-discovery', 'modbus-read']);
    expect(unpromised.every((r) => r.outcome === 'succeeded')).toBe(true);
    for (const r of hard.filter((x) => x.promised)) {
      expect(r.outcome, r.attack).toBe('blocked');
      // a passive relay is refused nothing: what blocks it is TLS, and its evidence says so
      if (r.attack === 'mqtt-sniff') {
        expect(r.evidence.join('\n')).toMatch(/the twin offers MQTT over TLS/);
        continue;
      }
      expect(r.audit.length, `${r.attack}: ${r.evidence.join('\n')}`).toBeGreaterThan(0);
      expect(r.audit.join('\n')).toMatch(/audit: \S+ \S+ (denied|failed) |command rejected: /);
    }
  });

  it('the twin\'s default detectors fire on every attack, by the rule meant for it, with a positive time-to-detect', () => {
    const table = rows.map((r) => `${r.profile.padEnd(9)} ${r.attack.padEnd(24)} ${r.outcome.padEnd(9)} ${String(r.ttdMs ?? '–').padStart(6)} ms  ${(r.detections ?? []).map((d) => `${d.detector}/${d.rule}@${d.ttdMs}`).join(' ')}`);
    console.log(`detections (profile, attack, outcome, first time-to-detect, every alert of the run):\n${table.join('\n')}`);
    for (const a of ATTACKS) {
      for (const profile of ['open', 'hardened'] as const) {
        const r = rows.find((x) => x.attack === a.id && x.profile === profile)!;
        const want = EXPECTED[profile][a.id] ?? null;
        if (want === null) continue; // see EXPECTED
        expect(r.detected, `${a.id} under ${profile}`).toBe(true);
        expect(r.ttdMs, `${a.id} under ${profile}`).toBeGreaterThan(0);
        const d = (r.detections ?? []).find((x) => x.rule === want);
        expect(d, `${a.id} under ${profile}: ${want} among ${(r.detections ?? []).map((x) => x.rule).join(', ')}`).toBeDefined();
        expect(d!.ttdMs).toBeGreaterThan(0);
        expect(d!.techniques.length).toBeGreaterThan(0);
        for (const t of d!.techniques) expect(Object.values(T).some((x) => x.id === t), t).toBe(true);
      }
    }
    // the text table carries the columns too
    expect(existsSync(join(dir, 'out', 'matrix.txt'))).toBe(true);
    const text = readFileSync(join(dir, 'out', 'matrix.txt'), 'utf8');
    expect(text).toMatch(/ took {2}detected +ttdMs {2}evidence/);
    const openDetected = rows.filter((r) => r.profile === 'open' && r.detected).length;
    expect(openDetected).toBeGreaterThanOrEqual(Object.values(EXPECTED.open).filter((w) => w !== null).length);
    const missed = rows.filter((r) => r.profile === 'open' && !r.detected).map((r) => r.attack);
    const tail = missed.length === 0 ? '' : `; no alert: ${missed.join(', ')}`;
    expect(text).toMatch(new RegExp(`^open: detected ${openDetected} of ${ATTACKS.length}, median time-to-detect \\d+ ms${tail}$`, 'm'));
  });

  it('--out holds the JSON, the table and each profile\'s run records', () => {
    expect(existsSync(join(dir, 'out', 'matrix.json'))).toBe(true);
    expect(existsSync(join(dir, 'out', 'matrix.txt'))).toBe(true);
    for (const p of ['open', 'hardened']) {
      const runs = readdirSync(join(dir, 'out', p, 'runs'));
      expect(runs.length).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'out', p, 'runs', runs[0]!, 'audit.ndjson'))).toBe(true);
    }
  });

  it('leaves no twin running', async () => {
    const webs = webOf(full.stderr);
    expect(webs).toHaveLength(2);
    for (const w of webs) expect(await answers(w)).toBe(false);
  });
});

describe('twinline security matrix: promises, interruption and bad input', () => {
  it('exits 3 naming the attack when a profile file promises to block what its open base lets through', () => {
    expect(broken.code, broken.stderr).toBe(3);
    expect(broken.stderr).toMatch(/PROMISE BROKEN: profile promise-too-much promises to block rest-stop \(T0855\), and it succeeded/);
    const out = JSON.parse(broken.stdout) as { rows: MatrixRow[]; broken: { attack: string; profile: string }[] };
    expect(out.rows).toMatchObject([{ attack: 'rest-stop', profile: 'promise-too-much', outcome: 'succeeded', promised: true }]);
    expect(out.broken).toEqual([{ attack: 'rest-stop', profile: 'promise-too-much' }]);
  });

  it('Ctrl-C stops the matrix and its twin', async () => {
    expect(interrupted.code, interrupted.stderr).toBe(130);
    const webs = webOf(interrupted.stderr);
    expect(webs).toHaveLength(1);
    expect(await answers(webs[0]!)).toBe(false);
  });

  it('an unknown profile is bad input: exit 2, named', async () => {
    const r = await twinline(['matrix', '--profiles', 'open,paranoid']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown profile "paranoid"');
    expect(r.stdout).toBe('');
  });

  it('a bad profile file is bad input: exit 2, every problem named with the file and key', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'base: medium\nflags:\n  no-such-flag: 1\n  http-port: 8080\n  no-mqtt: yes please\nblocks: [opcua-stop, no-such-attack]\n');
    const r = await twinline(['matrix', '--profiles', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} base: "medium" is not a base profile: open or hardened`);
    expect(r.stderr).toContain(`${file} flags.no-such-flag: twinline serve has no flag --no-such-flag`);
    expect(r.stderr).toContain(`${file} flags.http-port: --http-port is set by the matrix`);
    expect(r.stderr).toContain(`${file} flags.no-mqtt: --no-mqtt is a switch: true or false`);
    expect(r.stderr).toContain(`${file} blocks[1]: no attack "no-such-attack"`);
    const syntax = join(dir, 'syntax.json');
    writeFileSync(syntax, '{"base": "open",');
    const s = await twinline(['matrix', '--profiles', syntax]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`${syntax}: not valid JSON`);
    const missing = await twinline(['matrix', '--profiles', join(dir, 'nowhere.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(dir, 'nowhere.yaml')}: cannot read the profile file (ENOENT)`);
    const attack = await twinline(['matrix', '--attacks', 'opcua-stop,teleport']);
    expect(attack.code).toBe(2);
    expect(attack.stderr).toContain('no attack "teleport"');
  });
});
