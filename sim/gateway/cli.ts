/**
 * `twinline gateway export|check`: the gateway kit. `export` writes a ready configuration
 * for a gateway (Node-RED, Telegraf, OPC Publisher) that reads the line over OPC UA and
 * publishes it to MQTT; `check` listens to what a gateway publishes and compares it with the
 * twin's ground truth. Exit codes: 0 ok, 2 bad usage, 3 the check found problems (missing or
 * stale tags, missed changes, value errors), 1 internal error.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TwinlineError } from '../core/errors.ts';
import { parseScenario } from '../line/parse.ts';
import { readScenario } from '../host/record.ts';
import { renderTable } from '../host/table.ts';
import { LINE_NAMESPACE_INDEX, lineCatalog, type Catalog } from './catalog.ts';
import type { CheckReport } from './check.ts';
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
  --user U              OPC UA user for the hardened profile (default operator)
  --namespace-index N   namespace index of the line on the server (default ${LINE_NAMESPACE_INDEX})
  --broker URL          broker the gateway publishes to (default mqtt://127.0.0.1:1883)
  --topic ROOT          topic root the gateway publishes under (default twinline-gw/<format>)
  --sampling MS         OPC UA sampling interval (default 100);  --publishing MS (default 1000)

check: subscribes to what a gateway publishes and to the twin's own unified namespace on the
same broker, and compares: tag coverage, missing and stale tags, missed changes, value
errors, latency p50/p99, out-of-order and duplicate messages. A table, or JSON with --json.
  --source FILTER       MQTT topic filter of the gateway's messages, e.g. 'twinline-gw/#'
  --for D               how long to listen: 60s (default), 2m, 500ms
  --broker URL          broker (default mqtt://127.0.0.1:1883);  --user U, --password P
  --stale D             a tag lagging the twin longer than this is stale (default 5s)
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
  return lineCatalog(parseScenario(readScenario(file), file));
}

function exportCommand(argv: string[], io: GatewayIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        format: { type: 'string' }, out: { type: 'string', short: 'o' }, endpoint: { type: 'string' }, profile: { type: 'string' }, user: { type: 'string' },
        'namespace-index': { type: 'string' }, broker: { type: 'string' }, topic: { type: 'string' }, sampling: { type: 'string' }, publishing: { type: 'string' },
      },
    });
  } catch (e) {
    throw usage((e as Error).message);
  }
  const v = parsed.values;
  const format = v.format;
  if (format === undefined) throw usage('export needs --format');
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw usage(`--format ${format} is not one of ${EXPORT_FORMATS.join(', ')}`);
  const profile = v.profile ?? 'hardened';
  if (profile !== 'open' && profile !== 'hardened') throw usage(`--profile ${profile} is not valid: open or hardened`);
  const endpoint = v.endpoint ?? 'opc.tcp://127.0.0.1:4840';
  if (!endpoint.startsWith('opc.tcp://')) throw usage(`--endpoint ${endpoint} is not an opc.tcp:// URL`);
  const cat = catalogOf(parsed.positionals);
  const out = exportConfig(format as ExportFormat, cat, {
    endpoint, profile, user: v.user ?? 'operator',
    namespaceIndex: positiveInt(v['namespace-index'], '--namespace-index', LINE_NAMESPACE_INDEX, 0),
    broker: v.broker ?? 'mqtt://127.0.0.1:1883', topic: v.topic ?? `twinline-gw/${format}`,
    samplingMs: positiveInt(v.sampling, '--sampling', 100), publishingMs: positiveInt(v.publishing, '--publishing', 1000),
  });
  if (v.out === undefined || v.out === '-') io.stdout.write(out.text);
  else {
    try {
      writeFileSync(v.out, out.text);
    } catch (e) {
      throw new TwinlineError('IO', `cannot write the configuration (${(e as { code?: string }).code ?? String(e)})`, { file: v.out });
    }
    io.stderr.write(`wrote ${v.out}: ${cat.tags.length} tags of ${cat.scenario}\n`);
  }
  io.stderr.write(`${out.hint}\n`);
  return 0;
}

const num = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** The terminal table of a check report. */
export function reportTable(r: CheckReport): string {
  const t = r.tags;
  const c = r.changes;
  const rows: [string, string, string][] = [
    ['tag coverage', `${num(100 * t.coverage, 1)} %`, `${t.covered} of ${t.covered + t.missing} tags that changed; ${t.quiet} never changed; ${t.total} in the line`],
    ['missing tags', String(t.missing), r.examples.missing.join(', ')],
    ['stale tags', String(t.stale), r.examples.stale.map((s) => `${s.tag} (${String(s.delivered)} ≠ ${String(s.twin)})`).join(', ')],
    ['missed changes', `${num(100 * c.lossRate, 2)} %`, `${c.missed} of ${c.missed + c.delivered}; ${c.inFlight} in flight at the end`],
    ['latency p50', `${num(r.latencyMs.p50, 1)} ms`, `${r.latencyMs.n} deliveries`],
    ['latency p99', `${num(r.latencyMs.p99, 1)} ms`, `max ${num(r.latencyMs.max, 1)} ms, mean ${num(r.latencyMs.mean, 1)} ms`],
    ['out of order', String(r.outOfOrder), ''],
    ['duplicates', String(r.duplicates), r.examples.duplicates.map((d) => `${d.tag} ${String(d.value)}`).join(', ')],
    ['value errors', String(r.valueErrors), r.examples.valueErrors.map((e) => `${e.tag} ${String(e.delivered)} (twin ${String(e.twin)})`).join(', ')],
    ['unknown messages', String(r.messages.unattributed), r.examples.unattributed.join(', ')],
  ];
  const head = `${r.messages.delivered} gateway messages carrying ${r.messages.values} values (${r.messages.retainedIgnored} retained, not compared); ${r.messages.truth} twin changes in ${num(r.durationS, 1)} s`;
  return `${renderTable(['', 'value', 'detail'], rows, [false, true, false])}\n${head}\n`;
}

/** True if the report shows something the gateway got wrong. */
export function hasProblems(r: CheckReport): boolean {
  return r.tags.missing > 0 || r.tags.stale > 0 || r.changes.missed > 0 || r.valueErrors > 0 || r.outOfOrder > 0 || r.duplicates > 0;
}

async function checkCommand(argv: string[], io: GatewayIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: { source: { type: 'string' }, for: { type: 'string' }, broker: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, stale: { type: 'string' }, json: { type: 'boolean' } },
    });
  } catch (e) {
    throw usage((e as Error).message);
  }
  const v = parsed.values;
  if (v.source === undefined) throw usage('check needs --source <topic filter>');
  const durationMs = parseDuration(v.for ?? '60s', '--for');
  const staleMs = parseDuration(v.stale ?? '5s', '--stale');
  const cat = catalogOf(parsed.positionals);
  const { runCheck } = await import('./live-check.ts');
  const report = await runCheck({
    catalog: cat, broker: v.broker ?? 'mqtt://127.0.0.1:1883', source: v.source, durationMs, tuning: { staleMs },
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
