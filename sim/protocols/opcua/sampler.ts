/**
 * One sampler per OPC UA server instead of one poll per monitored item. node-opcua samples
 * every monitored item on its own (a read through the variable's getter, permission checks
 * and DataValue clones per item per interval), which at 10,000 items costs more CPU than
 * the notifications it produces. Here a single timer reads the watched fields straight from
 * the shared buffer every `periodMs`, compares them with the last pushed value, and calls
 * `setValueFromSource` only for those that changed; the Value monitored items of sampled
 * variables are served on change (`installOnChangeDelivery`), node-opcua folding the changes
 * of each item to at most one per its sampling interval, the latest kept.
 *
 * Only variables somebody listens to (a monitored item on their Value) are read; reads of
 * the Value attribute still go through each variable's getter, so they stay live.
 */
import type { EventEmitter } from 'node:events';
import { AttributeIds, MonitoredItem, type BaseNode, type UAVariable, type Variant } from 'node-opcua';
import { COMMON_FIELDS, type CommonField } from '../../core/station.ts';
import type { World } from '../../core/world.ts';

/** Sampled variables: the sampler that serves each and the variable's index in it. */
const sampledBy = new WeakMap<BaseNode, { sampler: ValueSampler; i: number }>();

/**
 * The Value getter of every variable bound with `ValueSampler.bind`: one function for all of
 * them (node-opcua calls it with the variable as `this`), so a tag costs no closure of its own.
 */
function sampledValue(this: UAVariable): Variant {
  const e = sampledBy.get(this);
  if (e === undefined) throw new Error(`OPC UA: ${this.nodeId.toString()} is not bound to a sampled field`);
  return e.sampler.valueOf(e.i);
}

/** The parts of node-opcua's MonitoredItem the on-change delivery relies on. */
interface MonitoredItemInternals {
  node: BaseNode | null;
  itemToMonitor: { attributeId: number } | null;
  /** revised sampling interval [ms]; the folding window of an item served on change */
  samplingInterval: number;
  /** true: delivered from the node's `value_changed` event, folded per samplingInterval; false: a sampling timer */
  _exceptionBased: boolean;
  __start_sampling(recordInitialValue: boolean): void;
  /** the `value_changed` listener of an item served on change */
  _on_value_changed_exception_based(dataValue: unknown, indexRange?: unknown): void;
}

/** Set on an item while node-opcua reads its initial value. */
const ACQUIRING = Symbol.for('twinline.opcua.acquiringInitialValue');

const HOOKED = Symbol.for('twinline.opcua.onChangeDelivery');

/**
 * Makes node-opcua serve every Value monitored item of a sampled variable on change, whatever
 * sampling interval the client asked for. node-opcua does this by itself only for a requested
 * interval of 0 on a variable whose MinimumSamplingInterval is 0; otherwise it starts a
 * per-item sampling timer. The revised sampling interval is unchanged and becomes the window
 * over which changes are folded, so a client asking for 100 ms still gets at most one
 * notification per 100 ms, with the latest value.
 *
 * The item's initial value is read through the variable's getter, which refreshes the
 * variable's cached value; when that had moved on since the last read (nobody watched it),
 * the refresh fires `value_changed` at the item whose listener is already in place, and
 * node-opcua then records the initial read as well: the same value twice (a gateway re-sending
 * one value per tag at its start). So an item ignores `value_changed` while its own initial
 * read runs; the read records that value, once. (The read of a getter-bound variable is
 * synchronous, so the flag covers it; an asynchronous one would only lose the guard.)
 * Process-wide and idempotent; items on other servers' variables are untouched.
 */
export function installOnChangeDelivery(): void {
  const proto = MonitoredItem.prototype as unknown as MonitoredItemInternals & { [HOOKED]?: true; [ACQUIRING]?: boolean };
  if (proto[HOOKED] === true) return;
  const start = proto.__start_sampling;
  const changed = proto._on_value_changed_exception_based;
  if (typeof start !== 'function') throw new Error('node-opcua MonitoredItem has no __start_sampling: the on-change delivery needs updating');
  if (typeof changed !== 'function') throw new Error('node-opcua MonitoredItem has no _on_value_changed_exception_based: the on-change delivery needs updating');
  proto.__start_sampling = function (this: MonitoredItemInternals & { [ACQUIRING]?: boolean }, recordInitialValue: boolean): void {
    const e = this.node !== null && this.itemToMonitor?.attributeId === AttributeIds.Value ? sampledBy.get(this.node) : undefined;
    if (e !== undefined) this._exceptionBased = true;
    this[ACQUIRING] = e !== undefined && recordInitialValue;
    try {
      start.call(this, recordInitialValue);
    } finally {
      this[ACQUIRING] = false;
    }
    // the item listens now; its interval bounds how often the variable needs a push
    e?.sampler.notePeriod(e.i, this.samplingInterval);
  };
  proto._on_value_changed_exception_based = function (this: MonitoredItemInternals & { [ACQUIRING]?: boolean }, dataValue: unknown, indexRange?: unknown): void {
    // the refresh of this item's own initial read: the read records the value
    if (this[ACQUIRING] === true) return;
    changed.call(this, dataValue, indexRange);
  };
  proto[HOOKED] = true;
}

/** Shortest period a sampler may run at [ms]. */
const MIN_PERIOD_MS = 1;
/**
 * Attempts at a pass that no write batch overlaps. A pass over many variables may never fit
 * between two batches of a line running flat out; it then takes the last attempt, in which
 * each value is still one whole number, merely from adjacent ticks.
 */
const PASS_TRIES = 4;

/**
 * Reads watched station fields from a zero-copy reader every `periodMs` and pushes changed
 * values into their OPC UA variables.
 */
export class ValueSampler {
  private readonly reader: World;
  /** sampling period [ms] */
  readonly periodMs: number;
  private readonly vars: UAVariable[] = [];
  private readonly convert: ((x: number) => Variant)[] = [];
  /** the field array and index of each variable's value in the shared buffer */
  private readonly arrays: Float64Array[] = [];
  private idx = new Int32Array(16);
  /** value last pushed (or seen when watching began), per variable */
  private last = new Float64Array(16);
  /**
   * shortest sampling interval of the items watching each variable [ms] (Infinity: unknown,
   * push every change), and the time before which a change waits for the next push [ms]
   */
  private period = new Float64Array(16).fill(Infinity);
  private due = new Float64Array(16);
  /** listeners per variable; a variable is read while > 0 */
  private watchers = new Int32Array(16);
  /** indices of watched variables, `watchedCount` of them, and their values of the current pass */
  private watched = new Int32Array(16);
  /** position of each watched variable in `watched` */
  private pos = new Int32Array(16);
  private watchedCount = 0;
  private cur = new Float64Array(16);
  private timer: NodeJS.Timeout | null = null;
  /** variables pushed since start (for diagnostics and tests) */
  pushed = 0;
  /** pushes node-opcua refused (a value the DataType cannot carry, e.g. NaN as Int32); the variable keeps its last value */
  refused = 0;

  constructor(reader: World, periodMs: number) {
    this.reader = reader;
    this.periodMs = Math.max(MIN_PERIOD_MS, periodMs);
  }

  /** Variables registered. */
  get size(): number {
    return this.vars.length;
  }

  /** Variables read on every pass now (those with a listener). */
  get watching(): number {
    return this.watchedCount;
  }

  /**
   * Registers `v` as field `field` of station `s`; `convert` builds the variant of a raw
   * value. The variable is read from when its first `value_changed` listener arrives.
   */
  private add(v: UAVariable, s: number, field: string, convert: (x: number) => Variant): void {
    const w = this.reader;
    // the same lookup as World.read, resolved once
    const arr = field in COMMON_FIELDS ? w.st[field as CommonField] : w.viewOf[s]?.[field];
    if (arr === undefined) throw new Error(`no field ${field} on station ${s}`);
    const i = this.vars.length;
    this.grow(i + 1);
    this.vars.push(v);
    this.convert.push(convert);
    this.arrays.push(arr);
    this.idx[i] = field in COMMON_FIELDS ? s : (w.inst[s] ?? 0);
    sampledBy.set(v, { sampler: this, i });
    // node-opcua nodes are Node EventEmitters (its typings list only the node's own events);
    // one shared pair of listeners, which find the variable through `this`, costs no closure per tag
    const emitter = v as unknown as EventEmitter;
    emitter.on('newListener', ValueSampler.onNewListener);
    emitter.on('removeListener', ValueSampler.onRemoveListener);
  }

  /**
   * Registers `v` as `add` does and binds its Value to the field: reads take the field
   * consistently and convert it (convert runs inside that consistent read, so it may read
   * other fields plainly), through one getter shared by all variables.
   */
  bind(v: UAVariable, s: number, field: string, convert: (x: number) => Variant): void {
    this.add(v, s, field, convert);
    v.bindVariable({ get: sampledValue }, true);
  }

  /** The current value of variable `i`, read consistently and converted. */
  valueOf(i: number): Variant {
    this.reading = i;
    return this.reader.readConsistent(this.readOne).value;
  }

  /** the variable `readOne` reads (set by `valueOf` just before) */
  private reading = 0;
  private readonly readOne = (): Variant => {
    const i = this.reading;
    // undefined (no such slot) reads as NaN, as World.read does
    return this.convert[i]!(this.arrays[i]![this.idx[i]!] ?? NaN);
  };

  /** A monitored item on the Value listens to `value_changed`: from then on the variable is read. */
  private static onNewListener(this: BaseNode, event: string | symbol): void {
    if (event !== 'value_changed') return;
    const e = sampledBy.get(this);
    e?.sampler.watch(e.i, 1);
  }

  private static onRemoveListener(this: BaseNode, event: string | symbol): void {
    if (event !== 'value_changed') return;
    const e = sampledBy.get(this);
    e?.sampler.watch(e.i, -1);
  }

  /** Starts the periodic pass. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(this.tick, this.periodMs);
    this.timer.unref();
  }

  /** Stops the periodic pass. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One pass now: reads the watched fields consistently and pushes those that changed, each
   * at most once per the shortest interval of its items (node-opcua would fold the extra
   * pushes into one notification anyway, at the cost of a DataValue each). A change that is
   * not due yet stays pending: the latest value is pushed when it is.
   */
  readonly tick = (): void => {
    const n = this.watchedCount;
    if (n === 0) return;
    this.reader.readConsistent(this.readWatched, PASS_TRIES);
    const { watched, cur, last, period, due } = this;
    const now = performance.now();
    // passes come every periodMs, give or take: a push is due half a pass early rather than a pass late
    const early = this.periodMs / 2;
    for (let k = 0; k < n; k++) {
      const i = watched[k]!;
      const x = cur[k]!;
      const y = last[i]!;
      // NaN never equals itself, yet an unchanged NaN is no change
      if (x === y || (x !== x && y !== y)) continue;
      if (now < due[i]!) continue;
      last[i] = x;
      const p = period[i]!;
      due[i] = p === Infinity ? 0 : now + p - early;
      try {
        this.vars[i]!.setValueFromSource(this.convert[i]!(x));
        this.pushed++;
      } catch {
        // a timer callback that throws would take the host down; one bad value must not
        this.refused++;
      }
    }
  };

  /** An item served on change now watches variable `i` with sampling interval `ms` [ms]. */
  notePeriod(i: number, ms: number): void {
    if (this.watchers[i]! === 0 || !(ms > 0) || ms >= this.period[i]!) return;
    this.period[i] = ms;
    // a faster item does not wait out the slower ones' pending push
    this.due[i] = 0;
  }

  private readonly readWatched = (): void => {
    const { watched, cur, arrays, idx } = this;
    for (let k = 0; k < this.watchedCount; k++) {
      const i = watched[k]!;
      cur[k] = arrays[i]![idx[i]!]!;
    }
  };

  private watch(i: number, delta: number): void {
    const before = this.watchers[i]!;
    const after = Math.max(0, before + delta);
    this.watchers[i] = after;
    if (before === 0 && after > 0) {
      // a new watcher reads the current value itself: only later changes are pushed
      this.last[i] = this.arrays[i]![this.idx[i]!]!;
      this.due[i] = 0;
      this.pos[i] = this.watchedCount;
      this.watched[this.watchedCount++] = i;
    } else if (before > 0 && after === 0) {
      const k = this.pos[i]!;
      const moved = this.watched[--this.watchedCount]!;
      this.watched[k] = moved;
      this.pos[moved] = k;
      // the intervals of items gone no longer bind; the next item notes its own
      this.period[i] = Infinity;
    }
  }

  private grow(n: number): void {
    if (n <= this.idx.length) return;
    const size = Math.max(n, this.idx.length * 2);
    const widen = <T extends Int32Array | Float64Array>(a: T, make: (k: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.idx = widen(this.idx, (k) => new Int32Array(k));
    this.last = widen(this.last, (k) => new Float64Array(k));
    this.period = widen(this.period, (k) => new Float64Array(k).fill(Infinity));
    this.due = widen(this.due, (k) => new Float64Array(k));
    this.watchers = widen(this.watchers, (k) => new Int32Array(k));
    this.watched = widen(this.watched, (k) => new Int32Array(k));
    this.pos = widen(this.pos, (k) => new Int32Array(k));
    this.cur = widen(this.cur, (k) => new Float64Array(k));
  }
}
