/**
 * What an incident playbook is, after the ICS information-security incident emergency plan
 * (工业控制系统信息安全事件应急预案): four incident levels graded by consequence, each with its
 * warning colour; five phases from detection to review; who does what, with which action of
 * the range, by when. Files are read and checked by `load.ts`; `classify.ts` grades an incident.
 */
import type { Role } from '../../sim/core/commands.ts';
import type { ActionArgs, ActionName } from '../respond/actions.ts';

/** A text in English and Chinese. */
export interface Bilingual {
  en: string;
  zh: string;
}

/** Incident levels, most to least severe: I 特别重大, II 重大, III 较大, IV 一般. */
export const LEVELS = ['I', 'II', 'III', 'IV'] as const;
export type Level = (typeof LEVELS)[number];

/** The plan's warning colours. */
export type Colour = 'red' | 'orange' | 'yellow' | 'blue';

/** Each level's name and warning colour, as the plan fixes them. */
export const LEVEL_INFO: Readonly<Record<Level, { name: Bilingual; colour: Colour; colourName: Bilingual }>> = {
  I: { name: { en: 'particularly serious', zh: '特别重大' }, colour: 'red', colourName: { en: 'red', zh: '红色' } },
  II: { name: { en: 'serious', zh: '重大' }, colour: 'orange', colourName: { en: 'orange', zh: '橙色' } },
  III: { name: { en: 'relatively serious', zh: '较大' }, colour: 'yellow', colourName: { en: 'yellow', zh: '黄色' } },
  IV: { name: { en: 'general', zh: '一般' }, colour: 'blue', colourName: { en: 'blue', zh: '蓝色' } },
};

/** The phases of a response, in order. */
export const PHASES = ['detect', 'report', 'contain', 'recover', 'review'] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_TITLES: Readonly<Record<Phase, Bilingual>> = {
  detect: { en: 'Detect and confirm', zh: '监测发现与确认' },
  report: { en: 'Report', zh: '信息报告' },
  contain: { en: 'Contain', zh: '先期处置与遏制' },
  recover: { en: 'Eradicate and recover', zh: '消除与恢复' },
  review: { en: 'Review', zh: '总结评估' },
};

/**
 * What the twin measures of an incident over its window (`impact.ts`), never typed in. Line
 * time [s] for durations; counts otherwise.
 */
export const METRICS = {
  downtimeS: 'line time the worst-hit station spent out of production [s]',
  stationDowntimeS: 'line time out of production, summed over stations [s]',
  scrapped: 'parts scrapped',
  defective: 'parts that left the line with a defect',
  interlockTrips: 'safety interlock trips',
  alarms: 'alarms raised',
  stationsAffected: 'stations that lost production time, scrapped parts or tripped an interlock',
  linesAffected: 'lines with an affected station',
  setpointsOff: 'setpoints and parameters away from the known-good snapshot taken at start',
} as const;
export type Metric = keyof typeof METRICS;

/** Measured impact: one number per metric. */
export type Impact = Record<Metric, number>;

/** The grading: a level holds when any one of its thresholds is reached (IV: none of the others). */
export interface Grading {
  file: string;
  thresholds: Readonly<Record<Exclude<Level, 'IV'>, Partial<Record<Metric, number>>>>;
}

/** A role of the emergency organisation and the range account role that plays it. */
export interface PlaybookRole {
  id: string;
  title: Bilingual;
  /** the account role that performs its steps on the range */
  rangeRole: Role;
}

/** One step of a phase. */
export interface Step {
  id: string;
  /** the playbook role that performs it */
  by: string;
  title: Bilingual;
  /** the range action that performs it, or null (done outside the range; record it with `note`) */
  do: ActionName | null;
  /** the action's body; strings may be `${station}`, `${account}`, `${mqttClient}`, `${face}` from the incident */
  with: ActionArgs;
  /**
   * when it applies: `always`, or only when the alerts name an account (`account`) or name
   * none (`no-account`: Modbus and other faces without accounts, where only isolation holds)
   */
  when: StepWhen;
}

/** When a step applies. */
export const STEP_WHEN = ['always', 'account', 'no-account'] as const;
export type StepWhen = (typeof STEP_WHEN)[number];

/** One phase: who leads it, by when it must be done, its steps. */
export interface PlaybookPhase {
  id: Phase;
  title: Bilingual;
  lead: string;
  /** seconds after the incident was detected (its first alert) by which the phase is done, per level [s, wall] */
  deadlineS: Readonly<Record<Level, number>>;
  steps: Step[];
}

/** One playbook. */
export interface Playbook {
  id: string;
  file: string;
  title: Bilingual;
  summary: Bilingual;
  /** the alerts it answers: detector rule ids and ATT&CK for ICS technique ids */
  match: { rules: string[]; techniques: string[] };
  roles: PlaybookRole[];
  phases: PlaybookPhase[];
}

/** The playbooks of a folder and the grading they share. */
export interface Book {
  dir: string;
  grading: Grading;
  playbooks: Playbook[];
}
