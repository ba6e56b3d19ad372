/**
 * The security range launched through the REST API of a real `twinline serve` (the kiln cell
 * under the open profile, every face on a free port): instructor only (other roles refused
 * and audited), one run at a time, the attack run in the host process against the host's own
 * faces with its report, its start and result in the event log, and its traffic marked in
 * `GET /api/network` while it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttackReport } from '../../security/attacks/run.ts';
import type { NetworkReport } from '../../sim/host/network.ts';
import type { RangeRun } from '../../sim/host/range.ts';
import { producing, startRange, type Range } from './attack-harness.ts';
import { waitFor } from './opcua-host.ts';

let r: Range;

beforeAll(async () => {
  r = await startRange('open', ['--speed', '10']);
}, 180_000);

afterAll(async () => {
  await r?.stop();
});

const post = (path: string, body: unknown, user: string | null): Promise<{ status: number; body: Record<string, unknown> }> =>
  r.call(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }, user);
const message = (b: Record<string, unknown>): string => String((b.error as { message?: unknown } | undefined)?.message ?? '');

describe('the security range over REST', () => {
  it('refuses every other role (403), and audits the refusal', async () => {
    for (const user of ['viewer', 'operator', null]) {
      const list = await r.call('api/attacks', {}, user);
      expect([list.status, message(list.body)], String(user)).toEqual([403, `the range's attacks are for the instructor role (${user ?? 'anonymous'} is ${user ?? 'operator'})`]);
      const run = await post('api/attacks/run', { id: 'rest-stop' }, user);
      expect(run.status, String(user)).toBe(403);
      expect((await r.call('api/attacks/runs', {}, user)).status).toBe(403);
    }
    await waitFor('the refusals in the audit trail', async () => {
      const denied = (await r.events('instructor')).filter((e) => e.type === 'audit' && e.data.action === 'attack' && e.data.outcome === 'denied');
      return ['viewer@', 'operator@', 'anonymous@'].every((p) => denied.some((e) => String(e.data.principal).startsWith(p) && /for the instructor role/.test(String(e.data.reason))));
    }, (ok) => ok, 15_000);
    // nothing ran
    expect(((await r.call('api/attacks/runs', {}, 'instructor')).body.runs as unknown[]).length).toBe(0);
  }, 60_000);

  it('lists the library for the instructor; bad requests get a clear error', async () => {
    const list = await r.call('api/attacks', {}, 'instructor');
    expect(list.status).toBe(200);
    const attacks = list.body.attacks as { id: string; title: string; techniques: { id: string; name: string }[]; face: string; preconditions: string[]; steps: string[]; expectedImpact: string }[];
    expect(attacks.length).toBeGreaterThanOrEqual(15);
    const stop = attacks.find((a) => a.id === 'opcua-stop')!;
    expect(stop).toMatchObject({ face: 'opcua', techniques: [{ id: 'T0855', name: 'Unauthorized Command Message' }] });
    expect(stop.steps.length).toBeGreaterThan(1);
    expect(stop.expectedImpact).toMatch(/stops/);
    const unknown = await post('api/attacks/run', { id: 'no-such-attack' }, 'instructor');
    expect(unknown.status).toBe(404);
    expect(message(unknown.body)).toMatch(/^no attack "no-such-attack" \(GET \/api\/attacks lists them: .*opcua-stop/);
    const station = await post('api/attacks/run', { id: 'rest-stop', station: 'oven' }, 'instructor');
    expect(station.status).toBe(400);
    expect(message(station.body)).toMatch(/^the line has no station "oven" \(stations: .*kiln/);
    for (const bad of ['{"station":"kiln"}', '[]', '{"id":3}', 'not json']) {
      const b = await post('api/attacks/run', bad, 'instructor');
      expect(b.status, bad).toBe(400);
      expect(message(b.body), bad).not.toBe('');
    }
    expect((await r.call('api/attacks/runs/999', {}, 'instructor')).status).toBe(404);
  }, 60_000);

  it('runs rest-stop from the host against its own REST face: one at a time, marked in the network report, with a report and its events', async () => {
    const started = await post('api/attacks/run', { id: 'rest-stop' }, 'instructor');
    expect(started.status).toBe(202);
    const n = started.body.run as number;
    expect(started.body).toEqual({ run: n, status: 'running', href: `api/attacks/runs/${n}` });
    const busy = await post('api/attacks/run', { id: 'opcua-stop' }, 'instructor');
    expect([busy.status, message(busy.body)]).toEqual([409, `run ${n} (rest-stop) is still running: one attack at a time`]);
    // while it runs, the network report names it and marks its face
    const net = (await r.call('api/network', {}, 'viewer')).body as unknown as NetworkReport;
    expect(net.attack).toMatchObject({ id: 'rest-stop', face: 'api', station: 'kiln', running: true });
    expect(net.faces.find((f) => f.id === 'api')?.attack).toBe(true);
    expect(net.faces.find((f) => f.id === 'opcua')?.attack).toBe(false);
    let run: RangeRun | null = null;
    let marked: NetworkReport | null = null;
    await waitFor('the run to end', async () => {
      const n2 = (await r.call('api/network', {}, 'viewer')).body as unknown as NetworkReport;
      if (n2.attack?.principals.some((p) => p.startsWith('anonymous@')) === true) marked = n2;
      run = (await r.call(`api/attacks/runs/${n}`, {}, 'instructor')).body as unknown as RangeRun;
      return run.status !== 'running';
    }, (ok) => ok, 90_000);
    const done = run! as RangeRun;
    expect(done).toMatchObject({ n, attack: 'rest-stop', status: 'done', station: 'kiln', techniques: ['T0855'], face: 'rest', error: null });
    expect(done.by).toMatch(/^instructor@/);
    const report = done.report as AttackReport;
    // the open profile lets the anonymous REST client stop the kiln: no refusal, so only the explicit marking shows it
    expect(report).toMatchObject({ attack: 'rest-stop', outcome: 'succeeded', profile: 'open', station: 'kiln', impact: { status: 200 } });
    expect(report.impact.states).toContain('Stopped');
    expect(report.evidence.join('\n')).toMatch(/command accepted: api stop on kiln by anonymous@127\.0\.0\.1 \(operator\)/);
    expect(report.evidence.join('\n')).not.toMatch(/instructor@/); // the instrument and the range's own record are not evidence
    expect(report.cleanup.length).toBeGreaterThan(0);
    expect(done.progress[0]).toMatch(/^rest-stop → http:\/\/127\.0\.0\.1:\d+\/ \(station kiln\)$/);
    // the attack's client, by its principal, while the run was marked (the observer's requests are not the attack's)
    expect(marked, 'the network report named the attack\'s client').not.toBeNull();
    expect(marked!.attack!.principals.every((p) => !p.startsWith('instructor@'))).toBe(true);
    // start and result are in the event log (the live feed carries the same events)
    await waitFor('the run in the event log', async () => {
      const evs = (await r.events('instructor')).filter((e) => e.type === 'audit' && e.data.source === 'attack');
      return evs.some((e) => /^started: REST stop/.test(String(e.data.reason))) && evs.some((e) => /^succeeded in \d+\.\d s: status=200/.test(String(e.data.reason)) && e.data.target === `rest-stop → kiln (run ${n})`);
    }, (ok) => ok, 15_000);
    const all = (await r.call('api/attacks/runs', {}, 'instructor')).body as { running: number | null; runs: RangeRun[] };
    expect(all.running).toBeNull();
    expect(all.runs[0]?.n).toBe(n);
    // the line is put back
    await producing(r);
    // and the next run may start
    const again = await post('api/attacks/run', { id: 'opcua-discovery' }, 'instructor');
    expect(again.status).toBe(202);
    await waitFor('the second run', async () => (await r.call(`api/attacks/runs/${again.body.run as number}`, {}, 'instructor')).body.status, (s) => s !== 'running', 90_000);
    const second = (await r.call(`api/attacks/runs/${again.body.run as number}`, {}, 'instructor')).body as unknown as RangeRun;
    expect(second).toMatchObject({ status: 'done', report: { attack: 'opcua-discovery', outcome: 'succeeded' } });
  }, 180_000);
});
