/**
 * bin/check-prereqs.mjs, the first step of `npm test`, on a machine lacking Chromium: a PATH
 * of a temp dir holding only `node` (a symlink), so the real program is not found. Each
 * missing program gets one line with the exact install command and the exit code is 1; with
 * every program there it is silent; as root with CI=true it installs instead (a dry run here).
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToEnd } from '../proc.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** a PATH folder holding `node` and the given programs (each a symlink to `true`) */
function pathWith(programs: readonly string[]): string {
  const d = mkdtempSync(join(tmpdir(), 'twinline-path-'));
  dirs.push(d);
  symlinkSync(process.execPath, join(d, 'node'));
  for (const p of programs) symlinkSync('/bin/true', join(d, p));
  return d;
}

/** runs the checker with only `PATH` (and HOME) in its environment, plus `env` */
function check(path: string, env: Record<string, string> = {}, args: string[] = []): ReturnType<typeof runToEnd> {
  return runToEnd(join(path, 'node'), ['bin/check-prereqs.mjs', ...args], { env: { PATH: path, HOME: tmpdir(), ...env }, timeoutMs: 30_000 });
}

const root = process.getuid?.() === 0;
const sudo = root ? '' : 'sudo ';

describe('npm test prerequisites', () => {
  it('names a missing chromium with the exact install command, and exits 1', async () => {
    const r = await check(pathWith([]));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toContain(`missing chromium (the browser tests (test/e2e) drive it): install it with \`${sudo}apt-get install chromium\``);
    // every missing-program line names one program and its package, nothing else
    for (const l of lines.filter((x) => x.startsWith('missing '))) expect(l).toMatch(/^missing (chromium|mosquitto|nats-server) \(.+\): install it with `(sudo )?apt-get install (chromium|mosquitto|nats-server)`$/);
    expect(lines.at(-1)).toMatch(/CHROMIUM_PATH/);
  });

  it('names every missing program, one line each, and the command for all of them', async () => {
    // the brokers are found in the sbin folders too; a CHROMIUM_PATH that is not there counts as missing
    const r = await check(pathWith([]), { CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(r.code).toBe(1);
    const missing = r.stderr.split('\n').filter((l) => l.startsWith('missing ')).map((l) => l.split(' ')[1]);
    expect(missing[0]).toBe('chromium');
    if (missing.length > 1) expect(r.stderr).toContain(`all at once: \`${sudo}apt-get install ${missing.join(' ')}\``);
  });

  it('is silent and exits 0 when every program is on the PATH', async () => {
    const r = await check(pathWith(['chromium', 'mosquitto', 'nats-server']));
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('with CI=true installs the missing ones with apt-get as root (dry run), and names the sudo command otherwise', async () => {
    const r = await check(pathWith(['mosquitto', 'nats-server']), { CI: 'true' }, ['--dry-run']);
    if (root) {
      expect(r).toMatchObject({ code: 0, stderr: '' });
      // then the tools folder (test below)
      expect(r.stdout.split('\n')[0]).toBe('installing what the tests need: apt-get install chromium (dry run)');
    } else {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('install it with `sudo apt-get install chromium`');
    }
  });

  it('with CI=true installs Node-RED into the tools folder, outside the project (dry run)', async () => {
    const tools = join(tmpdir(), `twinline-tools-${process.pid}`);
    const r = await check(pathWith(['chromium', 'mosquitto', 'nats-server']), { CI: 'true', TWINLINE_TOOLS: tools }, ['--dry-run']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`installing the real gateway the tests drive: npm install --prefix ${join(tools, 'node-red')} --no-audit --no-fund --omit=dev node-red@4.1 node-red-contrib-opcua@0.2 (dry run)\n`);
  });
});
