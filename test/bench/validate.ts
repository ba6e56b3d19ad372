/**
 * Bench section `validate`: the cost of checking a scenario against its size. Files of 1, 5
 * and 50 MB with the same station line repeated (test/fixtures/big-scenario.ts), each
 * validated as `twinline validate` does it (parse with positions, check, build the world),
 * against a baseline of the same text through the YAML library alone (`yaml`'s `parse`): the
 * floor any positioned check pays. Per MB, and the growth factor of validate's time per MB
 * from 1 MB to each size (about 1 when the cost is linear). A file over MAX_SCENARIO_BYTES is
 * refused before it is parsed: its row shows the time of that refusal, not a validation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TwinlineError } from '../../sim/core/errors.ts';
import { createWorld } from '../../sim/line/build.ts';
import { MAX_SCENARIO_BYTES } from '../../sim/line/limits.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { loadScenario } from '../../sim/host/record.ts';
import { scenarioOfSize } from '../fixtures/big-scenario.ts';
import { fmt, ratio, type BenchRow, type SectionResult } from './common.ts';

const SIZES_MB = [1, 5, 50];

/** Milliseconds `fn` takes. */
function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function validateBench(log: (line: string) => void): Promise<SectionResult> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'twinline-bench-validate-'));
  let perMb1 = NaN;
  let yamlPerMb1 = NaN;
  const growth: string[] = [];
  try {
    for (const mb of SIZES_MB) {
      const { text, stations } = scenarioOfSize(mb * 1e6);
      const file = join(dir, `line-${mb}mb.yaml`);
      writeFileSync(file, text);
      const bytes = Buffer.byteLength(text);
      const sizeMb = bytes / 1e6;
      let outcome = '';
      const validateMs = time(() => {
        try {
          const loaded = loadScenario(file);
          const spec = parseScenario(loaded.text, loaded.file);
          createWorld(spec);
          outcome = `ok, ${fmt(spec.stations.length)} stations`;
        } catch (e) {
          if (!(e instanceof TwinlineError)) throw e;
          outcome = `refused: ${e.problems[0]?.message ?? e.message}`;
        }
      });
      const refused = outcome.startsWith('refused');
      log(`${fmt(sizeMb, 1)} MB (${fmt(stations)} stations): validate ${fmt(validateMs)} ms, ${outcome}`);
      if (refused) {
        rows.push([`validate ${mb} MB: refused over the limit [ms]`, fmt(validateMs, 1), '–', '–', '–']);
        notes.push(`${mb} MB is over MAX_SCENARIO_BYTES (${fmt(MAX_SCENARIO_BYTES / 1e6, 1)} MB): refused before reading, exit 2 (${outcome.slice('refused: '.length)})`);
        continue;
      }
      const yamlMs = time(() => void parse(text, { maxAliasCount: 1000 }));
      const perMb = validateMs / sizeMb;
      if (mb === SIZES_MB[0]) {
        perMb1 = perMb;
        yamlPerMb1 = yamlMs / sizeMb;
      } else growth.push(`1 → ${mb} MB: validate ${(perMb / perMb1).toFixed(2)}×, plain YAML parse ${(yamlMs / sizeMb / yamlPerMb1).toFixed(2)}×`);
      rows.push([`validate ${mb} MB [ms/MB]`, fmt(perMb), `yaml parse ${mb} MB [ms/MB]`, fmt(yamlMs / sizeMb), ratio(validateMs, yamlMs)]);
      rows.push([`validate ms/MB growth ${SIZES_MB[0]} → ${mb} MB`, `${(perMb / perMb1).toFixed(2)}×`, 'linear', '1.00×', '–']);
      log(`  yaml parse alone ${fmt(yamlMs)} ms; validate per MB ${fmt(perMb)} ms, growth from 1 MB ${(perMb / perMb1).toFixed(2)}×`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // the baseline's own growth says how much of validate's comes from the parser and the machine (GC, load)
  if (growth.length > 0) notes.push(`growth of time per MB, same run: ${growth.join('; ')}`);
  return { rows, notes };
}
