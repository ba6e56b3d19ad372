/**
 * Runs before every test file: after the file (its own afterAll hooks first), every child
 * process it started through test/proc.ts that still runs is killed with its process group and
 * named, so a failed start or a forgotten stop never outlives the file.
 */
import { afterAll } from 'vitest';
import { reapAll } from './proc.ts';

afterAll(async () => {
  const reaped = await reapAll();
  if (reaped.length > 0) console.warn(`killed ${reaped.length} child process(es) still running after the file:\n  ${reaped.join('\n  ')}`);
}, 60_000);
