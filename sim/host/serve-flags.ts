/**
 * The flags `twinline serve` takes, in `node:util` parseArgs form: one list for the server's
 * own parser and for whatever starts a server with chosen flags (the security matrix's
 * profile files are checked against it, so a profile can only name flags serve really has).
 * Kept apart from `serve.ts` so that checking a flag does not load the faces.
 */
import { MODBUS_FLAGS } from '../protocols/modbus/flags.ts';
import { MQTT_FLAGS } from '../protocols/mqtt/flags.ts';

/** Every flag of `twinline serve`. */
export const SERVE_FLAGS = {
  'http-port': { type: 'string' }, 'opcua-port': { type: 'string' }, profile: { type: 'string' }, host: { type: 'string' }, seed: { type: 'string' }, speed: { type: 'string' },
  home: { type: 'string' }, 'allow-host': { type: 'string', multiple: true }, 'allow-origin': { type: 'string', multiple: true }, 'expose-open': { type: 'boolean' }, detectors: { type: 'string' }, playbooks: { type: 'string' }, exercises: { type: 'string' }, lessons: { type: 'string' }, warmup: { type: 'string' }, 'record-values': { type: 'string' }, historian: { type: 'string' }, 'history-hours': { type: 'string' }, 'snapshot-every': { type: 'string' }, resume: { type: 'string' }, nats: { type: 'string' }, 'nats-replicas': { type: 'string' },
  help: { type: 'boolean', short: 'h' }, ...MQTT_FLAGS, ...MODBUS_FLAGS,
} as const;

/** A flag's name. */
export type ServeFlag = keyof typeof SERVE_FLAGS;
