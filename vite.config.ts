import { availableParallelism } from 'node:os';
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
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on 2 cores (vitest's default there is one): most of the
    // suite waits on real time (lines at 1×, brokers, worker pools), and every waiting budget
    // scales with the load it meets (test/proc.ts). Then the browser tests, one file at a time:
    // Chromium's software renderer takes both cores by itself.
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', '**/node_modules/**'], maxWorkers: Math.max(2, availableParallelism() - 1), sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'browser', include: ['test/e2e/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
    // marks the run, measures the machine, and fails the run if a process it started outlives it
    globalSetup: ['test/global-setup.ts'],
    // kills what a test file started and left running (test/proc.ts)
    setupFiles: ['test/setup.ts'],
  },
});
