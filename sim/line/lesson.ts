/**
 * Scoring a lesson's checkpoints (lesson-schema.ts) against what the twin measured: the same
 * rules for `twinline lesson check` (the lesson's own steps run headless) and for the trainer's
 * console on a running twin. Every right answer comes from the figures, never from the lesson.
 */
import type { Checkpoint } from './lesson-schema.ts';

/** What the twin measured on a line at one step of a lesson. */
export interface LessonFigures {
  /** line KPIs (computeKpis); null: not defined yet (e.g. no good part) */
  kpis: Readonly<Record<string, number | null | undefined>>;
  /** station KPIs by station id */
  stations: Readonly<Record<string, Readonly<Record<string, number | null | undefined>>>>;
  /** diagnosis indicators (diagnose.ts) */
  indicators: Readonly<Record<string, number | null | undefined>>;
  /** the measured bottleneck (kpi.ts `measuredBottleneck`); null: none yet */
  bottleneck: string | null;
  /** the retrofit step that pays back first (diagnose's rank 1); null: none applies; undefined: not worked out */
  firstStep?: string | null;
}

/** The figure a checkpoint names, from `f`; null when there is none (yet). */
export function figureOf(cp: Checkpoint, f: LessonFigures): number | null {
  const v = cp.indicator !== undefined ? f.indicators[cp.indicator] : cp.kpi === undefined ? undefined : cp.station !== undefined ? f.stations[cp.station]?.[cp.kpi] : f.kpis[cp.kpi];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A target's goal in words, e.g. "> 0.75" or "−50 % from 11". */
export function goalOf(cp: Checkpoint, start: number | null): string {
  if (cp.above !== undefined) return `> ${cp.above}`;
  if (cp.below !== undefined) return `< ${cp.below}`;
  const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;
  const from = start === null ? '–' : String(Number(start.toPrecision(4)));
  if (cp.rise !== undefined) return `+${pct(cp.rise)} from ${from}`;
  if (cp.fall !== undefined) return `−${pct(cp.fall)} from ${from}`;
  return '';
}

/** Whether a target checkpoint is met by `now`, measured against `start` (the lesson's first step) for rise and fall. */
export function targetMet(cp: Checkpoint, now: LessonFigures, start: LessonFigures): boolean {
  const v = figureOf(cp, now);
  if (v === null) return false;
  if (cp.above !== undefined) return v > cp.above;
  if (cp.below !== undefined) return v < cp.below;
  const s = figureOf(cp, start);
  if (s === null) return false;
  if (cp.rise !== undefined) return v >= s + Math.abs(s) * cp.rise && v > s;
  if (cp.fall !== undefined) return v <= s - Math.abs(s) * cp.fall && v < s;
  return false;
}

/** The twin's answer to a question checkpoint; null: it has none (yet). */
export function truthOf(cp: Checkpoint, f: LessonFigures): string | number | null {
  if (cp.answer === 'bottleneck') return f.bottleneck;
  if (cp.answer === 'first-step') return f.firstStep ?? null;
  if (cp.answer === 'estimate') return figureOf(cp, f);
  return null;
}

/** Whether `given` answers the question: the same station or step, or a number within `within` of the twin's figure. */
export function answerRight(cp: Checkpoint, given: string | number, f: LessonFigures): boolean {
  const truth = truthOf(cp, f);
  if (truth === null) return false;
  if (typeof truth === 'number') {
    const x = typeof given === 'number' ? given : Number(String(given).trim());
    return Number.isFinite(x) && Math.abs(x - truth) <= Math.abs(truth) * (cp.within ?? 0);
  }
  return String(given).trim().toLowerCase() === truth;
}
