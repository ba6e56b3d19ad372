/**
 * Scripted exercises on the attached twin (`/api/exercises…`, sim/host/exercises.ts), for the
 * instructor: the exercises written for this line, the one going on, and its controls.
 */
import type { ExerciseState } from '../../../sim/host/exercises.ts';
import { apiJson, postJson, type Session } from './session.ts';

export type { ExerciseState };

/** An exercise as `GET /api/exercises` lists it. */
export interface ExerciseInfo {
  id: string;
  title: { en: string; zh: string };
  profile: string;
  durationS: number;
  attacks: { atS: number; attack: string; station: string | null }[];
}

/** This line's exercises and the one going on (or the last one). */
export function listExercises(session: Session): Promise<{ exercises: ExerciseInfo[]; problems: string[]; current: ExerciseState | null }> {
  return apiJson(session, 'api/exercises');
}

/** The exercise going on (or the last one), or null. */
export async function currentExercise(session: Session): Promise<ExerciseState | null> {
  return (await apiJson<{ current: ExerciseState | null }>(session, 'api/exercises/current')).current;
}

/** Starts, pauses, resumes or ends; the exercise's state after it. */
export async function controlExercise(session: Session, action: 'start' | 'pause' | 'resume' | 'end', id?: string): Promise<ExerciseState | null> {
  return (await apiJson<{ current: ExerciseState | null }>(session, `api/exercises/${action}`, postJson(id === undefined ? {} : { id }))).current;
}

/** The last exercise's report (HTML) in `lang`, opened in a new tab. */
export async function openExerciseReport(session: Session, lang: 'en' | 'zh'): Promise<void> {
  const r = await session.fetch(`api/exercises/report?lang=${lang}`);
  if (!r.ok) throw new Error(`report: HTTP ${r.status}`);
  const url = URL.createObjectURL(new Blob([await r.text()], { type: 'text/html' }));
  window.open(url, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
