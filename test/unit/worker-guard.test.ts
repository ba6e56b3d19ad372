/**
 * The guard that makes calls into a dead simulation worker fail: it must not keep what a call
 * returned once the call has settled. (Racing every call against one long-lived "died" promise did:
 * a served host leaked every state it had polled.)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { deathGuard } from '../../sim/worker/node-host.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Settles the microtask queue and the timers queued so far, then collects garbage. */
async function collect(): Promise<void> {
  for (let k = 0; k < 3; k++) {
    await new Promise((r) => setTimeout(r, 0));
    gc();
  }
}

/**
 * Makes 50 calls through `call`, each returning an object of its own, and weak references to
 * those objects (made in a function of its own, so no frame of the test still holds the last one).
 */
async function callMany(call: (p: Promise<object>) => Promise<unknown>): Promise<{ refs: WeakRef<object>[]; same: number }> {
  const refs: WeakRef<object>[] = [];
  let same = 0;
  for (let k = 0; k < 50; k++) {
    const big = { k, payload: new Array(1000).fill(k) };
    refs.push(new WeakRef(big));
    if ((await call(Promise.resolve(big))) === big) same++;
  }
  return { refs, same };
}

const alive = (refs: readonly WeakRef<object>[]): number[] => refs.flatMap((r, k) => (r.deref() !== undefined ? [k] : []));

describe('deathGuard', () => {
  it('lets go of every result once its call has settled', async () => {
    const { guard, pending } = deathGuard();
    const { refs, same } = await callMany(guard);
    expect(same).toBe(50);
    await expect(guard(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(pending()).toBe(0);
    await collect();
    expect(alive(refs)).toEqual([]);
  });

  it('the long-lived race it replaces does keep them (the test can see a leak)', async () => {
    const died = new Promise<never>(() => undefined);
    const { refs } = await callMany((p) => Promise.race([p, died]));
    await collect();
    expect(alive(refs)).toHaveLength(50);
  });

  it('fails pending and later calls with the death, once', async () => {
    const { guard, die, pending } = deathGuard();
    const hanging = guard(new Promise<number>(() => undefined));
    expect(pending()).toBe(1);
    die(new Error('simulation worker exited (code 1)'));
    die(new Error('a second death is ignored'));
    await expect(hanging).rejects.toThrow('simulation worker exited (code 1)');
    await expect(guard(Promise.resolve(1))).rejects.toThrow('simulation worker exited (code 1)');
    expect(pending()).toBe(0);
  });
});
