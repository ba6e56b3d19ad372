/**
 * A child process's output kept in a file beside its state (a NATS node's `nats.log`, a line
 * host's `host.log`), so what it said outlives the plant, bounded whatever it prints: a
 * `Rotating` file that becomes `<name>.1.log` past `maxBytes` (the previous one dropped), so at
 * most twice `maxBytes` stay on disk. A file that cannot be opened or written (disk full) is
 * given up, not the plant: the owner keeps the output's tail in memory as well.
 */
import type { ChildProcess } from 'node:child_process';
import { Rotating } from '../host/run-log.ts';

/** bytes a log file holds before it is rotated */
export const OUTPUT_LOG_BYTES = 4 * 1024 ** 2;

/** See the module comment. */
export class OutputLog {
  /** null once given up */
  private file: Rotating | null;

  constructor(path: string, maxBytes = OUTPUT_LOG_BYTES) {
    try {
      this.file = new Rotating(path, maxBytes, 1);
    } catch {
      this.file = null;
    }
  }

  /** Appends `text` (synchronously), rotating first when it would pass the bound. */
  write(text: string): void {
    try {
      this.file?.write(text);
    } catch {
      this.close();
    }
  }

  /** A line saying the process (re)started, with the time. */
  started(what: string): void {
    this.write(`--- ${new Date().toISOString()} ${what} ---\n`);
  }

  close(): void {
    try {
      this.file?.close();
    } catch {
      // closed already
    }
    this.file = null;
  }
}

/**
 * Hands `keep` what child `p` prints on stdout and stderr, decoded as streams: a character
 * whose UTF-8 bytes straddle two reads stays whole.
 */
export function readOutput(p: ChildProcess, keep: (text: string) => void): void {
  for (const stream of [p.stdout, p.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', keep);
  }
}
