/**
 * `twinline exercise run` as a process: an exercise file (the kiln cell, open profile, opcua-stop
 * at its second 2) runs on a twin of its own; the test is the trainees: it waits for the twin
 * to grade the incident, carries out every applying step of the playbook the twin picked
 * (notes included) over REST with the engineer's account from the exercise's home, and the
 * runner ends the exercise as responded, with the report, the score and a dataset whose labels
 * cover the attack. Bad exercise files exit 2 naming the value before any twin starts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { restCall } from '../../security/attacks/clients/rest.ts';
import { rangeAccountOf } from '../../security/attacks/observer.ts';
import type { Classification } from '../../security/playbooks/classify.ts';
import type { ExerciseResult } from '../../security/exercise/run.ts';
import { own, runToEnd, scaled } from '../proc.ts';
import { waitFor } from './opcua-host.ts';
import { START_MS } from './serve-proc.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/host.ts';
import { OUT } from '../e2e/pixels.ts';

const dir = mkdtempSync(join(tmpdir(), 'twinline-exercise-'));
const KILN_CELL = resolve('test/fixtures/scenarios/kiln-cell.yaml');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, body: string): string => {
  const f = join(dir, name);
  writeFileSync(f, body);
  return f;
};
const cli = (...args: string[]): ReturnType<typeof runToEnd> => runToEnd(process.execPath, ['bin/twinline.mjs', 'exercise', ...args], { timeoutMs: 60_000 });

describe('twinline exercise', () => {
  it('runs a scripted exercise: the attack at its second, the trainees\' response timed against the playbook, then report, score and dataset', async () => {
    const file = write('drill.yaml', [
      'version: 1', 'id: kiln-stop-drill', 'title: { en: A stop from OPC UA, zh: 来自 OPC UA 的停机 }',
      `scenario: ${KILN_CELL}`, 'profile: open', 'speed: 10', 'durationS: 300',
      'attacks:', '  - { atS: 2, attack: opcua-stop, station: kiln }', '',
    ].join('\n'));
    const out = join(dir, 'out');
    const runner = own(process.execPath, ['bin/twinline.mjs', 'exercise', 'run', file, '--out', out, '--json'], { timeoutMs: scaled(400_000) });
    try {
      const web = await waitFor('the exercise\'s twin', () => /^ready (http:\/\/\S+)$/m.exec(runner.stdout())?.[1] ?? null, (x) => x !== null || !runner.running(), START_MS);
      expect(web, runner.out()).not.toBeNull();
      expect(runner.stdout()).toContain(`accounts for the trainees: ${join(out, 'home', 'initial-passwords.txt')}`);
      const engineer = rangeAccountOf(join(out, 'home'), 'engineer')!;
      const base = new URL(web!);
      const get = async (path: string): Promise<Record<string, unknown>> => (await restCall(base, path, {}, engineer)).body;

      // the trainees: the incident graded, its playbook's steps carried out as the twin filled them in
      const inc = await waitFor('the incident graded', async () => (await get('api/incident')).classification as Classification | null,
        (c) => c?.incident === true && c.playbook?.id === 'unauthorized-command' && c.phases.some((p) => p.steps.some((s) => s.applies && s.do === 'resume-station')), 60_000);
      for (const p of inc!.phases) {
        for (const s of p.steps.filter((x) => x.applies && x.do !== null)) {
          const a = await restCall(base, `api/respond/${s.do}`, { method: 'POST', body: JSON.stringify({ ...s.with, step: s.step }), headers: { 'content-type': 'application/json' } }, engineer);
          expect(a.status, `${s.step}: ${JSON.stringify(a.body)}`).toBe(200);
        }
      }
      const code = await runner.exited;
      expect(code, runner.out()).toBe(0);
    } finally {
      await runner.stop();
    }
    const r = JSON.parse(runner.stdout().trim().split('\n').pop()!) as ExerciseResult;
    expect(r.ended).toBe('responded');
    expect(r.attacks).toMatchObject([{ attack: 'opcua-stop', station: 'kiln', status: 'done', outcome: 'succeeded' }]);
    expect(r.detection.detected).toBe(true);
    expect(r.detection.ttdMs).toBeGreaterThan(0);
    expect(r.playbook).toBe('unauthorized-command');
    expect(r.phases.every((p) => p.status === 'on time')).toBe(true);
    expect(r.restored).toBe(true);
    expect(r.stations.kiln).toBe('Execute');
    expect(r.score.containment).toBe(100);
    expect(r.score.recovery).toBe(100);
    expect(r.score.detection).toBeGreaterThan(0);
    expect(r.score.production).toBeLessThan(100);
    expect(r.score.total).toBeGreaterThan(50);
    expect(JSON.parse(readFileSync(join(out, 'score.json'), 'utf8'))).toMatchObject({ ended: 'responded', score: r.score });

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<tr data-lane="attack">.*opcua-stop \(T0855\) via opcua by instructor@/);
    expect(html).toMatch(/<tr data-lane="response">.*resume-station station kiln: done \[recover\.resume-station\]/);
    expect(readFileSync(join(out, 'report.zh.html'), 'utf8')).toContain('<h1>安全事件报告</h1>');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      expect(await page.locator('[data-testid="phases"] tr[data-status="on time"]').count()).toBe(r.phases.length);
      expect(await page.locator('[data-testid="lanes"] circle').count()).toBeGreaterThanOrEqual(5);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'exercise-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }

    // the dataset: the attack's rows labelled with it, the others normal
    expect(r.datasetProblems).toEqual([]);
    const csv = readFileSync(join(out, 'dataset', 'dataset.csv'), 'utf8').trim().split('\n');
    const label = csv[0]!.split(',').indexOf('label');
    const labels = csv.slice(1).map((l) => l.split(',')[label]);
    expect(labels).toContain('opcua-stop');
    expect(labels).toContain('normal');
    expect(existsSync(join(out, 'dataset', 'DATACARD.md'))).toBe(true);
  }, scaled(420_000));

  it('a bad exercise file exits 2 naming each bad value, before any twin starts', async () => {
    const good = write('good.yaml', ['version: 1', 'id: ok', 'title: { en: ok, zh: 好 }', `scenario: ${KILN_CELL}`, 'attacks:', '  - { atS: 1, attack: opcua-stop }', ''].join('\n'));
    const ok = await cli('check', good);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok {2}.*good\.yaml: ok \(ok \/ 好\); 1 attack on .*kiln-cell\.yaml under open$/m);
    const bad = write('bad.yaml', ['version: 1', 'id: Bad Id', 'title: x', `scenario: ${KILN_CELL}`, 'profile: closed', 'durationS: 60',
      'attacks:', '  - { atS: 1, attack: no-such-attack }', '  - { atS: 70, attack: opcua-stop, station: nowhere, extra: 1 }', ''].join('\n'));
    const b = await cli('run', bad, '--out', join(dir, 'never'));
    expect(b.code).toBe(2);
    for (const m of [/id: must be an id/, /title: must be \{ en: text, zh: text \}/, /profile: must be open or hardened/, /attacks\[0\]\.attack: unknown attack "no-such-attack"/,
      /attacks\[1\]\.atS: must be a second from 0 to before durationS \(60\)/, /attacks\[1\]\.station: the line has no station "nowhere" \(stations: src, belt, kiln, out\)/, /attacks\[1\]\.extra: unknown key/]) {
      expect(b.stderr).toMatch(m);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
    // the shipped exercises are good
    for (const f of ['security/exercises/kiln-stop.yaml', 'security/exercises/kiln-setpoint-drift.yaml']) {
      const c = await cli('check', f);
      expect(c.code, `${f}: ${c.stderr}`).toBe(0);
    }
    const missing = await cli('check', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the exercise file \(ENOENT\)/);
    const notYaml = await cli('check', write('x.yaml', 'attacks: [1, 2\n'));
    expect(notYaml.code).toBe(2);
    expect(notYaml.stderr).toMatch(/not valid YAML/);
  }, scaled(120_000));
});
