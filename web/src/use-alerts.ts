/**
 * The host's security alerts as React state: one `AlertFeed` per signed-in session (restarted
 * by a new login, as the twin is), and what its active alerts mark on the line, kept the same
 * object while the marks do not change so the scene and the overlay redraw only on a change.
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { AlertFeed, alertMarks, emptyAlerts, sameMarks, type AlertMarks, type AlertState } from './twin/alerts.ts';
import type { Session } from './twin/session.ts';

const STANDALONE = emptyAlerts('standalone');
const WAITING = emptyAlerts('loading');
const NO_SUBSCRIBE = (): (() => void) => () => undefined;

/** What `useAlerts` gives the page. */
export interface Alerts {
  state: AlertState;
  /** Acknowledges an alert as the page's account; the host's message when it refuses. */
  ack(id: number): Promise<{ ok: true } | { ok: false; message: string }>;
}

/**
 * The alerts of the session's host while `key` (the signed-in account, as for the twin) is
 * non-null; standalone (no session): the standalone state, nothing polled.
 */
export function useAlerts(session: Session | null, key: string | null): Alerts {
  const [feed, setFeed] = useState<AlertFeed | null>(null);
  useEffect(() => {
    if (session === null || key === null) return;
    const f = new AlertFeed((path, init) => session.fetch(path, init)).start();
    setFeed(f);
    return () => {
      f.close();
      setFeed(null);
    };
  }, [session, key]);
  const fallback = session === null ? STANDALONE : WAITING;
  const state = useSyncExternalStore(feed?.subscribe ?? NO_SUBSCRIBE, feed?.get ?? (() => fallback));
  const ack = useCallback((id: number) => (feed === null ? Promise.resolve({ ok: false as const, message: 'not connected to the host' }) : feed.ack(id)), [feed]);
  return { state, ack };
}

/** The marks of the alerts active now (by the host's clock), the same object while they are unchanged. */
export function useAlertMarks(state: AlertState): AlertMarks {
  const last = useRef<AlertMarks | null>(null);
  const now = Date.now() + state.skewMs;
  const next = alertMarks(state.alerts, now);
  if (last.current === null || !sameMarks(last.current, next)) last.current = next;
  return last.current;
}
