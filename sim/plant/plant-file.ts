/**
 * A plant file (`plants/*.yaml`): many lines on one NATS cluster.
 *
 * ```yaml
 * version: 1
 * id: liling-ceramics
 * title: { en: Liling ceramics plant, zh: 醴陵陶瓷工厂 }
 * profile: hardened            # of every line host (default hardened)
 * nats: { nodes: 3 }           # a cluster plant up starts (1–5 nodes; JetStream and MQTT on each)
 * lines:
 *   - { scenario: scenarios/ceramic-after.yaml, count: 2, area: firing, speed: 10, warmup: 3h }
 *   - { scenario: scenarios/steel-ball-after.yaml }
 * ```
 *
 * `warmup` runs a line that long as fast as its host can before it goes live (`serve
 * --warmup`): the plant comes up with its kilns full and its queues settled. A host that is
 * started again resumes its run and is not warmed again.
 *
 * Each copy of a line gets its own id (`<scenario id>-<k>` when `count` > 1), ISA-95 line name
 * and area, its own host process and ports; copies are spread over the cluster's nodes in turn.
 * Checked like the other files: every problem with file:line:col.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { TwinlineError } from '../core/errors.ts';
import { checkedYaml } from '../line/checked-yaml.ts';
import { KEBAB_ID, label } from '../line/schema.ts';
import { MAX_SERVE_WARMUP_H, parseWarmup } from '../host/args.ts';

/** copies of lines one plant may run at most (each is a process with its own ports) */
export const MAX_PLANT_LINES = 64;
/** NATS nodes a plant may start */
export const MAX_NATS_NODES = 5;

const lineSchema = z.strictObject({
  scenario: z.string().min(1),
  count: z.number().int().min(1).max(MAX_PLANT_LINES).default(1),
  area: z.string().regex(KEBAB_ID, 'expected a kebab-case area name').optional(),
  speed: z.number().positive().max(600).default(1),
  warmup: z.union([z.string(), z.number()]).optional(),
});

const plantSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }),
  id: z.string().regex(KEBAB_ID, 'expected a kebab-case id'),
  title: label('title'),
  profile: z.enum(['hardened', 'open']).default('hardened'),
  nats: z.strictObject({ nodes: z.number().int().min(1).max(MAX_NATS_NODES).default(3) }).default({ nodes: 3 }),
  lines: z.array(lineSchema).min(1, 'a plant has at least one line'),
});

/** One host's line: a copy of a scenario. */
export interface PlantLine {
  /** the copy's id: the scenario's, with `-<k>` when there are several */
  id: string;
  /** the scenario file, resolved */
  scenario: string;
  /** which copy (1…count) */
  copy: number;
  area: string | null;
  speed: number;
  /** simulated time run before the host goes live [s] (0: none) */
  warmupS: number;
  /** the cluster node it publishes to (0-based) */
  node: number;
}

/** A checked plant. */
export interface Plant {
  file: string;
  id: string;
  title: { en: string; zh: string };
  profile: 'hardened' | 'open';
  natsNodes: number;
  lines: PlantLine[];
}

/** The `id:` of a scenario file, read without building the line. */
function scenarioId(file: string): string {
  const m = /^id:\s*["']?([A-Za-z0-9_-]+)/m.exec(readFileSync(file, 'utf8'));
  if (m === null) throw new TwinlineError('SCENARIO_SCHEMA', `${file}: no id: line`);
  return m[1]!;
}

/** Parses and checks a plant file; scenario paths are relative to the plant file. */
export function parsePlant(text: string, file: string): Plant {
  const { data, problems } = checkedYaml(text, file, plantSchema, { shape: 'a plant is a mapping with keys version, id, title, nats, lines' });
  const lines: PlantLine[] = [];
  const ids = new Set<string>();
  data.lines.forEach((l, k) => {
    let warmupS = 0;
    try {
      warmupS = parseWarmup(l.warmup);
      if (warmupS > MAX_SERVE_WARMUP_H * 3600) problems.add('OUT_OF_RANGE', `warmup ${String(l.warmup)} is more than a host's ${MAX_SERVE_WARMUP_H} h`, ['lines', k, 'warmup']);
    } catch (e) {
      problems.add('SCENARIO_SCHEMA', (e instanceof Error ? e.message : String(e)).replace('--warmup', 'warmup'), ['lines', k, 'warmup']);
    }
    const scenario = isAbsolute(l.scenario) ? l.scenario : [resolve(dirname(file), l.scenario), resolve(l.scenario)].find((p) => existsSync(p)) ?? resolve(dirname(file), l.scenario);
    if (!existsSync(scenario)) {
      problems.add('SCENARIO_SCHEMA', `no scenario file ${l.scenario} (looked beside the plant file and in the working folder)`, ['lines', k, 'scenario']);
      return;
    }
    const base = scenarioId(scenario);
    for (let c = 1; c <= l.count; c++) {
      const id = l.count === 1 ? base : `${base}-${c}`;
      if (ids.has(id)) problems.add('SCENARIO_SCHEMA', `line id "${id}" twice: give the copies of a scenario one entry with a count`, ['lines', k, 'scenario']);
      ids.add(id);
      lines.push({ id, scenario, copy: c, area: l.area ?? null, speed: l.speed, warmupS, node: lines.length % data.nats.nodes });
    }
  });
  if (lines.length > MAX_PLANT_LINES) problems.add('OUT_OF_RANGE', `${lines.length} lines: a plant runs at most ${MAX_PLANT_LINES}`, ['lines']);
  if (problems.items.length > 0) throw TwinlineError.of(problems.sorted());
  return { file, id: data.id, title: data.title, profile: data.profile, natsNodes: data.nats.nodes, lines };
}

/** Reads and checks a plant file. */
export function loadPlant(file: string): Plant {
  if (!existsSync(file)) throw new TwinlineError('USAGE', `no plant file ${file}`);
  return parsePlant(readFileSync(file, 'utf8'), resolve(file));
}
