/**
 * The `twinline` command line: `run`, `compare`, `diagnose`, `lesson`, `validate`, `schema`, `serve`, `plant`, `accounts`, `gateway`, `modbus`, `attack`, `security`, `respond`, `dataset`, `exercise`, `help`. Exit codes:
 * 0 success, 2 bad input (usage or scenario; every problem printed, one per line, never a
 * stack trace), 1 internal error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { TwinlineError, type Problem } from '../core/errors.ts';
import type { Speed } from '../worker/api.ts';
import { parseWarmup, unknownOption } from './args.ts';
import { loadScenario, twinlineVersion } from './record.ts';
import { didYouMean } from '../line/locate.ts';

type Flag = { type: 'string' | 'number' | 'boolean'; short?: string };

interface CommandHelp {
  usage: string;
  summary: string;
  options: readonly [string, string][];
  flags: Readonly<Record<string, Flag>>;
}

const COMMANDS: Readonly<Record<string, CommandHelp>> = {
  run: {
    usage: 'twinline run <scenario.yaml|name> [--hours H] [--warmup D] [--seed S] [--speed max|N] [--json] [--out DIR] [--worker]',
    summary: 'Run a scenario and report its KPIs.',
    options: [
      ['--hours H', 'simulated hours the KPIs cover (default 8)'],
      ['--warmup D', "run D first (e.g. '3h', '90 min') and leave it out of the KPIs: the line filling with parts; warns when the KPIs still include the fill"],
      ['--seed S', 'random seed, a whole number (default: the scenario\'s)'],
      ['--speed max|N', "'max' (default): as fast as possible; N: N × real time, paced at 1 ms ticks"],
      ['--json', 'print exactly one JSON object on stdout instead of the table'],
      ['--out DIR', 'write the run record: events.ndjson, kpis.json, kpis.csv, commands.ndjson, meta.json'],
      ['--worker', 'run the simulation in a worker thread (same result as in-process)'],
    ],
    flags: { hours: { type: 'number' }, warmup: { type: 'string' }, seed: { type: 'number' }, speed: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string', short: 'o' }, worker: { type: 'boolean' } },
  },
  compare: {
    usage: 'twinline compare <before> <after|--retrofit a,b,…> [--prices FILE] [--hours H] [--seeds K] [--warmup D] [--json] [--html FILE]',
    summary: 'Run two variants of a line over several seeds in parallel and compare their KPIs (mean ± sd, change with 95 % CI).',
    options: [
      ['--hours H', 'simulated hours the KPIs cover (default 8)'],
      ['--seeds K', 'runs per scenario, seeds = the scenario\'s seed + 0 … K−1 (default 5)'],
      ['--warmup D', "run D first (e.g. '2h', '30 min'; a bare number is hours) and leave it out of the KPIs"],
      ['--json', 'print one JSON object: {"kpis":{"<name>":{"before":{mean,sd},"after":{mean,sd},"deltaPct":{mean,lo,hi}}},"runs":[…]}'],
      ['--html FILE', 'write a self-contained HTML report with charts to FILE'],
      ['--retrofit a,b', 'instead of an after scenario: the before line with these retrofit steps (scenarios/retrofits/<id>.yaml) applied in order; adds the payback'],
      ['--prices FILE', 'with --retrofit: wage, energy price, value per good part and hours per year for the payback (default: scenarios/prices/default.yaml)'],
    ],
    flags: { hours: { type: 'number' }, seeds: { type: 'number' }, warmup: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' }, retrofit: { type: 'string' }, prices: { type: 'string' } },
  },
  diagnose: {
    usage: 'twinline diagnose <scenario> [--hours H] [--seeds K] [--warmup D] [--prices FILE] [--json] [--html FILE] [--lang en|zh-CN]',
    summary: 'Grade a line on the four retrofit stages, try every retrofit step that applies on the twin, rank them by payback and propose a roadmap.',
    options: [
      ['--hours H', 'simulated hours each run\'s KPIs cover (default 8)'],
      ['--seeds K', 'runs per variant (the baseline, each step, the roadmap), seeds = the scenario\'s seed + 0 … K−1 (default 3)'],
      ['--warmup D', "run D first (e.g. '3h'; a bare number is hours) and leave it out of the KPIs"],
      ['--prices FILE', 'wage, energy price, value per good part and hours per year for the payback (default: scenarios/prices/default.yaml)'],
      ['--json', 'print one JSON object: indicators, stages, steps ranked with their KPI changes and payback, roadmap'],
      ['--html FILE', 'write a self-contained HTML report to FILE'],
      ['--lang en|zh-CN', 'language of the HTML report (default en)'],
    ],
    flags: { hours: { type: 'number' }, seeds: { type: 'number' }, warmup: { type: 'string' }, prices: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' }, lang: { type: 'string' } },
  },
  lesson: {
    usage: 'twinline lesson list [--json] | lesson validate <id|file…> | lesson check <id|file> [--hours H] [--seeds K] [--warmup D] [--json]',
    summary: 'Workshop lessons (scenarios/lessons/): list them, validate them, or play a lesson\'s own steps on the twin and score its checkpoints (exit 3: a checkpoint its steps do not reach).',
    options: [
      ['--hours H', 'check: simulated hours each step\'s line runs after the warm-up (default 8)'],
      ['--seeds K', 'check: runs per step line, seeds = the line\'s seed + 0 … K−1 (default 3)'],
      ['--warmup D', "check: run D first and leave it out of the figures (default '3h': the lines fill in 2–3 h)"],
      ['--json', 'print one JSON object'],
    ],
    flags: { hours: { type: 'number' }, seeds: { type: 'number' }, warmup: { type: 'string' }, json: { type: 'boolean' } },
  },
  validate: {
    usage: 'twinline validate <file…>',
    summary: 'Check scenario files; print every problem as file:line:col path: message [CODE].',
    options: [],
    flags: {},
  },
  schema: {
    usage: 'twinline schema [scenario|lesson|retrofit] [--out FILE]',
    summary: 'Print (or write) the JSON Schema of scenario (default), lesson or retrofit step files, for editors.',
    options: [['--out FILE', 'write to FILE instead of stdout']],
    flags: { out: { type: 'string', short: 'o' } },
  },
  serve: {
    usage: 'twinline serve [options]',
    summary: 'Serve the twin: web app, REST/WebSocket API, OPC UA and MQTT (see twinline serve --help).',
    options: [],
    flags: {},
  },
  gateway: {
    usage: 'twinline gateway export --format node-red|telegraf|opc-publisher [scenario] | gateway check --source FILTER [scenario] (twinline gateway --help)',
    summary: 'Gateway kit: export a gateway configuration for the line; check what a gateway delivers against the twin.',
    options: [],
    flags: {},
  },
  opcua: {
    usage: 'twinline opcua trust <certificate file> | --last-rejected [--home DIR]',
    summary: 'Trust a client certificate the hardened OPC UA server refused (a gateway, an HMI).',
    options: [],
    flags: {},
  },
  modbus: {
    usage: 'twinline modbus map [scenario.yaml] [--json]',
    summary: 'The register map of the Modbus/TCP face (serve --modbus-port): unit, address, tag, type, scale, access.',
    options: [],
    flags: {},
  },
  attack: {
    usage: 'twinline attack list [--json] | attack run <id> --target URL [--target URL…] [--user U --password P] [--json] (twinline attack --help)',
    summary: 'Security range: list the ATT&CK-for-ICS attack library; run an attack against the range\'s own endpoints.',
    options: [],
    flags: {},
  },
  plant: {
    usage: 'twinline plant validate|up|status <plant.yaml> [--home DIR] [--json] (twinline plant --help)',
    summary: 'A plant: many lines, one twinline serve each, publishing to a NATS cluster it starts; restarted hosts resume their runs.',
    options: [],
    flags: {},
  },
  security: {
    usage: 'twinline security matrix [--json] [--profiles open,hardened,<file>] [--attacks id,…] [--scenario FILE] [--out DIR] (twinline security --help)',
    summary: 'Security range: every attack × security profile against a twin started per profile; checks what each profile promises to block.',
    options: [],
    flags: {},
  },
  respond: {
    usage: 'twinline respond <action> [--<field> value …] | respond incident | status | log | report [--out FILE] | playbooks [DIR] [--url URL] [--user U --password P] (twinline respond --help)',
    summary: 'Incident response on a running twin: ban, isolate, restore setpoints …; the incident\'s level, colour and playbook; the action log.',
    options: [],
    flags: {},
  },
  dataset: {
    usage: 'twinline dataset <run id|run folder|last> --out DIR [--rate-ms N] [--home DIR] [--json] (twinline dataset --help)',
    summary: 'Security range: a labelled dataset of a served run (process values, protocol events, attack labels; CSV, NDJSON, data card).',
    options: [],
    flags: {},
  },
  exercise: {
    usage: 'twinline exercise check <file> | exercise run <file> [--out DIR] [--json] (twinline exercise --help)',
    summary: 'Security range: a scripted incident exercise on a twin of its own: attacks at their seconds, the response timed against the playbook, report, score and dataset.',
    options: [],
    flags: {},
  },
  accounts: {
    usage: 'twinline accounts <list|add|reset|revoke|role|map-cert|unmap-cert> … [--home DIR] (twinline accounts --help)',
    summary: 'Accounts and roles of every face (REST, live socket, OPC UA, MQTT): list, add, reset, revoke.',
    options: [],
    flags: {},
  },
  help: { usage: 'twinline help [command]', summary: 'Show help for a command.', options: [], flags: {} },
};

/** Text of `twinline --help`. */
export function generalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `twinline ${twinlineVersion()}: digital twin of a production line and ICS security range`,
    '',
    'usage: twinline <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'twinline help <command> shows the options of a command.',
    'exit codes: 0 ok, 2 bad usage or bad scenario, 1 internal error',
    '',
  ].join('\n');
}

/** Text of `twinline help <cmd>`. */
export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  if (c === undefined) throw new TwinlineError('USAGE', `unknown command "${name}"`);
  const width = Math.max(0, ...c.options.map(([o]) => o.length));
  const opts = c.options.length > 0 ? ['', 'options:', ...c.options.map(([o, d]) => `  ${o.padEnd(width)}  ${d}`)] : [];
  return [`usage: ${c.usage}`, '', c.summary, ...opts, ''].join('\n');
}

interface Parsed {
  positional: string[];
  values: Record<string, string | number | boolean>;
  help: boolean;
}

/** Parses `argv` against a command's flags; unknown or malformed options are usage errors. */
export function parseArgs(cmd: string, argv: readonly string[]): Parsed {
  const flags = COMMANDS[cmd]?.flags ?? {};
  const byShort = new Map(Object.entries(flags).flatMap(([k, f]) => (f.short !== undefined ? [[f.short, k] as const] : [])));
  const out: Parsed = { positional: [], values: {}, help: false };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k] ?? '';
    if (arg === '--') {
      out.positional.push(...argv.slice(k + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const rawName = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : (byShort.get(arg.slice(1)) ?? arg.slice(1));
    const flag = flags[rawName];
    if (flag === undefined) throw unknownOption(arg, [...Object.keys(flags), 'help'], cmd);
    if (flag.type === 'boolean') {
      if (eq >= 0) throw new TwinlineError('USAGE', `--${rawName} takes no value`);
      out.values[rawName] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[k + 1];
      k++;
    }
    if (value === undefined || value === '') throw new TwinlineError('USAGE', `--${rawName} needs a value`);
    if (flag.type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new TwinlineError('USAGE', `--${rawName} must be a number, got "${value}"`);
      out.values[rawName] = n;
    } else out.values[rawName] = value;
  }
  return out;
}

function parseSpeed(v: string | number | boolean | undefined): Speed {
  if (v === undefined || v === 'max') return 'max';
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1e6) throw new TwinlineError('USAGE', `--speed must be 'max' or a factor in (0, 1e6], got "${String(v)}"`);
  return n;
}

/** Where the CLI writes. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

const STD_IO: CliIo = { stdout: process.stdout, stderr: process.stderr };

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs('run', argv);
  if (a.help) return printHelp('run', io);
  if (a.positional.length !== 1) throw new TwinlineError('USAGE', a.positional.length === 0 ? 'run needs a scenario file' : `run takes one scenario file, got ${a.positional.length}`);
  const v = a.values;
  const seed = v.seed;
  if (seed !== undefined && !(typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0)) throw new TwinlineError('USAGE', `--seed must be a whole number ≥ 0, got ${String(seed)}`);
  // commands load the simulation on demand, so `--help` answers at once
  const { runCommand } = await import('./run.ts');
  return runCommand(
    {
      file: a.positional[0] ?? '',
      hours: typeof v.hours === 'number' ? v.hours : 8,
      warmupS: parseWarmup(v.warmup),
      ...(typeof seed === 'number' ? { seed } : {}),
      speed: parseSpeed(v.speed),
      json: v.json === true,
      ...(typeof v.out === 'string' ? { out: v.out } : {}),
      worker: v.worker === true,
    },
    io,
  );
}

async function compare(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs('compare', argv);
  if (a.help) return printHelp('compare', io);
  const v = a.values;
  const retrofit = typeof v.retrofit === 'string' ? v.retrofit : undefined;
  if (retrofit !== undefined && a.positional.length === 2) throw new TwinlineError('USAGE', `give an after scenario or --retrofit, not both (after: ${a.positional[1] ?? ''}, --retrofit ${retrofit})`);
  if (a.positional.length !== (retrofit === undefined ? 2 : 1)) throw new TwinlineError('USAGE', `compare needs two scenarios, before and after (or a before scenario and --retrofit step,…); got ${a.positional.length}`);
  const { compareCommand } = await import('./compare.ts');
  return compareCommand(
    {
      before: a.positional[0] ?? '',
      after: a.positional[1],
      retrofit,
      prices: typeof v.prices === 'string' ? v.prices : undefined,
      hours: typeof v.hours === 'number' ? v.hours : 8,
      seeds: typeof v.seeds === 'number' ? v.seeds : 5,
      warmupS: parseWarmup(v.warmup),
      json: v.json === true,
      ...(typeof v.html === 'string' ? { html: v.html } : {}),
    },
    io,
  );
}

async function diagnoseCli(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs('diagnose', argv);
  if (a.help) return printHelp('diagnose', io);
  const v = a.values;
  if (a.positional.length !== 1) throw new TwinlineError('USAGE', `diagnose needs one scenario; got ${a.positional.length}`);
  const lang = v.lang === undefined ? 'en' : String(v.lang);
  if (lang !== 'en' && lang !== 'zh-CN') throw new TwinlineError('USAGE', `--lang must be en or zh-CN, got "${lang}"`);
  const { diagnoseCommand } = await import('./diagnose.ts');
  return diagnoseCommand(
    {
      scenario: a.positional[0] ?? '',
      hours: typeof v.hours === 'number' ? v.hours : 8,
      seeds: typeof v.seeds === 'number' ? v.seeds : 3,
      warmupS: parseWarmup(v.warmup),
      prices: typeof v.prices === 'string' ? v.prices : undefined,
      json: v.json === true,
      html: typeof v.html === 'string' ? v.html : undefined,
      lang,
    },
    io,
  );
}

async function lessonCli(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs('lesson', argv);
  const [sub, ...args] = a.positional;
  if (a.help || sub === undefined) return printHelp('lesson', io);
  const lessons = await import('./lessons.ts');
  const v = a.values;
  if (sub === 'list') {
    const all = lessons.lessonIds().map((id) => lessons.loadLesson(id).lesson);
    io.stdout.write(v.json === true
      ? `${JSON.stringify(all.map((l) => ({ id: l.id, title: l.title, line: l.line, minutes: l.minutes, steps: l.steps.length, points: l.steps.flatMap((s) => s.checkpoints).reduce((n, c) => n + c.points, 0) })))}\n`
      : all.map((l) => `${l.id}  ${l.line}  ${l.minutes} min  ${l.steps.length} steps  ${l.title.en} / ${l.title.zh}\n`).join(''));
    return 0;
  }
  if (sub === 'validate') {
    if (args.length === 0) throw new TwinlineError('USAGE', 'lesson validate needs at least one lesson id or file');
    const problems: Problem[] = [];
    for (const arg of args) {
      try {
        const { lesson } = lessons.loadLesson(arg);
        io.stdout.write(`ok  ${lesson.file}  (${lesson.id} on ${lesson.line}, ${lesson.steps.length} steps, ${lesson.steps.flatMap((s) => s.checkpoints).length} checkpoints)\n`);
      } catch (e) {
        if (!(e instanceof TwinlineError)) throw e;
        problems.push(...e.problems);
      }
    }
    if (problems.length === 0) return 0;
    throw TwinlineError.of(problems);
  }
  if (sub === 'check') {
    if (args.length !== 1) throw new TwinlineError('USAGE', `lesson check needs one lesson id or file; got ${args.length}`);
    return lessons.lessonCheckCommand(
      { lesson: args[0] ?? '', hours: typeof v.hours === 'number' ? v.hours : 8, seeds: typeof v.seeds === 'number' ? v.seeds : 3, warmupS: v.warmup === undefined ? 3 * 3600 : parseWarmup(v.warmup), json: v.json === true },
      io,
    );
  }
  throw new TwinlineError('USAGE', `unknown lesson subcommand "${sub}"; lesson list | validate | check`);
}

async function validate(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs('validate', argv);
  if (a.help) return printHelp('validate', io);
  if (a.positional.length === 0) throw new TwinlineError('USAGE', 'validate needs at least one file');
  const { parseScenario } = await import('../line/parse.ts');
  const { createWorld } = await import('../line/build.ts');
  const problems: Problem[] = [];
  for (const file of a.positional) {
    try {
      const loaded = loadScenario(file);
      const spec = parseScenario(loaded.text, loaded.file);
      createWorld(spec); // the world checks parameters against the machine kinds
      io.stdout.write(`ok  ${loaded.file}  (${spec.id}, ${spec.stations.length} stations)\n`);
    } catch (e) {
      if (!(e instanceof TwinlineError)) throw e;
      problems.push(...e.problems.map((p) => ({ ...p, where: { file, ...p.where } })));
    }
  }
  if (problems.length === 0) return 0;
  throw TwinlineError.of(problems);
}

async function schema(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs('schema', argv);
  if (a.help) return printHelp('schema', io);
  const { SCHEMA_FILES, schemaText } = await import('../line/json-schema.ts');
  const kinds = Object.keys(SCHEMA_FILES);
  const [kind = 'scenario', extra] = a.positional;
  if (extra !== undefined) throw new TwinlineError('USAGE', `schema takes one kind of file, got "${kind}" and "${extra}"`);
  if (!kinds.includes(kind)) throw new TwinlineError('USAGE', `unknown kind of file "${kind.slice(0, 100)}"${didYouMean(kind, kinds)}; schema knows: ${kinds.join(', ')}`);
  const text = schemaText(kind as keyof typeof SCHEMA_FILES);
  const out = a.values.out;
  if (typeof out !== 'string') {
    io.stdout.write(text);
    return 0;
  }
  try {
    writeFileSync(out, text);
  } catch (e) {
    throw new TwinlineError('IO', `cannot write the schema (${(e as { code?: string }).code ?? String(e)})`, { file: out });
  }
  io.stderr.write(`wrote ${out}\n`);
  return 0;
}

async function serveCommand(argv: readonly string[]): Promise<number> {
  // loaded on demand: the server pulls in OPC UA and MQTT, which `run` does not need
  const path = './serve.ts';
  let mod: { serve(argv: string[]): Promise<number> };
  try {
    mod = (await import(path)) as typeof mod;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new TwinlineError('USAGE', 'serve is not available in this build');
    throw e;
  }
  return mod.serve([...argv]);
}

async function gateway(argv: readonly string[], io: CliIo): Promise<number> {
  const { gatewayCommand } = await import('../gateway/cli.ts');
  return gatewayCommand(argv, io);
}

function printHelp(cmd: string | undefined, io: CliIo): number {
  io.stdout.write(cmd === undefined ? generalHelp() : commandHelp(cmd));
  return 0;
}

/** Runs the CLI with `argv` (without node and script); returns the process exit code. */
export async function main(argv: readonly string[], io: CliIo = STD_IO): Promise<number> {
  const [cmd, ...rest] = argv;
  // `twinline schema | head` closes the pipe early: that is the reader's choice, not an error
  io.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    switch (cmd) {
      case undefined:
      case '--help':
      case '-h':
        return printHelp(undefined, io);
      case 'help':
        return printHelp(rest[0], io);
      case '--version':
      case '-v':
        io.stdout.write(`${twinlineVersion()}\n`);
        return 0;
      case 'run':
        return await run(rest, io);
      case 'validate':
        return await validate(rest, io);
      case 'compare':
        return await compare(rest, io);
      case 'diagnose':
        return await diagnoseCli(rest, io);
      case 'lesson':
        return await lessonCli(rest, io);
      case 'schema':
        return await schema(rest, io);
      case 'serve':
        return await serveCommand(rest);
      case 'accounts': {
        const { accountsCommand } = await import('./accounts-cli.ts');
        return accountsCommand(rest, { stdout: io.stdout, readStdin: () => readFileSync(0, 'utf8') });
      }
      case 'gateway': {
        if (rest.length === 0 || rest[0] === 'help') return await gateway(['--help'], io);
        return await gateway(rest, io);
      }
      case 'opcua': {
        const { opcuaCommand } = await import('../protocols/opcua/trust-cli.ts');
        return await opcuaCommand(rest, io);
      }
      case 'modbus': {
        const { modbusCommand } = await import('../protocols/modbus/cli.ts');
        return modbusCommand(rest, io);
      }
      case 'attack': {
        // loaded on demand: the attack library pulls in the OPC UA and MQTT clients
        const { attackCommand } = await import('../../security/attacks/cli.ts');
        return await attackCommand(rest, io);
      }
      case 'respond': {
        const { respondCommand } = await import('../../security/respond/cli.ts');
        return await respondCommand(rest, io);
      }
      case 'dataset': {
        const { datasetCommand } = await import('../../security/dataset/cli.ts');
        return await datasetCommand(rest, io);
      }
      case 'exercise': {
        const { exerciseCommand } = await import('../../security/exercise/cli.ts');
        return await exerciseCommand(rest, io);
      }
      case 'plant': {
        const { plantCommand } = await import('../plant/cli.ts');
        return await plantCommand(rest, io);
      }
      case 'security': {
        const { securityCommand } = await import('../../security/matrix/cli.ts');
        return await securityCommand(rest, io);
      }
      default:
        throw new TwinlineError('USAGE', `unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof TwinlineError) {
      io.stderr.write(`${e.report()}\n`);
      if (e.code === 'USAGE') {
        const known = cmd !== undefined && cmd in COMMANDS && cmd !== 'help';
        io.stderr.write(`\n${known ? `usage: ${COMMANDS[cmd]?.usage}\n` : generalHelp()}`);
      }
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr.write(`twinline: internal error: ${msg}\n`);
    if (process.env.TWINLINE_DEBUG !== undefined && e instanceof Error && e.stack !== undefined) io.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
