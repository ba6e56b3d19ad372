/**
 * Lessons on the attached twin (`/api/lesson…`, sim/host/workshop.ts): the lessons for the
 * served line, the lesson in progress as this account sees it, the instructor's start, step
 * and end, a trainee's answer, and the session report as a file to save.
 */
import { downloadBlob } from './download.ts';
import { apiJson, postJson, type Session } from './session.ts';

type Label = { en: string; zh: string };

/** One checkpoint as the host shows it to this account. */
export interface LessonCheckpoint {
  id: string;
  text: Label;
  points: number;
  kind: 'target' | 'question';
  answerKind: 'bottleneck' | 'first-step' | 'estimate' | null;
  figure: string | null;
  start: number | null;
  value: number | null;
  goal: string | null;
  met: boolean | null;
  /** this account's answer, and the attempts it has left */
  yours: { given: string | number; right: boolean; attempts: number; attemptsLeft: number } | null;
  /** the twin's answer (instructor, or once the lesson has ended) */
  truth: string | number | null;
}

/** The lesson in progress. */
export interface LessonView {
  n: number;
  id: string;
  title: Label;
  summary: Label;
  /** the built-in line the lesson starts from (scenarios/<line>.yaml) */
  line: string;
  by: string;
  state: 'running' | 'ended';
  step: number;
  steps: { id: string; title: Label; retrofits: string[] }[];
  current: {
    id: string;
    title: Label;
    prompt: Label;
    retrofits: string[];
    line: string;
    /** what the targets read */
    figures: 'live' | 'predicting' | 'predicted' | 'failed';
    /** what the questions are judged on */
    questions: 'predicting' | 'predicted' | 'failed';
    error?: string;
    faults: { station: string; fault: string; minutes?: number; note?: Label }[];
    checkpoints: LessonCheckpoint[];
  };
  score: { you: { points: number; of: number }; class: { points: number; of: number } };
  board?: { user: string; points: number; right: number; answered: number }[];
}

/** What `GET /api/lesson` gives. */
export interface LessonList {
  lessons: { id: string; title: Label; summary: Label; minutes: number; steps: number }[];
  problems?: string[];
  current: LessonView | null;
}

export function getLessons(session: Session): Promise<LessonList> {
  return apiJson(session, 'api/lesson');
}

export async function startLesson(session: Session, id: string): Promise<LessonView> {
  return (await apiJson<{ current: LessonView }>(session, 'api/lesson/start', postJson({ id }))).current;
}

export async function gotoStep(session: Session, step: number): Promise<LessonView> {
  return (await apiJson<{ current: LessonView }>(session, 'api/lesson/step', postJson({ step }))).current;
}

export async function endLesson(session: Session): Promise<LessonView> {
  return (await apiJson<{ current: LessonView }>(session, 'api/lesson/end', postJson({}))).current;
}

/** A trainee's answer; the host judges it at once. */
export function answer(session: Session, checkpoint: string, given: string | number): Promise<{ right: boolean; attempts: number; attemptsLeft: number; current: LessonView }> {
  return apiJson(session, 'api/lesson/answer', postJson({ checkpoint, answer: given }));
}

/** Saves the ended lesson's report (`json`) or scores (`csv`) as a file. */
export async function saveReport(session: Session, format: 'json' | 'csv', name: string): Promise<void> {
  const r = await session.fetch(`api/lesson/report?format=${format}`);
  if (!r.ok) throw new Error(`${r.status} ${(await r.text()).slice(0, 200)}`);
  downloadBlob(await r.blob(), name);
}
