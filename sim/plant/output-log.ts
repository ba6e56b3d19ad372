/**
 * A child process's output kept in a file beside its state (a NATS node's `nats.log`, a line
 * host's `host.log`), so what it said outlives the plant, bounded whatever it prints: past
 * `maxBytes` the file becomes `<file>.1` (the previous `.1` dropped) and a new one begins, so at
 * most twice `maxBytes` stay on disk. A file that cannot be written (disk full) is given up, not
 * the plant: the owner keeps the output's tail in memory as well.
 */
import { appendFileSync, existsSync, renameSync, statSync } from 'node:fs';

/** bytes a log file holds before it is rotated */
export const OUTPUT_LOG_BYTES = 4 * 1024 ** 2;

/** See the module comment. */
export class OutputLog {
  private size: number;
  private broken = false;

  constructor(readonly file: string, private readonly maxBytes = OUTPUT_LOG_BYTES) {
    this.size = existsSync(file) ? statSync(file).size : 0;
  }

  /** Appends `text` (synchronously), rotating first when it would pass the bound. */
  write(text: string): void {
    if (this.broken) return;
    try {
      const n = Buffer.byteLength(text);
      if (this.size > 0 && this.size + n > this.maxBytes) {
        renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      appendFileSync(this.file, text, { mode: 0o600 });
      this.size += n;
    } catch {
      this.broken = true;
    }
  }

  /** A line saying the process (re)started, with the time. */
  started(what: string): void {
    this.write(`--- ${new Date().toISOString()} ${what} ---\n`);
  }
}
