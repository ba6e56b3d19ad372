/**
 * Safety limits are not setpoints: on a world built from a built-in scenario, each role may
 * write only the fields of its level (operator setpoints, engineer parameters, safety limits
 * in unit mode Maintenance), every write stays inside the field's declared range, and every
 * refusal is an event that names the reason. The last block guards the field specs of every
 * kind, so a new kind cannot ship a trip limit that an operator may turn.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Command, Role } from '../../sim/core/commands.ts';
import type { SimEvent } from '../../sim/core/events.ts';
import { COMMON_FIELDS } from '../../sim/core/station.ts';
import type { FieldSpec } from '../../sim/core/types.ts';
import type { World } from '../../sim/core/world.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { MACHINE_KINDS } from '../../sim/machines/index.ts';
import { drained } from './world-helpers.ts';
import { Mode, State } from '../../sim/plc/packml.ts';
import { checkCommand } from '../../sim/worker/command-check.ts';
import { stationTags } from '../../sim/worker/twin-view.ts';
import { runFor } from './world-helpers.ts';

const FILE = 'scenarios/ceramic-after.yaml';
const SPEC = parseScenario(readFileSync(FILE, 'utf8'), FILE);

/** The ceramic line, run for a moment so every station is in Execute. */
function ceramicLine(): { w: World; kiln: number } {
  const w = createWorld(SPEC);
  runFor(w, 2);
  w.drainEvents(() => undefined);
  const kiln = w.indexOf('kiln');
  expect(w.st.state[kiln]).toBe(State.Execute);
  return { w, kiln };
}

/** A command as a face sends it for a signed-in account of `role`. */
function as(role: Role, target: string, command: string, args?: Command['args']): Command {
  return { target, command, source: 'api', principal: `${role}-1`, role, ...(args === undefined ? {} : { args }) };
}

const set = (role: Role, field: string, value: number): Command => as(role, 'kiln', 'set', { field, value });

/** Applies `cmd` at the next tick and returns the `command` or `rejected` event it produced. */
function send(w: World, cmd: Command): SimEvent {
  w.enqueue(cmd);
  w.step(1);
  const ev = drained(w).find((e) => (e.type === 'command' || e.type === 'rejected') && e.data.command === cmd.command && e.data.principal === cmd.principal);
  if (ev === undefined) throw new Error(`no command or rejected event for ${JSON.stringify(cmd)}`);
  return ev;
}

/** Stops station `s` and puts it into unit mode Maintenance (an operator may do both). */
function toMaintenance(w: World, s: number): void {
  const id = w.ids[s] ?? '';
  expect(send(w, as('operator', id, 'stop')).type).toBe('command');
  runFor(w, 2);
  expect(w.st.state[s]).toBe(State.Stopped);
  expect(send(w, as('operator', id, 'mode', { mode: 'maintenance' })).type).toBe('command');
  expect(w.st.mode[s]).toBe(Mode.maintenance);
}

describe('write levels on a running line', () => {
  it('refuses an operator writing the kiln heater rating, with a rejected event that says why', () => {
    const { w, kiln } = ceramicLine();
    const before = w.read(kiln, 'maxPower');
    const ev = send(w, set('operator', 'maxPower', 1e8));
    expect(ev.type).toBe('rejected');
    expect(ev.station).toBe('kiln');
    expect(ev.data).toMatchObject({ code: 'NOT_AUTHORIZED', role: 'operator', principal: 'operator-1', source: 'api' });
    expect(String(ev.data.reason)).toBe('maxPower: the operator role may not write a parameter (needs the engineer role)');
    expect(w.read(kiln, 'maxPower')).toBe(before);
  });

  it('lets an operator turn a zone setpoint', () => {
    const { w, kiln } = ceramicLine();
    const ev = send(w, set('operator', 'sp1', 980));
    expect(ev.type).toBe('command');
    expect(ev.data.role).toBe('operator');
    expect(w.read(kiln, 'sp1')).toBe(980);
  });

  it('lets an engineer write a parameter inside its range and refuses one outside it', () => {
    const { w, kiln } = ceramicLine();
    expect(send(w, set('engineer', 'maxPower', 200_000)).type).toBe('command');
    expect(w.read(kiln, 'maxPower')).toBe(200_000);
    const ev = send(w, set('engineer', 'maxPower', 1e8));
    expect(ev.type).toBe('rejected');
    expect(ev.data.code).toBe('OUT_OF_RANGE');
    expect(String(ev.data.reason)).toMatch(/^maxPower = 100000000 W is outside \[0, 5000000\]$/);
    expect(w.read(kiln, 'maxPower')).toBe(200_000);
    // an operator's setpoint is bounded the same way
    expect(send(w, set('operator', 'sp1', 5000))).toMatchObject({ type: 'rejected', data: { code: 'OUT_OF_RANGE' } });
  });

  it('changes a trip limit only by an engineer and only in unit mode Maintenance', () => {
    const { w, kiln } = ceramicLine();
    const trip = w.read(kiln, 'tripTemp');
    const inProduction = send(w, set('engineer', 'tripTemp', 1380));
    expect(inProduction.type).toBe('rejected');
    expect(inProduction.data.code).toBe('NOT_AUTHORIZED');
    expect(String(inProduction.data.reason)).toBe('tripTemp: a safety limit may be changed only in unit mode Maintenance');
    expect(w.read(kiln, 'tripTemp')).toBe(trip);

    toMaintenance(w, kiln);
    const byOperator = send(w, set('operator', 'tripTemp', 1380));
    expect(byOperator.data.code).toBe('NOT_AUTHORIZED');
    expect(String(byOperator.data.reason)).toMatch(/operator role may not write a safety limit \(needs the engineer role\)/);
    expect(send(w, set('engineer', 'tripTemp', 1380)).type).toBe('command');
    expect(w.read(kiln, 'tripTemp')).toBe(1380);
    // still inside the kiln's range, even in Maintenance
    expect(send(w, set('engineer', 'tripTemp', 2400)).data.code).toBe('OUT_OF_RANGE');
    expect(w.read(kiln, 'tripTemp')).toBe(1380);
  });

  it('lets viewer and gateway accounts send nothing', () => {
    const { w, kiln } = ceramicLine();
    for (const role of ['viewer', 'gateway'] as const) {
      const tries: Command[] = [
        set(role, 'sp1', 980),
        as(role, 'kiln', 'stop'),
        as(role, 'kiln', 'hold'),
        as(role, 'kiln', 'ack'),
        as(role, 'kiln', 'mode', { mode: 'maintenance' }),
        as(role, 'line', 'stop'),
      ];
      for (const c of tries) {
        const ev = send(w, c);
        expect(ev.type, `${role} ${c.target} ${c.command}`).toBe('rejected');
        expect(ev.data.code).toBe('NOT_AUTHORIZED');
        expect(String(ev.data.reason)).toBe(`the ${role} role may not send commands`);
      }
    }
    expect(w.read(kiln, 'sp1')).toBe(950);
    for (let s = 0; s < w.size; s++) expect(w.st.state[s], w.ids[s]).toBe(State.Execute);
  });

  it('injects faults only for the instructor', () => {
    const { w, kiln } = ceramicLine();
    for (const role of ['operator', 'engineer'] as const) {
      const ev = send(w, as(role, 'kiln', 'fault', { duration: 30 }));
      expect(ev.data.code).toBe('NOT_AUTHORIZED');
      expect(String(ev.data.reason)).toBe(`the ${role} role may not send "fault" (fault injection needs the instructor role)`);
      expect(w.st.fault[kiln]).toBe(0);
    }
    expect(send(w, as('instructor', 'kiln', 'fault', { duration: 30 })).type).toBe('command');
    expect(w.st.fault[kiln]).not.toBe(0);
  });

  it('gives the line\'s own sources full authority, which network sources never get', () => {
    const { w, kiln } = ceramicLine();
    const script: Command = { target: 'kiln', command: 'set', source: 'scenario', principal: 'scenario:ceramic-after', args: { field: 'tripTemp', value: 1390 } };
    expect(checkCommand(script)).toBeNull();
    const ev = send(w, script);
    expect(ev.type).toBe('command');
    expect(ev.data.role).toBeUndefined();
    expect(w.read(kiln, 'tripTemp')).toBe(1390);
    // the same command from the network without a role never reaches the world
    for (const source of ['api', 'hmi', 'opcua', 'mqtt', 'modbus', 'attack'] as const) {
      expect(checkCommand({ ...script, source }), source).toMatchObject({ ok: false, code: 'NOT_AUTHORIZED' });
    }
    expect(checkCommand({ ...script, source: 'api', role: 'operator' })).toBeNull();
  });

  it('logs a NaN or infinite value in the rejected event as what it was', () => {
    const { w } = ceramicLine();
    const nan = send(w, set('operator', 'sp1', Number.NaN));
    expect(nan.type).toBe('rejected');
    expect(nan.data.code).toBe('BAD_ARGUMENT');
    expect(nan.data.args).toBe('{"field":"sp1","value":"NaN"}');
    const inf = send(w, set('engineer', 'maxPower', Number.NEGATIVE_INFINITY));
    expect(inf.data.args).toBe('{"field":"maxPower","value":"-Infinity"}');
    expect(w.commandLog.at(-1)?.args?.value).toBe(Number.NEGATIVE_INFINITY);
  });
});

/** Every field of every kind, with the common station fields under `common`. */
const FIELDS: [string, string, FieldSpec][] = [
  ...Object.entries(COMMON_FIELDS as Record<string, FieldSpec>).map(([n, f]): [string, string, FieldSpec] => ['common', n, f]),
  ...MACHINE_KINDS.flatMap((k) => Object.entries(k.fields).map(([n, f]): [string, string, FieldSpec] => [k.kind, n, f])),
];
/** Fields whose names look like a safety limit but are not one, and why. */
const NOT_SAFETY: ReadonlyMap<string, string> = new Map([['source.limit', 'the order quantity: parts to release in all']]);

describe('write levels of the field specs', () => {
  it('makes every trip, limit and interlock parameter of every kind a safety limit', () => {
    const looksSafety = FIELDS.filter(([, n, f]) => f.access === 'rw' && /trip|limit|interlock/i.test(n));
    expect(looksSafety.length).toBeGreaterThan(NOT_SAFETY.size);
    for (const [k, n, f] of looksSafety) {
      if (NOT_SAFETY.has(`${k}.${n}`)) continue;
      expect(f.write, `${k}.${n} looks like a safety limit`).toBe('safety');
    }
    for (const name of NOT_SAFETY.keys()) expect(FIELDS.some(([k, n]) => `${k}.${n}` === name), `${name} still exists`).toBe(true);
  });

  it('has the over-temperature and lining-protection trips as safety limits', () => {
    const level = (kind: string, name: string): string | undefined => FIELDS.find(([k, n]) => k === kind && n === name)?.[2].write;
    expect(level('kiln', 'tripTemp')).toBe('safety');
    expect(level('induction-furnace', 'refractoryLimit')).toBe('safety');
    expect(level('kiln', 'sp1')).toBe('operator');
    expect(level('kiln', 'maxPower')).toBeUndefined();
    expect(level('kiln', 'maxTemp')).toBeUndefined();
  });

  it('gives write levels only to parameters, and every parameter a range its default lies in', () => {
    for (const [k, n, f] of FIELDS) {
      if (f.access !== 'rw') {
        expect(f.write, `${k}.${n} is read-only`).toBeUndefined();
        continue;
      }
      expect(Number.isFinite(f.min) && Number.isFinite(f.max), `${k}.${n} has a finite range`).toBe(true);
      expect(f.default ?? 0, `${k}.${n} default`).toBeGreaterThanOrEqual(f.min ?? -Infinity);
      expect(f.default ?? 0, `${k}.${n} default`).toBeLessThanOrEqual(f.max ?? Infinity);
    }
  });
});

describe('the line description for a faceplate', () => {
  it('says who may write each parameter, and nothing for read-only tags', () => {
    const { w, kiln } = ceramicLine();
    const tags = new Map(stationTags(w, kiln).map((t) => [t.name, t]));
    expect(tags.get('sp1')?.write).toBe('operator');
    expect(tags.get('maxPower')?.write).toBe('engineer');
    expect(tags.get('tripTemp')?.write).toBe('safety');
    expect(tags.get('operators')?.write).toBe('engineer');
    expect(tags.get('t1')?.access).toBe('r');
    expect(tags.get('t1')).not.toHaveProperty('write');
    for (const t of tags.values()) expect(t.write !== undefined, t.name).toBe(t.access === 'rw');
  });
});
