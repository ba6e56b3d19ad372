/**
 * The self-contained HTML report of `twinline diagnose --html` in English or Chinese: the
 * line's indicators now and after the roadmap, the four stages as bars against the seeds'
 * benchmarks, the steps tried on the twin ranked by payback, and the roadmap. No script, no
 * external URL: the file opens offline and can be mailed.
 */
import { BENCHMARKS, type DiagnoseResult, type Stage, type StageGrade } from './diagnose.ts';
import { REPORT_FONT_STACK, withCjkFont } from './report-font.ts';

type Lang = 'en' | 'zh-CN';

const WORDS = {
  en: {
    title: 'Smart-retrofit diagnosis', indicators: 'Indicators', indicator: 'Indicator', stage: 'Stage', now: 'Now', after: 'After the roadmap', how: 'How it was found',
    stages: 'Stages', steps: 'Retrofit steps tried on the twin', rank: '#', step: 'Step', goodPerDay: 'Good parts/day', oee: 'OEE', labour: 'Labour hours', capex: 'Capex [CNY]',
    net: 'Net saving [CNY/a]', payback: 'Payback', years: 'a', none: 'none', roadmap: 'Proposed roadmap', notApplicable: 'Not applicable',
    noStep: 'No retrofit step applies to this line.', benchmark: () => `benchmarks: province ${BENCHMARKS.province} % (document 000), leading firms ≥ ${BENCHMARKS.leading} % (document 001)`,
    runs: (r: DiagnoseResult) => `${r.seeds} seed${r.seeds === 1 ? '' : 's'} per variant, ${r.hours} h${r.warmupHours > 0 ? ` after a ${r.warmupHours} h warm-up` : ''}; every figure comes out of the simulated line`,
    stageName: { automation: 'Automation', 'digital-integration': 'Digital integration', networking: 'Networking', intelligence: 'Intelligence' } as Record<Stage, string>,
    level: { leading: 'leading', average: 'average', behind: 'behind', 'not assessed': 'not assessed' } as Record<StageGrade['level'], string>,
  },
  'zh-CN': {
    title: '智能化改造诊断', indicators: '指标', indicator: '指标', stage: '阶段', now: '现状', after: '按路线改造后', how: '计算依据',
    stages: '四个阶段', steps: '在数字孪生上试行的改造步骤', rank: '序', step: '步骤', goodPerDay: '日合格品', oee: 'OEE', labour: '人工工时', capex: '投资（元）',
    net: '年净节省（元）', payback: '回收期', years: '年', none: '无', roadmap: '建议改造路线', notApplicable: '不适用',
    noStep: '没有适用于此产线的改造步骤。', benchmark: () => `对标：全省 ${BENCHMARKS.province}%（文件000），领先企业 ≥ ${BENCHMARKS.leading}%（文件001）`,
    runs: (r: DiagnoseResult) => `每个方案 ${r.seeds} 个随机种子，${r.hours} 小时${r.warmupHours > 0 ? `（先预热 ${r.warmupHours} 小时）` : ''}；所有数字均由仿真产线得出`,
    stageName: { automation: '自动化推进', 'digital-integration': '数字化集成', networking: '网络化提升', intelligence: '智能化突破' } as Record<Stage, string>,
    level: { leading: '领先', average: '平均', behind: '落后', 'not assessed': '未评估' } as Record<StageGrade['level'], string>,
  },
} as const;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const sgn = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`);
const money = (x: number): string => Math.round(x).toLocaleString('en-US');

/** The four stages as horizontal bars, now and after the roadmap, with the benchmark lines. */
function stageBars(r: DiagnoseResult, w: (typeof WORDS)[Lang]): string {
  const W = 640;
  const L = 150;
  const row = 46;
  const H = 30 + r.stages.length * row;
  const px = (v: number): number => L + (v / 100) * (W - L - 20);
  const bars = r.stages.map((g, k) => {
    const y = 22 + k * row;
    const after = r.roadmap?.stages.find((a) => a.stage === g.stage);
    const bar = (v: number | null, dy: number, colour: string): string => (v === null ? `<text x="${L + 4}" y="${y + dy + 12}" fill="#666">${esc(w.level['not assessed'])}</text>` : `<rect x="${L}" y="${y + dy}" width="${(px(v) - L).toFixed(1)}" height="16" fill="${colour}"/><text x="${(px(v) + 4).toFixed(1)}" y="${y + dy + 12}">${f(v)} %</text>`);
    return `<text x="${L - 8}" y="${y + 20}" text-anchor="end">${esc(w.stageName[g.stage])}</text>${bar(g.score, 0, '#c2410c')}${after === undefined ? '' : bar(after.score, 18, '#1d4ed8')}`;
  });
  const mark = (v: number): string => `<line x1="${px(v).toFixed(1)}" x2="${px(v).toFixed(1)}" y1="14" y2="${H - 4}" stroke="#555" stroke-dasharray="4 3"/><text x="${px(v).toFixed(1)}" y="11" text-anchor="middle" fill="#555">${v} %</text>`;
  return `<svg id="stages" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(w.stages)}">${mark(BENCHMARKS.province)}${mark(BENCHMARKS.leading)}${bars.join('')}</svg>`;
}

/** The report as one HTML file. */
export function diagnoseHtml(r: DiagnoseResult, lang: Lang): string {
  const w = WORDS[lang];
  const zh = lang === 'zh-CN';
  const label = (l: { en: string; zh: string }): string => esc(zh ? l.zh : l.en);
  const ind = r.indicators.map((i) => {
    const after = r.roadmap?.indicators.find((x) => x.id === i.id)?.value;
    return `<tr><td>${label(i.title)} [${esc(i.unit)}]</td><td>${esc(w.stageName[i.stage])}</td><td class="n">${f(i.value)}</td>${r.roadmap === null ? '' : `<td class="n">${f(after)}</td>`}<td class="how">${label(i.how)}</td></tr>`;
  });
  const delta = (s: { kpis: DiagnoseResult['steps'][number]['kpis'] }, name: string): string => sgn(s.kpis[name]?.deltaPct.mean);
  const steps = r.steps.map((s) => `<tr><td class="n">${s.rank}</td><td>${label(s.title)}<br><small>${esc(s.id)} · ${esc(s.stations.join(', '))}</small></td><td>${esc(w.stageName[s.stage])}</td><td class="n">${delta(s, 'goodPerDay')}</td><td class="n">${delta(s, 'oee')}</td><td class="n">${delta(s, 'labourHours')}</td><td class="n">${money(s.economics.capex)}</td><td class="n">${money(s.economics.savingsPerYear.net)}</td><td class="n">${s.economics.paybackYears === null ? esc(w.none) : `${f(s.economics.paybackYears, 2)} ${esc(w.years)}`}</td></tr>`);
  const rm = r.roadmap;
  const title = zh ? r.title.zh : r.title.en;
  return withCjkFont(`<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${esc(w.title)}: ${esc(title)}</title>
<style>body{font:15px/1.45 ${REPORT_FONT_STACK};margin:24px;color:#1f2328;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}.n{text-align:right;font-variant-numeric:tabular-nums}
.how{color:#555;font-size:13px}small{color:#666}svg text{font:13px ${REPORT_FONT_STACK}}.muted{color:#666}</style></head>
<body><h1>${esc(w.title)}: ${esc(title)}</h1>
<p class="muted">${esc(r.scenario)} · ${esc(w.runs(r))}</p>
<h2>${esc(w.stages)}</h2><p class="muted">${esc(w.benchmark())}</p>${stageBars(r, w)}
<h2>${esc(w.indicators)}</h2>
<table id="indicators"><tr><th>${esc(w.indicator)}</th><th>${esc(w.stage)}</th><th>${esc(w.now)}</th>${rm === null ? '' : `<th>${esc(w.after)}</th>`}<th>${esc(w.how)}</th></tr>${ind.join('')}</table>
<h2>${esc(w.steps)}</h2>
${r.steps.length === 0 ? `<p>${esc(w.noStep)}</p>` : `<table id="steps"><tr><th>${w.rank}</th><th>${esc(w.step)}</th><th>${esc(w.stage)}</th><th>${esc(w.goodPerDay)}</th><th>${esc(w.oee)}</th><th>${esc(w.labour)}</th><th>${esc(w.capex)}</th><th>${esc(w.net)}</th><th>${esc(w.payback)}</th></tr>${steps.join('')}</table>`}
${rm === null ? '' : `<h2>${esc(w.roadmap)}</h2><p id="roadmap">${rm.steps.map((id) => label(r.steps.find((s) => s.id === id)?.title ?? { en: id, zh: id })).join(' → ')}: ${esc(w.goodPerDay)} ${sgn(rm.kpis.goodPerDay?.deltaPct.mean)}, ${esc(w.labour)} ${sgn(rm.kpis.labourHours?.deltaPct.mean)}, ${esc(w.capex)} ${money(rm.economics.capex)}, ${esc(w.net)} ${money(rm.economics.savingsPerYear.net)}, ${esc(w.payback)} ${rm.economics.paybackYears === null ? esc(w.none) : `${f(rm.economics.paybackYears, 2)} ${esc(w.years)}`}</p>`}
${r.skipped.length === 0 ? '' : `<h2>${esc(w.notApplicable)}</h2><ul>${r.skipped.map((s) => `<li>${esc(s.id)}: ${esc(s.reason)}</li>`).join('')}</ul>`}
</body></html>
`);
}
