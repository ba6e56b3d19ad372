/**
 * Remote system discovery on Modbus/TCP: the gateway's own identification (unit 255), then a
 * scan of unit ids 1–247 with Read Device Identification. Modbus answers anyone who reaches
 * the port: vendor, product, revision, model and application name of every PLC behind it.
 * Read-only mode does not stop it (reads are what read-only allows); an allow-list does.
 */
import { T } from '../techniques.ts';
import type { Attack } from '../types.ts';
import { trail } from './common.ts';

export const modbusDiscovery: Attack = {
  id: 'modbus-discovery',
  title: 'Modbus device identification and unit scan: every PLC behind the gateway, by model',
  techniques: [T.remoteSystemDiscovery, T.remoteSystemInformationDiscovery],
  face: 'modbus',
  preconditions: ['network reach to the Modbus/TCP port (no credentials exist in Modbus)'],
  steps: [
    'connect; Read Device Identification (FC 43/14) of unit 255, the gateway itself',
    'the same for unit ids 1–247: a device answers with its identification, an empty id with exception 0B',
  ],
  expectedImpact: 'none on the process; the attacker learns every PLC, its model and what it runs',
  async run(ctx) {
    // the client loads on demand, so `attack list` answers at once
    const { ModbusClient, reason, scanUnits } = await import('../clients/modbus.ts');
    const evidence: string[] = [];
    let devices: Awaited<ReturnType<typeof scanUnits>> = [];
    try {
      const c = await ModbusClient.connect(ctx.target);
      try {
        const gw = await c.deviceId(255).catch((e: unknown) => reason(e));
        evidence.push(`Modbus: unit 255 (gateway): ${typeof gw === 'string' ? gw : [...gw.values()].join(' | ')}`);
        devices = await scanUnits(c);
      } finally {
        await c.close();
      }
    } catch (e) {
      evidence.push(`Modbus: ${reason(e)}`);
    }
    for (const d of devices) evidence.push(`Modbus: unit ${d.unit}: ${d.vendor} ${d.product} rev ${d.revision}, model ${d.model}, "${d.name}"`);
    if (devices.length > 0) evidence.push(`Modbus: ${devices.length} units answer of 247 scanned`);
    await trail(ctx, evidence, devices.length === 0);
    return {
      outcome: devices.length > 0 ? 'succeeded' : 'blocked',
      evidence,
      impact: { units: devices.length, devices: devices.map((d) => ({ unit: d.unit, model: d.model, name: d.name })) },
    };
  },
  async cleanup() {
    // nothing on the line changed
  },
};
