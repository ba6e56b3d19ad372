/**
 * `npm run bench [section…]`: every figure beside a baseline measured in the same run, on
 * this machine. Run under plain node (bin/run-ts.mjs), never inside vitest, whose module
 * transform slows hot loops. With no arguments every section runs; name sections to run only
 * those (`npm run bench -- sim`). Each section's file says what it measures and against what.
 */
import { cpus, loadavg } from 'node:os';
import { renderTable } from '../../sim/host/table.ts';
import type { BenchRow, Section } from './common.ts';

/** The sections, in running order; each is loaded only when it runs. */
const SECTIONS: Readonly<Record<string, () => Promise<Section>>> = {
  sim: async () => (await import('./sim.ts')).simBench,
  opcua: async () => (await import('./opcua.ts')).opcuaBench,
  mqtt: async () => (await import('./mqtt.ts')).mqttBench,
  gateway: async () => (await import('./gateway.ts')).gatewayBench,
  render: async () => (await import('./render.ts')).renderBench,
  attacks: async () => (await import('./attacks.ts')).attacksBench,
  matrix: async () => (await import('./matrix.ts')).matrixBench,
  detectors: async () => (await import('./detectors.ts')).detectorsBench,
  validate: async () => (await import('./validate.ts')).validateBench,
  compare: async () => (await import('./compare.ts')).compareBench,
  historian: async () => (await import('./historian.ts')).historianBench,
  plant: async () => (await import('./plant.ts')).plantBench,
};

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => !(a in SECTIONS));
  if (unknown.length > 0) {
    console.error(`bench: unknown section ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`);
    return 2;
  }
  const names = argv.length > 0 ? argv : Object.keys(SECTIONS);
  const cpu = cpus();
  console.log(`machine: ${cpu.length} cores, ${cpu[0]?.model ?? 'unknown CPU'}, node ${process.version}, load ${load()}`);
  const all: BenchRow[] = [];
  const notes: string[] = [];
  for (const name of names) {
    console.log(`\n== ${name} ==`);
    const section = await SECTIONS[name]!();
    const r = await section((line) => console.log(line));
    all.push(...r.rows);
    notes.push(...r.notes.map((n) => `[${name}] ${n}`));
  }
  console.log(`\n${renderTable(['figure', 'value', 'baseline', 'baseline value', 'ratio'], all, [false, true, false, true, true])}\n`);
  for (const n of notes) console.log(n);
  console.log(`load at the end: ${load()}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
