import { defineConfig } from 'vitest/config';

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
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // marks the run, measures the machine, and fails the run if a process it started outlives it
    globalSetup: ['test/global-setup.ts'],
    // kills what a test file started and left running (test/proc.ts)
    setupFiles: ['test/setup.ts'],
  },
});
