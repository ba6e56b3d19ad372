/**
 * Default credentials on OPC UA: an anonymous session first, then the user names and
 * passwords a tool tries on any industrial server. It gets through when any identity gets a
 * session.
 */
import { T } from '../techniques.ts';
import type { Attack, Credentials } from '../types.ts';
import { trail } from './common.ts';

/** What a tool tries after anonymous (vendor defaults, the role names of the twin's accounts). */
export const DEFAULT_PAIRS: readonly Credentials[] = [
  { user: 'admin', password: 'admin' },
  { user: 'operator', password: 'operator' },
  { user: 'engineer', password: 'engineer' },
];

export const opcuaDefaultLogin: Attack = {
  id: 'opcua-default-login',
  title: 'OPC UA default credentials: an anonymous session, then admin/admin, operator/operator, engineer/engineer',
  techniques: [T.defaultCredentials, T.validAccounts],
  face: 'opcua',
  preconditions: ['network reach to the OPC UA port'],
  steps: ['try an anonymous session through the weakest endpoint', 'try each default user name and password', 'stop at the first session'],
  expectedImpact: 'none on the process by itself; a session is the foothold for every other OPC UA attack',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { openSession } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    let got: string | null = null;
    for (const creds of [null, ...DEFAULT_PAIRS]) {
      const f = await openSession({ ...ctx, credentials: creds }, evidence);
      if (f !== null) {
        got = creds === null ? 'anonymous' : creds.user;
        await f.close();
        break;
      }
    }
    await trail(ctx, evidence, got === null);
    return { outcome: got !== null ? 'succeeded' : 'blocked', evidence, impact: { session: got, tried: 1 + DEFAULT_PAIRS.length } };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
