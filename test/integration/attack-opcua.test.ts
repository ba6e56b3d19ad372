/**
 * The OPC UA attacks of the range against real `twinline serve` processes of the kiln cell:
 * under `open` each gets through and the line shows it (a station stopped, a unit mode forced,
 * setpoints moved and ware cracked), and the cleanup puts the line back; under `hardened`
 * each is blocked and the refusal is in the audit trail. The line runs 50× real time so the
 * kiln's physics show within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attack, producing, refusals, startRange, type Range } from './attack-harness.ts';
import { START_MS } from './serve-proc.ts';

let open: Range;
let hard: Range;

beforeAll(async () => {
  [open, hard] = await Promise.all([startRange('open', ['--speed', '50']), startRange('hardened', ['--speed', '50'])]);
}, START_MS + 60_000);

afterAll(async () => {
  await Promise.all([open?.stop(), hard?.stop()]);
});

/** Every hardened run: blocked, its own certificate refused and audited (nothing reached the line). */
async function blockedByTrust(id: string): Promise<void> {
  const r = await attack(hard, id, 'opcua');
  expect(r.outcome).toBe('blocked');
  expect(r.evidence.join('\n')).toMatch(/refused: .*BadCertificateUntrusted/);
  expect(refusals(r).join('\n')).toMatch(/audit: opcua channel denied .*BadCertificateUntrusted/);
  const lineChanged = r.evidence.filter((l) => / command (accepted|rejected): opcua /.test(l));
  expect(lineChanged).toEqual([]);
}

describe('OPC UA attacks, open profile: they get through and the line shows it', () => {
  // first, while the kiln fires at its steady state (a stop cools it, and the ware needs a hot kiln to crack)
  it('kiln-setpoint-drift: setpoints 200 °C over the recipe, the zones heat up and ware comes out cracked', async () => {
    const r = await attack(open, 'kiln-setpoint-drift', 'opcua', { watchMs: 40_000 });
    expect(r.outcome).toBe('succeeded');
    expect(r.impact.setpoints).toEqual({ sp1: [900, 1100], sp2: [1100, 1300] });
    expect(Object.keys(r.impact.zoneTemps as object).length).toBeGreaterThan(0);
    expect(r.impact.crackedParts).toBeGreaterThan(0);
    // the cleanup wrote the setpoints back
    const st = (await open.call('api/state', {}, 'viewer')).body as { stations: { id: string; tags: number[] }[] };
    const line = (await open.call('api/line', {}, 'viewer')).body as { stations: { id: string; tags: { name: string }[] }[] };
    const names = line.stations.find((s) => s.id === 'kiln')!.tags.map((t) => t.name);
    const kiln = st.stations.find((s) => s.id === 'kiln')!.tags;
    expect([kiln[names.indexOf('sp1')], kiln[names.indexOf('sp2')]]).toEqual([900, 1100]);
  }, 120_000);

  it('opcua-discovery: an endpoint without security and anonymous sessions', async () => {
    const r = await attack(open, 'opcua-discovery', 'opcua');
    expect(r.outcome).toBe('succeeded');
    expect(r.techniques).toEqual(['T0846', 'T0888']);
    expect(r.impact).toMatchObject({ modes: ['None'], withoutSecurity: true, anonymousOffered: true, sessionWithoutCredentials: true });
  });

  it('opcua-browse: every station, tag and command method of the line', async () => {
    const r = await attack(open, 'opcua-browse', 'opcua');
    expect(r.outcome).toBe('succeeded');
    expect(r.impact).toMatchObject({ stations: 4 });
    expect(r.impact.variables).toBeGreaterThan(50);
    expect(r.evidence.join('\n')).toMatch(/kiln: \d+ tags; tags this session may write: .*sp1, .*sp2/);
  });

  it('opcua-default-login: an anonymous session, logged as allowed', async () => {
    const r = await attack(open, 'opcua-default-login', 'opcua');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { session: 'anonymous' } });
    expect(r.evidence.join('\n')).toMatch(/audit: opcua session allowed for anonymous@/);
  });

  it('opcua-stop: the kiln stops, and the cleanup starts it again', async () => {
    const r = await attack(open, 'opcua-stop', 'opcua');
    expect(r.outcome).toBe('succeeded');
    expect(r.impact.stateAfter).toBe('Stopped');
    expect(r.impact.downtimeS).toBeGreaterThan(0);
    expect(r.evidence.join('\n')).toMatch(/command accepted: opcua stop on kiln by anonymous@/);
    await producing(open);
  });

  it('opcua-manual-mode: the kiln is forced into Manual and out of production', async () => {
    const r = await attack(open, 'opcua-manual-mode', 'opcua');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { modeBefore: 'Production', modeAfter: 'Manual', stateAfter: 'Stopped' } });
    expect(r.evidence.join('\n')).toMatch(/kiln unit mode Production → Manual/);
    await producing(open);
  });

  it('kiln-trip-raise: the write levels hold even here (an anonymous session is an operator), and the attempt is logged', async () => {
    const r = await attack(open, 'kiln-trip-raise', 'opcua');
    expect(r.outcome).toBe('blocked');
    expect(r.impact.tripTemp).toEqual([1400, 1400]);
    // on the way the attacker stopped the kiln and switched it to Maintenance: downtime all the same
    expect(r.impact).toMatchObject({ modeAfter: 'Maintenance', stateAfter: 'Stopped' });
    expect(refusals(r).join('\n')).toMatch(/command rejected: opcua set \{"field":"tripTemp","value":2000\} on kiln .*NOT_AUTHORIZED/);
    await producing(open);
  });

  it('opcua-session-flood: every session taken, a new client refused; they are released afterwards', async () => {
    const r = await attack(open, 'opcua-session-flood', 'opcua');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { newClientRefused: true } });
    expect(r.impact.sessionsHeld).toBeGreaterThanOrEqual(40);
    expect(String(r.impact.newClient)).toMatch(/BadTooManySessions/);
    expect(refusals(r).join('\n')).toMatch(/audit: opcua session denied .*BadTooManySessions/);
    // the flood ended with the run: sessions are granted again
    expect((await attack(open, 'opcua-default-login', 'opcua')).outcome).toBe('succeeded');
  }, 120_000);
});

describe('OPC UA attacks, hardened profile: blocked before a session, and audited', () => {
  for (const id of ['opcua-discovery', 'opcua-browse', 'opcua-default-login', 'opcua-stop', 'opcua-manual-mode', 'kiln-trip-raise', 'kiln-setpoint-drift', 'opcua-session-flood']) {
    it(id, () => blockedByTrust(id));
  }

  it('discovery shows SignAndEncrypt only, with user names or certificates', async () => {
    const r = await attack(hard, 'opcua-discovery', 'opcua');
    expect(r.impact).toMatchObject({ modes: ['SignAndEncrypt'], withoutSecurity: false, anonymousOffered: false, sessionWithoutCredentials: false });
  });

  it('the line never left production', async () => {
    const evs = await hard.events();
    expect(evs.filter((e) => (e.type === 'command' || e.type === 'rejected') && e.data.source === 'opcua')).toEqual([]);
    expect(await producing(hard, 'kiln', 1000)).toMatch(/Execute|Suspend/);
  });
});
