/**
 * Profiles of the security matrix: the built-in promises name real attacks, profile files
 * (YAML and JSON) become serve flags and promises, and every bad key or value is reported at
 * once with the file and key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACKS } from '../../security/attacks/index.ts';
import { builtInProfiles, loadProfileFile, resolveProfiles } from '../../security/matrix/profiles.ts';
import { TwinlineError } from '../../sim/core/errors.ts';

let dir = '';
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'twinline-profiles-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const problems = (f: string): string[] => {
  try {
    loadProfileFile(f, ATTACKS);
  } catch (e) {
    if (e instanceof TwinlineError) return e.problems.map((p) => `${p.where.path ?? ''}: ${p.message}`);
    throw e;
  }
  throw new Error(`${f} was accepted`);
};

describe('matrix profiles', () => {
  it('hardened promises every attack of the library; open only what every profile refuses', () => {
    const b = builtInProfiles(ATTACKS);
    // all but reading Modbus/TCP, which cannot authenticate anyone
    expect([...b.hardened.blocks].sort()).toEqual(ATTACKS.map((a) => a.id).filter((id) => id !== 'modbus-discovery' && id !== 'modbus-read').sort());
    expect([...b.open.blocks].sort()).toEqual(['kiln-trip-raise', 'mqtt-forged-death', 'mqtt-spoof', 'mqtt-stop', 'mqtt-subscribe-flood']);
    expect(b.open.flags).toEqual([]);
  });

  it('a YAML file: base, serve flags as given to serve, the base\'s promise less "except"', () => {
    const f = file('legacy.yaml', 'name: hardened-legacy\nbase: hardened\nflags:\n  mqtt-encoding: uns\n  no-mqtt: false\n  seed: 7\n  allow-host: [a.example, b.example]\nexcept: [opcua-stop]\n');
    const p = loadProfileFile(f, ATTACKS);
    expect(p).toMatchObject({ name: 'hardened-legacy', base: 'hardened', source: f });
    expect(p.flags).toEqual(['--mqtt-encoding', 'uns', '--seed', '7', '--allow-host', 'a.example', '--allow-host', 'b.example']);
    expect(p.blocks.has('opcua-stop')).toBe(false);
    expect(p.blocks.size).toBe(builtInProfiles(ATTACKS).hardened.blocks.size - 1);
  });

  it('a JSON file named after itself, with its own list of blocks', () => {
    const p = loadProfileFile(file('classroom-no-mqtt.json', '{"base":"open","flags":{"no-mqtt":true},"blocks":["rest-stop"]}'), ATTACKS);
    expect(p).toMatchObject({ name: 'classroom-no-mqtt', base: 'open', flags: ['--no-mqtt'] });
    expect([...p.blocks]).toEqual(['rest-stop']);
  });

  it('the sample profile in security/profiles/ loads', () => {
    const p = loadProfileFile('security/profiles/hardened-uns-only.yaml', ATTACKS);
    expect(p).toMatchObject({ name: 'hardened-uns-only', base: 'hardened', flags: ['--mqtt-encoding', 'uns'] });
    expect(p.blocks.size).toBe(builtInProfiles(ATTACKS).hardened.blocks.size);
  });

  it('every problem of a bad file at once, each with its key', () => {
    const got = problems(file('bad.yaml', 'name: Open Plant\nbase: hardend\ncolour: red\nflags:\n  profile: open\n  home: /tmp/x\n  speed: [1, 2]\n  dnp3-port: 20000\nblocks: everything\nexcept: [nope]\n'));
    expect(got).toEqual([
      'colour: unknown key (keys: name, base, description, flags, blocks, except)',
      'name: must be kebab-case, up to 64 characters',
      'base: "hardend" is not a base profile: open or hardened',
      'flags.profile: the base profile is set by "base"',
      'flags.home: --home is set by the matrix (a fresh home, free ports, loopback)',
      'flags.speed: --speed takes one value (text or a number)',
      expect.stringMatching(/^flags\.dnp3-port: twinline serve has no flag --dnp3-port \(its flags: seed, speed, /),
      'blocks: must be "all" or a list of attack ids',
      'except[0]: no attack "nope" (twinline attack list shows them)',
    ]);
    expect(problems(file('list.yaml', '- base: open\n'))).toEqual([': a profile file is a mapping: base, flags, blocks (see security/profiles/)']);
    expect(problems(file('builtin.yaml', 'name: open\nbase: open\n'))).toEqual(['name: "open" is a built-in profile: give the file\'s profile a name of its own']);
  });

  it('--profiles: built-in names, files, unknown names and duplicates', () => {
    expect(resolveProfiles(['open', 'hardened'], ATTACKS).map((p) => p.name)).toEqual(['open', 'hardened']);
    expect(() => resolveProfiles(['open', 'strict'], ATTACKS)).toThrow(/unknown profile "strict"/);
    expect(() => resolveProfiles(['open', 'open'], ATTACKS)).toThrow(/profile "open" is given twice/);
  });
});
