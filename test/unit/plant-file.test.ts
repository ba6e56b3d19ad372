/**
 * A plant file's hosts and network (sim/plant/plant-file.ts): addresses given or taken in turn
 * from `.2` on, the network's first address the cluster's; a line on a host the file does not
 * have, an address outside the subnet or the cluster's own, a subnet with host bits, and hosts
 * without a network are each named with file:line:col.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TwinlineError } from '../../sim/core/errors.ts';
import { loadPlant, parsePlant } from '../../sim/plant/plant-file.ts';
import { netPlan } from '../../sim/plant/plant-net.ts';

const KILN = resolve('test/fixtures/scenarios/kiln-cell.yaml');
const MINIMAL = resolve('test/fixtures/scenarios/minimal.yaml');
const FILE = '/plants/halls.yaml';

const plant = (tail: string): string => `version: 1\nid: halls\ntitle: { en: Halls, zh: 车间 }\n${tail}`;
const problems = (text: string): string => {
  try {
    parsePlant(text, FILE);
  } catch (e) {
    if (e instanceof TwinlineError) return e.report();
    throw e;
  }
  throw new Error('no problem found');
};

describe('plant file: hosts and the plant network', () => {
  it('gives each host its address and each line its host', () => {
    const p = parsePlant(plant([
      'network: { subnet: 10.213.9.0/24 }',
      'hosts:', '  - { name: hall-a, address: 10.213.9.2 }', '  - { name: hall-b }', '  - { name: hall-c, address: 10.213.9.3 }', '  - { name: hall-d }',
      'lines:', `  - { scenario: ${KILN}, host: hall-b }`, `  - { scenario: ${MINIMAL} }`, '',
    ].join('\n')), FILE);
    expect(p.network).toEqual({ subnet: '10.213.9.0/24', gateway: '10.213.9.1', prefix: 24 });
    // given addresses are kept; the others take the next free one
    expect(p.hosts).toEqual([
      { name: 'hall-a', address: '10.213.9.2' }, { name: 'hall-b', address: '10.213.9.4' }, { name: 'hall-c', address: '10.213.9.3' }, { name: 'hall-d', address: '10.213.9.5' },
    ]);
    expect(p.lines.map((l) => [l.id, l.host])).toEqual([['kiln-cell', 'hall-b'], ['minimal', null]]);
    const plan = netPlan(p)!;
    expect(plan.bridge).toMatch(/^twl[0-9a-f]{6}$/);
    expect(plan.hosts.map((h) => [h.netns, h.veth.length <= 15])).toEqual([['twl-halls-hall-a', true], ['twl-halls-hall-b', true], ['twl-halls-hall-c', true], ['twl-halls-hall-d', true]]);
    expect(netPlan(parsePlant(plant(`lines:\n  - { scenario: ${KILN} }\n`), FILE))).toBeNull();
  });

  it('reads the example plants, one on loopback and one on two hosts', () => {
    expect(loadPlant('scenarios/plants/liling-ceramics.yaml').hosts).toEqual([]);
    const halls = loadPlant('scenarios/plants/liling-halls.yaml');
    expect(halls.hosts).toEqual([{ name: 'kiln-hall', address: '10.213.9.2' }, { name: 'old-hall', address: '10.213.9.3' }]);
    expect(halls.lines.map((l) => [l.id, l.host])).toEqual([['ceramic-after-1', 'kiln-hall'], ['ceramic-after-2', 'kiln-hall'], ['ceramic-before', 'old-hall']]);
  });

  it('names a bad host, address or subnet with file:line:col', () => {
    const onUnknown = problems(plant(`network: { subnet: 10.213.9.0/24 }\nhosts:\n  - { name: hall-a }\nlines:\n  - { scenario: ${KILN}, host: hall-z }\n`));
    expect(onUnknown).toContain(`${FILE}:8:`);
    expect(onUnknown).toContain('lines[0].host: no host "hall-z" in the plant\'s hosts (hall-a)');
    const outside = problems(plant(`network: { subnet: 10.213.9.0/24 }\nhosts:\n  - { name: hall-a, address: 10.213.10.2 }\n  - { name: hall-b, address: 10.213.9.1 }\nlines:\n  - { scenario: ${KILN} }\n`));
    expect(outside).toContain(`${FILE}:6:`);
    expect(outside).toContain('hosts[0].address: address "10.213.10.2" is not a host address of 10.213.9.0/24');
    expect(outside).toContain(`${FILE}:7:`);
    expect(outside).toContain('hosts[1].address: address "10.213.9.1" is not a host address');
    const twice = problems(plant(`network: { subnet: 10.213.9.0/24 }\nhosts:\n  - { name: hall-a, address: 10.213.9.7 }\n  - { name: hall-a, address: 10.213.9.7 }\nlines:\n  - { scenario: ${KILN} }\n`));
    expect(twice).toContain('hosts[1].name: host "hall-a" twice');
    expect(twice).toContain('hosts[1].address: address 10.213.9.7 twice');
    expect(problems(plant(`network: { subnet: 10.213.9.5/24 }\nlines:\n  - { scenario: ${KILN} }\n`))).toContain('network.subnet: subnet "10.213.9.5/24": expected an IPv4 network');
    expect(problems(plant(`network: { subnet: 10.213.9.0/30 }\nlines:\n  - { scenario: ${KILN} }\n`))).toContain('p from 16 to 28');
    const crowded = problems(plant(`network: { subnet: 10.213.9.0/28 }\nhosts:\n${Array.from({ length: 14 }, (_, k) => `  - { name: h${k} }`).join('\n')}\nlines:\n  - { scenario: ${KILN} }\n`));
    expect(crowded).toContain('hosts: 14 hosts do not fit in 10.213.9.0/28');
    const bare = problems(plant(`hosts:\n  - { name: hall-a }\nlines:\n  - { scenario: ${KILN}, host: hall-a }\n`));
    expect(bare).toContain(`${FILE}:5:`);
    expect(bare).toContain('hosts: hosts need the plant network they sit on: network: { subnet: 10.213.9.0/24 }');
  });
});
