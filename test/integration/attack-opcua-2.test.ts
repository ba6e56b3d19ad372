/**
 * The second set of OPC UA attacks against real `twinline serve` processes of the kiln cell:
 * security downgrade, adversary in the middle (a relay on loopback forging what a victim HMI
 * reads), alarm suppression over Alarms & Conditions and recipe tampering. Under `open` each
 * gets through and the line shows it (a session over None, a forged temperature on the HMI,
 * a breakdown acknowledged by the attacker, cracked ware), and the cleanup puts the line back;
 * under `hardened` each is blocked and the refusal is in the audit trail. 50× real time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attack, producing, refusals, startRange, type Range } from './attack-harness.ts';

let open: Range;
let hard: Range;

beforeAll(async () => {
  [open, hard] = await Promise.all([startRange('open', ['--speed', '50']), startRange('hardened', ['--speed', '50'])]);
}, 300_000);

afterAll(async () => {
  await Promise.all([open?.stop(), hard?.stop()]);
});

/** The kiln's tags now, by name (the range's viewer account). */
async function kilnTags(r: Range): Promise<Record<string, number>> {
  const st = (await r.call('api/state', {}, 'viewer')).body as { stations: { id: string; tags: number[] }[] };
  const line = (await r.call('api/line', {}, 'viewer')).body as { stations: { id: string; tags: { name: string }[] }[] };
  const names = line.stations.find((s) => s.id === 'kiln')!.tags.map((t) => t.name);
  const values = st.stations.find((s) => s.id === 'kiln')!.tags;
  return Object.fromEntries(names.map((n, k) => [n, values[k]!]));
}

describe('OPC UA attacks (2), open profile: they get through and the line shows it', () => {
  // first, while the kiln fires at its steady state with ware inside
  it('opcua-recipe: the recipe 150 °C lower with the setpoints untouched, the ware fires over it and cracks; the cleanup puts the recipe back', async () => {
    const r = await attack(open, 'opcua-recipe', 'opcua', { watchMs: 40_000 });
    expect(r.outcome).toBe('succeeded');
    expect(r.techniques).toEqual(['T0836']);
    expect(r.impact).toMatchObject({ recipe: { recipe1: [900, 750], recipe2: [1100, 950] }, setpointsMoved: false, overTempAlarm: true });
    expect(r.impact.crackedParts).toBeGreaterThan(0);
    expect(r.evidence.join('\n')).toMatch(/command accepted: opcua set \{"field":"recipe1","value":750\} on kiln by anonymous@/);
    const k = await kilnTags(open);
    expect([k.recipe1, k.recipe2, k.sp1, k.sp2]).toEqual([900, 1100, 900, 1100]);
  }, 120_000);

  it('opcua-mitm: the HMI behind the relay shows the zone 250 °C colder than the line, and the relay read the traffic in clear', async () => {
    const r = await attack(open, 'opcua-mitm', 'opcua');
    expect(r.outcome).toBe('succeeded');
    expect(r.techniques).toEqual(['T0830', 'T0842', 'T0856']);
    expect(r.impact).toMatchObject({ node: 'kiln.t1', hmiChannel: 'None None', forged: true, hmiFailure: null });
    const shown = r.impact.hmiShowed as number;
    const line = r.impact.lineValue as number;
    // the kiln's zone barely moves in a second at its steady state: the HMI's value is the line's less 250
    expect(Math.abs(line - 250 - shown)).toBeLessThan(25);
    const readable = (r.impact.readableInClear as string[]).join('\n');
    expect(readable).toMatch(/^read kiln\.t1$/m);
    expect(readable).toMatch(/^value kiln\.t1 = \d/m);
    expect(readable).toMatch(/^login anonymous$/m);
  }, 120_000);

  it('opcua-downgrade: a session over SecurityMode None (the user name travelled in clear), the deprecated policies refused', async () => {
    const r = await attack(open, 'opcua-downgrade', 'opcua');
    expect(r.outcome).toBe('succeeded');
    expect(r.impact).toMatchObject({ offeredModes: ['None'], weakSession: 'anonymous over None None', clearTextChannel: true });
    expect(r.evidence.join('\n')).toMatch(/session as user "operator" \(password in clear\) over None None refused: BadIdentityTokenInvalid/);
    expect(r.evidence.join('\n')).toMatch(/audit: opcua session allowed for anonymous@/);
  }, 120_000);

  it('opcua-alarm-suppression: the breakdown the range raised is acknowledged by the attacker\'s session while still active; the cleanup repairs it', async () => {
    const r = await attack(open, 'opcua-alarm-suppression', 'opcua');
    expect(r.outcome).toBe('succeeded');
    expect(r.techniques).toEqual(['T0878', 'T0855']);
    expect(r.impact.acknowledged).toContain('kiln.Alarms.BREAKDOWN');
    expect(r.impact).toMatchObject({ alarmStillActive: true, unacknowledgedAfter: 0 });
    expect(r.impact.unacknowledgedBefore).not.toBe(0);
    expect(String(r.impact.ackedBy)).toMatch(/^anonymous@/);
    expect(r.impact.acknowledgeCalls).not.toEqual([]);
    // each condition's Acknowledge acknowledges its own alarm on the line
    expect(r.evidence.join('\n')).toMatch(/command accepted: opcua ack \{"alarm":"BREAKDOWN"\} on kiln by anonymous@/);
    expect(r.evidence.join('\n')).toMatch(/shelve → not offered/);
    await producing(open);
  }, 120_000);
});

describe('OPC UA attacks (2), hardened profile: blocked, and audited', () => {
  it('opcua-downgrade: no session over the discovery channel, the deprecated policies refused, both in the audit trail', async () => {
    const r = await attack(hard, 'opcua-downgrade', 'opcua');
    expect(r.outcome).toBe('blocked');
    expect(r.impact).toMatchObject({ offeredModes: ['SignAndEncrypt'], weakSession: null, clearTextChannel: false });
    expect(r.evidence.join('\n')).toMatch(/over None None refused: .*BadSecurityModeRejected/);
    expect(r.impact.channels).toEqual({ 'None None': 'channel opened, session refused', 'Sign Basic256': 'channel refused', 'SignAndEncrypt Basic128Rsa15': 'channel refused' });
    const audited = refusals(r).join('\n');
    expect(audited).toMatch(/audit: opcua session denied .*BadSecurityModeRejected/);
    expect(audited).toMatch(/audit: opcua channel denied .*BadSecurityPolicyRejected/);
  }, 120_000);

  it('opcua-mitm: the HMI uses SignAndEncrypt, the relay reads no tag or value, and no forged value is shown', async () => {
    const r = await attack(hard, 'opcua-mitm', 'opcua');
    expect(r.outcome).toBe('blocked');
    expect(r.impact).toMatchObject({ hmiChannel: 'SignAndEncrypt Basic256Sha256', forged: false, rewrites: 0, hmiShowed: null });
    expect((r.impact.readableInClear as string[]).filter((l) => /^(read|value) /.test(l))).toEqual([]);
    expect(String(r.impact.hmiFailure)).toMatch(/BadCertificateUntrusted/);
    expect(refusals(r).join('\n')).toMatch(/audit: opcua channel denied .*BadCertificateUntrusted/);
  }, 120_000);

  it('opcua-alarm-suppression: the breakdown stays unacknowledged; the cleanup repairs it', async () => {
    const r = await attack(hard, 'opcua-alarm-suppression', 'opcua');
    expect(r.outcome).toBe('blocked');
    expect(r.impact).toMatchObject({ acknowledged: [], ackedBy: null, alarmStillActive: true });
    expect(r.impact.unacknowledgedAfter).not.toBe(0);
    expect(refusals(r).join('\n')).toMatch(/audit: opcua channel denied .*BadCertificateUntrusted/);
    await producing(hard);
  }, 120_000);

  it('opcua-recipe: even with an operator\'s account the recipe is not written', async () => {
    const r = await attack(hard, 'opcua-recipe', 'opcua', { credentials: { user: 'operator', password: hard.passwords.operator! } });
    expect(r.outcome).toBe('blocked');
    expect(r.impact).toMatchObject({ recipe: {}, crackedParts: 0 });
    expect(refusals(r).join('\n')).toMatch(/audit: opcua channel denied .*BadCertificateUntrusted/);
    const k = await kilnTags(hard);
    expect([k.recipe1, k.recipe2]).toEqual([900, 1100]);
  }, 120_000);
});
