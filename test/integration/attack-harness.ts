/**
 * The security range under test: a real `twinline serve` of the kiln cell (its own temporary
 * home, every face on a free port) and the attack library run against it in-process, with the
 * range's instructor account (from the home) measuring the impact as `twinline attack run` does.
 */
import { runAttack, type AttackReport } from '../../security/attacks/run.ts';
import type { Credentials } from '../../security/attacks/types.ts';
import { startServe, type ServeProc } from './serve-proc.ts';

export const KILN = 'test/fixtures/scenarios/kiln-cell.yaml';

/** A served twin with its endpoints. */
export interface Range extends ServeProc {
  profile: 'open' | 'hardened';
  /** `opc.tcp://127.0.0.1:PORT` */
  opcua: string;
  /** `mqtt://127.0.0.1:PORT` */
  mqtt: string;
  /** `modbus://127.0.0.1:PORT`, or '' when the range serves no Modbus (`--modbus-port` in `extra`) */
  modbus: string;
  /** `mqtts://127.0.0.1:PORT` (hardened), or null */
  mqtts: string | null;
}

/** Starts the kiln cell under `profile` with every face on a free port (`extra`: more serve flags). */
export async function startRange(profile: 'open' | 'hardened', extra: readonly string[] = []): Promise<Range> {
  // hardened offers MQTT over TLS: on a free port too
  const tls = profile === 'hardened' ? ['--mqtts-port', '0'] : [];
  const s = await startServe([KILN, '--profile', profile, '--http-port', '0', '--opcua-port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '0', ...tls, ...extra]);
  const opcua = /OPC UA\s+(opc\.tcp:\/\/\S+)/.exec(s.out())?.[1];
  const mqtt = /MQTT\s+(mqtt:\/\/\S+)/.exec(s.out())?.[1];
  if (opcua === undefined || mqtt === undefined) {
    await s.stop();
    throw new Error(`serve did not print its OPC UA and MQTT endpoints:\n${s.out()}`);
  }
  const mqtts = /MQTT\/TLS\s+(mqtts:\/\/\S+)/.exec(s.out())?.[1] ?? null;
  const modbus = /Modbus\s+(modbus:\/\/\S+)/.exec(s.out())?.[1] ?? '';
  return Object.assign(s, { profile, opcua, mqtt, mqtts, modbus });
}

/** Runs attack `id` against the range's endpoint for its face, observed through the range's web address. */
export async function attack(r: Range, id: string, face: 'opcua' | 'mqtt' | 'rest' | 'modbus', o: { watchMs?: number; credentials?: Credentials } = {}): Promise<AttackReport> {
  const target = face === 'opcua' ? r.opcua : face === 'mqtt' ? r.mqtt : face === 'modbus' ? r.modbus : r.base;
  const log: string[] = [];
  const report = await runAttack({
    id, targets: face === 'rest' ? [target] : [target, r.base], home: r.home, watchMs: o.watchMs ?? 2000,
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    log: (l) => log.push(l),
  });
  // what the run saw, for a failing assertion's output
  console.log(`${r.profile} ${id}: ${report.outcome} ${JSON.stringify(report.impact)}\n  ${report.evidence.join('\n  ')}\n  ${log.join('\n  ')}`);
  return report;
}

/** The evidence lines that are refusals in the twin's audit trail or event log (denied or failed audit entries, rejected commands). */
export function refusals(r: AttackReport): string[] {
  return r.evidence.filter((l) => /^(event #\d+|events #\d+–#\d+ \d+ ×) (audit: \S+ \S+ (denied|failed) |command rejected: )/.test(l));
}

/** Waits until the station makes (or waits for) parts again: the cleanup put the line back. */
export async function producing(r: Range, station = 'kiln', ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const st = (await r.call('api/state', {}, 'viewer')).body as { stations: { id: string; state: string; mode: string }[] };
    const s = st.stations.find((x) => x.id === station);
    if (s !== undefined && ['Execute', 'Suspended', 'Suspending', 'Unsuspending'].includes(s.state) && s.mode === 'Production') return s.state;
    if (Date.now() > end) throw new Error(`${station} is ${s?.state ?? '?'} in ${s?.mode ?? '?'} after ${ms} ms`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
