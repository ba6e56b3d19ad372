/**
 * Remote system discovery on OPC UA: what any client may ask before it logs in. GetEndpoints
 * tells the security modes and policies, the identities a session may use and the server's
 * name; then a session without credentials through the weakest endpoint offered. It gets
 * through when the server offers an endpoint without security, or anonymous sessions.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';

export const opcuaDiscovery: Attack = {
  id: 'opcua-discovery',
  title: 'OPC UA endpoint discovery: security modes, policies and identities offered, a session without credentials',
  techniques: [T.remoteSystemDiscovery, T.remoteSystemInformationDiscovery],
  face: 'opcua',
  preconditions: ['network reach to the OPC UA port'],
  steps: [
    'open the discovery channel (SecurityPolicy None) and call GetEndpoints',
    'note each endpoint\'s security mode, policy and identity tokens, and the server\'s application name',
    'try an anonymous session through the weakest endpoint offered',
  ],
  expectedImpact: 'none on the process; the attacker learns whether the server can be used without encryption or credentials',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { describeEndpoint, endpointFacts, getEndpoints, openSession, reason } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    let endpoints;
    try {
      endpoints = await getEndpoints(ctx);
    } catch (e) {
      evidence.push(`OPC UA: GetEndpoints refused: ${reason(e)}`);
      await trail(ctx, evidence, true);
      return { outcome: 'blocked', evidence, impact: { endpoints: 0 } };
    }
    for (const e of endpoints) evidence.push(`OPC UA: endpoint ${e.endpointUrl ?? ''} ${describeEndpoint(e)}`);
    const facts = endpointFacts(endpoints);
    const f = await openSession({ ...ctx, credentials: null }, evidence);
    await f?.close();
    await trail(ctx, evidence, f === null);
    return {
      outcome: f !== null && (facts.withoutSecurity || facts.anonymousOffered) ? 'succeeded' : 'blocked',
      evidence,
      impact: { endpoints: endpoints.length, ...facts, sessionWithoutCredentials: f !== null },
    };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
