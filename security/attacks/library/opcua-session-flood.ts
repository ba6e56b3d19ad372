/**
 * Denial of view and of control on OPC UA: take every session the server grants, so the
 * operators' HMI, the SCADA and the MES cannot log in to see or steer the line. The line keeps
 * running; nobody can watch or command it over OPC UA while the sessions are held.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';

/** sessions the attacker asks for at most */
const MAX = 200;

export const opcuaSessionFlood: Attack = {
  id: 'opcua-session-flood',
  title: 'OPC UA session flood: every session the server grants, held so no other client gets one',
  techniques: [T.denialOfView, T.denialOfControl],
  face: 'opcua',
  preconditions: ['sessions without credentials (or an account the attacker holds)'],
  steps: [`open anonymous sessions over one channel until the server refuses one (at most ${MAX})`, 'ask for a session from a new client while they are held', 'hold them while the line is watched, then close them'],
  expectedImpact: 'no new OPC UA client (HMI, SCADA, MES) gets a session: the line runs unseen and unsteered over OPC UA',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { floodSessions } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const f = await floodSessions(ctx, MAX, Math.min(ctx.watchMs, 3000), evidence);
    if (f !== null) {
      evidence.push(`OPC UA: ${f.held} sessions held${f.stoppedBy === null ? '' : `; the next one refused: ${f.stoppedBy}`}`);
      evidence.push(`OPC UA: a new client meanwhile: ${f.newClient === 'session' ? 'got a session' : `refused: ${f.newClient ?? '?'}`}`);
    }
    await trail(ctx, evidence, true);
    const denied = f !== null && f.newClient !== 'session';
    return { outcome: denied ? 'succeeded' : 'blocked', evidence, impact: { sessionsHeld: f?.held ?? 0, newClientRefused: denied, newClient: f?.newClient ?? null } };
  },
  async cleanup() {
    // the sessions were closed at the end of the run
  },
};
