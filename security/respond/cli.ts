/**
 * `twinline respond`: incident response against a running `twinline serve` from the command
 * line, through its REST API as a responder's account: perform an action (ban, isolate,
 * restore setpoints …), read the incident's grading and its playbook with deadlines, what is
 * shut, the action log; and `playbooks [DIR]` checks a playbook folder offline. Exit codes: 0
 * the twin did it (or had nothing to do), 1 the action failed on the twin or an internal
 * error, 2 bad usage or a refusal (nothing was done).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseOptions } from '../../sim/host/args.ts';
import { TwinlineError } from '../../sim/core/errors.ts';
import { homeDir } from '../../sim/host/home.ts';
import { restCall, type Answer } from '../attacks/clients/rest.ts';
import { rangeAccount } from '../attacks/observer.ts';
import { ACTION_SPECS, ACTIONS, actionUsage, isAction, type ActionName } from './actions.ts';
import type { ActionRecord } from './action-log.ts';
import type { Classification } from '../playbooks/classify.ts';
import { incidentReport } from '../report/incident-report.ts';
import { gatherReport } from '../report/gather.ts';

export const RESPOND_USAGE = `usage: twinline respond <action> [--<field> value …] [options]
       twinline respond incident [--from MS] [--to MS] | status | log [--since N] [options]
       twinline respond report [--out FILE] [--lang en|zh] [--from MS] [--to MS] [options]
       twinline respond playbooks [DIR]

Acts on a running twin (twinline serve) as a responder (engineer or instructor account):
${actionUsage().map((l) => `  ${l}`).join('\n')}
  every action also takes --step phase.step (the playbook step it carries out) and --reason TEXT.
  Fields are flags: --account anonymous, --mqtt-client ID, --face opcua, --stations kiln,press (a list),
  --manual (true).

incident    the impact measured since the incident began, its level and warning colour, the playbook
            and each phase's deadline (GET /api/incident; --from/--to: wall time [ms since the epoch])
status      what is banned and isolated, the snapshots (GET /api/respond)
log         the actions performed so far (GET /api/respond/log)
report      the incident's report, one self-contained HTML file (default incident-report.html): its
            level, impact, each playbook phase against its deadline, and the timeline attack →
            access and commands → the line → alerts → response (the attack runs need an instructor)
playbooks   check a playbook folder (default: the built-in one) and list its playbooks; no twin needed

options:
  --url URL         the twin's web address (default http://127.0.0.1:8080/)
  --user U          the responder's account;  --password P  (default: the home's instructor)
  --home DIR        the twin's home, for its initial passwords (default ./.twinline or $TWINLINE_HOME)
  --json            print the twin's JSON answer
exit codes: 0 done (or nothing to do), 1 the action failed on the twin, 2 bad usage or refused`;

/** Where the command writes. */
export interface RespondIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const usage = (message: string): TwinlineError => new TwinlineError('USAGE', message);

/** A field's flag: `mqttClient` → `mqtt-client`. */
const flagOf = (field: string): string => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The flags of an action's fields, plus the common ones. */
function actionFlags(name: ActionName): Record<string, { type: 'string' | 'boolean' }> {
  const out: Record<string, { type: 'string' | 'boolean' }> = { step: { type: 'string' }, reason: { type: 'string' } };
  for (const [k, f] of Object.entries(ACTION_SPECS[name].fields)) out[flagOf(k)] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
  return out;
}

const COMMON_FLAGS = { url: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, home: { type: 'string' }, json: { type: 'boolean' } } as const;

interface Conn {
  base: URL;
  creds: { user: string; password: string };
}

function connection(v: { url?: string; user?: string; password?: string; home?: string }): Conn {
  if ((v.user === undefined) !== (v.password === undefined)) throw usage('--user and --password go together');
  let base: URL;
  try {
    base = new URL(v.url ?? 'http://127.0.0.1:8080/');
  } catch {
    throw usage(`--url ${v.url ?? ''} is not a URL (http://host:port/)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw usage(`--url ${base.href} is not an http:// or https:// address`);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const creds = v.user !== undefined && v.password !== undefined ? { user: v.user, password: v.password } : rangeAccount(homeDir(v.home));
  if (creds === null) throw usage(`no account to act with: give --user and --password, or --home of the twin (its initial-passwords.txt)`);
  return { base, creds };
}

async function call(c: Conn, path: string, body?: unknown): Promise<Answer> {
  try {
    return await restCall(c.base, path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, c.creds);
  } catch (e) {
    throw new TwinlineError('IO', `cannot reach the twin at ${c.base.href} (${(e as { code?: string }).code ?? (e as Error).message}): is twinline serve running there?`, { endpoint: c.base.href });
  }
}

/** A 4xx answer as a usage error naming the field. */
function refused(a: Answer): TwinlineError {
  const e = a.body.error as { code?: string; message?: string; field?: string } | undefined;
  const field = e?.field === undefined ? '' : ` [field ${e.field}]`;
  return new TwinlineError('USAGE', `the twin refused (HTTP ${a.status} ${e?.code ?? ''}): ${e?.message ?? JSON.stringify(a.body).slice(0, 300)}${field}`);
}

/** An action record as text. */
export function recordText(r: ActionRecord): string {
  return [
    `${r.action} ${r.target}: ${r.result}   (#${r.seq} ${r.at}, ${r.principal}${r.step === null ? '' : `, step ${r.step}`})`,
    ...r.did.map((d) => `  - ${d}`),
    ...r.problems.map((p) => `  ! ${p}`),
    '',
  ].join('\n');
}

const clock = (ms: number | null): string => (ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

/** A grading as text. */
export function incidentText(body: { impact: Record<string, number>; classification: Classification | null; note?: string }): string {
  const c = body.classification;
  const impact = Object.entries(body.impact).map(([k, v]) => `${k} ${v}`).join(', ');
  if (c === null) return `impact: ${impact}\n${body.note ?? ''}\n`;
  const lines = [
    `incident: ${c.incident ? '' : '(no alert yet) '}level ${c.level} ${c.name.zh} (${c.name.en}), warning ${c.colourName.en} ${c.colourName.zh}`,
    `  because: ${c.reasons.join('; ')}`,
    `  impact: ${impact}`,
    c.playbook === null ? '  playbook: none answers these alerts' : `  playbook: ${c.playbook.id}: ${c.playbook.title.en} / ${c.playbook.title.zh} (answers ${c.matched} of ${c.alerts} alerts; detected ${clock(c.detectedAtMs)})`,
  ];
  for (const p of c.phases) {
    lines.push(`  ${p.id.padEnd(8)} ${p.title.zh} (${p.title.en}): due ${clock(p.dueAtMs)} (${p.deadlineS} s after detection), lead ${p.lead}`);
    for (const s of p.steps) {
      const act = s.do === null ? '' : ` → ${s.do} ${JSON.stringify(s.with)}`;
      lines.push(`    ${s.applies ? '-' : '·'} ${s.step} by ${s.by}: ${s.title.en}${act}${s.applies ? '' : s.unresolved.length > 0 ? ` (not known yet: ${s.unresolved.join(', ')})` : ' (does not apply)'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function act(name: ActionName, argv: readonly string[], io: RespondIo): Promise<number> {
  const { values, positionals } = parseOptions({ args: [...argv], allowPositionals: true, options: { ...COMMON_FLAGS, ...actionFlags(name) } }, `respond ${name}`);
  if (positionals.length > 0) throw usage(`respond ${name} takes its fields as flags (--${flagOf(Object.keys(ACTION_SPECS[name].fields)[0] ?? 'step')} …), not "${positionals[0]}"`);
  const v = values as Record<string, string | boolean | undefined>;
  const body: Record<string, unknown> = {};
  for (const [k, f] of Object.entries({ ...ACTION_SPECS[name].fields, step: { type: 'string' }, reason: { type: 'string' } })) {
    const x = v[flagOf(k)];
    if (x === undefined) continue;
    body[k] = f.type === 'strings' && typeof x === 'string' ? x.split(',').map((s) => s.trim()).filter((s) => s !== '') : x;
  }
  const c = connection(v as { url?: string });
  const a = await call(c, `api/respond/${name}`, body);
  if (a.status >= 400 && a.status < 500 && a.status !== 409) throw refused(a);
  const rec = a.body.action as ActionRecord | undefined;
  if (rec === undefined) throw refused(a);
  io.stdout.write(v.json === true ? `${JSON.stringify(a.body)}\n` : recordText(rec));
  return rec.result === 'failed' ? 1 : 0;
}

/** The query of the whole-number flags given (`--from`, `--to`: ms since the epoch; `--since`: an action seq). */
function numberQuery(v: Record<string, string | boolean | undefined>): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of ['from', 'to', 'since']) {
    const x = v[k];
    if (typeof x !== 'string') continue;
    if (!/^\d{1,16}$/.test(x)) throw usage(`--${k} ${x} must be a whole number (${k === 'since' ? 'an action seq' : 'ms since the epoch'})`);
    q.set(k, x);
  }
  return q;
}

async function read(sub: 'incident' | 'status' | 'log', argv: readonly string[], io: RespondIo): Promise<number> {
  const extra = sub === 'incident' ? { from: { type: 'string' }, to: { type: 'string' } } as const : sub === 'log' ? { since: { type: 'string' } } as const : {};
  const { values, positionals } = parseOptions({ args: [...argv], allowPositionals: true, options: { ...COMMON_FLAGS, ...extra } }, `respond ${sub}`);
  if (positionals.length > 0) throw usage(`respond ${sub} takes no arguments, got "${positionals[0]}"`);
  const v = values as Record<string, string | boolean | undefined>;
  const q = numberQuery(v);
  const path = sub === 'incident' ? 'api/incident' : sub === 'status' ? 'api/respond' : 'api/respond/log';
  const a = await call(connection(v as { url?: string }), `${path}${q.size > 0 ? `?${q}` : ''}`);
  if (a.status !== 200) throw refused(a);
  if (v.json === true) io.stdout.write(`${JSON.stringify(a.body)}\n`);
  else if (sub === 'incident') io.stdout.write(incidentText(a.body as unknown as Parameters<typeof incidentText>[0]));
  else if (sub === 'log') io.stdout.write(((a.body.actions ?? []) as ActionRecord[]).map(recordText).join('') || 'no action yet\n');
  else {
    const b = a.body as { bans: { kind: string; id: string; by: string; reason: string }[]; isolated: { face: string; by: string }[]; snapshots: { id: number; label: string; atMs: number }[] };
    io.stdout.write([
      `banned: ${b.bans.length === 0 ? 'nothing' : b.bans.map((x) => `${x.kind} ${x.id} (by ${x.by}${x.reason === '' ? '' : `: ${x.reason}`})`).join('; ')}`,
      `isolated: ${b.isolated.length === 0 ? 'nothing' : b.isolated.map((x) => `${x.face} (by ${x.by})`).join('; ')}`,
      `snapshots: ${b.snapshots.map((s) => `${s.id} "${s.label}" ${clock(s.atMs)}`).join('; ')}`,
      '',
    ].join('\n'));
  }
  return 0;
}

async function report(argv: readonly string[], io: RespondIo): Promise<number> {
  const { values, positionals } = parseOptions({ args: [...argv], allowPositionals: true, options: { ...COMMON_FLAGS, out: { type: 'string' }, lang: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } }, 'respond report');
  if (positionals.length > 0) throw usage(`respond report takes no arguments, got "${positionals[0]}"`);
  const v = values as Record<string, string | boolean | undefined>;
  const lang = (v.lang ?? 'en') as string;
  if (lang !== 'en' && lang !== 'zh') throw usage(`--lang ${lang} must be en or zh`);
  const q = numberQuery(v);
  const out = resolve(typeof v.out === 'string' ? v.out : 'incident-report.html');
  const c = connection(v as { url?: string });
  const r = incidentReport(await gatherReport((path) => call(c, path), refused, { lang, query: q }));
  try {
    writeFileSync(out, r.html);
  } catch (e) {
    throw new TwinlineError('IO', `cannot write the report to ${out}: ${(e as Error).message}`);
  }
  const level = r.classification === null ? 'not graded' : `level ${r.classification.level}`;
  const phases = r.phases.map((p) => `${p.id} ${p.status}`).join(', ');
  if (v.json === true) io.stdout.write(`${JSON.stringify({ file: out, level: r.classification?.level ?? null, phases: r.phases, rows: r.rows.length, cut: r.cut })}\n`);
  else io.stdout.write(`wrote ${out}: ${level}; ${r.rows.length} timeline rows${r.cut > 0 ? ` (${r.cut} more not listed)` : ''}${phases === '' ? '' : `; ${phases}`}\n`);
  return 0;
}

async function playbooks(argv: readonly string[], io: RespondIo): Promise<number> {
  const { positionals } = parseOptions({ args: [...argv], allowPositionals: true, options: {} }, 'respond playbooks');
  if (positionals.length > 1) throw usage(`respond playbooks takes one folder, got ${positionals.length}`);
  const { loadPlaybooks } = await import('../../sim/host/respond-host.ts');
  const book = loadPlaybooks(positionals[0], null)!;
  const t = book.grading.thresholds;
  io.stdout.write([
    `ok  ${book.dir}: ${book.playbooks.length} playbooks; levels (any one threshold): I ${JSON.stringify(t.I)}, II ${JSON.stringify(t.II)}, III ${JSON.stringify(t.III)}, else IV`,
    ...book.playbooks.map((p) => `  ${p.id}: ${p.title.en} / ${p.title.zh}  (rules ${p.match.rules.join(', ') || '–'}; ${p.phases.reduce((n, ph) => n + ph.steps.length, 0)} steps)`),
    '',
  ].join('\n'));
  return 0;
}

/** `twinline respond …` (argv after `respond`). */
export async function respondCommand(argv: readonly string[], io: RespondIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${RESPOND_USAGE}\n`);
    return 0;
  }
  if (sub === 'incident' || sub === 'status' || sub === 'log') return read(sub, rest, io);
  if (sub === 'playbooks') return playbooks(rest, io);
  if (sub === 'report') return report(rest, io);
  if (!isAction(sub)) throw usage(`unknown respond command "${sub}": an action (${ACTIONS.join(', ')}), incident, status, log, report or playbooks`);
  return act(sub, rest, io);
}
