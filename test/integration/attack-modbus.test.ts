/**
 * The Modbus attacks of the range against real `twinline serve` processes of the kiln cell,
 * both under the hardened profile. With Modbus on and writable (`--modbus-write`) every
 * attack gets through whatever the profile says, because Modbus cannot authenticate: the
 * kiln stops, its zone setpoint moves and the zone heats, each write in the event log as an
 * operator's command from `modbus@<address>`. With the hardened default (read-only Modbus)
 * reconnaissance still works (reads are what read-only allows), and every write is refused
 * with exception 01 and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedMap } from '../../security/attacks/clients/modbus.ts';
import { COMMAND_COILS } from '../../sim/protocols/modbus/map.ts';
import { attack, producing, refusals, startRange, type Range } from './attack-harness.ts';

let writable: Range;
let readOnly: Range;

beforeAll(async () => {
  [writable, readOnly] = await Promise.all([
    startRange('hardened', ['--speed', '10', '--modbus-port', '0', '--modbus-write']),
    startRange('hardened', ['--speed', '10', '--modbus-port', '0']),
  ]);
}, 200_000);

afterAll(async () => {
  await Promise.all([writable?.stop(), readOnly?.stop()]);
});

describe('Modbus attacks, hardened profile with Modbus writes enabled', () => {
  it('modbus-discovery: every unit and its model, without a credential', async () => {
    expect(writable.modbus).toMatch(/^modbus:\/\/127\.0\.0\.1:\d+$/);
    const r = await attack(writable, 'modbus-discovery', 'modbus');
    expect(r.outcome).toBe('succeeded');
    expect(r.impact).toMatchObject({ units: 4, devices: [{ unit: 1, model: 'source' }, { unit: 2, model: 'conveyor' }, { unit: 3, model: 'kiln', name: 'kiln @ kiln-cell' }, { unit: 4, model: 'sink' }] });
    expect(r.evidence.join('\n')).toMatch(/audit: modbus connect allowed for modbus@127\.0\.0\.1: writes enabled, no authentication/);
  });

  it('modbus-read: the kiln\'s setpoints and live zone temperatures', async () => {
    const r = await attack(writable, 'modbus-read', 'modbus');
    expect(r.outcome).toBe('succeeded');
    // the PackML commands and acknowledge-all, then one acknowledge coil per alarm the kiln can raise
    const kilnCommands = publishedMap('kiln')!.tables.coil.filter((p) => p.type === 'command');
    expect(kilnCommands.length).toBeGreaterThan(COMMAND_COILS.length);
    expect(r.impact).toMatchObject({ unit: 3, commandCoils: kilnCommands.length, values: { sp1: 900, sp2: 1100, recipe1: 900, zones: 2 } });
    expect(r.evidence.join('\n')).toMatch(/command coils: start@0, stop@1, .*ack@10, ack \w+@3\d/);
    expect(r.impact.setpoints).toBeGreaterThan(10);
    const t1 = (r.impact.values as Record<string, number>).t1!;
    expect(Math.abs(t1 - 900)).toBeLessThan(100);
  });

  it('modbus-stop: the kiln stops; the log names modbus@127.0.0.1 acting as an operator; the cleanup restarts it', async () => {
    const r = await attack(writable, 'modbus-stop', 'modbus');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { write: 'ok', stateAfter: 'Stopped' } });
    expect(r.impact.downtimeS).toBeGreaterThan(0);
    expect(r.evidence.join('\n')).toMatch(/command accepted: modbus stop on kiln by modbus@127\.0\.0\.1 \(operator\)/);
    await producing(writable);
  });

  it('modbus-setpoint: zone 1 driven 200 °C past its recipe, and the zone heats', async () => {
    const r = await attack(writable, 'modbus-setpoint', 'modbus', { watchMs: 4000 });
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { write: 'ok', setpoint: { sp1: [900, 1100] } } });
    const [t0, t1] = (r.impact.processValue as { t1: [number, number] }).t1;
    expect(t1).toBeGreaterThan(t0);
    expect(r.evidence.join('\n')).toMatch(/command accepted: modbus set \{"field":"sp1","value":1100\} on kiln by modbus@127\.0\.0\.1 \(operator\)/);
    // the cleanup put the setpoint back
    const line = (await writable.call('api/line', {}, 'viewer')).body as { stations: { id: string; tags: { name: string }[] }[] };
    const k = line.stations.find((s) => s.id === 'kiln')!.tags.findIndex((t) => t.name === 'sp1');
    const st = (await writable.call('api/state', {}, 'viewer')).body as { stations: { id: string; tags: number[] }[] };
    expect(st.stations.find((s) => s.id === 'kiln')!.tags[k]).toBe(900);
  });
});

describe('Modbus attacks, hardened profile with read-only Modbus (the default)', () => {
  it('reconnaissance still works: reads are what read-only allows', async () => {
    expect(readOnly.out()).toMatch(/Modbus\s+modbus:\/\/\S+\s+\(units 1–4, one per station: twinline modbus map; read-only\)/);
    expect((await attack(readOnly, 'modbus-discovery', 'modbus')).impact.units).toBe(4);
    const r = await attack(readOnly, 'modbus-read', 'modbus');
    expect(r).toMatchObject({ outcome: 'succeeded', impact: { values: { sp1: 900 } } });
  });

  it('modbus-stop: exception 01, the kiln runs on, the refusal is audited', async () => {
    const r = await attack(readOnly, 'modbus-stop', 'modbus');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { write: 'exception 01 (illegal function)' } });
    expect(r.impact.stateAfter).toBe(r.impact.stateBefore);
    expect(refusals(r).join('\n')).toMatch(/audit: modbus write denied for modbus@127\.0\.0\.1 on unit 3 \(kiln\) coil 000002: the Modbus face is read-only/);
    expect(r.evidence.join('\n')).not.toMatch(/command accepted: modbus/);
  });

  it('modbus-setpoint: exception 01, the setpoint stays, the refusal is audited', async () => {
    const r = await attack(readOnly, 'modbus-setpoint', 'modbus');
    expect(r).toMatchObject({ outcome: 'blocked', impact: { write: 'exception 01 (illegal function)', setpoint: { sp1: [900, 900] } } });
    expect(refusals(r).join('\n')).toMatch(/audit: modbus write denied for modbus@127\.0\.0\.1 on unit 3 \(kiln\) holding 4\d+ \+2: the Modbus face is read-only/);
  });
});
