/**
 * `twinline serve` flags of the MQTT face, kept here so the host's CLI only forwards them.
 * The default is the embedded broker: the face never connects by itself to a broker someone
 * else runs.
 */
import { join } from 'node:path';
import { ROLES, type Role } from '../../core/commands.ts';
import { TwinlineError } from '../../core/errors.ts';
import type { MqttEncoding, MqttOptions } from './face.ts';

/** `parseArgs` option definitions. */
export const MQTT_FLAGS = {
  mqtt: { type: 'string' },
  'embedded-broker': { type: 'boolean' },
  'mqtt-port': { type: 'string' },
  'mqtt-ws-port': { type: 'string' },
  'mqtts-port': { type: 'string' },
  'mqtt-encoding': { type: 'string' },
  'mqtt-user': { type: 'string' },
  'mqtt-password': { type: 'string' },
  'mqtt-role': { type: 'string' },
  'no-mqtt': { type: 'boolean' },
} as const;

/** Usage lines. */
export const MQTT_USAGE = `  --embedded-broker  MQTT through the embedded broker (default): TCP 1883 and WebSocket 8083
                     (taken defaults fall back to free ports); accounts: the shared store (twinline accounts)
  --mqtt-port N      embedded broker TCP port;  --mqtt-ws-port N: its WebSocket port (0 = any)
  --mqtts-port N     its MQTT over TLS port (default 8883; on under hardened, under open when given);
                     self-signed certificate in <home>/mqtt/tls/own/certs/mqtt-broker.pem
  --mqtt URL         publish to an external broker instead (mqtt://, mqtts://, ws://; Mosquitto, NATS, EMQX)
  --mqtt-user U, --mqtt-password P   account on the external broker
  --mqtt-role R      role of commands arriving through the external broker (default operator;
                     viewer refuses them): its ACL decides who may publish command topics
  --mqtt-encoding E  uns, sparkplug or both (default both);  --no-mqtt: no MQTT face`;

type Values = { [K in keyof typeof MQTT_FLAGS]?: (typeof MQTT_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/** The face's options from flags; null with `--no-mqtt`. */
export function mqttFromFlags(v: Values, host: string, home: string): Omit<MqttOptions, 'spec' | 'api' | 'log'> | null {
  if (v['no-mqtt'] === true) return null;
  if (v.mqtt !== undefined && v['embedded-broker'] === true) throw new TwinlineError('USAGE', '--mqtt URL and --embedded-broker exclude each other');
  const encoding = v['mqtt-encoding'] ?? 'both';
  if (encoding !== 'uns' && encoding !== 'sparkplug' && encoding !== 'both') throw new TwinlineError('USAGE', `--mqtt-encoding ${encoding} is not valid: uns, sparkplug or both`);
  const port = (name: 'mqtt-port' | 'mqtt-ws-port' | 'mqtts-port'): number | undefined => {
    const raw = v[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TwinlineError('USAGE', `--${name} ${raw} is not a port`);
    return n;
  };
  if (v.mqtt !== undefined) {
    let u: URL;
    try {
      u = new URL(v.mqtt);
    } catch {
      throw new TwinlineError('USAGE', `--mqtt ${v.mqtt} is not a URL (mqtt://host:port)`);
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(u.protocol)) throw new TwinlineError('USAGE', `--mqtt ${v.mqtt}: use mqtt://, mqtts://, ws:// or wss://`);
    const role = v['mqtt-role'];
    if (role !== undefined && !ROLES.includes(role as Role)) throw new TwinlineError('USAGE', `--mqtt-role ${role} is not one of ${ROLES.join(', ')}`);
    return {
      ...(role !== undefined ? { externalRole: role as Role } : {}),
      url: v.mqtt, encoding: encoding as MqttEncoding, stateDir: join(home, 'mqtt'),
      ...(v['mqtt-user'] !== undefined ? { username: v['mqtt-user'] } : {}),
      ...(v['mqtt-password'] !== undefined ? { password: v['mqtt-password'] } : {}),
    };
  }
  if (v['mqtt-role'] !== undefined) throw new TwinlineError('USAGE', '--mqtt-role is for an external broker (--mqtt URL); the embedded broker takes each client\'s role from its account');
  const tcp = port('mqtt-port');
  const ws = port('mqtt-ws-port');
  const tls = port('mqtts-port');
  return {
    encoding: encoding as MqttEncoding,
    stateDir: join(home, 'mqtt'),
    embedded: {
      host, port: tcp ?? 1883, explicitPort: tcp !== undefined, wsPort: ws ?? 8083, explicitWsPort: ws !== undefined,
      tlsPort: tls ?? 8883, explicitTlsPort: tls !== undefined, tlsDir: join(home, 'mqtt', 'tls'),
    },
  };
}
