/**
 * Command-line options of every subcommand: one wrapper around `node:util` parseArgs whose
 * errors are usage errors (exit 2) and whose unknown options get "did you mean --x".
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TwinlineError } from '../core/errors.ts';
import { closest } from '../line/locate.ts';
import { toFieldUnit } from '../line/units.ts';

/** The usage error for an unknown option `arg` (`--fro`, `-x`, `--fro=1`) among `names` (without dashes). */
export function unknownOption(arg: string, names: Iterable<string>, where: string, usage?: string): TwinlineError {
  const given = arg.split('=')[0] ?? arg;
  const near = closest(given.replace(/^-+/, ''), names);
  const hint = near === undefined ? '' : ` (did you mean --${near}?)`;
  return new TwinlineError('USAGE', `unknown option ${given} for "${where}"${hint}${usage === undefined ? '' : `\n${usage}`}`);
}

/**
 * `parseArgs` with Twinline's errors: an unknown option names the closest known one, any
 * other mistake keeps node's message; `usage` (if given) follows the message.
 */
export function parseOptions<T extends ParseArgsConfig>(config: T, where: string, usage?: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const arg = /'([^']+)'/.exec(err.message ?? '')?.[1] ?? '';
      throw unknownOption(arg, Object.keys(config.options ?? {}), where, usage);
    }
    throw new TwinlineError('USAGE', `${err.message ?? String(e)}${usage === undefined ? '' : `\n${usage}`}`);
  }
}

/** the longest warm start `serve` runs [h] (its events are held until the run's records are open) */
export const MAX_SERVE_WARMUP_H = 24;

/** `--warmup`: a duration with a unit ('3h', '90 min'), or a bare number of hours. */
export function parseWarmup(v: string | number | boolean | undefined): number {
  if (v === undefined) return 0;
  const text = String(v).trim();
  const c = /^\d+(\.\d*)?$/.test(text) ? { ok: true as const, value: Number(text) * 3600 } : toFieldUnit(text, 's');
  if (!c.ok || !(c.value >= 0 && c.value <= 8784 * 3600)) {
    throw new TwinlineError('USAGE', `--warmup must be a duration from 0 to 8784 h, such as '3h' or '90 min' (a bare number is hours), got "${text}"`);
  }
  return c.value;
}

/** Resolves on the first SIGINT or SIGTERM (a long-running command's stop: serve, plant up). */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
