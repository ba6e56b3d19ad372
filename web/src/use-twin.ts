/**
 * The page's running twin as React state: the source (standalone worker or attached host)
 * with its poll loop, the network overlay's polls, and the attached page's session.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { SceneHandle } from './scene/handle.ts';
import { installHooks } from './test-hooks.ts';
import { startAttached } from './twin/attached.ts';
import type { LiveStore } from './twin/live.ts';
import type { NetworkReport } from './twin/network.ts';
import type { Session, SessionState } from './twin/session.ts';
import { startStandalone } from './twin/standalone.ts';
import type { LiveFrame, TwinMode, TwinSource } from './twin/types.ts';

/** period of state polls [ms] */
const POLL_MS = 250;
/** period of network polls while the overlay is on [ms] */
const NET_POLL_MS = 1000;
/** how often a signed-in page asks whether its token still holds [ms] (the live feed alone would not notice) */
const HEARTBEAT_MS = 20_000;

/** What `useTwinSource` starts. */
export interface TwinStart {
  mode: TwinMode;
  scenario: string;
  /** bench mode: parts to fill the paused line with */
  fillParts: number | null;
  live: LiveStore;
  handle: SceneHandle;
  session: Session | null;
  /** the source runs while this is non-null and is restarted when it changes (a new login) */
  key: string | null;
}

/** What `useTwinSource` reports. */
export interface TwinRun {
  source: TwinSource | null;
  /** why the twin could not start, or null */
  error: string | null;
  /** why the running twin's state cannot be read now (host unreachable), or null while it is fed */
  outage: string | null;
  /** wall time [ms, Date.now()] when the state's tick was last seen going back (the host restarted its run), or null */
  restartedAt: number | null;
}

/** The running source; the error starting it; an outage while its state cannot be read. */
export function useTwinSource(o: TwinStart): TwinRun {
  const [source, setSource] = useState<TwinSource | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outage, setOutage] = useState<string | null>(null);
  const [restartedAt, setRestartedAt] = useState<number | null>(null);
  const { mode, scenario, fillParts, live, handle, session, key } = o;
  useEffect(() => {
    if (key === null) return;
    let src: TwinSource | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    // a refusal that signed the page out is shown by the login form, not as an error
    const fail = (e: unknown): void => {
      if (!stopped && session?.state.kind !== 'signed-out') setError(e instanceof Error ? e.message : String(e));
    };
    setError(null);
    setOutage(null);
    setRestartedAt(null);
    (mode === 'standalone' || session === null ? startStandalone(scenario, fillParts !== null ? { fillParts } : {}) : startAttached(session)).then(
      (s) => {
        if (stopped) return s.close();
        src = s;
        installHooks(s, live, handle, scenario);
        setSource(s);
        let busy = false;
        let lastTick = -1;
        let lostSince = false;
        // a failed read of a running twin is an outage, shown until a read succeeds again; the
        // stations are drawn as stale meanwhile
        const lost = (e: unknown): void => {
          if (stopped || session?.state.kind === 'signed-out') return;
          lostSince = true;
          handle.stale = true;
          setOutage(e instanceof Error ? e.message : String(e));
        };
        const fed = (f: LiveFrame): void => {
          if (stopped) return;
          // the tick going back is a restarted run only across an outage: without one it is a
          // pushed frame a little older than the state just polled (the page moves between the
          // two when the live feed comes up), by many ticks when the host runs fast
          if (f.tick < lastTick && lostSince) setRestartedAt(Date.now());
          lostSince = false;
          lastTick = f.tick;
          handle.stale = false;
          setOutage(null);
          live.set(f);
        };
        const poll = (): void => {
          if (busy) return;
          busy = true;
          s.poll().then(fed, lost).finally(() => (busy = false));
        };
        poll();
        timer = setInterval(poll, POLL_MS);
      },
      fail,
    );
    return () => {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      handle.stale = false;
      src?.close();
      setSource(null);
    };
  }, [mode, scenario, fillParts, live, handle, session, key]);
  return { source, error, outage, restartedAt };
}

/** The network report while the overlay is on (polled), and the last error reading it. */
export function useNetwork(on: boolean, source: TwinSource | null): { net: NetworkReport | null; netError: string | null } {
  const [net, setNet] = useState<NetworkReport | null>(null);
  const [netError, setNetError] = useState<string | null>(null);
  useEffect(() => {
    if (!on || source === null) return;
    let busy = false;
    const poll = (): void => {
      if (busy) return;
      busy = true;
      source.network().then(
        (r) => {
          setNet(r);
          setNetError(null);
        },
        (e: unknown) => setNetError(e instanceof Error ? e.message : String(e)),
      ).finally(() => (busy = false));
    };
    poll();
    const id = setInterval(poll, NET_POLL_MS);
    return () => {
      clearInterval(id);
      setNet(null);
    };
  }, [on, source]);
  return { net, netError };
}

const NO_SUBSCRIBE = (): (() => void) => () => undefined;
const NO_STATE = (): null => null;

/**
 * The session's state (null without a session: standalone), asking the host once who the
 * page is and, while a token is held, again every so often so a revoked token is noticed.
 */
export function useSession(session: Session | null): { state: SessionState | null; error: string | null } {
  const state = useSyncExternalStore(session?.subscribe ?? NO_SUBSCRIBE, session?.get ?? NO_STATE);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    session?.check().then(() => setError(null), (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [session]);
  const token = state?.kind === 'signed-in' ? state.token : null;
  useEffect(() => {
    if (session === null || token === null) return;
    const id = setInterval(() => void session.fetch('api/whoami').catch(() => undefined), HEARTBEAT_MS);
    return () => clearInterval(id);
  }, [session, token]);
  return { state, error };
}
