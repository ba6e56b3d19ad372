#!/usr/bin/env node
// First step of `npm test`: the programs the test suite drives for real (Chromium, Mosquitto,
// nats-server, iproute2's ip; package.json "twinline.ciDebian") must be installed. Each missing
// one gets one line naming it and the exact command that installs it, before any test runs
// (exit 1). As root with CI=true they are installed with apt-get instead (what .ci/run relies on).
//
// A program is found on $PATH, then in the sbin folders Debian installs daemons to (often not
// on a user's PATH); Chromium also by $CHROMIUM_PATH. test/tools.ts finds them the same way.
//
// Node-RED and node-red-contrib-opcua (the real gateway of test/integration/gateway-node-red)
// come from the npm registry into a tools folder outside the project's dependencies,
// $TWINLINE_TOOLS/node-red (default ~/.cache/twinline-tools, kept between runs): installed
// there with CI=true when missing (elsewhere that test skips, naming the install command).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, join } from 'node:path';

/** what each program is for, so the line says why it is needed */
const PURPOSE = {
  chromium: 'the browser tests (test/e2e) drive it',
  mosquitto: 'the external-broker MQTT tests start it',
  'nats-server': 'the external-broker MQTT tests start it',
  ip: 'the plant-hosts test makes network namespaces with it',
};
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** the program's path, or null */
function findTool(name, env = process.env) {
  if (name === 'chromium' && env.CHROMIUM_PATH) return executable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  for (const dir of [...(env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...SBIN]) {
    if (executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** `[{ name, path, pkg }]` from package.json's "twinline.ciDebian" (`/usr/bin/chromium:chromium`) */
function required() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return (pkg.twinline?.ciDebian ?? []).map((req) => {
    const [path, deb] = req.split(':');
    return { name: basename(path), path, pkg: deb };
  });
}

const present = (t) => findTool(t.name) !== null;

function main() {
  const dryRun = process.argv.includes('--dry-run');
  const missing = required().filter((t) => !present(t));
  if (missing.length === 0) return 0;
  const root = process.getuid?.() === 0;
  const pkgs = missing.map((t) => t.pkg);
  if (root && process.env.CI === 'true') {
    const cmds = [['apt-get', ['update', '-qq']], ['apt-get', ['install', '-y', '-qq', ...pkgs]]];
    console.log(`installing what the tests need: apt-get install ${pkgs.join(' ')}${dryRun ? ' (dry run)' : ''}`);
    if (dryRun) return 0;
    for (const [cmd, args] of cmds) {
      const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      if (r.status !== 0) {
        console.error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
        return 1;
      }
    }
    const still = missing.filter((t) => !present(t));
    for (const t of still) console.error(`${t.name} is still missing after apt-get install ${t.pkg}`);
    return still.length === 0 ? 0 : 1;
  }
  const sudo = root ? '' : 'sudo ';
  for (const t of missing) console.error(`missing ${t.name} (${PURPOSE[t.name] ?? 'the tests need it'}): install it with \`${sudo}apt-get install ${t.pkg}\``);
  if (missing.length > 1) console.error(`all at once: \`${sudo}apt-get install ${pkgs.join(' ')}\``);
  console.error('(other systems: install them from your package manager; CHROMIUM_PATH may name the browser. As root with CI=true, npm test installs them with apt-get.)');
  return 1;
}

/** npm packages of the tools folder, pinned to what the tests were written against */
const NODE_RED = ['node-red@4.1', 'node-red-contrib-opcua@0.2'];

function nodeRed() {
  const base = process.env.TWINLINE_TOOLS ? process.env.TWINLINE_TOOLS : join(homedir(), '.cache', 'twinline-tools');
  const dir = join(base, 'node-red');
  const installed = () => existsSync(join(dir, 'node_modules', 'node-red', 'red.js')) && existsSync(join(dir, 'node_modules', 'node-red-contrib-opcua', 'package.json'));
  if (installed()) return 0;
  const cmd = `npm install --prefix ${dir} --no-audit --no-fund --omit=dev ${NODE_RED.join(' ')}`;
  // outside CI the real-gateway test skips without it and says how to install it
  if (process.env.CI !== 'true') return 0;
  console.log(`installing the real gateway the tests drive: ${cmd}${process.argv.includes('--dry-run') ? ' (dry run)' : ''}`);
  if (process.argv.includes('--dry-run')) return 0;
  mkdirSync(dir, { recursive: true });
  // its own package.json: the install stays in the tools folder, never in the project's
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{"name":"twinline-tools-node-red","private":true}\n');
  const r = spawnSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--omit=dev', ...NODE_RED], { stdio: 'inherit' });
  if (r.status !== 0 || !installed()) {
    console.error(`${cmd} failed (${r.error?.message ?? `exit ${r.status}`})`);
    return 1;
  }
  return 0;
}

process.exitCode = main() || nodeRed();
