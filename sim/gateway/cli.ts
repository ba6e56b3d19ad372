/**
 * `twinline gateway export|check`: the gateway kit. `export` writes a ready configuration
 * for a gateway (Node-RED, Telegraf, OPC Publisher) that reads the line over OPC UA and
 * publishes it to MQTT; `check` listens to what a gateway publishes and compares it with the
 * twin's ground truth. Exit codes: 0 ok, 2 bad usage, 3 the check found problems (missing or
 * stale tags, missed changes, value errors), 1 internal error.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseOptions } from '../host/args.ts';
import { TwinlineError } from '../core/errors.ts';
import { parseScenario } from '../line/parse.ts';
import { loadScenario } from '../host/record.ts';
import { renderTable } from '../host/table.ts';
import { LINE_NAMESPACE_INDEX, lineCatalog, type Catalog } from './catalog.ts';
import { DEFAULT_LIMITS, type CheckLimits, type CheckReport } from './check.ts';
import { EXPORT_FORMATS, exportConfig, type ExportFormat } from './export.ts';

/** The line both commands describe when none is given (the line `twinline serve` runs). */
const DEFAULT_SCENARIO = fileURLToPath(new URL('../../scenarios/ceramic-after.yaml', import.meta.url));

export const GATEWAY_USAGE = `usage: twinline gateway export --format ${EXPORT_FORMATS.join('|')} [scenario.yaml] [options]
       twinline gateway check --source FILTER [scenario.yaml] [options]

export: a ready configuration that makes the gateway read every tag of the line over OPC UA
and publish it to MQTT (stdout, or --out FILE).
  --format F            ${EXPORT_FORMATS.join(', ')}
  --out FILE            write to FILE (default: stdout)
  --endpoint URL        the twin's OPC UA endpoint (default opc.tcp://127.0.0.1:4840)
  --profile P           the twin's OPC UA profile: hardened (default; SignAndEncrypt, user) or open
  --user U              OPC UA user for the hardened profile (default viewer: reads only)
                        Node-RED: the user (and TWINLINE_OPCUA_PASSWORD if set) go to <out>_cred.json
  --namespace-index N   namespace index of the line on the server (default ${LINE_NAMESPACE_INDEX})
  --broker URL          broker the gateway publishes to (default mqtt://127.0.0.1:1883)
  --mqtt-user U         broker account of the gateway (Node-RED: to <out>_cred.json, with
                        TWINLINE_MQTT_PASSWORD if set)
  --topic ROOT          topic root the gateway publishes under (default twinline-gw/<format>)
  --sampling MS         OPC UA sampling interval (default 100);  --publishing MS (default 1000)

check: subscribes to what a gateway publishes and to the twin's own unified namespace on the
same broker, and compares: tag coverage, missing and stale tags, missed changes, value
errors, latency p50/p99, out-of-order and duplicate messages. A table, or JSON with --json.
  --source FILTER       MQTT topic filter of the gateway's messages, e.g. 'twinline-gw/#'
  --for D               how long to listen: 60s (default), 2m, 500ms
  --broker URL          broker (default mqtt://127.0.0.1:1883);  --user U, --password P
  --stale D             a delivered value older than the twin's by more than D is stale (default 5s)
  exit 3 when beyond a limit:  --max-missing N (tags that changed, never delivered; 0)
  --max-stale N (0)  --max-loss SHARE (1%)  --max-value-errors N (0)  --max-duplicates SHARE (1%)
  --max-out-of-order SHARE (1%)
  --json                print one JSON object instead of the table
exit codes: 0 ok, 2 bad usage, 3 the check found problems, 1 internal error`;

/** Where the command writes. */
export interface GatewayIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function usage(message: string): TwinlineError {
  return new TwinlineError('USAGE', message);
}

/** Parses `60s`, `2m`, `500ms`, `1h` or a bare number of seconds into ms. */
export function parseDuration(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(raw.trim());
  if (m === null) throw usage(`${flag} ${raw} is not a duration (60s, 2m, 500ms)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (!(ms > 0)) throw usage(`${flag} ${raw} must be longer than zero`);
  return ms;
}

function positiveInt(raw: string | undefined, flag: string, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw usage(`${flag} ${raw} must be a whole number ≥ ${min}`);
  return n;
}

function catalogOf(positionals: string[]): Catalog {
  if (positionals.length > 1) throw usage(`one scenario at most, got ${positionals.length}`);
  const file = positionals[0] ?? DEFAULT_SCENARIO;
  const loaded = loadScenario(file);
  return lineCatalog(parseScenario(loaded.text, loaded.file));
}

function exportCommand(argv: string[], io: GatewayIo): number {
  const parsed = parseOptions({
      args: argv, allowPositionals: true,
      options: {
        format: { type: 'string' }, out: { type: 'string', short: 'o' }, endpoint: { type: 'string' }, profile: { type: 'string' }, user: { type: 'string' },
        'namespace-index': { type: 'string' }, broker: { type: 'string' }, 'mqtt-user': { type: 'string' }, topic: { type: 'string' }, sampling: { type: 'string' }, publishing: { type: 'string' },
      },
    }, 'gateway export');
  const v = parsed.values;
  const format = v.format;
  if (format === undefined) throw usage('export needs --format');
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw usage(`--format ${format} is not one of ${EXPORT_FORMATS.join(', ')}`);
  const profile = v.profile ?? 'hardened';
  if (profile !== 'open' && profile !== 'hardened') throw usage(`--profile ${profile} is not valid: open or hardened`);
  const endpoint = v.endpoint ?? 'opc.tcp://127.0.0.1:4840';
  if (!endpoint.startsWith('opc.tcp://')) throw usage(`--endpoint ${endpoint} is not an opc.tcp:// URL`);
  const cat = catalogOf(parsed.positionals);
  const target = v.out === undefined || v.out === '-' ? null : v.out;
  const password = process.env.TWINLINE_OPCUA_PASSWORD;
  const mqttPassword = process.env.TWINLINE_MQTT_PASSWORD;
  const out = exportConfig(format as ExportFormat, cat, {
    endpoint, profile, user: v.user ?? 'viewer', out: target, ...(password === undefined || password === '' ? {} : { password }),
    ...(v['mqtt-user'] === undefined ? {} : { mqttUser: v['mqtt-user'] }), ...(mqttPassword === undefined || mqttPassword === '' ? {} : { mqttPassword }),
    namespaceIndex: positiveInt(v['namespace-index'], '--namespace-index', LINE_NAMESPACE_INDEX, 0),
    broker: v.broker ?? 'mqtt://127.0.0.1:1883', topic: v.topic ?? `twinline-gw/${format}`,
    samplingMs: positiveInt(v.sampling, '--sampling', 100), publishingMs: positiveInt(v.publishing, '--publishing', 1000),
  });
  if (target === null) io.stdout.write(out.text);
  else {
    for (const f of [{ file: target, text: out.text }, ...out.extra]) {
      try {
        // credentials are for the gateway's account alone
        writeFileSync(f.file, f.text, { mode: f.file === target ? 0o644 : 0o600 });
      } catch (e) {
        throw new TwinlineError('IO', `cannot write the configuration (${(e as { code?: string }).code ?? String(e)})`, { file: f.file });
      }
    }
    io.stderr.write(`wrote ${[target, ...out.extra.map((f) => f.file)].join(' and ')}: ${cat.tags.length} tags of ${cat.scenario}\n`);
  }
  io.stderr.write(`${out.hint}\n`);
  return 0;
}

const num = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const val = (v: unknown): string => JSON.stringify(v);
/** At most `n` names, then how many more. */
const some = (xs: readonly string[], n = 8): string => (xs.length <= n ? xs.join(', ') : `${xs.slice(0, n).join(', ')} and ${xs.length - n} more`);

/** The terminal table of a check report. */
export function reportTable(r: CheckReport): string {
  const t = r.tags;
  const c = r.changes;
  const never = r.neverDelivered.map((g) => (g.all ? `${g.station}: all ${g.changed.length + g.quiet.length} tags` : `${g.station}: ${some([...g.changed, ...g.quiet].map((k) => k.slice(g.station.length + 1)), 6)}`));
  const rows: [string, string, string][] = [
    ['tag coverage', `${num(100 * t.coverage, 1)} %`, `${t.delivered} of ${t.total} tags delivered; never: ${t.missing} that changed, ${t.quiet} quiet`],
    ['never delivered', String(t.missing + t.quiet), some(never, 6)],
    ['stale tags', String(t.stale), some(r.stale.map((s) => `${s.tag} ${num(s.staleS, 1)} s from ${num(s.fromS, 1)} s (${val(s.delivered)}, twin ${val(s.twin)})`), 5)],
    ['missed changes', `${num(100 * c.lossRate, 2)} %`, `${c.missed} of ${c.missed + c.delivered}; ${c.inFlight} in flight at the end`],
    ['loss windows', String(r.lossWindows.length), r.lossWindows.map((w) => `${num(w.startS, 1)}–${num(w.endS, 1)} s: ${w.missed} changes of ${w.tags.length} tags`).join('; ')],
    ['latency p50', `${num(r.latencyMs.p50, 1)} ms`, `${r.latencyMs.n} deliveries`],
    ['latency p99', `${num(r.latencyMs.p99, 1)} ms`, `max ${num(r.latencyMs.max, 1)} ms, mean ${num(r.latencyMs.mean, 1)} ms`],
    ['out of order', String(r.outOfOrder), ''],
    ['duplicates', String(r.duplicates), some(r.duplicatesByTag.map((d) => `${d.tag} ×${d.count}`), 5)],
    ['value errors', String(r.valueErrors), some(r.valueErrorsByTag.map((e) => `${e.tag} ×${e.count} (${e.worst.map((w) => `${val(w.delivered)}, twin ${val(w.twin)}`).join('; ')})`), 5)],
    ['unknown messages', String(r.messages.unattributed), r.examples.unattributed.join(', ')],
  ];
  const head = `${r.messages.delivered} gateway messages carrying ${r.messages.values} values (${r.messages.retainedIgnored} retained, not compared); ${r.messages.truth} twin changes in ${num(r.durationS, 1)} s`;
  const verdict = r.problems.length === 0 ? 'PASS: within the limits' : `FAIL: ${r.problems.join('; ')}`;
  return `${renderTable(['', 'value', 'detail'], rows, [false, true, false])}\n${head}\n${verdict}\n`;
}

/** True if the report shows something the gateway got wrong, beyond the limits it was checked with. */
export function hasProblems(r: CheckReport): boolean {
  return r.problems.length > 0;
}

/** A share: `1%`, `0.5 %` or `0.01`. */
function share(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*(%)?$/.exec(raw.trim());
  const x = m === null ? NaN : Number(m[1]) / (m[2] === '%' ? 100 : 1);
  if (!(x >= 0 && x <= 1)) throw usage(`${flag} ${raw} is not a share between 0 and 1 (0.01 or 1%)`);
  return x;
}

/** The limits of `check` from its flags. */
export function limitsOf(v: Record<string, string | boolean | undefined>): CheckLimits {
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
  return {
    missingTags: positiveInt(str('max-missing'), '--max-missing', DEFAULT_LIMITS.missingTags, 0),
    staleTags: positiveInt(str('max-stale'), '--max-stale', DEFAULT_LIMITS.staleTags, 0),
    lossRate: share(str('max-loss'), '--max-loss', DEFAULT_LIMITS.lossRate),
    valueErrors: positiveInt(str('max-value-errors'), '--max-value-errors', DEFAULT_LIMITS.valueErrors, 0),
    duplicateRate: share(str('max-duplicates'), '--max-duplicates', DEFAULT_LIMITS.duplicateRate),
    outOfOrderRate: share(str('max-out-of-order'), '--max-out-of-order', DEFAULT_LIMITS.outOfOrderRate),
  };
}

async function checkCommand(argv: string[], io: GatewayIo): Promise<number> {
  const parsed = parseOptions({
      args: argv, allowPositionals: true,
      options: { source: { type: 'string' }, for: { type: 'string' }, broker: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, stale: { type: 'string' }, json: { type: 'boolean' },
        'max-missing': { type: 'string' }, 'max-stale': { type: 'string' }, 'max-loss': { type: 'string' }, 'max-value-errors': { type: 'string' },
        'max-duplicates': { type: 'string' }, 'max-out-of-order': { type: 'string' } },
    }, 'gateway check');
  const v = parsed.values;
  if (v.source === undefined) throw usage('check needs --source <topic filter>');
  const durationMs = parseDuration(v.for ?? '60s', '--for');
  const staleMs = parseDuration(v.stale ?? '5s', '--stale');
  const limits = limitsOf(v);
  const cat = catalogOf(parsed.positionals);
  const { runCheck } = await import('./live-check.ts');
  const report = await runCheck({
    catalog: cat, broker: v.broker ?? 'mqtt://127.0.0.1:1883', source: v.source, durationMs, tuning: { staleMs }, limits,
    ...(v.user === undefined ? {} : { username: v.user }), ...(v.password === undefined ? {} : { password: v.password }),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  if (v.json === true) io.stdout.write(`${JSON.stringify({ scenario: cat.scenario, source: v.source, truth: `${cat.prefix}/#`, ...report })}\n`);
  else io.stdout.write(reportTable(report));
  return hasProblems(report) ? 3 : 0;
}

/** Runs `twinline gateway <sub> …`; returns the exit code. */
export async function gatewayCommand(argv: readonly string[], io: GatewayIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${GATEWAY_USAGE}\n`);
    return 0;
  }
  if (sub === 'export') return exportCommand(rest, io);
  if (sub === 'check') return checkCommand(rest, io);
  throw usage(`unknown gateway command "${sub}": export or check`);
}
