/**
 * An incident's report: one self-contained HTML file (no script, no outside resource) with the
 * grading, the impact, each playbook phase scored against its deadline, and the timeline
 * attack step → access and commands → the line's changes → alerts → the responders' actions,
 * drawn as lanes and listed. Built from what a running twin's REST API gives
 * (`twinline respond report` gathers it); pure, so the exercise runner can write it too.
 *
 * Times: attacks, alerts and actions carry the host's wall time; the line's events carry ticks,
 * put on the wall clock by interpolating between anchors that carry both (each action's tick
 * and time, and the clock read when the report was made). Those times are marked ≈.
 */
import type { Classification } from '../playbooks/classify.ts';
import type { ActionRecord } from '../respond/action-log.ts';
import { REPORT_FONT_STACK, withCjkFont } from '../../sim/host/report-font.ts';

/** An alert as `GET /api/alerts` gives it (the fields the report reads). */
export interface ReportAlert {
  id: number;
  detector: string;
  rule: string;
  severity: string;
  title: string;
  techniques: string[];
  station: string | null;
  alertMs: number;
  firstEvidenceMs: number;
}

/** A range run as `GET /api/attacks/runs` gives it (the fields the report reads). */
export interface ReportRun {
  n: number;
  attack: string;
  title: string;
  techniques: string[];
  face: string;
  station: string;
  by: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  progress: string[];
  report: { outcome: string } | null;
}

/** An event of the line's log as `GET /api/events` gives it. */
export interface ReportEvent {
  seq: number;
  tick: number;
  type: string;
  station: string | null;
  data: Record<string, unknown>;
}

/** Everything the report is made of. */
export interface ReportInput {
  lang: 'en' | 'zh';
  /** the line: its scenario id and title */
  line: { id: string; title: string };
  /** the line's clock when the report was made: tick, tick length [s], speed (× real time), wall time [ms] */
  clock: { tick: number; dt: number; speed: number; atMs: number };
  /** `GET /api/incident` */
  incident: { window: { fromMs: number; toMs: number }; impact: Record<string, number>; classification: Classification | null };
  alerts: readonly ReportAlert[];
  actions: readonly ActionRecord[];
  /** the range's runs, or null when the account may not read them */
  runs: readonly ReportRun[] | null;
  events: readonly ReportEvent[];
}

export type Lane = 'attack' | 'access' | 'command' | 'line' | 'alert' | 'response';
export const LANES: readonly Lane[] = ['attack', 'access', 'command', 'line', 'alert', 'response'];

/** One row of the timeline. */
export interface TimelineRow {
  atMs: number;
  /** the time was put on the wall clock from a tick (≈) */
  approx: boolean;
  lane: Lane;
  station: string | null;
  text: string;
  /** a colour class: bad (attack, refusal, fault), alert severity, good (done) */
  tone: string;
}

/** A playbook step against what the responders did. */
export interface StepScore {
  step: string;
  title: string;
  by: string;
  applies: boolean;
  /** when an action carrying this step was done [ms], or null */
  doneMs: number | null;
  result: string | null;
}

/** A phase against its deadline. */
export interface PhaseScore {
  id: string;
  title: string;
  dueAtMs: number | null;
  /** on time: every applying step done by the deadline; late: done, some after it; overdue: not all done and the deadline passed; open: not all done yet */
  status: 'on time' | 'late' | 'overdue' | 'open';
  steps: StepScore[];
}

/** how long before the window's start an attack run or alert still belongs to it [ms] */
const LEAD_MS = 10_000;
/** the timeline's rows at most (the rest counted, not listed) */
export const MAX_ROWS = 600;

const TEXT = {
  en: {
    title: 'Incident report', line: 'Line', window: 'Window', generated: 'Made', level: 'Level', colour: 'Warning', because: 'Because',
    playbook: 'Playbook', none: 'none answers these alerts', impact: 'Measured impact', phases: 'Response against the playbook',
    phase: 'Phase', due: 'Due', status: 'Status', step: 'Step', by: 'By', done: 'Done', timeline: 'Timeline', time: 'Time', lane: 'Lane',
    station: 'Station', what: 'What', cut: (n: number) => `${n} more rows not listed`, approx: '≈ put on the wall clock from the line\'s tick',
    noPlaybooks: 'the twin runs without playbooks: the impact is measured, not graded', runs: 'attack runs: the account may not read them (instructor)',
    status_: { 'on time': 'on time', late: 'late', overdue: 'overdue', open: 'open' } as Record<string, string>, notApplying: 'does not apply',
    lanes: { attack: 'attack', access: 'access', command: 'commands', line: 'line', alert: 'alerts', response: 'response' } as Record<Lane, string>,
  },
  zh: {
    title: '安全事件报告', line: '产线', window: '时间窗', generated: '生成于', level: '事件等级', colour: '预警', because: '依据',
    playbook: '应急预案', none: '无预案对应这些告警', impact: '实测影响', phases: '对照预案的处置',
    phase: '阶段', due: '时限', status: '状态', step: '步骤', by: '执行角色', done: '完成', timeline: '时间线', time: '时间', lane: '泳道',
    station: '站点', what: '内容', cut: (n: number) => `另有 ${n} 行未列出`, approx: '≈ 由产线节拍换算为墙钟时间',
    noPlaybooks: '孪生未加载应急预案：仅测量影响，不定级', runs: '攻击运行：该账号无权读取（需教员）',
    status_: { 'on time': '按时', late: '超时完成', overdue: '逾期未完成', open: '进行中' } as Record<string, string>, notApplying: '不适用',
    lanes: { attack: '攻击', access: '访问', command: '指令', line: '产线', alert: '告警', response: '处置' } as Record<Lane, string>,
  },
} as const;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const clock = (ms: number | null): string => (ms === null ? '–' : new Date(ms).toISOString().slice(11, 19));
const day = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/**
 * Tick → wall time [ms]: linear between the anchors (tick, ms) that bracket it, and beyond
 * them along the nearest pair; with fewer than two distinct ticks, `msPerTick` from the last.
 */
export function wallOfTick(anchors: readonly { tick: number; ms: number }[], msPerTick: number): (tick: number) => number {
  const a = [...anchors].sort((x, y) => x.tick - y.tick).filter((x, k, all) => k === 0 || x.tick > all[k - 1]!.tick);
  return (tick) => {
    if (a.length === 0) return NaN;
    if (a.length === 1) return a[0]!.ms + (tick - a[0]!.tick) * msPerTick;
    let k = 0;
    while (k < a.length - 2 && a[k + 1]!.tick <= tick) k++;
    const p = a[k]!;
    const q = a[k + 1]!;
    return p.ms + ((tick - p.tick) * (q.ms - p.ms)) / (q.tick - p.tick);
  };
}

/** What an event of the line says, in a line of text, its lane and tone; null for events the report leaves out. */
function eventRow(e: ReportEvent): { lane: Lane; text: string; tone: string } | null {
  const d = e.data;
  const at = e.station === null ? '' : ` ${e.station}`;
  switch (e.type) {
    case 'command': return { lane: 'command', text: `${str(d.command)}${at} ${str(d.args) === '' || str(d.args) === '{}' ? '' : `${str(d.args)} `}by ${str(d.principal)} (${str(d.source)})`, tone: 'cmd' };
    case 'rejected': return { lane: 'command', text: `refused: ${str(d.command)}${at} by ${str(d.principal)} (${str(d.source)}): ${str(d.reason)}`, tone: 'refused' };
    case 'state': return { lane: 'line', text: `${e.station ?? 'line'} ${str(d.from)} → ${str(d.to)}${str(d.cause) === '' ? '' : ` (${str(d.cause)})`}`, tone: str(d.to) === 'Execute' ? 'good' : 'line' };
    case 'mode': return { lane: 'line', text: `${e.station ?? 'line'} mode ${str(d.from)} → ${str(d.to)}`, tone: 'line' };
    case 'alarm': return { lane: 'line', text: `alarm${at}: ${str(d.code ?? d.text)}`, tone: 'bad' };
    case 'fault': return { lane: 'line', text: `fault${at}: ${str(d.code)}`, tone: 'bad' };
    case 'repair': return { lane: 'line', text: `repaired${at}`, tone: 'good' };
    case 'disturbance': return { lane: 'line', text: `disturbance${at}: ${d.kind === 'absent' ? `${str(d.people)} of crew ${str(d.crew)} away` : `off-spec material, ${Math.round(Number(d.share) * 100)} % of parts`} for ${str(d.durationS)} s`, tone: 'bad' };
    case 'interlock': return { lane: 'line', text: `interlock${at}: ${str(d.name ?? d.code)} ${str(d.state ?? '')}`.trim(), tone: 'bad' };
    case 'part-scrapped': return { lane: 'line', text: `part scrapped${at}${d.reason === undefined ? '' : `: ${str(d.reason)}`}`, tone: 'bad' };
    case 'audit': {
      // sessions and logins let in are the background of an open range; refusals and writes are not
      if (d.outcome === 'allowed' && d.action !== 'write' && d.action !== 'call') return null;
      return { lane: 'access', text: `${str(d.source)} ${str(d.action)} ${str(d.outcome)} ${str(d.principal)}${d.target === undefined || d.target === '' ? '' : ` → ${str(d.target)}`}`, tone: d.outcome === 'denied' ? 'refused' : 'cmd' };
    }
    default: return null;
  }
}

/** The playbook's phases against the action log (the actions done since `fromMs`, the incident's start). */
export function scorePhases(c: Classification | null, actions: readonly ActionRecord[], fromMs: number, nowMs: number, lang: 'en' | 'zh'): PhaseScore[] {
  if (c === null) return [];
  const mine = actions.filter((a) => a.doneMs >= fromMs && a.result !== 'failed');
  return c.phases.map((p) => {
    const steps: StepScore[] = p.steps.map((s) => {
      const done = mine.filter((a) => a.step === s.step).sort((x, y) => x.doneMs - y.doneMs)[0];
      return { step: s.step, title: s.title[lang], by: s.by, applies: s.applies, doneMs: done?.doneMs ?? null, result: done?.result ?? null };
    });
    const due = p.dueAtMs;
    const applying = steps.filter((s) => s.applies);
    const all = applying.every((s) => s.doneMs !== null);
    const status: PhaseScore['status'] = all
      ? (due === null || applying.every((s) => s.doneMs! <= due) ? 'on time' : 'late')
      : (due !== null && nowMs > due ? 'overdue' : 'open');
    return { id: p.id, title: p.title[lang], dueAtMs: due, status, steps };
  });
}

/** The timeline's rows in time order (at most `MAX_ROWS`), and how many were left out. */
export function timeline(input: ReportInput): { rows: TimelineRow[]; cut: number } {
  const anchors = [...input.actions.map((a) => ({ tick: a.tick, ms: a.atMs })), { tick: input.clock.tick, ms: input.clock.atMs }];
  const wall = wallOfTick(anchors, (input.clock.dt * 1000) / Math.max(1e-9, input.clock.speed));
  const { fromMs, toMs } = input.incident.window;
  const rows: TimelineRow[] = [];
  for (const r of input.runs ?? []) {
    const start = Date.parse(r.startedAt);
    rows.push({ atMs: start, approx: false, lane: 'attack', station: r.station, text: `${r.attack} (${r.techniques.join(' ')}) via ${r.face} by ${r.by}: ${r.title}`, tone: 'bad' });
    for (const p of r.progress.slice(0, 12)) rows.push({ atMs: start, approx: false, lane: 'attack', station: r.station, text: `  ${p}`, tone: 'detail' });
    if (r.endedAt !== null) rows.push({ atMs: Date.parse(r.endedAt), approx: false, lane: 'attack', station: r.station, text: `${r.attack} ${r.status}${r.report === null ? '' : `: ${r.report.outcome}`}`, tone: 'bad' });
  }
  for (const e of input.events) {
    const row = eventRow(e);
    if (row === null) continue;
    const atMs = Math.round(wall(e.tick));
    if (atMs < fromMs - 1000 || atMs > toMs + 1000) continue;
    rows.push({ atMs, approx: true, station: e.station, ...row });
  }
  for (const a of input.alerts) {
    rows.push({ atMs: a.alertMs, approx: false, lane: 'alert', station: a.station, text: `${a.severity}: ${a.detector}/${a.rule} (${a.techniques.join(' ')}) ${a.title}`, tone: `sev-${a.severity}` });
  }
  for (const a of input.actions) {
    rows.push({ atMs: a.doneMs, approx: false, lane: 'response', station: null, text: `${a.action} ${a.target}: ${a.result}${a.step === null ? '' : ` [${a.step}]`} by ${a.principal}`, tone: a.result === 'failed' ? 'bad' : 'good' });
  }
  // the line's events are cut to the window above; an attack run may begin a little before its
  // first evidence, the responders' actions come after it (an earlier incident's are not this one's)
  const inWindow = rows.filter((r) => r.approx || (r.atMs >= fromMs - (r.lane === 'response' ? 0 : LEAD_MS) && r.atMs <= toMs + 60_000));
  inWindow.sort((x, y) => x.atMs - y.atMs || LANES.indexOf(x.lane) - LANES.indexOf(y.lane));
  return { rows: inWindow.slice(0, MAX_ROWS), cut: Math.max(0, inWindow.length - MAX_ROWS) };
}

const CSS = `body{font:14px/1.45 ${REPORT_FONT_STACK};margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #e3e6ec;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f5f8}
.level{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:600}.muted{color:#667}
.bad{color:#b3261e}.refused{color:#a35200}.good{color:#1b7a3a}.cmd{color:#1d4f91}.detail{color:#667;font-size:12px}
.sev-critical{color:#c00}.sev-high{color:#d35f00}.sev-medium{color:#9a7400}.sev-low{color:#3a6ea5}
td:nth-child(-n+3){white-space:nowrap}.st-on-time{color:#1b7a3a}.st-late{color:#a35200}.st-overdue{color:#c00;font-weight:600}.st-open{color:#667}`;

const LEVEL_BG: Readonly<Record<string, string>> = { red: '#d0021b', orange: '#f5820b', yellow: '#d4a800', blue: '#1f5fbf' };
const TONE_FILL: Readonly<Record<string, string>> = {
  bad: '#b3261e', refused: '#a35200', good: '#1b7a3a', cmd: '#1d4f91', line: '#556', detail: '#99a',
  'sev-critical': '#c00', 'sev-high': '#d35f00', 'sev-medium': '#9a7400', 'sev-low': '#3a6ea5',
};

/** The lanes as an SVG strip: one dot per row at its time. */
function lanesSvg(rows: readonly TimelineRow[], t: (typeof TEXT)[keyof typeof TEXT]): string {
  const dots = rows.filter((r) => r.tone !== 'detail');
  if (dots.length === 0) return '';
  const t0 = Math.min(...dots.map((r) => r.atMs));
  const t1 = Math.max(t0 + 1000, ...dots.map((r) => r.atMs));
  const W = 900;
  const X0 = 90;
  const H = 24;
  const x = (ms: number): number => X0 + ((ms - t0) / (t1 - t0)) * (W - X0 - 10);
  const parts = LANES.map((l, k) => `<text x="4" y="${k * H + 16}" font-size="12">${esc(t.lanes[l])}</text><line x1="${X0}" x2="${W - 10}" y1="${k * H + 12}" y2="${k * H + 12}" stroke="#e3e6ec"/>`);
  for (const r of dots) parts.push(`<circle cx="${x(r.atMs).toFixed(1)}" cy="${LANES.indexOf(r.lane) * H + 12}" r="4" fill="${TONE_FILL[r.tone] ?? '#556'}"><title>${esc(`${clock(r.atMs)} ${r.text}`)}</title></circle>`);
  const h = LANES.length * H + 18;
  parts.push(`<text x="${X0}" y="${h - 2}" font-size="11" fill="#667">${clock(t0)}</text><text x="${W - 10}" y="${h - 2}" font-size="11" fill="#667" text-anchor="end">${clock(t1)} (${((t1 - t0) / 1000).toFixed(1)} s)</text>`);
  return `<svg data-testid="lanes" viewBox="0 0 ${W} ${h}" width="100%" role="img">${parts.join('')}</svg>`;
}

/** The report as HTML, with the timeline and phase scores it shows. */
export function incidentReport(input: ReportInput): { html: string; rows: TimelineRow[]; cut: number; phases: PhaseScore[]; classification: Classification | null } {
  const t = TEXT[input.lang];
  const c = input.incident.classification;
  const { rows, cut } = timeline(input);
  const phases = scorePhases(c, input.actions, input.incident.window.fromMs, input.clock.atMs, input.lang);
  const head = c === null
    ? `<p class="muted">${esc(t.noPlaybooks)}</p>`
    : `<p><span class="level" data-testid="level" style="background:${LEVEL_BG[c.colour] ?? '#556'}">${esc(t.level)} ${esc(c.level)} · ${esc(c.name[input.lang])} · ${esc(c.colourName[input.lang])}</span></p>
<p>${esc(t.because)}: ${esc(c.reasons.join('; '))}</p>
<p>${esc(t.playbook)}: ${c.playbook === null ? esc(t.none) : `<b>${esc(c.playbook.title[input.lang])}</b> (${esc(c.playbook.id)})`}</p>`;
  const impact = Object.entries(input.incident.impact).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`).join('');
  const phaseRows = phases.map((p) => {
    const steps = p.steps.map((s) => `<tr class="${s.applies ? '' : 'muted'}"><td></td><td>${esc(s.step)}</td><td>${esc(s.title)}</td><td>${esc(s.by)}</td><td>${s.applies ? (s.doneMs === null ? '–' : `${clock(s.doneMs)}${p.dueAtMs !== null && s.doneMs > p.dueAtMs ? ' ⚠' : ''}`) : esc(t.notApplying)}</td></tr>`).join('');
    return `<tr data-phase="${esc(p.id)}" data-status="${esc(p.status)}"><th>${esc(p.title)}</th><th colspan="2">${esc(t.due)} ${clock(p.dueAtMs)}</th><th colspan="2" class="st-${p.status.replace(' ', '-')}">${esc(t.status_[p.status] ?? p.status)}</th></tr>${steps}`;
  }).join('');
  const rowHtml = rows.map((r) => `<tr data-lane="${r.lane}"><td>${r.approx ? '≈' : ''}${clock(r.atMs)}</td><td>${esc(t.lanes[r.lane])}</td><td>${esc(r.station ?? '')}</td><td class="${r.tone}">${esc(r.text)}</td></tr>`).join('');
  const html = withCjkFont(`<!doctype html>
<html lang="${input.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${esc(t.title)} · ${esc(input.line.id)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(t.title)}</h1>
<p class="muted">${esc(t.line)}: ${esc(input.line.title)} (${esc(input.line.id)}) · ${esc(t.window)}: ${day(input.incident.window.fromMs)} – ${clock(input.incident.window.toMs)} · ${esc(t.generated)} ${day(input.clock.atMs)}</p>
${head}
<h2>${esc(t.impact)}</h2><table data-testid="impact">${impact}</table>
${c === null ? '' : `<h2>${esc(t.phases)}</h2><table data-testid="phases"><tr><th>${esc(t.phase)}</th><th>${esc(t.step)}</th><th></th><th>${esc(t.by)}</th><th>${esc(t.done)}</th></tr>${phaseRows}</table>`}
<h2>${esc(t.timeline)}</h2>
${input.runs === null ? `<p class="muted">${esc(t.runs)}</p>` : ''}
${lanesSvg(rows, t)}
<table data-testid="timeline"><tr><th>${esc(t.time)}</th><th>${esc(t.lane)}</th><th>${esc(t.station)}</th><th>${esc(t.what)}</th></tr>${rowHtml}</table>
${cut > 0 ? `<p class="muted">${esc(t.cut(cut))}</p>` : ''}
<p class="muted">${esc(t.approx)}</p>
</body></html>
`);
  return { html, rows, cut, phases, classification: c };
}
