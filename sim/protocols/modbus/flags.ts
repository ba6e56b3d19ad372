/**
 * `twinline serve` flags of the Modbus face, kept here so the host's CLI only forwards them.
 * Modbus is off unless a port is given; under `hardened` it is read-only unless writes are
 * asked for, because nothing on the wire says who writes.
 */
import { isIP } from 'node:net';
import { TwinlineError } from '../../core/errors.ts';

/** `parseArgs` option definitions. */
export const MODBUS_FLAGS = {
  'modbus-port': { type: 'string' },
  'modbus-write': { type: 'boolean' },
  'modbus-read-only': { type: 'boolean' },
  'modbus-allow': { type: 'string', multiple: true },
} as const;

/** Usage lines. */
export const MODBUS_USAGE = `  --modbus-port N    serve Modbus/TCP on N (0 = a free port; off unless given): one unit id per station
                     (twinline modbus map). Modbus has no authentication: writes act as an operator
  --modbus-write     let Modbus clients write (hardened: read-only without it; open: writable)
  --modbus-read-only refuse Modbus writes under open too
  --modbus-allow A,… admit Modbus connections only from these addresses; repeatable`;

type Values = { 'modbus-port'?: string; 'modbus-write'?: boolean; 'modbus-read-only'?: boolean; 'modbus-allow'?: string[] };

/** What the Modbus face is asked to be. */
export interface ModbusFlags {
  port: number;
  writable: boolean;
  /** peer addresses admitted; null: any */
  allow: string[] | null;
}

/** The face's options from flags; null when no `--modbus-port` is given. */
export function modbusFromFlags(v: Values, profile: 'open' | 'hardened'): ModbusFlags | null {
  const raw = v['modbus-port'];
  if (raw === undefined) {
    for (const f of ['modbus-write', 'modbus-read-only', 'modbus-allow'] as const) {
      if (v[f] !== undefined) throw new TwinlineError('USAGE', `--${f} needs --modbus-port N (Modbus is off unless a port is given)`);
    }
    return null;
  }
  const port = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new TwinlineError('USAGE', `--modbus-port ${raw} is not a port (0…65535; 0 = a free port)`);
  if (v['modbus-write'] === true && v['modbus-read-only'] === true) throw new TwinlineError('USAGE', '--modbus-write and --modbus-read-only exclude each other');
  let allow: string[] | null = null;
  if (v['modbus-allow'] !== undefined) {
    allow = v['modbus-allow'].flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '');
    const bad = allow.find((a) => isIP(a) === 0);
    if (bad !== undefined) throw new TwinlineError('USAGE', `--modbus-allow ${bad} is not an IP address (Modbus peers are admitted by address)`);
    if (allow.length === 0) throw new TwinlineError('USAGE', '--modbus-allow names no address');
  }
  const writable = v['modbus-write'] === true || (profile === 'open' && v['modbus-read-only'] !== true);
  return { port, writable, allow };
}
