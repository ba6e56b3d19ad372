/**
 * The largest scenario Twinline reads. The YAML parser keeps about 100 bytes of heap per byte
 * of text while it builds the positioned document the messages need, so the file size bounds
 * the memory of `validate`, `run` and `serve`; every station costs world memory and, under
 * `serve`, OPC UA nodes and MQTT topics. Both are checked before the expensive step, and a
 * file over a limit is a usage error naming the limit, never an out-of-memory crash.
 */

/** Largest scenario file [bytes]: 16 MiB, about 130,000 compact stations. */
export const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;
/** Most stations in one line (`validate`, `run`). */
export const MAX_STATIONS = 100_000;
/**
 * Most stations `serve` puts behind its faces. Every station becomes a few hundred OPC UA nodes
 * (Machinery, PackML and DI companion objects) built before the server is up: measured on a
 * 2-core machine under load (run queue ~20), 200 stations were up in 17 s and 500 in 144 s,
 * growing faster than the count. A plant of several seed lines has a few hundred; `run` (no
 * faces) takes up to MAX_STATIONS.
 */
export const MAX_SERVE_STATIONS = 500;
/** Most scheduled faults and most setpoint changes in one scenario, each. */
export const MAX_SCHEDULED = 100_000;

/** `12.3 MB`: a size for messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
