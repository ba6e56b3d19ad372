/**
 * The second set of MQTT attacks (sniffing, client-id takeover, forged death, QoS 2 in-flight
 * exhaustion, oversized payloads) in-process against real `twinline serve` processes of the
 * kiln cell, one per profile shared across the file. Under `open` what the profile lets
 * through gets through with its measured impact; what the embedded broker refuses in every
 * profile is blocked and audited there too. Under `hardened` the attacks are blocked with the
 * refusal in the audit trail; sniffing is blocked there because the broker offers MQTT over
 * TLS and the range's gateway uses it, while under `open` (plain MQTT only) a relay in the path
 * reads the password and the telemetry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attack, producing, refusals, startRange, type Range } from './attack-harness.ts';

let open: Range;
let hard: Range;

beforeAll(async () => {
  [open, hard] = await Promise.all([startRange('open', ['--speed', '10']), startRange('hardened', ['--speed', '10'])]);
}, 180_000);

afterAll(async () => {
  await Promise.all([open?.stop(), hard?.stop()]);
});

const stolen = (r: Range, user: string): { credentials: { user: string; password: string } } => ({ credentials: { user, password: r.passwords[user]! } });

describe('open profile', () => {
  it('mqtt-sniff: a relay in the path reads the gateway\'s password and the telemetry in clear', async () => {
    const r = await attack(open, 'mqtt-sniff', 'mqtt');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { tls: false, userRead: 'gateway', passwordRead: true } });
    expect(r.impact.publishesRead).toBeGreaterThan(10);
    const ev = r.evidence.join('\n');
    expect(ev).toMatch(/CONNECT read in clear: .*user "gateway", password .*the gateway's real password/);
    // the first packets the relay keeps may be the namespace's $status and $meta: telemetry all the same
    expect(ev).toMatch(/PUBLISH read in clear: twinline\/test\/firing\/kiln-cell\/\S+ = \{"/);
    // the report shows that the password was read, never the password itself
    expect(ev).not.toContain(open.passwords.gateway!);
  });

  it('mqtt-client-takeover: an anonymous gateway is knocked off by a client with its id, and misses telemetry', async () => {
    const r = await attack(open, 'mqtt-client-takeover', 'mqtt');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { gatewayAs: 'anonymous' } });
    expect(r.impact.gatewayDisconnects).toBeGreaterThanOrEqual(1);
    expect(r.impact.gatewayOfflineMs).toBeGreaterThan(0);
    expect(r.impact.messagesLost).toBeGreaterThan(0);
    // $SYS is the instructor's: the twin's own client ids were not learnt
    expect(r.evidence.join('\n')).toMatch(/\$SYS\/\+\/new\/clients refused/);
  });

  it('mqtt-forged-death: the will on the twin\'s NDEATH is refused at CONNECT, the direct death at PUBLISH; no subscriber sees a death', async () => {
    const r = await attack(open, 'mqtt-forged-death', 'mqtt');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { deathsSeen: [], observedBy: 'anonymous' } });
    const attempts = r.impact.attempts as Record<string, string>;
    expect(attempts).toMatchObject({ 'will spBv1.0/test/NDEATH/kiln-cell': 'refused at CONNECT', 'will twinline/test/firing/kiln-cell/$status': 'refused at CONNECT' });
    expect(attempts['publish spBv1.0/test/NDEATH/kiln-cell']).toBe('the broker closed the connection');
    const audit = refusals(r).join('\n');
    expect(audit).toMatch(/audit: mqtt connect denied for anonymous\/\S+ on spBv1\.0\/test\/NDEATH\/kiln-cell: will on spBv1\.0\/test\/NDEATH\/kiln-cell refused: only the twin publishes/);
    expect(audit).toMatch(/audit: mqtt publish denied for anonymous\/\S+ on spBv1\.0\/test\/NDEATH\/kiln-cell: only the twin publishes/);
    await producing(open);
  });

  it('mqtt-qos-exhaustion with a stolen gateway account: the in-flight limit of 100 holds, the telemetry goes on', async () => {
    const r = await attack(open, 'mqtt-qos-exhaustion', 'mqtt', stolen(open, 'gateway'));
    expect(r).toMatchObject({ outcome: 'blocked', impact: { sent: 150, inflightLimitHeld: true } });
    expect(r.impact.pubrecs).toBeLessThanOrEqual(100);
    expect(r.impact.closedByBrokerAfter).not.toBeNull();
    expect(r.impact.msgPerSAfter).toBeGreaterThan(0);
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt publish denied for gateway\/\S+: more than 100 QoS 2 messages awaiting PUBREL; disconnected/);
  });

  it('mqtt-oversized: the framing guard drops a 300 KiB PUBLISH on its header; nobody is handed it', async () => {
    const r = await attack(open, 'mqtt-oversized', 'mqtt');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { deliveredToSubscribers: false, publishes: { '300 KiB': 'the broker closed the connection' } } });
    expect(r.impact.msgPerSAfter).toBeGreaterThan(0);
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt packet denied for 127\.0\.0\.1:\d+: packet of 30\d{4} bytes announced; at most 262144; disconnected/);
  });
});

describe('hardened profile', () => {
  it('mqtt-sniff: the broker offers MQTT over TLS, the gateway connects there verifying the certificate, the relay reads nothing', async () => {
    expect(hard.mqtts).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(hard.out()).toMatch(/MQTT\/TLS\s+mqtts:\S+\s+\(self-signed: \S+mqtt-broker\.pem, SHA-256 [0-9A-F:]{95}\)/);
    const r = await attack(hard, 'mqtt-sniff', 'mqtt');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { tls: true, userRead: null, passwordRead: false, publishesRead: 0, connectsRead: 0 } });
    // the channel worked: the gateway got the telemetry, the relay carried it, and could not read it
    expect(r.impact.gatewayReceived).toBeGreaterThan(0);
    expect(r.impact.bytesRelayed).toBeGreaterThan(1000);
    expect(r.evidence.join('\n')).toMatch(/over TLS \(certificate verified\)/);
  });

  it('mqtt-client-takeover with a stolen operator account: the gateway\'s id is bound to its account, the takeover refused', async () => {
    const r = await attack(hard, 'mqtt-client-takeover', 'mqtt', stolen(hard, 'operator'));
    expect(r).toMatchObject({ outcome: 'blocked', impact: { gatewayAs: 'gateway', takeovers: 0, gatewayDisconnects: 0, messagesLost: 0 } });
    expect(r.evidence.join('\n')).toMatch(/CONNECT as user "operator" \(client id line-gw-\w+\) refused: .*\(CONNACK 2\)/);
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt connect denied for operator\/line-gw-\w+@\S+ on line-gw-\w+: client id line-gw-\w+ is held by another account's session; takeover refused/);
  });

  it('mqtt-forged-death with a stolen operator account: the will is refused at CONNECT, audited', async () => {
    const r = await attack(hard, 'mqtt-forged-death', 'mqtt', stolen(hard, 'operator'));
    expect(r).toMatchObject({ outcome: 'blocked', impact: { deathsSeen: [], observedBy: 'viewer' } });
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt connect denied for operator\/\S+ on spBv1\.0\/test\/NDEATH\/kiln-cell: will on spBv1\.0\/test\/NDEATH\/kiln-cell refused/);
  });

  it('mqtt-qos-exhaustion with a stolen gateway account: the in-flight limit holds', async () => {
    const r = await attack(hard, 'mqtt-qos-exhaustion', 'mqtt', stolen(hard, 'gateway'));
    expect(r).toMatchObject({ outcome: 'blocked', impact: { inflightLimitHeld: true } });
    expect(refusals(r).join('\n')).toMatch(/more than 100 QoS 2 messages awaiting PUBREL; disconnected/);
  });

  it('mqtt-oversized anonymous: refused at CONNECT, audited', async () => {
    const r = await attack(hard, 'mqtt-oversized', 'mqtt');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { publishes: { '300 KiB': 'no connection' } } });
    expect(refusals(r).join('\n')).toMatch(/audit: mqtt connect denied for anonymous\//);
  });

  it('the line never stopped', async () => {
    const evs = await hard.events();
    expect(evs.filter((e) => e.type === 'command' && e.data.source !== 'scenario')).toEqual([]);
    await producing(hard, 'kiln', 1000);
  });
});
