import { defineConfig } from 'vitest/config';
import { runFactor } from './test/global-setup.ts';

/** a test's and a hook's time limit on a quiet 2-core machine [ms], scaled by how slow this one is now (test/global-setup.ts) */
const LIMIT_MS = Math.round(60_000 * runFactor());

/**
 * One config for the web app (later) and the test runner.
 * Cross-origin isolation headers let the browser twin use SharedArrayBuffer.
 */
export default defineConfig({
  root: '.',
  server: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: LIMIT_MS,
    hookTimeout: LIMIT_MS,
    pool: 'forks',
    // marks the run, measures the machine, and fails the run if a process it started outlives it
    globalSetup: ['test/global-setup.ts'],
    // kills what a test file started and left running (test/proc.ts)
    setupFiles: ['test/setup.ts'],
  },
});
