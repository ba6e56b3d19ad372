/**
 * Every tag a faceplate shows has a label in English and in Chinese, on every station of every
 * built-in line (the e2e look test checks the rendered faceplates of the ceramic and steel-ball
 * lines; this covers the tags of every line as the worker hands them to the web app).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { stationTags } from '../../sim/worker/twin-view.ts';
import { en } from '../../web/src/i18n/en.ts';
import { zhCN } from '../../web/src/i18n/zh-CN.ts';

/** bookkeeping tags the faceplate leaves out (TagTable's NOT_SHOWN) */
const NOT_SHOWN = new Set(['alarmsAcked']);

const LINES = readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5));

/** `line station (kind): tag` of every tag of the line's stations */
function tagsOf(id: string): { where: string; tag: string }[] {
  const file = `scenarios/${id}.yaml`;
  const spec = parseScenario(readFileSync(file, 'utf8'), file);
  const w = createWorld(spec);
  return spec.stations.flatMap((st, s) => stationTags(w, s).filter((t) => !NOT_SHOWN.has(t.name)).map((t) => ({ where: `${id} ${st.id} (${st.kind})`, tag: t.name })));
}

describe('tag labels', () => {
  it('cover every built-in line', () => {
    expect(LINES.length).toBeGreaterThanOrEqual(12);
  });

  it.each(LINES)('%s: every tag is labelled in English and in Chinese', (id) => {
    const tags = tagsOf(id);
    expect(tags.length).toBeGreaterThan(10);
    expect(tags.filter((t) => en.tagLabels[t.tag] === undefined).map((t) => `${t.where}: ${t.tag}`)).toEqual([]);
    expect(tags.filter((t) => !/[\u4e00-\u9fff]/.test(zhCN.tagLabels[t.tag] ?? '')).map((t) => `${t.where}: ${t.tag}`)).toEqual([]);
  });
});
