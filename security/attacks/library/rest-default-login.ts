/**
 * Default credentials on the REST API: a request without credentials, then HTTP Basic with
 * the user names and passwords a tool tries on any web console. It gets through when the API
 * answers `GET /api/whoami` with an identity.
 */
import { T } from '../techniques.ts';
import { restCall, why } from '../clients/rest.ts';
import type { Attack, Credentials } from '../types.ts';
import { trail } from './common.ts';

const PAIRS: readonly Credentials[] = [
  { user: 'admin', password: 'admin' },
  { user: 'instructor', password: 'instructor' },
  { user: 'operator', password: 'operator' },
];

export const restDefaultLogin: Attack = {
  id: 'rest-default-login',
  title: 'REST default credentials: no credentials, then admin/admin, instructor/instructor, operator/operator',
  techniques: [T.defaultCredentials, T.validAccounts],
  face: 'rest',
  preconditions: ['network reach to the web port'],
  steps: ['GET /api/whoami without credentials', 'GET /api/whoami with each default pair (HTTP Basic)', 'stop at the first 200'],
  expectedImpact: 'none on the process by itself; an identity on the API reads the line and, with a commanding role, operates it',
  async run(ctx) {
    const evidence: string[] = [];
    let got: { user: string; role: string } | null = null;
    for (const creds of [null, ...PAIRS]) {
      const a = await restCall(ctx.target, 'api/whoami', {}, creds);
      const who = creds === null ? 'no credentials' : `${creds.user}/${creds.password}`;
      if (a.status === 200) {
        got = { user: String(a.body.user), role: String(a.body.role) };
        evidence.push(`REST: GET /api/whoami with ${who} → 200 ${got.user} (${got.role})`);
        break;
      }
      evidence.push(`REST: GET /api/whoami with ${who} → ${why(a)}`);
    }
    await trail(ctx, evidence, got === null);
    return { outcome: got !== null ? 'succeeded' : 'blocked', evidence, impact: { identity: got?.user ?? null, role: got?.role ?? null } };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
