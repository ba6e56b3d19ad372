/**
 * Golden event-log hashes of the built-in lines: each scenario in scenarios/ run with its own
 * seed for a short stretch (long enough that the first parts go through the whole line) must
 * give exactly this hash. Any change to the physics, the flow of parts, the random draws or
 * the events changes it. When a change is meant to change behaviour, update the hash here on
 * purpose, and say so in the commit message; when it is not, this test caught a regression.
 *
 * Runs use a 10 ms tick instead of the files' 1 ms to keep the test short; the hash pins that
 * run (the tick is part of what is hashed, so 1 ms runs have other hashes).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';

const DT = 0.01;

/** scenario id → simulated hours, event count and event-log hash */
const GOLDEN: Readonly<Record<string, { hours: number; events: number; hash: string }>> = {
  // 2 h 15 min: the first fired pieces leave the 2 h kiln and are inspected
  'ceramic-before': { hours: 2.25, events: 5138, hash: '9cd81e2ef6abb522' },
  'ceramic-after': { hours: 2.25, events: 5132, hash: '8d5cbea5b6af273b' },
  // 1 h 45 min: the first castings reach dispatch (melt, pour, cool, quench)
  'steel-ball-before': { hours: 1.75, events: 592, hash: '36f0844e262bfb26' },
  'steel-ball-after': { hours: 1.75, events: 595, hash: '010645c1f263ebdf' },
  // 1 h: two half-hour checks by hand, the first reels taken up
  'cable-before': { hours: 1, events: 389, hash: '4eae5272b05bd3ae' },
  'cable-after': { hours: 1, events: 397, hash: '658bbd50862f0a78' },
  // 1 h: coilers stop and are repaired (unseen on rounds before, alerted after), trays packed
  'spring-before': { hours: 1, events: 453, hash: '6dc7ed9690bf5fda' },
  'spring-after': { hours: 1, events: 537, hash: 'c86de4bfecff90b1' },
  // 8 h: the first modules through all three stations and the test
  'toilet-module-before': { hours: 8, events: 137, hash: '70fedbbf18c413a1' },
  'toilet-module-after': { hours: 8, events: 139, hash: '9ec8d7673052e719' },
  // 2 h: the first rings hardened, ground, sampled and packed
  'bearing-before': { hours: 2, events: 2455, hash: 'c0264322913ef58a' },
  'bearing-after': { hours: 2, events: 2455, hash: 'dc608fc667c185da' },
};

describe('golden event-log hashes of the built-in lines', () => {
  it.each(Object.keys(GOLDEN))('%s', (id) => {
    const g = GOLDEN[id]!;
    const file = `scenarios/${id}.yaml`;
    const w = createWorld({ ...parseScenario(readFileSync(file, 'utf8'), file), dt: DT });
    w.step(Math.round((g.hours * 3600) / DT));
    expect({ events: w.eventCount, hash: w.eventLogHash() }).toEqual({ events: g.events, hash: g.hash });
  }, 300_000);
});
