/**
 * The `twinline` command line: `run`, `validate`, `schema`, `serve`, `help`. Exit codes:
 * 0 success, 2 bad input (usage or scenario; every problem printed, one per line, never a
 * stack trace), 1 internal error.
 */
import { writeFileSync } from 'node:fs';
import { TwinlineError, type Problem } from '../core/errors.ts';
import type { Speed } from '../worker/api.ts';
import { readScenario, twinlineVersion } from './record.ts';

type Flag = { type: 'string' | 'number' | 'boolean'; short?: string };

interface CommandHelp {
  usage: string;
  summary: string;
  options: readonly [string, string][];
  flags: Readonly<Record<string, Flag>>;
}

const COMMANDS: Readonly<Record<string, CommandHelp>> = {
  run: {
    usage: 'twinline run <scenario.yaml> [--hours H] [--seed S] [--speed max|N] [--json] [--out DIR] [--worker]',
    summary: 'Run a scenario and report its KPIs.',
    options: [
      ['--hours H', 'simulated hours to run (default 8)'],
      ['--seed S', 'random seed, a whole number (default: the scenario\'s)'],
      ['--speed max|N', "'max' (default): as fast as possible; N: N × real time, paced at 1 ms ticks"],
      ['--json', 'print exactly one JSON object on stdout instead of the table'],
      ['--out DIR', 'write the run record: events.ndjson, kpis.json, kpis.csv, commands.ndjson, meta.json'],
      ['--worker', 'run the simulation in a worker thread (same result as in-process)'],
    ],
    flags: { hours: { type: 'number' }, seed: { type: 'number' }, speed: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string', short: 'o' }, worker: { type: 'boolean' } },
  },
  validate: {
    usage: 'twinline validate <file…>',
    summary: 'Check scenario files; print every problem as file:line:col path: message [CODE].',
    options: [],
    flags: {},
  },
  schema: {
    usage: 'twinline schema [--out FILE]',
    summary: 'Print (or write) the JSON Schema of scenario files, for editors.',
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
    if (flag === undefined) throw new TwinlineError('USAGE', `unknown option ${arg.split('=')[0]} for "${cmd}"`);
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
      ...(typeof seed === 'number' ? { seed } : {}),
      speed: parseSpeed(v.speed),
      json: v.json === true,
      ...(typeof v.out === 'string' ? { out: v.out } : {}),
      worker: v.worker === true,
    },
    io,
  );
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
      const spec = parseScenario(readScenario(file), file);
      createWorld(spec); // the world checks parameters against the machine kinds
      io.stdout.write(`ok  ${file}  (${spec.id}, ${spec.stations.length} stations)\n`);
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
  if (a.positional.length > 0) throw new TwinlineError('USAGE', `schema takes no arguments, got "${a.positional[0]}"`);
  const { scenarioJsonSchema } = await import('../line/json-schema.ts');
  const text = `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
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
      case 'schema':
        return await schema(rest, io);
      case 'serve':
        return await serveCommand(rest);
      case 'gateway': {
        if (rest.length === 0 || rest[0] === 'help') return await gateway(['--help'], io);
        return await gateway(rest, io);
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
