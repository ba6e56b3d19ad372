/**
 * Default credentials over MQTT: an anonymous CONNECT, then the user names and passwords a
 * tool tries on any broker. It gets through when the broker accepts any of them.
 */
import { T } from '../techniques.ts';
import type { Attack, Credentials } from '../types.ts';
import { trail } from './common.ts';

/** What a tool tries after anonymous. */
const PAIRS: readonly Credentials[] = [
  { user: 'admin', password: 'admin' },
  { user: 'guest', password: 'guest' },
  { user: 'operator', password: 'operator' },
];

export const mqttDefaultLogin: Attack = {
  id: 'mqtt-default-login',
  title: 'MQTT default credentials: anonymous, then admin/admin, guest/guest, operator/operator',
  techniques: [T.defaultCredentials, T.validAccounts],
  face: 'mqtt',
  preconditions: ['network reach to the broker'],
  steps: ['CONNECT without credentials', 'CONNECT with each default user name and password', 'stop at the first CONNACK 0'],
  expectedImpact: 'none on the process by itself; a connection is the foothold for reading and, with a commanding role, operating the line',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { mqttClose, mqttConnect } = await import('../clients/mqtt.ts');
    const evidence: string[] = [];
    let got: string | null = null;
    for (const creds of [null, ...PAIRS]) {
      const client = await mqttConnect({ ...ctx, credentials: creds }, evidence);
      if (client !== null) {
        got = creds === null ? 'anonymous' : creds.user;
        await mqttClose(client);
        break;
      }
    }
    await trail(ctx, evidence, got === null);
    return { outcome: got !== null ? 'succeeded' : 'blocked', evidence, impact: { connected: got, tried: 1 + PAIRS.length } };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
