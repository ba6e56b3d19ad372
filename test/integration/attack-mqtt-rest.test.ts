/**
 * The MQTT attacks of the range (in-process) and the REST attacks (through the `twinline
 * attack run` command, as a security team runs them) against real `twinline serve` processes
 * of the kiln cell. Under `open`, what the profile lets through gets through with its impact
 * on the line; what the embedded broker refuses in every profile (commands from anonymous
 * clients, the twin's own topics, oversized SUBSCRIBEs) is blocked and audited there too.
 * Under `hardened` every attack is blocked and the refusal is in the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToEnd } from '../proc.ts';
import type { AttackReport } from '../../security/attacks/run.ts';
import { attack, producing, refusals, startRange, type Range } from './attack-harness.ts';
import { START_MS } from './serve-proc.ts';

let open: Range;
let hard: Range;

beforeAll(async () => {
  [open, hard] = await Promise.all([startRange('open', ['--speed', '10']), startRange('hardened', ['--speed', '10'])]);
}, START_MS + 60_000);

afterAll(async () => {
  await Promise.all([open?.stop(), hard?.stop()]);
});

/**
 * The broker audits a refused anonymous CONNECT once per 5 s per peer address (a flood must
 * not flood the trail); hardened runs that are refused at CONNECT wait that long apart, so
 * each refusal has an entry of its own.
 */
let lastRefusedConnect = 0;
async function spaced<T>(run: () => Promise<T>): Promise<T> {
  const wait = lastRefusedConnect + 5500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  try {
    return await run();
  } finally {
    // counted from the end: the refused CONNECT lies somewhere inside the run
    lastRefusedConnect = Date.now();
  }
}

/** `twinline attack run <id> --json` against the range's web address; exit code and report. */
async function cli(r: Range, id: string): Promise<{ code: number | null; report: AttackReport; stderr: string }> {
  const { code, stdout: out, stderr: err } = await runToEnd(process.execPath, ['bin/twinline.mjs', 'attack', 'run', id, '--target', r.base, '--home', r.home, '--watch', '2', '--json']);
  let report: AttackReport;
  try {
    report = JSON.parse(out) as AttackReport;
  } catch {
    throw new Error(`no JSON report (exit ${code}):\n${out}\n${err}`);
  }
  console.log(`${r.profile} ${id} (CLI): ${report.outcome} ${JSON.stringify(report.impact)}\n  ${report.evidence.join('\n  ')}`);
  return { code, report, stderr: err };
}

describe('MQTT attacks, open profile', () => {
  it('mqtt-wildcard: the whole unified namespace, in clear text', async () => {
    const r = await attack(open, 'mqtt-wildcard', 'mqtt');
    expect(r.outcome).toBe('succeeded');
    expect(r.impact).toMatchObject({ prefix: 'twinline/test/firing/kiln-cell', stations: 4 });
    expect(r.impact.tags).toBeGreaterThan(20);
    expect(r.evidence.join('\n')).toMatch(/kiln-cell\/kiln\/\S+ = \{"v":/);
  });

  it('mqtt-default-login: an anonymous connection is accepted', async () => {
    const r = await attack(open, 'mqtt-default-login', 'mqtt');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { connected: 'anonymous' } });
  });

  it('mqtt-stop: anonymous clients may not command, even here; the refusal is audited', async () => {
    const r = await attack(open, 'mqtt-stop', 'mqtt');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { publish: 'the broker closed the connection', stateAfter: r.impact.stateBefore } });
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt publish denied for anonymous\/\S+ on twinline\/test\/firing\/kiln-cell\/kiln\/cmd\/stop: commands are not allowed for anonymous clients/);
  });

  it('mqtt-stop with a stolen operator account: the kiln stops, and the cleanup starts it again', async () => {
    const r = await attack(open, 'mqtt-stop', 'mqtt', { credentials: { user: 'operator', password: open.passwords.operator! } });
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { publish: 'acked', stateAfter: 'Stopped' } });
    expect(r.evidence.join('\n')).toMatch(/command accepted: mqtt stop on kiln by operator\/\S+ \(operator\)/);
    expect(r.evidence.join('\n')).toMatch(/reply \{"ok":true/);
    await producing(open);
  });

  it('mqtt-spoof: only the twin publishes its own topics, even to an operator', async () => {
    for (const credentials of [undefined, { user: 'operator', password: open.passwords.operator! }]) {
      const r = await attack(open, 'mqtt-spoof', 'mqtt', credentials === undefined ? {} : { credentials });
      expect(r).toMatchObject({ outcome: 'blocked', impact: { publish: 'the broker closed the connection', newSubscriberSees: null } });
      expect(refusals(r).join('\n')).toMatch(/audit: mqtt publish denied .* on twinline\/test\/firing\/kiln-cell\/kiln\/\S+: only the twin publishes its own UNS/);
    }
  });

  it('mqtt-subscribe-flood: the broker drops a 10,000-filter SUBSCRIBE before reading it', async () => {
    const r = await attack(open, 'mqtt-subscribe-flood', 'mqtt');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { granted: 0, connectionClosed: true } });
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt packet denied .*SUBSCRIBE with 10000 topic filters/);
  });
});

describe('REST attacks through twinline attack run, open profile', () => {
  it('rest-default-login: no credentials needed, an operator\'s role', async () => {
    const { code, report } = await cli(open, 'rest-default-login');
    expect(code).toBe(0);
    expect(report).toMatchObject({ attack: 'rest-default-login', techniques: ['T0812', 'T0859'], face: 'rest', profile: 'open', outcome: 'succeeded', impact: { identity: 'anonymous', role: 'operator' } });
  });

  it('rest-stop: the kiln stops, and the cleanup starts it again', async () => {
    const { code, report } = await cli(open, 'rest-stop');
    expect(code).toBe(0);
    expect(report).toMatchObject({ outcome: 'succeeded', impact: { status: 200, stateAfter: 'Stopped' } });
    expect(report.evidence.join('\n')).toMatch(/command accepted: api stop on kiln by anonymous@127\.0\.0\.1 \(operator\)/);
    expect(report.cleanup.join('\n')).toMatch(/line started/);
    await producing(open);
  });
});

describe('hardened profile: every attack blocked, the refusal in the audit trail', () => {
  it('mqtt-wildcard', async () => {
    const r = await spaced(() => attack(hard, 'mqtt-wildcard', 'mqtt'));
    expect(r).toMatchObject({ outcome: 'blocked', impact: { topics: 0 } });
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt connect denied for anonymous\/\S+: anonymous connections are refused/);
  });

  it('mqtt-default-login', async () => {
    const r = await spaced(() => attack(hard, 'mqtt-default-login', 'mqtt'));
    expect(r).toMatchObject({ outcome: 'blocked', impact: { connected: null } });
    const audit = refusals(r).join('\n');
    for (const user of ['admin', 'guest', 'operator']) expect(audit).toMatch(new RegExp(`audit: mqtt connect denied for ${user}/\\S+: bad user name or password`));
  });

  for (const id of ['mqtt-stop', 'mqtt-spoof', 'mqtt-subscribe-flood']) {
    it(id, async () => {
      const r = await spaced(() => attack(hard, id, 'mqtt'));
      expect(r.outcome).toBe('blocked');
      expect(r.evidence.join('\n')).toMatch(/CONNECT as anonymous .* refused: .*\(CONNACK 5\)/);
      expect(refusals(r).join('\n')).toMatch(/audit: mqtt connect denied for anonymous\//);
    });
  }

  it('rest-default-login (CLI)', async () => {
    const { code, report } = await cli(hard, 'rest-default-login');
    expect(code).toBe(0);
    expect(report).toMatchObject({ profile: 'hardened', outcome: 'blocked', impact: { identity: null } });
    expect(refusals(report).join('\n')).toMatch(/audit: api login denied for admin@127\.0\.0\.1 on \/api\/whoami: bad user name or password/);
  });

  it('rest-stop (CLI)', async () => {
    const { code, report } = await cli(hard, 'rest-stop');
    expect(code).toBe(0);
    expect(report).toMatchObject({ outcome: 'blocked', impact: { status: 401, stateAfter: report.impact.stateBefore } });
    expect(refusals(report).join('\n')).toMatch(/audit: api command denied for \?@127\.0\.0\.1 on \/api\/commands/);
  });

  it('the line never stopped', async () => {
    const evs = await hard.events();
    expect(evs.filter((e) => e.type === 'command' && e.data.source !== 'scenario')).toEqual([]);
    await producing(hard, 'kiln', 1000);
  });
});
