/**
 * Point and tag identification and process monitoring on Modbus/TCP: find the station's unit
 * by its identification, look its model up in the published register map, and read every
 * holding and input register: the setpoints an attacker can write, and the live process.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';

/** setpoints and readings quoted in the evidence at most */
const QUOTE = 12;

export const modbusRead: Attack = {
  id: 'modbus-read',
  title: 'Modbus register map read: the station\'s setpoints, commands and live process values',
  techniques: [T.pointAndTagIdentification, T.monitorProcessState],
  face: 'modbus',
  preconditions: ['network reach to the Modbus/TCP port', 'the PLC model\'s published register map (twinline modbus map)'],
  steps: [
    'scan unit ids with Read Device Identification; pick the station\'s unit by its application name',
    'look the model up in the published register map',
    'read every holding register (setpoints, parameters) and input register (readings)',
  ],
  expectedImpact: 'none on the process; the attacker knows every point of the station and watches the process live',
  async run(ctx) {
    // the client loads on demand, so `attack list` answers at once
    const { deviceOf, ModbusClient, publishedMap, readTags, reason, scanUnits } = await import('../clients/modbus.ts');
    const evidence: string[] = [];
    let read: { holding: Record<string, number>; input: Record<string, number> } | null = null;
    let unit: number | null = null;
    let commands: string[] = [];
    try {
      const c = await ModbusClient.connect(ctx.target);
      try {
        const d = deviceOf(await scanUnits(c), ctx.station);
        const map = d === undefined ? null : publishedMap(d.model);
        if (d === undefined) evidence.push(`Modbus: no unit identifies itself as ${ctx.station}`);
        else if (map === null) evidence.push(`Modbus: unit ${d.unit}: no published map for model ${d.model}`);
        else {
          unit = d.unit;
          read = await readTags(c, d.unit, map);
          commands = map.tables.coil.filter((p) => p.type === 'command').map((p) => `${p.tag}@${p.address}`);
        }
      } finally {
        await c.close();
      }
    } catch (e) {
      evidence.push(`Modbus: ${reason(e)}`);
    }
    if (read !== null) {
      const show = (r: Record<string, number>): string => Object.entries(r).slice(0, QUOTE).map(([k, v]) => `${k}=${Math.round(v * 10) / 10}`).join(', ');
      evidence.push(`Modbus: unit ${unit} (${ctx.station}) holding registers: ${show(read.holding)}`);
      evidence.push(`Modbus: unit ${unit} (${ctx.station}) input registers: ${show(read.input)}`);
      evidence.push(`Modbus: unit ${unit} command coils: ${commands.join(', ')}`);
    }
    await trail(ctx, evidence, read === null);
    const holding = read === null ? 0 : Object.keys(read.holding).length;
    const input = read === null ? 0 : Object.keys(read.input).length;
    return {
      outcome: holding + input > 0 ? 'succeeded' : 'blocked',
      evidence,
      impact: { unit, setpoints: holding, readings: input, commandCoils: commands.length, values: read === null ? {} : { ...read.input, ...read.holding } },
    };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
