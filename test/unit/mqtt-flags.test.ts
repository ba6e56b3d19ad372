// `twinline serve` flags of the MQTT face: no accounts file of its own, the role of commands
// through an external broker.
import { describe, expect, it } from 'vitest';
import { mqttFromFlags } from '../../sim/protocols/mqtt/flags.ts';

describe('MQTT flags', () => {
  it('the embedded broker takes no accounts file of its own', () => {
    const o = mqttFromFlags({}, '127.0.0.1', '/home/x');
    expect(o?.embedded).toEqual({
      host: '127.0.0.1', port: 1883, explicitPort: false, wsPort: 8083, explicitWsPort: false,
      tlsPort: 8883, explicitTlsPort: false, tlsDir: '/home/x/mqtt/tls',
    });
    expect(JSON.stringify(o)).not.toContain('users.json');
  });

  it('--mqtts-port sets the MQTT over TLS port, checked like the others', () => {
    expect(mqttFromFlags({ 'mqtts-port': '0' }, '127.0.0.1', '/x')?.embedded).toMatchObject({ tlsPort: 0, explicitTlsPort: true });
    expect(() => mqttFromFlags({ 'mqtts-port': '70000' }, '127.0.0.1', '/x')).toThrow(/--mqtts-port 70000 is not a port/);
  });

  it('--mqtt-role sets the role of commands through an external broker, and only there', () => {
    expect(mqttFromFlags({ mqtt: 'mqtt://b:1883', 'mqtt-role': 'viewer' }, '127.0.0.1', '/x')?.externalRole).toBe('viewer');
    expect(mqttFromFlags({ mqtt: 'mqtt://b:1883' }, '127.0.0.1', '/x')?.externalRole).toBeUndefined();
    expect(() => mqttFromFlags({ mqtt: 'mqtt://b:1883', 'mqtt-role': 'admin' }, '127.0.0.1', '/x')).toThrow(/--mqtt-role admin is not one of viewer, gateway, operator, engineer, instructor/);
    expect(() => mqttFromFlags({ 'mqtt-role': 'operator' }, '127.0.0.1', '/x')).toThrow(/--mqtt-role is for an external broker/);
  });
});
