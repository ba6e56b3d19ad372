/**
 * What an incident's report is made of, read from a running twin's REST API: the line's clock,
 * `/api/incident`, the alerts since a minute before the incident, the action log, the event
 * log's ring and, for an instructor, the range's runs.
 */
import type { ActionRecord } from '../respond/action-log.ts';
import type { Answer } from '../attacks/clients/rest.ts';
import type { ReportAlert, ReportEvent, ReportInput, ReportRun } from './incident-report.ts';

/** the line's events read at most (the host's ring holds the latest) */
const MAX_EVENTS = 100_000;

/**
 * Gathers the report's input through `get` (a GET under the twin's base as one account; an
 * answer other than 200 is thrown by `refused`). `query` is `/api/incident`'s (from, to).
 */
export async function gatherReport(
  get: (path: string) => Promise<Answer>, refused: (a: Answer) => Error, o: { lang: 'en' | 'zh'; query?: URLSearchParams },
): Promise<ReportInput> {
  const ok = async (path: string): Promise<Answer> => {
    const a = await get(path);
    if (a.status !== 200) throw refused(a);
    return a;
  };
  const state = (await ok('api/state')).body as { scenario: string; title: string | { en: string; zh: string }; tick: number; simTime: number; speed: number };
  const atMs = Date.now();
  const q = o.query ?? new URLSearchParams();
  const incident = (await ok(`api/incident${q.size > 0 ? `?${q}` : ''}`)).body as unknown as ReportInput['incident'];
  const alerts = ((await ok(`api/alerts?from=${Math.max(0, incident.window.fromMs - 60_000)}&limit=2000`)).body.alerts ?? []) as ReportAlert[];
  const actions = ((await ok('api/respond/log?limit=1000')).body.actions ?? []) as ActionRecord[];
  // the range's runs are the instructor's to read (another role asking would be a refusal in the audit trail)
  const role = (await ok('api/whoami')).body.role;
  const runs = role === 'instructor' ? ((await ok('api/attacks/runs')).body.runs ?? []) as ReportRun[] : null;
  const events: ReportEvent[] = [];
  for (let since = -1; events.length < MAX_EVENTS;) {
    const page = (await ok(`api/events?since=${since}&limit=2000`)).body as { events: ReportEvent[]; next: number; more: boolean };
    events.push(...page.events);
    if (!page.more || page.events.length === 0) break;
    since = page.next;
  }
  return {
    lang: o.lang, line: { id: state.scenario, title: typeof state.title === 'string' ? state.title : state.title[o.lang] }, incident, alerts, actions, runs, events,
    clock: { tick: state.tick, dt: state.tick > 0 ? state.simTime / state.tick : 0.001, speed: state.speed, atMs },
  };
}
