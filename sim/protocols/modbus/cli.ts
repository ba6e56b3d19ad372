/**
 * `twinline modbus map [scenario.yaml] [--json]`: the register map a gateway engineer
 * configures a Modbus master with — per unit (station) and table, each point's address,
 * conventional reference, tag, type, unit, scale and access. The same line always gives the
 * same map, and it is the map `serve --modbus-port` serves.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TwinlineError } from '../../core/errors.ts';
import { createWorld } from '../../line/build.ts';
import { parseScenario } from '../../line/parse.ts';
import { readScenario } from '../../host/record.ts';
import { renderTable } from '../../host/table.ts';
import { accessText, modbusMap, reference, type UnitMap } from './map.ts';

const DEFAULT_SCENARIO = fileURLToPath(new URL('../../../scenarios/ceramic-after.yaml', import.meta.url));

export const MODBUS_CLI_USAGE = `usage: twinline modbus map [scenario.yaml] [--json]

The register map of the Modbus/TCP face (twinline serve --modbus-port N) for the line
(default: scenarios/ceramic-after.yaml): one unit id per station (unit k + 1 for the k-th
station), coils 0-10 the PackML commands and acknowledge all alarms (write 1), coils 32-63
one alarm's acknowledge (coil 32 + the alarm's bit, write 1), coils from 100 the
boolean parameters, discrete inputs the boolean readings, input registers the readings,
holding registers the setpoints and parameters; numbers take two registers, high word first
(float32, or int32 for counts and states), in the tag's unit (scale 1).
  --json   one JSON object: {scenario, byteOrder, units: [{unit, station, kind, points: […]}]}`;

/** Where the command writes. */
export interface ModbusIo {
  stdout: NodeJS.WritableStream;
}

/** The map as text: one table per unit. */
export function renderMap(units: readonly UnitMap[]): string {
  const out: string[] = [];
  for (const u of units) {
    out.push(`unit ${u.unit}  ${u.station} (${u.kind})`);
    const rows = u.points.map((p) => [p.table, String(p.address), reference(p), p.tag, p.type, p.unit, String(p.scale), accessText(p)]);
    out.push(renderTable(['table', 'address', 'ref', 'tag', 'type', 'unit', 'scale', 'access'], rows, [false, true, true]), '');
  }
  return out.join('\n');
}

/** `twinline modbus …`; the exit code. */
export function modbusCommand(argv: readonly string[], io: ModbusIo): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(`${MODBUS_CLI_USAGE}\n`);
    return 0;
  }
  if (sub !== 'map') throw new TwinlineError('USAGE', `unknown modbus command "${sub}"\n${MODBUS_CLI_USAGE}`);
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new TwinlineError('USAGE', `${(e as Error).message}\n${MODBUS_CLI_USAGE}`);
  }
  if (parsed.values.help === true) {
    io.stdout.write(`${MODBUS_CLI_USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length > 1) throw new TwinlineError('USAGE', `modbus map takes one scenario, got ${parsed.positionals.length}`);
  const file = parsed.positionals[0] ?? DEFAULT_SCENARIO;
  const spec = parseScenario(readScenario(file), file);
  const units = modbusMap(spec, createWorld(spec));
  if (parsed.values.json === true) {
    const body = {
      scenario: spec.id,
      byteOrder: 'big-endian bytes, high word first (ABCD)',
      units: units.map((u) => ({ unit: u.unit, station: u.station, kind: u.kind, points: u.points.map((p) => ({ ...p, reference: reference(p) })) })),
    };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    io.stdout.write(`Modbus/TCP register map of ${spec.id}: addresses 0-based as sent in the PDU (ref: 1-based, 0x/1x/3x/4x); 32-bit values high word first\n\n${renderMap(units)}`);
  }
  return 0;
}
