/**
 * A panel's poll of the host: `get` now and every `ms` while `on`, never two at once; the value
 * to `onValue`, a failure to `onError`. Pass stable functions (useCallback): a new one restarts
 * the poll.
 */
import { useEffect } from 'react';

export function usePoll<T>(on: boolean, ms: number, get: () => Promise<T>, onValue: (v: T) => void, onError: (e: unknown) => void): void {
  useEffect(() => {
    if (!on) return;
    let busy = false;
    const poll = (): void => {
      if (busy) return;
      busy = true;
      get().then(onValue, onError).finally(() => (busy = false));
    };
    poll();
    const id = setInterval(poll, ms);
    return () => clearInterval(id);
  }, [on, ms, get, onValue, onError]);
}
