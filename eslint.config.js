// Lint: typescript-eslint recommended, plus the purity rules of ARCHITECTURE.md §2/§7:
// sim/core, sim/machines, sim/plc and sim/line use no wall clock, no Math.random, no DOM and
// no node:* modules (time is the tick counter, randomness the seeded RNG).
import tseslint from 'typescript-eslint';

const pure = ['sim/core/**/*.ts', 'sim/machines/**/*.ts', 'sim/plc/**/*.ts', 'sim/line/**/*.ts'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-output/**', 'web/dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: pure,
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'Simulation time is the tick counter (world.tick × dt).' },
        { name: 'performance', message: 'No wall clock in the pure simulation.' },
        { name: 'setTimeout', message: 'No timers in the pure simulation.' },
        { name: 'setInterval', message: 'No timers in the pure simulation.' },
        { name: 'window', message: 'No DOM in the pure simulation.' },
        { name: 'document', message: 'No DOM in the pure simulation.' },
        { name: 'process', message: 'No Node globals in the pure simulation.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the seeded RNG (sim/core/rng.ts).' },
        { object: 'Date', property: 'now', message: 'Simulation time is the tick counter.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'worker_threads', 'child_process'], message: 'The pure simulation imports no Node modules.' },
            { group: ['react', 'three', '@react-three/*', 'node-opcua*', 'mqtt', 'aedes*', 'comlink'], message: 'sim/ knows nothing of React, three, OPC UA, MQTT or comlink.' },
          ],
        },
      ],
    },
  },
);
